/*
 * config.h - the daemon's configuration file: INI, read with inih.
 *
 *	[server]
 *	listen = 127.0.0.1:8080
 *	[storage]
 *	db = /var/lib/kmswatch/kmswatch.db
 *	retention = 30d
 *	[source proxy]
 *	path = /var/log/kms-proxy
 *	[push]
 *	enabled = true
 *
 * Section and key names are part of the interface (examples/kmswatch.ini
 * documents each).  Command-line options override what the file says.
 * Sections read by other modules ([rule NAME], [alertmanager], [webhook])
 * are left to them.
 */
#ifndef KMSWATCH_CONFIG_H
#define KMSWATCH_CONFIG_H

#include <stdint.h>

#include "follow.h"

#define CONFIG_DEFAULT_LISTEN "127.0.0.1:8080"
#define CONFIG_DEFAULT_DB "kmswatch.db"
#define CONFIG_DEFAULT_RETENTION_MS (30LL * 86400 * 1000)
#define CONFIG_DEFAULT_ROLLUP_RETENTION_MS (400LL * 86400 * 1000)
#define CONFIG_DEFAULT_MAX_BODY (64LL << 20)

struct config {
	char *listen;			/* HOST:PORT */
	char *db;			/* database path */
	char *log_level;		/* error, warning, info, debug */
	char *token_file;		/* bearer token for the API, or NULL */
	char *tls_cert, *tls_key;	/* PEM files; both, or neither */
	int mask_output;		/* mask AccessKey IDs the API shows */
	int mask_storage;		/* mask them before storing */
	int64_t retention_ms;		/* 0 keeps records forever */
	int64_t rollup_retention_ms;
	int push_enabled;
	int64_t push_max_body;		/* bytes */
	int64_t query_timeout_ms;	/* per API request; 0: the default */
	struct follow_source *sources;
	size_t nsources;
};

/*
 * Reads a secret or PEM file whole into a malloc'd string, without a
 * trailing newline for a token.  Returns 0, or -1 with *cause naming the
 * file.
 */
int config_read_file(const char *path, int trim, char **out, char **cause);

/* Fills cfg with the defaults.  Returns -1 when out of memory. */
int config_defaults(struct config *cfg);

/*
 * Reads path over the values already in cfg.  Returns 0, or -1 with
 * *cause naming the file, the line and what is wrong there.
 */
int config_load(struct config *cfg, const char *path, char **cause);

/*
 * Adds a source given as PATH[:FORMAT] on the command line.  Returns 0,
 * or -1 with *cause.
 */
int config_add_watch(struct config *cfg, const char *spec, char **cause);

/* Replaces *field with a copy of value.  Returns -1 when out of memory. */
int config_set(char **field, const char *value);

void config_free(struct config *cfg);

/*
 * Splits "HOST:PORT" ("[v6]:PORT" for IPv6) into a malloc'd host and a
 * port.  Returns 0, or -1 with *cause saying what is wrong.
 */
int config_parse_listen(const char *listen, char **host, uint16_t *port,
    char **cause);

/* "30d", "12h", "90m", "45s", "250ms" or plain seconds, into ms; -1. */
int config_parse_duration(const char *s, int64_t *ms);

/* "64M", "512K", "1G" (powers of 1024) or plain bytes; -1 if not. */
int config_parse_size(const char *s, int64_t *bytes);

#endif
