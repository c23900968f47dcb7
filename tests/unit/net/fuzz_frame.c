/* tests/unit/net/fuzz_frame.c — the fuzz target of the frame decoder.
 *
 * Feeds arbitrary bytes through what a link does with its input once TLS
 * has decrypted it (the layer under TLS, whose bytes a peer holding the
 * secret chooses freely): preamble
 * check, then frame after frame: header (with the limit of the state),
 * CRC, body decode, and the handshake steps a hello or auth drives. The CRC
 * is checked but does not stop the body from being decoded: a fuzzer cannot
 * forge CRCs, and the decoder must survive any body anyway.
 *
 * Every body is also measured apart from net_frame_decode: one that would
 * decode into more than util_decode_limit(len) bytes must be refused, and
 * the target aborts (a finding) when it is not.
 *
 * Built two ways: by `make fuzz-net` with clang's libFuzzer, and into
 * fuzz_replay (any compiler), which replays the committed corpus in
 * `make check`. Deterministic: the handshake's own nonce is fixed here
 * rather than drawn from getrandom. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <stdlib.h>

#include "net/frame.h"
#include "net/handshake.h"
#include "util/budget.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Shared with fuzz_replay.c, which writes seeds that pass the handshake. */
const struct net_hs_keys fuzz_keys = {"fuzz", (const uint8_t *)"fuzz-secret-0123456789", 22, false};
const uint8_t fuzz_my_nonce_byte = 0x5a;
/* Every byte of the TLS channel binding the target's connection has. */
const uint8_t fuzz_channel_byte = 0xc3;

/* How often the target got past the handshake and decoded an envelope
 * there: fuzz_replay checks that its good seed reaches that far. */
size_t fuzz_envelopes_after_auth;

/* How often an envelope after the handshake was refused for the memory it
 * would take: fuzz_replay checks that its amplifying seed is. */
size_t fuzz_amplified_after_auth;

/* Whether `body` would decode within its limit, measured with a budget of
 * our own (not net_frame_decode's). */
static bool decodes_within_limit(uint8_t type, const uint8_t *body, size_t len)
{
	static const ProtobufCMessageDescriptor *const desc[NET_FRAME_TYPE_MAX + 1] = {
	    [NET_FRAME_HELLO] = &paxfs__net_hello__descriptor,
	    [NET_FRAME_AUTH] = &paxfs__net_auth__descriptor,
	    [NET_FRAME_CLOSE] = &paxfs__net_close__descriptor,
	    [NET_FRAME_HEARTBEAT] = &paxfs__net_heartbeat__descriptor,
	    [NET_FRAME_ENVELOPE] = &paxfs__envelope__descriptor,
	};
	struct util_budget b;
	ProtobufCAllocator a = {util_budget_alloc, util_budget_free, &b};
	util_budget_init(&b, util_decode_limit(len));
	ProtobufCMessage *m = protobuf_c_message_unpack(desc[type], &a, len, body);
	if (m)
		protobuf_c_message_free_unpacked(m, &a);
	return !b.over;
}

static size_t touch_envelope(const Paxfs__Envelope *env)
{
	size_t sum = env->version;
	if (env->body_case == PAXFS__ENVELOPE__BODY_PAXOS && env->paxos)
		for (size_t i = 0; i < env->paxos->n_msgs; i++) {
			const Paxfs__PaxosMsg *m = env->paxos->msgs[i];
			sum += m->type + m->entity + m->entry + m->ballot + m->value.len;
			if (m->value.len)
				sum += m->value.data[m->value.len - 1];
		}
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_hs hs;
	char why[256];
	size_t off = NET_PREAMBLE_LEN;
	volatile size_t sink = 0;
	enum net_close_code code;

	memset(&hs, 0, sizeof(hs));
	hs.role = NET_ROLE_ACCEPTOR;
	hs.self = 1;
	memset(hs.mine, fuzz_my_nonce_byte, sizeof(hs.mine));
	/* the frames arrive through TLS: bound to a fixed channel */
	memset(hs.channel, fuzz_channel_byte, sizeof(hs.channel));
	hs.bound = true;
	if (size < NET_PREAMBLE_LEN)
		return 0;
	sink += (size_t)net_preamble_check(data, why, sizeof(why));
	while (size - off >= NET_FRAME_HDR_LEN) {
		struct net_frame_hdr h;
		struct net_frame_msg msg = {0};
		size_t limit = hs.verified ? (1u << 20) : NET_HANDSHAKE_MAX_FRAME;
		if (net_frame_parse_header(data + off, limit, &h, why, sizeof(why)) < 0)
			break;
		if (size - off - NET_FRAME_HDR_LEN < h.len)
			break;
		const uint8_t *body = data + off + NET_FRAME_HDR_LEN;
		sink += (size_t)net_frame_check_crc(&h, data + off, body, why, sizeof(why));
		bool fits = decodes_within_limit(h.type, body, h.len);
		int rc = net_frame_decode(h.type, body, h.len, &msg, why, sizeof(why));
		if (rc == 0 && !fits)
			abort(); /* decoded into more memory than its limit */
		if (!fits && h.type == NET_FRAME_ENVELOPE)
			fuzz_amplified_after_auth += hs.verified;
		if (rc == 0) {
			uint8_t proof[NET_PROOF_LEN];
			switch (msg.type) {
			case NET_FRAME_HELLO:
				if (net_hs_on_hello(&hs, &fuzz_keys, msg.u.hello, &code, why,
						    sizeof(why)) == 0)
					net_hs_auth(&hs, &fuzz_keys, proof);
				break;
			case NET_FRAME_AUTH:
				sink += (size_t)net_hs_on_auth(&hs, &fuzz_keys, msg.u.auth, &code,
							       why, sizeof(why));
				break;
			case NET_FRAME_CLOSE:
				sink += strlen(msg.u.close->reason) + msg.u.close->code;
				break;
			case NET_FRAME_HEARTBEAT:
				break;
			case NET_FRAME_ENVELOPE:
				sink += touch_envelope(msg.u.env);
				fuzz_envelopes_after_auth += hs.verified;
				break;
			}
			net_frame_msg_free(&msg);
		}
		off += NET_FRAME_HDR_LEN + h.len;
	}
	(void)sink;
	return 0;
}
