/* store/recover.c — what store_open does with a damaged data dir: drop a torn
 * tail of the newest write-ahead log, or set the damaged files aside.
 *
 * leveldb's log format (leveldb doc/log_format.md), 32 KiB blocks:
 *
 *   block:  [record][record]...[trailer < 7 bytes, zeros]
 *   record: [masked crc32c: 4 LE][length: 2 LE][type: 1][payload: length]
 *           crc over type ‖ payload; type 1 FULL, 2 FIRST, 3 MIDDLE, 4 LAST
 *           (a batch longer than a block is FIRST MIDDLE* LAST); a header
 *           of type 0 and length 0 is padding: the rest of the block is
 *           skipped.
 *
 * A power cut can tear only what was written after the last fsync of the
 * newest log: a tail of garbage or zeros where its last records were. The
 * store's sync order (batch.c) makes every earlier write durable before any
 * later one, so a tail that holds no valid record anywhere after the first
 * bad byte held nothing that was ever synced: dropping it loses nothing that
 * was acknowledged.
 *
 * An unwritten page: the page cache may write a later page of the log before
 * an earlier one, and a power cut between the two leaves zeros (a header of
 * type 0, length 0 where more than a trailer's room is left: leveldb writes
 * no such thing) with intact records after them. leveldb skips the zeros and
 * the rest of their block without a word and replays what follows, which
 * would keep later unsynced writes without earlier ones. An fsync of the log
 * writes every page of it, so no sync came after the zeros were due: the
 * hole and everything after it are unsynced, and are dropped before leveldb
 * reads the log (store_log_drop_hole), leaving the suffix-only loss the
 * engine relies on.
 *
 * Anything else (a bad record with valid records after it, damage in an
 * older log, a table or the MANIFEST) may be data that was synced: it is
 * never dropped silently. With recover, store_open moves every file of the
 * damaged store into a dated subdirectory and starts a new one.
 *
 * Invariant: this file truncates only the newest log, only at the end of its
 * last whole record, and only when nothing valid follows or zeros (never
 * written by leveldb) precede what follows; it deletes nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/internal.h"
#include "util/crc32c.h"
#include "util/log.h"

#define LOG_BLOCK      32768
#define LOG_HDR        7
#define LOG_MASK_DELTA 0xa282ead8u

enum log_type {
	LOG_ZERO = 0,
	LOG_FULL = 1,
	LOG_FIRST = 2,
	LOG_MIDDLE = 3,
	LOG_LAST = 4,
};

static uint32_t unmask_crc(uint32_t masked)
{
	uint32_t rot = masked - LOG_MASK_DELTA;
	return (rot >> 17) | (rot << 15);
}

/* A whole, intact record starts at p: *type and *len say which. */
static bool record_at(const uint8_t *buf, size_t size, size_t p, unsigned *type, size_t *len)
{
	size_t left = LOG_BLOCK - p % LOG_BLOCK;
	if (left < LOG_HDR || size - p < LOG_HDR)
		return false;
	size_t n = (size_t)buf[p + 4] | (size_t)buf[p + 5] << 8;
	unsigned t = buf[p + 6];
	if (t < LOG_FULL || t > LOG_LAST || LOG_HDR + n > left || n > size - p - LOG_HDR)
		return false;
	uint32_t masked = (uint32_t)buf[p] | (uint32_t)buf[p + 1] << 8 |
			  (uint32_t)buf[p + 2] << 16 | (uint32_t)buf[p + 3] << 24;
	if (util_crc32c(0, buf + p + 6, 1 + n) != unmask_crc(masked))
		return false;
	*type = t;
	*len = n;
	return true;
}

/* Reads the log as leveldb's reader does. Returns the offset of the first
 * damage leveldb reports, or SIZE_MAX when it reports none (a record cut
 * short by the end of the file is not reported: leveldb takes it for a
 * writer that died there). *good is the end of the last whole batch. */
