# net/ — the peer mesh: libevent links, handshake, frames (issue 4).
# May use libevent, proto/ and util/; never fs/, paxos/ semantics or libfuse.

noinst_LIBRARIES += net/libnet.a
net_libnet_a_SOURCES = \
	net/net.h net/internal.h \
	net/frame.c net/frame.h \
	net/handshake.c net/handshake.h \
	net/hold.c \
	net/link.c \
	net/mesh.c \
	net/sha256.c net/sha256.h
net_libnet_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS)

NET_LIBS = net/libnet.a $(PROTO_LIBS) $(UTIL_LIBS) $(LIBEVENT_LIBS)
