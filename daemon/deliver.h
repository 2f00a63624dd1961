/*
 * deliver.h - delivery of alert state changes to a generic webhook (in the
 * payload Alertmanager sends its own webhook receivers) and to Alertmanager
 * itself (POST /api/v2/alerts, as Prometheus does).
 *
 * The alert engine hands every state change to deliver_notify, which only
 * copies the alert into a bounded queue per target; a thread of the
 * deliverer's own makes the requests, with a timeout each and exponential
 * back-off on failure, so that neither the evaluator nor ingestion ever
 * waits on a receiver.  Firing alerts are re-sent to Alertmanager every
 * DELIVER_RESEND_MS so that they do not expire there.
 *
 * Every function that can fail returns -1 and, when cause is not NULL,
 * sets *cause to a malloc'd sentence saying why; the caller frees it.
 */
#ifndef KMSWATCH_DELIVER_H
#define KMSWATCH_DELIVER_H

#include <stdint.h>

struct alerts;
struct alertstate_row;

/* How often firing alerts are re-sent to Alertmanager. */
#define DELIVER_RESEND_MS	60000

/* Alertmanager forgets a firing alert not re-sent for this long. */
#define DELIVER_ENDS_AFTER_MS	(4 * DELIVER_RESEND_MS)

/* Requests waiting per target; beyond it the oldest is dropped. */
#define DELIVER_QUEUE_MAX	1000

/* Back-off after a failed request: doubles from the first to the last. */
#define DELIVER_BACKOFF_MIN_MS	1000
#define DELIVER_BACKOFF_MAX_MS	300000

/* The per-request timeout when the config names none. */
#define DELIVER_TIMEOUT_MS	10000

enum deliver_target {
	DELIVER_WEBHOOK,
	DELIVER_ALERTMANAGER,
	DELIVER_TARGETS,
};

struct deliver;

/*
 * Reads the [webhook] and [alertmanager] sections of config_path (NULL:
 * none), and when either names a url, registers deliver_notify with the
 * engine a and starts the delivery thread.  The engine's first pass may
 * run before this call, so the thread first delivers the state changes
 * stored from since_ms (wall clock) on: pass a time taken before
 * alerts_start.  db_path is read for those and for the firing alerts to
 * re-send; listen (HOST:PORT) becomes the `instance` label, with the host
 * name in place of a wildcard address.  Sets *out to NULL, and returns 0,
 * when no section names a url.  Free with deliver_stop.
 */
int deliver_start(const char *config_path, const char *db_path,
    const char *listen, int64_t since_ms, struct alerts *a,
    struct deliver **out, char **cause);

/*
 * Detaches from the engine, aborts the request in flight, drops what is
 * still queued (logging how many), and frees everything.  Call before
 * alerts_stop.  NULL is fine.
 */
void deliver_stop(struct deliver *d);

/*
 * The engine's callback (ctx is the struct deliver): queues row for every
 * target that takes it.  Pending alerts go nowhere; resolved alerts only
 * when they fired.  Never blocks beyond the queue's lock; any thread.
 */
void deliver_notify(void *ctx, const struct alertstate_row *row);

/* What /metrics reports, per target; never fails. */
struct deliver_metrics {
	int64_t sent[DELIVER_TARGETS];		/* requests answered 2xx */
	int64_t failed[DELIVER_TARGETS];	/* attempts that failed */
	int64_t retries[DELIVER_TARGETS];	/* attempts after a failure */
	int64_t dropped[DELIVER_TARGETS];	/* given up: full queue, 4xx */
	int64_t queued[DELIVER_TARGETS];	/* waiting now */
};
void deliver_metrics(struct deliver *d, struct deliver_metrics *m);

/* "webhook" or "alertmanager"; a static string. */
const char *deliver_target_name(enum deliver_target t);

#endif
