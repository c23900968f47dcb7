/* tests/unit/store/test_store_enospc.c — a full disk. The store lives on a
 * small tmpfs that each case mounts in a private mount namespace (so the
 * mount goes away with the case's process, whatever happens) and unmounts
 * itself. A filler file takes the room; the store writes until a write
 * fails, which must be -ENOSPC; the store stays readable and consistent;
 * once the filler is gone, writes work again and every batch that was
 * acknowledged is there, also after a reopen.
 *
 * Needs root (mount, unshare): otherwise the whole program is one TAP skip. */
#include "config.h"

#include "tests/lib/check_main.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include "tests/unit/store/helpers.h"
#include "util/log.h"

#define TMPFS_SIZE "16m"
#define ROOM_LEFT  ((uint64_t)2 << 20) /* what the filler leaves for the store */
#define ENTITIES   8

static const struct store_options small_opt = {
    .create = true, .write_buffer_bytes = 256 << 10, /* tables and compactions on a small disk */
};

static char filler[PATH_MAX];

/* Mounts a private tmpfs on test_dir. Returns 0 or an errno. */
static int mount_tmpfs(void)
{
	if (unshare(CLONE_NEWNS) < 0)
		return errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return errno;
	if (mount("tmpfs", test_dir, "tmpfs", 0, "size=" TMPFS_SIZE ",mode=0700") < 0)
		return errno;
	return 0;
}

static void setup_disk(void)
{
	int rc = mount_tmpfs();
	ck_assert_msg(rc == 0, "mount tmpfs: %s", strerror(rc));
	snprintf(data_dir, sizeof(data_dir), "%s/data", test_dir);
	snprintf(filler, sizeof(filler), "%s/filler", test_dir);
}

static void teardown_disk(void)
{
	ck_assert_int_eq(umount2(test_dir, MNT_DETACH), 0);
}

static uint64_t free_bytes(void)
{
	struct statvfs v;
	ck_assert_int_eq(statvfs(test_dir, &v), 0);
	return (uint64_t)v.f_bavail * v.f_frsize;
}

/* Takes all but `leave` bytes of the disk. */
static void fill_disk(uint64_t leave)
{
	static uint8_t chunk[64 << 10];
	uint64_t want = free_bytes() > leave ? free_bytes() - leave : 0;
	int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	memset(chunk, 0xaa, sizeof(chunk));
	while (want > 0) {
		size_t n = want < sizeof(chunk) ? (size_t)want : sizeof(chunk);
		ssize_t w = write(fd, chunk, n);
		if (w <= 0)
			break;
		want -= (uint64_t)w;
	}
	close(fd);
}

/* Batch i: a record for each entity (every fifth with a separate 40 KiB value)
 * and one state key. */
static void queue_batch(struct store_batch *b, uint64_t i)
{
	static uint8_t v[40 << 10];
	char k[32];
	for (uint64_t e = 1; e <= ENTITIES; e++) {
		size_t len = (i + e) % 5 == 0 ? sizeof(v) : 2000;
		fill_value(v, len, i * 100 + e);
		struct store_record r = {.promised = i,
					 .accepted = i,
					 .value_id = i * 100 + e,
					 .value = v,
					 .value_len = len};
		store_batch_put_record(b, e, i, &r, false);
	}
	snprintf(k, sizeof(k), "b/%08" PRIu64, i);
	fill_value(v, 500, i);
	store_batch_put_state(b, k, strlen(k), v, 500);
}

/* Batch i is there whole (want) or not at all (!want). */
static void check_batch(struct store *s, uint64_t i, bool want)
{
	char k[32];
	void *val;
	size_t vl;
	for (uint64_t e = 1; e <= ENTITIES; e++) {
		struct store_record r;
		int rc = store_get_record(s, e, i, &r);
		if (!want) {
			ck_assert_msg(rc == -ENOENT,
				      "batch %" PRIu64 " partly there (entity %" PRIu64 ")", i, e);
			continue;
		}
		ck_assert_msg(rc == 0, "batch %" PRIu64 " entity %" PRIu64 ": %d", i, e, rc);
		ck_assert(value_is(r.value, r.value_len, i * 100 + e));
		free(r.value);
	}
	snprintf(k, sizeof(k), "b/%08" PRIu64, i);
	int rc = store_get_state(s, k, strlen(k), &val, &vl);
	ck_assert_int_eq(rc, want ? 0 : -ENOENT);
	if (want) {
		ck_assert(value_is(val, vl, i));
		free(val);
	}
}

/* Batch i, written by a store_write that failed: all of it or none (a
 * synced batch is in the log before the synced empty record that makes it
 * durable; if that record meets the full disk, the batch is readable). */
static void check_batch_whole_or_none(struct store *s, uint64_t i)
{
	struct store_record r;
	int rc = store_get_record(s, 1, i, &r);
	ck_assert_msg(rc == 0 || rc == -ENOENT, "batch %" PRIu64 ": %d", i, rc);
	if (rc == 0)
		free(r.value);
	check_batch(s, i, rc == 0);
}

