# tests/unit/util — links util/ only.
check_PROGRAMS += tests/unit/util/test_util
TESTS += tests/unit/util/test_util
tests_unit_util_test_util_SOURCES = tests/unit/util/test_util.c tests/lib/check_main.h
tests_unit_util_test_util_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_util_test_util_LDADD = $(UTIL_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/util/test_conf
TESTS += tests/unit/util/test_conf
tests_unit_util_test_conf_SOURCES = tests/unit/util/test_conf.c tests/lib/check_main.h
tests_unit_util_test_conf_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_util_test_conf_LDADD = $(UTIL_LIBS) $(CHECK_LIBS)
