# tests/unit/fs — fs/ driven through fs_apply with encoded values (no Paxos).
# Links fs + store + proto + util only. Until the real store/ is merged, the
# store is the THROWAWAY in-memory fake_store.c (same contract, store/store.h);
# then FS_TEST_STORE becomes $(STORE_LIBS).

FS_TEST_STORE = libfsfakestore.a
check_LIBRARIES += libfsfakestore.a
libfsfakestore_a_SOURCES = tests/unit/fs/fake_store.c tests/unit/fs/fake_store.h
libfsfakestore_a_CFLAGS = $(AM_CFLAGS)

check_LIBRARIES += libfstest.a
libfstest_a_SOURCES = tests/unit/fs/fs_test.c tests/unit/fs/fs_test.h
libfstest_a_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PROTOBUF_C_CFLAGS)

FS_TEST_LDADD = libfstest.a $(FS_LIBS) $(FS_TEST_STORE) $(PROTO_LIBS) $(UTIL_LIBS) $(CHECK_LIBS)
FS_TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PROTOBUF_C_CFLAGS)

check_PROGRAMS += tests/unit/fs/test_fs_ns
TESTS += tests/unit/fs/test_fs_ns
tests_unit_fs_test_fs_ns_SOURCES = tests/unit/fs/test_fs_ns.c tests/lib/check_main.h
tests_unit_fs_test_fs_ns_CFLAGS = $(FS_TEST_CFLAGS)
tests_unit_fs_test_fs_ns_LDADD = $(FS_TEST_LDADD)

check_PROGRAMS += tests/unit/fs/test_fs_file
TESTS += tests/unit/fs/test_fs_file
tests_unit_fs_test_fs_file_SOURCES = tests/unit/fs/test_fs_file.c tests/lib/check_main.h
tests_unit_fs_test_fs_file_CFLAGS = $(FS_TEST_CFLAGS)
tests_unit_fs_test_fs_file_LDADD = $(FS_TEST_LDADD)

check_PROGRAMS += tests/unit/fs/test_fs_apply
TESTS += tests/unit/fs/test_fs_apply
tests_unit_fs_test_fs_apply_SOURCES = tests/unit/fs/test_fs_apply.c tests/lib/check_main.h
tests_unit_fs_test_fs_apply_CFLAGS = $(FS_TEST_CFLAGS)
tests_unit_fs_test_fs_apply_LDADD = $(FS_TEST_LDADD)

check_PROGRAMS += tests/unit/fs/test_fs_model
TESTS += tests/unit/fs/test_fs_model
tests_unit_fs_test_fs_model_SOURCES = tests/unit/fs/test_fs_model.c tests/lib/check_main.h
tests_unit_fs_test_fs_model_CFLAGS = $(FS_TEST_CFLAGS)
tests_unit_fs_test_fs_model_LDADD = $(FS_TEST_LDADD)

check_PROGRAMS += tests/unit/fs/test_fs_snapshot
TESTS += tests/unit/fs/test_fs_snapshot
tests_unit_fs_test_fs_snapshot_SOURCES = tests/unit/fs/test_fs_snapshot.c tests/lib/check_main.h
tests_unit_fs_test_fs_snapshot_CFLAGS = $(FS_TEST_CFLAGS)
tests_unit_fs_test_fs_snapshot_LDADD = $(FS_TEST_LDADD)
