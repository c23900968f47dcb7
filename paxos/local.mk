# paxos/ — the Paxos engine: a pure state machine (no I/O, clock or randomness
# of its own). Links util/ and, in codec.c only, protobuf (proto/).

noinst_LIBRARIES += paxos/libpaxos.a
paxos_libpaxos_a_SOURCES = \
	paxos/paxos.h paxos/internal.h \
	paxos/paxos.c \
	paxos/mem.c \
	paxos/table.c \
	paxos/timer.c \
	paxos/update.c \
	paxos/acceptor.c \
	paxos/proposer.c \
	paxos/learner.c \
	paxos/barrier.c \
	paxos/scan.c \
	paxos/forward.c \
	paxos/codec.c paxos/codec.h
paxos_libpaxos_a_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)

PAXOS_LIBS = paxos/libpaxos.a $(PROTO_LIBS) $(UTIL_LIBS)
