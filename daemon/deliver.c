/*
 * deliver.c - sending alert state changes to webhooks and to Alertmanager.
 *
 * This module owns the [webhook] and [alertmanager] sections of the config
 * file (read here with inih; config.c skips them), one queue per target
 * URL, the thread that drains the queues with libcurl, and the two payload
 * shapes.  It does not decide when an alert changes state (alerts.c), nor
 * group, silence or route alerts: that is Alertmanager's job.
 *
 * Payloads.  A webhook gets, per state change, the JSON document that
 * Alertmanager POSTs to its own webhook receivers (version "4": groupKey,
 * status, receiver, groupLabels, commonLabels, commonAnnotations,
 * externalURL, alerts[]), one alert per document, so receivers written for
 * Alertmanager work unchanged.  Alertmanager gets what Prometheus sends to
 * POST /api/v2/alerts: an array of {labels, annotations, startsAt, endsAt,
 * generatorURL}.  Deviations from Prometheus: firing alerts are re-sent
 * every DELIVER_RESEND_MS (Prometheus: every minute, or every evaluation
 * when slower) with endsAt DELIVER_ENDS_AFTER_MS ahead, and a resolved
 * alert is sent once, with its resolve time as endsAt, rather than again
 * on every evaluation for 15 minutes.  Pending alerts go nowhere.
 *
 * Labels: alertname (the rule), code, severity, api when the rule judges
 * per API, and instance: the daemon's listen address, or the host name
 * and port when it listens on a wildcard address.
 *
 * Failures.  Each target is a FIFO, so that a resolution never overtakes
 * the firing it ends.  A failed request (no answer, a timeout, 5xx, 408 or
 * 429) stays at the head of its queue and is retried after a back-off that
 * doubles from DELIVER_BACKOFF_MIN_MS to DELIVER_BACKOFF_MAX_MS; any other
 * non-2xx answer will not get better by retrying, so the request is
 * dropped.  A full queue drops its oldest request.  Both are counted.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <ini.h>
#include <jansson.h>

#include "alerts.h"
#include "alertstate.h"
#include "config.h"
#include "deliver.h"
#include "log.h"
#include "timefmt.h"

#define DELIVER_URLS_MAX	16	/* URLs of one section */
#define DELIVER_URL_MAX		2048	/* bytes of one URL */
#define DELIVER_RESEND_ROWS	1000	/* firing alerts re-sent at once */
#define DELIVER_RECEIVER	"kmswatch"
#define DELIVER_EARLY_MAX	64	/* changes remembered till caught up */

/* "0001-01-01T00:00:00Z": how Alertmanager writes "no end yet". */
#define DELIVER_ZERO_TIME	"0001-01-01T00:00:00Z"

/* One alert as it was when queued; the strings are owned. */
struct snap {
	char *rule, *code, *api, *severity, *summary;
	enum alertstate_state state;
	int64_t started_ms, fired_ms, resolved_ms;
	double value, peak, baseline;
};

/* One request waiting: the alerts it carries, built into JSON when sent. */
struct job {
	struct job *next;
	struct snap *alerts;
	size_t n;
	int attempts;
};

struct target {
	enum deliver_target kind;
	char *url;			/* where the POST goes */
	char *shown;			/* url without credentials or query */
	CURL *curl;
	long timeout_ms;

	/* Under the deliverer's lock. */
	struct job *head, *tail;
	size_t len;
	int64_t next_ms;		/* monotonic; 0: now */

	/* The thread's own. */
	int64_t backoff_ms;
	int64_t failures;		/* in a row */
};

struct deliver {
	struct alerts *alerts;
	struct alertstate *as;		/* the thread's, for re-sends */
	char *instance;
	char *external_url;
	struct curl_slist *headers;
	int curl_ready;

	struct target *targets;
	size_t ntargets;
	int has_alertmanager;

	pthread_mutex_t lock;		/* queues, m, stopping */
	pthread_cond_t wake;
	pthread_t thread;
	int locks_ready, running, stopping;
	atomic_int quit;		/* stopping, for libcurl's callback */
	int64_t resend_ms;		/* the thread's; monotonic */
	int64_t since_ms;		/* changes from then on are caught up */

	/*
	 * Under lock: changes notified so far, and (id, state) of those
	 * notified before the catch-up ended.
	 */
	int64_t gen;
	int caught_up;
	int64_t early_id[DELIVER_EARLY_MAX];
	int early_state[DELIVER_EARLY_MAX];
	size_t nearly;

