# tests/unit/mount — the daemon's parts that run without a mount.
check_PROGRAMS += tests/unit/mount/test_mount_faults
TESTS += tests/unit/mount/test_mount_faults
tests_unit_mount_test_mount_faults_SOURCES = tests/unit/mount/test_mount_faults.c \
	tests/lib/check_main.h
tests_unit_mount_test_mount_faults_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(MOUNT_FUSE_CFLAGS) \
	$(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_unit_mount_test_mount_faults_LDADD = $(MOUNT_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/mount/test_mount_args
TESTS += tests/unit/mount/test_mount_args
tests_unit_mount_test_mount_args_SOURCES = tests/unit/mount/test_mount_args.c \
	tests/lib/check_main.h
tests_unit_mount_test_mount_args_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(MOUNT_FUSE_CFLAGS)
tests_unit_mount_test_mount_args_LDADD = $(MOUNT_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/mount/test_mount_hist
TESTS += tests/unit/mount/test_mount_hist
tests_unit_mount_test_mount_hist_SOURCES = tests/unit/mount/test_mount_hist.c \
	tests/lib/check_main.h
tests_unit_mount_test_mount_hist_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_mount_test_mount_hist_LDADD = $(MOUNT_LIBS) $(CHECK_LIBS)
