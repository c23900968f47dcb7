/* store/open.c — opening, checking, reopening and closing a data dir.
 *
 * What a data dir can be when store_open looks at it:
 *
 *   missing ─────────────── create? mkdir 0700 ──▶ new store   (else -ENOENT)
 *   open to other users (mode & 077), unless foreign ▶ -EPERM "chmod 700 DIR"
 *   empty, or what an interrupted leveldb create leaves (LOCK, LOG,
 *   MANIFEST-000001, no CURRENT)  create? ────────▶ new store   (else -ENOENT)
 *   other files, no leveldb ─────────────────────▶ -EINVAL "not a paxfs data dir"
 *   leveldb files, no CURRENT ───────────────────▶ -EBADMSG (never "create":
 *                                   leveldb would start an empty database
 *                                   and delete the old tables as obsolete)
 *   CURRENT ──▶ leveldb open ──▶ "\0format" record:
 *                  present: checksum, version ──▶ store (or -EBADMSG, -EPROTONOSUPPORT)
 *                  absent, database empty ──────▶ creation was interrupted: finish it
 *                  absent, database not empty ──▶ -EINVAL (someone else's leveldb)
 *   damaged (-EBADMSG above): a torn tail of the newest log is dropped first
 *   (recover.c); with opt->recover anything else is set aside into
 *   damaged-<date>/ and a new store created (start_over).
 *
 * Invariant: store_open never writes to a directory it has not identified as
 * empty or as a paxfs store, and never asks leveldb to create a database
 * over existing leveldb files; it deletes no file of a damaged store (it
 * only moves them, with opt->recover) and cuts a log only at a torn tail.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "proto/record.pb-c.h"
#include "store/internal.h"
#include "store/keys.h"
#include "util/log.h"

/* leveldb tuning, measured with bench/store (figures in docs/store.md):
 * - write buffer 32 MiB: 1 MiB values are written at ~1.8x the rate of
 *   leveldb's 4 MiB (fewer level-0 tables, fewer writes waiting for a
 *   memtable flush or for compaction);
 * - tables of 8 MiB: 2 and 32 MiB measured the same within noise; fewer
 *   files to keep open than leveldb's 2 MiB;
 * - no compression: snappy measured no faster for writes and slightly
 *   slower for reads, and file data is mostly incompressible already;
 * - bloom filter, 10 bits per key: reads of absent keys (the common "is
 *   there a record?") 0.5 us instead of 2.0 us, present keys unchanged;
 * - block cache 8 MiB (leveldb's default): 8, 32 and 128 MiB read the same
 *   while the tables sit in the page cache. */
#define DEFAULT_CACHE_BYTES        ((size_t)8 << 20)
#define DEFAULT_WRITE_BUFFER_BYTES ((size_t)32 << 20)
#define DEFAULT_MAX_FILE_BYTES     ((size_t)8 << 20)
#define BLOOM_BITS_PER_KEY         10
/* Room a reopen needs besides the logs it turns into a table. */
#define REOPEN_SPARE_BYTES ((uint64_t)1 << 20)
/* How long a reopen waits for readers still using the old handle. */
#define REOPEN_WAIT_S 5

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- what is in the directory ---------------------------------------------- */

enum dir_kind {
	DIR_EMPTY = 1,  /* nothing, or only what an interrupted leveldb create leaves */
	DIR_STORE,      /* a leveldb database (CURRENT present) */
	DIR_NO_CURRENT, /* leveldb data files without CURRENT: damaged */
	DIR_FOREIGN,    /* files that are not leveldb's */
};

