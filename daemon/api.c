/*
 * api.c - the HTTP JSON API.  It owns the listening socket and worker
 * threads (libmicrohttpd's thread pool), a pool of store reader handles
 * with one per worker, the URL and query-parameter grammar, parameter
 * validation, and the error shape every endpoint shares:
 *
 *	{"error":{"code":"bad_parameter","message":"parameter \"limit\" ..."}}
 *
 * with code one of bad_parameter (400), not_found (404),
 * method_not_allowed (405), internal (500) and timeout (503, a query that
 * ran past the per-request limit).  The endpoints:
 *
 *	GET /healthz			totals and schema version
 *	GET /api/v1/requests/{id}	one record by RequestId
 *	GET /api/v1/errors		filtered listing, newest first, paged
 *	GET /api/v1/stats		counts grouped by code, status, ...
 *	GET /api/v1/timeseries		zero-filled counts per code per step
 *	GET /api/v1/codes		the error-code catalog
 *
 * It only reads, through store.h; the JSON of records and catalog rows
 * comes from render.c and time syntax from timefmt.c.  It does not
 * authenticate callers or speak TLS: bind it to loopback or put a proxy
 * in front.  Unknown query parameters are refused so that typos show; an
 * empty value ("code=") counts as not given, as dashboards send them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "api.h"
#include "api_int.h"
#include "assets.h"
#include "log.h"
#include "render.h"
#include "store.h"
#include "textbuf.h"
#include "timefmt.h"

/*
 * Connections.  libmicrohttpd accepts up to API_CONNECTIONS_MAX and drops
 * the ones past it at once, so clients that connect and then say nothing
 * (or half a request line, slowly) could hold every slot until their idle
 * timeout and lock real callers out.  API_PER_IP_MAX caps what one
 * address may hold, so that one such client leaves room for the others;
 * the idle timeout closes what it does hold.  A browser opens about six
 * connections to a host, so the cap leaves a proxy in front plenty.  The
 * worker threads never wait on a silent client: libmicrohttpd reads with
 * epoll, and a request reaches a thread only once it is complete.
 */
#define API_THREADS_DEFAULT	2
#define API_CONNECTIONS_MAX	256
#define API_PER_IP_MAX		64
#define API_TIMEOUT_S		10
#define API_MEMORY_LIMIT	(32 * 1024)	/* bytes per connection */
#define API_QUERY_RETRY_S	5	/* Retry-After of a timed-out query */

#define API_FILTER_MAX		128	/* bytes of a code or api filter */
#define API_LIMIT_DEFAULT	100
#define API_LIMIT_MAX		1000
#define API_TOP_MAX		1000
#define API_BUCKETS_MAX		20000
#define API_POINT_BYTES		20	/* a usual [t,count], with its comma */
#define API_STEP_MAX		(366 * 86400)	/* seconds */
#define API_BODY_MAX		(1 << 20)	/* bytes, but for pushes */




/* Sent when even the error body cannot be built. */
#define API_OOM_BODY \
	"{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}"

struct api {
	struct MHD_Daemon	*mhd;
	uint16_t		 port;
	char			 listen[INET6_ADDRSTRLEN + 16];

	/* Reader handles: all of them, and a stack of the idle ones. */
	pthread_mutex_t		 lock;
	pthread_cond_t		 idle_cond;
	int			 lock_ready;
	struct store		**readers;
	struct store		**idle;
	size_t			 nreaders;
	size_t			 nidle;
	/* Per reader: when its query must stop (monotonic ms). */
	int64_t			*deadlines;
	int64_t			 query_timeout_ms;

	struct follow		*writer;	/* for pushes; may be NULL */
	int			 push_enabled;
	size_t			 push_max_body;
	char			*token;		/* NULL: no token asked */
	struct alerts		*alerts;
	struct deliver		*deliver;
	char			*tls_cert;	/* PEM, kept while serving */
	char			*tls_key;
};




struct api_route {
	const char		*method;	/* GET (HEAD too) or POST */
	const char		*path;
	int			 prefix;	/* the path's rest is an id */
	const char *const	*params;	/* NULL-terminated */
	int			 reads_store;
	api_endpoint		 fn;
};

/* A request body being received, kept between handler calls. */
struct api_upload {
	const struct api_route	*route;
	uint8_t			*buf;
	size_t			 len, cap;
	size_t			 max;
	int			 too_big;
};

static void __attribute__((format(printf, 2, 3)))
api_cause(char **cause, const char *fmt, ...)
{
	va_list	ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		*cause = NULL;
	va_end(ap);
}

/*
 * Copies s between double quotes into out, for a message or a log line:
 * printable ASCII as is, '"' and '\' escaped, other bytes as \xNN, and
 * at most API_QUOTE_BYTES bytes of s, followed by "..." when cut.
 */
const char *
api_quote(const char *s, char out[API_QUOTE_LEN])
{
	unsigned char	c;
	size_t		i, o = 0;

	out[o++] = '"';
	for (i = 0; s[i] != '\0' && i < API_QUOTE_BYTES; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f)
			o += (size_t)sprintf(out + o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o++] = '"';
	if (s[i] != '\0') {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return (out);
}

/* Writes "a.b.c.d:port" or "[v6]:port" into buf. */
static void
api_format_addr(const struct sockaddr *sa, char *buf, size_t size)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	char				 host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else
		snprintf(buf, size, "family-%d", sa->sa_family);
}

/* The client's address, worked out on first use. */
const char *
api_peer(struct api_req *r)
{
	const union MHD_ConnectionInfo	*ci;

	if (r->peer[0] != '\0')
		return (r->peer);
	ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		snprintf(r->peer, sizeof r->peer, "unknown");
	else
		api_format_addr(ci->client_addr, r->peer, sizeof r->peer);
	return (r->peer);
}

int64_t
api_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Rounding of times that are never negative. */
int64_t
api_floor(int64_t ms, int64_t unit)
{
	return (ms - ms % unit);
}

int64_t
api_ceil(int64_t ms, int64_t unit)
{
	return (api_floor(ms + unit - 1, unit));
}

/*
 * Replaces the response with an error body.  Always returns -1, so that
 * endpoints can "return (api_fail(...))".
 */
int
api_fail(struct api_req *r, unsigned status, const char *code,
    const char *fmt, ...)
{
	char	message[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);

	/* A NULL body (out of memory) makes api_send fall back. */
	json_decref(r->body);
	r->status = status;
	r->body = json_pack("{s:{s:s,s:s}}", "error", "code", code,
	    "message", message);
	return (-1);
}

static int64_t
api_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * A store query failed: the operator gets the cause, the client not.  A
 * query stopped by the request's time limit is the client's to retry, a
 * 503; anything else is a 500.
 */
