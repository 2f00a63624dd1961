/*
 * config.c - reading the INI configuration file with inih.
 *
 * This module owns the names of sections and keys and the checks on their
 * values; it does not act on them.  An unknown section or key is an error,
 * so that a typo is caught at start rather than silently ignored.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "config.h"

struct load_ctx {
	struct config *cfg;
	char *error;			/* first problem found, malloc'd */
};

static void
set_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
}

int
config_set(char **field, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

int
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	if (config_set(&cfg->listen, CONFIG_DEFAULT_LISTEN) == -1 ||
	    config_set(&cfg->db, CONFIG_DEFAULT_DB) == -1 ||
	    config_set(&cfg->log_level, "info") == -1) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

void
config_free(struct config *cfg)
{
	free(cfg->listen);
	free(cfg->db);
	free(cfg->log_level);
	memset(cfg, 0, sizeof *cfg);
}

/* The field a section and key name, or NULL when there is none. */
static char **
field_of(struct config *cfg, const char *section, const char *key)
{
	if (strcmp(section, "server") == 0 && strcmp(key, "listen") == 0)
		return &cfg->listen;
	if (strcmp(section, "server") == 0 && strcmp(key, "log_level") == 0)
		return &cfg->log_level;
	if (strcmp(section, "storage") == 0 && strcmp(key, "db") == 0)
		return &cfg->db;
	return NULL;
}

/* inih calls this per key; returning 0 stops with that line's number. */
static int
on_key(void *user, const char *section, const char *key, const char *value)
{
	struct load_ctx *c = user;
	char **field = field_of(c->cfg, section, key);

	if (field == NULL) {
		set_cause(&c->error, "unknown key \"%s\" in section [%s]",
		    key, section);
		return 0;
	}
	if (value[0] == '\0') {
		set_cause(&c->error, "[%s] %s is empty", section, key);
		return 0;
	}
	if (config_set(field, value) == -1) {
		set_cause(&c->error, "out of memory");
		return 0;
	}
	return 1;
}

int
config_load(struct config *cfg, const char *path, char **cause)
{
	struct load_ctx c = { cfg, NULL };
	int line;

	line = ini_parse(path, on_key, &c);
	if (line == -1)
		set_cause(cause, "%s: cannot open: %s", path, strerror(errno));
	else if (line == -2)
		set_cause(cause, "%s: out of memory", path);
	else if (line > 0)
		set_cause(cause, "%s:%d: %s", path, line,
		    c.error != NULL ? c.error : "syntax error");
	free(c.error);
	return line == 0 ? 0 : -1;
}

int
config_parse_listen(const char *listen, char **host, uint16_t *port,
    char **cause)
{
	const char *colon = strrchr(listen, ':'), *h = listen;
	size_t hlen;
	char *end;
	long p;

	*host = NULL;
	if (colon == NULL || colon == listen)
		goto bad;
	hlen = (size_t)(colon - listen);
	if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || p < 0 ||
	    p > 65535 || hlen == 0)
		goto bad;
	if ((*host = strndup(h, hlen)) == NULL) {
		set_cause(cause, "out of memory");
		return -1;
	}
	*port = (uint16_t)p;
	return 0;

bad:
	set_cause(cause, "listen address \"%s\" is not HOST:PORT "
	    "(e.g. 127.0.0.1:8080 or [::1]:8080)", listen);
	return -1;
}
