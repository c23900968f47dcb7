/* net/frame.c — encoding and checking of the preamble and frames.
 *
 * Decoding goes through protobuf-c with a budgeted allocator (util/budget.h):
 * a body that does not unpack, or would unpack into more than
 * util_decode_limit(len) bytes, is -EBADMSG, never a crash and never a node
 * out of memory: protobuf-c checks every length against the buffer it is
 * given, and frees what it built when an allocation fails. */
#include "net/frame.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/budget.h"
#include "util/crc32c.h"
#include "util/endian.h"

/* What frees a decoded message: util_budget_free is free(), so the budget
 * the message was decoded under need not outlive the decode. */
static ProtobufCAllocator freer = {util_budget_alloc, util_budget_free, NULL};

static void why_set(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

void net_preamble_encode(uint8_t out[NET_PREAMBLE_LEN])
{
	util_put_be32(out, NET_MAGIC);
	util_put_be32(out + 4, NET_PROTOCOL_VERSION);
}

int net_preamble_check(const uint8_t in[NET_PREAMBLE_LEN], char *why, size_t whylen)
{
	uint32_t magic = util_get_be32(in), version = util_get_be32(in + 4);

	if (magic != NET_MAGIC) {
		why_set(why, whylen, "not a paxfs peer: wrong magic 0x%08x (want 0x%08x)", magic,
			NET_MAGIC);
		return -EPROTO;
	}
	if (version != NET_PROTOCOL_VERSION) {
		why_set(why, whylen, "protocol version %u, this node speaks version %u", version,
			NET_PROTOCOL_VERSION);
		return -EPROTONOSUPPORT;
	}
	return 0;
}

int net_frame_parse_header(const uint8_t hdr[NET_FRAME_HDR_LEN], size_t max_len,
			   struct net_frame_hdr *out, char *why, size_t whylen)
{
	uint32_t len = util_get_be32(hdr);
	uint8_t type = hdr[4];

	if (hdr[5] | hdr[6] | hdr[7]) {
		why_set(why, whylen, "bad frame header: reserved bytes %02x%02x%02x are not zero",
			hdr[5], hdr[6], hdr[7]);
		return -EBADMSG;
	}
	if (type < NET_FRAME_HELLO || type > NET_FRAME_TYPE_MAX) {
		why_set(why, whylen, "bad frame header: unknown frame type %u", type);
		return -EBADMSG;
	}
	if (len > max_len) {
		why_set(why, whylen, "%s frame of %u bytes exceeds the limit of %zu bytes",
			net_frame_type_name(type), len, max_len);
		return -EMSGSIZE;
	}
	out->len = len;
	out->type = type;
	out->crc = util_get_be32(hdr + 8);
	return 0;
}

int net_frame_check_crc(const struct net_frame_hdr *h, const uint8_t hdr[NET_FRAME_HDR_LEN],
			const uint8_t *body, char *why, size_t whylen)
{
	uint32_t crc = util_crc32c(util_crc32c(0, hdr, 8), body, h->len);
	if (crc != h->crc) {
		why_set(why, whylen,
			"bad CRC in a frame of type %s, %u bytes (got 0x%08x, computed 0x%08x)",
			net_frame_type_name(h->type), h->len, h->crc, crc);
		return -EBADMSG;
	}
	return 0;
}

static const ProtobufCMessageDescriptor *descriptor_of(uint8_t type)
{
	switch (type) {
	case NET_FRAME_HELLO:
		return &paxfs__net_hello__descriptor;
	case NET_FRAME_AUTH:
		return &paxfs__net_auth__descriptor;
	case NET_FRAME_CLOSE:
		return &paxfs__net_close__descriptor;
	case NET_FRAME_HEARTBEAT:
		return &paxfs__net_heartbeat__descriptor;
	case NET_FRAME_ENVELOPE:
		return &paxfs__envelope__descriptor;
	}
	return NULL;
}

int net_frame_decode(uint8_t type, const uint8_t *body, size_t len, struct net_frame_msg *out,
		     char *why, size_t whylen)
{
	const ProtobufCMessageDescriptor *d = descriptor_of(type);
	struct util_budget b;
	ProtobufCAllocator a = {util_budget_alloc, util_budget_free, &b};
	ProtobufCMessage *m;

	if (!d) {
		why_set(why, whylen, "unknown frame type %u", type);
		return -EBADMSG;
	}
	util_budget_init(&b, util_decode_limit(len));
	m = protobuf_c_message_unpack(d, &a, len, body);
	if (!m && b.over) {
		why_set(why, whylen,
			"%s frame body of %zu bytes needs more than %zu bytes of memory to decode "
			"(at most %d x its size + %u)",
			net_frame_type_name(type), len, b.limit, UTIL_DECODE_FACTOR,
			UTIL_DECODE_SLACK);
		return -EBADMSG;
	}
	if (!m) {
		why_set(why, whylen, "%s frame body of %zu bytes does not decode",
			net_frame_type_name(type), len);
		return -EBADMSG;
	}
	out->type = (enum net_frame_type)type;
	out->u.any = m;
	return 0;
}

void net_frame_msg_free(struct net_frame_msg *m)
{
	if (m->u.any)
		protobuf_c_message_free_unpacked(m->u.any, &freer);
	m->u.any = NULL;
}

size_t net_frame_size(const ProtobufCMessage *msg)
{
	return NET_FRAME_HDR_LEN + protobuf_c_message_get_packed_size(msg);
}

void net_frame_seal(uint8_t *hdr, enum net_frame_type type, size_t len)
{
	util_put_be32(hdr, (uint32_t)len);
	hdr[4] = (uint8_t)type;
	hdr[5] = hdr[6] = hdr[7] = 0;
	util_put_be32(hdr + 8, util_crc32c(util_crc32c(0, hdr, 8), hdr + NET_FRAME_HDR_LEN, len));
}

size_t net_frame_pack(enum net_frame_type type, const ProtobufCMessage *msg, uint8_t *out)
{
	size_t len = protobuf_c_message_pack(msg, out + NET_FRAME_HDR_LEN);
	net_frame_seal(out, type, len);
	return NET_FRAME_HDR_LEN + len;
}

const char *net_frame_type_name(unsigned type)
{
	static const char *names[] = {NULL, "hello", "auth", "close", "heartbeat", "envelope"};
	static __thread char other[16];
	if (type >= NET_FRAME_HELLO && type <= NET_FRAME_TYPE_MAX)
		return names[type];
	snprintf(other, sizeof(other), "type %u", type);
	return other;
}
