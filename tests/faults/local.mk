# tests/faults — partitions, crashes, power cuts, lost and full disks (issues 7, 12; docs/faults.md).
#   test_checker.py   the history checker catches what it is for
#   short.sh          every fault schedule, short (tests/faults/run --short)
#   *.sh              regression tests of what the schedules found
TESTS += \
	tests/faults/test_checker.py \
	tests/faults/kill_busy.sh \
	tests/faults/write_visibility.sh \
	tests/faults/disk_full.sh \
	tests/faults/wipe_boot.sh \
	tests/faults/short.sh
EXTRA_DIST += tests/faults/run tests/faults/harness \
	$(filter tests/faults/%.sh tests/faults/%.py,$(TESTS))