int
api_fail_store(struct api_req *r, const char *query, char *cause)
{
	char	path[API_QUOTE_LEN];
	int64_t	took = api_mono_ms() - ((int64_t)r->start.tv_sec * 1000 +
		    r->start.tv_nsec / 1000000);

	if (took >= r->api->query_timeout_ms) {
		log_msg(LOG_WARNING, "api: query stopped at its time limit "
		    "query=%s peer=%s path=%s took_ms=%lld limit_ms=%lld",
		    query, api_peer(r), api_quote(r->url, path),
		    (long long)took, (long long)r->api->query_timeout_ms);
		free(cause);
		r->retry_after = API_QUERY_RETRY_S;
		return (api_fail(r, MHD_HTTP_SERVICE_UNAVAILABLE, "timeout",
		    "the %s query ran past the %lld ms limit; narrow it "
		    "(a shorter range, a code) or retry", query,
		    (long long)r->api->query_timeout_ms));
	}
	log_msg(LOG_ERROR, "api: store query failed query=%s peer=%s "
	    "path=%s cause=%s", query, api_peer(r), api_quote(r->url, path),
	    cause != NULL ? cause : "unknown");
	free(cause);
	return (api_fail(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
	    "the %s query failed; see the daemon log", query));
}

/* Ends an endpoint whose body was just built (NULL when out of memory). */
int
api_done(struct api_req *r)
{
	char	path[API_QUOTE_LEN];

	if (r->body == NULL) {
		log_msg(LOG_ERROR, "api: out of memory building a response "
		    "peer=%s path=%s", api_peer(r), api_quote(r->url, path));
		return (api_fail(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal", "out of memory building the response"));
	}
	r->status = MHD_HTTP_OK;
	return (0);
}

/*
 * Ends an endpoint whose JSON was written as text into t, which it takes
 * over (freed here when writing it ran out of memory).
 */
int
api_done_text(struct api_req *r, struct textbuf *t)
{
	char	path[API_QUOTE_LEN];

	if (t->failed || t->buf == NULL) {
		free(t->buf);
		log_msg(LOG_ERROR, "api: out of memory building a response "
		    "peer=%s path=%s", api_peer(r), api_quote(r->url, path));
		return (api_fail(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal", "out of memory building the response"));
	}
	r->text = t->buf;
	r->text_len = t->len;
	r->text_type = "application/json";
	r->status = MHD_HTTP_OK;
	return (0);
}

/* Collects one query parameter; stops the walk when the table is full. */
static enum MHD_Result
api_arg_collect(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct api_req	*r = cls;

	(void)kind;
	if (r->nargs == API_ARGS_MAX) {
		r->args_overflow = 1;
		return (MHD_NO);
	}
	r->args[r->nargs].key = key;
	r->args[r->nargs].value = value != NULL ? value : "";
	r->nargs++;
	return (MHD_YES);
}

/* Writes "a, b, c" (or "none") for an error message. */
static void
api_join(const char *const *names, char *buf, size_t size)
{
	size_t	i, len = 0;

	snprintf(buf, size, "none");
	for (i = 0; names[i] != NULL && len < size; i++) {
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    i == 0 ? "" : ", ", names[i]);
	}
}

static int
api_arg_allowed(const char *key, const char *const *allowed)
{
	size_t	i;

	for (i = 0; allowed[i] != NULL; i++) {
		if (strcmp(key, allowed[i]) == 0)
			return (1);
	}
	return (0);
}

/* Reads the query and refuses unknown and repeated parameters. */
static int
api_args_check(struct api_req *r, const char *const *allowed)
{
	char	q[API_QUOTE_LEN], names[256];
	size_t	i, j;

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND,
	    api_arg_collect, r);
	if (r->args_overflow)
		return (api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_parameter",
		    "more than %d query parameters", API_ARGS_MAX));

	for (i = 0; i < r->nargs; i++) {
		if (!api_arg_allowed(r->args[i].key, allowed)) {
			api_join(allowed, names, sizeof names);
			return (api_fail(r, MHD_HTTP_BAD_REQUEST,
			    "bad_parameter", "unknown parameter %s; this "
			    "endpoint takes: %s",
			    api_quote(r->args[i].key, q), names));
		}
		for (j = 0; j < i; j++) {
			if (strcmp(r->args[i].key, r->args[j].key) == 0)
				return (api_fail(r, MHD_HTTP_BAD_REQUEST,
				    "bad_parameter", "parameter \"%s\" is "
				    "given more than once", r->args[i].key));
		}
	}
	return (0);
}

/* The value of a query parameter, or NULL when absent or empty. */
const char *
api_arg(const struct api_req *r, const char *name)
{
	size_t	i;

	for (i = 0; i < r->nargs; i++) {
		if (strcmp(r->args[i].key, name) == 0)
			return (r->args[i].value[0] != '\0' ?
			    r->args[i].value : NULL);
	}
	return (NULL);
}

/* Parses decimal digits only, no sign; returns -1 on overflow. */
static int
api_parse_int(const char *s, int64_t *out)
{
	int64_t	v = 0;

	if (*s == '\0')
		return (-1);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		if (v > (INT64_MAX - (*s - '0')) / 10)
			return (-1);
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return (0);
}

/* An integer parameter in [min, max]; dflt when absent. */
int
api_arg_int(struct api_req *r, const char *name, int64_t min, int64_t max,
    int64_t dflt, int64_t *out)
{
	const char	*s;
	char		 q[API_QUOTE_LEN];

	if ((s = api_arg(r, name)) == NULL) {
		*out = dflt;
		return (0);
	}
	if (api_parse_int(s, out) == 0 && *out >= min && *out <= max)
		return (0);
	return (api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_parameter",
	    "parameter \"%s\" must be an integer between %" PRId64 " and %"
	    PRId64 ", got %s", name, min, max, api_quote(s, q)));
}

/* A string filter (code, api); NULL when absent. */
int
api_arg_filter(struct api_req *r, const char *name, const char **out)
{
	*out = api_arg(r, name);
	if (*out == NULL || strlen(*out) <= API_FILTER_MAX)
		return (0);
	return (api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_parameter",
	    "parameter \"%s\" must be at most %d bytes long", name,
	    API_FILTER_MAX));
}

/*
 * Parses a time.  A '+' of a zone offset that was not written as %2B has
 * become a space by form decoding ("...T10:00:00 08:00"); put it back.
 */
static int
api_parse_time(const char *s, int64_t *ms)
{
	char	copy[64], *sp;

	if (timefmt_parse(s, ms) == 0)
		return (0);
	/* The offset's '+' is the last character that can be one. */
	if ((sp = strrchr(s, ' ')) == NULL || strlen(s) >= sizeof copy)
		return (-1);
	memcpy(copy, s, strlen(s) + 1);
	copy[sp - s] = '+';
	return (timefmt_parse(copy, ms));
}

