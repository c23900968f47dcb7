/* tests/unit/store/test_store_powercut.c — power loss: after a cut, the
 * store holds every batch written before the last acknowledged synced one,
 * and never a batch without all the batches before it ("nothing synced is
 * ever newer than something unsynced", docs/store.md, "Writes").
 *
 * The disk model lives in this test binary: it defines fsync, fdatasync,
 * unlink and rename, which leveldb (a shared library) and store/ call
 * instead of libc's (symbol interposition; the real ones via
 * dlsym(RTLD_NEXT)). For every file of the data dir it remembers how many
 * bytes the last fsync/fdatasync made durable. Right after every sync of a
 * data-dir file (the moments when something newer becomes durable) it cuts
 * the power: it copies each file of the data dir truncated to its durable
 * length (leveldb's logs, tables and MANIFEST are append-only, so that is
 * exactly what a disk keeping only synced data holds), opens the copy with
 * leveldb and checks the batches found.
 *
 * What it does not model: directory entries (a file's name is taken to be
 * durable at once; dirsync.c's directory fsync is not checked here) and torn
 * or reordered writes inside a file (test_store_open covers torn tails).
 * A table's fsync is delayed a little, as a table flush is slower than a
 * log append on a real disk: it keeps open the window in which an older log
 * holds the only copy of unsynced batches. */
#include "config.h"

#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>

#include "tests/unit/store/helpers.h"
#include "util/log.h"

#define BATCHES             400
#define VALUE_LEN           3000
#define TABLE_SYNC_DELAY_US 20000

static const struct store_options cut_opt = {
    .create = true, .write_buffer_bytes = 64 << 10, /* a new log every ~20 batches */
};

/* ---- the disk model -------------------------------------------------------- */

struct synced {
	dev_t dev;
	ino_t ino;
	off_t len; /* durable bytes */
};

static pthread_mutex_t model_lock = PTHREAD_MUTEX_INITIALIZER;
static bool model_on;
static char model_dir[PATH_MAX]; /* realpath of data_dir, as leveldb names it */
static struct synced files[4096];
static size_t n_files;
static __thread bool in_model; /* this thread is cutting: no tracking */

/* What the cuts found (written under model_lock, read by the test). */
static uint64_t acked_synced; /* last batch whose synced store_write returned */
static int cuts;
static int log_syncs, other_syncs, dir_syncs; /* in the data dir, for the report */
static char failure[1024];
static int fail_log_syncs; /* the next this many log syncs in the data dir fail with EIO */

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_unlink)(const char *);
static int (*real_rename)(const char *, const char *);

static void resolve(void)
{
	if (!real_fsync) {
		real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
		real_unlink = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
		real_rename = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
		real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	}
}

static bool in_data_dir(const char *path)
{
	size_t n = strlen(model_dir);
	return n && !strncmp(path, model_dir, n) && path[n] == '/';
}

static struct synced *entry_of(dev_t dev, ino_t ino, bool add)
{
	for (size_t i = 0; i < n_files; i++)
		if (files[i].dev == dev && files[i].ino == ino)
			return &files[i];
	if (!add || n_files == sizeof(files) / sizeof(files[0]))
		return NULL;
	files[n_files] = (struct synced){.dev = dev, .ino = ino};
	return &files[n_files++];
}

/* A file's inode may be reused once it is gone: forget it. */
static void forget(const char *path)
{
	struct stat st;
	struct synced *e;
	if (stat(path, &st) == 0 && (e = entry_of(st.st_dev, st.st_ino, false)))
		*e = files[--n_files];
}

static void cut_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void cut_failed(const char *fmt, ...)
{
	va_list ap;
	if (failure[0])
		return;
	va_start(ap, fmt);
	vsnprintf(failure, sizeof(failure), fmt, ap);
	va_end(ap);
}

