/*
 * config.c - reading the INI configuration file with inih.
 *
 * This module owns the names of sections and keys and the checks on their
 * values; it does not act on them.  An unknown section or key is an error,
 * so that a typo is caught at start rather than silently ignored; the
 * sections of the alerting module ([rule NAME], [alertmanager], [webhook])
 * are skipped here and checked there.
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
	cfg->retention_ms = CONFIG_DEFAULT_RETENTION_MS;
	cfg->rollup_retention_ms = CONFIG_DEFAULT_ROLLUP_RETENTION_MS;
	cfg->push_max_body = CONFIG_DEFAULT_MAX_BODY;
	cfg->mask_output = 1;
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
	free(cfg->token_file);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	follow_sources_free(cfg->sources, cfg->nsources);
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
	if (strcmp(section, "server") == 0 && strcmp(key, "token_file") == 0)
		return &cfg->token_file;
	if (strcmp(section, "server") == 0 && strcmp(key, "tls_cert") == 0)
		return &cfg->tls_cert;
	if (strcmp(section, "server") == 0 && strcmp(key, "tls_key") == 0)
		return &cfg->tls_key;
	return NULL;
}

int
config_parse_duration(const char *s, int64_t *ms)
{
	char *end;
	long long v;
	int64_t unit = 1000;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		unit = 1;
	else if (strcmp(end, "d") == 0)
		unit = 86400 * 1000LL;
	else if (strcmp(end, "h") == 0)
		unit = 3600 * 1000LL;
	else if (strcmp(end, "m") == 0)
		unit = 60 * 1000LL;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return -1;
	if (v > INT64_MAX / unit)
		return -1;
	*ms = v * unit;
	return 0;
}

int
config_parse_size(const char *s, int64_t *bytes)
{
	static const char *const units[] = { "", "K", "M", "G" };
	char *end;
	long long v;
	int i;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		return -1;
	for (i = 0; i < 4; i++) {
		if (strcmp(end, units[i]) == 0 ||
		    (i > 0 && end[0] == units[i][0] && strcmp(end + 1, "iB") == 0))
			break;
	}
	if (i == 4 || v > INT64_MAX >> (10 * i))
		return -1;
	*bytes = (int64_t)v << (10 * i);
	return 0;
}

static int
parse_bool(const char *s, int *out)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 ||
	    strcmp(s, "1") == 0)
		*out = 1;
	else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 ||
	    strcmp(s, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* The source named name, added when new; NULL when out of memory. */
static struct follow_source *
source_get(struct config *cfg, const char *name)
{
	struct follow_source *grown, *src;
	size_t i;

	for (i = 0; i < cfg->nsources; i++) {
		if (strcmp(cfg->sources[i].name, name) == 0)
			return &cfg->sources[i];
	}
	grown = realloc(cfg->sources, (cfg->nsources + 1) * sizeof *grown);
	if (grown == NULL)
		return NULL;
	cfg->sources = grown;
	src = &grown[cfg->nsources];
	memset(src, 0, sizeof *src);
	if ((src->name = strdup(name)) == NULL)
		return NULL;
	cfg->nsources++;
	return src;
}

static int
source_key(struct load_ctx *c, const char *name, const char *key,
    const char *value)
{
	struct follow_source *src;

	if ((src = source_get(c->cfg, name)) == NULL) {
		set_cause(&c->error, "out of memory");
		return 0;
	}
	if (strcmp(key, "path") == 0) {
		if (config_set(&src->path, value) == 0)
			return 1;
		set_cause(&c->error, "out of memory");
	} else if (strcmp(key, "format") == 0) {
		src->fmt = format_from_name(value);
		if (src->fmt != FORMAT_UNKNOWN || strcmp(value, "auto") == 0)
			return 1;
		set_cause(&c->error, "[source %s] format \"%s\" is not one "
		    "of auto, pb, http, har, jsonl, sdklog", name, value);
	} else if (strcmp(key, "start") == 0) {
		src->start_end = strcmp(value, "end") == 0;
		if (src->start_end || strcmp(value, "beginning") == 0)
			return 1;
		set_cause(&c->error, "[source %s] start must be beginning or "
		    "end, not \"%s\"", name, value);
	} else
		set_cause(&c->error, "unknown key \"%s\" in section "
		    "[source %s]", key, name);
	return 0;
}

