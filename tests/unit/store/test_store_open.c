/* tests/unit/store/test_store_open.c — bad input at open: a missing dir, an
 * empty one, one holding something else, someone else's leveldb, another
 * format version, a dir in use (by this process or another), and damaged or
 * truncated leveldb files (CURRENT, MANIFEST, log, tables). Each gets its own
 * error and a message for a person; none is "repaired" by losing data. */
#include "config.h"

#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "proto/record.pb-c.h"
#include "store/frame.h"
#include "store/keys.h"
#include "tests/unit/store/helpers.h"
#include "util/log.h"

static int try_open(bool create, char *err, size_t errlen)
{
	struct store_options o = {.create = create};
	struct store *s = (struct store *)1;
	int rc = store_open(data_dir, &o, &s, err, errlen);
	if (rc) {
		ck_assert_ptr_null(s);
		ck_assert_msg(err[0] != '\0', "no message for error %d", rc);
	} else {
		store_free(s);
	}
	return rc;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Writes records 1..n of entity 1 (plus state), closes. */
static void populate(int n)
{
	struct store *s = open_store(NULL);
	struct store_batch *b = store_batch_new();
	for (int i = 1; i <= n; i++) {
		uint8_t v[300];
		fill_value(v, sizeof(v), (uint64_t)i);
		struct store_record r = {.promised = 9,
					 .accepted = 9,
					 .value_id = (uint64_t)i,
					 .value = v,
					 .value_len = sizeof(v)};
		store_batch_put_record(b, 1, (uint64_t)i, &r, false);
		if (i % 50 == 0)
			ck_assert_int_eq(store_write(s, b, true), 0);
	}
	store_batch_put_state(b, "k", 1, "v", 1);
	ck_assert_int_eq(store_write(s, b, true), 0);
	store_batch_free(b);
	store_free(s);
}

/* All n records there with the right bytes. */
static void check_populated(int n)
{
	struct store *s = open_store(NULL);
	for (int i = 1; i <= n; i++) {
		struct store_record r;
		ck_assert_int_eq(store_get_record(s, 1, (uint64_t)i, &r), 0);
		ck_assert(value_is(r.value, 300, (uint64_t)i));
		free(r.value);
	}
	store_free(s);
}

/* Path of the first file in data_dir whose name ends with suffix (or starts
 * with it, for "MANIFEST-"). */
static bool find_file(const char *affix, char *path, size_t len)
{
	DIR *d = opendir(data_dir);
	struct dirent *de;
	bool found = false;
	ck_assert_ptr_nonnull(d);
	while (!found && (de = readdir(d))) {
		size_t n = strlen(de->d_name), a = strlen(affix);
		if ((n > a && !strcmp(de->d_name + n - a, affix)) ||
		    !strncmp(de->d_name, affix, a)) {
			snprintf(path, len, "%s/%s", data_dir, de->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	ck_assert_int_eq(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* ---- directories ----------------------------------------------------------- */

START_TEST(missing_dir)
{
	char err[512];
	struct store *s = (struct store *)1;
	ck_assert_int_eq(try_open(false, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "does not exist"), "%s", err);
	ck_assert_int_eq(access(data_dir, F_OK), -1); /* not created */
	ck_assert_int_eq(store_open(data_dir, NULL, &s, NULL, 0), -ENOENT);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(created_0700_with_parents)
{
	char err[512];
	struct stat st;
	snprintf(data_dir, sizeof(data_dir), "%s/a/b/data", test_dir);
	ck_assert_int_eq(try_open(true, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(data_dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(try_open(false, err, sizeof(err)), 0);
}
END_TEST

/* leveldb makes its files 0644: a data dir others can read or enter would
 * show every node's log and state to every local user. */
START_TEST(dir_open_to_others_is_refused)
{
	static const mode_t modes[] = {0755, 0750, 0711, 0701, 0770, 0707};
	char err[512], want[64];
	populate(10);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		ck_assert_int_eq(chmod(data_dir, modes[i]), 0);
		int files = count_entries(data_dir);
		ck_assert_int_eq(try_open(false, err, sizeof(err)), -EPERM);
		snprintf(want, sizeof(want), "mode %03o", (unsigned)modes[i]);
		ck_assert_msg(strstr(err, data_dir) && strstr(err, want), "%s", err);
		ck_assert_msg(strstr(err, "chmod 700 "), "%s", err);
		ck_assert_int_eq(try_open(true, err, sizeof(err)), -EPERM);
		ck_assert_int_eq(count_entries(data_dir), files); /* untouched */
	}
	ck_assert_int_eq(chmod(data_dir, 0700), 0);
	check_populated(10);

	/* an empty dir made by someone else's mkdir: not used either */
	rm_rf(data_dir);
	ck_assert_int_eq(mkdir(data_dir, 0700), 0);
	ck_assert_int_eq(chmod(data_dir, 0755), 0);
	ck_assert_int_eq(try_open(true, err, sizeof(err)), -EPERM);
	ck_assert_int_eq(count_entries(data_dir), 0);
}
END_TEST

START_TEST(empty_dir)
{
	char err[512];
	ck_assert_int_eq(mkdir(data_dir, 0700), 0);
	ck_assert_int_eq(try_open(false, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "holds no paxfs store"), "%s", err);
	ck_assert_int_eq(count_entries(data_dir), 0); /* nothing written */
	ck_assert_int_eq(try_open(true, err, sizeof(err)), 0);
	ck_assert_int_eq(try_open(false, err, sizeof(err)), 0);
}
END_TEST

START_TEST(dir_holding_something_else)
{
	char err[512], path[PATH_MAX];
	ck_assert_int_eq(mkdir(data_dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/notes.txt", data_dir);
	write_file(path, "precious", 8);
	ck_assert_int_eq(try_open(false, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "not a paxfs data dir") && strstr(err, "notes.txt"), "%s", err);
	ck_assert_int_eq(try_open(true, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(count_entries(data_dir), 1); /* no LOCK, no LOG: untouched */

	/* a plain file where the dir should be */
	ck_assert_uint_lt(strlen(path), sizeof(data_dir));
	memcpy(data_dir, path, strlen(path) + 1);
	ck_assert_int_eq(try_open(true, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "not a directory"), "%s", err);
	size_t len;
	uint8_t *content = read_file(path, &len);
	ck_assert_uint_eq(len, 8);
	free(content);
}
END_TEST

START_TEST(someone_elses_leveldb)
{
	char err[512];
	leveldb_options_t *o = leveldb_options_create();
	char *lerr = NULL;
	ck_assert_int_eq(mkdir(data_dir, 0700), 0); /* leveldb would make it 0755 */
	leveldb_options_set_create_if_missing(o, 1);
	leveldb_t *db = leveldb_open(o, data_dir, &lerr);
	leveldb_options_destroy(o);
	ck_assert_ptr_null(lerr);
	raw_put(db, "hello", 5, "world", 5);
	leveldb_close(db);

	ck_assert_int_eq(try_open(true, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "not a paxfs data dir"), "%s", err);
	db = raw_open();
	size_t len;
	uint8_t *v = raw_get(db, "hello", 5, &len);
	ck_assert_ptr_nonnull(v); /* its data left alone */
	ck_assert_uint_eq(len, 5);
	free(v);
	ck_assert_ptr_null(raw_get(db, STORE_KEY_FORMAT, STORE_KEY_FORMAT_LEN, &len));
	leveldb_close(db);
}
END_TEST

static void plant_format(uint32_t version)
{
	Paxfs__StoreFormat f = PAXFS__STORE_FORMAT__INIT;
	uint8_t buf[256];
	f.version = version;
	f.created_by = (char *)"paxfs 9.9.9";
	size_t n = paxfs__store_format__pack(&f, buf + STORE_FRAME_HDR);
	store_frame_seal(STORE_KEY_FORMAT, STORE_KEY_FORMAT_LEN, buf, n);
	leveldb_t *db = raw_open();
	raw_put(db, STORE_KEY_FORMAT, STORE_KEY_FORMAT_LEN, buf, STORE_FRAME_HDR + n);
	leveldb_close(db);
}

START_TEST(incompatible_format_version)
{
	char err[512];
	populate(10);
	plant_format(2);
	ck_assert_int_eq(try_open(false, err, sizeof(err)), -EPROTONOSUPPORT);
	ck_assert_msg(strstr(err, "format version 2") && strstr(err, "paxfs 9.9.9"), "%s", err);
	ck_assert_int_eq(try_open(true, err, sizeof(err)), -EPROTONOSUPPORT);
	plant_format(0);
	ck_assert_int_eq(try_open(false, err, sizeof(err)), -EPROTONOSUPPORT);
	plant_format(STORE_FORMAT_VERSION);
	check_populated(10); /* refusing touched nothing */
}
END_TEST

START_TEST(interrupted_creation_is_finished_or_reported)
{
	char err[512], path[PATH_MAX];
	/* what leveldb leaves when killed before CURRENT exists */
	ck_assert_int_eq(mkdir(data_dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/LOCK", data_dir);
	write_file(path, "", 0);
	snprintf(path, sizeof(path), "%s/LOG", data_dir);
	write_file(path, "log\n", 4);
	ck_assert_int_eq(try_open(false, err, sizeof(err)), -ENOENT);
	/* ... or killed after its first MANIFEST, before CURRENT */
	snprintf(path, sizeof(path), "%s/MANIFEST-000001", data_dir);
	write_file(path, "half a manifest", 15);
	ck_assert_int_eq(try_open(false, err, sizeof(err)), -ENOENT);
	ck_assert_int_eq(try_open(true, err, sizeof(err)), 0);
	ck_assert_int_eq(try_open(false, err, sizeof(err)), 0);
	rm_rf(data_dir);

	/* a leveldb created, killed before the format record was written */
	leveldb_options_t *o = leveldb_options_create();
	char *lerr = NULL;
	ck_assert_int_eq(mkdir(data_dir, 0700), 0); /* leveldb would make it 0755 */
	leveldb_options_set_create_if_missing(o, 1);
	leveldb_close(leveldb_open(o, data_dir, &lerr));
	leveldb_options_destroy(o);
	ck_assert_ptr_null(lerr);
	ck_assert_int_eq(try_open(false, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "never finished"), "%s", err);
	ck_assert_int_eq(try_open(true, err, sizeof(err)), 0);
	ck_assert_int_eq(try_open(false, err, sizeof(err)), 0);
}
END_TEST

/* ---- in use ------------------------------------------------------------------ */

START_TEST(second_open_in_this_process_is_busy)
{
	char err[512];
	struct store *s = open_store(NULL), *s2 = (struct store *)1;
	struct store_options o = {.create = true};
	ck_assert_int_eq(store_open(data_dir, &o, &s2, err, sizeof(err)), -EBUSY);
	ck_assert_ptr_null(s2);
	ck_assert_msg(strstr(err, "in use"), "%s", err);
	store_free(s);
	ck_assert_int_eq(try_open(false, err, sizeof(err)), 0);
}
END_TEST

/* Waits for pid at most timeout_ms; returns its exit status or -1. */
static int wait_child(pid_t pid, int timeout_ms)
{
	int status;
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

START_TEST(another_process_holding_it_is_busy)
{
	char err[512], c;
	struct store *s;
	int ready[2], go[2];
	pid_t pid;

	/* The child tries while we hold it. It is forked before we open, so
	 * that it shares none of our leveldb state: only the file lock stops it. */
	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct store_options o = {.create = true};
		struct store *cs = NULL;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (read(go[0], &c, 1) != 1)
			_exit(201);
		int rc = store_open(data_dir, &o, &cs, err, sizeof(err));
		_exit(rc < 0 ? -rc : 200);
	}
	s = open_store(NULL);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	ck_assert_int_eq(wait_child(pid, 10000), EBUSY);
	store_free(s);
	close(go[0]);
	close(go[1]);

	/* we try while the child holds it */
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct store_options o = {.create = false};
		struct store *cs = NULL;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (store_open(data_dir, &o, &cs, err, sizeof(err)) != 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		store_free(cs);
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(try_open(false, err, sizeof(err)), -EBUSY);
	ck_assert_msg(strstr(err, "in use"), "%s", err);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	ck_assert_int_eq(wait_child(pid, 10000), 0);
	ck_assert_int_eq(try_open(false, err, sizeof(err)), 0); /* free again */
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}
END_TEST

/* ---- damaged leveldb files ------------------------------------------------------- */

START_TEST(current_missing_is_damage_not_a_new_store)
{
	char err[512], path[PATH_MAX];
	populate(100);
	int files = count_entries(data_dir);
	snprintf(path, sizeof(path), "%s/CURRENT", data_dir);
	size_t len;
	uint8_t *current = read_file(path, &len);
	ck_assert_int_eq(unlink(path), 0);

	ck_assert_int_eq(try_open(true, err, sizeof(err)), -EBADMSG);
	ck_assert_msg(strstr(err, "CURRENT"), "%s", err);
	ck_assert_int_eq(count_entries(data_dir), files - 1); /* nothing created, nothing deleted */

	write_file(path, current, len);
	free(current);
	check_populated(100);
}
END_TEST

START_TEST(current_damaged)
{
	static const char *bad[] = {"", "garbage", "MANIFEST-999999\n", "\n"};
	char err[512], path[PATH_MAX];
	size_t len;
	populate(100);
	snprintf(path, sizeof(path), "%s/CURRENT", data_dir);
	uint8_t *current = read_file(path, &len);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i], strlen(bad[i]));
		int rc = try_open(true, err, sizeof(err));
		ck_assert_msg(rc == -EBADMSG, "CURRENT '%s': %d %s", bad[i], rc, err);
		ck_assert_msg(strstr(err, "damaged"), "%s", err);
	}
	write_file(path, current, len);
	free(current);
	check_populated(100);
}
END_TEST

START_TEST(manifest_damaged_or_truncated)
{
	char err[512], path[PATH_MAX];
	size_t len;
	populate(100);
	ck_assert(find_file("MANIFEST-", path, sizeof(path)));
	uint8_t *manifest = read_file(path, &len);
	ck_assert_uint_gt(len, 20);

	uint8_t *bad = malloc(len);
	memcpy(bad, manifest, len);
	bad[len / 2] ^= 0xff;
	write_file(path, bad, len);
	int rc = try_open(false, err, sizeof(err));
	ck_assert_msg(rc == -EBADMSG, "flipped MANIFEST: %d %s", rc, err);
	for (size_t cut = 0; cut < 12; cut += 5) {
		write_file(path, manifest, cut);
		rc = try_open(false, err, sizeof(err));
		ck_assert_msg(rc == -EBADMSG, "MANIFEST cut to %zu: %d %s", cut, rc, err);
	}
	ck_assert_int_eq(unlink(path), 0);
	rc = try_open(false, err, sizeof(err));
	ck_assert_msg(rc == -EBADMSG, "MANIFEST missing: %d %s", rc, err);

	write_file(path, manifest, len);
	free(bad);
	free(manifest);
	check_populated(100);
}
END_TEST

START_TEST(log_record_damaged)
{
	char err[512], path[PATH_MAX];
	size_t len;
	populate(100); /* closed without compaction: the records are in the log */
	ck_assert(find_file(".log", path, sizeof(path)));
	uint8_t *log = read_file(path, &len);
	ck_assert_uint_gt(len, 100 * 300);
	log[len / 3] ^= 0xff;
	write_file(path, log, len);
	int rc = try_open(false, err, sizeof(err));
	ck_assert_msg(rc == -EBADMSG, "flipped log byte: %d %s", rc, err);
	log[len / 3] ^= 0xff;
	write_file(path, log, len);
	free(log);
	check_populated(100);
}
END_TEST

/* ---- a torn log tail, and damage that is set aside ----------------------------- */

#define VICTIM_LEN 100000 /* spans blocks: FIRST, MIDDLE, LAST fragments */

static int log_fd = -1;

static void log_capture(void)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/log", test_dir);
	log_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
	ck_assert_int_ge(log_fd, 0);
	util_log_set_fd(log_fd);
}

/* The captured log so far (static buffer); empties it. */
static const char *log_text(void)
{
	static char buf[16384];
	ssize_t n = pread(log_fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	ck_assert_int_eq(ftruncate(log_fd, 0), 0);
	return buf;
}

static off_t file_size(const char *path)
{
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

/* One session: a node record and records 1..100 of entity 1, synced ten at a
 * time, then one more synced batch (the victim: entity 2, entry 1, a value
 * of VICTIM_LEN bytes). All of it is in the newest log, whose path goes to
 * `log`; *victim is the offset where the victim's batch starts. */
static void write_with_victim(char *log, size_t loglen, off_t *victim)
{
	struct store *s = open_store(NULL);
	struct store_batch *b = store_batch_new();
	struct store_node n = {.node_id = 2, .boot_count = 5};
	uint8_t *big = malloc(VICTIM_LEN);

	snprintf(n.cluster, sizeof(n.cluster), "demo");
	store_batch_put_node(b, &n);
	for (int i = 1; i <= 100; i++) {
		uint8_t v[300];
		fill_value(v, sizeof(v), (uint64_t)i);
		struct store_record r = {.promised = 9,
					 .accepted = 9,
					 .value_id = (uint64_t)i,
					 .value = v,
					 .value_len = sizeof(v)};
		store_batch_put_record(b, 1, (uint64_t)i, &r, false);
		if (i % 10 == 0)
			ck_assert_int_eq(store_write(s, b, true), 0);
	}
	ck_assert(find_file(".log", log, loglen));
	*victim = file_size(log);
	fill_value(big, VICTIM_LEN, 77);
	struct store_record r = {
	    .promised = 9, .accepted = 9, .value_id = 77, .value = big, .value_len = VICTIM_LEN};
	store_batch_put_record(b, 2, 1, &r, false);
	ck_assert_int_eq(store_write(s, b, true), 0);
	ck_assert_int_gt(file_size(log), *victim + VICTIM_LEN);
	store_batch_free(b);
	store_free(s);
	free(big);
}

/* Opens without recover: records 1..100 all there, the victim not. */
static void expect_synced_records_and_no_victim(const char *how)
{
	struct store_options o = {.create = false};
	struct store *s = NULL;
	struct store_record r;
	char err[512];
	int rc = store_open(data_dir, &o, &s, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s: open gave %d %s", how, rc, err);
	for (int i = 1; i <= 100; i++) {
		ck_assert_int_eq(store_get_record(s, 1, (uint64_t)i, &r), 0);
		ck_assert(value_is(r.value, 300, (uint64_t)i));
		free(r.value);
	}
	ck_assert_int_eq(store_get_record(s, 2, 1, &r), -ENOENT);
	store_free(s);
}

START_TEST(torn_tail_of_the_newest_log_is_dropped)
{
	char log[PATH_MAX], want[PATH_MAX + 64];
	off_t victim;
	size_t len;
	struct util_prng prng;

	log_capture();
	write_with_victim(log, sizeof(log), &victim);
	uint8_t *pristine = read_file(log, &len);
	uint8_t *torn = malloc(len + 70000);
	util_prng_seed(&prng, 12);

	for (int how = 0; how < 5; how++) {
		static const char *name[] = {
		    "the victim's payload turned to garbage",
		    "the victim's payload zeroed",
		    "the victim's last 2000 bytes turned to garbage (its LAST fragment)",
		    "garbage appended after the victim's MIDDLE fragment",
		    "everything from the victim on zeroed, header too",
		};
		size_t from, to, n = len;
		memcpy(torn, pristine, len);
		switch (how) {
		case 0:
			from = (size_t)victim + 7 + 20, to = len;
			for (size_t i = from; i < to; i++)
				torn[i] = (uint8_t)util_prng_next(&prng);
			break;
		case 1:
			memset(torn + victim + 7, 0, len - (size_t)victim - 7);
			break;
		case 2:
			from = (size_t)victim + 7 + 12 + VICTIM_LEN - 2000, to = len;
			for (size_t i = from; i < to; i++)
				torn[i] = (uint8_t)util_prng_next(&prng);
			break;
		case 3:
			/* cut in the middle of the victim, then a block and a half of
			 * garbage: a writer that died, and stale bytes after it */
			n = (size_t)victim + VICTIM_LEN / 2;
			for (size_t i = n; i < n + 50000; i++)
				torn[i] = (uint8_t)util_prng_next(&prng);
			n += 50000;
			break;
		case 4:
			memset(torn + victim, 0, len - (size_t)victim);
			break;
		}
		write_file(log, torn, n);
		expect_synced_records_and_no_victim(name[how]);
		const char *text = log_text();
		snprintf(want, sizeof(want), "%s: dropped a torn tail of %zu bytes at offset %lld",
			 strrchr(log, '/') + 1, n - (size_t)victim, (long long)victim);
		ck_assert_msg(strstr(text, want), "%s: the log does not say '%s':\n%s", name[how],
			      want, text);
		/* the next open turned the log into a table: start again */
		rm_rf(data_dir);
		write_with_victim(log, sizeof(log), &victim);
		free(pristine);
		pristine = read_file(log, &len);
		torn = realloc(torn, len + 70000);
	}
	free(torn);
	free(pristine);
}
END_TEST

/* Record i of entity 3 in a batch of its own, with a value of `len` bytes. */
static void write_one(struct store *s, uint64_t i, size_t len)
{
	struct store_batch *b = store_batch_new();
	uint8_t v[1024];
	ck_assert_uint_le(len, sizeof(v));
	fill_value(v, len, i);
	struct store_record r = {
	    .promised = 9, .accepted = 9, .value_id = i, .value = v, .value_len = len};
	store_batch_put_record(b, 3, i, &r, false);
	ck_assert_int_eq(store_write(s, b, false), 0);
	store_batch_free(b);
}

/* A power cut that leaves a page of the newest log unwritten (zeros) while a
 * later page reached the disk: leveldb skips a zero header and the rest of
 * its block without a word, and replays the blocks after it. That would
 * keep later unsynced writes without earlier ones, which the engine relies
 * on never happening (paxos.h: the store loses writes only as a suffix). The
 * batch at the hole and everything after it go; what came before stays. */
START_TEST(an_unwritten_page_drops_everything_after_it)
{
	char log[PATH_MAX];
	struct store *s = open_store(NULL);
	struct store_record r;
	uint64_t i = 0, hole_at = 0;
	bool next_block = false;
	off_t at, hole = 0;

	log_capture();
	write_one(s, ++i, 300);
	ck_assert(find_file(".log", log, sizeof(log)));
	/* the record's size beyond its value, to end a batch on a block end */
	at = file_size(log);
	write_one(s, ++i, 300);
	off_t overhead = file_size(log) - at - 300;
	while (!next_block) {
		at = file_size(log);
		off_t room = 32768 - at % 32768;
		if (!hole_at && room > overhead && room - overhead <= 1024) {
			hole_at = ++i; /* this batch ends the block exactly */
			hole = at;
			write_one(s, i, (size_t)(room - overhead));
			ck_assert_int_eq(file_size(log) % 32768, 0);
		} else {
			next_block = hole_at != 0; /* this one starts the next block */
			write_one(s, ++i, 300);
		}
	}
	for (int k = 0; k < 20; k++)
		write_one(s, ++i, 300);
	uint64_t last = i;
	size_t len;
	store_free(s);
	uint8_t *buf = read_file(log, &len);
	memset(buf + hole, 0, 32768 - (size_t)hole % 32768);
	write_file(log, buf, len);
	free(buf);

	s = open_store(NULL);
	for (uint64_t k = 1; k < hole_at; k++) {
		ck_assert_msg(store_get_record(s, 3, k, &r) == 0,
			      "record %llu before the hole lost", (unsigned long long)k);
		free(r.value);
	}
	for (uint64_t k = hole_at; k <= last; k++)
		ck_assert_msg(store_get_record(s, 3, k, &r) == -ENOENT,
			      "record %llu at or after the hole (%llu) came back",
			      (unsigned long long)k, (unsigned long long)hole_at);
	store_free(s);
	const char *text = log_text();
	ck_assert_msg(strstr(text, "unwritten"), "the log does not say so:\n%s", text);
}
END_TEST

/* Damage that a crash cannot explain: without recover it is -EBADMSG and
 * nothing is touched; with recover the files go to damaged-<date>/ and a new
 * store opens, without a node record (amnesic, as after a wiped disk). */
static void expect_set_aside(const char *how, const char *says)
{
	struct store_options o = {.create = false}, rec = {.create = true, .recover = true};
	struct store *s = NULL;
	struct store_node node;
	struct store_record r;
	char err[1024], aside[PATH_MAX];
	int files = count_entries(data_dir);

	int rc = store_open(data_dir, &o, &s, err, sizeof(err));
	ck_assert_msg(rc == -EBADMSG, "%s: open without recover gave %d %s", how, rc, err);
	(void)log_text();

	rc = store_open(data_dir, &rec, &s, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s: open with recover gave %d %s", how, rc, err);
	ck_assert_msg(strstr(err, says) && strstr(err, "damaged-"), "%s: err: %s", how, err);
	const char *text = log_text();
	ck_assert_msg(strstr(text, "error") && strstr(text, says) && strstr(text, "damaged-"),
		      "%s: log:\n%s", how, text);
	ck_assert_int_eq(store_get_node(s, &node), -ENOENT);
	ck_assert_int_eq(store_get_record(s, 1, 1, &r), -ENOENT);
	store_free(s);

	/* the damaged files are kept, 0700, and do not stop the next open */
	ck_assert(find_file("damaged-", aside, sizeof(aside)));
	struct stat st;
	ck_assert_int_eq(stat(aside, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	ck_assert_int_ge(count_entries(aside), files - 1); /* all but LOCK */
	ck_assert_int_eq(try_open(false, err, sizeof(err)), 0);
	rm_rf(aside);
}

START_TEST(damage_with_intact_records_after_it_is_set_aside)
{
	char log[PATH_MAX], path[PATH_MAX];
	off_t victim;
	size_t len;

	log_capture();
	write_with_victim(log, sizeof(log), &victim);
	uint8_t *buf = read_file(log, &len);
	buf[victim / 2] ^= 0x40; /* inside one of the synced batches */
	write_file(log, buf, len);
	free(buf);
	expect_set_aside("a log byte flipped", "intact records after it");

	/* the same, kept aside: the flipped log is there as it was */
	rm_rf(data_dir);
	write_with_victim(log, sizeof(log), &victim);
	check_populated(100); /* now in a table */
	ck_assert(find_file(".ldb", path, sizeof(path)));
	buf = read_file(path, &len);
	write_file(path, buf, len / 2);
	free(buf);
	expect_set_aside("a table cut in half", "table");

	rm_rf(data_dir);
	populate(100);
	ck_assert(find_file("MANIFEST-", path, sizeof(path)));
	buf = read_file(path, &len);
	buf[len / 2] ^= 0xff;
	write_file(path, buf, len);
	free(buf);
	expect_set_aside("a MANIFEST byte flipped", "damaged");

	rm_rf(data_dir);
	populate(100);
	snprintf(path, sizeof(path), "%s/CURRENT", data_dir);
	ck_assert_int_eq(unlink(path), 0);
	expect_set_aside("CURRENT missing", "CURRENT");
}
END_TEST

struct scan_count {
	int n;
};

static int scan_count_cb(void *arg, uint64_t entry, const struct store_record *rec)
{
	((struct scan_count *)arg)->n++;
	return 0;
}

/* Opens and reads everything: the damage must surface as -EBADMSG, from the
 * open or from the reads, and no read may return other bytes. */
static void expect_table_damage_detected(const char *how)
{
	struct store_options o = {.create = false};
	struct store *s = NULL;
	char err[512];
	int rc = store_open(data_dir, &o, &s, err, sizeof(err)), bad = 0;

	if (rc) {
		ck_assert_msg(rc == -EBADMSG, "%s: open gave %d %s", how, rc, err);
		return;
	}
	for (int i = 1; i <= 400; i++) {
		struct store_record r;
		rc = store_get_record(s, 1, (uint64_t)i, &r);
		ck_assert_msg(rc == 0 || rc == -EBADMSG, "%s: record %d: %d", how, i, rc);
		if (rc) {
			bad++;
			continue;
		}
		ck_assert_msg(value_is(r.value, 300, (uint64_t)i), "%s: record %d has other bytes",
			      how, i);
		free(r.value);
	}
	struct scan_count c = {0};
	rc = store_scan_records(s, 1, 0, UINT64_MAX, true, scan_count_cb, &c);
	ck_assert_msg(rc == -EBADMSG, "%s: scan gave %d after %d records", how, rc, c.n);
	ck_assert_msg(bad > 0, "%s: every read succeeded", how);
	store_free(s);
}

START_TEST(table_damaged_or_truncated)
{
	char path[PATH_MAX];
	size_t len;
	populate(400);
	/* reopen twice: the first turns the log into a table */
	check_populated(400);
	ck_assert(find_file(".ldb", path, sizeof(path)));
	uint8_t *table = read_file(path, &len);
	ck_assert_uint_gt(len, 400 * 300);

	/* a flipped byte in a data block, in the middle, near the end (index) */
	size_t where[] = {100, len / 2, len - 60};
	for (int i = 0; i < 3; i++) {
		table[where[i]] ^= 0xff;
		write_file(path, table, len);
		char how[64];
		snprintf(how, sizeof(how), "table byte %zu of %zu flipped", where[i], len);
		expect_table_damage_detected(how);
		table[where[i]] ^= 0xff;
	}
	write_file(path, table, len / 2);
	expect_table_damage_detected("table cut in half");
	write_file(path, table, 0);
	expect_table_damage_detected("table emptied");

	ck_assert_int_eq(unlink(path), 0);
	char err[512];
	int rc = try_open(false, err, sizeof(err));
	ck_assert_msg(rc == -EBADMSG, "table missing: %d %s", rc, err);

	write_file(path, table, len);
	free(table);
	check_populated(400);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("store open");
	STORE_TEST(s, missing_dir, 10);
	STORE_TEST(s, created_0700_with_parents, 10);
	STORE_TEST(s, dir_open_to_others_is_refused, 20);
	STORE_TEST(s, empty_dir, 10);
	STORE_TEST(s, dir_holding_something_else, 10);
	STORE_TEST(s, someone_elses_leveldb, 10);
	STORE_TEST(s, incompatible_format_version, 20);
	STORE_TEST(s, interrupted_creation_is_finished_or_reported, 20);
	STORE_TEST(s, second_open_in_this_process_is_busy, 10);
	STORE_TEST(s, another_process_holding_it_is_busy, 30);
	STORE_TEST(s, current_missing_is_damage_not_a_new_store, 20);
	STORE_TEST(s, current_damaged, 20);
	STORE_TEST(s, manifest_damaged_or_truncated, 20);
	STORE_TEST(s, log_record_damaged, 20);
	STORE_TEST(s, table_damaged_or_truncated, 60);
	STORE_TEST(s, torn_tail_of_the_newest_log_is_dropped, 60);
	STORE_TEST(s, an_unwritten_page_drops_everything_after_it, 60);
	STORE_TEST(s, damage_with_intact_records_after_it_is_set_aside, 60);
	return s;
}
