/*
 * render.c - the JSON shapes of stored records and catalog rows.  It owns
 * the field names and types that the HTTP API and the command line show,
 * and joins a record with its catalog row (meaning, action, documented
 * status).  It does not query the store, choose HTTP statuses or write
 * anything out; callers serialise the values it returns.
 *
 * Every builder collects the results of Jansson's setters and gives up
 * with NULL when any failed, which in practice means out of memory.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog.h"
#include "mask.h"
#include "render.h"
#include "store.h"
#include "timefmt.h"

/*
 * A JSON string for s, or JSON null when s is NULL.  Jansson refuses
 * bytes that are not UTF-8; the parsers only store valid UTF-8, but a
 * source path may be anything, so such bytes are shown as '?' rather
 * than failing the whole row.
 */
static json_t *
render_string(const char *s)
{
	json_t	*v;
	char	*copy;
	size_t	 i;

	if (s == NULL)
		return (json_null());
	if ((v = json_string(s)) != NULL)
		return (v);

	if ((copy = strdup(s)) == NULL)
		return (NULL);
	for (i = 0; copy[i] != '\0'; i++) {
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	}
	v = json_string(copy);
	free(copy);
	return (v);
}

char *
render_string_text(const char *s)
{
	json_t	*v;
	char	*text;

	if ((v = render_string(s)) == NULL)
		return (NULL);
	text = json_dumps(v, JSON_ENCODE_ANY);
	json_decref(v);
	return (text);
}

/* An integer, or JSON null when present is 0. */
static json_t *
render_int_or_null(int present, json_int_t n)
{
	return (present ? json_integer(n) : json_null());
}

/* The "flags" object: the statuses that disagreed, null when none did. */
static json_t *
render_flags(const struct store_row *row, const struct catalog_entry *e)
{
	json_t	*o;
	int	 rc = 0, has_catalog;

	if ((o = json_object()) == NULL)
		return (NULL);
	has_catalog = (row->flags & STORE_FLAG_CATALOG_STATUS) &&
	    e != NULL && e->status != 0;

	/* json_object_set_new steals the value, even when it fails. */
	rc |= json_object_set_new(o, "body_status", render_int_or_null(
	    row->flags & STORE_FLAG_BODY_STATUS, row->body_status));
	rc |= json_object_set_new(o, "catalog_status", render_int_or_null(
	    has_catalog, has_catalog ? e->status : 0));
	if (rc != 0) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

/* Adds the catalog's meaning and action, both null for an unknown code. */
static int
render_meaning(json_t *o, const struct catalog_entry *e)
{
	int	rc = 0;

	/* json_object_set_new steals the value, even when it fails. */
	rc |= json_object_set_new(o, "meaning",
	    render_string(e != NULL ? e->meaning : NULL));
	rc |= json_object_set_new(o, "action",
	    render_string(e != NULL ? e->action : NULL));
	return (rc);
}

/*
 * The record joined with its catalog row.  Returns a new reference, or
 * NULL when out of memory.
 */
static int render_mask;

void
render_set_mask(int on)
{
	render_mask = on;
}

/* The message as shown: with AccessKey IDs masked when asked. */
static json_t *
render_message(const char *message)
{
	char	masked[2048];

	if (message == NULL || !render_mask ||
	    !mask_access_keys(message, masked, sizeof masked))
		return (render_string(message));
	return (json_string(masked));
}

json_t *
render_row(const struct store_row *row)
{
	const struct catalog_entry	*e;
	char				 when[TIMEFMT_RFC3339_LEN];
	json_t				*o;
	int				 rc = 0;

	if ((o = json_object()) == NULL)
		return (NULL);
	e = catalog_match(row->code != NULL ? row->code : "",
	    row->message != NULL ? row->message : "");
	timefmt_rfc3339(row->time_ms, when);

	/* json_object_set_new steals the value, even when it fails. */
	rc |= json_object_set_new(o, "request_id",
	    render_string(row->request_id));
	rc |= json_object_set_new(o, "status", json_integer(row->status));
	rc |= json_object_set_new(o, "code", render_string(row->code));
	rc |= json_object_set_new(o, "message", render_message(row->message));
	rc |= json_object_set_new(o, "time", json_string(when));
	rc |= json_object_set_new(o, "api", render_string(row->api));
	rc |= json_object_set_new(o, "source", render_string(row->source));
	rc |= json_object_set_new(o, "offset",
	    json_integer((json_int_t)row->offset));
	rc |= json_object_set_new(o, "category",
	    render_string(row->category));
	rc |= json_object_set_new(o, "known",
	    json_boolean(row->flags & STORE_FLAG_KNOWN));
	rc |= render_meaning(o, e);
	rc |= json_object_set_new(o, "flags", render_flags(row, e));

	if (rc != 0) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

/* One catalog row; a new reference, or NULL when out of memory. */
json_t *
render_catalog_entry(const struct catalog_entry *e)
{
	json_t	*o;
	int	 rc = 0;

	if ((o = json_object()) == NULL)
		return (NULL);

	/* json_object_set_new steals the value, even when it fails. */
	rc |= json_object_set_new(o, "status",
	    render_int_or_null(e->status != 0, e->status));
	rc |= json_object_set_new(o, "code", render_string(e->code));
	rc |= json_object_set_new(o, "message", render_string(e->message));
	rc |= json_object_set_new(o, "meaning", render_string(e->meaning));
	rc |= json_object_set_new(o, "action", render_string(e->action));
	rc |= json_object_set_new(o, "category",
	    render_string(e->category));
	rc |= json_object_set_new(o, "documented",
	    json_boolean(e->documented));

	if (rc != 0) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

/* The whole catalog; a new reference, or NULL when out of memory. */
json_t *
render_catalog(void)
{
	const struct catalog_entry	*entries;
	json_t				*o, *codes;
	size_t				 i, n;

	entries = catalog_entries(&n);
	if ((o = json_object()) == NULL)
		return (NULL);

	/* The object owns codes from here; codes stays valid while o does. */
	codes = json_array();
	if (json_object_set_new(o, "codes", codes) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		/* json_array_append_new steals the row, even when it fails. */
		if (json_array_append_new(codes,
		    render_catalog_entry(&entries[i])) != 0)
			goto fail;
	}
	return (o);

fail:
	json_decref(o);
	return (NULL);
}

json_t *
render_tally(const struct ingest_tally *t)
{
	json_t *rejects = json_array();
	size_t i;

	for (i = 0; rejects != NULL && i < t->nkept; i++)
		json_array_append_new(rejects, json_pack("{s:s,s:I,s:s}",
		    "source", t->kept[i].source, "offset",
		    (json_int_t)t->kept[i].offset, "reason",
		    t->kept[i].reason));
	/* "o" steals the reference to rejects. */
	return json_pack("{s:I,s:I,s:I,s:I,s:o*}", "accepted",
	    (json_int_t)t->accepted, "duplicates", (json_int_t)t->duplicates,
	    "rejected", (json_int_t)t->rejected, "responses",
	    (json_int_t)t->responses, "rejects", rejects);
}
