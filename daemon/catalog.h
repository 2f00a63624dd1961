/*
 * catalog.h - the Dedicated KMS error-code table, compiled in.
 *
 * The rows restate shared/reference/error-codes.md: for each documented
 * error, its HTTP status, ErrorCode, message template (where <...> stands
 * for a part that varies per request), meaning, what to do, and a
 * category naming who has to act.
 */
#ifndef KMSWATCH_CATALOG_H
#define KMSWATCH_CATALOG_H

#include <stddef.h>

struct catalog_entry {
	int status;		/* documented HTTP status; 0 when none */
	const char *code;
	const char *message;	/* template; "" when it varies */
	const char *meaning;
	const char *action;	/* what to do */
	const char *category;	/* request, authentication, permission,
				 * key-state, service */
	int documented;		/* 0 for the rows beyond the official page */
};

/* The rows, in the reference's order; *n receives their number. */
const struct catalog_entry *catalog_entries(size_t *n);

/*
 * The row that best describes a record: among the rows with this code, the
 * one whose template matches message, else the first with the code.
 * Returns NULL for a code the catalog does not know.
 */
const struct catalog_entry *catalog_match(const char *code,
    const char *message);

/* 1 when message fits template (each <...> matching any run of bytes). */
int catalog_template_match(const char *tmpl, const char *message);

#endif