/* A time parameter; *ms is -1 when absent. */
int
api_arg_time(struct api_req *r, const char *name, int64_t *ms)
{
	const char	*s;
	char		 q[API_QUOTE_LEN];

	*ms = -1;
	if ((s = api_arg(r, name)) == NULL)
		return (0);
	if (api_parse_time(s, ms) == 0 && *ms >= 0 && *ms <= API_TIME_MAX)
		return (0);
	return (api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_parameter",
	    "parameter \"%s\" must be an RFC 3339 time or unix seconds, "
	    "not before 1970, got %s", name, api_quote(s, q)));
}

/*
 * The [from, to) range of a query, widened to whole units.  With span 0,
 * an absent from or to leaves that side open; otherwise to defaults to
 * now and from to span before to.
 */
static int
api_arg_window(struct api_req *r, int64_t span, int64_t unit,
    int64_t *from, int64_t *to)
{
	if (api_arg_time(r, "from", from) != 0 ||
	    api_arg_time(r, "to", to) != 0)
		return (-1);

	if (*to < 0)
		*to = span != 0 ? api_now_ms() : API_TIME_MAX;
	if (*from < 0 && span != 0)
		*from = api_ceil(*to, unit) - span;
	if (*from < 0)
		*from = 0;
	if (*from >= *to)
		return (api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_parameter",
		    "parameter \"from\" must be before \"to\"%s",
		    api_arg(r, "to") == NULL ? " (to defaults to now)" : ""));

	*from = api_floor(*from, unit);
	*to = api_ceil(*to, unit);
	return (0);
}

/* GET /healthz */
static int
api_get_healthz(struct api_req *r, struct store *st, const char *rest)
{
	struct store_totals	 t;
	char			 newest[TIMEFMT_RFC3339_LEN];
	char			*cause = NULL;

	(void)rest;
	if (store_totals(st, &t, &cause) != 0)
		return (api_fail_store(r, "totals", cause));
	if (t.newest_ms != 0)
		timefmt_rfc3339(t.newest_ms, newest);

	r->body = json_pack("{s:s,s:i,s:I,s:I,s:s?}", "status", "ok",
	    "schema_version", store_schema_version(st),
	    "records", (json_int_t)t.records,
	    "rejects", (json_int_t)t.rejects,
	    "newest", t.newest_ms != 0 ? newest : NULL);
	return (api_done(r));
}

/* 1 when id is 1..API_ID_MAX bytes of [A-Za-z0-9._-]. */
int
api_valid_id(const char *id)
{
	size_t	len;

	len = strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_.");
	return (len > 0 && len <= API_ID_MAX && id[len] == '\0');
}

/* GET /api/v1/requests/{id} */
static int
api_get_request(struct api_req *r, struct store *st, const char *id)
{
	struct store_row	 row;
	int64_t			 context;
	char			 q[API_QUOTE_LEN];
	char			*cause = NULL;
	int			 rc;

	if (!api_valid_id(id))
		return (api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_parameter",
		    "request id must be 1 to %d characters of A-Z, a-z, "
		    "0-9, '-', '_' and '.', got %s", API_ID_MAX,
		    api_quote(id, q)));

	if (api_arg_int(r, "context", 0, 1, 0, &context) != 0)
		return (-1);
	memset(&row, 0, sizeof row);
	if ((rc = store_lookup(st, id, &row, &cause)) < 0)
		return (api_fail_store(r, "lookup", cause));
	if (rc == 1)
		return (api_fail(r, MHD_HTTP_NOT_FOUND, "not_found",
		    "no record has request id \"%s\"", id));

	r->body = render_row(&row);
	if (context && r->body != NULL &&
	    api_push_context(st, &row, r->body, &cause) != 0) {
		store_row_clear(&row);
		return (api_fail_store(r, "context", cause));
	}
	store_row_clear(&row);
	return (api_done(r));
}

/* Reads the parameters of /api/v1/errors into q. */
static int
api_parse_cursor(const char *s, int by_time, struct store_errors_query *q)
{
	const char	*dot = strchr(s, '.');
	char		 head[32];

	if (!by_time)
		return (dot != NULL || api_parse_int(s, &q->cursor) != 0 ||
		    q->cursor <= 0 ? -1 : 0);
	if (dot == NULL || (size_t)(dot - s) >= sizeof head)
		return (-1);
	memcpy(head, s, (size_t)(dot - s));
	head[dot - s] = '\0';
	if (api_parse_int(head, &q->cursor_time) != 0 ||
	    api_parse_int(dot + 1, &q->cursor) != 0 || q->cursor <= 0)
		return (-1);
	return (0);
}

static int
api_errors_query(struct api_req *r, struct store_errors_query *q)
{
	int64_t	status, limit;
	char	quoted[API_QUOTE_LEN];

	memset(q, 0, sizeof *q);
	if (api_arg_filter(r, "code", &q->code) != 0 ||
	    api_arg_filter(r, "api", &q->api) != 0 ||
	    api_arg_int(r, "status", 100, 599, 0, &status) != 0 ||
	    api_arg_int(r, "limit", 1, API_LIMIT_MAX, API_LIMIT_DEFAULT,
	    &limit) != 0 ||
	    api_arg_window(r, 0, 1, &q->from_ms, &q->to_ms) != 0)
		return (-1);
	q->status = (int)status;
	q->limit = (int)limit;

	/*
	 * The cursor is opaque to clients, but must be what we handed out:
	 * "ID", or "TIME.ID" when the listing is by time (filtered by code).
	 */
	if (api_arg(r, "cursor") != NULL &&
	    api_parse_cursor(api_arg(r, "cursor"), q->code != NULL, q) != 0)
		return (api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_parameter",
		    "parameter \"cursor\" must be the next_cursor of an "
		    "earlier page with the same filters, got %s",
		    api_quote(api_arg(r, "cursor"), quoted)));
	return (0);
}

/* {"items":[...],"next_cursor":...} from a page of rows. */
static json_t *
api_errors_body(const struct store_row *rows, size_t n, int64_t next,
    int by_time)
{
	json_t	*items;
	char	 cursor[48];
	size_t	 i;

	if ((items = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		/* json_array_append_new steals the row, even when it fails. */
		if (json_array_append_new(items, render_row(&rows[i])) != 0) {
			json_decref(items);
			return (NULL);
		}
	}
	if (by_time && n > 0)
		snprintf(cursor, sizeof cursor, "%" PRId64 ".%" PRId64,
		    rows[n - 1].time_ms, next);
	else
		snprintf(cursor, sizeof cursor, "%" PRId64, next);

	/* "o" steals items, also when json_pack fails. */
	return (json_pack("{s:o,s:s?}", "items", items,
	    "next_cursor", next > 0 ? cursor : NULL));
}

/* GET /api/v1/errors */
static int
api_get_errors(struct api_req *r, struct store *st, const char *rest)
{
	struct store_errors_query	 q;
	struct store_row		*rows = NULL;
	size_t				 n = 0;
	int64_t				 next = 0;
	char				*cause = NULL;

	(void)rest;
	if (api_errors_query(r, &q) != 0)
		return (-1);
	if (store_errors(st, &q, &rows, &n, &next, &cause) != 0)
		return (api_fail_store(r, "errors", cause));

	r->body = api_errors_body(rows, n, next, q.code != NULL);
	store_rows_free(rows, n);
	return (api_done(r));
}

static const char *const api_by_names[] = {
	[STORE_BY_CODE] = "code",
	[STORE_BY_STATUS] = "status",
	[STORE_BY_API] = "api",
	[STORE_BY_CATEGORY] = "category",
	NULL,
};

static int
api_arg_by(struct api_req *r, enum store_group_by *by)
{
	const char	*s;
	char		 q[API_QUOTE_LEN], names[64];
	size_t		 i;

	*by = STORE_BY_CODE;
	if ((s = api_arg(r, "by")) == NULL)
		return (0);
	for (i = 0; api_by_names[i] != NULL; i++) {
		if (strcmp(s, api_by_names[i]) == 0) {
			*by = (enum store_group_by)i;
			return (0);
		}
	}
	api_join(api_by_names, names, sizeof names);
	return (api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_parameter",
	    "parameter \"by\" must be one of %s, got %s", names,
	    api_quote(s, q)));
}

