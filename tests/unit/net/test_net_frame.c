/* tests/unit/net/test_net_frame.c — the wire format: preamble checks,
 * header limits, CRC catching every flipped bit, bodies that do not decode,
 * bodies that would decode into far more memory than they are long. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/frame.h"
#include "paxos/paxos.h" /* message type numbers only: no paxos code is linked */
#include "tests/unit/net/harness.h"
#include "util/budget.h"
#include "util/endian.h"

START_TEST(preamble_magic_and_version)
{
	uint8_t p[NET_PREAMBLE_LEN];
	char why[200];

	net_preamble_encode(p);
	ck_assert_int_eq(net_preamble_check(p, why, sizeof(why)), 0);
	p[0] ^= 1;
	ck_assert_int_eq(net_preamble_check(p, why, sizeof(why)), -EPROTO);
	ck_assert(strstr(why, "wrong magic"));
	memcpy(p, "GET / HT", 8);
	ck_assert_int_eq(net_preamble_check(p, why, sizeof(why)), -EPROTO);
	net_preamble_encode(p);
	util_put_be32(p + 4, 1); /* before TLS */
	ck_assert_int_eq(net_preamble_check(p, why, sizeof(why)), -EPROTONOSUPPORT);
	ck_assert(strstr(why, "protocol version 1"));
}
END_TEST

static size_t make_frame(uint8_t *buf, const void *payload, size_t len)
{
	struct th_msg m;
	th_msg_init(&m, 42, 7, payload, len);
	return net_frame_pack(NET_FRAME_ENVELOPE, &m.env.base, buf);
}

START_TEST(frame_round_trip)
{
	uint8_t buf[512];
	struct net_frame_hdr h;
	struct net_frame_msg msg = {0};
	char why[200];
	uint64_t seq, tag;
	const uint8_t *pl;
	size_t pl_len, n = make_frame(buf, "hello, world", 12);

	ck_assert_int_eq(net_frame_parse_header(buf, 1024, &h, why, sizeof(why)), 0);
	ck_assert_uint_eq(h.type, NET_FRAME_ENVELOPE);
	ck_assert_uint_eq(h.len + NET_FRAME_HDR_LEN, n);
	ck_assert_int_eq(net_frame_check_crc(&h, buf, buf + NET_FRAME_HDR_LEN, why, sizeof(why)),
			 0);
	ck_assert_int_eq(
	    net_frame_decode(h.type, buf + NET_FRAME_HDR_LEN, h.len, &msg, why, sizeof(why)), 0);
	ck_assert(th_msg_get(msg.u.env, &seq, &tag, &pl, &pl_len));
	ck_assert_uint_eq(seq, 42);
	ck_assert_uint_eq(tag, 7);
	ck_assert_uint_eq(pl_len, 12);
	ck_assert(!memcmp(pl, "hello, world", 12));
	net_frame_msg_free(&msg);
	net_frame_msg_free(&msg); /* idempotent */

	/* An empty heartbeat is a valid frame of length 0. */
	Paxfs__NetHeartbeat hb = PAXFS__NET_HEARTBEAT__INIT;
	ck_assert_uint_eq(net_frame_pack(NET_FRAME_HEARTBEAT, &hb.base, buf), NET_FRAME_HDR_LEN);
	ck_assert_int_eq(net_frame_parse_header(buf, 0, &h, why, sizeof(why)), 0);
	ck_assert_int_eq(net_frame_check_crc(&h, buf, buf + NET_FRAME_HDR_LEN, why, sizeof(why)),
			 0);
}
END_TEST

START_TEST(header_limits_and_reserved_bits)
{
	uint8_t buf[512];
	struct net_frame_hdr h;
	char why[200];
	size_t n = make_frame(buf, "x", 1);

	/* exactly at the limit passes, one below fails */
	ck_assert_int_eq(net_frame_parse_header(buf, n - NET_FRAME_HDR_LEN, &h, why, sizeof(why)),
			 0);
	ck_assert_int_eq(
	    net_frame_parse_header(buf, n - NET_FRAME_HDR_LEN - 1, &h, why, sizeof(why)),
	    -EMSGSIZE);
	ck_assert(strstr(why, "exceeds the limit"));
	util_put_be32(buf, 0xffffffffu);
	ck_assert_int_eq(net_frame_parse_header(buf, 64u << 20, &h, why, sizeof(why)), -EMSGSIZE);
	make_frame(buf, "x", 1);
	buf[6] = 1;
	ck_assert_int_eq(net_frame_parse_header(buf, 1024, &h, why, sizeof(why)), -EBADMSG);
	ck_assert(strstr(why, "reserved"));
	make_frame(buf, "x", 1);
	buf[4] = 0;
	ck_assert_int_eq(net_frame_parse_header(buf, 1024, &h, why, sizeof(why)), -EBADMSG);
	buf[4] = NET_FRAME_TYPE_MAX + 1;
	ck_assert_int_eq(net_frame_parse_header(buf, 1024, &h, why, sizeof(why)), -EBADMSG);
	ck_assert(strstr(why, "unknown frame type"));
}
END_TEST