/* The keys whose values are not plain strings. */
static int
typed_key(struct load_ctx *c, const char *section, const char *key,
    const char *value)
{
	struct config *cfg = c->cfg;
	int rc = 1;

	if (strcmp(section, "storage") == 0 && strcmp(key, "retention") == 0)
		rc = config_parse_duration(value, &cfg->retention_ms) == 0;
	else if (strcmp(section, "storage") == 0 &&
	    strcmp(key, "rollup_retention") == 0)
		rc = config_parse_duration(value,
		    &cfg->rollup_retention_ms) == 0;
	else if (strcmp(section, "push") == 0 && strcmp(key, "enabled") == 0)
		rc = parse_bool(value, &cfg->push_enabled) == 0;
	else if (strcmp(section, "push") == 0 && strcmp(key, "max_body") == 0)
		rc = config_parse_size(value, &cfg->push_max_body) == 0;
	else if (strcmp(section, "server") == 0 &&
	    strcmp(key, "query_timeout") == 0)
		rc = config_parse_duration(value,
		    &cfg->query_timeout_ms) == 0;
	else if (strcmp(section, "server") == 0 &&
	    strcmp(key, "mask_access_keys") == 0)
		rc = parse_bool(value, &cfg->mask_output) == 0;
	else if (strcmp(section, "storage") == 0 &&
	    strcmp(key, "mask_access_keys") == 0)
		rc = parse_bool(value, &cfg->mask_storage) == 0;
	else
		return -1;
	if (rc == 0)
		set_cause(&c->error, "[%s] %s: \"%s\" is not a valid value "
		    "(durations: 30d, 12h, 90m, 45s, 250ms; sizes: 64M; "
		    "booleans: true, false)", section, key, value);
	return rc;
}

/* Sections another module reads from the same file. */
static int
foreign_section(const char *section)
{
	return strncmp(section, "rule ", 5) == 0 ||
	    strcmp(section, "alertmanager") == 0 ||
	    strcmp(section, "webhook") == 0;
}

/* inih calls this per key; returning 0 stops with that line's number. */
static int
on_key(void *user, const char *section, const char *key, const char *value)
{
	struct load_ctx *c = user;
	char **field;
	int rc;

	if (foreign_section(section))
		return 1;
	if (value[0] == '\0') {
		set_cause(&c->error, "[%s] %s is empty", section, key);
		return 0;
	}
	if (strncmp(section, "source ", 7) == 0 && section[7] != '\0')
		return source_key(c, section + 7, key, value);
	if ((rc = typed_key(c, section, key, value)) != -1)
		return rc;
	if ((field = field_of(c->cfg, section, key)) == NULL) {
		set_cause(&c->error, "unknown key \"%s\" in section [%s]",
		    key, section);
		return 0;
	}
	if (config_set(field, value) == -1) {
		set_cause(&c->error, "out of memory");
		return 0;
	}
	return 1;
}

/* Every source needs a path. */
static int
sources_check(const struct config *cfg, const char *path, char **cause)
{
	size_t i;

	for (i = 0; i < cfg->nsources; i++) {
		if (cfg->sources[i].path == NULL) {
			set_cause(cause, "%s: [source %s] has no path", path,
			    cfg->sources[i].name);
			return -1;
		}
	}
	return 0;
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
	if (line != 0)
		return -1;
	return sources_check(cfg, path, cause);
}

int
config_add_watch(struct config *cfg, const char *spec, char **cause)
{
	const char *colon = strrchr(spec, ':');
	enum format fmt = FORMAT_UNKNOWN;
	struct follow_source *src;
	char *path;

	/* PATH:FORMAT only when what follows the colon names a format. */
	if (colon != NULL && (fmt = format_from_name(colon + 1)) ==
	    FORMAT_UNKNOWN && strcmp(colon + 1, "auto") != 0)
		colon = NULL;
	path = colon != NULL ? strndup(spec, (size_t)(colon - spec)) :
	    strdup(spec);
	if (path == NULL || (src = source_get(cfg, path)) == NULL) {
		free(path);
		set_cause(cause, "out of memory");
		return -1;
	}
	free(src->path);
	src->path = path;
	src->fmt = fmt;
	return 0;
}

int
config_read_file(const char *path, int trim, char **out, char **cause)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	*out = NULL;
	if ((f = fopen(path, "r")) == NULL) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (getdelim(&buf, &len, '\0', f) == -1) {
		set_cause(cause, "%s: empty or unreadable", path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	if (trim)
		buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		set_cause(cause, "%s: empty", path);
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
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
