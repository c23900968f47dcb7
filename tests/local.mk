# tests/ — every module's tests; each folder keeps its own local.mk.
include tests/unit/util/local.mk
