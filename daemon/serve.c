/*
 * serve.c - `kmswatch serve`: options and config, then the writer thread
 * (follow.c) and the HTTP API (api.c), then signals until the stop.
 *
 * The main thread only waits for signals: SIGINT and SIGTERM stop the
 * daemon (the API first, so no push is left half-done, then the writer,
 * which finishes its batch), SIGHUP reloads the followed sources from the
 * config file without losing any file's position.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "api.h"
#include "config.h"
#include "deliver.h"
#include "follow.h"
#include "log.h"
#include "render.h"
#include "serve.h"

enum { SERVE_USAGE = 2, SERVE_FAIL = 3 };

#define SERVE_WATCH_MAX 64

static const char serve_help[] =
"Usage: kmswatch serve [OPTIONS]\n"
"Follow the configured sources and serve the JSON API, in the foreground,\n"
"until SIGINT or SIGTERM.  SIGHUP reloads the sources from the config.\n"
"\n"
"  --config FILE          INI file; see examples/kmswatch.ini\n"
"  --db FILE              database (default " CONFIG_DEFAULT_DB ")\n"
"  --listen HOST:PORT     address to listen on (default "
    CONFIG_DEFAULT_LISTEN ")\n"
"  --watch PATH[:FORMAT]  follow a file, glob or directory (repeatable);\n"
"                         FORMAT is pb, http, har, jsonl or sdklog\n"
"  --token-file FILE      ask API callers for this bearer token\n"
"  --insecure-listen      allow a non-loopback address without a token\n"
"  --retention DURATION   delete records older than this (30d, 12h; 0\n"
"                         keeps them all; default 30d)\n"
"  --log-level LEVEL      error, warning, info or debug (default info)\n"
"\n"
"Options given on the command line override the config file.  Listening\n"
"beyond loopback needs a token (or --insecure-listen); with [server]\n"
"tls_cert and tls_key the API speaks HTTPS.\n";

struct serve_opts {
	const char *config, *db, *listen, *level, *retention, *token_file;
	int insecure;
	const char *watch[SERVE_WATCH_MAX];
	int nwatch;
};

static int
usage(const char *msg)
{
	fprintf(stderr, "kmswatch serve: %s\nTry 'kmswatch serve --help'.\n",
	    msg);
	return SERVE_USAGE;
}

static int
parse_opts(int argc, char **argv, struct serve_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "watch", required_argument, NULL, 'w' },
		{ "log-level", required_argument, NULL, 'v' },
		{ "retention", required_argument, NULL, 'r' },
		{ "token-file", required_argument, NULL, 't' },
		{ "insecure-listen", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'd': o->db = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'v': o->level = optarg; break;
		case 'r': o->retention = optarg; break;
		case 't': o->token_file = optarg; break;
		case 'i': o->insecure = 1; break;
		case 'w':
			if (o->nwatch == SERVE_WATCH_MAX)
				return usage("too many --watch options");
			o->watch[o->nwatch++] = optarg;
			break;
		case 'h': fputs(serve_help, stdout); exit(0);
		default: return usage("unknown option");
		}
	}
	if (optind != argc)
		return usage("unexpected argument");
	return 0;
}

/*
 * Builds the configuration: defaults, then the file, then the command
 * line.  Also what SIGHUP does, for the sources.
 */
static int
load_config(const struct serve_opts *o, struct config *cfg, char **cause)
{
	int i;

	if (config_defaults(cfg) == -1)
		goto nomem;
	if (o->config != NULL && config_load(cfg, o->config, cause) == -1)
		return -1;
	for (i = 0; i < o->nwatch; i++) {
		if (config_add_watch(cfg, o->watch[i], cause) == -1)
			return -1;
	}
	if (o->retention != NULL &&
	    config_parse_duration(o->retention, &cfg->retention_ms) == -1) {
		if (cause != NULL && asprintf(cause, "--retention \"%s\" is "
		    "not a duration (30d, 12h, 90m, 45s, 0)", o->retention) == -1)
			*cause = NULL;
		return -1;
	}
	if ((o->token_file != NULL &&
	    config_set(&cfg->token_file, o->token_file) == -1) ||
	    (o->db != NULL && config_set(&cfg->db, o->db) == -1) ||
	    (o->listen != NULL && config_set(&cfg->listen, o->listen) == -1) ||
	    (o->level != NULL && config_set(&cfg->log_level, o->level) == -1))
		goto nomem;
	return 0;

nomem:
	if (cause != NULL)
		*cause = strdup("out of memory");
	return -1;
}

