/* tests/unit/paxos/test_codec.c — the wire formats: every message type
 * survives a round trip, Values are what protoc would write, batches
 * concatenate, and malformed input is -EBADMSG (never a crash), as is a
 * batch that would unpack into far more memory than it is long. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "paxos/codec.h"
#include "proto/command.pb-c.h"
#include "util/budget.h"
#include "util/prng.h"

static struct paxos_msg sample(uint32_t type)
{
	static const uint8_t val[] = "hello, value";
	static const uint64_t items[] = {257, 9, 12, 513, 0, 3};
	struct paxos_msg m = {0};
	m.type = type;
	m.entity = 0x1234501;
	m.entry = 42;
	m.chosen = 41;
	switch (type) {
	case PAXOS_MSG_PREPARE:
		m.ballot = paxos_ballot(7, 1, 3);
		break;
	case PAXOS_MSG_PROMISE:
		m.ballot = m.promised = paxos_ballot(7, 1, 3);
		m.accepted = paxos_ballot(5, 1, 2);
		m.value_id = 0x0201000000000007ull;
		m.value = val;
		m.value_len = sizeof(val);
		m.has_value = true;
		break;
	case PAXOS_MSG_ACCEPT:
		m.ballot = paxos_ballot(0, 1, 1);
		m.value_id = 0x0101000000000009ull;
		m.has_value = true; /* an empty value: the no-op */
		break;
	case PAXOS_MSG_ACCEPTED:
		m.ballot = paxos_ballot(0, 1, 1);
		m.value_id = 0x0101000000000009ull;
		break;
	case PAXOS_MSG_REJECT:
		m.ballot = paxos_ballot(1, 1, 1);
		m.promised = paxos_ballot(2, 1, 3);
		break;
	case PAXOS_MSG_CHOSEN:
		m.ballot = paxos_ballot(1, 1, 1);
		m.value_id = 0xff00ffffffffffffull;
		m.value = val;
		m.value_len = 5;
		m.has_value = true;
		break;
	case PAXOS_MSG_FETCH:
		m.entry_to = 100;
		break;
	case PAXOS_MSG_TRIMMED:
		break;
	case PAXOS_MSG_BARRIER:
		m.entry = 0;
		m.nonce = 0xdeadbeefcafef00dull;
		break;
	case PAXOS_MSG_BARRIER_ACK:
		m.entry = 0;
		m.nonce = 77;
		m.top = 43;
		m.flags = PAXOS_MSG_F_NONVOTER;
		break;
	case PAXOS_MSG_SCAN:
		m.entity = m.entry = m.chosen = 0;
		m.nonce = 256;
		break;
	case PAXOS_MSG_SCAN_REPLY:
		m.entity = m.entry = m.chosen = 0;
		m.nonce = 256;
		m.items = items;
		m.n_items = 6;
		m.flags = PAXOS_MSG_F_DONE;
		m.session = 0x0203000000000000ull;
		break;
	case PAXOS_MSG_FORWARD:
		m.entry = 0;
		m.nonce = 17;
		m.session = 0x0203000000000000ull;
		m.to_session = 0x0107000000000000ull;
		m.value = val;
		m.value_len = 0; /* the bytes are checked by the holder, not the codec */
		m.has_value = true;
		break;
	case PAXOS_MSG_FWD_ACK:
	case PAXOS_MSG_FWD_NACK:
	case PAXOS_MSG_FWD_STALE:
		m.entry = 0;
		m.nonce = 17;
		m.session = 0x0107000000000000ull;
		m.to_session = 0x0203000000000000ull;
		break;
	}
	return m;
}