	struct deliver_metrics m;	/* under lock */
};

static void __attribute__((format(printf, 2, 3)))
set_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
}

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
deliver_target_name(enum deliver_target t)
{
	return t == DELIVER_WEBHOOK ? "webhook" : "alertmanager";
}

/* --- the config sections ----------------------------------------------- */

struct conf {
	char *urls[DELIVER_TARGETS][DELIVER_URLS_MAX];
	size_t nurls[DELIVER_TARGETS];
	int64_t timeout_ms[DELIVER_TARGETS];
	char *error;
};

static void
conf_clear(struct conf *c)
{
	size_t k, i;

	for (k = 0; k < DELIVER_TARGETS; k++)
		for (i = 0; i < c->nurls[k]; i++)
			free(c->urls[k][i]);
	free(c->error);
}

static int
url_valid(const char *s, size_t len)
{
	return len < DELIVER_URL_MAX && ((len > 7 &&
	    strncmp(s, "http://", 7) == 0) || (len > 8 &&
	    strncmp(s, "https://", 8) == 0));
}

/* Adds each URL of a comma- or space-separated list; 1, or 0 on error. */
static int
conf_urls(struct conf *c, enum deliver_target k, const char *list)
{
	const char *sep = ", \t";
	const char *p = list;
	size_t len;

	for (p += strspn(p, sep); *p != '\0'; p += strspn(p, sep)) {
		len = strcspn(p, sep);
		if (!url_valid(p, len)) {
			set_cause(&c->error, "[%s] url \"%.*s\" is not an "
			    "http:// or https:// URL", deliver_target_name(k),
			    (int)(len > 64 ? 64 : len), p);
			return 0;
		}
		if (c->nurls[k] == DELIVER_URLS_MAX) {
			set_cause(&c->error, "[%s] names more than %d URLs",
			    deliver_target_name(k), DELIVER_URLS_MAX);
			return 0;
		}
		if ((c->urls[k][c->nurls[k]] = strndup(p, len)) == NULL) {
			set_cause(&c->error, "out of memory");
			return 0;
		}
		c->nurls[k]++;
		p += len;
	}
	return 1;
}

/* inih calls this per key; returning 0 stops with that line's number. */
static int
conf_key(void *user, const char *section, const char *key,
    const char *value)
{
	struct conf *c = user;
	enum deliver_target k;
	int64_t ms;

	if (strcmp(section, "webhook") == 0)
		k = DELIVER_WEBHOOK;
	else if (strcmp(section, "alertmanager") == 0)
		k = DELIVER_ALERTMANAGER;
	else
		return 1;

	if (strcmp(key, "url") == 0)
		return conf_urls(c, k, value);
	if (strcmp(key, "timeout") == 0) {
		if (config_parse_duration(value, &ms) == 0 && ms >= 1000 &&
		    ms <= 5 * 60000) {
			c->timeout_ms[k] = ms;
			return 1;
		}
		set_cause(&c->error, "[%s] timeout \"%.32s\" is not a "
		    "duration from 1s to 5m", section, value);
		return 0;
	}
	set_cause(&c->error, "unknown key \"%.64s\" in section [%s]", key,
	    section);
	return 0;
}

static int
conf_read(const char *path, struct conf *c, char **cause)
{
	int line;

	memset(c, 0, sizeof *c);
	if (path == NULL)
		return 0;
	line = ini_parse(path, conf_key, c);
	if (line == -1)
		set_cause(cause, "%s: cannot open: %s", path, strerror(errno));
	else if (line == -2)
		set_cause(cause, "%s: out of memory", path);
	else if (line > 0)
		set_cause(cause, "%s:%d: %s", path, line,
		    c->error != NULL ? c->error : "syntax error");
	return line == 0 ? 0 : -1;
}

/* --- alert snapshots and jobs ------------------------------------------ */

static void
snap_clear(struct snap *s)
{
	free(s->rule);
	free(s->code);
	free(s->api);
	free(s->severity);
	free(s->summary);
}

