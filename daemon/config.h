/*
 * config.h - the daemon's configuration file: INI, read with inih.
 *
 *	[server]
 *	listen = 127.0.0.1:8080
 *	[storage]
 *	db = /var/lib/kmswatch/kmswatch.db
 *
 * Section and key names are part of the interface.  Command-line options
 * override what the file says.
 */
#ifndef KMSWATCH_CONFIG_H
#define KMSWATCH_CONFIG_H

#include <stdint.h>

#define CONFIG_DEFAULT_LISTEN "127.0.0.1:8080"
#define CONFIG_DEFAULT_DB "kmswatch.db"

struct config {
	char *listen;			/* HOST:PORT */
	char *db;			/* database path */
	char *log_level;		/* error, warning, info, debug */
};

/* Fills cfg with the defaults.  Returns -1 when out of memory. */
int config_defaults(struct config *cfg);

/*
 * Reads path over the values already in cfg.  Returns 0, or -1 with
 * *cause naming the file, the line and what is wrong there.
 */
int config_load(struct config *cfg, const char *path, char **cause);

/* Replaces *field with a copy of value.  Returns -1 when out of memory. */
int config_set(char **field, const char *value);

void config_free(struct config *cfg);

/*
 * Splits "HOST:PORT" ("[v6]:PORT" for IPv6) into a malloc'd host and a
 * port.  Returns 0, or -1 with *cause saying what is wrong.
 */
int config_parse_listen(const char *listen, char **host, uint16_t *port,
    char **cause);

#endif
