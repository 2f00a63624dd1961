/*
 * main.c - the kmswatch command line: one binary, one subcommand per job.
 *
 *	kmswatch serve    run the HTTP API until SIGINT or SIGTERM
 *	kmswatch ingest   read captures into the database
 *	kmswatch lookup   show the records of RequestIds
 *	kmswatch stats    count records by code, status, API or category
 *	kmswatch codes    list the error-code catalog
 *
 * This file parses options and prints; the work is done by the modules it
 * calls.  Exit status: 0 success, 1 the answer is "no" (a RequestId not
 * found, rejects under --strict), 2 a usage error, 3 a file, database or
 * server failure.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alerts.h"
#include "catalog.h"
#include "config.h"
#include "ingest.h"
#include "render.h"
#include "serve.h"
#include "store.h"
#include "timefmt.h"

#define KMSWATCH_VERSION "0.1.0"

enum { EXIT_NO = 1, EXIT_USAGE = 2, EXIT_FAIL = 3 };

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Prints a failure with its cause and frees the cause. */
static int
fail(const char *what, char *cause)
{
	fprintf(stderr, "kmswatch: %s: %s\n", what,
	    cause != NULL ? cause : "out of memory");
	free(cause);
	return EXIT_FAIL;
}

static int
usage_error(const char *cmd, const char *msg)
{
	fprintf(stderr, "kmswatch %s: %s\nTry 'kmswatch %s --help'.\n", cmd,
	    msg, cmd);
	return EXIT_USAGE;
}

static int
print_json(json_t *j)
{
	int rc;

	if (j == NULL)
		return fail("json", NULL);
	rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(j);
	return rc == 0 ? 0 : EXIT_FAIL;
}

/* --- ingest ------------------------------------------------------------ */

static const char ingest_help[] =
"Usage: kmswatch ingest [OPTIONS] FILE... | -\n"
"Read captures of Dedicated KMS traffic into the database.\n"
"\n"
"  --db FILE        database (default " CONFIG_DEFAULT_DB ")\n"
"  --format FMT     pb, http, har, jsonl or sdklog (default: detected\n"
"                   from the first bytes; gzip files are inflated first)\n"
"  --source NAME    name stored as each record's source (default: path)\n"
"  --json           print the summary as JSON\n"
"  --strict         exit 1 when any input was rejected\n"
"  --mask-access-keys  store AccessKey IDs in messages masked\n"
"  -h, --help       show this help\n"
"\n"
"Ingesting the same capture twice stores nothing new: records whose\n"
"RequestId is already stored count as duplicates.  Exit status: 0 when\n"
"every input was read (rejects included), 1 with --strict and rejects,\n"
"2 on a usage error, 3 when a file or the database fails.\n";

static void
print_tally_text(const struct ingest_tally *t, int files)
{
	size_t i;

	printf("ingest: files=%d accepted=%lld duplicates=%lld rejected=%lld"
	    " responses=%lld\n", files, (long long)t->accepted,
	    (long long)t->duplicates, (long long)t->rejected,
	    (long long)t->responses);
	for (i = 0; i < t->nkept; i++)
		printf("  reject %s offset=%llu %s\n", t->kept[i].source,
		    (unsigned long long)t->kept[i].offset, t->kept[i].reason);
	if (t->rejected > (int64_t)t->nkept)
		printf("  ... and %lld more rejects\n",
		    (long long)(t->rejected - (int64_t)t->nkept));
}


struct ingest_opts {
	const char *db, *source;
	enum format fmt;
	int json, strict;
};

static int
ingest_parse(int argc, char **argv, struct ingest_opts *o)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "source", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "strict", no_argument, NULL, 'S' },
		{ "mask-access-keys", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': o->db = optarg; break;
		case 's': o->source = optarg; break;
		case 'j': o->json = 1; break;
		case 'S': o->strict = 1; break;
		case 'm': ingest_set_mask(1); break;
		case 'f':
			if ((o->fmt = format_from_name(optarg)) == FORMAT_UNKNOWN)
				return usage_error("ingest", "--format must be "
				    "pb, http, har, jsonl or sdklog");
			break;
		case 'h': fputs(ingest_help, stdout); exit(0);
		default: return usage_error("ingest", "unknown option");
		}
	}
	if (optind == argc)
		return usage_error("ingest", "name at least one FILE, or -");
	return 0;
}