static int
snap_copy(struct snap *s, const struct alertstate_row *r)
{
	memset(s, 0, sizeof *s);
	s->state = r->state;
	s->started_ms = r->started_ms;
	s->fired_ms = r->fired_ms;
	s->resolved_ms = r->resolved_ms;
	s->value = r->value;
	s->peak = r->peak;
	s->baseline = r->baseline;
	if ((s->rule = strdup(r->rule)) == NULL ||
	    (s->code = strdup(r->code)) == NULL ||
	    (r->api != NULL && (s->api = strdup(r->api)) == NULL) ||
	    (s->severity = strdup(r->severity)) == NULL ||
	    (s->summary = strdup(r->summary != NULL ? r->summary : "")) ==
	    NULL) {
		snap_clear(s);
		return -1;
	}
	return 0;
}

static void
job_free(struct job *j)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->n; i++)
		snap_clear(&j->alerts[i]);
	free(j->alerts);
	free(j);
}

static struct job *
job_new(const struct alertstate_row *rows, size_t n)
{
	struct job *j;

	if ((j = calloc(1, sizeof *j)) == NULL ||
	    (j->alerts = calloc(n, sizeof *j->alerts)) == NULL) {
		free(j);
		return NULL;
	}
	for (; j->n < n; j->n++) {
		if (snap_copy(&j->alerts[j->n], &rows[j->n]) == -1) {
			job_free(j);
			return NULL;
		}
	}
	return j;
}

/* Under lock.  Appends j, dropping the oldest job of a full queue. */
static void
queue_push(struct deliver *d, struct target *t, struct job *j)
{
	struct job *old;

	if (t->len >= DELIVER_QUEUE_MAX) {
		old = t->head;
		t->head = old->next;
		t->len--;
		job_free(old);
		d->m.dropped[t->kind]++;
	}
	if (t->tail != NULL)
		t->tail->next = j;
	else
		t->head = j;
	t->tail = j;
	t->len++;
}

/* Under lock.  Puts a job that failed back at the head, if there is room. */
static void
queue_unpop(struct deliver *d, struct target *t, struct job *j)
{
	if (t->len >= DELIVER_QUEUE_MAX) {
		job_free(j);
		d->m.dropped[t->kind]++;
		return;
	}
	j->next = t->head;
	t->head = j;
	if (t->tail == NULL)
		t->tail = j;
	t->len++;
}

static struct job *
queue_pop(struct target *t)
{
	struct job *j = t->head;

	t->head = j->next;
	if (t->head == NULL)
		t->tail = NULL;
	t->len--;
	j->next = NULL;
	return j;
}

/* Under lock: queues row for every target. */
static void
queue_row(struct deliver *d, const struct alertstate_row *row)
{
	struct job *j;
	size_t i;

	for (i = 0; i < d->ntargets; i++) {
		if ((j = job_new(row, 1)) == NULL) {
			d->m.dropped[d->targets[i].kind]++;
			continue;
		}
		queue_push(d, &d->targets[i], j);
	}
	pthread_cond_signal(&d->wake);
}

static int
row_wanted(const struct alertstate_row *row)
{
	return row->state == ALERTSTATE_FIRING ||
	    (row->state == ALERTSTATE_RESOLVED && row->fired_ms != 0);
}

void
deliver_notify(void *ctx, const struct alertstate_row *row)
{
	struct deliver *d = ctx;

	if (!row_wanted(row))
		return;
	pthread_mutex_lock(&d->lock);
	d->gen++;
	if (!d->caught_up && d->nearly < DELIVER_EARLY_MAX) {
		d->early_id[d->nearly] = row->id;
		d->early_state[d->nearly++] = (int)row->state;
	}
	queue_row(d, row);
	pthread_mutex_unlock(&d->lock);
}

/* The notification count, to tell whether a read raced a change. */
static int64_t
gen_now(struct deliver *d)
{
	int64_t g;

	pthread_mutex_lock(&d->lock);
	g = d->gen;
	pthread_mutex_unlock(&d->lock);
	return g;
}

/* --- payloads ---------------------------------------------------------- */

static json_t *
json_time(int64_t ms)
{
	char buf[TIMEFMT_RFC3339_LEN];

	timefmt_rfc3339(ms, buf);
	return json_string(buf);
}

/* Labels in name order, which the fingerprint below relies on. */
static json_t *
labels_json(const struct deliver *d, const struct snap *s)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "alertname", json_string(s->rule));
	if (s->api != NULL)
		json_object_set_new(o, "api", json_string(s->api));
	json_object_set_new(o, "code", json_string(s->code));
	json_object_set_new(o, "instance", json_string(d->instance));
	json_object_set_new(o, "severity", json_string(s->severity));
	return o;
}

