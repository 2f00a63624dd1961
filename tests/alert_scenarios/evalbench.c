/*
 * evalbench.c - times the alert evaluator on a database (not a test; run
 * by hand).  Opens the engine with a config, then runs live evaluations at
 * successive minutes ending at AT, and backtests of one and seven days,
 * printing the time of each.  Build it against the objects of `make`:
 *
 *	cc -std=c11 -D_GNU_SOURCE -O2 -Ibuild -Iparsers -Idaemon \
 *	    $(pkg-config --cflags jansson) -o build/evalbench \
 *	    tests/alert_scenarios/evalbench.c \
 *	    $(find build/obj -name '*.o' ! -name main.o) \
 *	    $(pkg-config --libs libprotobuf-c sqlite3 libmicrohttpd jansson \
 *	    inih) -lpthread -lm
 *
 *	build/evalbench DB CONFIG AT_UNIX_SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "alerts.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
backtest(struct alerts *a, struct store *st, int64_t at_ms, int days)
{
	char *cause = NULL;
	double t0 = now_s();
	json_t *doc = alerts_json_backtest(a, st, at_ms - days * 86400000LL,
	    at_ms, &cause);

	if (doc == NULL) {
		fprintf(stderr, "backtest: %s\n", cause);
		exit(1);
	}
	printf("backtest %d day(s): %.3f s, %zu episodes\n", days,
	    now_s() - t0, json_array_size(json_object_get(doc, "episodes")));
	json_decref(doc);
}

int
main(int argc, char **argv)
{
	struct alerts_metrics m;
	struct alerts *a;
	struct store *st;
	char *cause = NULL;
	int64_t at_ms;
	double t0, sum = 0, worst = 0;
	int i, n = 30;

	if (argc != 4)
		return 2;
	at_ms = strtoll(argv[3], NULL, 10) * 1000;
	t0 = now_s();
	if (alerts_open(argv[1], argv[2], &a, &cause) == -1 ||
	    store_open(argv[1], STORE_READ, &st, &cause) == -1) {
		fprintf(stderr, "open: %s\n", cause);
		return 1;
	}
	printf("open: %.3f s\n", now_s() - t0);
	for (i = 0; i < n; i++) {
		t0 = now_s();
		if (alerts_evaluate(a, at_ms - (n - 1 - i) * 60000LL, &cause)) {
			fprintf(stderr, "evaluate: %s\n", cause);
			return 1;
		}
		alerts_metrics(a, &m);
		if (i == 0)
			printf("first evaluation: %.3f s (%zu rules)\n",
			    m.last_duration_s, m.rules);
		else {
			sum += m.last_duration_s;
			if (m.last_duration_s > worst)
				worst = m.last_duration_s;
		}
	}
	printf("evaluation: mean %.1f ms, worst %.1f ms over %d passes; "
	    "firing %lld pending %lld\n", sum / (n - 1) * 1000, worst * 1000,
	    n - 1, (long long)m.firing, (long long)m.pending);
	backtest(a, st, at_ms, 1);
	backtest(a, st, at_ms, 7);
	store_close(st);
	alerts_stop(a);
	return 0;
}
