/*
 * api_metrics.c - GET /metrics, in the Prometheus text exposition format
 * (version 0.0.4): the store's running totals as counters, the writer's
 * and the alert engine's figures, and the process's own.
 *
 * Every family is written with its HELP and TYPE lines even when it has
 * no sample yet, so that dashboards and rules find the names from the
 * first scrape.  Label values are escaped as the format asks (backslash,
 * double quote, newline).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alerts.h"
#include "api_int.h"
#include "deliver.h"
#include "follow.h"
#include "store.h"
#include "textbuf.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Writes a label value, escaped, into out (cut at size). */
static const char *
label(const char *v, char *out, size_t size)
{
	size_t o = 0;

	for (; v != NULL && *v != '\0' && o + 3 < size; v++) {
		if (*v == '\\' || *v == '"') {
			out[o++] = '\\';
			out[o++] = *v;
		} else if (*v == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else
			out[o++] = *v;
	}
	out[o] = '\0';
	return out;
}

static void
family(struct textbuf *t, const char *name, const char *type,
    const char *help)
{
	textbuf_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int
errors_family(struct textbuf *t, struct store *st, char **cause)
{
	struct store_minute *rows;
	char c[256], a[256];
	size_t i, n;

	family(t, "kmswatch_errors_total", "counter",
	    "Error records stored, by ErrorCode, HTTP status and API.");
	if (store_counts(st, 0, &rows, &n, cause) != 0)
		return -1;
	for (i = 0; i < n; i++)
		textbuf_printf(t, "kmswatch_errors_total{code=\"%s\",status=\"%d\","
		    "api=\"%s\"} %lld\n", label(rows[i].code, c, sizeof c),
		    rows[i].status, label(rows[i].api, a, sizeof a),
		    (long long)rows[i].count);
	store_minutes_free(rows, n);

	family(t, "kmswatch_responses_total", "counter",
	    "Successful (2xx) responses seen in captures, by API.");
	if (store_counts(st, 1, &rows, &n, cause) != 0)
		return -1;
	for (i = 0; i < n; i++)
		textbuf_printf(t, "kmswatch_responses_total{api=\"%s\"} %lld\n",
		    label(rows[i].api, a, sizeof a), (long long)rows[i].count);
	store_minutes_free(rows, n);
	return 0;
}

static void
store_family(struct textbuf *t, struct store *st)
{
	struct store_totals tot;
	int64_t now = api_now_ms();

	if (store_totals(st, &tot, NULL) != 0)
		return;
	family(t, "kmswatch_records", "gauge",
	    "Error records held in the database now.");
	textbuf_printf(t, "kmswatch_records %lld\n", (long long)tot.records);
	family(t, "kmswatch_rejects", "gauge",
	    "Rejected input spans held in the database now.");
	textbuf_printf(t, "kmswatch_rejects %lld\n", (long long)tot.rejects);
	family(t, "kmswatch_ingest_lag_seconds", "gauge",
	    "Seconds between now and the time of the newest stored record.");
	if (tot.newest_ms > 0)
		textbuf_printf(t, "kmswatch_ingest_lag_seconds %.3f\n",
		    (double)(now - tot.newest_ms) / 1000.0);
}

static void
writer_family(struct textbuf *t, struct follow *fw)
{
	struct follow_stats fs;

	memset(&fs, 0, sizeof fs);
	if (fw != NULL)
		follow_get_stats(fw, &fs);
	family(t, "kmswatch_ingest_records_total", "counter",
	    "Records this daemon stored, from followed files and pushes.");
	textbuf_printf(t, "kmswatch_ingest_records_total %lld\n", (long long)fs.records);
	family(t, "kmswatch_ingest_duplicates_total", "counter",
	    "Records this daemon skipped because their RequestId was stored.");
	textbuf_printf(t, "kmswatch_ingest_duplicates_total %lld\n",
	    (long long)fs.duplicates);
	family(t, "kmswatch_ingest_rejects_total", "counter",
	    "Input spans this daemon rejected as undecodable.");
	textbuf_printf(t, "kmswatch_ingest_rejects_total %lld\n", (long long)fs.rejects);
	family(t, "kmswatch_followed_files", "gauge",
	    "Files the daemon follows now.");
	textbuf_printf(t, "kmswatch_followed_files %lld\n", (long long)fs.files);
	family(t, "kmswatch_expired_records_total", "counter",
	    "Records deleted by retention.");
	textbuf_printf(t, "kmswatch_expired_records_total %lld\n",
	    (long long)fs.expired);
}

static void
alerts_family(struct textbuf *t, struct alerts *a)
{
	struct alerts_metrics m;

	memset(&m, 0, sizeof m);
	if (a != NULL)
		alerts_metrics(a, &m);
	family(t, "kmswatch_alerts", "gauge",
	    "Alerts by state: pending and firing now, resolved in history.");
	textbuf_printf(t, "kmswatch_alerts{state=\"pending\"} %lld\n",
	    (long long)m.pending);
	textbuf_printf(t, "kmswatch_alerts{state=\"firing\"} %lld\n",
	    (long long)m.firing);
	textbuf_printf(t, "kmswatch_alerts{state=\"resolved\"} %lld\n",
	    (long long)m.resolved);
	family(t, "kmswatch_rules", "gauge", "Alert rules evaluated.");
	textbuf_printf(t, "kmswatch_rules %zu\n", m.rules);
	family(t, "kmswatch_rule_evaluation_seconds", "gauge",
	    "Duration of the last evaluation of every rule.");
	textbuf_printf(t, "kmswatch_rule_evaluation_seconds %.6f\n", m.last_duration_s);
	family(t, "kmswatch_rule_evaluations_total", "counter",
	    "Evaluations run (those skipped for want of new data excluded).");
	textbuf_printf(t, "kmswatch_rule_evaluations_total %lld\n",
	    (long long)m.evaluations);
	family(t, "kmswatch_rule_evaluation_failures_total", "counter",
	    "Evaluations that failed.");
	textbuf_printf(t, "kmswatch_rule_evaluation_failures_total %lld\n",
	    (long long)m.failures);
}

/* Alert delivery by target and result; zeros when none is configured. */
static void
deliver_family(struct textbuf *t, struct deliver *d)
{
	static const char *const results[] = { "sent", "failed", "retried",
	    "dropped" };
	struct deliver_metrics m;
	const int64_t *v[4] = { m.sent, m.failed, m.retries, m.dropped };
	int k, i;

	deliver_metrics(d, &m);
	family(t, "kmswatch_alert_deliveries_total", "counter",
	    "Alert delivery requests: sent (2xx), failed attempts, retried "
	    "attempts, and dropped (full queue or refused).");
	for (k = 0; k < DELIVER_TARGETS; k++)
		for (i = 0; i < 4; i++)
			textbuf_printf(t, "kmswatch_alert_deliveries_total{target=\"%s\","
			    "result=\"%s\"} %lld\n",
			    deliver_target_name((enum deliver_target)k),
			    results[i], (long long)v[i][k]);
	family(t, "kmswatch_alert_delivery_queue", "gauge",
	    "Alert delivery requests waiting, by target.");
	for (k = 0; k < DELIVER_TARGETS; k++)
		textbuf_printf(t, "kmswatch_alert_delivery_queue{target=\"%s\"} %lld\n",
		    deliver_target_name((enum deliver_target)k),
		    (long long)m.queued[k]);
}

/* CPU seconds and start time from /proc/self/stat. */
static void
process_family(struct textbuf *t)
{
	unsigned long utime = 0, stime = 0, rss_pages = 0, size = 0;
	unsigned long long start = 0;
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	struct timespec boot, real;
	struct dirent *de;
	int fds = 0;
	FILE *f;
	DIR *d;

	if ((f = fopen("/proc/self/stat", "r")) != NULL) {
		if (fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u "
		    "%*u %*u %lu %lu %*d %*d %*d %*d %*d %*d %llu", &utime,
		    &stime, &start) != 3)
			utime = stime = 0;
		fclose(f);
	}
	if ((f = fopen("/proc/self/statm", "r")) != NULL) {
		if (fscanf(f, "%lu %lu", &size, &rss_pages) != 2)
			rss_pages = 0;
		fclose(f);
	}
	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(d)) != NULL)
			fds += de->d_name[0] != '.';
		closedir(d);
	}
	clock_gettime(CLOCK_BOOTTIME, &boot);
	clock_gettime(CLOCK_REALTIME, &real);

	family(t, "process_cpu_seconds_total", "counter",
	    "User and system CPU time spent, in seconds.");
	textbuf_printf(t, "process_cpu_seconds_total %.2f\n",
	    (double)(utime + stime) / (double)tick);
	family(t, "process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.");
	textbuf_printf(t, "process_resident_memory_bytes %lu\n",
	    rss_pages * (unsigned long)page);
	family(t, "process_open_fds", "gauge", "Open file descriptors.");
	textbuf_printf(t, "process_open_fds %d\n", fds - 1);
	family(t, "process_start_time_seconds", "gauge",
	    "Start time of the process since the epoch, in seconds.");
	textbuf_printf(t, "process_start_time_seconds %.2f\n", (double)real.tv_sec -
	    (double)boot.tv_sec + (double)start / (double)tick);
}

/*
 * GET /metrics.  The body is text, not JSON: it is handed back through
 * r->text, which api_send writes with the exposition format's type.
 */
int
api_metrics_get(struct api_req *r, struct store *st, const char *rest)
{
	struct textbuf t = { NULL, 0, 0, 0 };
	char *cause = NULL;

	(void)rest;
	if (errors_family(&t, st, &cause) != 0) {
		free(t.buf);
		return (api_fail_store(r, "metrics", cause));
	}
	store_family(&t, st);
	writer_family(&t, api_writer(r->api));
	alerts_family(&t, api_alerts(r->api));
	deliver_family(&t, api_deliver(r->api));
	process_family(&t);
	if (t.failed) {
		free(t.buf);
		return (api_fail(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
		    "out of memory building the metrics"));
	}
	r->text = t.buf;
	r->text_len = t.len;
	r->text_type = METRICS_CONTENT_TYPE;
	r->status = MHD_HTTP_OK;
	return (0);
}