/* Copies the durable part of every file of the data dir into `to`. */
static void copy_durable(const char *to)
{
	DIR *d = opendir(model_dir);
	struct dirent *de;
	char from[PATH_MAX + 300], dst[PATH_MAX + 300];
	static char buf[1 << 16];

	rm_rf(to);
	mkdir(to, 0700);
	while (d && (de = readdir(d))) {
		struct stat st;
		struct synced *e;
		snprintf(from, sizeof(from), "%s/%s", model_dir, de->d_name);
		if (stat(from, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		e = entry_of(st.st_dev, st.st_ino, false);
		off_t left = e ? (e->len < st.st_size ? e->len : st.st_size) : 0;
		snprintf(dst, sizeof(dst), "%s/%s", to, de->d_name);
		int in = open(from, O_RDONLY | O_CLOEXEC);
		int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		while (in >= 0 && out >= 0 && left > 0) {
			size_t want = left < (off_t)sizeof(buf) ? (size_t)left : sizeof(buf);
			ssize_t n = read(in, buf, want);
			if (n <= 0 || write(out, buf, (size_t)n) != n)
				break;
			left -= n;
		}
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
	}
	if (d)
		closedir(d);
}

/* The power is cut now: what would the store hold? */
static void cut(const char *why)
{
	char to[PATH_MAX + 10];
	leveldb_options_t *o;
	leveldb_readoptions_t *ro;
	leveldb_iterator_t *it;
	leveldb_t *db;
	char *err = NULL;
	static bool present[BATCHES + 2];
	uint64_t top = 0;

	snprintf(to, sizeof(to), "%s/cut", test_dir);
	copy_durable(to);
	cuts++;
	o = leveldb_options_create();
	db = leveldb_open(o, to, &err);
	leveldb_options_destroy(o);
	if (err) {
		cut_failed("cut %d (after %s): the copy does not open: %s", cuts, why, err);
		leveldb_free(err);
		return;
	}
	memset(present, 0, sizeof(present));
	ro = leveldb_readoptions_create();
	it = leveldb_create_iterator(db, ro);
	for (leveldb_iter_seek(it, "Sb/", 3); leveldb_iter_valid(it); leveldb_iter_next(it)) {
		size_t klen;
		const char *k = leveldb_iter_key(it, &klen);
		if (klen != 11 || memcmp(k, "Sb/", 3))
			break;
		uint64_t i = strtoull(k + 3, NULL, 10);
		if (i >= 1 && i <= BATCHES) {
			present[i] = true;
			if (i > top)
				top = i;
		}
	}
	leveldb_iter_destroy(it);
	leveldb_readoptions_destroy(ro);
	leveldb_close(db);
	if (top < acked_synced)
		cut_failed("cut %d (after %s): synced batch %" PRIu64 " was acknowledged, the "
			   "store ends at %" PRIu64,
			   cuts, why, acked_synced, top);
	for (uint64_t i = 1; i < top; i++)
		if (!present[i]) {
			cut_failed("cut %d (after %s): batch %" PRIu64 " is lost but batch %" PRIu64
				   " (written after it) survived",
				   cuts, why, i, top);
			break;
		}
}

static int synced_now(int fd, int (*real)(int), const char *name)
{
	char link[64], path[PATH_MAX];
	struct stat st;
	ssize_t n;
	int rc;

	resolve();
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n > 0 && __atomic_load_n(&fail_log_syncs, __ATOMIC_RELAXED) > 0) {
		path[n] = '\0';
		if (strstr(path, data_dir) && strstr(path, ".log") &&
		    __atomic_sub_fetch(&fail_log_syncs, 1, __ATOMIC_RELAXED) >= 0) {
			errno = EIO;
			return -1;
		}
	}
	if (!model_on || in_model)
		return real(fd);
	if (n <= 0 || fstat(fd, &st) < 0)
		return real(fd);
	path[n] = '\0';
	if (S_ISDIR(st.st_mode) && !strcmp(path, model_dir))
		__atomic_add_fetch(&dir_syncs, 1, __ATOMIC_RELAXED);
	if (!S_ISREG(st.st_mode))
		return real(fd);
	if (!in_data_dir(path))
		return real(fd);
	if (strstr(path, ".ldb"))
		usleep(TABLE_SYNC_DELAY_US);
	pthread_mutex_lock(&model_lock);
	rc = real(fd);
	if (strstr(path, ".log"))
		log_syncs++;
	else
		other_syncs++;
	if (rc == 0 && fstat(fd, &st) == 0) {
		struct synced *e = entry_of(st.st_dev, st.st_ino, true);
		if (e)
			e->len = st.st_size;
		in_model = true;
		char why[PATH_MAX + 32];
		snprintf(why, sizeof(why), "%s %s", name, strrchr(path, '/') + 1);
		cut(why);
		in_model = false;
	}
	pthread_mutex_unlock(&model_lock);
	return rc;
}

int fsync(int fd)
{
	resolve();
	return synced_now(fd, real_fsync, "fsync");
}

int fdatasync(int fd)
{
	resolve();
	return synced_now(fd, real_fdatasync, "fdatasync");
}

int unlink(const char *path)
{
	int rc;
	resolve();
	if (!model_on || in_model || !in_data_dir(path))
		return real_unlink(path);
	pthread_mutex_lock(&model_lock);
	forget(path);
	rc = real_unlink(path);
	pthread_mutex_unlock(&model_lock);
	return rc;
}

int rename(const char *from, const char *to)
{
	int rc;
	resolve();
	if (!model_on || in_model || !in_data_dir(to))
		return real_rename(from, to);
	pthread_mutex_lock(&model_lock);
	forget(to);
	rc = real_rename(from, to);
	pthread_mutex_unlock(&model_lock);
	return rc;
}

/* ---- the test ------------------------------------------------------------------ */

/* The batches a sync thread has covered (store_sync from another thread,
 * as the daemon's sync thread does) while the test thread writes. */
static struct store *sync_store;
static uint64_t last_written; /* atomic: the last batch whose write returned */
static bool sync_stop;

static void *sync_thread(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&sync_stop, __ATOMIC_ACQUIRE)) {
		uint64_t before = __atomic_load_n(&last_written, __ATOMIC_ACQUIRE);
		ck_assert_int_eq(store_sync(sync_store), 0);
		pthread_mutex_lock(&model_lock);
		if (before > acked_synced)
			acked_synced = before;
		pthread_mutex_unlock(&model_lock);
		usleep(200);
	}
	return NULL;
}

