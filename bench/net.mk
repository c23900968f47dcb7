# bench/net — the peer mesh against a plain libevent TCP echo (run by hand:
# build/bench/net [-n ROUND_TRIPS] [-m MIB]).
noinst_PROGRAMS += bench/net
bench_net_SOURCES = bench/net.c
bench_net_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS)
bench_net_LDADD = $(NET_LIBS) -lm
