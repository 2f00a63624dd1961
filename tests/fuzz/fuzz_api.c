/*
 * fuzz_api.c - libFuzzer target for the HTTP API (api.c, api_push.c,
 * api_metrics.c), reached as a client reaches it: through
 * libmicrohttpd, over a loopback connection.
 *
 * LLVMFuzzerInitialize() starts, once per process, the daemon's writer
 * (follow.c) and its API (api.c) on 127.0.0.1 and a free port, over a new
 * database in /tmp seeded with a few records and responses, with push
 * enabled.  Each input then becomes up to FUZZ_API_REQUESTS HTTP/1.1
 * requests, sent in turn, each on a connection of its own, each answer
 * read to its end.  Several requests let one input store something and
 * then ask about it.
 *
 * Input layout: requests separated by a line "--" (the bytes "\n--\n"),
 * each of them, lines ending in '\n':
 *	method
 *	request target (path and query)
 *	header lines "Name: value", up to an empty line
 *	body, to the end of the request
 * The harness writes Host, Content-Length and "Connection: close"
 * itself and drops the input's own, so that every request is delimited
 * and the fuzzer spends its time in kmswatch's handlers rather than in
 * libmicrohttpd's request-line parser.  In the target, bytes HTTP
 * forbids there are percent-encoded; '%' is sent as it is, so that bad
 * escapes reach api_unescape().
 *
 * Checked (a failure prints the request and aborts):
 * - an answer comes within FUZZ_API_TIMEOUT_S, with a status line of
 *   HTTP/1.x and a status from 100 to 599;
 * - a connection closed with no answer leaves the daemon alive:
 *   GET /healthz must then answer 200;
 * - an application/json answer parses as JSON, and a text answer (the
 *   metrics page) is UTF-8, as the Prometheus text format requires;
 * - no answer is a 5xx: api.c answers 500 only when the store fails or
 *   memory runs out, and either is worth a look.  FUZZ_API_5XX=count in
 *   the environment only counts them, printing the count at exit.
 * ASan and UBSan watch the daemon's threads: they run in this process.
 *
 * FUZZ_API_LOG sets the daemon's log level (default error).  A run that
 * crashes leaves its /tmp/kmswatch-fuzz-api.* directory behind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "follow.h"
#include "format.h"
#include "ingest.h"
#include "log.h"

#define FUZZ_API_TIMEOUT_S	20	/* api.c drops idle clients at 10 s */
#define FUZZ_API_ANSWER_MAX	(16 << 20)	/* bytes of an answer kept */
#define FUZZ_API_METHOD_MAX	32
#define FUZZ_API_HEADERS_MAX	32
#define FUZZ_API_REQUESTS	4	/* requests in one input */
#define FUZZ_API_SEPARATOR	"\n--\n"
#define FUZZ_API_PUSH_MAX	(1 << 20)	/* push_max_body */
#define FUZZ_API_RETENTION_MS	(30LL * 86400 * 1000)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

/* A growing byte buffer; the harness aborts when memory runs out. */
struct fuzz_buf {
	char	*p;
	size_t	 len, cap;
};

/* The daemon under test, and what the run has seen. */
static struct {
	char		 dir[64];
	char		 db[128];
	struct follow	*writer;
	struct api	*api;
	uint16_t	 port;
	int		 count_5xx;	/* count 5xx answers, not abort */
	unsigned long	 requests, answers_5xx, dropped;
} fuzz_api;