static int
cmd_ingest(int argc, char **argv)
{
	struct ingest_opts o = { CONFIG_DEFAULT_DB, NULL, FORMAT_UNKNOWN, 0, 0 };
	struct ingest_tally tally;
	struct store *st;
	char *cause = NULL;
	int i, rc, failed = 0;

	if ((rc = ingest_parse(argc, argv, &o)) != 0)
		return rc;
	if (store_open(o.db, STORE_WRITE, &st, &cause) == -1)
		return fail(o.db, cause);

	memset(&tally, 0, sizeof tally);
	for (i = optind; i < argc; i++) {
		if (ingest_file(st, argv[i], o.source, o.fmt, now_ms(),
		    &tally, &cause) == -1) {
			fprintf(stderr, "kmswatch: ingest: %s\n",
			    cause != NULL ? cause : "out of memory");
			free(cause);
			cause = NULL;
			failed = 1;
		}
	}
	store_close(st);

	if (o.json)
		print_json(render_tally(&tally));
	else
		print_tally_text(&tally, argc - optind);
	rc = failed ? EXIT_FAIL : o.strict && tally.rejected > 0 ? EXIT_NO : 0;
	ingest_tally_clear(&tally);
	return rc;
}

/* --- lookup ------------------------------------------------------------ */

static const char lookup_help[] =
"Usage: kmswatch lookup [--db FILE] [--json] REQUEST_ID...\n"
"Show the stored record of each RequestId, with the catalog's meaning\n"
"and what to do.  Exit status 1 when any of them is not stored.\n";

static void
print_row_text(const struct store_row *r)
{
	const struct catalog_entry *e = catalog_match(r->code, r->message);
	char t[TIMEFMT_RFC3339_LEN];

	timefmt_rfc3339(r->time_ms, t);
	printf("%s\n  time:     %s\n  status:   %d\n  code:     %s (%s%s)\n"
	    "  message:  %s\n  api:      %s\n  source:   %s (offset %llu)\n",
	    r->request_id, t, r->status, r->code, r->category,
	    e != NULL ? "" : ", not in the catalog", r->message,
	    r->api != NULL ? r->api : "unknown", r->source,
	    (unsigned long long)r->offset);
	if (r->flags & STORE_FLAG_BODY_STATUS)
		printf("  note:     the body's StatusCode said %d\n",
		    r->body_status);
	if (e != NULL && (r->flags & STORE_FLAG_CATALOG_STATUS))
		printf("  note:     the catalog documents status %d\n",
		    e->status);
	if (e != NULL)
		printf("  meaning:  %s\n  action:   %s\n", e->meaning,
		    e->action);
}

static int
lookup_one(struct store *st, const char *id, int json, json_t *out)
{
	struct store_row row;
	char *cause = NULL;
	int rc;

	if ((rc = store_lookup(st, id, &row, &cause)) == -1)
		return fail(id, cause);
	if (rc == 1) {
		fprintf(stderr, "kmswatch: lookup: %s: not found\n", id);
		return EXIT_NO;
	}
	if (json)
		json_array_append_new(out, render_row(&row));
	else
		print_row_text(&row);
	store_row_clear(&row);
	return 0;
}

static int
cmd_lookup(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = CONFIG_DEFAULT_DB;
	int ch, i, json = 0, rc = 0, one;
	struct store *st;
	char *cause = NULL;
	json_t *out;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(lookup_help, stdout); return 0;
		default: return usage_error("lookup", "unknown option");
		}
	}
	if (optind == argc)
		return usage_error("lookup", "name at least one REQUEST_ID");
	if (store_open(db, STORE_READ, &st, &cause) == -1)
		return fail(db, cause);

	out = json_array();
	for (i = optind; i < argc; i++) {
		one = lookup_one(st, argv[i], json, out);
		if (one > rc)
			rc = one;
	}
	store_close(st);
	if (json)
		print_json(json_pack("{s:o}", "records", out));
	else
		json_decref(out);
	return rc;
}

/* --- stats ------------------------------------------------------------- */

static const char stats_help[] =
"Usage: kmswatch stats [OPTIONS]\n"
"Count stored records by code, status, API or category, largest first.\n"
"\n"
"  --db FILE     database (default " CONFIG_DEFAULT_DB ")\n"
"  --from T      start of the range (default: the oldest record)\n"
"  --to T        end of the range, exclusive (default: now and later)\n"
"  --by KEY      code, status, api or category (default code)\n"
"  --top N       show only the N largest groups\n"
"  --json        print JSON, as GET /api/v1/stats does\n"
"\n"
"Times are RFC 3339 (2026-12-03T10:00:00Z; no zone means UTC) or unix\n"
"seconds.  Counts come from per-minute rollups, so the range is widened\n"
"to whole minutes.\n";

struct stats_opts {
	const char *db;
	int64_t from, to;
	enum store_group_by by;
	long top;
	int json;
};

static int
parse_by(const char *s, enum store_group_by *by)
{
	static const char *const names[] = { "code", "status", "api",
	    "category" };
	int i;

	for (i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*by = (enum store_group_by)i;
			return 0;
		}
	}
	return -1;
}