static bool all_digits(const char *p, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* leveldb's data files: MANIFEST-<n>, <n>.log, <n>.ldb, <n>.sst. */
static bool is_leveldb_data(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (!strncmp(name, "MANIFEST-", 9))
		return all_digits(name + 9, strlen(name + 9));
	if (!dot || !all_digits(name, (size_t)(dot - name)))
		return false;
	return !strcmp(dot, ".log") || !strcmp(dot, ".ldb") || !strcmp(dot, ".sst");
}

/* What leveldb creates before CURRENT exists (LOCK, its info log) and the
 * temporary file it renames to CURRENT. */
static bool is_leveldb_aux(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (!strcmp(name, "LOCK") || !strcmp(name, "LOG") || !strcmp(name, "LOG.old"))
		return true;
	return dot && !strcmp(dot, ".dbtmp") && all_digits(name, (size_t)(dot - name));
}

static int classify_dir(const char *dir, enum dir_kind *kind, char *foreign, size_t flen)
{
	bool current = false, data = false, other = false;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	foreign[0] = '\0';
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		if (!strcmp(n, ".") || !strcmp(n, "..") ||
		    !strncmp(n, STORE_DAMAGED_PREFIX, strlen(STORE_DAMAGED_PREFIX)))
			continue; /* a damaged store set aside (recover.c) */
		if (!strcmp(n, "CURRENT"))
			current = true;
		else if (!strcmp(n, "MANIFEST-000001"))
			/* leveldb's create writes it before CURRENT; alone (no log,
			 * no table) it means the create never finished and no data
			 * was ever written: every open makes a log first. */
			continue;
		else if (is_leveldb_data(n))
			data = true;
		else if (!is_leveldb_aux(n) && !other) {
			other = true;
			snprintf(foreign, flen, "%s", n);
		}
	}
	closedir(d);
	if (current)
		*kind = DIR_STORE;
	else if (data)
		*kind = DIR_NO_CURRENT;
	else if (other)
		*kind = DIR_FOREIGN;
	else
		*kind = DIR_EMPTY;
	return 0;
}

/* CURRENT must hold "MANIFEST-<digits>\n": anything else is damage that
 * leveldb would report as some other error (an empty name opens the dir). */
static bool current_is_sane(const char *dir)
{
	char path[PATH_MAX], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/CURRENT", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 10 && (size_t)n < sizeof(buf) && buf[n - 1] == '\n' &&
	       !strncmp(buf, "MANIFEST-", 9) && all_digits(buf + 9, (size_t)n - 10);
}

/* mkdir -p, every created component 0700; fsyncs the parent of each. */
static int make_dirs(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char saved = path[i];
		path[i] = '\0';
		if (mkdir(path, 0700) == 0) {
			/* Make the new entry durable in its parent. */
			char parent[PATH_MAX];
			char *slash;
			snprintf(parent, sizeof(parent), "%s", path);
			slash = strrchr(parent, '/');
			if (slash == parent)
				slash[1] = '\0';
			else if (slash)
				*slash = '\0';
			else
				snprintf(parent, sizeof(parent), ".");
			int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd >= 0) {
				int r = fsync(fd);
				close(fd);
				if (r < 0)
					return -errno;
			}
		} else if (errno != EEXIST) {
			return -errno;
		}
		path[i] = saved;
	}
	return 0;
}

/* ---- the leveldb handle ------------------------------------------------------ */

