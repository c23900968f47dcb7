# tests/unit/store — the store's tests. Each links store/ + proto/ + util/ only
# (and leveldb, which some use directly to plant damage).
STORE_TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PROTOBUF_C_CFLAGS)
STORE_TEST_LIBS = $(STORE_LIBS) $(CHECK_LIBS)
STORE_TEST_COMMON = tests/lib/check_main.h tests/lib/tmpdir.h tests/unit/store/helpers.h

STORE_TESTS = \
	tests/unit/store/test_store_records \
	tests/unit/store/test_store_corrupt \
	tests/unit/store/test_store_open \
	tests/unit/store/test_store_crash \
	tests/unit/store/test_store_enospc \
	tests/unit/store/test_store_dirsync \
	tests/unit/store/test_store_powercut
check_PROGRAMS += $(STORE_TESTS)
TESTS += $(STORE_TESTS)

tests_unit_store_test_store_records_SOURCES = tests/unit/store/test_store_records.c $(STORE_TEST_COMMON)
tests_unit_store_test_store_records_CFLAGS = $(STORE_TEST_CFLAGS)
tests_unit_store_test_store_records_LDADD = $(STORE_TEST_LIBS)

tests_unit_store_test_store_corrupt_SOURCES = tests/unit/store/test_store_corrupt.c $(STORE_TEST_COMMON)
tests_unit_store_test_store_corrupt_CFLAGS = $(STORE_TEST_CFLAGS)
tests_unit_store_test_store_corrupt_LDADD = $(STORE_TEST_LIBS)

tests_unit_store_test_store_open_SOURCES = tests/unit/store/test_store_open.c $(STORE_TEST_COMMON)
tests_unit_store_test_store_open_CFLAGS = $(STORE_TEST_CFLAGS)
tests_unit_store_test_store_open_LDADD = $(STORE_TEST_LIBS)

tests_unit_store_test_store_crash_SOURCES = tests/unit/store/test_store_crash.c $(STORE_TEST_COMMON)
tests_unit_store_test_store_crash_CFLAGS = $(STORE_TEST_CFLAGS)
tests_unit_store_test_store_crash_LDADD = $(STORE_TEST_LIBS)

tests_unit_store_test_store_enospc_SOURCES = tests/unit/store/test_store_enospc.c $(STORE_TEST_COMMON)
tests_unit_store_test_store_enospc_CFLAGS = $(STORE_TEST_CFLAGS)
tests_unit_store_test_store_enospc_LDADD = $(STORE_TEST_LIBS)

tests_unit_store_test_store_dirsync_SOURCES = tests/unit/store/test_store_dirsync.c $(STORE_TEST_COMMON)
tests_unit_store_test_store_dirsync_CFLAGS = $(STORE_TEST_CFLAGS)
tests_unit_store_test_store_dirsync_LDADD = $(STORE_TEST_LIBS)

# Defines fsync, fdatasync, unlink and rename itself (a disk model that
# loses what was not synced); the real ones through dlsym.
tests_unit_store_test_store_powercut_SOURCES = tests/unit/store/test_store_powercut.c $(STORE_TEST_COMMON)
tests_unit_store_test_store_powercut_CFLAGS = $(STORE_TEST_CFLAGS)
tests_unit_store_test_store_powercut_LDADD = $(STORE_TEST_LIBS) -ldl -lpthread
