/*
 * record.c - names for the reject reasons every parser reports.
 *
 * The records, rejects and sinks themselves are plain structures declared
 * in record.h; this file only owns the stable short names under which
 * rejects are counted and shown.  The names are part of the API and the
 * metrics: change them only with a migration.
 */
#include "record.h"

/*
 * Short stable name of reason, e.g. "truncated".  Returns "unknown" for a
 * value outside the enum, never NULL.
 */
const char *
record_reason_name(enum reject_reason reason)
{
	switch (reason) {
	case REJECT_TRUNCATED:
		return "truncated";
	case REJECT_BAD_VARINT:
		return "bad_varint";
	case REJECT_WIRE_TYPE:
		return "wire_type";
	case REJECT_BAD_UTF8:
		return "bad_utf8";
	case REJECT_OVERSIZED:
		return "oversized";
	case REJECT_BAD_FIELD:
		return "bad_field";
	case REJECT_NO_CODE:
		return "no_code";
	case REJECT_BAD_HTTP:
		return "bad_http";
	case REJECT_BAD_CHUNK:
		return "bad_chunk";
	case REJECT_BAD_DATE:
		return "bad_date";
	case REJECT_DECODE:
		return "decode";
	case REJECT_BAD_GZIP:
		return "bad_gzip";
	case REJECT_BAD_JSON:
		return "bad_json";
	case REJECT_BAD_BASE64:
		return "bad_base64";
	case REJECT_MISSING_FIELD:
		return "missing_field";
	case REJECT_SHORT_BLOCK:
		return "short_block";
	}
	return "unknown";
}
