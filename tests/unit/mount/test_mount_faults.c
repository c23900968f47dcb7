/* tests/unit/mount/test_mount_faults.c — the test_faults file (mount/faults.h):
 * what each rule sets, '*' for every peer, later rules replace earlier ones,
 * and a file with any bad line is refused whole, naming the line. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mount/faults.h"

START_TEST(rules_set_what_they_say)
{
	struct mount_faults_rules r;
	char err[256] = "";
	const char *text = "# a comment\n"
			   "delay 2 150 50\n"
			   "\n"
			   "loss 3 20   # trailing comment\n"
			   "drop 4\n"
			   "clock_offset_ms -86400000\n"
			   "block_loop_ms 1500\n";
	ck_assert_int_eq(mount_faults_parse(text, &r, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.delay_ms[2], 150);
	ck_assert_uint_eq(r.jitter_ms[2], 50);
	ck_assert_uint_eq(r.delay_ms[3], 0);
	ck_assert_uint_eq(r.loss_pct[3], 20);
	ck_assert_uint_eq(r.loss_pct[4], 100);
	ck_assert_uint_eq(r.loss_pct[2], 0);
	ck_assert_int_eq(r.clock_offset_ms, -86400000);
	ck_assert_uint_eq(r.block_loop_ms, 1500);
}
END_TEST

START_TEST(star_means_every_peer_and_later_rules_win)
{
	struct mount_faults_rules r;
	char err[256] = "";
	ck_assert_int_eq(
	    mount_faults_parse("delay * 40\ndelay 5 0\nloss * 10\n", &r, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.delay_ms[1], 40);
	ck_assert_uint_eq(r.delay_ms[255], 40);
	ck_assert_uint_eq(r.delay_ms[5], 0);
	ck_assert_uint_eq(r.loss_pct[200], 10);
	ck_assert_uint_eq(r.delay_ms[0], 0); /* 0 is never a peer */
}
END_TEST

START_TEST(an_empty_file_means_no_faults)
{
	struct mount_faults_rules r;
	char err[256] = "";
	memset(&r, 0xff, sizeof(r));
	ck_assert_int_eq(mount_faults_parse("", &r, err, sizeof(err)), 0);
	for (int p = 0; p < 256; p++) {
		ck_assert_uint_eq(r.delay_ms[p], 0);
		ck_assert_uint_eq(r.loss_pct[p], 0);
	}
	ck_assert_int_eq(r.clock_offset_ms, 0);
}
END_TEST

START_TEST(bad_lines_are_refused_with_their_number)
{
	static const char *bad[] = {
	    "delay 2\n",      /* no MS */
	    "delay 0 10\n",   /* peer 0 */
	    "delay 256 10\n", /* peer out of range */
	    "loss 2 101\n",   /* over 100 % */
	    "loss 2 -1\n",        "drop\n",
	    "drop 2 3\n",         "delya 2 10\n", /* typo */
	    "clock_offset_ms\n",  "clock_offset_ms 1x\n",
	    "block_loop_ms -1\n", "block_loop_ms 600001\n",
	    "delay 2 10 5 7\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mount_faults_rules r;
		char text[128], err[256] = "";
		snprintf(text, sizeof(text), "delay 1 10\n%s", bad[i]);
		ck_assert_msg(mount_faults_parse(text, &r, err, sizeof(err)) == -EINVAL,
			      "accepted: %s", bad[i]);
		ck_assert_msg(!strncmp(err, "2:", 2), "'%s' -> '%s'", bad[i], err);
	}
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("mount_faults");
	TEST_CASE(s, rules_set_what_they_say, 10);
	TEST_CASE(s, star_means_every_peer_and_later_rules_win, 10);
	TEST_CASE(s, an_empty_file_means_no_faults, 10);
	TEST_CASE(s, bad_lines_are_refused_with_their_number, 10);
	return s;
}
