# tests/unit/node — the node core over a recording io and fsm. Links node +
# paxos + proto + util only (the in-memory store of tests/sim is compiled in).

check_PROGRAMS += tests/unit/node/test_node
TESTS += tests/unit/node/test_node

tests_unit_node_test_node_SOURCES = tests/unit/node/test_node.c tests/lib/check_main.h \
	tests/sim/simstore.c tests/sim/simstore.h
tests_unit_node_test_node_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_unit_node_test_node_LDADD = $(NODE_LIBS) $(CHECK_LIBS)
