# tests/unit/tools — paxfs-verify's library: the comparator on synthetic
# summaries, offline checks of real stores, the online client against fake
# nodes. Links tools/ (and what it may use) only: never libfuse.
TOOLS_TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS)
TOOLS_TEST_LIBS = $(VERIFY_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/tools/test_verify_compare
TESTS += tests/unit/tools/test_verify_compare
tests_unit_tools_test_verify_compare_SOURCES = tests/unit/tools/test_verify_compare.c \
	tests/lib/check_main.h
tests_unit_tools_test_verify_compare_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_unit_tools_test_verify_compare_LDADD = $(TOOLS_TEST_LIBS)

check_PROGRAMS += tests/unit/tools/test_verify_offline
TESTS += tests/unit/tools/test_verify_offline
tests_unit_tools_test_verify_offline_SOURCES = tests/unit/tools/test_verify_offline.c \
	tests/lib/check_main.h tests/lib/tmpdir.h
tests_unit_tools_test_verify_offline_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_unit_tools_test_verify_offline_LDADD = $(TOOLS_TEST_LIBS)

check_PROGRAMS += tests/unit/tools/test_verify_online
TESTS += tests/unit/tools/test_verify_online
tests_unit_tools_test_verify_online_SOURCES = tests/unit/tools/test_verify_online.c \
	tests/lib/check_main.h tests/lib/tmpdir.h
tests_unit_tools_test_verify_online_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_unit_tools_test_verify_online_LDADD = $(TOOLS_TEST_LIBS)

# tools/prom.h: the Prometheus text both paxfsctl and the daemon write.
check_PROGRAMS += tests/unit/tools/test_prom
TESTS += tests/unit/tools/test_prom
tests_unit_tools_test_prom_SOURCES = tests/unit/tools/test_prom.c tests/lib/check_main.h
tests_unit_tools_test_prom_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_unit_tools_test_prom_LDADD = tools/libprom.a $(PROTO_LIBS) $(UTIL_LIBS) $(CHECK_LIBS)