/* One {"key":...,"count":...,"share":...} of a stats answer. */
static json_t *
api_group(enum store_group_by by, const struct store_group *g,
    int64_t total)
{
	json_t	*key;
	double	 share = 0;
	char	*end;
	long	 status;

	if (by == STORE_BY_STATUS) {
		status = strtol(g->key, &end, 10);
		key = *end == '\0' && end != g->key ?
		    json_integer(status) : json_string(g->key);
	} else if (by == STORE_BY_API && g->key[0] == '\0')
		key = json_null();
	else
		key = json_string(g->key);

	if (total > 0)
		share = round((double)g->count * 10000 / (double)total) /
		    10000;
	/* "o" steals key, also when json_pack fails. */
	if (by == STORE_BY_API)
		return (json_pack("{s:o,s:I,s:f,s:I}", "key", key,
		    "count", (json_int_t)g->count, "share", share,
		    "responses", (json_int_t)g->responses));
	return (json_pack("{s:o,s:I,s:f}", "key", key,
	    "count", (json_int_t)g->count, "share", share));
}

/* The stats answer; shows at most shown of the n groups. */
static json_t *
api_stats_body(enum store_group_by by, int64_t from, int64_t to,
    int64_t total, const struct store_group *groups, size_t shown)
{
	char	 from_s[TIMEFMT_RFC3339_LEN], to_s[TIMEFMT_RFC3339_LEN];
	json_t	*list;
	size_t	 i;

	if ((list = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < shown; i++) {
		/* json_array_append_new steals the group, even on failure. */
		if (json_array_append_new(list,
		    api_group(by, &groups[i], total)) != 0) {
			json_decref(list);
			return (NULL);
		}
	}
	timefmt_rfc3339(from, from_s);
	timefmt_rfc3339(to, to_s);

	/*
	 * An open end of the range echoes as null.  "o" steals list, also
	 * when json_pack fails.
	 */
	return (json_pack("{s:s?,s:s?,s:s,s:I,s:o}",
	    "from", from > 0 ? from_s : NULL,
	    "to", to < api_floor(API_TIME_MAX, MINUTE_MS) ? to_s : NULL,
	    "by", api_by_names[by], "total", (json_int_t)total,
	    "groups", list));
}

/* GET /api/v1/stats */
static int
api_get_stats(struct api_req *r, struct store *st, const char *rest)
{
	enum store_group_by	 by;
	struct store_group	*groups = NULL;
	size_t			 n = 0;
	const char		*code = NULL;
	int64_t			 from, to, top, total = 0;
	char			*cause = NULL;

	(void)rest;
	if (api_arg_by(r, &by) != 0 ||
	    api_arg_int(r, "top", 1, API_TOP_MAX, API_TOP_MAX, &top) != 0 ||
	    api_arg_filter(r, "code", &code) != 0 ||
	    api_arg_window(r, 0, MINUTE_MS, &from, &to) != 0)
		return (-1);

	/*
	 * Without from and to, everything stored is counted: a capture of
	 * last month must show numbers on the first call.  The store rounds
	 * to whole minutes too; from and to echo that.
	 */
	if (store_stats(st, from, to, by, code, &groups, &n, &total,
	    &cause) != 0)
		return (api_fail_store(r, "stats", cause));

	r->body = api_stats_body(by, from, to, total, groups,
	    n < (size_t)top ? n : (size_t)top);
	store_groups_free(groups, n);
	return (api_done(r));
}

/* The points of one code: a run of the store's code-ordered answer. */
struct api_run {
	const char	*code;
	size_t		 first;
	size_t		 n;
	int64_t		 total;
};

/* Largest total first; ties by code, so the order is stable. */
static int
api_run_cmp(const void *a, const void *b)
{
	const struct api_run	*x = a, *y = b;

	if (x->total != y->total)
		return (x->total > y->total ? -1 : 1);
	return (strcmp(x->code, y->code));
}

/* Whether point i starts a code; the store shares a code's string. */
static int
api_run_starts(const struct store_point *pts, size_t i)
{
	return (i == 0 || (pts[i].code != pts[i - 1].code &&
	    strcmp(pts[i].code, pts[i - 1].code) != 0));
}

/* Splits points into runs of one code, sorted; NULL when out of memory. */
static struct api_run *
api_runs(const struct store_point *pts, size_t n, size_t *nruns)
{
	struct api_run	*runs;
	size_t		 i, k = 0;

	for (i = 0; i < n; i++)
		k += api_run_starts(pts, i);
	if ((runs = calloc(k > 0 ? k : 1, sizeof *runs)) == NULL)
		return (NULL);
	for (i = 0, k = 0; i < n; i++) {
		if (api_run_starts(pts, i)) {
			runs[k].code = pts[i].code;
			runs[k].first = i;
			k++;
		}
		runs[k - 1].n++;
		runs[k - 1].total += pts[i].count;
	}
	qsort(runs, k, sizeof *runs, api_run_cmp);
	*nruns = k;
	return (runs);
}

/* The bucket grid of a timeseries answer. */
struct api_grid {
	int64_t		 from;		/* ms, a multiple of step */
	int64_t		 step;		/* ms */
	size_t		 n;		/* buckets */
	int64_t		*counts;	/* n scratch counters */
};

/* Writes [when,count], after a comma unless it is the first pair. */
static void
api_point(struct textbuf *t, int comma, int64_t when, int64_t count)
{
	char	*p, *start;

	if ((start = p = textbuf_space(t, 2 * TEXTBUF_INT_MAX + 4)) == NULL)
		return;
	if (comma)
		*p++ = ',';
	*p++ = '[';
	p += textbuf_digits(p, when);
	*p++ = ',';
	p += textbuf_digits(p, count);
	*p++ = ']';
	textbuf_used(t, (size_t)(p - start));
}

/*
 * {"code":...,"points":[[t,count],...]} with every bucket present.  A
 * week at 60 s is 10,080 points a code: written as text, since a Jansson
 * tree of them costs several allocations a point.
 */
static void
api_series(struct textbuf *t, const struct api_run *run,
    const struct store_point *pts, struct api_grid *g)
{
	size_t	 i, b;
	int64_t	 off;
	char	*code;

	memset(g->counts, 0, g->n * sizeof *g->counts);
	for (i = run->first; i < run->first + run->n; i++) {
		off = pts[i].bucket_ms - g->from;
		if (off >= 0 && (size_t)(off / g->step) < g->n)
			g->counts[off / g->step] += pts[i].count;
	}

	if ((code = render_string_text(run->code)) == NULL) {
		t->failed = 1;
		return;
	}
	textbuf_printf(t, "{\"code\":%s,\"points\":[", code);
	free(code);
	for (b = 0; b < g->n; b++)
		api_point(t, b > 0, (g->from + (int64_t)b * g->step) / 1000,
		    g->counts[b]);
	textbuf_append(t, "]}", 2);
}

/* The "series" array: one zero-filled series per code, largest first. */
static void
api_series_list(struct textbuf *t, const struct store_point *pts, size_t n,
    struct api_grid *g)
{
	struct api_run	*runs = NULL;
	size_t		 i, nruns = 0;

	if ((runs = api_runs(pts, n, &nruns)) == NULL ||
	    (g->counts = calloc(g->n > 0 ? g->n : 1, sizeof *g->counts)) ==
	    NULL) {
		t->failed = 1;
		goto out;
	}

	/* Room for every pair at once: no copy as the answer grows. */
	textbuf_space(t, nruns * g->n * API_POINT_BYTES);
	textbuf_append(t, "[", 1);
	for (i = 0; i < nruns; i++) {
		if (i > 0)
			textbuf_append(t, ",", 1);
		api_series(t, &runs[i], pts, g);
	}
	textbuf_append(t, "]", 1);

out:
	free(g->counts);
	g->counts = NULL;
	free(runs);
}

/* A step in seconds: a positive multiple of a minute, at most a year. */
static int
api_arg_step(struct api_req *r, int64_t *step)
{
	const char	*s;
	char		 q[API_QUOTE_LEN];

	*step = 60;
	if ((s = api_arg(r, "step")) == NULL)
		return (0);
	if (api_parse_int(s, step) == 0 && *step > 0 && *step % 60 == 0 &&
	    *step <= API_STEP_MAX)
		return (0);
	return (api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_parameter",
	    "parameter \"step\" must be a positive multiple of 60 seconds, "
	    "at most %d, got %s", API_STEP_MAX, api_quote(s, q)));
}

