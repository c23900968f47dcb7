# tests/sim — the deterministic simulator: a library (the cluster, the
# in-memory store, the checker, random runs), the paxfs-sim program for long
# soaks, and the check programs (scenarios with golden traces, random seeds).
# Links paxos + proto + util only.

noinst_LIBRARIES += tests/sim/libsim.a
tests_sim_libsim_a_SOURCES = \
	tests/sim/sim.h tests/sim/simint.h \
	tests/sim/sim.c \
	tests/sim/check.c \
	tests/sim/workload.c \
	tests/sim/simstore.c tests/sim/simstore.h
tests_sim_libsim_a_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
SIM_LIBS = tests/sim/libsim.a $(NODE_LIBS)

noinst_PROGRAMS += tests/sim/paxfs-sim
tests_sim_paxfs_sim_SOURCES = tests/sim/sim_main.c
tests_sim_paxfs_sim_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_sim_paxfs_sim_LDADD = $(SIM_LIBS)

check_PROGRAMS += tests/sim/test_scenarios tests/sim/test_seeds
TESTS += tests/sim/test_scenarios tests/sim/test_seeds
EXTRA_DIST += tests/sim/golden

tests_sim_test_scenarios_SOURCES = tests/sim/test_scenarios.c tests/lib/check_main.h
tests_sim_test_scenarios_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_sim_test_scenarios_LDADD = $(SIM_LIBS) $(CHECK_LIBS)

tests_sim_test_seeds_SOURCES = tests/sim/test_seeds.c tests/lib/check_main.h
tests_sim_test_seeds_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_sim_test_seeds_LDADD = $(SIM_LIBS) $(CHECK_LIBS)
