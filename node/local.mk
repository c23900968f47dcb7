# node/ — the node core: turns and group commit, engine start and restart,
# with the clock, the store, the network and the state machine injected
# (node/node.h). The daemon (mount/) and the simulator (tests/sim/) both
# drive it. Links paxos + proto + util only: never libevent, libfuse,
# leveldb or sockets.

noinst_LIBRARIES += node/libnode.a
node_libnode_a_SOURCES = \
	node/node.h node/internal.h \
	node/apply.c \
	node/node.c \
	node/req.c \
	node/turn.c
node_libnode_a_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)

NODE_LIBS = node/libnode.a $(PAXOS_LIBS)
