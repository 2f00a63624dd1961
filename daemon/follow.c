/*
 * follow.c - the writer thread: followed files, pushed bodies, retention.
 *
 * The thread owns the store's only writer handle.  Each pass it takes the
 * pushes waiting, expands the sources (files, glob patterns, directories)
 * into files, reads what each file gained since its stored position, and
 * now and then deletes expired records.  It sleeps on inotify, so that new
 * data is picked up at once, and wakes at least every FOLLOW_POLL_MS in
 * any case: that poll is the fallback where inotify is missing or full.
 *
 * A file's position (device, inode, a hash of its head, bytes consumed) is
 * written in the same transaction as the records it covers, so a crash at
 * any moment, followed by a restart, reads every record exactly once.  A
 * message cut at the end of a file waits for the rest.  Rotation is read
 * the way `tail -F` does: when the name points at a new file, the old one
 * (still open) is read to its end first, then the new one from its start;
 * a file that shrank (copytruncate) is read again from its start.
 *
 * A full disk pauses ingestion rather than failing it: the failed batch is
 * rolled back with its position, one line says so, and the files are
 * tried again after a back-off of 1 s doubling to 5 s; the first write
 * that succeeds resumes, and says so.  Re-reading from the committed
 * position loses nothing and stores nothing twice.
 *
 * Known limit: gzip-compressed files are not followed as they grow; a .gz
 * file is read whole once its size has stopped changing for a poll.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "follow.h"
#include "hash.h"
#include "log.h"
#include "store.h"

#define FOLLOW_POLL_MS		500
#define FOLLOW_CHUNK		(4 << 20)	/* bytes read per step */
#define FOLLOW_CHUNK_MAX	(64 << 20)	/* largest message waited for */
#define FOLLOW_DETECT_MIN	64		/* bytes needed to detect */
#define FOLLOW_RETENTION_MS	60000		/* retention runs this often */
#define FOLLOW_EXPIRE_BATCH	5000
#define FOLLOW_FULL_WAIT_MIN	1000		/* ms, first retry when full */
#define FOLLOW_FULL_WAIT_MAX	5000		/* ms, back-off ceiling */

/* One file being followed. */
struct tracked {
	char *path;
	const struct follow_source *src;	/* valid until a reload */
	enum format fmt;
	int fd;
	dev_t dev;
	ino_t ino;
	struct store_input pos;
	int seen;			/* named by a source in this pass */
	int warned;			/* format complaint logged */
	off_t gz_size;			/* .gz: size at the last pass */
};

struct push_job {
	const char *source;
	enum format fmt;
	const uint8_t *buf;
	size_t len;
	const struct record *rec;	/* a single record, or */
	const struct reject *rej;	/* a single reject, or bytes */
	struct ingest_tally *tally;
	int rc;
	char *cause;
	int done;
	struct push_job *next;
};

struct follow {
	struct follow_config cfg;
	struct follow_source *sources;
	size_t nsources;
	struct follow_source *pending;	/* a reload not yet taken */
	size_t npending;
	int reload;
	struct store *st;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_int stop;
	int wake[2];			/* a pipe: a byte wakes the thread */
	int inotify;			/* -1 when unavailable */
	struct push_job *jobs;
	struct tracked **files;
	size_t nfiles;
	struct follow_stats stats;
	int64_t next_retention_ms;
	int64_t full_since_ms;		/* 0 unless paused: the disk is full */
	int64_t full_retry_ms;		/* files wait until then */
	int64_t full_wait_ms;		/* the back-off now */
	atomic_int full;		/* full_since_ms != 0, for the API */
	uint8_t *buf;
	size_t buf_cap;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
wake(struct follow *fw)
{
	char c = 1;

	/* A full pipe already holds a wake-up: nothing is lost. */
	if (write(fw->wake[1], &c, 1) == -1 && errno != EAGAIN)
		log_msg(LOG_WARNING, "follow: cannot wake the writer: %s",
		    strerror(errno));
}

int
follow_sources_copy(const struct follow_source *src, size_t n,
    struct follow_source **out)
{
	struct follow_source *c;
	size_t i;

