/*
 * api_int.h - what the endpoint files (api_*.c) share with api.c: the
 * request being answered and the helpers that read its parameters and
 * set its answer.  Internal to the HTTP layer.
 *
 * Every endpoint has the shape of api_endpoint: it reads the request,
 * sets r->body (a JSON answer) and returns 0, or returns api_fail(...),
 * which sets an error body and returns -1.
 */
#ifndef KMSWATCH_API_INT_H
#define KMSWATCH_API_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "store.h"

#define API_ARGS_MAX		16	/* query parameters in one request */
#define API_ID_MAX		128	/* bytes of a RequestId */

/* Bytes of a client's value echoed in a message or a log line. */
#define API_QUOTE_BYTES		64
#define API_QUOTE_LEN		(API_QUOTE_BYTES * 4 + 8)

#define MINUTE_MS		INT64_C(60000)
#define HOUR_MS			(60 * MINUTE_MS)

/* The latest time accepted; keeps rounding and spans from overflowing. */
#define API_TIME_MAX		(INT64_MAX / 2)

struct api;

struct api_arg {
	const char	*key;
	const char	*value;		/* "" when given without '=' */
};

/* One request, for the span of one handler call. */
struct api_req {
	struct api		*api;
	struct MHD_Connection	*conn;
	const char		*method;
	const char		*url;
	struct timespec		 start;

	struct api_arg		 args[API_ARGS_MAX];
	size_t			 nargs;
	int			 args_overflow;

	const uint8_t		*in;		/* the request body, or NULL */
	size_t			 in_len;

	unsigned		 status;
	json_t			*body;
	char			*text;		/* a non-JSON answer, or NULL */
	size_t			 text_len;
	const char		*text_type;
	const char		*allow;		/* Allow header, for a 405 */
	int			 www_auth;	/* a 401: say how to log in */
	unsigned		 retry_after;	/* seconds, or 0: no header */
	char			 peer[64];
};

typedef int (*api_endpoint)(struct api_req *, struct store *,
    const char *);

/* The API's writer (NULL when none) and push settings. */
struct follow *api_writer(const struct api *api);
/* The alert engine, or NULL when none runs. */
struct alerts *api_alerts(const struct api *api);
/* Alert delivery, or NULL when none is configured. */
struct deliver *api_deliver(const struct api *api);
int api_push_enabled(const struct api *api);

/* A request header, or NULL. */
const char *api_header(struct api_req *r, const char *name);

/* Quotes and escapes client bytes for a message or a log line. */
const char *api_quote(const char *s, char out[API_QUOTE_LEN]);
const char *api_peer(struct api_req *r);
int64_t api_now_ms(void);
int64_t api_floor(int64_t ms, int64_t unit);
int64_t api_ceil(int64_t ms, int64_t unit);

/* Sets an error answer; always returns -1. */
int api_fail(struct api_req *r, unsigned status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A store query failed: logs the cause, answers 500; returns -1. */
int api_fail_store(struct api_req *r, const char *query, char *cause);
/* Ends an endpoint whose r->body was just set (NULL: out of memory). */
int api_done(struct api_req *r);
struct textbuf;
/*
 * Ends an endpoint whose JSON was written into t (textbuf.h), taking its
 * buffer; answers 500 when writing it ran out of memory.
 */
int api_done_text(struct api_req *r, struct textbuf *t);

/* Query parameters.  Each returns 0, or -1 after answering 400. */
const char *api_arg(const struct api_req *r, const char *name);
int api_arg_int(struct api_req *r, const char *name, int64_t min,
    int64_t max, int64_t def, int64_t *out);
int api_arg_filter(struct api_req *r, const char *name, const char **out);
/* *ms is -1 when the parameter is absent. */
int api_arg_time(struct api_req *r, const char *name, int64_t *ms);

/* 1 when id is a well-formed RequestId. */
int api_valid_id(const char *id);

/* Endpoints that live in files of their own. */
int api_push_ingest(struct api_req *r, struct store *st, const char *rest);
int api_push_lookup(struct api_req *r, struct store *st, const char *rest);
/* Adds "context" (errors of row's code and API around it) to rec. */
int api_push_context(struct store *st, const struct store_row *row,
    json_t *rec, char **cause);
int api_metrics_get(struct api_req *r, struct store *st, const char *rest);
int api_alerts_get(struct api_req *r, struct store *st, const char *rest);
int api_alerts_backtest(struct api_req *r, struct store *st,
    const char *rest);

#endif
