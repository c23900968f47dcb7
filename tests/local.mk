# tests/ — every module's tests; each folder keeps its own local.mk.
include tests/unit/util/local.mk
include tests/unit/store/local.mk
include tests/unit/paxos/local.mk
include tests/unit/node/local.mk
include tests/unit/net/local.mk
include tests/unit/fs/local.mk
include tests/unit/mount/local.mk
include tests/unit/tools/local.mk
include tests/sim/local.mk
include tests/system/local.mk
include tests/faults/local.mk

# `make format` leaves the tree unchanged (clang-format, .clang-format);
# the #include lines keep STYLE.md's module boundaries.
TESTS += tests/format.sh tests/lint_includes.sh
EXTRA_DIST += tests/format.sh tests/lint_includes.sh

# Memory errors and leaks of the pure modules' unit tests, under valgrind.
TESTS += tests/valgrind.sh
EXTRA_DIST += tests/valgrind.sh