/* Every single-bit error anywhere in a frame is caught by the header check
 * or the CRC: none reaches the decoder unnoticed. */
START_TEST(crc_catches_every_bit_flip)
{
	uint8_t buf[512], orig[512];
	struct net_frame_hdr h;
	char why[200];
	size_t n = make_frame(orig, th_payload(1, 2, 200), 200);

	for (size_t bit = 0; bit < n * 8; bit++) {
		memcpy(buf, orig, n);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int rc = net_frame_parse_header(buf, 4096, &h, why, sizeof(why));
		if (rc == 0) {
			if (h.len + NET_FRAME_HDR_LEN > n)
				continue; /* a longer length: the reader would wait for more */
			rc =
			    net_frame_check_crc(&h, buf, buf + NET_FRAME_HDR_LEN, why, sizeof(why));
		}
		ck_assert_msg(rc < 0, "bit %zu flipped went unnoticed", bit);
	}
}
END_TEST

START_TEST(bodies_that_do_not_decode)
{
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				       0xff, 0xff, 0xff, 0xff, 0x01};
	static const uint8_t truncated_bytes_field[] = {0x22, 0x20, 1, 2,
							3}; /* nonce: 32 announced */
	struct net_frame_msg msg = {0};
	char why[200];
	uint8_t buf[512];
	size_t n;

	for (unsigned t = NET_FRAME_HELLO; t <= NET_FRAME_TYPE_MAX; t++) {
		ck_assert_int_eq(
		    net_frame_decode((uint8_t)t, junk, sizeof(junk), &msg, why, sizeof(why)),
		    -EBADMSG);
		ck_assert(strstr(why, "does not decode"));
		ck_assert_ptr_null(msg.u.any);
	}
	ck_assert_int_eq(net_frame_decode(NET_FRAME_HELLO, truncated_bytes_field,
					  sizeof(truncated_bytes_field), &msg, why, sizeof(why)),
			 -EBADMSG);
	ck_assert_int_eq(net_frame_decode(0, junk, 1, &msg, why, sizeof(why)), -EBADMSG);

	/* every proper prefix of a valid envelope body either fails or decodes:
	 * never reads past the length it is given (ASan watches) */
	n = make_frame(buf, th_payload(3, 4, 100), 100);
	for (size_t len = 0; len < n - NET_FRAME_HDR_LEN; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, buf + NET_FRAME_HDR_LEN, len);
		if (net_frame_decode(NET_FRAME_ENVELOPE, copy, len, &msg, why, sizeof(why)) == 0)
			net_frame_msg_free(&msg);
		free(copy);
	}
}
END_TEST

/* ---- decode amplification -------------------------------------------------- */

/* What decoding `b` as an Envelope costs, charged as net_frame_decode
 * charges it (util_budget_cost per block, scratch included) but without a
 * limit: the measurement. */
static size_t decode_cost(const struct th_body *b)
{
	struct util_budget bud;
	ProtobufCAllocator a = {util_budget_alloc, util_budget_free, &bud};
	util_budget_init(&bud, SIZE_MAX);
	ProtobufCMessage *m =
	    protobuf_c_message_unpack(&paxfs__envelope__descriptor, &a, b->len, b->p);
	ck_assert_ptr_nonnull(m);
	protobuf_c_message_free_unpacked(m, &a);
	return bud.spent;
}

/* Heap bytes in use as glibc counts them: every malloc of the process,
 * protobuf-c's default allocator included. Check's timer may allocate a
 * little meanwhile: "nothing left" means under NOISE. */
#define NOISE 4096
static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

/* What the heap grew by since `before` (0 when it shrank). */
static size_t heap_growth(size_t before)
{
	size_t now = heap_in_use();
	return now > before ? now - before : 0;
}