static json_t *
annotations_json(const struct snap *s)
{
	char desc[512];

	snprintf(desc, sizeof desc, "Rule %s on %s%s%s: value %g, baseline "
	    "%g, peak %g.", s->rule, s->code, s->api != NULL ? " for " : "",
	    s->api != NULL ? s->api : "", s->value, s->baseline, s->peak);
	return json_pack("{s:s,s:s}", "summary", s->summary,
	    "description", desc);
}

/*
 * Alertmanager's fingerprint construction: FNV-1a 64 over the labels in
 * name order, each name and value followed by a 0xff byte.
 */
static void
fingerprint(const json_t *labels, char out[17])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const unsigned char *p;
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)labels, key, v) {
		for (p = (const unsigned char *)key; *p != '\0'; p++)
			h = (h ^ *p) * 0x100000001b3ULL;
		h = (h ^ 0xff) * 0x100000001b3ULL;
		p = (const unsigned char *)json_string_value(v);
		for (; p != NULL && *p != '\0'; p++)
			h = (h ^ *p) * 0x100000001b3ULL;
		h = (h ^ 0xff) * 0x100000001b3ULL;
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/*
 * One alert.  For Alertmanager a firing alert ends DELIVER_ENDS_AFTER_MS
 * from now unless re-sent; for a webhook it has no end yet.
 */
static json_t *
alert_json(const struct deliver *d, const struct snap *s,
    enum deliver_target kind, int64_t now_ms)
{
	int resolved = s->state == ALERTSTATE_RESOLVED;
	json_t *labels = labels_json(d, s), *ends;
	char fp[17];

	if (labels == NULL)
		return NULL;
	if (resolved)
		ends = json_time(s->resolved_ms);
	else if (kind == DELIVER_ALERTMANAGER)
		ends = json_time(now_ms + DELIVER_ENDS_AFTER_MS);
	else
		ends = json_string(DELIVER_ZERO_TIME);
	if (kind == DELIVER_ALERTMANAGER)
		/* "o" steals each reference, even when packing fails. */
		return json_pack("{s:o,s:o?,s:o,s:o,s:s}", "labels", labels,
		    "annotations", annotations_json(s), "startsAt",
		    json_time(s->started_ms), "endsAt", ends, "generatorURL",
		    d->external_url);
	fingerprint(labels, fp);
	return json_pack("{s:s,s:o,s:o?,s:o,s:o,s:s,s:s}", "status",
	    resolved ? "resolved" : "firing", "labels", labels,
	    "annotations", annotations_json(s), "startsAt",
	    json_time(s->started_ms), "endsAt", ends, "generatorURL",
	    d->external_url, "fingerprint", fp);
}

/* The document Alertmanager sends a webhook receiver, for one alert. */
static json_t *
webhook_json(const struct deliver *d, const struct job *j, int64_t now_ms)
{
	const struct snap *s = &j->alerts[0];
	json_t *alert, *arr;
	char key[256];

	if ((alert = alert_json(d, s, DELIVER_WEBHOOK, now_ms)) == NULL)
		return NULL;
	snprintf(key, sizeof key, "{}:{alertname=\"%s\"}", s->rule);
	/* "o" steals alert even when packing fails. */
	if ((arr = json_pack("[o]", alert)) == NULL)
		return NULL;
	return json_pack("{s:s,s:s,s:i,s:s,s:s,s:{s:s},s:O,s:O,s:s,s:o}",
	    "version", "4", "groupKey", key, "truncatedAlerts", 0,
	    "status", s->state == ALERTSTATE_RESOLVED ? "resolved" : "firing",
	    "receiver", DELIVER_RECEIVER, "groupLabels", "alertname",
	    s->rule, "commonLabels", json_object_get(alert, "labels"),
	    "commonAnnotations", json_object_get(alert, "annotations"),
	    "externalURL", d->external_url, "alerts", arr);
}

static json_t *
alertmanager_json(const struct deliver *d, const struct job *j,
    int64_t now_ms)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < j->n; i++) {
		if (json_array_append_new(arr, alert_json(d, &j->alerts[i],
		    DELIVER_ALERTMANAGER, now_ms)) == -1) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* --- requests ---------------------------------------------------------- */

/* libcurl writes answers to stdout unless told otherwise; they are unread. */
static size_t
discard(char *ptr, size_t size, size_t nmemb, void *user)
{
	(void)ptr;
	(void)user;
	return size * nmemb;
}

/* Aborts a request in flight when the daemon stops, not at its timeout. */
static int
abort_on_quit(void *user, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct deliver *d = user;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load(&d->quit);
}

enum post_result { POST_OK, POST_RETRY, POST_REFUSED };

/* POSTs body; why gets the reason a request failed. */
static enum post_result
post(struct target *t, const char *body, char *why, size_t whylen)
{
	char err[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;

	curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(t->curl, CURLOPT_ERRORBUFFER, err);
	rc = curl_easy_perform(t->curl);
	curl_easy_setopt(t->curl, CURLOPT_ERRORBUFFER, NULL);
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "%s", err[0] != '\0' ? err :
		    curl_easy_strerror(rc));
		return POST_RETRY;
	}
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300)
		return POST_OK;
	snprintf(why, whylen, "HTTP status %ld", status);
	if (status >= 500 || status == 408 || status == 429)
		return POST_RETRY;
	return POST_REFUSED;
}