static size_t first_damage(const uint8_t *buf, size_t size, size_t *good)
{
	bool in_batch = false;
	size_t p = 0;

	*good = 0;
	while (p < size) {
		size_t left = LOG_BLOCK - p % LOG_BLOCK, avail = size - p < left ? size - p : left;
		if (left < LOG_HDR) {
			p += left; /* the block's trailer */
			continue;
		}
		if (avail < LOG_HDR)
			return SIZE_MAX; /* a header cut by the end of the file */
		size_t n = (size_t)buf[p + 4] | (size_t)buf[p + 5] << 8;
		unsigned t = buf[p + 6];
		if (LOG_HDR + n > avail)
			/* cut by the end of the file (in its last, partial block):
			 * not reported; in a whole block: "bad record length" */
			return avail < left ? SIZE_MAX : p;
		if (t == LOG_ZERO && n == 0)
			return p; /* never written: leveldb pads only the < 7-byte trailer */
		unsigned type;
		size_t len;
		if (!record_at(buf, size, p, &type, &len))
			return p; /* checksum mismatch, unknown type */
		switch (type) {
		case LOG_FULL:
		case LOG_FIRST:
			if (in_batch)
				return p; /* "partial record without end" */
			in_batch = type == LOG_FIRST;
			break;
		case LOG_MIDDLE:
		case LOG_LAST:
			if (!in_batch)
				return p; /* "missing start of fragmented record" */
			in_batch = type == LOG_MIDDLE;
			break;
		}
		p += LOG_HDR + len;
		if (!in_batch)
			*good = p;
	}
	return SIZE_MAX;
}

/* The first offset >= from where an intact record starts, or SIZE_MAX. */
static size_t next_record(const uint8_t *buf, size_t size, size_t from)
{
	unsigned type;
	size_t len;
	for (size_t p = from; p + LOG_HDR <= size; p++) {
		/* cheap tests first: a type byte and a length that fit */
		unsigned t = buf[p + 6];
		if (t < LOG_FULL || t > LOG_LAST)
			continue;
		if (record_at(buf, size, p, &type, &len))
			return p;
	}
	return SIZE_MAX;
}

static bool log_number(const char *name, uint64_t *num)
{
	size_t len = strlen(name);
	uint64_t n = 0;
	if (len <= 4 || strcmp(name + len - 4, ".log"))
		return false;
	for (size_t i = 0; i < len - 4; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		n = n * 10 + (uint64_t)(name[i] - '0');
	}
	*num = n;
	return true;
}

static int read_whole(const char *path, uint8_t **buf, size_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	*size = (size_t)st.st_size;
	*buf = malloc(*size ? *size : 1);
	if (!*buf) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t done = 0; done < *size;) {
		ssize_t n = pread(fd, *buf + done, *size - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			free(*buf);
			*buf = NULL;
			goto out;
		}
		done += (size_t)n;
	}
out:
	close(fd);
	return rc;
}

static int truncate_synced(const char *path, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len) < 0 || fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static bool zeros(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* The newest log's damage, repaired if a crash explains it: a torn tail
 * always; zeros with intact records after them when `holes`. */
static int repair_newest_log(const char *dir, bool holes, char *what, size_t wlen)
{
	char name[32], path[PATH_MAX];
	uint64_t newest = 0, num;
	bool any = false;
	struct dirent *de;
	uint8_t *buf = NULL;
	size_t size = 0, good, bad, next;
	DIR *d;
	int rc;

	snprintf(what, wlen, "no write-ahead log");
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (log_number(de->d_name, &num) && (!any || num > newest)) {
			newest = num;
			any = true;
		}
	closedir(d);
	if (!any)
		return 0;
	snprintf(name, sizeof(name), "%06" PRIu64 ".log", newest);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = read_whole(path, &buf, &size);
	if (rc) {
		snprintf(what, wlen, "cannot read %s: %s", name, strerror(-rc));
		return rc;
	}
	bad = first_damage(buf, size, &good);
	if (bad == SIZE_MAX) {
		snprintf(what, wlen,
			 "the newest log %s reads whole: the damage is in an older log, a table or "
			 "the MANIFEST",
			 name);
		free(buf);
		return 0;
	}
	next = next_record(buf, size, bad);
	bool hole = size - bad >= LOG_HDR && zeros(buf + bad, LOG_HDR);
	free(buf);
	if (next != SIZE_MAX && !(holes && hole)) {
		snprintf(what, wlen,
			 "%s: damaged record at offset %zu, with intact records after it (the "
			 "first at offset %zu of %zu bytes): not a torn tail",
			 name, bad, next, size);
		return 0;
	}
	rc = truncate_synced(path, good);
	if (rc) {
		snprintf(what, wlen, "cannot truncate %s: %s", name, strerror(-rc));
		return rc;
	}
	if (next == SIZE_MAX) {
		snprintf(what, wlen, "%s: torn tail after the last whole batch", name);
		LOG_WARN("store: %s: dropped a torn tail of %zu bytes at offset %zu (damage from "
			 "offset %zu, nothing intact after it): a write a crash cut short, never "
			 "synced",
			 path, size - good, good, bad);
	} else {
		snprintf(what, wlen, "%s: unwritten page at offset %zu", name, bad);
		LOG_WARN("store: %s: dropped %zu bytes at offset %zu: zeros at offset %zu (a page "
			 "a power cut left unwritten) with records after them, all written after "
			 "the last sync",
			 path, size - good, good, bad);
	}
	return 1;
}

int store_log_repair_tail(const char *dir, char *what, size_t wlen)
{
	return repair_newest_log(dir, false, what, wlen);
}

int store_log_drop_hole(const char *dir)
{
	char what[400];
	/* Only with leveldb's lock free: a log that another process, or another
	 * handle of this one, is writing is left to leveldb_open, which then
	 * says the store is busy. An OFD lock conflicts with leveldb's
	 * (process-associated) lock even in this process, where a plain
	 * F_SETLK would be granted. */
	char path[PATH_MAX];
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int rc, fd;

	snprintf(path, sizeof(path), "%s/LOCK", dir);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		close(fd);
		return 0;
	}
	rc = repair_newest_log(dir, true, what, sizeof(what));
	close(fd);
	return rc < 0 ? rc : 0;
}

