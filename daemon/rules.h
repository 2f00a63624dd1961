/*
 * rules.h - the alert rules: the built-in default set and the `[rule NAME]`
 * sections of the configuration file.
 *
 *	[rule key-disabled]
 *	type = spike			; threshold, spike or new_code
 *	codes = Rejected.Disabled	; comma-separated, or * for every code
 *	status = 409			; optional
 *	api = Decrypt			; optional
 *	measure = count			; count, or ratio: errors/(errors+2xx)
 *	window = 5m			; durations: 5m, 2h, 1d, 300s; whole
 *					; minutes only
 *	baseline = 1h			; trailing period before the window
 *	for = 2m			; pending this long before firing
 *	resolve = 10m			; false this long before resolving
 *	severity = critical		; info, warning or critical
 *	min_count = 10			; errors needed in the window
 *	factor = 3			; spike: times the baseline
 *	z = 4				; spike: robust z-score (see alerts.c)
 *	ratio = 0.05			; threshold with measure = ratio
 *
 * Rules named in the file replace the defaults; sections other than
 * `[rule ...]` belong to other modules and are ignored here.
 */
#ifndef KMSWATCH_RULES_H
#define KMSWATCH_RULES_H

#include "alerts.h"

/* Fills *rs with the default rule set.  Returns -1 when out of memory. */
int rules_defaults(struct alerts_ruleset *rs, char **cause);

/*
 * Reads the `[rule NAME]` sections of path into *rs (n is 0 when there
 * are none).  Returns 0, or -1 with *cause naming the file, and the line
 * or the rule, and what is wrong.
 */
int rules_load(const char *path, struct alerts_ruleset *rs, char **cause);

/* The rules of path, or the defaults when path is NULL or names none. */
int rules_for_config(const char *path, struct alerts_ruleset *rs,
    char **cause);

/* Checks one complete rule; -1 with *cause saying what is wrong. */
int rules_check(const struct alerts_rule *r, char **cause);

/*
 * Parses a duration: a number with s, m, h or d, a whole number of
 * minutes ("0" alone is allowed).  Returns 0 and sets *minutes, or -1.
 */
int rules_parse_duration(const char *s, int *minutes);

/* 1 when rule r matches code (its list, or every code). */
int rules_match_code(const struct alerts_rule *r, const char *code);

/* Frees the rules of rs and empties it. */
void rules_free(struct alerts_ruleset *rs);

#endif