/* GET /api/v1/timeseries */
static int
api_get_timeseries(struct api_req *r, struct store *st, const char *rest)
{
	struct api_grid		 g;
	struct store_point	*pts = NULL;
	struct textbuf		 t = { NULL, 0, 0, 0 };
	const char		*code;
	char			 from_s[TIMEFMT_RFC3339_LEN];
	char			 to_s[TIMEFMT_RFC3339_LEN];
	char			*cause = NULL;
	size_t			 n = 0;
	int64_t			 step, from, to, buckets;

	(void)rest;
	if (api_arg_filter(r, "code", &code) != 0 ||
	    api_arg_step(r, &step) != 0 ||
	    api_arg_window(r, HOUR_MS, step * 1000, &from, &to) != 0)
		return (-1);
	if ((buckets = (to - from) / (step * 1000)) > API_BUCKETS_MAX)
		return (api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_parameter",
		    "the range holds %" PRId64 " buckets of %" PRId64 " s, "
		    "more than %d; raise \"step\" or narrow \"from\" and "
		    "\"to\"", buckets, step, API_BUCKETS_MAX));

	if (store_timeseries(st, from, to, step * 1000, code, &pts, &n,
	    &cause) != 0)
		return (api_fail_store(r, "timeseries", cause));

	memset(&g, 0, sizeof g);
	g.from = from;
	g.step = step * 1000;
	g.n = (size_t)buckets;
	timefmt_rfc3339(from, from_s);
	timefmt_rfc3339(to, to_s);
	textbuf_printf(&t, "{\"from\":\"%s\",\"to\":\"%s\",\"step\":%"
	    PRId64 ",\"series\":", from_s, to_s, step);
	api_series_list(&t, pts, n, &g);
	textbuf_append(&t, "}", 1);
	store_points_free(pts, n);
	return (api_done_text(r, &t));
}

/* GET /api/v1/codes */
static int
api_get_codes(struct api_req *r, struct store *st, const char *rest)
{
	(void)st;
	(void)rest;
	r->body = render_catalog();
	return (api_done(r));
}

static const char *const api_params_none[] = { NULL };
static const char *const api_params_errors[] = {
	"code", "status", "api", "from", "to", "limit", "cursor", NULL
};
static const char *const api_params_stats[] = {
	"from", "to", "by", "top", "code", NULL
};
static const char *const api_params_timeseries[] = {
	"from", "to", "step", "code", NULL
};

static const char *const api_params_request[] = { "context", NULL };
static const char *const api_params_alerts[] = {
	"state", "from", "to", NULL
};
static const char *const api_params_window[] = { "from", "to", NULL };
static const char *const api_params_push[] = {
	"format", "source", "status", NULL
};

/* POST routes come before a GET prefix route that would shadow them. */
static const struct api_route api_routes[] = {
	{ "GET", "/healthz", 0, api_params_none, 1, api_get_healthz },
	{ "POST", "/api/v1/requests/lookup", 0, api_params_none, 1,
	    api_push_lookup },
	{ "GET", "/api/v1/requests/", 1, api_params_request, 1,
	    api_get_request },
	{ "GET", "/api/v1/errors", 0, api_params_errors, 1, api_get_errors },
	{ "GET", "/api/v1/stats", 0, api_params_stats, 1, api_get_stats },
	{ "GET", "/api/v1/timeseries", 0, api_params_timeseries, 1,
	    api_get_timeseries },
	{ "GET", "/api/v1/codes", 0, api_params_none, 0, api_get_codes },
	{ "GET", "/metrics", 0, api_params_none, 1, api_metrics_get },
	{ "GET", "/api/v1/alerts", 0, api_params_alerts, 0, api_alerts_get },
	{ "GET", "/api/v1/alerts/backtest", 0, api_params_window, 1,
	    api_alerts_backtest },
	{ "POST", "/api/v1/ingest", 0, api_params_push, 0, api_push_ingest },
};

static int
api_route_path(const struct api_route *rt, const char *url)
{
	return (rt->prefix ? strncmp(url, rt->path, strlen(rt->path)) == 0 :
	    strcmp(url, rt->path) == 0);
}