	*out = NULL;
	if (n == 0)
		return 0;
	if ((c = calloc(n, sizeof *c)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		c[i] = src[i];
		c[i].name = strdup(src[i].name);
		c[i].path = strdup(src[i].path);
		if (c[i].name == NULL || c[i].path == NULL) {
			follow_sources_free(c, i + 1);
			return -1;
		}
	}
	*out = c;
	return 0;
}

void
follow_sources_free(struct follow_source *src, size_t n)
{
	size_t i;

	for (i = 0; src != NULL && i < n; i++) {
		free(src[i].name);
		free(src[i].path);
	}
	free(src);
}

/* --- the set of files ---------------------------------------------- */

static struct tracked *
tracked_find(struct follow *fw, const char *path)
{
	size_t i;

	for (i = 0; i < fw->nfiles; i++) {
		if (strcmp(fw->files[i]->path, path) == 0)
			return fw->files[i];
	}
	return NULL;
}

static void
tracked_free(struct tracked *t)
{
	if (t->fd != -1)
		close(t->fd);
	free(t->path);
	free(t);
}

/* Marks path as named by src, adding it to the set when new. */
static void
tracked_mark(struct follow *fw, const struct follow_source *src,
    const char *path)
{
	struct tracked *t, **grown;

	if ((t = tracked_find(fw, path)) != NULL) {
		t->seen = 1;
		t->src = src;
		return;
	}
	grown = realloc(fw->files, (fw->nfiles + 1) * sizeof *grown);
	if (grown == NULL || (t = calloc(1, sizeof *t)) == NULL ||
	    (t->path = strdup(path)) == NULL) {
		if (grown != NULL)
			fw->files = grown;
		free(t);
		log_msg(LOG_ERROR, "follow: out of memory adding path=%s",
		    path);
		return;
	}
	fw->files = grown;
	t->fd = -1;
	t->src = src;
	t->fmt = src->fmt;
	t->seen = 1;
	fw->files[fw->nfiles++] = t;
}

static void
watch_dir(struct follow *fw, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len = slash == NULL ? 1 : (size_t)(slash - path);

	if (fw->inotify == -1)
		return;
	if (slash == NULL)
		strcpy(dir, ".");
	else if (len == 0)
		strcpy(dir, "/");
	else if (len < sizeof dir)
		snprintf(dir, sizeof dir, "%.*s", (int)len, path);
	else
		return;
	/* Adding a directory twice returns the same watch: harmless. */
	inotify_add_watch(fw->inotify, dir, IN_MODIFY | IN_CREATE |
	    IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE |
	    IN_ATTRIB);
}

static void
expand_dir(struct follow *fw, const struct follow_source *src)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat sb;
	DIR *d;

	if ((d = opendir(src->path)) == NULL)
		return;
	if (fw->inotify != -1)
		inotify_add_watch(fw->inotify, src->path, IN_MODIFY |
		    IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
		    IN_CLOSE_WRITE);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof path, "%s/%s", src->path,
		    de->d_name) >= (int)sizeof path)
			continue;
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
			tracked_mark(fw, src, path);
	}
	closedir(d);
}

