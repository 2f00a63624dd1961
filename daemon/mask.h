/*
 * mask.h - hiding AccessKey IDs that error messages carry.
 *
 * Unauthorized says `The AccessKey ID "<id>" does not exist in our
 * records.`: whoever reads the dashboard need not learn a working
 * AccessKey ID.  Masking keeps the first and last character, enough to
 * tell two keys apart in an incident.
 */
#ifndef KMSWATCH_MASK_H
#define KMSWATCH_MASK_H

#include <stddef.h>

/*
 * Copies msg into out (size bytes, always NUL-terminated, cut if need be)
 * with every AccessKey ID masked: the quoted value after `AccessKey ID "`,
 * and any word that starts with "LTAI" (the prefix of Alibaba Cloud
 * AccessKey IDs) and is 12 or more characters long.  Returns 1 when
 * something was masked, else 0.
 */
int mask_access_keys(const char *msg, char *out, size_t size);

#endif