static int
api_route_method(const struct api_route *rt, const char *method)
{
	if (strcmp(rt->method, MHD_HTTP_METHOD_GET) == 0)
		return (strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0);
	return (strcmp(method, rt->method) == 0);
}

/*
 * The route for url and method.  NULL with *allow set to the methods the
 * path takes when only the method is wrong, or with *allow NULL when no
 * route has the path.
 */
static const struct api_route *
api_route_find(const char *url, const char *method, const char **allow)
{
	const struct api_route	*rt;
	size_t			 i;

	*allow = NULL;
	for (i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++) {
		rt = &api_routes[i];
		if (!api_route_path(rt, url))
			continue;
		if (api_route_method(rt, method))
			return (rt);
		*allow = strcmp(rt->method, MHD_HTTP_METHOD_POST) == 0 ?
		    "POST" : "GET, HEAD";
	}
	return (NULL);
}

/* The slot of st's deadline. */
static int64_t *
api_reader_deadline(struct api *api, struct store *st)
{
	size_t	i;

	for (i = 0; api->readers[i] != st; i++)
		;
	return (&api->deadlines[i]);
}

/*
 * Takes an idle reader, waiting while every one is busy, and arms its
 * time limit from the request's start, so that time spent waiting for a
 * reader counts too.
 */
static struct store *
api_reader_acquire(struct api *api, const struct api_req *r)
{
	struct store	*st;

	pthread_mutex_lock(&api->lock);
	while (api->nidle == 0)
		pthread_cond_wait(&api->idle_cond, &api->lock);
	st = api->idle[--api->nidle];
	pthread_mutex_unlock(&api->lock);
	*api_reader_deadline(api, st) = (int64_t)r->start.tv_sec * 1000 +
	    r->start.tv_nsec / 1000000 + api->query_timeout_ms;
	return (st);
}

/* SQLite's progress handler: nonzero stops the query. */
static int
api_query_expired(void *arg)
{
	return (api_mono_ms() >= *(const int64_t *)arg);
}

static void
api_reader_release(struct api *api, struct store *st)
{
	*api_reader_deadline(api, st) = INT64_MAX;
	pthread_mutex_lock(&api->lock);
	api->idle[api->nidle++] = st;
	pthread_cond_signal(&api->idle_cond);
	pthread_mutex_unlock(&api->lock);
}

/* Compares in time that depends on want's length only, not on where
 * given differs. */
static int
api_token_equal(const char *given, const char *want)
{
	size_t		gl = strlen(given), wl = strlen(want), i;
	unsigned char	diff = gl != wl;

	for (i = 0; i < wl; i++)
		diff |= (unsigned char)want[i] ^
		    (unsigned char)(i < gl ? given[i] : 0);
	return (diff == 0);
}

/*
 * With a token configured, every endpoint but /healthz asks for
 * "Authorization: Bearer TOKEN".  The token is never logged.
 */
static int
api_authorized(struct api_req *r)
{
	const char	*auth;

	if (r->api->token == NULL || strcmp(r->url, "/healthz") == 0)
		return (1);
	auth = api_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0 &&
	    api_token_equal(auth + 7, r->api->token))
		return (1);
	r->www_auth = 1;
	api_fail(r, MHD_HTTP_UNAUTHORIZED, "unauthorized", "this endpoint "
	    "asks for \"Authorization: Bearer <token>\"");
	return (0);
}

/* Routes a request and runs its endpoint; leaves status and body set. */
static void
api_dispatch(struct api_req *r)
{
	const struct api_route	*rt;
	struct store		*st = NULL;
	const char		*allow;
	char			 q[API_QUOTE_LEN], m[API_QUOTE_LEN];

	if (!api_authorized(r))
		return;
	if ((rt = api_route_find(r->url, r->method, &allow)) == NULL &&
	    allow == NULL) {
		api_fail(r, MHD_HTTP_NOT_FOUND, "not_found",
		    "no endpoint at %s", api_quote(r->url, q));
		return;
	}
	if (rt == NULL) {
		r->allow = allow;
		api_fail(r, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
		    "method %s is not allowed on %s; use %s",
		    api_quote(r->method, m), api_quote(r->url, q), allow);
		return;
	}
	if (api_args_check(r, rt->params) != 0)
		return;

	if (rt->reads_store)
		st = api_reader_acquire(r->api, r);
	rt->fn(r, st, r->url + strlen(rt->path));
	if (st != NULL)
		api_reader_release(r->api, st);
}

/* A text answer (the metrics), handed over to libmicrohttpd to free. */
static enum MHD_Result
api_send_text(struct api_req *r)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;

	resp = MHD_create_response_from_buffer(r->text_len, r->text,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(r->text);
		r->text = NULL;
		return (MHD_NO);
	}
	r->text = NULL;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    r->text_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	ret = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	return (ret);
}

/* Queues the response; a missing body becomes a canned 500. */
static enum MHD_Result
api_send(struct api_req *r)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;
	char			*text = NULL;

	if (r->text != NULL)
		return (api_send_text(r));
	if (r->body != NULL)
		text = json_dumps(r->body,
		    JSON_COMPACT | JSON_REAL_PRECISION(10));
	if (text != NULL) {
		/* MUST_FREE passes text to free(), Jansson's default. */
		resp = MHD_create_response_from_buffer(strlen(text), text,
		    MHD_RESPMEM_MUST_FREE);
	} else {
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		resp = MHD_create_response_from_buffer(strlen(API_OOM_BODY),
		    (void *)API_OOM_BODY, MHD_RESPMEM_PERSISTENT);
	}
	if (resp == NULL) {
		free(text);
		return (MHD_NO);
	}

	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	if (r->allow != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	if (r->www_auth)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer");
	if (r->retry_after > 0) {
		char	secs[16];

		snprintf(secs, sizeof secs, "%u", r->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
		    secs);
	}
	ret = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	return (ret);
}

/* The access line, at debug level only. */
static void
api_log_served(struct api_req *r)
{
	struct timespec	now;
	char		path[API_QUOTE_LEN], method[API_QUOTE_LEN];
	int64_t		ms;

	if (!log_enabled(LOG_DEBUG))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(now.tv_sec - r->start.tv_sec) * 1000 +
	    (now.tv_nsec - r->start.tv_nsec) / 1000000;
	log_msg(LOG_DEBUG, "api: served peer=%s method=%s path=%s status=%u "
	    "ms=%" PRId64, api_peer(r), api_quote(r->method, method),
	    api_quote(r->url, path), r->status, ms);
}

/* Marks, in *con_cls, a request whose headers have been seen. */
static char api_seen;

