/* net/frame.h — the wire format of a link: a preamble, then frames.
 *
 *   stream   := preamble frame*
 *   preamble := magic "PXFS" (4 bytes) | protocol version (u32 BE)
 *   frame    := header (12 bytes) | body (len bytes, a protobuf message)
 *
 *   header   +--------+------+----------+--------+
 *            | len    | type | reserved | crc    |
 *            | u32 BE | u8   | 3 x 0    | u32 BE |
 *            +--------+------+----------+--------+
 *             0        4      5          8        12
 *
 *   crc = CRC32C(header bytes 0..7 || body): it covers the length and the
 *   type as well as the body, so a flipped bit anywhere is caught.
 *
 * The body's schema depends on the type: NetHello, NetAuth, NetClose,
 * NetHeartbeat (proto/net.proto) or paxfs.Envelope (proto/envelope.proto).
 *
 * Everything here is pure (no I/O, no libevent): link.c drives it from a
 * bufferevent, and the fuzz target (tests/unit/net/fuzz_frame.c) drives it
 * from a byte string. Invariant: a function here never reads beyond the
 * lengths it is given, whatever the bytes say. */
#ifndef PAXFS_NET_FRAME_H
#define PAXFS_NET_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "proto/envelope.pb-c.h"
#include "proto/net.pb-c.h"

#define NET_MAGIC            0x50584653u /* "PXFS" */
#define NET_PROTOCOL_VERSION 2u          /* 2: inside TLS, proofs bound to the channel */
#define NET_PREAMBLE_LEN     8
#define NET_FRAME_HDR_LEN    12

/* Frames are limited to this size until the peer is authenticated: an
 * unauthenticated peer cannot make a node buffer more than this. */
#define NET_HANDSHAKE_MAX_FRAME 4096

enum net_frame_type {
	NET_FRAME_HELLO = 1, /* NetHello */
	NET_FRAME_AUTH,      /* NetAuth */
	NET_FRAME_CLOSE,     /* NetClose */
	NET_FRAME_HEARTBEAT, /* NetHeartbeat */
	NET_FRAME_ENVELOPE,  /* paxfs.Envelope: the only frame handed up */
};
#define NET_FRAME_TYPE_MAX NET_FRAME_ENVELOPE

/* A parsed frame header. */
struct net_frame_hdr {
	uint32_t len; /* body length */
	uint8_t type; /* enum net_frame_type */
	uint32_t crc;
};

/* A decoded frame body: `type` says which member is set. Owned by the
 * holder; release with net_frame_msg_free(). */
struct net_frame_msg {
	enum net_frame_type type;
	union {
		ProtobufCMessage *any;
		Paxfs__NetHello *hello;
		Paxfs__NetAuth *auth;
		Paxfs__NetClose *close;
		Paxfs__NetHeartbeat *heartbeat;
		Paxfs__Envelope *env;
	} u;
};

/* Writes this side's preamble (magic, NET_PROTOCOL_VERSION). */
void net_preamble_encode(uint8_t out[NET_PREAMBLE_LEN]);

/* Checks a peer's preamble. Returns 0; -EPROTO when the magic is wrong (not
 * a paxfs peer at all); -EPROTONOSUPPORT when the version differs. `why`
 * (may be NULL) gets a sentence for the log. */
int net_preamble_check(const uint8_t in[NET_PREAMBLE_LEN], char *why, size_t whylen);

/* Parses a header. Returns 0 and fills `out`; -EMSGSIZE when the body
 * length exceeds `max_len` (the caller must not wait for that body);
 * -EBADMSG for an unknown type or non-zero reserved bytes. */
int net_frame_parse_header(const uint8_t hdr[NET_FRAME_HDR_LEN], size_t max_len,
			   struct net_frame_hdr *out, char *why, size_t whylen);

/* Checks the CRC of a frame whose header was parsed into `h`: `hdr` is the
 * raw header, `body` its h->len bytes. Returns 0 or -EBADMSG. */
int net_frame_check_crc(const struct net_frame_hdr *h, const uint8_t hdr[NET_FRAME_HDR_LEN],
			const uint8_t *body, char *why, size_t whylen);

/* Decodes a body of a known type. Returns 0 and fills `out` (owned by the
 * caller), or -EBADMSG when it does not decode (`out` untouched).
 *
 * Decoding costs at most util_decode_limit(len) bytes of memory, peak and
 * held alike: UTIL_DECODE_FACTOR x len + UTIL_DECODE_SLACK, 32 x len +
 * 64 KiB (util/budget.h, where the measurements behind it are). A body that
 * would need more — empty repeated elements are 2 bytes on the wire and a
 * whole struct in memory — is -EBADMSG too, with a reason that says so;
 * legitimate traffic needs at most 24 x its size. */
int net_frame_decode(uint8_t type, const uint8_t *body, size_t len, struct net_frame_msg *out,
		     char *why, size_t whylen);

/* Frees a decoded body; a zeroed struct is a no-op. */
void net_frame_msg_free(struct net_frame_msg *m);

/* The encoded size of a frame carrying `msg` (header included). */
size_t net_frame_size(const ProtobufCMessage *msg);

/* Encodes a whole frame of `type` carrying `msg` into `out`, which has room
 * for net_frame_size(msg) bytes; returns that size. The body is packed in
 * place: no intermediate buffer. */
size_t net_frame_pack(enum net_frame_type type, const ProtobufCMessage *msg, uint8_t *out);

/* Fills the header of a frame whose body (`len` bytes at hdr + 12) is
 * already in place; computes its CRC. */
void net_frame_seal(uint8_t *hdr, enum net_frame_type type, size_t len);

/* A short name of a frame type for logs ("hello", "envelope", "type 9"). */
const char *net_frame_type_name(unsigned type);

#endif