/* ---- setting a damaged store aside ------------------------------------------ */

/* fsyncs the directories `a` and `b`: a rename between them is durable. */
static int sync_dirs(const char *a, const char *b)
{
	const char *dirs[2] = {a, b};
	int rc = 0, fd;
	for (int i = 0; i < 2 && !rc; i++) {
		fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0)
			rc = -errno;
		if (fd >= 0)
			close(fd);
	}
	return rc;
}

int store_set_aside(const char *dir, char *aside, size_t alen)
{
	char name[64], sub[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	struct dirent *de;
	struct tm tm;
	time_t now = time(NULL);
	DIR *d;
	int rc = 0;

	gmtime_r(&now, &tm);
	strftime(name, sizeof(name), STORE_DAMAGED_PREFIX "%Y%m%d-%H%M%S", &tm);
	snprintf(sub, sizeof(sub), "%s/%s", dir, name);
	for (int i = 2; mkdir(sub, 0700) < 0; i++) {
		if (errno != EEXIST || i > 99)
			return -errno;
		snprintf(sub, sizeof(sub), "%s/%s-%d", dir, name, i);
	}
	snprintf(aside, alen, "%s", sub);
	/* CURRENT goes first, durably: a crash in the middle of the moves then
	 * leaves a store without CURRENT (-EBADMSG: set aside again), never one
	 * that opens without its newest log. */
	if (snprintf(from, sizeof(from), "%s/CURRENT", dir) >= (int)sizeof(from) ||
	    snprintf(to, sizeof(to), "%s/CURRENT", sub) >= (int)sizeof(to))
		return -ENAMETOOLONG;
	if (rename(from, to) < 0 && errno != ENOENT)
		return -errno;
	if ((rc = sync_dirs(sub, dir)) < 0)
		return rc;
	d = opendir(dir);
	if (!d)
		return -errno;
	/* Every file of the store goes, LOCK (held by nobody now) excepted:
	 * what leveldb does not know it would delete as obsolete. */
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, "LOCK") ||
		    !strncmp(de->d_name, STORE_DAMAGED_PREFIX, strlen(STORE_DAMAGED_PREFIX)))
			continue;
		if (snprintf(from, sizeof(from), "%s/%s", dir, de->d_name) >= (int)sizeof(from) ||
		    snprintf(to, sizeof(to), "%s/%s", sub, de->d_name) >= (int)sizeof(to)) {
			rc = -ENAMETOOLONG;
			break;
		}
		if (lstat(from, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (rename(from, to) < 0) {
			rc = -errno;
			break;
		}
	}
	closedir(d);
	/* The moves must be durable before a new store is made beside them. */
	return rc ? rc : sync_dirs(sub, dir);
}