static int
stats_parse(int argc, char **argv, struct stats_opts *o)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "by", required_argument, NULL, 'b' },
		{ "top", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'd')
			o->db = optarg;
		else if (ch == 'j')
			o->json = 1;
		else if (ch == 'f' && timefmt_parse(optarg, &o->from) == -1)
			return usage_error("stats", "--from is not a time");
		else if (ch == 't' && timefmt_parse(optarg, &o->to) == -1)
			return usage_error("stats", "--to is not a time");
		else if (ch == 'b' && parse_by(optarg, &o->by) == -1)
			return usage_error("stats",
			    "--by must be code, status, api or category");
		else if (ch == 'n' && ((o->top = strtol(optarg, &end, 10)) < 1
		    || *end != '\0'))
			return usage_error("stats", "--top must be 1 or more");
		else if (ch == 'h') {
			fputs(stats_help, stdout);
			exit(0);
		} else if (ch == '?')
			return usage_error("stats", "unknown option");
	}
	if (optind != argc)
		return usage_error("stats", "unexpected argument");
	return 0;
}

static void
print_groups_text(const struct stats_opts *o, const struct store_group *g,
    size_t n, int64_t total)
{
	size_t i;

	printf("%-32s %12s %7s\n", "key", "count", "share");
	for (i = 0; i < n && (o->top == 0 || (long)i < o->top); i++)
		printf("%-32s %12lld %6.2f%%\n",
		    g[i].key[0] != '\0' ? g[i].key : "(unknown)",
		    (long long)g[i].count,
		    total > 0 ? 100.0 * (double)g[i].count / (double)total : 0);
	printf("%-32s %12lld\n", "total", (long long)total);
}

static json_t *
groups_json(const struct stats_opts *o, const struct store_group *g,
    size_t n, int64_t total)
{
	json_t *arr = json_array(), *key;
	double share;
	size_t i;

	for (i = 0; arr != NULL && i < n &&
	    (o->top == 0 || (long)i < o->top); i++) {
		share = total > 0 ? (double)g[i].count / (double)total : 0;
		key = o->by == STORE_BY_STATUS ?
		    json_integer(strtol(g[i].key, NULL, 10)) :
		    g[i].key[0] != '\0' ? json_string(g[i].key) : json_null();
		json_array_append_new(arr, json_pack("{s:o,s:I,s:f}", "key",
		    key, "count", (json_int_t)g[i].count, "share",
		    (double)(long long)(share * 10000 + 0.5) / 10000));
	}
	return json_pack("{s:I,s:o}", "total", (json_int_t)total, "groups",
	    arr);
}

static int
cmd_stats(int argc, char **argv)
{
	struct stats_opts o = { CONFIG_DEFAULT_DB, 0, INT64_MAX / 4,
	    STORE_BY_CODE, 0, 0 };
	struct store_group *groups;
	struct store *st;
	char *cause = NULL;
	int64_t total;
	size_t n;
	int rc;

	if ((rc = stats_parse(argc, argv, &o)) != 0)
		return rc;
	if (store_open(o.db, STORE_READ, &st, &cause) == -1)
		return fail(o.db, cause);
	rc = store_stats(st, o.from, o.to, o.by, NULL, &groups, &n, &total,
	    &cause);
	store_close(st);
	if (rc == -1)
		return fail("stats", cause);

	if (o.json)
		rc = print_json(groups_json(&o, groups, n, total));
	else
		print_groups_text(&o, groups, n, total);
	store_groups_free(groups, n);
	return rc;
}

/* --- codes ------------------------------------------------------------- */

static const char codes_help[] =
"Usage: kmswatch codes [--json]\n"
"List the Dedicated KMS error codes kmswatch knows: HTTP status, code,\n"
"category, and what to do.\n";

static int
cmd_codes(int argc, char **argv)
{
	const struct catalog_entry *e;
	size_t i, n;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		fputs(codes_help, stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		return print_json(render_catalog());
	if (argc > 1)
		return usage_error("codes", "unexpected argument");

	e = catalog_entries(&n);
	for (i = 0; i < n; i++)
		printf("%3d  %-28s %-15s %s\n", e[i].status, e[i].code,
		    e[i].category, e[i].action);
	return 0;
}

/* --- main -------------------------------------------------------------- */

static const char main_help[] =
"Usage: kmswatch COMMAND [OPTIONS]\n"
"Decode Alibaba Cloud Dedicated KMS error records from captures, store\n"
"them, and answer questions about them.\n"
"\n"
"Commands:\n"
"  serve    follow sources and serve the JSON API (foreground)\n"
"  ingest   read captures (pb, http, har, jsonl, sdklog, .gz) into the\n"
"           database\n"
"  lookup   show the records of RequestIds\n"
"  stats    count records by code, status, API or category\n"
"  codes    list the error-code catalog\n"
"  alerts   show alerts, or replay the rules over history (--backtest)\n"
"\n"
"'kmswatch COMMAND --help' describes a command.\n";

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "serve", serve_main }, { "ingest", cmd_ingest },
		{ "lookup", cmd_lookup }, { "stats", cmd_stats },
		{ "codes", cmd_codes }, { "alerts", alerts_cli },
	};
	size_t i;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(main_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("kmswatch %s\n", KMSWATCH_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "kmswatch: unknown command \"%s\"\n%s", argv[1],
	    main_help);
	return EXIT_USAGE;
}