/* Starts receiving a POST body for its route; NULL when out of memory. */
static struct api_upload *
api_upload_new(struct api *api, struct MHD_Connection *conn,
    const struct api_route *rt)
{
	struct api_upload	*up;
	const char		*len;
	char			*end;
	unsigned long long	 n;

	if ((up = calloc(1, sizeof *up)) == NULL)
		return (NULL);
	up->route = rt;
	up->max = rt->fn == api_push_ingest ? api->push_max_body :
	    API_BODY_MAX;
	/* A declared length over the limit is refused without storing. */
	len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (len != NULL) {
		n = strtoull(len, &end, 10);
		up->too_big = *end == '\0' && n > up->max;
	}
	return (up);
}

static void
api_upload_add(struct api_upload *up, const char *data, size_t n)
{
	size_t	 cap;
	uint8_t	*grown;

	if (up->too_big)
		return;
	if (n > up->max - up->len) {
		up->too_big = 1;
		return;
	}
	for (cap = up->cap ? up->cap : 4096; cap < up->len + n; cap *= 2)
		;
	if (cap != up->cap) {
		if ((grown = realloc(up->buf, cap)) == NULL) {
			up->too_big = 1;
			return;
		}
		up->buf = grown;
		up->cap = cap;
	}
	memcpy(up->buf + up->len, data, n);
	up->len += n;
}

/* libmicrohttpd's end of a request: frees a body kept for it. */
static void
api_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode why)
{
	struct api_upload	*up = *con_cls;

	(void)cls;
	(void)conn;
	(void)why;
	if (up != NULL && *con_cls != (void *)&api_seen) {
		free(up->buf);
		free(up);
	}
	*con_cls = NULL;
}

/*
 * The first call for a request: GET and HEAD wait for the last call,
 * dropping any body, and keep the connection alive; a POST to a POST
 * route keeps its body (up to the route's limit); anything else is
 * answered at the last call with the body dropped.
 */
static enum MHD_Result
api_first_call(struct api *api, struct MHD_Connection *conn,
    const char *url, const char *method, void **con_cls)
{
	const struct api_route	*rt;
	const char		*allow;

	rt = api_route_find(url, method, &allow);
	if (rt != NULL && strcmp(rt->method, MHD_HTTP_METHOD_POST) == 0) {
		if ((*con_cls = api_upload_new(api, conn, rt)) == NULL)
			return (MHD_NO);
		return (MHD_YES);
	}
	*con_cls = &api_seen;
	return (MHD_YES);
}

/*
 * The dashboard's files, from the table built into the binary.  The page
 * loads nothing from elsewhere; the policy says so to the browser.
 */
static enum MHD_Result
api_send_asset(struct api_req *r, const struct asset *a)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;

	resp = MHD_create_response_from_buffer(a->len, (void *)a->data,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return (MHD_NO);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-cache");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* Dygraph sets inline styles: style-src needs 'unsafe-inline'. */
	MHD_add_response_header(resp, "Content-Security-Policy",
	    "default-src 'self'; img-src 'self' data:; style-src 'self' "
	    "'unsafe-inline'; object-src 'none'; base-uri 'none'; "
	    "frame-ancestors 'none'");
	r->status = MHD_HTTP_OK;
	ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return (ret);
}

/*
 * libmicrohttpd calls this first with the headers only, then once per
 * piece of body, then a last time with *upload_data_size 0.  A response
 * queued before the last call stops it from reading the request, so it
 * closes the connection: every answer waits for the last call.
 */
static enum MHD_Result
api_handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	const struct asset	*asset;
	struct api_upload	*up;
	struct api_req		 r;
	enum MHD_Result		 ret;

	(void)version;
	if (*con_cls == NULL)
		return (api_first_call(cls, conn, url, method, con_cls));
	up = *con_cls != (void *)&api_seen ? *con_cls : NULL;
	if (*upload_data_size != 0) {
		if (up != NULL)
			api_upload_add(up, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return (MHD_YES);
	}

	memset(&r, 0, sizeof r);
	r.api = cls;
	r.conn = conn;
	r.method = method;
	r.url = url;
	clock_gettime(CLOCK_MONOTONIC, &r.start);
	if (up == NULL && (asset = assets_find(url)) != NULL &&
	    (strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)) {
		ret = api_send_asset(&r, asset);
		api_log_served(&r);
		return (ret);
	}
	if (up != NULL && up->too_big)
		api_fail(&r, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
		    "the request body is over the limit of %zu bytes",
		    up->max);
	else {
		r.in = up != NULL ? up->buf : NULL;
		r.in_len = up != NULL ? up->len : 0;
		api_dispatch(&r);
	}
	ret = api_send(&r);
	api_log_served(&r);
	json_decref(r.body);
	return (ret);
}

struct follow *
api_writer(const struct api *api)
{
	return (api->writer);
}

struct alerts *
api_alerts(const struct api *api)
{
	return (api->alerts);
}

struct deliver *
api_deliver(const struct api *api)
{
	return (api->deliver);
}

int
api_push_enabled(const struct api *api)
{
	return (api->push_enabled);
}

const char *
api_header(struct api_req *r, const char *name)
{
	return (MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name));
}

static int
api_hex(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * Decodes %XX in the path and in query values, in place, as the default
 * does, except that %00 is left as it is: a decoded NUL would cut the
 * string short and "abc%00xyz" would look up "abc".
 */
static size_t
api_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char	*rd = s, *wr = s;
	int	 hi, lo;

	(void)cls;
	(void)conn;
	while (*rd != '\0') {
		if (rd[0] == '%' && (hi = api_hex(rd[1])) >= 0 &&
		    (lo = api_hex(rd[2])) >= 0 && (hi | lo) != 0) {
			*wr++ = (char)(hi * 16 + lo);
			rd += 3;
		} else
			*wr++ = *rd++;
	}
	*wr = '\0';
	return ((size_t)(wr - s));
}

/* libmicrohttpd's own complaints (bind failures, bad requests). */
static void __attribute__((format(printf, 2, 0)))
api_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	buf[512];
	size_t	len;

	(void)cls;
	if (!log_enabled(LOG_WARNING))
		return;
	vsnprintf(buf, sizeof buf, fmt, ap);
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	log_msg(LOG_WARNING, "api: libmicrohttpd: %s", buf);
}

