# tests/system — real mounts of a local 3-node cluster (scripts/cluster), as root.
TESTS += \
	tests/system/shell_tools.sh
EXTRA_DIST += tests/system/lib.sh tests/system/tree.sh $(filter tests/system/%.sh,$(TESTS))
