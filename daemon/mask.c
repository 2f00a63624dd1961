/*
 * mask.c - masking AccessKey IDs in error messages (see mask.h).  Pure
 * string work: no allocation, no state.
 */
#include <ctype.h>
#include <string.h>

#include "mask.h"

#define MASK_QUOTED "AccessKey ID \""
#define MASK_PREFIX "LTAI"
#define MASK_MIN 12

/* Writes n bytes of s masked (first and last kept) at out + *o. */
static void
put_masked(const char *s, size_t n, char *out, size_t size, size_t *o)
{
	size_t i;

	for (i = 0; i < n && *o + 1 < size; i++)
		out[(*o)++] = n < 3 || (i > 0 && i + 1 < n) ? '*' : s[i];
}

static size_t
word_len(const char *s)
{
	size_t n = 0;

	while (isalnum((unsigned char)s[n]))
		n++;
	return n;
}

int
mask_access_keys(const char *msg, char *out, size_t size)
{
	size_t o = 0, n, qlen = strlen(MASK_QUOTED);
	const char *p = msg, *end;
	int masked = 0;

	while (*p != '\0' && o + 1 < size) {
		if (strncmp(p, MASK_QUOTED, qlen) == 0 &&
		    (end = strchr(p + qlen, '"')) != NULL) {
			for (n = 0; n < qlen && o + 1 < size; n++)
				out[o++] = p[n];
			put_masked(p + qlen, (size_t)(end - p - qlen), out, size,
			    &o);
			p = end;
			masked = 1;
			continue;
		}
		if ((p == msg || !isalnum((unsigned char)p[-1])) &&
		    strncmp(p, MASK_PREFIX, 4) == 0 &&
		    (n = word_len(p)) >= MASK_MIN) {
			put_masked(p, n, out, size, &o);
			p += n;
			masked = 1;
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
	return masked;
}
