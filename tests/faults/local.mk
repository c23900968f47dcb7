# tests/faults — partitions, crashes, power cuts, lost and full disks (issues 7, 12; docs/faults.md).
#   test_checker.py   the history checker catches what it is for
#   short.sh          every fault schedule, short (tests/faults/run --short)
#   *.sh              regression tests of what the schedules found
FAULTS_TESTS = \
	tests/faults/test_checker.py \
	tests/faults/kill_busy.sh \
	tests/faults/write_visibility.sh \
	tests/faults/disk_full.sh \
	tests/faults/wipe_boot.sh \
	tests/faults/short.sh
TESTS += $(FAULTS_TESTS)
# The harness file by file: a directory would bring its __pycache__ along.
EXTRA_DIST += tests/faults/run $(FAULTS_TESTS) \
	tests/faults/harness/__init__.py \
	tests/faults/harness/checker.py \
	tests/faults/harness/client.py \
	tests/faults/harness/cluster.py \
	tests/faults/harness/lazyfs.py \
	tests/faults/harness/netns.py \
	tests/faults/harness/run.py \
	tests/faults/harness/schedules.py \
	tests/faults/harness/snapshot.py

# The powercut schedule builds LazyFS under the build tree (a minute or two):
# `make clean` keeps it, `make distclean` removes it.
distclean-local:
	rm -rf tests/faults/lazyfs tests/faults/lazyfs.build.log