static int ldb_open(struct store *s, bool create, char *err, size_t errlen)
{
	char *lerr = NULL, what[400] = "";
	leveldb_t *db;
	int rc;

	leveldb_options_set_create_if_missing(s->lopt, create);
	rc = store_log_drop_hole(s->dir);
	if (rc < 0) {
		seterr(err, errlen, "cannot check the write-ahead log in %s: %s", s->dir,
		       strerror(-rc));
		return rc;
	}
	db = leveldb_open(s->lopt, s->dir, &lerr);
	/* A power cut may have torn the tail of the newest log, which
	 * paranoid_checks reports like any other damage: drop it if that is
	 * all it is (recover.c), and try again. A second look after a repair
	 * finds the log whole and stops. */
	for (int tries = 0; lerr && tries < 2 && store_ldb_errno(lerr) == -EBADMSG; tries++) {
		if (store_log_repair_tail(s->dir, what, sizeof(what)) != 1)
			break;
		leveldb_free(lerr);
		lerr = NULL;
		db = leveldb_open(s->lopt, s->dir, &lerr);
	}
	if (!lerr) {
		s->db = db;
		return 0;
	}
	rc = store_ldb_errno(lerr);
	switch (rc) {
	case -EBUSY:
		seterr(err, errlen,
		       "data dir %s is in use by another paxfs process, or already open in this "
		       "one (%s)",
		       s->dir, lerr);
		break;
	case -ENOSPC:
		seterr(err, errlen, "cannot open the store in %s: the disk is full (%s)", s->dir,
		       lerr);
		break;
	case -EBADMSG:
		seterr(err, errlen, "the store in %s is damaged: %s%s%s%s", s->dir, lerr,
		       what[0] ? " (" : "", what, what[0] ? ")" : "");
		break;
	case -EINVAL:
		seterr(err, errlen, "%s is not a paxfs data dir: %s", s->dir, lerr);
		break;
	default:
		seterr(err, errlen, "cannot open the store in %s: %s", s->dir, lerr);
		break;
	}
	leveldb_free(lerr);
	return rc;
}