/* Writes batches from *next until one fails; returns that error. */
static int write_until_full(struct store *s, struct store_batch *b, uint64_t *next)
{
	for (int n = 0; n < 5000; n++) {
		queue_batch(b, *next);
		int rc = store_write(s, b, true);
		if (rc)
			return rc;
		(*next)++;
	}
	ck_abort_msg("the disk never filled up");
	return 0;
}

START_TEST(full_disk_fails_with_enospc_then_recovers)
{
	struct store *s;
	struct store_batch *b = store_batch_new();
	uint64_t next = 1, failed;
	int rc;

	setup_disk();
	util_log_set_level(UTIL_LOG_WARN);
	s = open_store(&small_opt);
	for (; next <= 20; next++) {
		queue_batch(b, next);
		ck_assert_int_eq(store_write(s, b, true), 0);
	}
	fill_disk(ROOM_LEFT);
	rc = write_until_full(s, b, &next);
	ck_assert_msg(rc == -ENOSPC, "a write on a full disk gave %d (%s)", rc, strerror(-rc));
	failed = next;
	ck_assert(!store_batch_empty(b)); /* left as it was */

	/* readable and consistent: every acknowledged batch, the failed one whole
	 * or not at all */
	for (uint64_t i = 1; i < failed; i++)
		check_batch(s, i, true);
	check_batch_whole_or_none(s, failed);
	check_batch(s, failed + 1, false);
	/* more writes keep failing cleanly */
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(store_write(s, b, true), -ENOSPC);
	check_batch(s, 1, true);

	/* room again: the same batch goes through, and more after it */
	ck_assert_int_eq(unlink(filler), 0);
	rc = store_write(s, b, true);
	ck_assert_msg(rc == 0, "write after freeing space: %d", rc);
	for (next = failed + 1; next < failed + 30; next++) {
		queue_batch(b, next);
		ck_assert_int_eq(store_write(s, b, true), 0);
	}
	for (uint64_t i = 1; i < next; i++)
		check_batch(s, i, true);
	check_batch(s, next, false);
	store_free(s);

	s = open_store(&small_opt);
	for (uint64_t i = 1; i < next; i++)
		check_batch(s, i, true);
	check_batch(s, next, false);
	store_free(s);
	store_batch_free(b);
	teardown_disk();
}
END_TEST

START_TEST(closed_while_full_opens_once_space_is_back)
{
	struct store_options o = small_opt;
	struct store *s;
	struct store_batch *b = store_batch_new();
	uint64_t next = 1;
	char err[512];
	int rc;

	setup_disk();
	util_log_set_level(UTIL_LOG_ERR);
	s = open_store(&small_opt);
	fill_disk(ROOM_LEFT);
	rc = write_until_full(s, b, &next);
	ck_assert_int_eq(rc, -ENOSPC);
	store_free(s); /* its final sync fails too: logged, nothing lost */

	/* Opening replays the log into a table: with no room that fails, and
	 * says why; or it fits, and everything is there. */
	o.create = false;
	s = NULL;
	rc = store_open(data_dir, &o, &s, err, sizeof(err));
	ck_assert_msg(rc == 0 || rc == -ENOSPC, "open on a full disk: %d %s", rc, err);
	if (rc == -ENOSPC) {
		ck_assert_msg(strstr(err, "disk is full"), "%s", err);
	} else {
		for (uint64_t i = 1; i < next; i++)
			check_batch(s, i, true);
		store_free(s);
	}
	ck_assert_int_eq(unlink(filler), 0);
	s = open_store(&o);
	for (uint64_t i = 1; i < next; i++)
		check_batch(s, i, true);
	check_batch_whole_or_none(s, next);
	check_batch(s, next + 1, false);
	ck_assert_int_eq(store_write(s, b, true), 0);
	check_batch(s, next, true);
	store_free(s);
	store_batch_free(b);
	teardown_disk();
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("store full disk");
	STORE_TEST(s, full_disk_fails_with_enospc_then_recovers, 120);
	STORE_TEST(s, closed_while_full_opens_once_space_is_back, 120);
	return s;
}

/* Whether this process may mount a private tmpfs (tried in a child). */
static const char *cannot_mount(void)
{
	static char why[128];
	char dir[] = "/tmp/paxfs-probe-XXXXXX";
	int status;
	pid_t pid;

	if (geteuid() != 0)
		return "not root";
	if (!mkdtemp(dir))
		return "no temporary directory";
	pid = fork();
	if (pid == 0) {
		int rc = 0;
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", dir, "tmpfs", 0, "size=1m") < 0)
			rc = errno;
		else
			umount2(dir, MNT_DETACH);
		_exit(rc);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		rmdir(dir);
		return "the mount probe failed";
	}
	rmdir(dir);
	if (WEXITSTATUS(status)) {
		snprintf(why, sizeof(why), "cannot mount a tmpfs here: %s",
			 strerror(WEXITSTATUS(status)));
		return why;
	}
	return NULL;
}

int main(void)
{
	const char *why = cannot_mount();
	SRunner *sr;
	int failed;

	if (why) {
		printf("1..0 # SKIP the full-disk test mounts a tmpfs (%s)\n", why);
		return EXIT_SUCCESS;
	}
	sr = srunner_create(test_suite());
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
