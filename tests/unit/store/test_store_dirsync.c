/* tests/unit/store/test_store_dirsync.c — the part of "synced" leveldb leaves
 * out: a new write-ahead log (after a memtable switch) is noticed, and the
 * next synced write makes the older logs and the directory durable before it
 * is acknowledged. Power loss itself cannot be simulated here; these cases
 * check that every log switch is seen and handled, through the store too. */
#include "config.h"

#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <fcntl.h>

#include "store/dirsync.h"
#include "store/internal.h"
#include "tests/unit/store/helpers.h"

static void touch(const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", test_dir, name);
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "x", 1), 1);
	close(fd);
}

START_TEST(new_logs_are_noticed_other_files_not)
{
	struct store_dirsync d;
	ck_assert_int_eq(store_dirsync_init(&d, test_dir), 0);
	ck_assert_int_ge(d.ifd, 0);
	ck_assert(d.pending); /* an open has just created a log */
	ck_assert_int_eq(store_dirsync_sync(&d), 0);
	ck_assert(!d.pending);

	touch("000007.ldb");
	touch("LOG");
	touch("MANIFEST-000008");
	touch("notes.log.txt");
	store_dirsync_poll(&d);
	ck_assert(!d.pending);

	touch("000009.log");
	store_dirsync_poll(&d);
	ck_assert(d.pending);
	touch("000010.log"); /* two logs: the older synced first, then the newest */
	ck_assert_int_eq(store_dirsync_sync(&d), 0);
	ck_assert(!d.pending);
	ck_assert_int_eq(store_dirsync_sync(&d), 0);

	/* a log renamed into place counts too */
	touch("tmpfile");
	char from[PATH_MAX], to[PATH_MAX];
	snprintf(from, sizeof(from), "%s/tmpfile", test_dir);
	snprintf(to, sizeof(to), "%s/000011.log", test_dir);
	ck_assert_int_eq(rename(from, to), 0);
	store_dirsync_poll(&d);
	ck_assert(d.pending);
	store_dirsync_close(&d);
}
END_TEST

START_TEST(without_inotify_every_synced_write_syncs)
{
	struct store_dirsync d;
	ck_assert_int_eq(store_dirsync_init(&d, test_dir), 0);
	close(d.ifd);
	d.ifd = -1; /* as when inotify is unavailable */
	ck_assert_int_eq(store_dirsync_sync(&d), 0);
	store_dirsync_poll(&d);
	ck_assert(d.pending); /* cannot know: assume a new log */
	ck_assert_int_eq(store_dirsync_sync(&d), 0);
	store_dirsync_close(&d);
}
END_TEST

START_TEST(missing_dir_is_an_error)
{
	struct store_dirsync d;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/nope", test_dir);
	ck_assert_int_eq(store_dirsync_init(&d, path), -ENOENT);
}
END_TEST

/* Through the store: unsynced batches fill the memtable until leveldb starts
 * a new log; the store sees it, and the next synced write handles it. */
START_TEST(store_handles_a_log_switch_at_the_next_synced_write)
{
	struct store_options o = {.create = true, .write_buffer_bytes = 64 << 10};
	struct store *s = open_store(&o);
	struct store_batch *b = store_batch_new();
	uint8_t v[4000];
	int n;

	ck_assert(!s->ds.pending);
	for (n = 0; n < 1000 && !s->ds.pending; n++) {
		fill_value(v, sizeof(v), (uint64_t)n);
		store_batch_put_state(b, &n, sizeof(n), v, sizeof(v));
		ck_assert_int_eq(store_write(s, b, false), 0);
	}
	ck_assert_msg(s->ds.pending, "no log switch seen after %d batches", n);
	ck_assert_int_eq(store_write(s, b, true), 0);
	ck_assert(!s->ds.pending);
	store_batch_free(b);
	store_free(s);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("store dirsync");
	STORE_TEST(s, new_logs_are_noticed_other_files_not, 10);
	STORE_TEST(s, without_inotify_every_synced_write_syncs, 10);
	STORE_TEST(s, missing_dir_is_an_error, 10);
	STORE_TEST(s, store_handles_a_log_switch_at_the_next_synced_write, 30);
	return s;
}
