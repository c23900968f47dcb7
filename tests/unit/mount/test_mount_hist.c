/* tests/unit/mount/test_mount_hist.c — latency histograms (mount/hist.h): a
 * bucket holds what is at most its bound (Prometheus' le), what is above
 * the last bound goes to +Inf, the sum is in seconds; and two threads
 * observing at once lose nothing (the syncer's thread and the loop). */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <pthread.h>

#include "mount/hist.h"

START_TEST(bounds_are_inclusive)
{
	static struct mount_hist h;
	uint64_t c[MOUNT_HIST_BOUNDS + 1];
	double sum;

	mount_hist_observe(&h, 0);
	mount_hist_observe(&h, 500000);      /* 0.0005 s: le="0.0005" */
	mount_hist_observe(&h, 500001);      /* just above: le="0.001" */
	mount_hist_observe(&h, 10000000000); /* 10 s: the last bound */
	mount_hist_observe(&h, 10000000001); /* above: +Inf only */
	mount_hist_read(&h, c, &sum);
	ck_assert_uint_eq(c[0], 2);
	ck_assert_uint_eq(c[1], 1);
	ck_assert_uint_eq(c[MOUNT_HIST_BOUNDS - 1], 1);
	ck_assert_uint_eq(c[MOUNT_HIST_BOUNDS], 1);
	ck_assert_double_eq_tol(sum, 20.001000002, 1e-9);
	ck_assert_double_eq(mount_hist_le[0], 0.0005);
	ck_assert_double_eq(mount_hist_le[MOUNT_HIST_BOUNDS - 1], 10);
	for (int i = 1; i < MOUNT_HIST_BOUNDS; i++)
		ck_assert(mount_hist_le[i] > mount_hist_le[i - 1]);
}
END_TEST

#define PER_THREAD 200000

static void *observe_many(void *arg)
{
	for (int i = 0; i < PER_THREAD; i++)
		mount_hist_observe(arg, 1000);
	return NULL;
}

START_TEST(threads_lose_nothing)
{
	static struct mount_hist h;
	uint64_t c[MOUNT_HIST_BOUNDS + 1];
	double sum;
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, observe_many, &h), 0);
	observe_many(&h);
	pthread_join(t, NULL);
	mount_hist_read(&h, c, &sum);
	ck_assert_uint_eq(c[0], 2 * PER_THREAD);
	ck_assert_double_eq_tol(sum, 2 * PER_THREAD * 1e-6, 1e-9);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("mount_hist");
	TCase *tc = tcase_create("hist");
	tcase_add_test(tc, bounds_are_inclusive);
	tcase_add_test(tc, threads_lose_nothing);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return s;
}
