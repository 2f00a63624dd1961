/*
 * api.h - the HTTP JSON API and the static pages, served by libmicrohttpd.
 *
 * The API reads through the store's query functions, on reader handles of
 * its own.  The one write it takes, a push, it hands to the daemon's
 * writer (follow.h) and waits for.
 */
#ifndef KMSWATCH_API_H
#define KMSWATCH_API_H

#include <stdint.h>

struct alerts;
struct deliver;
struct follow;

struct api;

/* How long one request's queries may run, unless configured. */
#define API_QUERY_TIMEOUT_MS	5000

struct api_config {
	const char *host;		/* address to bind, e.g. "127.0.0.1" */
	uint16_t port;			/* 0 picks a free port */
	const char *db_path;		/* the database to read */
	unsigned threads;		/* worker threads; 0 means 2 */
	struct follow *writer;		/* stores pushes; NULL: none */
	int push_enabled;		/* POST /api/v1/ingest answers */
	int64_t push_max_body;		/* bytes; larger bodies get 413 */
	const char *token;		/* bearer token asked of callers */
	const char *tls_cert;		/* PEM text: serve HTTPS when set */
	const char *tls_key;
	struct alerts *alerts;		/* the alert engine, or NULL */
	struct deliver *deliver;	/* alert delivery, or NULL */
	int64_t query_timeout_ms;	/* per request; 0 means the default */
};

/*
 * Starts serving in background threads.  Returns 0 and sets *out, or -1
 * with *cause set (malloc'd; the caller frees it).
 */
int api_start(const struct api_config *cfg, struct api **out, char **cause);

/* The port actually bound (useful when cfg->port was 0). */
uint16_t api_port(const struct api *api);

/* Stops accepting, waits for requests in flight, frees everything. */
void api_stop(struct api *api);

#endif
