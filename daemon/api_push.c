/*
 * api_push.c - the endpoints that take a request body:
 *
 *	POST /api/v1/ingest		a capture or one record, pushed
 *	POST /api/v1/requests/lookup	many RequestIds, with context
 *
 * A push is decoded here only when it is one protobuf record (its time and
 * API come from the headers the KMS response carried); anything else is
 * handed to the writer as bytes with a format, and parsed there.  Either
 * way the writer stores it and this thread waits for the tally.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_int.h"
#include "follow.h"
#include "pb.h"
#include "render.h"
#include "timefmt.h"

#define LOOKUP_IDS_MAX		100	/* RequestIds in one lookup */
#define LOOKUP_CONTEXT_MAX	20	/* records of context per id */
#define LOOKUP_CONTEXT_MS	(5 * MINUTE_MS)
#define PUSH_FULL_RETRY_S	5	/* Retry-After while the disk is full */

/*
 * Content types a push may carry, and the format each means ("" when the
 * format is detected from the body).
 */
static const struct {
	const char *type;
	const char *format;
} push_types[] = {
	{ "application/x-ndjson", "jsonl" },
	{ "application/jsonl", "jsonl" },
	{ "application/x-jsonlines", "jsonl" },
	{ "application/json", "" },		/* har or jsonl */
	{ "message/http", "http" },
	{ "application/http", "http" },
	{ "text/plain", "" },
	{ "application/octet-stream", "" },
	{ "application/vnd.kmswatch.pb-stream", "pb" },
};

/* 1 when the Content-Type (parameters ignored) is type. */
static int
type_is(const char *ctype, const char *type)
{
	size_t n = strlen(type);

	return (strncasecmp(ctype, type, n) == 0 &&
	    (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' '));
}

static int
push_answer(struct api_req *r, int rc, char *cause,
    struct ingest_tally *tally)
{
	if (rc == -1 && follow_full(api_writer(r->api))) {
		/* The writer logged the pause once; no line per push. */
		ingest_tally_clear(tally);
		free(cause);
		r->retry_after = PUSH_FULL_RETRY_S;
		return (api_fail(r, MHD_HTTP_INSUFFICIENT_STORAGE, "disk_full",
		    "the database's disk is full; nothing of this push was "
		    "stored; retry after %d s", PUSH_FULL_RETRY_S));
	}
	if (rc == -1) {
		ingest_tally_clear(tally);
		return (api_fail_store(r, "ingest", cause));
	}
	r->body = render_tally(tally);
	ingest_tally_clear(tally);
	return (api_done(r));
}

/* Status of a single pushed record: ?status=, else the body's. */
static int
push_status(struct api_req *r, int body_status, int *status)
{
	int64_t	v;

	if (api_arg_int(r, "status", 100, 599, body_status, &v) != 0)
		return (-1);
	*status = (int)v;
	return (0);
}

/*
 * One Error body, as a KMS response carries it: the time is the Date
 * header, the API the x-kms-apiname header.
 */
static int
push_one(struct api_req *r, const char *source)
{
	struct ingest_tally	 tally;
	struct pb_scratch	*scratch = NULL;
	struct record		 rec;
	struct reject		 rej;
	const char		*date, *api;
	char			*cause = NULL, q[API_QUOTE_LEN];
	int			 ok, rc;

	memset(&tally, 0, sizeof tally);
	memset(&rec, 0, sizeof rec);
	rec.time_ms = RECORD_TIME_UNKNOWN;
	date = api_header(r, "Date");
	if (date != NULL && timefmt_parse_rfc1123(date, strlen(date),
	    &rec.time_ms) != 0)
		return (api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_parameter",
		    "header Date must be RFC 1123 (Mon, 02 Jan 2006 "
		    "15:04:05 GMT), got %s", api_quote(date, q)));
	ok = pb_decode_error(r->in, r->in_len, &rec, &rej, &scratch) == 0;
	if (ok && push_status(r, rec.status, &rec.status) != 0) {
		pb_scratch_free(scratch);
		return (-1);
	}
	api = api_header(r, "x-kms-apiname");
	rec.api = api != NULL && api[0] != '\0' ? api : NULL;
	rec.offset = 0;
	rc = follow_push_record(api_writer(r->api), source, ok ? &rec : NULL,
	    ok ? NULL : &rej, &tally, &cause);
	pb_scratch_free(scratch);
	return (push_answer(r, rc, cause, &tally));
}

