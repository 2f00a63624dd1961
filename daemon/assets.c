/*
 * assets.c - finds a dashboard file by URL path in the table that
 * dashboards/embed.sh generates.  It owns the mapping of "/" to the page
 * and nothing else: api.c decides which URLs reach it and sends the bytes
 * with their type; embed.sh decides which files exist and their types.
 */
#include <string.h>

#include "assets.h"

/*
 * A linear scan: the table holds a handful of entries and is walked once
 * per page load, so a hash or a sorted table would buy nothing.
 */
const struct asset *
assets_find(const char *path)
{
	const struct asset	*a;

	if (path == NULL)
		return (NULL);
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	for (a = assets; a->path != NULL; a++) {
		if (strcmp(a->path, path) == 0)
			return (a);
	}
	return (NULL);
}
