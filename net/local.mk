# net/ — the peer mesh: libevent links over TLS, handshake, frames (issues 4, 16).
# May use libevent, OpenSSL, proto/ and util/; never fs/, paxos/ semantics or libfuse.

noinst_LIBRARIES += net/libnet.a
net_libnet_a_SOURCES = \
	net/net.h net/internal.h \
	net/frame.c net/frame.h \
	net/handshake.c net/handshake.h \
	net/hold.c \
	net/link.c \
	net/mesh.c \
	net/tls.c net/tls.h
net_libnet_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(OPENSSL_CFLAGS) $(PROTOBUF_C_CFLAGS)

NET_LIBS = net/libnet.a $(PROTO_LIBS) $(UTIL_LIBS) $(OPENSSL_LIBS) $(LIBEVENT_LIBS)