/* The format a push names by ?format= or Content-Type; -1 if none. */
static int
push_format(struct api_req *r, int *single, enum format *fmt)
{
	const char	*name = api_arg(r, "format"), *ctype;
	char		 q[API_QUOTE_LEN];
	size_t		 i;

	*single = 0;
	if (name != NULL) {
		if ((*fmt = format_from_name(name)) != FORMAT_UNKNOWN)
			return (0);
		return (api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_parameter",
		    "parameter \"format\" must be pb, http, har, jsonl or "
		    "sdklog, got %s", api_quote(name, q)));
	}
	ctype = api_header(r, "Content-Type");
	if (ctype == NULL)
		ctype = "application/octet-stream";
	if (type_is(ctype, "application/x-protobuf")) {
		*single = 1;
		return (0);
	}
	for (i = 0; i < sizeof push_types / sizeof push_types[0]; i++) {
		if (type_is(ctype, push_types[i].type)) {
			*fmt = format_from_name(push_types[i].format);
			return (0);
		}
	}
	return (api_fail(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
	    "unsupported_media_type", "Content-Type %s is not one kmswatch "
	    "reads; use application/x-protobuf for one record, or name the "
	    "format with ?format=", api_quote(ctype, q)));
}

/* POST /api/v1/ingest */
int
api_push_ingest(struct api_req *r, struct store *st, const char *rest)
{
	struct ingest_tally	 tally;
	const char		*source = api_arg(r, "source");
	enum format		 fmt = FORMAT_UNKNOWN;
	char			*cause = NULL;
	int			 single, rc;

	(void)st;
	(void)rest;
	if (!api_push_enabled(r->api) || api_writer(r->api) == NULL)
		return (api_fail(r, MHD_HTTP_FORBIDDEN, "push_disabled",
		    "pushing is off; enable it with [push] enabled = true "
		    "in the config file"));
	if (source == NULL)
		source = "push";
	if (push_format(r, &single, &fmt) != 0)
		return (-1);
	if (single)
		return (push_one(r, source));
	if (fmt == FORMAT_UNKNOWN && r->in_len > 0 &&
	    (fmt = format_detect(r->in, r->in_len)) == FORMAT_UNKNOWN)
		return (api_fail(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "unsupported_media_type", "cannot tell the body's format "
		    "from its first bytes; name it with ?format="));

	memset(&tally, 0, sizeof tally);
	rc = follow_push(api_writer(r->api), source, fmt, r->in, r->in_len,
	    &tally, &cause);
	return (push_answer(r, rc, cause, &tally));
}

/* 1 when c may be part of a RequestId. */
static int
id_char(int c)
{
	return (isalnum(c) || c == '-' || c == '_' || c == '.');
}

/*
 * Finds RequestIds in pasted text: runs of id characters, 8 to
 * API_ID_MAX long, holding a digit and a '-' (as UUIDs do), so that the
 * words of a ticket line are not taken for ids.
 */
static int
ids_from_text(const char *text, json_t *ids)
{
	const char	*p = text, *start;
	char		 id[API_ID_MAX + 1];
	size_t		 n;

	while (*p != '\0' && json_array_size(ids) < LOOKUP_IDS_MAX) {
		while (*p != '\0' && !id_char((unsigned char)*p))
			p++;
		for (start = p; id_char((unsigned char)*p); p++)
			;
		n = (size_t)(p - start);
		while (n > 0 && start[n - 1] == '.')
			n--;
		if (n < 8 || n > API_ID_MAX)
			continue;
		memcpy(id, start, n);
		id[n] = '\0';
		if (strchr(id, '-') != NULL &&
		    strpbrk(id, "0123456789") != NULL)
			json_array_append_new(ids, json_string(id));
	}
	return (0);
}