#define AMP_TARGET (1u << 20) /* the frames here are 1 MiB */

/* PaxosMsgs as the engine sends them, with the smallest ids there are
 * (1-byte varints; real inode ids are counter << 8 | node, longer): the
 * densest legitimate traffic, so the most memory per wire byte. */
static void m_trimmed(Paxfs__PaxosMsg *m, size_t i)
{
	m->type = PAXOS_MSG_TRIMMED;
	m->entity = 1 + i % 100;
	m->entry = m->chosen = 1;
}
static void m_fetch(Paxfs__PaxosMsg *m, size_t i)
{
	m->type = PAXOS_MSG_FETCH;
	m->entity = 1 + i % 100;
	m->entry = m->entry_to = 1;
}
static void m_barrier(Paxfs__PaxosMsg *m, size_t i)
{
	m->type = PAXOS_MSG_BARRIER;
	m->entity = 1 + i % 100;
	m->nonce = i + 1;
}
static void m_barrier_ack(Paxfs__PaxosMsg *m, size_t i)
{
	m->type = PAXOS_MSG_BARRIER_ACK;
	m->entity = 1 + i % 100;
	m->nonce = i + 1;
}
static void m_scan(Paxfs__PaxosMsg *m, size_t i)
{
	m->type = PAXOS_MSG_SCAN;
	m->session = (uint64_t)1 << 56 | (uint64_t)1 << 32;
	m->nonce = i;
}
static void m_promise(Paxfs__PaxosMsg *m, size_t i)
{
	m->type = PAXOS_MSG_PROMISE; /* no value accepted */
	m->entity = 1 + i % 100;
	m->entry = 1;
	m->ballot = m->promised = 0x101;
}
static void m_reject(Paxfs__PaxosMsg *m, size_t i)
{
	m_promise(m, i);
	m->type = PAXOS_MSG_REJECT;
}
static void m_accepted(Paxfs__PaxosMsg *m, size_t i)
{
	m->type = PAXOS_MSG_ACCEPTED;
	m->entity = 1 + i % 100;
	m->entry = 1;
	m->ballot = 0x101;
	m->value_id = (uint64_t)1 << 56 | i;
}
/* Hostile: a bare type is all a SCAN needs to pass the codec's checks. */
static void m_type_only(Paxfs__PaxosMsg *m, size_t i)
{
	(void)i;
	m->type = PAXOS_MSG_SCAN;
}

/* An Envelope holding a PaxosBatch of msgs made by fill, AMP_TARGET long. */
static void batch_of(struct th_body *b, void (*fill)(Paxfs__PaxosMsg *, size_t))
{
	for (size_t i = 0; b->len < AMP_TARGET - 8; i++) {
		Paxfs__PaxosMsg m = PAXFS__PAXOS_MSG__INIT;
		fill(&m, i);
		th_body_msg(b, 1, &m.base);
	}
	th_body_envelope(b, 10);
}

/* A SCAN_REPLY page of (entity, chosen, top) triples, all small. */
static void scan_reply(struct th_body *b)
{
	size_t n = AMP_TARGET / 4;
	uint64_t *items = malloc(n * sizeof(*items));
	Paxfs__PaxosMsg m = PAXFS__PAXOS_MSG__INIT;
	for (size_t i = 0; i < n; i++)
		items[i] = i % 3 ? 0 : 1 + i / 3;
	m.type = PAXOS_MSG_SCAN_REPLY;
	m.session = (uint64_t)1 << 56;
	m.items = items;
	m.n_items = n;
	th_body_msg(b, 1, &m.base);
	free(items);
	th_body_envelope(b, 10);
}

/* An ACCEPT carrying one large value. */
static void big_accept(struct th_body *b)
{
	Paxfs__PaxosMsg m = PAXFS__PAXOS_MSG__INIT;
	m.type = PAXOS_MSG_ACCEPT;
	m.entity = 0x1234501;
	m.entry = 77;
	m.ballot = 0x301;
	m.value_id = (uint64_t)2 << 56 | 9;
	m.has_value = true;
	m.value.data = (uint8_t *)th_payload(3, 3, AMP_TARGET - 64);
	m.value.len = AMP_TARGET - 64;
	th_body_msg(b, 1, &m.base);
	th_body_envelope(b, 10);
}