/* Bytes of the write-ahead logs and manifests: what a reopen rewrites. */
static uint64_t reopen_needs(const char *dir)
{
	uint64_t total = REOPEN_SPARE_BYTES;
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);
	int dfd;

	if (!d)
		return total;
	dfd = dirfd(d);
	while ((de = readdir(d))) {
		const char *dot = strrchr(de->d_name, '.');
		bool log = dot && !strcmp(dot, ".log");
		if ((log || !strncmp(de->d_name, "MANIFEST-", 9)) &&
		    fstatat(dfd, de->d_name, &st, 0) == 0)
			total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

int store_reopen_locked(struct store *s)
{
	struct statvfs vfs;
	struct timespec deadline;
	uint64_t need = reopen_needs(s->dir), avail;
	char err[512];
	int rc;

	/* Reopening replays the logs into a new table; with the disk still
	 * full it would fail, and meanwhile there would be nothing to read from.
	 * Keep the old handle (it still serves reads) until the room is back. */
	if (statvfs(s->dir, &vfs) == 0) {
		avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		if (avail < need) {
			LOG_DEBUG("store: not reopening %s yet: %llu bytes free, %llu needed",
				  s->dir, (unsigned long long)avail, (unsigned long long)need);
			return -ENOSPC;
		}
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += REOPEN_WAIT_S;
	if (pthread_rwlock_timedwrlock(&s->swap, &deadline) != 0) {
		LOG_ERR("store: cannot reopen %s: readers kept it busy for %d s", s->dir,
			REOPEN_WAIT_S);
		return -EIO;
	}
	if (s->db) {
		leveldb_close(s->db);
		s->db = NULL;
	}
	rc = ldb_open(s, false, err, sizeof(err));
	if (rc) {
		LOG_ERR("store: reopen failed: %s", err);
	} else {
		s->poisoned = false;
		s->ds.pending = true;
		rc = store_dirsync_dir(&s->ds);
		if (rc)
			s->poisoned = true;
		LOG_INFO("store: reopened %s after a failed write", s->dir);
	}
	pthread_rwlock_unlock(&s->swap);
	return rc;
}

int store_db_enter(struct store *s, leveldb_t **db)
{
	int rc;

	pthread_rwlock_rdlock(&s->swap);
	if (s->db) {
		*db = s->db;
		return 0;
	}
	pthread_rwlock_unlock(&s->swap);
	/* The last reopen failed; try again, one thread at a time. */
	pthread_mutex_lock(&s->wlock);
	rc = s->db ? 0 : store_reopen_locked(s);
	pthread_mutex_unlock(&s->wlock);
	if (rc)
		return rc;
	pthread_rwlock_rdlock(&s->swap);
	if (s->db) {
		*db = s->db;
		return 0;
	}
	pthread_rwlock_unlock(&s->swap);
	return -EIO;
}

void store_db_leave(struct store *s)
{
	pthread_rwlock_unlock(&s->swap);
}

/* Every live table must be there with the size the MANIFEST recorded. leveldb
 * checks only that the files exist; a truncated table would otherwise show
 * up later as an I/O error on some read, and a missing one that vanishes
 * while the store runs reads as "no such key" through the C API. */
/* One pass over the tables leveldb's current version names: 0, -EBADMSG
 * (a table missing or of the wrong size; *missing says which kind), or 1
 * when there is no list. */
static int check_tables_once(struct store *s, bool *missing, char *err, size_t errlen)
{
	char *list = leveldb_property_value(s->db, "leveldb.sstables");
	char path[PATH_MAX];
	struct stat st;
	int rc = 0;

	*missing = false;
	if (!list)
		return 0;
	/* One line per table: " <number>:<size>[<smallest> .. <largest>]" */
	for (char *line = list, *next; line && !rc; line = next) {
		unsigned long long number, size;
		next = strchr(line, '\n');
		if (next)
			next++;
		if (line[0] != ' ' || sscanf(line, " %llu:%llu[", &number, &size) != 2)
			continue;
		snprintf(path, sizeof(path), "%s/%06llu.ldb", s->dir, number);
		if (stat(path, &st) < 0) {
			snprintf(path, sizeof(path), "%s/%06llu.sst", s->dir, number);
			if (stat(path, &st) < 0) {
				seterr(err, errlen,
				       "the store in %s is damaged: table %06llu is missing",
				       s->dir, number);
				*missing = true;
				rc = -EBADMSG;
				break;
			}
		}
		if ((unsigned long long)st.st_size != size) {
			seterr(err, errlen,
			       "the store in %s is damaged: table %s has %llu bytes, its MANIFEST "
			       "says %llu",
			       s->dir, path, (unsigned long long)st.st_size, size);
			rc = -EBADMSG;
		}
	}
	leveldb_free(list);
	return rc;
}

static int check_tables(struct store *s, char *err, size_t errlen)
{
	bool missing;
	int rc = 0;
	/* The compaction that the open started may replace a table between the
	 * listing and the stat: a table missing counts only if a fresh listing
	 * still names it (a few tries; compactions are far slower than this). */
	for (int attempt = 0; attempt < 5; attempt++) {
		rc = check_tables_once(s, &missing, err, errlen);
		if (rc == 0 || !missing)
			break;
		usleep(10000);
	}
	return rc;
}

/* ---- format record ------------------------------------------------------------ */

static bool db_is_empty(leveldb_t *db, const leveldb_readoptions_t *ro)
{
	leveldb_iterator_t *it = leveldb_create_iterator(db, ro);
	bool empty;
	leveldb_iter_seek_to_first(it);
	empty = !leveldb_iter_valid(it);
	leveldb_iter_destroy(it);
	return empty;
}

static int write_format(struct store *s, size_t inline_max, char *err, size_t errlen)
{
	Paxfs__StoreFormat f = PAXFS__STORE_FORMAT__INIT;
	struct store_batch *b = store_batch_new();
	struct timespec now;
	int rc;

	if (!b)
		return -ENOMEM;
	clock_gettime(CLOCK_REALTIME, &now);
	f.version = STORE_FORMAT_VERSION;
	f.created_by = (char *)PACKAGE_NAME " " PACKAGE_VERSION;
	f.created_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	f.inline_value_max = inline_max;
	store_batch_put_msg(b, STORE_KEY_FORMAT, STORE_KEY_FORMAT_LEN, &f.base);
	rc = store_write(s, b, true);
	store_batch_free(b);
	if (rc)
		seterr(err, errlen, "cannot create the store in %s: %s", s->dir, strerror(-rc));
	return rc;
}

/* Checks (or, in an empty database with create, writes) the format record. */
static int check_format(struct store *s, const struct store_options *opt, char *err, size_t errlen)
{
	Paxfs__StoreFormat *f;
	struct store_node node;
	int rc;

	rc = store_db_get_msg(s->db, s->ro, STORE_KEY_FORMAT, STORE_KEY_FORMAT_LEN,
			      &paxfs__store_format__descriptor, (ProtobufCMessage **)&f);
	if (rc == -ENOENT) {
		if (!db_is_empty(s->db, s->ro)) {
			seterr(err, errlen,
			       "%s is not a paxfs data dir: it holds a leveldb database without "
			       "the paxfs format record",
			       s->dir);
			return -EINVAL;
		}
		if (!opt->create) {
			seterr(err, errlen, "%s holds no paxfs store (its creation never finished)",
			       s->dir);
			return -ENOENT;
		}
		s->inline_max =
		    opt->inline_value_max ? opt->inline_value_max : STORE_DEFAULT_INLINE_MAX;
		if (s->inline_max > STORE_INLINE_MAX_LIMIT) {
			LOG_INFO("store: inline value limit %zu capped at %zu", s->inline_max,
				 STORE_INLINE_MAX_LIMIT);
			s->inline_max = STORE_INLINE_MAX_LIMIT;
		}
		return write_format(s, s->inline_max, err, errlen);
	}
	if (rc == -EBADMSG) {
		seterr(err, errlen, "the store in %s is damaged: its format record is corrupt",
		       s->dir);
		return rc;
	}
	if (rc) {
		seterr(err, errlen, "cannot read the format record of %s: %s", s->dir,
		       strerror(-rc));
		return rc;
	}
	if (f->version != STORE_FORMAT_VERSION) {
		seterr(err, errlen,
		       "the store in %s has format version %u (written by %s); this paxfs reads "
		       "version %d only",
		       s->dir, f->version, f->created_by[0] ? f->created_by : "an unknown paxfs",
		       STORE_FORMAT_VERSION);
		paxfs__store_format__free_unpacked(f, NULL);
		return -EPROTONOSUPPORT;
	}
	/* The inline limit is the one the store was created with: a record
	 * rewritten with value_stored must find its value where it was put. */
	s->inline_max =
	    f->inline_value_max ? (size_t)f->inline_value_max : STORE_DEFAULT_INLINE_MAX;
	if (s->inline_max > STORE_INLINE_MAX_LIMIT) {
		seterr(err, errlen,
		       "the store in %s is damaged: inline value limit %zu is over %zu", s->dir,
		       s->inline_max, STORE_INLINE_MAX_LIMIT);
		paxfs__store_format__free_unpacked(f, NULL);
		return -EBADMSG;
	}
	if (opt->inline_value_max && opt->inline_value_max != s->inline_max)
		LOG_INFO("store: %s keeps the inline value limit it was created with (%zu bytes), "
			 "not %zu",
			 s->dir, s->inline_max, opt->inline_value_max);
	paxfs__store_format__free_unpacked(f, NULL);

	rc = store_get_node(s, &node);
	if (rc == -EBADMSG) {
		seterr(err, errlen, "the store in %s is damaged: its node record is corrupt",
		       s->dir);
		return rc;
	}
	if (rc && rc != -ENOENT) {
		seterr(err, errlen, "cannot read the node record of %s: %s", s->dir, strerror(-rc));
		return rc;
	}
	return 0;
}

/* ---- open and close ---------------------------------------------------------------- */

/* Takes ownership of `abs_dir` (malloc'd). */
static struct store *store_alloc(char *abs_dir, const struct store_options *opt)
{
	struct store *s = calloc(1, sizeof(*s));
	if (!s) {
		free(abs_dir);
		return NULL;
	}
	s->ds.dirfd = s->ds.ifd = -1;
	s->dir = abs_dir;
	pthread_rwlock_init(&s->swap, NULL);
	pthread_mutex_init(&s->wlock, NULL);
	s->inline_max = STORE_DEFAULT_INLINE_MAX;

	s->lopt = leveldb_options_create();
	s->cache =
	    leveldb_cache_create_lru(opt->cache_bytes ? opt->cache_bytes : DEFAULT_CACHE_BYTES);
	s->bloom = leveldb_filterpolicy_create_bloom(BLOOM_BITS_PER_KEY);
	leveldb_options_set_cache(s->lopt, s->cache);
	leveldb_options_set_filter_policy(s->lopt, s->bloom);
	/* A damaged log record or table is an error, not something to skip. */
	leveldb_options_set_paranoid_checks(s->lopt, 1);
	leveldb_options_set_write_buffer_size(s->lopt, opt->write_buffer_bytes
							   ? opt->write_buffer_bytes
							   : DEFAULT_WRITE_BUFFER_BYTES);
	leveldb_options_set_max_file_size(s->lopt, DEFAULT_MAX_FILE_BYTES);
	leveldb_options_set_compression(s->lopt, leveldb_no_compression);

	s->ro = leveldb_readoptions_create();
	leveldb_readoptions_set_verify_checksums(s->ro, 1);
	s->wo_nosync = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(s->wo_nosync, 0);
	return s;
}

static void store_release(struct store *s)
{
	if (s->db)
		leveldb_close(s->db);
	store_dirsync_close(&s->ds);
	leveldb_options_destroy(s->lopt);
	leveldb_cache_destroy(s->cache);
	leveldb_filterpolicy_destroy(s->bloom);
	leveldb_readoptions_destroy(s->ro);
	leveldb_writeoptions_destroy(s->wo_nosync);
	pthread_rwlock_destroy(&s->swap);
	pthread_mutex_destroy(&s->wlock);
	free(s->dir);
	free(s);
}

static int open_dir(const char *dir, const struct store_options *opt, struct store **out, char *err,
		    size_t errlen)
{
	char foreign[256];
	enum dir_kind kind = DIR_EMPTY;
	struct store *s;
	struct stat st;
	bool create;
	int rc;

	if (stat(dir, &st) < 0) {
		rc = -errno;
		if (rc != -ENOENT) {
			seterr(err, errlen, "cannot use data dir %s: %s", dir, strerror(-rc));
			return rc == -EACCES ? -EIO : rc;
		}
		if (!opt->create) {
			seterr(err, errlen, "data dir %s does not exist", dir);
			return -ENOENT;
		}
		rc = make_dirs(dir);
		if (rc) {
			seterr(err, errlen, "cannot create data dir %s: %s", dir, strerror(-rc));
			return rc == -ENOSPC ? rc : (rc == -ENOENT ? rc : -EIO);
		}
	} else if (!S_ISDIR(st.st_mode)) {
		seterr(err, errlen, "%s is not a paxfs data dir: it is not a directory", dir);
		return -EINVAL;
	}

	rc = classify_dir(dir, &kind, foreign, sizeof(foreign));
	if (rc) {
		seterr(err, errlen, "cannot read data dir %s: %s", dir, strerror(-rc));
		return -EIO;
	}
	if (kind == DIR_FOREIGN) {
		seterr(err, errlen, "%s is not a paxfs data dir (it holds '%s')", dir, foreign);
		return -EINVAL;
	}
	if (stat(dir, &st) == 0 && (st.st_mode & 077)) {
		/* leveldb creates its files 0644: in a dir others may enter, every
		 * local user could read the node's log and file data. */
		seterr(err, errlen,
		       "data dir %s is open to other users (mode %03o); paxfs needs it 0700: "
		       "chmod 700 %s",
		       dir, (unsigned)(st.st_mode & 0777), dir);
		return -EPERM;
	}
	switch (kind) {
	case DIR_NO_CURRENT:
		seterr(err, errlen,
		       "the store in %s is damaged: its CURRENT file is missing (tables and logs "
		       "are there; not touching them)",
		       dir);
		return -EBADMSG;
	case DIR_EMPTY:
		if (!opt->create) {
			seterr(err, errlen, "data dir %s holds no paxfs store", dir);
			return -ENOENT;
		}
		create = true;
		break;
	case DIR_STORE:
	default:
		if (!current_is_sane(dir)) {
			seterr(err, errlen,
			       "the store in %s is damaged: its CURRENT file does not name a "
			       "MANIFEST",
			       dir);
			return -EBADMSG;
		}
		create = false;
		break;
	}

	/* leveldb keeps the path and opens files by it for as long as it runs,
	 * and the daemon may chdir("/") after opening: make it absolute. */
	char *abs_dir = realpath(dir, NULL);
	if (!abs_dir) {
		rc = -errno;
		seterr(err, errlen, "cannot use data dir %s: %s", dir, strerror(-rc));
		return rc == -ENOMEM ? rc : -EIO;
	}
	s = store_alloc(abs_dir, opt);
	if (!s) {
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = ldb_open(s, create, err, errlen);
	if (!rc) {
		rc = store_dirsync_init(&s->ds, dir);
		if (rc)
			seterr(err, errlen, "cannot open data dir %s: %s", dir, strerror(-rc));
	}
	if (!rc)
		rc = check_tables(s, err, errlen);
	if (!rc)
		rc = check_format(s, opt, err, errlen);
	if (!rc)
		rc = store_dirsync_dir(&s->ds);
	if (rc) {
		store_release(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* With opt->recover, after open_dir found damage (`why`): the damaged store
 * is kept aside, a new one takes its place. */
static int start_over(const char *dir, const struct store_options *opt, const char *why,
		      struct store **out, char *err, size_t errlen)
{
	struct store_options fresh = *opt;
	char aside[PATH_MAX] = "";
	int rc;

	LOG_ERR("store: %s", why);
	rc = store_set_aside(dir, aside, sizeof(aside));
	if (rc) {
		seterr(err, errlen, "%s; moving its files aside to %s failed: %s", why,
		       aside[0] ? aside : dir, strerror(-rc));
		return rc == -ENOSPC ? rc : -EIO;
	}
	LOG_ERR("store: moved the files of the damaged store to %s (nothing deleted); a new, "
		"empty store starts in %s: the node re-learns from the others and does not vote "
		"before (amnesia, as after a wiped disk)",
		aside, dir);
	fresh.create = true;
	fresh.recover = false;
	rc = open_dir(dir, &fresh, out, err, errlen);
	if (!rc)
		seterr(err, errlen, "%s; its files were moved to %s and a new store started", why,
		       aside);
	return rc;
}

int store_open(const char *dir, const struct store_options *opt, struct store **out, char *err,
	       size_t errlen)
{
	static const struct store_options defaults;
	char why[1024] = "";
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!opt)
		opt = &defaults;
	if (!dir || !dir[0]) {
		seterr(err, errlen, "no data dir given");
		return -EINVAL;
	}
	rc = open_dir(dir, opt, out, why, sizeof(why));
	if (rc == -EBADMSG && opt->recover)
		return start_over(dir, opt, why, out, err, errlen);
	seterr(err, errlen, "%s", why);
	return rc;
}

void store_free(struct store *s)
{
	struct store_batch *b;

	if (!s)
		return;
	/* A clean close leaves nothing only in the page cache: one synced
	 * (empty) write covers every unsynced batch before it. */
	if (s->db && !s->poisoned && (b = store_batch_new())) {
		int rc = store_write(s, b, true);
		if (rc)
			LOG_WARN("store: final sync of %s failed: %s", s->dir, strerror(-rc));
		store_batch_free(b);
	}
	store_release(s);
}
