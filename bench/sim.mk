# bench/sim — the engine's throughput: three engines, zero latency, one
# batch per destination per turn (bench/sim.c). Built by `make`, run by hand.
noinst_PROGRAMS += bench/sim
bench_sim_SOURCES = bench/sim.c tests/sim/simstore.c tests/sim/simstore.h
bench_sim_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
bench_sim_LDADD = $(PAXOS_LIBS)