/* Builds the job's body for t and sends it; logs what went wrong. */
static enum post_result
attempt(struct deliver *d, struct target *t, const struct job *j)
{
	int64_t now = clock_ms(CLOCK_REALTIME);
	enum post_result res;
	char why[CURL_ERROR_SIZE + 32];
	json_t *doc;
	char *body;

	doc = t->kind == DELIVER_WEBHOOK ? webhook_json(d, j, now) :
	    alertmanager_json(d, j, now);
	body = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (body == NULL) {
		log_msg(LOG_ERROR, "deliver: cannot build the payload url=%s: "
		    "out of memory", t->shown);
		return POST_REFUSED;
	}
	res = post(t, body, why, sizeof why);
	free(body);

	if (res == POST_REFUSED)
		log_msg(LOG_WARNING, "deliver: refused url=%s alerts=%zu: %s; "
		    "dropped", t->shown, j->n, why);
	else if (res == POST_RETRY && t->failures == 0)
		log_msg(LOG_WARNING, "deliver: failed url=%s: %s; retrying",
		    t->shown, why);
	else if (res == POST_RETRY)
		log_msg(LOG_DEBUG, "deliver: failed again url=%s attempt=%d: "
		    "%s", t->shown, j->attempts + 1, why);
	else if (t->failures > 0)
		log_msg(LOG_INFO, "deliver: delivering again url=%s after "
		    "failures=%lld", t->shown, (long long)t->failures);
	return res;
}

/* Under lock: counts the attempt and requeues or frees the job. */
static void
settle(struct deliver *d, struct target *t, struct job *j,
    enum post_result res)
{
	if (j->attempts > 0)
		d->m.retries[t->kind]++;
	if (res != POST_RETRY) {
		if (res == POST_OK)
			d->m.sent[t->kind]++;
		else {
			d->m.failed[t->kind]++;
			d->m.dropped[t->kind]++;
		}
		t->failures = 0;
		t->backoff_ms = 0;
		t->next_ms = 0;
		job_free(j);
		return;
	}
	d->m.failed[t->kind]++;
	t->failures++;
	t->backoff_ms = t->backoff_ms == 0 ? DELIVER_BACKOFF_MIN_MS :
	    t->backoff_ms * 2;
	if (t->backoff_ms > DELIVER_BACKOFF_MAX_MS)
		t->backoff_ms = DELIVER_BACKOFF_MAX_MS;
	t->next_ms = clock_ms(CLOCK_MONOTONIC) + t->backoff_ms;
	j->attempts++;
	queue_unpop(d, t, j);
}

/* --- the thread -------------------------------------------------------- */

/*
 * Queues every firing alert once per Alertmanager whose queue is empty: a
 * queue that is not empty is failing or busy, and a re-send behind it
 * would only grow it.
 */