/* A verify reply listing small summaries, as a node answers paxfs-verify. */
static void verify_entities(struct th_body *b)
{
	for (size_t i = 0; b->len < AMP_TARGET - 8; i++) {
		Paxfs__VerifyEntity e = PAXFS__VERIFY_ENTITY__INIT;
		e.entity = 1 + i;
		e.state = 1;
		e.has_paxos = e.has_apply = true;
		e.chosen_entry = e.applied_entry = 1;
		e.chain_crc = 0x12345678;
		e.state_digest = 0x1234;
		th_body_msg(b, 5, &e.base);
	}
	th_body_envelope(b, 21);
}

static void verify_log(struct th_body *b)
{
	struct th_body ent = {0};
	th_body_raw(&ent, "\x08\x01", 2); /* entity 1 */
	for (size_t i = 0; ent.len < AMP_TARGET - 16; i++) {
		Paxfs__VerifyLogEntry le = PAXFS__VERIFY_LOG_ENTRY__INIT;
		le.entry = 1 + i;
		le.value_id = (uint64_t)1 << 56 | i;
		le.value_crc = 0xdeadbeef;
		le.value_len = 10;
		th_body_msg(&ent, 12, &le.base);
	}
	th_body_field(b, 5, ent.p, ent.len);
	th_body_free(&ent);
	th_body_envelope(b, 21);
}

static void verify_paths(struct th_body *b)
{
	for (size_t i = 0; b->len < AMP_TARGET - 8; i++) {
		Paxfs__VerifyPath p = PAXFS__VERIFY_PATH__INIT;
		p.ino = 1 + i;
		p.path.data = (uint8_t *)"/a";
		p.path.len = 2;
		th_body_msg(b, 8, &p.base);
	}
	th_body_envelope(b, 21);
}

static void legit_trimmed(struct th_body *b)
{
	batch_of(b, m_trimmed);
}
static void legit_fetch(struct th_body *b)
{
	batch_of(b, m_fetch);
}
static void legit_barrier(struct th_body *b)
{
	batch_of(b, m_barrier);
}
static void legit_barrier_ack(struct th_body *b)
{
	batch_of(b, m_barrier_ack);
}
static void legit_scan(struct th_body *b)
{
	batch_of(b, m_scan);
}
static void legit_promise(struct th_body *b)
{
	batch_of(b, m_promise);
}
static void legit_reject(struct th_body *b)
{
	batch_of(b, m_reject);
}
static void legit_accepted(struct th_body *b)
{
	batch_of(b, m_accepted);
}

/* The hostile shapes: repeated elements that cost 2 bytes on the wire and
 * a whole struct in memory, at every level an Envelope has. */
static void empty_paxos_msgs(struct th_body *b)
{
	th_body_empties(b, 1, AMP_TARGET / 2 - 4);
	th_body_envelope(b, 10);
}

static void type_only_msgs(struct th_body *b)
{
	batch_of(b, m_type_only);
}

static void empty_verify_entities(struct th_body *b)
{
	th_body_empties(b, 5, AMP_TARGET / 2 - 4);
	th_body_envelope(b, 21);
}

static void empty_log_entries(struct th_body *b)
{
	struct th_body ent = {0};
	th_body_empties(&ent, 12, AMP_TARGET / 2 - 8);
	th_body_field(b, 5, ent.p, ent.len);
	th_body_free(&ent);
	th_body_envelope(b, 21);
}

static void empty_verify_paths(struct th_body *b)
{
	th_body_empties(b, 8, AMP_TARGET / 2 - 4);
	th_body_envelope(b, 21);
}

static void empty_damage_notes(struct th_body *b)
{
	struct th_body ent = {0};
	th_body_empties(&ent, 14, AMP_TARGET / 2 - 8);
	th_body_field(b, 5, ent.p, ent.len);
	th_body_free(&ent);
	th_body_envelope(b, 21);
}

static const struct amp_case {
	const char *name;
	void (*build)(struct th_body *);
	bool legit;
} amp_cases[] = {
    {"TRIMMED batch", legit_trimmed, true},
    {"FETCH batch", legit_fetch, true},
    {"BARRIER batch", legit_barrier, true},
    {"BARRIER_ACK batch", legit_barrier_ack, true},
    {"SCAN batch", legit_scan, true},
    {"PROMISE (no value) batch", legit_promise, true},
    {"REJECT batch", legit_reject, true},
    {"ACCEPTED batch", legit_accepted, true},
    {"SCAN_REPLY of small triples", scan_reply, true},
    {"ACCEPT of a 1 MiB value", big_accept, true},
    {"verify reply: summaries", verify_entities, true},
    {"verify reply: one log", verify_log, true},
    {"verify reply: paths", verify_paths, true},
    {"empty PaxosMsgs", empty_paxos_msgs, false},
    {"type-only SCANs", type_only_msgs, false},
    {"empty VerifyEntities", empty_verify_entities, false},
    {"empty VerifyLogEntries", empty_log_entries, false},
    {"empty VerifyDamages", empty_damage_notes, false},
    {"empty VerifyPaths", empty_verify_paths, false},
};