static void assert_same(const struct paxos_msg *a, const struct paxos_msg *b)
{
	ck_assert_uint_eq(a->type, b->type);
	ck_assert_uint_eq(a->flags, b->flags);
	ck_assert_uint_eq(a->entity, b->entity);
	ck_assert_uint_eq(a->entry, b->entry);
	ck_assert_uint_eq(a->ballot, b->ballot);
	ck_assert_uint_eq(a->promised, b->promised);
	ck_assert_uint_eq(a->accepted, b->accepted);
	ck_assert_uint_eq(a->value_id, b->value_id);
	ck_assert_uint_eq(a->chosen, b->chosen);
	ck_assert_uint_eq(a->entry_to, b->entry_to);
	ck_assert_uint_eq(a->nonce, b->nonce);
	ck_assert_uint_eq(a->top, b->top);
	ck_assert_uint_eq(a->session, b->session);
	ck_assert_uint_eq(a->to_session, b->to_session);
	ck_assert_int_eq(a->has_value, b->has_value);
	ck_assert_uint_eq(a->value_len, b->value_len);
	if (a->value_len)
		ck_assert_mem_eq(a->value, b->value, a->value_len);
	ck_assert_uint_eq(a->n_items, b->n_items);
	for (size_t i = 0; i < a->n_items; i++)
		ck_assert_uint_eq(a->items[i], b->items[i]);
}

START_TEST(every_message_type_round_trips)
{
	struct paxos_msg in[PAXOS_MSG_TYPE_MAX];
	for (uint32_t t = 1; t <= PAXOS_MSG_TYPE_MAX; t++) {
		in[t - 1] = sample(t);
		ck_assert_int_eq(paxos_codec_check_msg(&in[t - 1]), 0);
	}
	uint8_t *buf;
	size_t len;
	ck_assert_int_eq(paxos_codec_encode(in, PAXOS_MSG_TYPE_MAX, &buf, &len), 0);
	struct paxos_codec_msgs out;
	ck_assert_int_eq(paxos_codec_decode(buf, len, &out), 0);
	ck_assert_uint_eq(out.n, PAXOS_MSG_TYPE_MAX);
	for (size_t i = 0; i < out.n; i++)
		assert_same(&in[i], &out.msgs[i]);
	paxos_codec_msgs_free(&out);
	free(buf);
}
END_TEST

START_TEST(batches_concatenate)
{
	/* The daemon may encode each step's messages as it goes and send the
	 * concatenation as one batch per turn: protobuf repeated fields
	 * concatenate, so the result decodes as all the messages in order. */
	struct paxos_msg a[2] = {sample(PAXOS_MSG_PREPARE), sample(PAXOS_MSG_CHOSEN)};
	struct paxos_msg b[1] = {sample(PAXOS_MSG_SCAN_REPLY)};
	uint8_t *ba, *bb;
	size_t la, lb;
	ck_assert_int_eq(paxos_codec_encode(a, 2, &ba, &la), 0);
	ck_assert_int_eq(paxos_codec_encode(b, 1, &bb, &lb), 0);
	uint8_t *cat = malloc(la + lb);
	memcpy(cat, ba, la);
	memcpy(cat + la, bb, lb);
	struct paxos_codec_msgs out;
	ck_assert_int_eq(paxos_codec_decode(cat, la + lb, &out), 0);
	ck_assert_uint_eq(out.n, 3);
	assert_same(&a[0], &out.msgs[0]);
	assert_same(&a[1], &out.msgs[1]);
	assert_same(&b[0], &out.msgs[2]);
	paxos_codec_msgs_free(&out);

	/* paxos_codec_append builds the same bytes incrementally */
	uint8_t *app = NULL;
	size_t alen = 0, acap = 0;
	ck_assert_int_eq(paxos_codec_append(a, 2, &app, &alen, &acap), 0);
	ck_assert_int_eq(paxos_codec_append(b, 1, &app, &alen, &acap), 0);
	ck_assert_uint_eq(alen, la + lb);
	ck_assert_mem_eq(app, cat, alen);
	free(app);
	free(ba);
	free(bb);
	free(cat);
}
END_TEST

struct collected {
	uint64_t ids[8];
	size_t lens[8];
	size_t n;
};

static int collect_cb(void *arg, uint64_t id, const uint8_t *body, size_t len)
{
	struct collected *c = arg;
	c->ids[c->n] = id;
	c->lens[c->n] = len;
	c->n++;
	return 0;
}

