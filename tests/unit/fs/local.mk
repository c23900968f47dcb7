# tests/unit/fs — fs/ driven through fs_apply with encoded values (no Paxos).
# Links fs + store + proto + util only (+ Check).
#
FS_TEST_STORE = $(STORE_LIBS)
FS_TEST_BACKEND = tests/unit/fs/backend_leveldb.c

# Every program compiles the helpers itself: fault.c must be an object (not
# an archive member) so that --wrap=store_write finds it for libfs.a.
FS_TEST_COMMON = tests/lib/check_main.h tests/unit/fs/fs_test.c tests/unit/fs/fs_test.h \
	tests/unit/fs/fault.c $(FS_TEST_BACKEND)
FS_TEST_CCFLAGS_ALL = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PROTOBUF_C_CFLAGS)
FS_TEST_LINKFLAGS = $(AM_LDFLAGS) -Wl,--wrap=store_write
FS_TEST_LIBS = $(FS_LIBS) $(FS_TEST_STORE) $(PROTO_LIBS) $(LEVELDB_LIBS) $(UTIL_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/fs/test_fs_ns
TESTS += tests/unit/fs/test_fs_ns
tests_unit_fs_test_fs_ns_SOURCES = tests/unit/fs/test_fs_ns.c $(FS_TEST_COMMON)
tests_unit_fs_test_fs_ns_CFLAGS = $(FS_TEST_CCFLAGS_ALL)
tests_unit_fs_test_fs_ns_LDFLAGS = $(FS_TEST_LINKFLAGS)
tests_unit_fs_test_fs_ns_LDADD = $(FS_TEST_LIBS)

check_PROGRAMS += tests/unit/fs/test_fs_file
TESTS += tests/unit/fs/test_fs_file
tests_unit_fs_test_fs_file_SOURCES = tests/unit/fs/test_fs_file.c $(FS_TEST_COMMON)
tests_unit_fs_test_fs_file_CFLAGS = $(FS_TEST_CCFLAGS_ALL)
tests_unit_fs_test_fs_file_LDFLAGS = $(FS_TEST_LINKFLAGS)
tests_unit_fs_test_fs_file_LDADD = $(FS_TEST_LIBS)

check_PROGRAMS += tests/unit/fs/test_fs_apply
TESTS += tests/unit/fs/test_fs_apply
tests_unit_fs_test_fs_apply_SOURCES = tests/unit/fs/test_fs_apply.c $(FS_TEST_COMMON)
tests_unit_fs_test_fs_apply_CFLAGS = $(FS_TEST_CCFLAGS_ALL)
tests_unit_fs_test_fs_apply_LDFLAGS = $(FS_TEST_LINKFLAGS)
tests_unit_fs_test_fs_apply_LDADD = $(FS_TEST_LIBS)

check_PROGRAMS += tests/unit/fs/test_fs_model
TESTS += tests/unit/fs/test_fs_model
tests_unit_fs_test_fs_model_SOURCES = tests/unit/fs/test_fs_model.c $(FS_TEST_COMMON)
tests_unit_fs_test_fs_model_CFLAGS = $(FS_TEST_CCFLAGS_ALL)
tests_unit_fs_test_fs_model_LDFLAGS = $(FS_TEST_LINKFLAGS)
tests_unit_fs_test_fs_model_LDADD = $(FS_TEST_LIBS)

check_PROGRAMS += tests/unit/fs/test_fs_snapshot
TESTS += tests/unit/fs/test_fs_snapshot
tests_unit_fs_test_fs_snapshot_SOURCES = tests/unit/fs/test_fs_snapshot.c $(FS_TEST_COMMON)
tests_unit_fs_test_fs_snapshot_CFLAGS = $(FS_TEST_CCFLAGS_ALL)
tests_unit_fs_test_fs_snapshot_LDFLAGS = $(FS_TEST_LINKFLAGS)
tests_unit_fs_test_fs_snapshot_LDADD = $(FS_TEST_LIBS)

check_PROGRAMS += tests/unit/fs/test_fs_lock
TESTS += tests/unit/fs/test_fs_lock
tests_unit_fs_test_fs_lock_SOURCES = tests/unit/fs/test_fs_lock.c $(FS_TEST_COMMON)
tests_unit_fs_test_fs_lock_CFLAGS = $(FS_TEST_CCFLAGS_ALL)
tests_unit_fs_test_fs_lock_LDFLAGS = $(FS_TEST_LINKFLAGS)
tests_unit_fs_test_fs_lock_LDADD = $(FS_TEST_LIBS)

check_PROGRAMS += tests/unit/fs/test_fs_lease
TESTS += tests/unit/fs/test_fs_lease
tests_unit_fs_test_fs_lease_SOURCES = tests/unit/fs/test_fs_lease.c $(FS_TEST_COMMON)
tests_unit_fs_test_fs_lease_CFLAGS = $(FS_TEST_CCFLAGS_ALL)
tests_unit_fs_test_fs_lease_LDFLAGS = $(FS_TEST_LINKFLAGS)
tests_unit_fs_test_fs_lease_LDADD = $(FS_TEST_LIBS)
