/* tests/lib/check_main.h — the main() of every Check test program.
 *
 * A test file defines `Suite *test_suite(void)` and includes this header
 * with PAXFS_CHECK_MAIN defined in exactly one place (the test file itself).
 * Each case runs in its own process (CK_FORK) with a timeout; results go to
 * stdout as TAP, which automake's tap-driver counts case by case. */
#ifndef PAXFS_TESTS_CHECK_MAIN_H
#define PAXFS_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

Suite *test_suite(void);

#ifdef PAXFS_CHECK_MAIN
int main(void)
{
	SRunner *sr = srunner_create(test_suite());
	int failed;

	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
#endif

/* Adds a test case named after `fn` with one test and a timeout in seconds. */
#define TEST_CASE(suite, fn, timeout_s)                                                            \
	do {                                                                                       \
		TCase *tc_ = tcase_create(#fn);                                                    \
		tcase_add_test(tc_, fn);                                                           \
		tcase_set_timeout(tc_, (timeout_s));                                               \
		suite_add_tcase((suite), tc_);                                                     \
	} while (0)

#endif