/* Legitimate traffic decodes with room to spare: each shape, measured,
 * costs at most 4/5 of the limit, and net_frame_decode takes it. */
START_TEST(legit_frames_decode_within_the_limit)
{
	const struct amp_case *c = &amp_cases[_i];
	struct th_body b = {0};
	struct net_frame_msg msg = {0};
	char why[200];

	if (!c->legit)
		return;
	c->build(&b);
	size_t cost = decode_cost(&b), limit = util_decode_limit(b.len);
	fprintf(stderr, "# legit   %-30s %8zu bytes decode into %10zu: x%5.1f (limit x%.1f)\n",
		c->name, b.len, cost, (double)cost / (double)b.len, (double)limit / (double)b.len);
	ck_assert_msg(cost / 4 * 5 <= limit, "%s: x%.1f, too close to the limit", c->name,
		      (double)cost / (double)b.len);
	size_t before = heap_in_use();
	ck_assert_int_eq(net_frame_decode(NET_FRAME_ENVELOPE, b.p, b.len, &msg, why, sizeof(why)),
			 0);
	ck_assert_uint_le(heap_growth(before), limit);
	net_frame_msg_free(&msg);
	ck_assert_uint_le(heap_growth(before), NOISE);
	th_body_free(&b);
}
END_TEST

/* A body that would decode into more than the limit is refused like one
 * that does not decode (-EBADMSG, a reason), and leaves nothing behind. */
START_TEST(amplifying_frames_are_refused)
{
	const struct amp_case *c = &amp_cases[_i];
	struct th_body b = {0};
	struct net_frame_msg msg = {0};
	char why[200] = "";

	if (c->legit)
		return;
	c->build(&b);
	size_t cost = decode_cost(&b), limit = util_decode_limit(b.len);
	fprintf(stderr, "# hostile %-30s %8zu bytes decode into %10zu: x%5.1f (limit x%.1f)\n",
		c->name, b.len, cost, (double)cost / (double)b.len, (double)limit / (double)b.len);
	ck_assert_uint_gt(cost, limit); /* the case is what it claims */
	size_t before = heap_in_use();
	int rc = net_frame_decode(NET_FRAME_ENVELOPE, b.p, b.len, &msg, why, sizeof(why));
	size_t held = heap_growth(before);
	if (rc == 0)
		net_frame_msg_free(&msg);
	ck_assert_msg(held <= limit, "%s: %zu bytes decoded into %zu held (limit %zu)", c->name,
		      b.len, held, limit);
	ck_assert_int_eq(rc, -EBADMSG);
	ck_assert_uint_le(held, NOISE);
	ck_assert_ptr_null(msg.u.any);
	ck_assert_msg(strstr(why, "bytes of memory to decode"), "why: %s", why);
	th_body_free(&b);
}
END_TEST

START_TEST(type_names)
{
	ck_assert_str_eq(net_frame_type_name(NET_FRAME_ENVELOPE), "envelope");
	ck_assert_str_eq(net_frame_type_name(NET_FRAME_HELLO), "hello");
	ck_assert_str_eq(net_frame_type_name(77), "type 77");
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("net_frame");
	TEST_CASE(s, preamble_magic_and_version, 10);
	TEST_CASE(s, frame_round_trip, 10);
	TEST_CASE(s, header_limits_and_reserved_bits, 10);
	TEST_CASE(s, crc_catches_every_bit_flip, 30);
	TEST_CASE(s, bodies_that_do_not_decode, 10);
	TEST_CASE(s, type_names, 10);
	TCase *tc = tcase_create("decode_amplification");
	int n = (int)(sizeof(amp_cases) / sizeof(amp_cases[0]));
	tcase_add_loop_test(tc, legit_frames_decode_within_the_limit, 0, n);
	tcase_add_loop_test(tc, amplifying_frames_are_refused, 0, n);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
