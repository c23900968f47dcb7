# tests/faults — partitions, crashes, lost and full disks (issue 7; docs/faults.md).
# Regression tests of what the fault schedules found, each a small script.
TESTS += \
	tests/faults/kill_busy.sh \
	tests/faults/write_visibility.sh \
	tests/faults/disk_full.sh \
	tests/faults/wipe_boot.sh
EXTRA_DIST += $(filter tests/faults/%.sh,$(TESTS))