/* Other errors of the same code and API in the minutes around row. */
static json_t *
context_of(struct store *st, const struct store_row *row, char **cause)
{
	struct store_errors_query	 q;
	struct store_row		*rows;
	int64_t				 next;
	size_t				 i, n;
	json_t				*list;

	memset(&q, 0, sizeof q);
	q.code = row->code;
	q.api = row->api;
	q.from_ms = row->time_ms - LOOKUP_CONTEXT_MS;
	q.to_ms = row->time_ms + LOOKUP_CONTEXT_MS;
	q.limit = LOOKUP_CONTEXT_MAX + 1;
	if (store_errors(st, &q, &rows, &n, &next, cause) != 0)
		return (NULL);
	list = json_array();
	for (i = 0; list != NULL && i < n; i++) {
		if (rows[i].id != row->id &&
		    json_array_size(list) < LOOKUP_CONTEXT_MAX)
			json_array_append_new(list, render_row(&rows[i]));
	}
	store_rows_free(rows, n);
	return (list);
}

int
api_push_context(struct store *st, const struct store_row *row,
    json_t *rec, char **cause)
{
	json_t	*ctx;

	if ((ctx = context_of(st, row, cause)) == NULL)
		return (-1);
	/* json_object_set_new steals ctx, even when it fails. */
	return (json_object_set_new(rec, "context", ctx));
}

/* One result: {"request_id","found","record","context"}. */
static int
lookup_one(struct store *st, const char *id, int context, json_t *results,
    char **cause)
{
	struct store_row	 row;
	json_t			*res, *ctx = NULL;
	int			 rc;

	memset(&row, 0, sizeof row);
	if (!api_valid_id(id))
		rc = 1;
	else if ((rc = store_lookup(st, id, &row, cause)) < 0)
		return (-1);
	if (rc == 1)
		res = json_pack("{s:s,s:b}", "request_id", id, "found", 0);
	else {
		if (context && (ctx = context_of(st, &row, cause)) == NULL) {
			store_row_clear(&row);
			return (-1);
		}
		/* "o" steals the row and the context. */
		res = json_pack("{s:s,s:b,s:o,s:o*}", "request_id", id,
		    "found", 1, "record", render_row(&row), "context", ctx);
		store_row_clear(&row);
	}
	return (json_array_append_new(results, res));
}

/* The ids a lookup body names: "request_ids" and ids found in "text". */
static json_t *
lookup_ids(struct api_req *r, json_t *body)
{
	json_t		*ids = json_array(), *given, *v;
	const char	*text;
	size_t		 i;

	given = json_object_get(body, "request_ids");
	json_array_foreach(given, i, v) {
		if (!json_is_string(v) || json_array_size(ids) ==
		    LOOKUP_IDS_MAX) {
			json_decref(ids);
			api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_parameter",
			    "\"request_ids\" must be a list of at most %d "
			    "strings", LOOKUP_IDS_MAX);
			return (NULL);
		}
		json_array_append(ids, v);
	}
	if ((text = json_string_value(json_object_get(body, "text"))) != NULL)
		ids_from_text(text, ids);
	return (ids);
}

/* POST /api/v1/requests/lookup */
int
api_push_lookup(struct api_req *r, struct store *st, const char *rest)
{
	json_t		*body, *ids, *results, *v;
	json_error_t	 err;
	char		*cause = NULL;
	size_t		 i;
	int		 context;

	(void)rest;
	body = json_loadb((const char *)r->in, r->in_len, 0, &err);
	if (!json_is_object(body)) {
		json_decref(body);
		return (api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_body",
		    "the body must be a JSON object like "
		    "{\"request_ids\":[...],\"context\":true} or "
		    "{\"text\":\"...\"}"));
	}
	context = json_is_true(json_object_get(body, "context"));
	if ((ids = lookup_ids(r, body)) == NULL) {
		json_decref(body);
		return (-1);
	}
	json_decref(body);

	results = json_array();
	json_array_foreach(ids, i, v) {
		if (lookup_one(st, json_string_value(v), context, results,
		    &cause) != 0) {
			json_decref(ids);
			json_decref(results);
			return (api_fail_store(r, "lookup", cause));
		}
	}
	json_decref(ids);
	r->body = json_pack("{s:o}", "results", results);
	return (api_done(r));
}