static void
resend(struct deliver *d)
{
	struct alertstate_query q = { 0, ALERTSTATE_FIRING, 0, INT64_MAX,
	    DELIVER_RESEND_ROWS };
	struct alertstate_row *rows;
	struct target *t;
	struct job *j;
	char *cause = NULL;
	int64_t gen = gen_now(d);
	size_t n, i;

	if (alertstate_list(d->as, &q, &rows, &n, &cause) == -1) {
		log_msg(LOG_WARNING, "deliver: cannot read the firing alerts: "
		    "%s", cause != NULL ? cause : "out of memory");
		free(cause);
		return;
	}
	pthread_mutex_lock(&d->lock);
	/* A change since the read may have resolved one: read again soon. */
	if (d->gen != gen) {
		d->resend_ms = clock_ms(CLOCK_MONOTONIC) + 1000;
		pthread_mutex_unlock(&d->lock);
		alertstate_rows_free(rows, n);
		return;
	}
	for (i = 0; n > 0 && i < d->ntargets; i++) {
		t = &d->targets[i];
		if (t->kind != DELIVER_ALERTMANAGER || t->len > 0)
			continue;
		if ((j = job_new(rows, n)) == NULL)
			d->m.dropped[t->kind]++;
		else
			queue_push(d, t, j);
	}
	pthread_mutex_unlock(&d->lock);
	alertstate_rows_free(rows, n);
}

/* Under lock: whether deliver_notify already queued this change. */
static int
early_seen(const struct deliver *d, const struct alertstate_row *r)
{
	size_t i;

	for (i = 0; i < d->nearly; i++) {
		if (d->early_id[i] == r->id &&
		    d->early_state[i] == (int)r->state)
			return 1;
	}
	return 0;
}

/*
 * Reads the rows a pass may have changed since since_ms and queues those
 * it did change; 1 when a notification raced the read (read again).
 */
static int
catch_up_read(struct deliver *d)
{
	struct alertstate_row *rows = NULL;
	int64_t gen = gen_now(d);
	char *cause = NULL;
	size_t n = 0, i;
	int raced;

	/* A pass resolves alerts at data times up to its horizon ago. */
	if (alertstate_recent(d->as, d->since_ms - (ALERTS_HORIZON_MIN + 1) *
	    60000LL, &rows, &n, &cause) == -1) {
		log_msg(LOG_ERROR, "deliver: cannot read the alerts changed "
		    "at start: %s", cause != NULL ? cause : "out of memory");
		free(cause);
		return 0;
	}
	pthread_mutex_lock(&d->lock);
	if (!(raced = d->gen != gen)) {
		for (i = 0; i < n; i++) {
			if (row_wanted(&rows[i]) && !early_seen(d, &rows[i]) &&
			    rows[i].updated_ms >= d->since_ms)
				queue_row(d, &rows[i]);
		}
	}
	pthread_mutex_unlock(&d->lock);
	alertstate_rows_free(rows, n);
	return raced;
}

/*
 * The changes the engine stored before deliver_notify was registered: rows
 * updated from since_ms on, less those deliver_notify queued meanwhile.
 * Past DELIVER_EARLY_MAX of those, or five races, a change may go out
 * twice, which receivers take as a repeat; a change missed would be a
 * lost page.
 */
static void
catch_up(struct deliver *d)
{
	int tries = 0;

	while (catch_up_read(d) && ++tries < 5)
		;
	pthread_mutex_lock(&d->lock);
	d->caught_up = 1;
	pthread_mutex_unlock(&d->lock);
}

/* Under lock: a target whose head is due, and else when the next is. */
static struct target *
due(struct deliver *d, int64_t now, int64_t *next)
{
	struct target *t;
	size_t i;

	*next = d->has_alertmanager ? d->resend_ms : now + 3600000;
	for (i = 0; i < d->ntargets; i++) {
		t = &d->targets[i];
		if (t->head == NULL)
			continue;
		if (t->next_ms <= now)
			return t;
		if (t->next_ms < *next)
			*next = t->next_ms;
	}
	return NULL;
}

static void
wait_until(struct deliver *d, int64_t until_ms)
{
	struct timespec ts;

	ts.tv_sec = until_ms / 1000;
	ts.tv_nsec = (until_ms % 1000) * 1000000L;
	pthread_cond_timedwait(&d->wake, &d->lock, &ts);
}