START_TEST(values_are_what_protoc_writes)
{
	uint8_t big[300];
	memset(big, 0xab, sizeof(big));
	size_t sz = paxos_codec_cmd_size(3) + paxos_codec_cmd_size(0) + paxos_codec_cmd_size(300);
	uint8_t *v = malloc(sz);
	uint8_t *w = paxos_codec_put_cmd(v, 0x0102000000000001ull, "abc", 3);
	w = paxos_codec_put_cmd(w, 2, NULL, 0);
	w = paxos_codec_put_cmd(w, UINT64_MAX, big, sizeof(big));
	ck_assert_uint_eq((size_t)(w - v), sz);

	/* protobuf-c reads it as a paxfs.Value */
	Paxfs__Value *pv = paxfs__value__unpack(NULL, sz, v);
	ck_assert_ptr_nonnull(pv);
	ck_assert_uint_eq(pv->n_cmds, 3);
	ck_assert_uint_eq(pv->cmds[0]->id, 0x0102000000000001ull);
	ck_assert_uint_eq(pv->cmds[0]->body.len, 3);
	ck_assert_mem_eq(pv->cmds[0]->body.data, "abc", 3);
	ck_assert_uint_eq(pv->cmds[1]->body.len, 0);
	ck_assert_uint_eq(pv->cmds[2]->id, UINT64_MAX);
	ck_assert_uint_eq(pv->cmds[2]->body.len, 300);

	/* and what protobuf-c writes, we read */
	size_t psz = paxfs__value__get_packed_size(pv);
	uint8_t *pb = malloc(psz);
	paxfs__value__pack(pv, pb);
	struct collected c = {0};
	ck_assert_int_eq(paxos_codec_value_foreach(pb, psz, collect_cb, &c), 0);
	ck_assert_uint_eq(c.n, 3);
	ck_assert_uint_eq(c.ids[0], 0x0102000000000001ull);
	ck_assert_uint_eq(c.lens[2], 300);
	paxfs__value__free_unpacked(pv, NULL);
	free(pb);

	/* the no-op: an empty Value */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(paxos_codec_value_foreach(NULL, 0, collect_cb, &c), 0);
	ck_assert_uint_eq(c.n, 0);

	/* truncated anywhere: -EBADMSG, and nothing reported */
	for (size_t cut = 1; cut < sz; cut++) {
		memset(&c, 0, sizeof(c));
		int rc = paxos_codec_value_foreach(v, cut, collect_cb, &c);
		if (rc == 0)
			continue; /* a cut on a command boundary is a shorter Value */
		ck_assert_int_eq(rc, -EBADMSG);
		ck_assert_uint_eq(c.n, 0);
	}
	free(v);
}
END_TEST

