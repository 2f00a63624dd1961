/*
 * catalog.c - the Dedicated KMS error-code table, compiled into the binary.
 *
 * The rows restate shared/reference/error-codes.md (itself corrected from
 * the official page and SDKs).  This module owns the table and the match
 * of a record to its row; it does not decide what is stored or shown.
 */
#include <string.h>

#include "catalog.h"

static const struct catalog_entry entries[] = {
	{ 400, "InvalidParam", "The Param Date is invalid.",
	  "The request's Date header is not RFC 1123.",
	  "Send a Date header in RFC 1123 form.", "request", 1 },
	{ 400, "InvalidApiVersion",
	  "The ApiVersion \"<apiversion value>\" is invalid.",
	  "The x-kms-apiversion header is missing or unknown.",
	  "Send x-kms-apiversion (the SDKs send dkms-gcs-0.2).",
	  "request", 1 },
	{ 400, "MissingParameter",
	  "Parameter x-kms-acccesskeyid does not exist in http header or "
	  "body.",
	  "No AccessKey ID in the request (the header name really has "
	  "three c's).",
	  "Put the AccessKey ID in the request headers.",
	  "authentication", 1 },
	{ 400, "InvalidParam", "The Param x-kms-signaturemethod is invalid.",
	  "The x-kms-signaturemethod header is missing.",
	  "Send x-kms-signaturemethod.", "request", 1 },
	{ 400, "InvalidParam",
	  "The Param x-kms-signaturemethod is invalid. "
	  "message:\"<signaturemethod value>\".",
	  "The signature method named is not supported.",
	  "Use a supported method (RSA_PKCS1_SHA_256).", "request", 1 },
	{ 400, "RequestTimeTooSkewed",
	  "Request time exceeds server time more than 15 minutes.",
	  "The client's clock is more than 15 minutes ahead of or behind "
	  "the server.",
	  "Fix the client host's clock (NTP).", "request", 1 },
	{ 400, "InvalidApiName", "The ApiName \"<apiname>\" is invalid.",
	  "The x-kms-apiname header names no API.",
	  "Use a valid API name.", "request", 1 },
	{ 401, "SignatureNotMatch", "Signature is not matched.",
	  "The signature the client computed differs from the server's.",
	  "Retry; if it persists, check or replace the AccessKey pair "
	  "(client key file and password).", "authentication", 1 },
	{ 404, "Unauthorized",
	  "The AccessKey ID \"<accessKeyId>\" does not exist in our records.",
	  "The AccessKey ID is unknown to the instance.",
	  "Use an existing AccessKey ID and retry.", "authentication", 1 },
	{ 403, "Forbidden.NoPermission",
	  "This operation for \"<parameter name>\" is forbidden by "
	  "permission system.",
	  "The caller lacks permission for the operation.",
	  "Grant the permission (application access point policy) or use "
	  "another identity.", "permission", 1 },
	{ 404, "Forbidden.KeyNotFound",
	  "The key Key ID or Alias does not exist in the system.",
	  "The key ID or alias does not exist.",
	  "Check the key ID or alias.", "key-state", 1 },
	{ 404, "Forbidden.KeyNotFound",
	  "The key Key ID or Alias does not exist in the key store "
	  "\"<parameter name>\".",
	  "The key does not belong to this dedicated instance (key store).",
	  "Call the instance that holds the key.", "key-state", 1 },
	{ 409, "Rejected.State",
	  "The request was rejected because the key state is <state>.",
	  "The key is in a state that cannot serve the call.",
	  "Check the key's state.", "key-state", 1 },
	{ 409, "Rejected.PendingDeletion",
	  "The request was rejected because the key state is "
	  "PendingDeletion.",
	  "The key is scheduled for deletion, yet something still uses it.",
	  "Cancel the deletion if the key is still needed: once deleted, "
	  "data encrypted under it is lost.", "key-state", 1 },
	{ 409, "Rejected.Disabled",
	  "The request was rejected because the key state is Disabled.",
	  "The key is disabled.",
	  "Re-enable the key, or move callers to another key.",
	  "key-state", 1 },
	{ 409, "Rejected.PendingImport",
	  "The request was rejected because the key state is PendingImport.",
	  "The key (external key material) awaits import.",
	  "Import the key material.", "key-state", 1 },
	{ 415, "InvalidContentType", "Content-Type \"<type>\" is unsupported.",
	  "The request's Content-Type is not accepted.",
	  "Send application/x-protobuf.", "request", 1 },
	{ 500, "InternalFailure", "Internal Failure.",
	  "An internal error in the service.",
	  "Retry later; the official Go SDK retries it.", "service", 1 },
	{ 503, "ServiceUnavailableTemporary", "Service Unavailable Temporary.",
	  "The service is temporarily unavailable.",
	  "Retry later; the official Go SDK retries it.", "service", 1 },
	{ 400, "InvalidParameter", "The specified parameter is not valid.",
	  "A request parameter is invalid.",
	  "Check the request's parameters against the API reference.",
	  "request", 0 },
	{ 400, "UnsupportedOperation", "Rejected.UnsupportedOperation",
	  "The operation is not supported for this key or instance.",
	  "Use an operation the key's type and instance support.",
	  "request", 0 },
	{ 400, "InvalidParam", "The Param Authorization is invalid.",
	  "The Authorization header is malformed.",
	  "Check how the client signs requests (Authorization: Bearer "
	  "<signature>).", "authentication", 0 },
	/* Not documented; the status the SDKs see is 429. */
	{ 429, "Rejected.Throttling", "",
	  "Requests over the instance's QPS limit.",
	  "Lower the request rate or raise the instance's QPS; the official "
	  "SDKs retry it.", "service", 0 },
};

const struct catalog_entry *
catalog_entries(size_t *n)
{
	*n = sizeof(entries) / sizeof(entries[0]);
	return entries;
}

/*
 * Matches msg against tmpl.  A placeholder "<...>" matches any run of
 * bytes, shortest first; the backtracking stays cheap because templates
 * hold at most one placeholder.
 */
static int
match_from(const char *tmpl, const char *msg)
{
	const char *close;

	for (; *tmpl != '\0'; tmpl++, msg++) {
		if (*tmpl == '<' && (close = strchr(tmpl, '>')) != NULL) {
			for (const char *m = msg; ; m++) {
				if (match_from(close + 1, m))
					return 1;
				if (*m == '\0')
					return 0;
			}
		}
		if (*tmpl != *msg)
			return 0;
	}
	return *msg == '\0';
}

int
catalog_template_match(const char *tmpl, const char *message)
{
	if (tmpl[0] == '\0')
		return 1;
	return match_from(tmpl, message);
}

const struct catalog_entry *
catalog_match(const char *code, const char *message)
{
	const struct catalog_entry *first = NULL;
	size_t i, n;

	n = sizeof(entries) / sizeof(entries[0]);
	for (i = 0; i < n; i++) {
		if (strcmp(entries[i].code, code) != 0)
			continue;
		if (first == NULL)
			first = &entries[i];
		if (catalog_template_match(entries[i].message, message))
			return &entries[i];
	}
	return first;
}