enum sync_how { SYNC_WRITE, SYNC_CALL, SYNC_THREAD };

static void power_cuts(enum sync_how how)
{
	struct store *s;
	struct store_batch *b = store_batch_new();
	uint8_t *v = malloc(VALUE_LEN);
	char k[16], *real;
	int synced = 0;
	pthread_t th;

	util_log_set_level(UTIL_LOG_WARN);
	s = open_store(&cut_opt);
	real = realpath(data_dir, NULL);
	ck_assert_ptr_nonnull(real);
	/* what the open wrote, it synced (leveldb syncs a new database; the
	 * format record was a synced write) */
	DIR *d = opendir(data_dir);
	struct dirent *de;
	pthread_mutex_lock(&model_lock);
	snprintf(model_dir, sizeof(model_dir), "%s", real);
	n_files = 0;
	acked_synced = 0;
	while ((de = readdir(d))) {
		char p[PATH_MAX + 300];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", data_dir, de->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			entry_of(st.st_dev, st.st_ino, true)->len = st.st_size;
	}
	model_on = true;
	pthread_mutex_unlock(&model_lock);
	closedir(d);
	free(real);
	sync_store = s;
	__atomic_store_n(&last_written, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&sync_stop, false, __ATOMIC_RELEASE);
	if (how == SYNC_THREAD)
		ck_assert_int_eq(pthread_create(&th, NULL, sync_thread, NULL), 0);

	for (uint64_t i = 1; i <= BATCHES; i++) {
		bool sync = how != SYNC_THREAD && i % 3 == 0;
		fill_value(v, VALUE_LEN, i);
		snprintf(k, sizeof(k), "b/%08" PRIu64, i);
		store_batch_put_state(b, k, strlen(k), v, VALUE_LEN);
		ck_assert_int_eq(store_write(s, b, sync && how == SYNC_WRITE), 0);
		__atomic_store_n(&last_written, i, __ATOMIC_RELEASE);
		if (sync && how == SYNC_CALL)
			ck_assert_int_eq(store_sync(s), 0);
		if (sync) {
			synced++;
			pthread_mutex_lock(&model_lock);
			acked_synced = i;
			pthread_mutex_unlock(&model_lock);
		}
	}
	if (how == SYNC_THREAD) {
		__atomic_store_n(&sync_stop, true, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
		synced = 1;
	}
	store_free(s);
	pthread_mutex_lock(&model_lock);
	model_on = false;
	pthread_mutex_unlock(&model_lock);
	printf("# %d power cuts checked, %d synced writes: %d log syncs, %d directory syncs, "
	       "%d other file syncs\n",
	       cuts, synced, log_syncs, dir_syncs, other_syncs);
	fflush(stdout);
	ck_assert_msg(!failure[0], "%s", failure);
	ck_assert_int_gt(cuts, synced);
	store_batch_free(b);
	free(v);
}

START_TEST(no_synced_batch_survives_an_older_lost_one)
{
	power_cuts(SYNC_WRITE);
}
END_TEST

/* store_sync, the sync point without a batch, keeps the same order... */
START_TEST(a_sync_call_covers_every_write_before_it)
{
	power_cuts(SYNC_CALL);
}
END_TEST

/* ...also from another thread while this one writes (the daemon's sync
 * thread): what it acknowledged is there after every cut, with everything
 * before it. */
START_TEST(a_sync_from_another_thread_covers_the_writes_before_it)
{
	power_cuts(SYNC_THREAD);
}
END_TEST

/* After a failed sync nobody knows what of the page cache reached the disk
 * (or ever will): the store must not report a later write as durable, nor
 * retry the failed one after a reopen, which would read back pages that
 * may not be on disk. It fails every write until it is opened again. */
START_TEST(after_a_failed_sync_no_write_succeeds)
{
	struct store *s = open_store(&cut_opt);
	struct store_batch *b = store_batch_new();
	void *v;
	size_t len;

	util_log_set_level(UTIL_LOG_ERR);
	store_batch_put_state(b, "a", 1, "1", 1);
	ck_assert_int_eq(store_write(s, b, true), 0);
	__atomic_store_n(&fail_log_syncs, 1, __ATOMIC_RELAXED);
	store_batch_put_state(b, "b", 1, "2", 1);
	ck_assert_int_eq(store_write(s, b, true), -EIO);
	ck_assert_int_eq(__atomic_load_n(&fail_log_syncs, __ATOMIC_RELAXED), 0);
	/* the disk syncs again, but this store has given up */
	ck_assert_int_eq(store_write(s, b, true), -EIO);
	ck_assert_int_eq(store_write(s, b, false), -EIO);
	ck_assert_int_eq(store_sync(s), -EIO);
	store_free(s);
	s = open_store(&cut_opt);
	ck_assert_int_eq(store_get_state(s, "a", 1, &v, &len), 0);
	free(v);
	store_batch_clear(b);
	store_batch_put_state(b, "c", 1, "3", 1);
	ck_assert_int_eq(store_write(s, b, true), 0);
	store_batch_free(b);
	store_free(s);
}
END_TEST

/* The same through store_sync: its fdatasync runs without the lock, and
 * its failure is for good too. */
START_TEST(a_failed_sync_call_stops_the_store)
{
	struct store *s = open_store(&cut_opt);
	struct store_batch *b = store_batch_new();

	util_log_set_level(UTIL_LOG_ERR);
	store_batch_put_state(b, "a", 1, "1", 1);
	ck_assert_int_eq(store_write(s, b, false), 0);
	ck_assert_int_eq(store_sync(s), 0);
	store_batch_put_state(b, "b", 1, "2", 1);
	ck_assert_int_eq(store_write(s, b, false), 0);
	__atomic_store_n(&fail_log_syncs, 1, __ATOMIC_RELAXED);
	ck_assert_int_eq(store_sync(s), -EIO);
	ck_assert_int_eq(__atomic_load_n(&fail_log_syncs, __ATOMIC_RELAXED), 0);
	ck_assert_int_eq(store_sync(s), -EIO);
	store_batch_put_state(b, "c", 1, "3", 1);
	ck_assert_int_eq(store_write(s, b, false), -EIO);
	store_batch_free(b);
	store_free(s);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("store power cut");
	STORE_TEST(s, no_synced_batch_survives_an_older_lost_one, 120);
	STORE_TEST(s, a_sync_call_covers_every_write_before_it, 120);
	STORE_TEST(s, a_sync_from_another_thread_covers_the_writes_before_it, 120);
	STORE_TEST(s, after_a_failed_sync_no_write_succeeds, 30);
	STORE_TEST(s, a_failed_sync_call_stops_the_store, 30);
	return s;
}