START_TEST(malformed_messages_are_rejected)
{
	struct paxos_msg m;

	m = sample(PAXOS_MSG_PREPARE);
	m.type = 0;
	ck_assert_int_eq(paxos_codec_check_msg(&m), -EBADMSG);
	m.type = PAXOS_MSG_TYPE_MAX + 1;
	ck_assert_int_eq(paxos_codec_check_msg(&m), -EBADMSG);

	m = sample(PAXOS_MSG_PREPARE);
	m.ballot = paxos_ballot(0, 1, 3); /* round 0 is never prepared */
	ck_assert_int_eq(paxos_codec_check_msg(&m), -EBADMSG);

	m = sample(PAXOS_MSG_PREPARE);
	m.entity = 0;
	ck_assert_int_eq(paxos_codec_check_msg(&m), -EBADMSG);

	m = sample(PAXOS_MSG_ACCEPT);
	m.has_value = false;
	ck_assert_int_eq(paxos_codec_check_msg(&m), -EBADMSG);

	m = sample(PAXOS_MSG_PROMISE);
	m.has_value = false; /* accepted something but carries no value */
	m.value_len = 0;
	ck_assert_int_eq(paxos_codec_check_msg(&m), -EBADMSG);

	m = sample(PAXOS_MSG_REJECT);
	m.promised = m.ballot - 1; /* a reject names a promise at least as high */
	ck_assert_int_eq(paxos_codec_check_msg(&m), -EBADMSG);

	m = sample(PAXOS_MSG_FETCH);
	m.entry_to = m.entry - 1;
	ck_assert_int_eq(paxos_codec_check_msg(&m), -EBADMSG);

	m = sample(PAXOS_MSG_SCAN_REPLY);
	m.n_items = 5; /* not whole triples */
	ck_assert_int_eq(paxos_codec_check_msg(&m), -EBADMSG);

	m = sample(PAXOS_MSG_SCAN);
	m.entity = 9; /* node-level message with an entity */
	ck_assert_int_eq(paxos_codec_check_msg(&m), -EBADMSG);

	m = sample(PAXOS_MSG_FORWARD);
	m.nonce = 0; /* sequence numbers start at 1 */
	ck_assert_int_eq(paxos_codec_check_msg(&m), -EBADMSG);
	m = sample(PAXOS_MSG_FORWARD);
	m.session = 0; /* who sends it */
	ck_assert_int_eq(paxos_codec_check_msg(&m), -EBADMSG);
	m = sample(PAXOS_MSG_FORWARD);
	m.has_value = false; /* no commands */
	ck_assert_int_eq(paxos_codec_check_msg(&m), -EBADMSG);
	m = sample(PAXOS_MSG_FORWARD);
	m.entity = 0;
	ck_assert_int_eq(paxos_codec_check_msg(&m), -EBADMSG);
	m = sample(PAXOS_MSG_FWD_NACK);
	m.session = 0;
	ck_assert_int_eq(paxos_codec_check_msg(&m), -EBADMSG);

	/* the same checks apply on decode */
	m = sample(PAXOS_MSG_ACCEPT);
	m.value_id = 0;
	uint8_t *buf;
	size_t len;
	ck_assert_int_eq(paxos_codec_encode(&m, 1, &buf, &len), 0);
	struct paxos_codec_msgs out;
	ck_assert_int_eq(paxos_codec_decode(buf, len, &out), -EBADMSG);
	ck_assert_ptr_null(out.msgs);
	free(buf);
}
END_TEST

START_TEST(garbage_never_crashes)
{
	struct paxos_msg in[PAXOS_MSG_TYPE_MAX];
	for (uint32_t t = 1; t <= PAXOS_MSG_TYPE_MAX; t++)
		in[t - 1] = sample(t);
	uint8_t *good;
	size_t len;
	ck_assert_int_eq(paxos_codec_encode(in, PAXOS_MSG_TYPE_MAX, &good, &len), 0);
	struct util_prng r;
	util_prng_seed(&r, 3);
	uint8_t *b = malloc(len);
	int ok = 0, bad = 0;
	for (int round = 0; round < 20000; round++) {
		memcpy(b, good, len);
		size_t n = 1 + util_prng_below(&r, 4);
		for (size_t k = 0; k < n; k++)
			b[util_prng_below(&r, len)] = (uint8_t)util_prng_next(&r);
		size_t cut = util_prng_below(&r, 8) ? len : util_prng_below(&r, len + 1);
		struct paxos_codec_msgs out;
		int rc = paxos_codec_decode(b, cut, &out);
		if (rc == 0) {
			ok++;
			for (size_t i = 0; i < out.n; i++)
				ck_assert_int_eq(paxos_codec_check_msg(&out.msgs[i]), 0);
			paxos_codec_msgs_free(&out);
		} else {
			ck_assert_int_eq(rc, -EBADMSG);
			bad++;
		}
	}
	ck_assert_int_gt(bad, 1000);
	free(b);
	free(good);
}
END_TEST

/* A batch of `n` copies of m, appended one by one as the daemon does. */
static uint8_t *batch_of(const struct paxos_msg *m, size_t n, size_t *len)
{
	uint8_t *buf = NULL;
	size_t cap = 0;
	*len = 0;
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(paxos_codec_append(m, 1, &buf, len, &cap), 0);
	return buf;
}

/* The densest legitimate batch (TRIMMED with 1-byte ids, 10 bytes a
 * message) decodes; SCANs that are a bare type (4 bytes: all the checks ask
 * of a SCAN) would unpack into 66 x their size and are refused. */