static void
reload(const struct serve_opts *o, struct follow *fw)
{
	struct config cfg;
	char *cause = NULL;

	if (load_config(o, &cfg, &cause) == -1) {
		log_msg(LOG_ERROR, "serve: reload refused, keeping the old "
		    "sources: %s", cause != NULL ? cause : "out of memory");
		free(cause);
	} else if (follow_reload(fw, cfg.sources, cfg.nsources) == -1)
		log_msg(LOG_ERROR, "serve: reload failed: out of memory");
	else
		log_msg(LOG_INFO, "serve: reloaded sources=%zu", cfg.nsources);
	config_free(&cfg);
}

/* Waits for signals; returns the one that stops the daemon. */
static int
wait_signals(const sigset_t *set, const struct serve_opts *o,
    struct follow *fw)
{
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			return sig;
		reload(o, fw);
	}
}

/* The token and TLS files, read once at start. */
struct secrets {
	char *token, *cert, *key;
};

static void
secrets_free(struct secrets *sc)
{
	free(sc->token);
	free(sc->cert);
	free(sc->key);
}

static int
secrets_read(const struct config *cfg, struct secrets *sc, char **cause)
{
	memset(sc, 0, sizeof *sc);
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
		if (cause != NULL)
			*cause = strdup("[server] tls_cert and tls_key go "
			    "together");
		return -1;
	}
	if ((cfg->token_file != NULL &&
	    config_read_file(cfg->token_file, 1, &sc->token, cause) == -1) ||
	    (cfg->tls_cert != NULL &&
	    config_read_file(cfg->tls_cert, 0, &sc->cert, cause) == -1) ||
	    (cfg->tls_key != NULL &&
	    config_read_file(cfg->tls_key, 0, &sc->key, cause) == -1)) {
		secrets_free(sc);
		return -1;
	}
	return 0;
}

/* 127.0.0.0/8, ::1 and localhost. */
static int
is_loopback(const char *host)
{
	return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
	    strcmp(host, "localhost") == 0;
}

/* The running parts, started in this order and stopped in reverse. */
struct parts {
	struct follow *fw;
	struct alerts *alerts;
	struct deliver *deliver;
	struct api *api;
};

static void
stop(struct parts *p)
{
	/* The API first, so that no request is left waiting on the rest. */
	if (p->api != NULL)
		api_stop(p->api);
	deliver_stop(p->deliver);
	alerts_stop(p->alerts);
	if (p->fw != NULL)
		follow_stop(p->fw);
	memset(p, 0, sizeof *p);
}

static int
start(const struct serve_opts *o, const struct config *cfg,
    const struct secrets *sc, const char *host, uint16_t port,
    struct parts *p)
{
	struct follow_config fc = { cfg->db, cfg->sources, cfg->nsources,
	    cfg->retention_ms, cfg->rollup_retention_ms };
	struct api_config ac = { host, port, cfg->db, 0, NULL, 0, 0,
	    sc->token, sc->cert, sc->key, NULL, NULL, 0 };
	struct follow **fw = &p->fw;
	struct api **api = &p->api;
	struct timespec t0;
	int64_t since_ms;					/* deliver */
	char *cause = NULL;

	clock_gettime(CLOCK_REALTIME, &t0);
	since_ms = (int64_t)t0.tv_sec * 1000 + t0.tv_nsec / 1000000;

