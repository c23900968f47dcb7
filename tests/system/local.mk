# tests/system — real mounts of a local 3-node cluster (scripts/cluster), as root.
check_PROGRAMS += tests/system/posix
tests_system_posix_SOURCES = tests/system/posix.c
check_PROGRAMS += tests/system/fsx
tests_system_fsx_SOURCES = tests/system/fsx.c
tests_system_fsx_LDADD = $(UTIL_LIBS)

SYSTEM_TESTS = \
	tests/system/shell_tools.sh \
	tests/system/posix.sh \
	tests/system/appends.sh \
	tests/system/close_to_open.sh \
	tests/system/crash.sh \
	tests/system/failed_sync.sh \
	tests/system/minority.sh \
	tests/system/one_node.sh \
	tests/system/modes.sh \
	tests/system/nosuid.sh \
	tests/system/wrong_secret.sh \
	tests/system/mount_errors.sh \
	tests/system/write_behind.sh \
	tests/system/setattr_carry.sh \
	tests/system/tls_capture.sh \
	tests/system/tls_certs.sh \
	tests/system/mmap.sh \
	tests/system/fsx.sh \
	tests/system/posix_tools.sh \
	tests/system/verify.sh \
	tests/system/status.sh \
	tests/system/roles.sh \
	tests/system/rotate.sh \
	tests/system/metrics.sh \
	tests/system/loopwatch.sh \
	tests/system/catchup_status.sh \
	tests/system/install.sh \
	tests/system/locks.sh \
	tests/system/sqlite_locks.sh \
	tests/system/deb.sh \
	tests/system/lock_lease.sh
TESTS += $(SYSTEM_TESTS)
# Not $(filter ...,$(TESTS)): `make dist TESTS=...` would then leave scripts out.
EXTRA_DIST += tests/system/lib.sh tests/system/tree.sh tests/system/failsync.c $(SYSTEM_TESTS)
