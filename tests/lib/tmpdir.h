/* tests/lib/tmpdir.h — a fresh temporary directory per test case, made and
 * removed by the runner process (a Check unchecked fixture), so that it goes
 * away also when a case fails or times out.
 *
 * Header-only (static functions): each test program is one translation unit
 * and includes "config.h" first. */
#ifndef PAXFS_TESTS_TMPDIR_H
#define PAXFS_TESTS_TMPDIR_H

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static int tmpdir_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf path (nothing if it is empty or missing). */
static inline void rm_rf(const char *path)
{
	if (path[0])
		nftw(path, tmpdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Makes $TMPDIR/PREFIX-XXXXXX (default /tmp) into buf; aborts on failure. */
static inline void tmpdir_make(char *buf, size_t len, const char *prefix)
{
	const char *base = getenv("TMPDIR");
	snprintf(buf, len, "%s/%s-XXXXXX", base && *base ? base : "/tmp", prefix);
	if (!mkdtemp(buf)) {
		perror("mkdtemp");
		abort();
	}
}

/* Adds a test case named after `fn` whose runner calls setup before it and
 * teardown after it (also after a failure or a timeout). */
#define FIXTURE_CASE(suite, fn, timeout_s, setup, teardown)                                        \
	do {                                                                                       \
		TCase *tc_ = tcase_create(#fn);                                                    \
		tcase_add_unchecked_fixture(tc_, (setup), (teardown));                             \
		tcase_add_test(tc_, fn);                                                           \
		tcase_set_timeout(tc_, (timeout_s));                                               \
		suite_add_tcase((suite), tc_);                                                     \
	} while (0)

#endif