static void *
deliver_main(void *arg)
{
	struct deliver *d = arg;
	enum post_result res;
	struct target *t;
	struct job *j;
	int64_t now, next;

	catch_up(d);
	pthread_mutex_lock(&d->lock);
	while (!d->stopping) {
		now = clock_ms(CLOCK_MONOTONIC);
		if (d->has_alertmanager && now >= d->resend_ms) {
			d->resend_ms = now + DELIVER_RESEND_MS;
			pthread_mutex_unlock(&d->lock);
			resend(d);
			pthread_mutex_lock(&d->lock);
			continue;
		}
		if ((t = due(d, now, &next)) == NULL) {
			wait_until(d, next);
			continue;
		}
		/* Unlocked across the request, so that notify never waits. */
		j = queue_pop(t);
		pthread_mutex_unlock(&d->lock);
		res = attempt(d, t, j);
		pthread_mutex_lock(&d->lock);
		settle(d, t, j, res);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* --- starting and stopping --------------------------------------------- */

/* The instance label: listen, with the host name for a wildcard host. */
static char *
make_instance(const char *listen)
{
	const char *colon = strrchr(listen, ':');
	char host[256];
	size_t hlen;
	char *out;

	if (colon == NULL)
		return strdup(listen);
	hlen = (size_t)(colon - listen);
	if (!(hlen == 0 || strncmp(listen, "0.0.0.0", hlen) == 0 ||
	    strncmp(listen, "[::]", hlen) == 0 ||
	    strncmp(listen, "::", hlen) == 0 ||
	    strncmp(listen, "*", hlen) == 0) ||
	    gethostname(host, sizeof host) == -1)
		return strdup(listen);
	host[sizeof host - 1] = '\0';
	if (asprintf(&out, "%s%s", host, colon) == -1)
		return NULL;
	return out;
}

/* A URL fit for a log line: no user:password@, no query. */
static char *
shown_url(const char *url)
{
	const char *host = strstr(url, "://");
	const char *at, *slash;
	char *out;

	host = host != NULL ? host + 3 : url;
	slash = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(slash - host));
	if (asprintf(&out, "%.*s%.*s", (int)(host - url), url,
	    (int)strcspn(at != NULL ? at + 1 : host, "?#"),
	    at != NULL ? at + 1 : host) == -1)
		return NULL;
	return out;
}

static int
target_init(struct deliver *d, struct target *t, enum deliver_target kind,
    const char *url, int64_t timeout_ms)
{
	size_t len = strlen(url);

	t->kind = kind;
	t->timeout_ms = (long)(timeout_ms > 0 ? timeout_ms :
	    DELIVER_TIMEOUT_MS);
	while (kind == DELIVER_ALERTMANAGER && len > 0 && url[len - 1] == '/')
		len--;
	if (asprintf(&t->url, "%.*s%s", (int)len, url,
	    kind == DELIVER_ALERTMANAGER ? "/api/v2/alerts" : "") == -1) {
		t->url = NULL;
		return -1;
	}
	if ((t->shown = shown_url(t->url)) == NULL ||
	    (t->curl = curl_easy_init()) == NULL)
		return -1;
	curl_easy_setopt(t->curl, CURLOPT_URL, t->url);
	curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, d->headers);
	curl_easy_setopt(t->curl, CURLOPT_TIMEOUT_MS, t->timeout_ms);
	curl_easy_setopt(t->curl, CURLOPT_CONNECTTIMEOUT_MS, t->timeout_ms);
	/* Signals would reach the wrong thread; timeouts work without. */
	curl_easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(t->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(t->curl, CURLOPT_XFERINFOFUNCTION, abort_on_quit);
	curl_easy_setopt(t->curl, CURLOPT_XFERINFODATA, d);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(t->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(t->curl, CURLOPT_USERAGENT, "kmswatch");
	return 0;
}

static int
targets_init(struct deliver *d, const struct conf *c)
{
	size_t k, i, n = c->nurls[0] + c->nurls[1];

	if ((d->targets = calloc(n, sizeof *d->targets)) == NULL)
		return -1;
	for (k = 0; k < DELIVER_TARGETS; k++) {
		for (i = 0; i < c->nurls[k]; i++) {
			if (target_init(d, &d->targets[d->ntargets++],
			    (enum deliver_target)k, c->urls[k][i],
			    c->timeout_ms[k]) == -1)
				return -1;
		}
	}
	d->has_alertmanager = c->nurls[DELIVER_ALERTMANAGER] > 0;
	return 0;
}

static int
deliver_init(struct deliver *d, const struct conf *c, const char *db_path,
    const char *listen, char **cause)
{
	if (alertstate_open(db_path, &d->as, cause) == -1)
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		set_cause(cause, "cannot initialise libcurl");
		return -1;
	}
	d->curl_ready = 1;
	if ((d->instance = make_instance(listen)) == NULL ||
	    asprintf(&d->external_url, "http://%s", d->instance) == -1 ||
	    (d->headers = curl_slist_append(NULL,
	    "Content-Type: application/json")) == NULL ||
	    /* No "Expect: 100-continue" round trip before each body. */
	    curl_slist_append(d->headers, "Expect:") == NULL ||
	    targets_init(d, c) == -1 ||
	    pthread_mutex_init(&d->lock, NULL) != 0) {
		set_cause(cause, "out of memory");
		return -1;
	}
	return 0;
}

/* The lock and a condition variable timed on the monotonic clock. */
static int
deliver_init_wake(struct deliver *d)
{
	pthread_condattr_t ca;
	int rc;

	if (pthread_condattr_init(&ca) != 0)
		return -1;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&d->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0) {
		pthread_mutex_destroy(&d->lock);
		return -1;
	}
	d->locks_ready = 1;
	return 0;
}