static void __attribute__((format(printf, 2, 3), noreturn))
fuzz_api_fail(const struct fuzz_buf *req, const char *fmt, ...)
{
	va_list	ap;

	fputs("fuzz_api: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (req != NULL)
		fprintf(stderr, "\nfuzz_api: the request (%zu bytes):\n%.*s",
		    req->len, req->len > 2048 ? 2048 : (int)req->len, req->p);
	fputc('\n', stderr);
	abort();
}

static void
buf_add(struct fuzz_buf *b, const void *data, size_t n)
{
	size_t	cap;

	for (cap = b->cap ? b->cap : 256; cap < b->len + n + 1; cap *= 2)
		;
	if (cap != b->cap) {
		if ((b->p = realloc(b->p, cap)) == NULL)
			fuzz_api_fail(NULL, "out of memory");
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_str(struct fuzz_buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* 1 for the bytes of an HTTP token (RFC 9110, tchar). */
static int
is_tchar(unsigned char c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL));
}

/* The next line of in[*off..len), without its '\n'; *off moves past it. */
static const uint8_t *
next_line(const uint8_t *in, size_t len, size_t *off, size_t *n)
{
	const uint8_t	*start = in + *off, *nl;

	nl = memchr(start, '\n', len - *off);
	*n = nl != NULL ? (size_t)(nl - start) : len - *off;
	*off += *n + (nl != NULL);
	if (*n > 0 && start[*n - 1] == '\r')
		(*n)--;
	return start;
}

static void
add_method(struct fuzz_buf *req, const uint8_t *s, size_t n)
{
	size_t	i, kept = 0;

	for (i = 0; i < n && kept < FUZZ_API_METHOD_MAX; i++) {
		if (is_tchar(s[i])) {
			buf_add(req, &s[i], 1);
			kept++;
		}
	}
	if (kept == 0)
		buf_str(req, "GET");
}

static void
add_target(struct fuzz_buf *req, const uint8_t *s, size_t n)
{
	char	hex[4];
	size_t	i;

	if (n == 0)
		buf_str(req, "/");
	for (i = 0; i < n; i++) {
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '#') {
			snprintf(hex, sizeof hex, "%%%02X", s[i]);
			buf_add(req, hex, 3);
		} else
			buf_add(req, &s[i], 1);
	}
}

/* One input header line, when it is one the harness lets through. */
static void
add_header(struct fuzz_buf *req, const uint8_t *s, size_t n)
{
	static const char *const own[] = { "host", "content-length",
	    "transfer-encoding", "connection", NULL };
	const uint8_t	*colon;
	size_t		 name, i;

	if ((colon = memchr(s, ':', n)) == NULL || colon == s)
		return;
	name = (size_t)(colon - s);
	for (i = 0; i < name; i++)
		if (!is_tchar(s[i]))
			return;
	for (i = 0; own[i] != NULL; i++)
		if (strlen(own[i]) == name &&
		    strncasecmp((const char *)s, own[i], name) == 0)
			return;

	buf_add(req, s, name + 1);
	for (i = name + 1; i < n; i++) {
		if ((s[i] < ' ' && s[i] != '\t') || s[i] == 0x7f)
			buf_str(req, " ");
		else
			buf_add(req, &s[i], 1);
	}
	buf_str(req, "\r\n");
}

/* The request an input stands for; see the layout at the top. */
static void
build_request(const uint8_t *in, size_t len, struct fuzz_buf *req,
    int *is_head)
{
	const uint8_t	*line;
	size_t		 off = 0, n, nheaders = 0;
	char		 clen[64];

	line = next_line(in, len, &off, &n);
	add_method(req, line, n);
	*is_head = strcmp(req->p, "HEAD") == 0;
	buf_str(req, " ");
	line = next_line(in, len, &off, &n);
	add_target(req, line, n);
	buf_str(req, " HTTP/1.1\r\nHost: 127.0.0.1\r\n");

	while (off < len) {
		line = next_line(in, len, &off, &n);
		if (n == 0)
			break;
		if (nheaders++ < FUZZ_API_HEADERS_MAX)
			add_header(req, line, n);
	}
	snprintf(clen, sizeof clen, "Content-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", len - off);
	buf_str(req, clen);
	buf_add(req, in + off, len - off);
}

static int
connect_api(void)
{
	struct sockaddr_in	sin;
	int			fd;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(fuzz_api.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/*
	 * libFuzzer's timer signal can interrupt connect(), which then goes
	 * on in the background: start again on a new socket.
	 */
	for (;;) {
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			fuzz_api_fail(NULL, "socket: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0)
			return fd;
		if (errno != EINTR)
			fuzz_api_fail(NULL, "the daemon refuses connections: "
			    "%s", strerror(errno));
		close(fd);
	}
}

/*
 * Sends what the daemon will take; it may answer and close early.  No
 * shutdown(SHUT_WR): libmicrohttpd takes a half-close for an abort.
 */
static void
send_request(int fd, const struct fuzz_buf *req)
{
	size_t	sent = 0;
	ssize_t	n;

	while (sent < req->len) {
		n = send(fd, req->p + sent, req->len - sent, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return;
		sent += (size_t)n;
	}
}

/* Reads until the daemon closes; aborts when it takes too long. */
static void
read_answer(int fd, const struct fuzz_buf *req, struct fuzz_buf *ans)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	time_t		deadline = time(NULL) + FUZZ_API_TIMEOUT_S;
	char		chunk[16384];
	ssize_t		n;

	for (;;) {
		if (time(NULL) > deadline)
			fuzz_api_fail(req, "no end of answer in %d s",
			    FUZZ_API_TIMEOUT_S);
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		n = read(fd, chunk, sizeof chunk);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (ans->len < FUZZ_API_ANSWER_MAX)
			buf_add(ans, chunk, (size_t)n);
	}
}

static void
exchange(const struct fuzz_buf *req, struct fuzz_buf *ans)
{
	int	fd;

	fd = connect_api();
	send_request(fd, req);
	read_answer(fd, req, ans);
	close(fd);
}

/*
 * The status of the answer at ans->p, skipping interim 1xx answers;
 * sets *body to the start of the final answer's body.
 */
static int
answer_status(const struct fuzz_buf *req, const struct fuzz_buf *ans,
    const char **head, const char **body)
{
	const char	*p = ans->p, *end;
	int		 status;

	for (;;) {
		if (strncmp(p, "HTTP/1.1 ", 9) != 0 &&
		    strncmp(p, "HTTP/1.0 ", 9) != 0)
			fuzz_api_fail(req, "the answer does not start with a "
			    "status line: \"%.40s\"", p);
		if (sscanf(p + 9, "%3d", &status) != 1 || status < 100 ||
		    status > 599)
			fuzz_api_fail(req, "bad status in \"%.40s\"", p);
		if ((end = strstr(p, "\r\n\r\n")) == NULL)
			fuzz_api_fail(req, "the answer's header never ends");
		if (status >= 200)
			break;
		p = end + 4;
	}
	*head = p;
	*body = end + 4;
	return status;
}

/* The value of header name in the block at head, or NULL. */
static const char *
answer_header(const char *head, const char *body, const char *name)
{
	const char	*p;
	size_t		 n = strlen(name);

	for (p = strstr(head, "\r\n"); p != NULL && p + 2 < body;
	    p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':')
			return p + 3 + n + strspn(p + 3 + n, " ");
	}
	return NULL;
}

/*
 * A JSON answer must parse; a text answer must be UTF-8, which Jansson's
 * json_stringn() checks for us (NULs allowed).
 */
static void
check_body(const struct fuzz_buf *req, const struct fuzz_buf *ans,
    const char *head, const char *body)
{
	const char	*ctype;
	size_t		 len = ans->len - (size_t)(body - ans->p);
	json_error_t	 err;
	json_t		*doc;

	ctype = answer_header(head, body, "Content-Type");
	if (ctype == NULL || ans->len >= FUZZ_API_ANSWER_MAX ||
	    answer_header(head, body, "Transfer-Encoding") != NULL)
		return;
	if (strncasecmp(ctype, "application/json", 16) == 0) {
		if ((doc = json_loadb(body, len, 0, &err)) == NULL)
			fuzz_api_fail(req, "a JSON answer that is not JSON (%s "
			    "at %d): %.200s", err.text, err.position, body);
		json_decref(doc);
	} else if (strncasecmp(ctype, "text/", 5) == 0) {
		if ((doc = json_stringn(body, len)) == NULL)
			fuzz_api_fail(req, "a %.40s answer that is not UTF-8",
			    ctype);
		json_decref(doc);
	}
}

/* The daemon must still answer after a connection it dropped. */
static void
check_alive(const struct fuzz_buf *req)
{
	static const char probe[] = "GET /healthz HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nConnection: close\r\n\r\n";
	struct fuzz_buf	 p = { NULL, 0, 0 }, ans = { NULL, 0, 0 };
	const char	*head, *body;

	buf_str(&p, probe);
	exchange(&p, &ans);
	if (ans.len == 0 || answer_status(&p, &ans, &head, &body) != 200)
		fuzz_api_fail(req, "GET /healthz fails after this request "
		    "was dropped");
	free(p.p);
	free(ans.p);
}

/* One request of an input: sent, answered, the answer checked. */
static void
run_request(const uint8_t *in, size_t len)
{
	struct fuzz_buf	 req = { NULL, 0, 0 }, ans = { NULL, 0, 0 };
	const char	*head, *body;
	int		 is_head, status;

	build_request(in, len, &req, &is_head);
	exchange(&req, &ans);
	fuzz_api.requests++;

	if (ans.len == 0) {
		fuzz_api.dropped++;
		check_alive(&req);
		goto out;
	}
	status = answer_status(&req, &ans, &head, &body);
	if (status >= 500 && !fuzz_api.count_5xx)
		fuzz_api_fail(&req, "answered %d: %.300s", status, body);
	if (status >= 500)
		fuzz_api.answers_5xx++;
	if (!is_head)
		check_body(&req, &ans, head, body);

out:
	free(req.p);
	free(ans.p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	const uint8_t	*sep;
	size_t		 n, i;
	size_t		 seplen = sizeof FUZZ_API_SEPARATOR - 1;

	for (i = 1; i < FUZZ_API_REQUESTS; i++) {
		sep = memmem(buf, len, FUZZ_API_SEPARATOR, seplen);
		if (sep == NULL)
			break;
		n = (size_t)(sep - buf);
		run_request(buf, n);
		buf += n + seplen;
		len -= n + seplen;
	}
	run_request(buf, len);
	return 0;
}

/*
 * A few records near now, so that the default windows of stats and
 * timeseries hold some: JSON lines with times in ms, and an HTTP capture
 * of 2xx responses for the error ratios.
 */
static void
seed_push(void)
{
	static const char *const codes[] = { "Rejected.Throttling",
	    "Forbidden.KeyNotFound", "Rejected.Disabled", "InternalFailure" };
	static const int statuses[] = { 429, 404, 409, 500 };
	struct ingest_tally	 tally;
	struct fuzz_buf		 b = { NULL, 0, 0 };
	char			 line[512], date[64], *cause = NULL;
	long long		 now_ms = (long long)time(NULL) * 1000;
	time_t			 now = time(NULL);
	int			 i;

	for (i = 0; i < 24; i++) {
		snprintf(line, sizeof line, "{\"time\":%lld,\"api\":\"%s\","
		    "\"status\":%d,\"ErrorCode\":\"%s\",\"ErrorMessage\":"
		    "\"seeded\",\"RequestId\":\"fuzz-seed-%d\"}\n",
		    now_ms - i * 150000LL, i % 2 ? "Decrypt" : "Encrypt",
		    statuses[i % 4], codes[i % 4], i);
		buf_str(&b, line);
	}
	memset(&tally, 0, sizeof tally);
	if (follow_push(fuzz_api.writer, "fuzz-seed", FORMAT_JSONL,
	    (const uint8_t *)b.p, b.len, &tally, &cause) != 0)
		fuzz_api_fail(NULL, "seeding: %s", cause ? cause : "?");
	ingest_tally_clear(&tally);

	b.len = 0;
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime(&now));
	for (i = 0; i < 6; i++) {
		snprintf(line, sizeof line, "POST / HTTP/1.1\r\nHost: kms\r\n"
		    "x-kms-apiname: Encrypt\r\nContent-Length: 0\r\n\r\n"
		    "HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Length: 0\r\n\r\n",
		    date);
		buf_str(&b, line);
	}
	if (follow_push(fuzz_api.writer, "fuzz-seed-ok", FORMAT_HTTP,
	    (const uint8_t *)b.p, b.len, &tally, &cause) != 0)
		fuzz_api_fail(NULL, "seeding: %s", cause ? cause : "?");
	ingest_tally_clear(&tally);
	free(b.p);
}

static void
fuzz_api_stop(void)
{
	char	path[160];

	fprintf(stderr, "fuzz_api: %lu requests, %lu answered 5xx, %lu "
	    "dropped with no answer\n", fuzz_api.requests,
	    fuzz_api.answers_5xx, fuzz_api.dropped);
	api_stop(fuzz_api.api);
	follow_stop(fuzz_api.writer);
	unlink(fuzz_api.db);
	snprintf(path, sizeof path, "%s-wal", fuzz_api.db);
	unlink(path);
	snprintf(path, sizeof path, "%s-shm", fuzz_api.db);
	unlink(path);
	rmdir(fuzz_api.dir);
}

static void
set_log_level(void)
{
	const char	*name = getenv("FUZZ_API_LOG");
	enum log_level	 level = LOG_ERROR;

	if (name != NULL && log_parse_level(name, &level) != 0)
		fuzz_api_fail(NULL, "FUZZ_API_LOG=%s is not a log level", name);
	log_set_level(level);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct follow_config	 fc;
	struct api_config	 ac;
	const char		*mode = getenv("FUZZ_API_5XX");
	char			*cause = NULL;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	set_log_level();
	fuzz_api.count_5xx = mode != NULL && strcmp(mode, "count") == 0;

	snprintf(fuzz_api.dir, sizeof fuzz_api.dir,
	    "/tmp/kmswatch-fuzz-api.XXXXXX");
	if (mkdtemp(fuzz_api.dir) == NULL)
		fuzz_api_fail(NULL, "mkdtemp: %s", strerror(errno));
	snprintf(fuzz_api.db, sizeof fuzz_api.db, "%s/kmswatch.db",
	    fuzz_api.dir);

	memset(&fc, 0, sizeof fc);
	fc.db_path = fuzz_api.db;
	fc.retention_ms = FUZZ_API_RETENTION_MS;
	if (follow_start(&fc, &fuzz_api.writer, &cause) != 0)
		fuzz_api_fail(NULL, "follow_start: %s", cause ? cause : "?");
	seed_push();

	memset(&ac, 0, sizeof ac);
	ac.host = "127.0.0.1";
	ac.db_path = fuzz_api.db;
	ac.writer = fuzz_api.writer;
	ac.push_enabled = 1;
	ac.push_max_body = FUZZ_API_PUSH_MAX;
	if (api_start(&ac, &fuzz_api.api, &cause) != 0)
		fuzz_api_fail(NULL, "api_start: %s", cause ? cause : "?");
	fuzz_api.port = api_port(fuzz_api.api);
	atexit(fuzz_api_stop);
	return 0;
}