/* Fills ss from an IPv4 or IPv6 literal ("[::1]" too) or "localhost". */
static int
api_resolve(const char *host, uint16_t port, struct sockaddr_storage *ss,
    char **cause)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 literal[INET6_ADDRSTRLEN] = "";
	size_t			 len;

	memset(ss, 0, sizeof *ss);
	if (host == NULL || *host == '\0' || strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	len = strlen(host);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']' &&
	    len - 2 < sizeof literal)
		memcpy(literal, host + 1, len - 2);
	else if (len < sizeof literal)
		memcpy(literal, host, len + 1);

	if (inet_pton(AF_INET, literal, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return (0);
	}
	if (inet_pton(AF_INET6, literal, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return (0);
	}
	api_cause(cause, "cannot listen on \"%s\": not an IPv4 or IPv6 "
	    "address, nor localhost", host);
	return (-1);
}

/* Opens one reader per worker, so a bad database fails at start. */
static int
api_readers_open(struct api *api, const char *db_path, unsigned n,
    char **cause)
{
	char	*why = NULL;

	api->readers = calloc(n, sizeof *api->readers);
	api->idle = calloc(n, sizeof *api->idle);
	api->deadlines = calloc(n, sizeof *api->deadlines);
	if (api->readers == NULL || api->idle == NULL ||
	    api->deadlines == NULL) {
		api_cause(cause, "out of memory");
		return (-1);
	}
	for (; api->nreaders < n; api->nreaders++) {
		if (store_open(db_path, STORE_READ,
		    &api->readers[api->nreaders], &why) != 0) {
			/* The store's cause names the path. */
			api_cause(cause, "opening a reader: %s",
			    why != NULL ? why : "out of memory");
			free(why);
			return (-1);
		}
		api->deadlines[api->nreaders] = INT64_MAX;
		store_watch(api->readers[api->nreaders], api_query_expired,
		    &api->deadlines[api->nreaders]);
		api->idle[api->nidle++] = api->readers[api->nreaders];
	}
	return (0);
}

/* Starts libmicrohttpd on ss and learns the port it bound. */
static int
api_listen(struct api *api, struct sockaddr_storage *ss, unsigned threads,
    char **cause)
{
	const union MHD_DaemonInfo	*info;
	struct MHD_OptionItem		 pool[4];
	unsigned int			 flags;
	size_t				 k = 0;

	flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (api->tls_cert != NULL) {
		flags |= MHD_USE_TLS;
		pool[k++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY,
		    0, api->tls_key };
		pool[k++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT,
		    0, api->tls_cert };
	}
	/* A pool size of 0 or 1 draws a warning: leave the option out. */
	if (threads >= 2)
		pool[k++] = (struct MHD_OptionItem){
		    MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL };
	pool[k] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;

	errno = 0;
	/* The port argument only names the port in libmicrohttpd's logs. */
	api->mhd = MHD_start_daemon(flags, api->port, NULL, NULL,
	    api_handle, api,
	    /* First, or libmicrohttpd complains on stderr about it. */
	    MHD_OPTION_EXTERNAL_LOGGER, api_mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
	    MHD_OPTION_ARRAY, pool,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)API_CONNECTIONS_MAX,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)API_PER_IP_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)API_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_MEMORY_LIMIT,
	    MHD_OPTION_UNESCAPE_CALLBACK, api_unescape, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, api_completed, NULL,
	    MHD_OPTION_END);
	if (api->mhd == NULL) {
		api_cause(cause, "cannot listen on %s: %s", api->listen,
		    errno != 0 ? strerror(errno) : "libmicrohttpd failed");
		return (-1);
	}

	info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_BIND_PORT);
	if (info != NULL && info->port != 0)
		api->port = info->port;
	return (0);
}

/* Frees whatever api_start got as far as making. */
static void
api_free(struct api *api)
{
	size_t	i;

	if (api->mhd != NULL)
		MHD_stop_daemon(api->mhd);
	for (i = 0; i < api->nreaders; i++)
		store_close(api->readers[i]);
	if (api->lock_ready) {
		pthread_cond_destroy(&api->idle_cond);
		pthread_mutex_destroy(&api->lock);
	}
	free(api->readers);
	free(api->idle);
	free(api->deadlines);
	free(api->token);
	free(api->tls_cert);
	free(api->tls_key);
	free(api);
}

/*
 * Binds, opens the readers and starts the workers.  Returns 0 and sets
 * *out, or -1 with *cause set (malloc'd; the caller frees it) and
 * nothing left running.
 */
/* Copies the token and the TLS key pair; -1 when TLS cannot be had. */
static int
api_secrets(struct api *api, const struct api_config *cfg, char **cause)
{
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
		api_cause(cause, "TLS needs both a certificate and a key");
		return (-1);
	}
	if (cfg->tls_cert != NULL &&
	    MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		api_cause(cause, "this libmicrohttpd was built without TLS");
		return (-1);
	}
	if ((cfg->token != NULL &&
	    (api->token = strdup(cfg->token)) == NULL) ||
	    (cfg->tls_cert != NULL &&
	    ((api->tls_cert = strdup(cfg->tls_cert)) == NULL ||
	    (api->tls_key = strdup(cfg->tls_key)) == NULL))) {
		api_cause(cause, "out of memory");
		return (-1);
	}
	return (0);
}

int
api_start(const struct api_config *cfg, struct api **out, char **cause)
{
	struct sockaddr_storage	 ss;
	struct api		*api;
	unsigned		 threads;

	threads = cfg->threads != 0 ? cfg->threads : API_THREADS_DEFAULT;
	if (api_resolve(cfg->host, cfg->port, &ss, cause) != 0)
		return (-1);
	if ((api = calloc(1, sizeof *api)) == NULL) {
		api_cause(cause, "out of memory");
		return (-1);
	}
	api->port = cfg->port;
	api->writer = cfg->writer;
	api->alerts = cfg->alerts;
	api->deliver = cfg->deliver;
	if (api_secrets(api, cfg, cause) != 0)
		goto fail;
	api->push_enabled = cfg->push_enabled;
	api->query_timeout_ms = cfg->query_timeout_ms > 0 ?
	    cfg->query_timeout_ms : API_QUERY_TIMEOUT_MS;
	api->push_max_body = cfg->push_max_body > 0 ?
	    (size_t)cfg->push_max_body : API_BODY_MAX;
	api_format_addr((struct sockaddr *)&ss, api->listen,
	    sizeof api->listen);

	if (pthread_mutex_init(&api->lock, NULL) != 0 ||
	    pthread_cond_init(&api->idle_cond, NULL) != 0) {
		api_cause(cause, "cannot create the reader pool lock");
		goto fail;
	}
	api->lock_ready = 1;
	if (api_readers_open(api, cfg->db_path, threads, cause) != 0 ||
	    api_listen(api, &ss, threads, cause) != 0)
		goto fail;

	/* Name the port bound, which differs from the one asked for 0. */
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(api->port);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons(api->port);
	api_format_addr((struct sockaddr *)&ss, api->listen,
	    sizeof api->listen);
	log_msg(LOG_INFO, "api: listening listen=%s threads=%u", api->listen,
	    threads);
	*out = api;
	return (0);

fail:
	api_free(api);
	return (-1);
}

/* The bound port; valid from api_start until api_stop. */
uint16_t
api_port(const struct api *api)
{
	return (api->port);
}

/*
 * Stops accepting, lets libmicrohttpd finish the requests in flight and
 * join its threads, then closes the readers and frees api.
 */
void
api_stop(struct api *api)
{
	char	listen[sizeof api->listen];

	if (api == NULL)
		return;
	memcpy(listen, api->listen, sizeof listen);
	api_free(api);
	log_msg(LOG_INFO, "api: stopped listen=%s", listen);
}