int
deliver_start(const char *config_path, const char *db_path,
    const char *listen, int64_t since_ms, struct alerts *a,
    struct deliver **out, char **cause)
{
	struct deliver *d = NULL;
	struct conf c;
	int rc;

	*out = NULL;
	if (conf_read(config_path, &c, cause) == -1)
		goto fail;
	if (c.nurls[DELIVER_WEBHOOK] + c.nurls[DELIVER_ALERTMANAGER] == 0) {
		conf_clear(&c);
		return 0;
	}
	if ((d = calloc(1, sizeof *d)) == NULL) {
		set_cause(cause, "out of memory");
		goto fail;
	}
	if (deliver_init(d, &c, db_path, listen, cause) == -1)
		goto fail;
	if (deliver_init_wake(d) == -1) {
		set_cause(cause, "cannot create the delivery lock");
		goto fail;
	}
	d->resend_ms = clock_ms(CLOCK_MONOTONIC);
	d->since_ms = since_ms;
	/* Before the thread: its catch-up must not miss what follows. */
	d->alerts = a;
	alerts_set_notify(a, deliver_notify, d);
	if ((rc = pthread_create(&d->thread, NULL, deliver_main, d)) != 0) {
		set_cause(cause, "cannot start the delivery thread: %s",
		    strerror(rc));
		goto fail;
	}
	d->running = 1;
	log_msg(LOG_INFO, "deliver: started webhooks=%zu alertmanagers=%zu "
	    "instance=%s", c.nurls[DELIVER_WEBHOOK],
	    c.nurls[DELIVER_ALERTMANAGER], d->instance);
	conf_clear(&c);
	*out = d;
	return 0;

fail:
	conf_clear(&c);
	deliver_stop(d);
	return -1;
}

static size_t
targets_free(struct deliver *d)
{
	struct target *t;
	size_t i, left = 0;

	for (i = 0; d->targets != NULL && i < d->ntargets; i++) {
		t = &d->targets[i];
		left += t->len;
		while (t->head != NULL)
			job_free(queue_pop(t));
		if (t->curl != NULL)
			curl_easy_cleanup(t->curl);
		free(t->url);
		free(t->shown);
	}
	free(d->targets);
	return left;
}

void
deliver_stop(struct deliver *d)
{
	size_t left;

	if (d == NULL)
		return;
	/* After this no callback runs: the engine takes its pass lock. */
	if (d->alerts != NULL)
		alerts_set_notify(d->alerts, NULL, NULL);
	if (d->running) {
		pthread_mutex_lock(&d->lock);
		d->stopping = 1;
		atomic_store(&d->quit, 1);
		pthread_cond_signal(&d->wake);
		pthread_mutex_unlock(&d->lock);
		pthread_join(d->thread, NULL);
	}
	if (d->locks_ready) {
		pthread_mutex_destroy(&d->lock);
		pthread_cond_destroy(&d->wake);
	}
	if ((left = targets_free(d)) > 0)
		log_msg(LOG_WARNING, "deliver: stopped with requests=%zu "
		    "undelivered", left);
	curl_slist_free_all(d->headers);
	if (d->curl_ready)
		curl_global_cleanup();
	alertstate_close(d->as);
	free(d->instance);
	free(d->external_url);
	free(d);
}

void
deliver_metrics(struct deliver *d, struct deliver_metrics *m)
{
	size_t i;

	memset(m, 0, sizeof *m);
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	*m = d->m;
	for (i = 0; i < d->ntargets; i++)
		m->queued[d->targets[i].kind] += (int64_t)d->targets[i].len;
	pthread_mutex_unlock(&d->lock);
}