/* Expands one source into the files it names now. */
static void
expand_source(struct follow *fw, const struct follow_source *src)
{
	struct stat sb;
	glob_t g;
	size_t i;

	if (stat(src->path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		expand_dir(fw, src);
		return;
	}
	watch_dir(fw, src->path);
	if (strpbrk(src->path, "*?[") == NULL) {
		/* A single file, even while it does not exist. */
		tracked_mark(fw, src, src->path);
		return;
	}
	if (glob(src->path, 0, NULL, &g) != 0)
		return;
	for (i = 0; i < g.gl_pathc; i++) {
		if (stat(g.gl_pathv[i], &sb) == 0 && S_ISREG(sb.st_mode)) {
			tracked_mark(fw, src, g.gl_pathv[i]);
			watch_dir(fw, g.gl_pathv[i]);
		}
	}
	globfree(&g);
}

/* Drops the files no source names any more (after a reload). */
static void
sweep_unnamed(struct follow *fw)
{
	size_t i = 0;

	while (i < fw->nfiles) {
		if (fw->files[i]->seen) {
			i++;
			continue;
		}
		log_msg(LOG_INFO, "follow: no longer following path=%s",
		    fw->files[i]->path);
		tracked_free(fw->files[i]);
		fw->files[i] = fw->files[--fw->nfiles];
	}
}

/* --- reading one file ------------------------------------------------ */

/* Makes fw->buf hold at least want bytes. */
static int
buf_reserve(struct follow *fw, size_t want)
{
	uint8_t *grown;

	if (fw->buf_cap >= want)
		return 0;
	if ((grown = realloc(fw->buf, want)) == NULL)
		return -1;
	fw->buf = grown;
	fw->buf_cap = want;
	return 0;
}

static ssize_t
read_at(int fd, uint8_t *buf, size_t len, off_t off)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, buf + got, len - got, off + (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Hashes the file's first head_len bytes; -1 when it has fewer. */
static int
head_hash(int fd, int64_t head_len, int64_t *h)
{
	uint8_t head[INGEST_HEAD_LEN];

	if (head_len > INGEST_HEAD_LEN ||
	    read_at(fd, head, (size_t)head_len, 0) != head_len)
		return -1;
	*h = (int64_t)hash_bytes(head, (size_t)head_len, 0);
	return 0;
}

/* Sets the head of a position from the file as it is now. */
static void
head_take(struct tracked *t, off_t size)
{
	t->pos.head_len = size < INGEST_HEAD_LEN ? (int64_t)size :
	    INGEST_HEAD_LEN;
	if (head_hash(t->fd, t->pos.head_len, &t->pos.head_hash) == -1)
		t->pos.head_len = t->pos.head_hash = 0;
}

/* 1 when the stored position describes the file open as t->fd. */
static int
position_matches(struct tracked *t, const struct store_input *old,
    off_t size)
{
	int64_t h;

	if (old->dev != (uint64_t)t->dev || old->ino != (uint64_t)t->ino ||
	    old->done > (int64_t)size)
		return 0;
	return head_hash(t->fd, old->head_len, &h) == 0 &&
	    h == old->head_hash;
}

/*
 * Opens path as t's file: resumes the stored position when it describes
 * this file, else starts at the beginning (or the end, for start = end
 * when the file was never seen).
 */
static int
tracked_open(struct follow *fw, struct tracked *t)
{
	struct store_input old;
	char *cause = NULL;
	struct stat sb;
	int rc;

	if ((t->fd = open(t->path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(t->fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(t->fd);
		t->fd = -1;
		return -1;
	}
	t->dev = sb.st_dev;
	t->ino = sb.st_ino;
	memset(&t->pos, 0, sizeof t->pos);
	t->pos.dev = (uint64_t)sb.st_dev;
	t->pos.ino = (uint64_t)sb.st_ino;

	rc = store_input_get(fw->st, t->path, &old, &cause);
	if (rc == -1) {
		log_msg(LOG_ERROR, "follow: reading position path=%s: %s",
		    t->path, cause);
		free(cause);
	}
	if (rc == 0 && position_matches(t, &old, sb.st_size)) {
		t->pos = old;
		log_msg(LOG_INFO, "follow: resuming path=%s offset=%lld",
		    t->path, (long long)old.done);
		return 0;
	}
	head_take(t, sb.st_size);
	if (rc == 1 && t->src->start_end)
		t->pos.done = (int64_t)sb.st_size;
	log_msg(LOG_INFO, "follow: following path=%s offset=%lld", t->path,
	    (long long)t->pos.done);
	return 0;
}

/* Detects the format from the first bytes, once there are enough. */
static int
tracked_format(struct follow *fw, struct tracked *t, off_t size)
{
	uint8_t head[4096];
	ssize_t n;

	if (t->fmt != FORMAT_UNKNOWN)
		return 0;
	if (size < FOLLOW_DETECT_MIN)
		return -1;
	if ((n = read_at(t->fd, head, sizeof head, 0)) <= 0)
		return -1;
	t->fmt = format_detect(head, (size_t)n);
	if (t->fmt == FORMAT_UNKNOWN && !t->warned &&
	    (n == (ssize_t)sizeof head || size >= (off_t)sizeof head)) {
		log_msg(LOG_WARNING, "follow: cannot tell the format of "
		    "path=%s; name it in the source's format", t->path);
		t->warned = 1;
	}
	(void)fw;
	return t->fmt == FORMAT_UNKNOWN ? -1 : 0;
}

static void
tally_add(struct follow *fw, const struct ingest_tally *tl)
{
	pthread_mutex_lock(&fw->lock);
	fw->stats.records += tl->accepted;
	fw->stats.duplicates += tl->duplicates;
	fw->stats.rejects += tl->rejected;
	fw->stats.responses += tl->responses;
	fw->stats.last_ingest_ms = now_ms();
	pthread_mutex_unlock(&fw->lock);
}

/* Logs the rejects of a step, one line each: they are input refused. */
static void
log_rejects(const char *path, const struct ingest_tally *tl)
{
	size_t i;

	for (i = 0; i < tl->nkept; i++)
		log_msg(LOG_WARNING, "follow: rejected path=%s offset=%llu "
		    "reason=%s", path, (unsigned long long)tl->kept[i].offset,
		    tl->kept[i].reason);
}

/*
 * A write failed for want of disk space: ingestion pauses.  The first
 * failure logs one line; later ones only push the next try further off.
 */
static void
full_pause(struct follow *fw, const char *path, const char *cause)
{
	int64_t now = now_ms();

	if (fw->full_since_ms == 0) {
		log_msg(LOG_WARNING, "follow: disk full; ingestion paused "
		    "path=%s db=%s cause=\"%s\" retry_ms=%d", path,
		    fw->cfg.db_path, cause != NULL ? cause : "unknown",
		    FOLLOW_FULL_WAIT_MIN);
		fw->full_since_ms = now;
		fw->full_wait_ms = FOLLOW_FULL_WAIT_MIN;
		atomic_store(&fw->full, 1);
	} else if ((fw->full_wait_ms *= 2) > FOLLOW_FULL_WAIT_MAX)
		fw->full_wait_ms = FOLLOW_FULL_WAIT_MAX;
	fw->full_retry_ms = now + fw->full_wait_ms;
}

/* A write of a followed file failed: pause when full, else log it. */
static void
write_failed(struct follow *fw, const char *path, const char *cause)
{
	if (store_disk_full(fw->st))
		full_pause(fw, path, cause);
	else
		log_msg(LOG_ERROR, "follow: cannot store path=%s: %s", path,
		    cause != NULL ? cause : "out of memory");
}

/* A write went through: if ingestion was paused, it has resumed. */
static void
write_succeeded(struct follow *fw)
{
	if (fw->full_since_ms == 0)
		return;
	log_msg(LOG_INFO, "follow: disk space back; ingestion resumed db=%s "
	    "paused_ms=%lld", fw->cfg.db_path,
	    (long long)(now_ms() - fw->full_since_ms));
	fw->full_since_ms = 0;
	atomic_store(&fw->full, 0);
}

/* 1 while files must wait for the next try at a full disk. */
static int
full_waiting(struct follow *fw)
{
	return fw->full_since_ms != 0 && now_ms() < fw->full_retry_ms;
}

/*
 * After a pass that was due to retry and failed nowhere: when no file had
 * anything to write, only the free space can say the pause is over.
 */
static void
full_recheck(struct follow *fw)
{
	if (fw->full_since_ms != 0 && !full_waiting(fw) &&
	    !store_disk_full(fw->st))
		write_succeeded(fw);
}

/*
 * After a failed step the position in memory may be ahead of what was
 * committed: take the stored one back.
 */
static void
position_reload(struct follow *fw, struct tracked *t)
{
	struct store_input old;

	if (store_input_get(fw->st, t->path, &old, NULL) == 0 &&
	    old.dev == t->pos.dev && old.ino == t->pos.ino)
		t->pos = old;
}

/*
 * Reads and stores what the file holds past its position.  final says the
 * file will not grow (a rotated file): a message cut at its end is then a
 * reject rather than something to wait for.
 */
static void
tracked_read(struct follow *fw, struct tracked *t, off_t size, int final)
{
	size_t want = FOLLOW_CHUNK, consumed;
	struct ingest_tally tl;
	char *cause = NULL;
	ssize_t n;

	while ((off_t)t->pos.done < size && !fw->stop) {
		if (buf_reserve(fw, want) == -1)
			return;
		n = read_at(t->fd, fw->buf, want, (off_t)t->pos.done);
		if (n <= 0)
			return;
		memset(&tl, 0, sizeof tl);
		if (ingest_chunk(fw->st, t->path, t->fmt, fw->buf, (size_t)n,
		    (uint64_t)t->pos.done, final && (size_t)n < want, &t->pos,
		    now_ms(), &tl, &consumed, &cause) == -1) {
			write_failed(fw, t->path, cause);
			free(cause);
			ingest_tally_clear(&tl);
			position_reload(fw, t);
			return;
		}
		write_succeeded(fw);
		tally_add(fw, &tl);
		log_rejects(t->path, &tl);
		ingest_tally_clear(&tl);
		/* A message longer than the chunk: read a bigger one. */
		if (consumed == 0 && (size_t)n == want && want < FOLLOW_CHUNK_MAX)
			want *= 2;
		else if (consumed == 0)
			return;
	}
}

/* Reads a whole .gz file once its size has stopped changing. */
static void
tracked_read_gz(struct follow *fw, struct tracked *t, off_t size)
{
	struct ingest_tally tl;
	char *cause = NULL;

	if (t->pos.done >= (int64_t)size || size != t->gz_size) {
		t->gz_size = size;
		return;
	}
	memset(&tl, 0, sizeof tl);
	if (ingest_file(fw->st, t->path, NULL, t->src->fmt, now_ms(), &tl,
	    &cause) == -1) {
		write_failed(fw, t->path, cause);
		free(cause);
	} else {
		write_succeeded(fw);
		tally_add(fw, &tl);
		log_rejects(t->path, &tl);
		t->pos.done = (int64_t)size;
	}
	ingest_tally_clear(&tl);
}

static int
is_gz(const char *path)
{
	size_t len = strlen(path);

	return len > 3 && strcmp(path + len - 3, ".gz") == 0;
}

/* The name now points at another file: finish the old one, reopen. */
static void
tracked_rotated(struct follow *fw, struct tracked *t)
{
	struct stat sb;

	if (fstat(t->fd, &sb) == 0) {
		log_msg(LOG_INFO, "follow: rotated path=%s; reading the old "
		    "file to its end", t->path);
		tracked_read(fw, t, sb.st_size, 1);
	}
	close(t->fd);
	t->fd = -1;
}

/* One pass over one file: notice rotation and truncation, read. */
static void
tracked_step(struct follow *fw, struct tracked *t)
{
	struct stat sb;

	if (full_waiting(fw))
		return;
	if (t->fd != -1 && (stat(t->path, &sb) == -1 || sb.st_ino != t->ino ||
	    sb.st_dev != t->dev))
		tracked_rotated(fw, t);
	if (t->fd == -1 && tracked_open(fw, t) == -1)
		return;
	if (fstat(t->fd, &sb) == -1)
		return;
	if ((int64_t)sb.st_size < t->pos.done) {
		log_msg(LOG_INFO, "follow: truncated path=%s; reading from "
		    "the start", t->path);
		t->pos.done = 0;
		head_take(t, sb.st_size);
	} else if (t->pos.head_len < INGEST_HEAD_LEN &&
	    sb.st_size > t->pos.head_len)
		head_take(t, sb.st_size);
	if (is_gz(t->path)) {
		tracked_read_gz(fw, t, sb.st_size);
		return;
	}
	if (tracked_format(fw, t, sb.st_size) == 0)
		tracked_read(fw, t, sb.st_size, 0);
}

/* --- pushes, retention, the loop ------------------------------------- */

/* Runs the pushes waiting; each caller is told when its own is done. */
static void
run_pushes(struct follow *fw)
{
	struct push_job *job;

	for (;;) {
		pthread_mutex_lock(&fw->lock);
		if ((job = fw->jobs) != NULL)
			fw->jobs = job->next;
		pthread_mutex_unlock(&fw->lock);
		if (job == NULL)
			return;

		if (job->rec != NULL || job->rej != NULL)
			job->rc = ingest_record(fw->st, job->source, job->rec,
			    job->rej, now_ms(), job->tally, &job->cause);
		else
			job->rc = ingest_buffer(fw->st, job->source, job->fmt,
			    job->buf, job->len, now_ms(), job->tally,
			    &job->cause);
		/*
		 * Pushes are tried even while paused, as space may be back,
		 * but one that succeeds does not end the pause: a small one
		 * can fit in the WAL's already allocated tail when a file's
		 * batch does not, and the state would flap.  A failure other
		 * than a full disk is the API's to log.
		 */
		if (job->rc == 0)
			tally_add(fw, job->tally);
		else if (store_disk_full(fw->st))
			full_pause(fw, job->source, job->cause);

		pthread_mutex_lock(&fw->lock);
		job->done = 1;
		pthread_cond_broadcast(&fw->cond);
		pthread_mutex_unlock(&fw->lock);
	}
}

/*
 * Deletes expired records a batch at a time, so that followed files and
 * pushes wait for one batch at most; it comes back next pass if more
 * remain.
 */
static void
run_retention(struct follow *fw)
{
	int64_t now = now_ms(), deleted = 0;
	char *cause = NULL;

	if (now < fw->next_retention_ms)
		return;
	if (fw->cfg.retention_ms > 0 && store_expire(fw->st,
	    now - fw->cfg.retention_ms, FOLLOW_EXPIRE_BATCH, &deleted,
	    &cause) == -1)
		goto fail;
	if (fw->cfg.rollup_retention_ms > 0 && deleted < FOLLOW_EXPIRE_BATCH) {
		int64_t rolled = 0;

		if (store_expire_rollups(fw->st, now -
		    fw->cfg.rollup_retention_ms, &rolled, &cause) == -1)
			goto fail;
	}
	pthread_mutex_lock(&fw->lock);
	fw->stats.expired += deleted;
	pthread_mutex_unlock(&fw->lock);
	if (deleted > 0)
		log_msg(LOG_INFO, "follow: expired records=%lld",
		    (long long)deleted);
	/* A full batch means more are due: come back on the next pass. */
	if (deleted < FOLLOW_EXPIRE_BATCH)
		fw->next_retention_ms = now + FOLLOW_RETENTION_MS;
	return;

fail:
	log_msg(LOG_ERROR, "follow: retention failed: %s",
	    cause != NULL ? cause : "out of memory");
	free(cause);
	fw->next_retention_ms = now + FOLLOW_RETENTION_MS;
}

/*
 * Expands the sources into files.  A reload is taken here, in the writer's
 * own thread, so that no file is in the middle of a read when the sources
 * it points at are replaced.
 */
static void
scan_sources(struct follow *fw)
{
	size_t i;

	pthread_mutex_lock(&fw->lock);
	if (fw->reload) {
		follow_sources_free(fw->sources, fw->nsources);
		fw->sources = fw->pending;
		fw->nsources = fw->npending;
		fw->pending = NULL;
		fw->npending = 0;
		fw->reload = 0;
	}
	for (i = 0; i < fw->nfiles; i++)
		fw->files[i]->seen = 0;
	for (i = 0; i < fw->nsources; i++)
		expand_source(fw, &fw->sources[i]);
	sweep_unnamed(fw);
	fw->stats.files = (int64_t)fw->nfiles;
	pthread_mutex_unlock(&fw->lock);
}

/* Sleeps until inotify or a wake-up says something changed, or a poll. */
static void
wait_for_change(struct follow *fw)
{
	struct pollfd p[2] = {
		{ fw->wake[0], POLLIN, 0 }, { fw->inotify, POLLIN, 0 },
	};
	char drain[4096];

	if (poll(p, fw->inotify != -1 ? 2 : 1, FOLLOW_POLL_MS) <= 0)
		return;
	if (p[0].revents & POLLIN)
		while (read(fw->wake[0], drain, sizeof drain) > 0)
			;
	if (fw->inotify != -1 && (p[1].revents & POLLIN))
		while (read(fw->inotify, drain, sizeof drain) > 0)
			;
}

static void *
follow_main(void *arg)
{
	struct follow *fw = arg;
	size_t i;

	while (!fw->stop) {
		run_pushes(fw);
		scan_sources(fw);
		for (i = 0; i < fw->nfiles && !fw->stop; i++) {
			tracked_step(fw, fw->files[i]);
			run_pushes(fw);
		}
		full_recheck(fw);
		run_retention(fw);
		if (!fw->stop)
			wait_for_change(fw);
	}
	/* Pushes queued before the stop are still stored. */
	run_pushes(fw);
	return NULL;
}

static void
follow_free(struct follow *fw)
{
	size_t i;

	for (i = 0; i < fw->nfiles; i++)
		tracked_free(fw->files[i]);
	free(fw->files);
	follow_sources_free(fw->sources, fw->nsources);
	follow_sources_free(fw->pending, fw->npending);
	if (fw->inotify != -1)
		close(fw->inotify);
	if (fw->wake[0] != -1) {
		close(fw->wake[0]);
		close(fw->wake[1]);
	}
	store_close(fw->st);
	free(fw->buf);
	pthread_mutex_destroy(&fw->lock);
	pthread_cond_destroy(&fw->cond);
	free(fw);
}

int
follow_start(const struct follow_config *cfg, struct follow **out,
    char **cause)
{
	struct follow *fw;

	*out = NULL;
	if ((fw = calloc(1, sizeof *fw)) == NULL)
		goto nomem;
	fw->cfg = *cfg;
	fw->wake[0] = fw->wake[1] = -1;
	pthread_mutex_init(&fw->lock, NULL);
	pthread_cond_init(&fw->cond, NULL);
	if (follow_sources_copy(cfg->sources, cfg->nsources,
	    &fw->sources) == -1)
		goto nomem_free;
	fw->nsources = cfg->nsources;
	fw->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fw->inotify == -1)
		log_msg(LOG_WARNING, "follow: inotify unavailable (%s); "
		    "polling every %d ms", strerror(errno), FOLLOW_POLL_MS);
	if (pipe2(fw->wake, O_NONBLOCK | O_CLOEXEC) == -1 ||
	    store_open(cfg->db_path, STORE_WRITE, &fw->st, cause) == -1)
		goto fail;
	if (pthread_create(&fw->thread, NULL, follow_main, fw) != 0) {
		if (cause != NULL)
			*cause = strdup("cannot start the writer thread");
		goto fail;
	}
	*out = fw;
	return 0;

nomem_free:
	follow_free(fw);
nomem:
	if (cause != NULL)
		*cause = strdup("out of memory");
	return -1;
fail:
	if (cause != NULL && *cause == NULL && asprintf(cause, "%s",
	    strerror(errno)) == -1)
		*cause = NULL;
	follow_free(fw);
	return -1;
}

int
follow_reload(struct follow *fw, const struct follow_source *sources,
    size_t nsources)
{
	struct follow_source *copy;

	if (follow_sources_copy(sources, nsources, &copy) == -1)
		return -1;
	pthread_mutex_lock(&fw->lock);
	follow_sources_free(fw->pending, fw->npending);
	fw->pending = copy;
	fw->npending = nsources;
	fw->reload = 1;
	pthread_mutex_unlock(&fw->lock);
	wake(fw);
	return 0;
}

/* Queues a job for the writer and waits until it is done. */
static int
push_wait(struct follow *fw, struct push_job *jobp, char **cause)
{
	struct push_job job = *jobp;
	struct push_job **tail;

	pthread_mutex_lock(&fw->lock);
	if (fw->stop) {
		pthread_mutex_unlock(&fw->lock);
		if (cause != NULL)
			*cause = strdup("the daemon is stopping");
		return -1;
	}
	for (tail = &fw->jobs; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = &job;
	pthread_mutex_unlock(&fw->lock);
	wake(fw);

	pthread_mutex_lock(&fw->lock);
	while (!job.done)
		pthread_cond_wait(&fw->cond, &fw->lock);
	pthread_mutex_unlock(&fw->lock);
	if (job.rc == -1 && cause != NULL)
		*cause = job.cause;
	else
		free(job.cause);
	return job.rc;
}

int
follow_push(struct follow *fw, const char *source, enum format fmt,
    const uint8_t *buf, size_t len, struct ingest_tally *tally,
    char **cause)
{
	struct push_job job = { source, fmt, buf, len, NULL, NULL, tally, 0,
	    NULL, 0, NULL };

	return push_wait(fw, &job, cause);
}

int
follow_push_record(struct follow *fw, const char *source,
    const struct record *rec, const struct reject *rej,
    struct ingest_tally *tally, char **cause)
{
	struct push_job job = { source, FORMAT_UNKNOWN, NULL, 0, rec, rej,
	    tally, 0, NULL, 0, NULL };

	return push_wait(fw, &job, cause);
}

int
follow_full(struct follow *fw)
{
	return atomic_load(&fw->full);
}

void
follow_get_stats(struct follow *fw, struct follow_stats *stats)
{
	pthread_mutex_lock(&fw->lock);
	*stats = fw->stats;
	pthread_mutex_unlock(&fw->lock);
}

void
follow_stop(struct follow *fw)
{
	if (fw == NULL)
		return;
	pthread_mutex_lock(&fw->lock);
	fw->stop = 1;
	pthread_mutex_unlock(&fw->lock);
	wake(fw);
	pthread_join(fw->thread, NULL);
	follow_free(fw);
}
