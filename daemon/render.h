/*
 * render.h - JSON views of store results and catalog rows, shared by the
 * HTTP API and the command line so both print the same shapes.
 *
 * Every function returns a new Jansson reference (the caller owns it and
 * releases it with json_decref) or NULL when out of memory.
 */
#ifndef KMSWATCH_RENDER_H
#define KMSWATCH_RENDER_H

#include <jansson.h>

#include "catalog.h"
#include "ingest.h"
#include "store.h"

/*
 * Whether render_row masks AccessKey IDs in messages (mask.h).  Set once
 * at start, before any thread renders; off unless set.
 */
void render_set_mask(int on);

/* A record with its catalog meaning and what to do. */
json_t *render_row(const struct store_row *row);

/* One catalog row. */
json_t *render_catalog_entry(const struct catalog_entry *e);

/*
 * An ingest summary: {"accepted":N,"duplicates":N,"rejected":N,
 * "responses":N,"rejects":[{"source","offset","reason"}]}.
 */
json_t *render_tally(const struct ingest_tally *t);

/*
 * s as the text of a JSON string, quotes included ("null" for NULL),
 * for answers written as text; bytes that are not UTF-8 become '?'.
 * NULL when out of memory; the caller frees the text.
 */
char *render_string_text(const char *s);

/* {"codes":[...]} for the whole catalog. */
json_t *render_catalog(void);

#endif
