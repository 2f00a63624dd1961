/*
 * assets.h - the dashboard's files (dashboards/web/ and the vendored
 * Dygraph), built into the binary so that `kmswatch serve` needs nothing
 * beside it.
 *
 * dashboards/embed.sh generates the table (build/assets_data.c) at build
 * time; this header is all the rest of the daemon sees of it.
 */
#ifndef KMSWATCH_ASSETS_H
#define KMSWATCH_ASSETS_H

#include <stddef.h>

struct asset {
	const char *path;		/* URL path, e.g. "/static/app.js" */
	const char *type;		/* Content-Type to send */
	const unsigned char *data;	/* len bytes, then a NUL not counted */
	size_t len;
};

/* The generated table, ended by an entry whose path is NULL. */
extern const struct asset assets[];

/*
 * The asset served at path ("/" means "/index.html"), or NULL when there
 * is none.  path is the URL path without the query.  The result is static:
 * never freed, valid for the life of the process, safe from any thread.
 */
const struct asset *assets_find(const char *path);

#endif