START_TEST(decode_refuses_amplifying_batches)
{
	struct paxos_msg trimmed = {
	    .type = PAXOS_MSG_TRIMMED, .entity = 1, .entry = 1, .chosen = 1};
	struct paxos_msg scan = {.type = PAXOS_MSG_SCAN};
	struct paxos_codec_msgs out;
	size_t len;
	uint8_t *buf;

	buf = batch_of(&trimmed, 100 * 1000, &len);
	ck_assert_uint_eq(len, 100 * 1000 * 10);
	ck_assert_int_eq(paxos_codec_decode(buf, len, &out), 0);
	ck_assert_uint_eq(out.n, 100 * 1000);
	ck_assert_uint_eq(out.msgs[99999].entity, 1);
	paxos_codec_msgs_free(&out);
	free(buf);

	ck_assert_int_eq(paxos_codec_check_msg(&scan), 0);
	buf = batch_of(&scan, 250 * 1000, &len);
	ck_assert_uint_eq(len, 250 * 1000 * 4);
	ck_assert_int_eq(paxos_codec_decode(buf, len, &out), -EBADMSG);
	ck_assert_ptr_null(out.msgs);
	ck_assert_int_eq(paxos_codec_decode(buf, 1000, &out), 0); /* a short one is fine */
	ck_assert_uint_eq(out.n, 250);
	paxos_codec_msgs_free(&out);
	free(buf);
}
END_TEST

/* A turn's messages to one peer cut into batches that each fit a frame:
 * every message once, in order, each batch within the bound (unless it
 * holds one message bigger than the bound, alone). 69 messages of 1 MiB
 * went as one 69 MiB frame, over the mesh's 64 MiB: all were dropped, again
 * at every resend, and a catching-up node stalled its peers' writes (fault
 * harness, "catchup"). */
START_TEST(batches_are_cut_to_fit_a_frame)
{
	enum { N = 69, MIB = 1 << 20 };
	static struct paxos_msg msgs[N];
	uint8_t *value = malloc(4 * MIB);
	Paxfs__PaxosBatch *pb;

	memset(value, 0x5a, 4 * MIB);
	for (size_t i = 0; i < N; i++) {
		msgs[i] = sample(PAXOS_MSG_ACCEPT);
		msgs[i].entry = i + 1;
		msgs[i].value = value;
		msgs[i].value_len = i == 7 ? 4 * MIB : MIB - (i * 4099) % 65536;
		msgs[i].has_value = true;
	}
	ck_assert_int_eq(paxos_codec_to_proto(msgs, N, &pb), 0);
	size_t max = 3 * MIB, from = 0, batches = 0;
	while (from < N) {
		size_t to = paxos_codec_batch_fit(pb, from, max);
		ck_assert_uint_gt(to, from);
		Paxfs__PaxosBatch part = *pb;
		part.msgs = pb->msgs + from;
		part.n_msgs = to - from;
		size_t size = protobuf_c_message_get_packed_size(&part.base);
		ck_assert_msg(size <= max || to - from == 1, "batch %zu..%zu: %zu bytes", from, to,
			      size);
		uint8_t *buf = malloc(size);
		protobuf_c_message_pack(&part.base, buf);
		struct paxos_codec_msgs back;
		ck_assert_int_eq(paxos_codec_decode(buf, size, &back), 0);
		ck_assert_uint_eq(back.n, to - from);
		for (size_t i = 0; i < back.n; i++)
			assert_same(&msgs[from + i], &back.msgs[i]);
		paxos_codec_msgs_free(&back);
		free(buf);
		from = to;
		batches++;
	}
	ck_assert_uint_ge(batches, N / 3);
	ck_assert_uint_le(batches, N / 2 + 2);
	paxos_codec_proto_free(pb);
	free(value);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("paxos codec");
	TEST_CASE(s, every_message_type_round_trips, 10);
	TEST_CASE(s, batches_concatenate, 10);
	TEST_CASE(s, values_are_what_protoc_writes, 10);
	TEST_CASE(s, malformed_messages_are_rejected, 10);
	TEST_CASE(s, garbage_never_crashes, 60);
	TEST_CASE(s, decode_refuses_amplifying_batches, 30);
	TEST_CASE(s, batches_are_cut_to_fit_a_frame, 30);
	return s;
}