	if (follow_start(&fc, fw, &cause) == -1) {
		log_msg(LOG_ERROR, "serve: cannot open db=%s: %s", cfg->db,
		    cause != NULL ? cause : "out of memory");
		free(cause);
		return -1;
	}
	log_msg(LOG_INFO, "serve: writer started db=%s sources=%zu", cfg->db,
	    cfg->nsources);
	/* Bad rules stop the start: a daemon that cannot alert must say so. */
	if (alerts_start(cfg->db, o->config, &p->alerts, &cause) == -1) {
		log_msg(LOG_ERROR, "serve: cannot start the alert rules: %s",
		    cause != NULL ? cause : "out of memory");
		free(cause);
		stop(p);
		return -1;
	}
	if (deliver_start(o->config, cfg->db, cfg->listen, since_ms,
	    p->alerts, &p->deliver, &cause) == -1) {
		log_msg(LOG_ERROR, "serve: cannot start alert delivery: %s",
		    cause != NULL ? cause : "out of memory");
		free(cause);
		stop(p);
		return -1;
	}
	ac.alerts = p->alerts;
	ac.deliver = p->deliver;
	ac.writer = *fw;
	ac.push_enabled = cfg->push_enabled;
	ac.push_max_body = cfg->push_max_body;
	ac.query_timeout_ms = cfg->query_timeout_ms;
	if (api_start(&ac, api, &cause) == -1) {
		log_msg(LOG_ERROR, "serve: cannot start the API listen=%s: %s",
		    cfg->listen, cause != NULL ? cause : "out of memory");
		free(cause);
		stop(p);
		return -1;
	}
	return 0;
}

int
serve_main(int argc, char **argv)
{
	struct serve_opts o;
	struct config cfg;
	struct parts parts = { NULL, NULL, NULL, NULL };
	struct secrets sc = { NULL, NULL, NULL };
	enum log_level level;
	char *host = NULL, *cause = NULL;
	uint16_t port;
	sigset_t set;
	int rc;

	memset(&o, 0, sizeof o);
	memset(&cfg, 0, sizeof cfg);
	if ((rc = parse_opts(argc, argv, &o)) != 0)
		return rc;
	rc = SERVE_USAGE;
	if (load_config(&o, &cfg, &cause) == -1) {
		fprintf(stderr, "kmswatch serve: %s\n",
		    cause != NULL ? cause : "out of memory");
		goto out;
	}
	if (log_parse_level(cfg.log_level, &level) == -1) {
		fprintf(stderr, "kmswatch serve: unknown log level \"%s\"\n",
		    cfg.log_level);
		goto out;
	}
	log_set_level(level);
	if (config_parse_listen(cfg.listen, &host, &port, &cause) == -1) {
		rc = usage(cause);
		goto out;
	}
	if (secrets_read(&cfg, &sc, &cause) == -1) {
		fprintf(stderr, "kmswatch serve: %s\n", cause != NULL ? cause :
		    "out of memory");
		goto out;
	}
	if (!is_loopback(host) && sc.token == NULL && !o.insecure) {
		fprintf(stderr, "kmswatch serve: listening on %s, beyond "
		    "loopback, needs a token ([server] token_file or "
		    "--token-file) or --insecure-listen\n", cfg.listen);
		goto out;
	}
	render_set_mask(cfg.mask_output);
	ingest_set_mask(cfg.mask_storage);

	/* Block the signals before any thread starts, so that all inherit. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = SERVE_FAIL;
	if (start(&o, &cfg, &sc, host, port, &parts) == -1)
		goto out;
	log_msg(LOG_INFO, "serve: stopping signal=%s",
	    strsignal(wait_signals(&set, &o, parts.fw)));
	stop(&parts);
	log_msg(LOG_INFO, "serve: stopped");
	rc = 0;

out:
	free(cause);
	free(host);
	secrets_free(&sc);
	config_free(&cfg);
	return rc;
}
