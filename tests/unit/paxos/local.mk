# tests/unit/paxos — the engine's unit tests. Link paxos + proto + util only
# (the in-memory store of tests/sim is compiled in directly).

check_PROGRAMS += tests/unit/paxos/test_codec tests/unit/paxos/test_engine
TESTS += tests/unit/paxos/test_codec tests/unit/paxos/test_engine

tests_unit_paxos_test_codec_SOURCES = tests/unit/paxos/test_codec.c tests/lib/check_main.h
tests_unit_paxos_test_codec_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_unit_paxos_test_codec_LDADD = $(PAXOS_LIBS) $(CHECK_LIBS)

tests_unit_paxos_test_engine_SOURCES = tests/unit/paxos/test_engine.c tests/lib/check_main.h \
	tests/sim/simstore.c tests/sim/simstore.h
tests_unit_paxos_test_engine_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_unit_paxos_test_engine_LDADD = $(PAXOS_LIBS) $(CHECK_LIBS)
