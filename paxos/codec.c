/* paxos/codec.c — PaxosBatch <-> struct paxos_msg, and the paxfs.Value format.
 *
 * The Value is written and parsed by hand (it is on the hot path: one per
 * entry, and protobuf-c would build a struct per command): the bytes are
 * exactly what protoc-generated code produces for
 *   Value { repeated ValueCmd cmds = 1; }  ValueCmd { fixed64 id = 1; bytes body = 2; }
 * and the parser accepts any valid encoding of it (fields in any order,
 * omitted defaults, unknown fields skipped).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "paxos/codec.h"
#include "util/budget.h"

/* paxos_codec_from_proto copies each decoded message into a struct
 * paxos_msg: no bigger than the struct protobuf-c built for it, so the copy
 * costs less than the decode did, and the decode was bounded (codec.h). */
_Static_assert(sizeof(struct paxos_msg) <= sizeof(Paxfs__PaxosMsg),
	       "the engine's copy of a message must not outgrow its decoded form");

/* ---- varints --------------------------------------------------------------- */

static size_t varint_size(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* Reads a varint from [*p, end); -EBADMSG when truncated or longer than 10 bytes. */
static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 70; shift += 7) {
		if (*p >= end)
			return -EBADMSG;
		uint8_t b = *(*p)++;
		if (shift == 63 && b > 1)
			return -EBADMSG;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -EBADMSG;
}

/* Skips one field of wire type `wt`. */
static int skip_field(const uint8_t **p, const uint8_t *end, unsigned wt)
{
	uint64_t v;
	switch (wt) {
	case 0:
		return get_varint(p, end, &v);
	case 1:
		if (end - *p < 8)
			return -EBADMSG;
		*p += 8;
		return 0;
	case 2:
		if (get_varint(p, end, &v) || v > (uint64_t)(end - *p))
			return -EBADMSG;
		*p += v;
		return 0;
	case 5:
		if (end - *p < 4)
			return -EBADMSG;
		*p += 4;
		return 0;
	default:
		return -EBADMSG;
	}
}

/* ---- Value ----------------------------------------------------------------- */

static size_t cmd_inner_size(size_t len)
{
	return 9 + 1 + varint_size(len) + len;
}

size_t paxos_codec_cmd_size(size_t body_len)
{
	size_t inner = cmd_inner_size(body_len);
	return 1 + varint_size(inner) + inner;
}

uint8_t *paxos_codec_put_cmd(uint8_t *out, uint64_t id, const void *body, size_t len)
{
	*out++ = 0x0a; /* field 1, length-delimited */
	out = put_varint(out, cmd_inner_size(len));
	*out++ = 0x09; /* field 1, fixed64 */
	for (int i = 0; i < 8; i++)
		*out++ = (uint8_t)(id >> (8 * i));
	*out++ = 0x12; /* field 2, length-delimited */
	out = put_varint(out, len);
	if (len)
		memcpy(out, body, len);
	return out + len;
}

/* Parses one ValueCmd from [p, end). */
static int parse_cmd(const uint8_t *p, const uint8_t *end, uint64_t *id, const uint8_t **body,
		     size_t *blen)
{
	*id = 0;
	*body = p;
	*blen = 0;
	while (p < end) {
		uint64_t key;
		if (get_varint(&p, end, &key))
			return -EBADMSG;
		unsigned field = (unsigned)(key >> 3), wt = (unsigned)(key & 7);
		if (field == 1 && wt == 1) {
			if (end - p < 8)
				return -EBADMSG;
			uint64_t x = 0;
			for (int i = 7; i >= 0; i--)
				x = x << 8 | p[i];
			*id = x;
			p += 8;
		} else if (field == 2 && wt == 2) {
			uint64_t n;
			if (get_varint(&p, end, &n) || n > (uint64_t)(end - p))
				return -EBADMSG;
			*body = p;
			*blen = (size_t)n;
			p += n;
		} else if (field == 0 || skip_field(&p, end, wt)) {
			return -EBADMSG;
		}
	}
	return 0;
}

/* Walks the Value; calls cb (when non-NULL) for each command. */
static int walk_value(const uint8_t *p, size_t len, paxos_value_cmd_cb cb, void *arg)
{
	const uint8_t *end = p + len;
	while (p < end) {
		uint64_t key;
		if (get_varint(&p, end, &key))
			return -EBADMSG;
		unsigned field = (unsigned)(key >> 3), wt = (unsigned)(key & 7);
		if (field == 1 && wt == 2) {
			uint64_t n;
			if (get_varint(&p, end, &n) || n > (uint64_t)(end - p))
				return -EBADMSG;
			uint64_t id;
			const uint8_t *body;
			size_t blen;
			if (parse_cmd(p, p + n, &id, &body, &blen))
				return -EBADMSG;
			p += n;
			if (cb) {
				int rc = cb(arg, id, body, blen);
				if (rc)
					return rc;
			}
		} else if (field == 0 || skip_field(&p, end, wt)) {
			return -EBADMSG;
		}
	}
	return 0;
}

int paxos_codec_value_foreach(const uint8_t *value, size_t len, paxos_value_cmd_cb cb, void *arg)
{
	if (len && !value)
		return -EBADMSG;
	int rc = walk_value(value, len, NULL, NULL);
	if (rc)
		return rc;
	return walk_value(value, len, cb, arg);
}

/* ---- messages -------------------------------------------------------------- */

static bool is_entity_msg(uint32_t type)
{
	return type != PAXOS_MSG_SCAN && type != PAXOS_MSG_SCAN_REPLY;
}

int paxos_codec_check_msg(const struct paxos_msg *m)
{
	if (m->type < 1 || m->type > PAXOS_MSG_TYPE_MAX)
		return -EBADMSG;
	if (is_entity_msg(m->type) != (m->entity != 0))
		return -EBADMSG;
	if (m->has_value && m->value_len && !m->value)
		return -EBADMSG;
	if (m->n_items && (m->type != PAXOS_MSG_SCAN_REPLY || m->n_items % 3 || !m->items))
		return -EBADMSG;
	switch (m->type) {
	case PAXOS_MSG_PREPARE:
		/* round 0 is pre-authorised, never prepared */
		if (!m->entry || paxos_ballot_round(m->ballot) == 0)
			return -EBADMSG;
		break;
	case PAXOS_MSG_PROMISE:
		if (!m->entry || !m->ballot || m->promised < m->ballot)
			return -EBADMSG;
		if (m->accepted && (!m->has_value || !m->value_id))
			return -EBADMSG;
		break;
	case PAXOS_MSG_ACCEPT:
		if (!m->entry || !m->ballot || !m->value_id || !m->has_value)
			return -EBADMSG;
		break;
	case PAXOS_MSG_ACCEPTED:
		if (!m->entry || !m->ballot || !m->value_id)
			return -EBADMSG;
		break;
	case PAXOS_MSG_REJECT:
		if (!m->entry || !m->ballot || m->promised < m->ballot)
			return -EBADMSG;
		break;
	case PAXOS_MSG_CHOSEN:
		if (!m->entry || !m->value_id)
			return -EBADMSG;
		break;
	case PAXOS_MSG_FETCH:
		if (!m->entry || m->entry_to < m->entry)
			return -EBADMSG;
		break;
	case PAXOS_MSG_TRIMMED:
	case PAXOS_MSG_FETCH_WAIT:
		if (!m->entry)
			return -EBADMSG;
		break;
	case PAXOS_MSG_BARRIER:
	case PAXOS_MSG_BARRIER_ACK:
	case PAXOS_MSG_SCAN:
	case PAXOS_MSG_SCAN_REPLY:
		break;
	case PAXOS_MSG_FORWARD:
		/* sequence numbers start at 1; the commands travel as a Value */
		if (!m->nonce || !m->session || !m->has_value)
			return -EBADMSG;
		break;
	case PAXOS_MSG_FWD_ACK:
	case PAXOS_MSG_FWD_NACK:
	case PAXOS_MSG_FWD_STALE:
		if (!m->nonce || !m->session)
			return -EBADMSG;
		break;
	}
	return 0;
}

static void to_pb(const struct paxos_msg *m, Paxfs__PaxosMsg *pm)
{
	paxfs__paxos_msg__init(pm);
	pm->type = m->type;
	pm->entity = m->entity;
	pm->entry = m->entry;
	pm->ballot = m->ballot;
	pm->promised = m->promised;
	pm->accepted = m->accepted;
	pm->value_id = m->value_id;
	pm->value.data = (uint8_t *)m->value;
	pm->value.len = m->has_value ? m->value_len : 0;
	pm->has_value = m->has_value;
	pm->chosen = m->chosen;
	pm->entry_to = m->entry_to;
	pm->nonce = m->nonce;
	pm->top = m->top;
	pm->flags = m->flags;
	pm->session = m->session;
	pm->to_session = m->to_session;
	pm->n_items = m->n_items;
	pm->items = (uint64_t *)m->items;
}

/* One allocation: the batch, the pointer array and the messages. */
struct pb_block {
	Paxfs__PaxosBatch batch;
	Paxfs__PaxosMsg **ptrs;
	Paxfs__PaxosMsg msgs[];
};

int paxos_codec_to_proto(const struct paxos_msg *msgs, size_t n, Paxfs__PaxosBatch **out)
{
	struct pb_block *b = malloc(sizeof(*b) + n * (sizeof(Paxfs__PaxosMsg) + sizeof(void *)));
	if (!b)
		return -ENOMEM;
	paxfs__paxos_batch__init(&b->batch);
	b->ptrs = (Paxfs__PaxosMsg **)(b->msgs + n);
	for (size_t i = 0; i < n; i++) {
		to_pb(&msgs[i], &b->msgs[i]);
		b->ptrs[i] = &b->msgs[i];
	}
	b->batch.n_msgs = n;
	b->batch.msgs = b->ptrs;
	*out = &b->batch;
	return 0;
}

void paxos_codec_proto_free(Paxfs__PaxosBatch *b)
{
	/* batch is the first member of its block */
	free(b);
}

int paxos_codec_encode(const struct paxos_msg *msgs, size_t n, uint8_t **buf, size_t *len)
{
	Paxfs__PaxosBatch *pb;
	int rc = paxos_codec_to_proto(msgs, n, &pb);
	if (rc)
		return rc;
	size_t sz = paxfs__paxos_batch__get_packed_size(pb);
	uint8_t *b = malloc(sz ? sz : 1);
	if (!b) {
		paxos_codec_proto_free(pb);
		return -ENOMEM;
	}
	*len = paxfs__paxos_batch__pack(pb, b);
	*buf = b;
	paxos_codec_proto_free(pb);
	return 0;
}

int paxos_codec_append(const struct paxos_msg *msgs, size_t n, uint8_t **buf, size_t *len,
		       size_t *cap)
{
	for (size_t i = 0; i < n; i++) {
		Paxfs__PaxosMsg pm;
		to_pb(&msgs[i], &pm);
		size_t sz = paxfs__paxos_msg__get_packed_size(&pm);
		size_t need = *len + 1 + varint_size(sz) + sz;
		if (need > *cap) {
			size_t ncap = *cap ? *cap : 256;
			while (ncap < need)
				ncap *= 2;
			uint8_t *x = realloc(*buf, ncap);
			if (!x)
				return -ENOMEM;
			*buf = x;
			*cap = ncap;
		}
		uint8_t *w = *buf + *len;
		*w++ = 0x0a; /* PaxosBatch.msgs, length-delimited */
		w = put_varint(w, sz);
		w += paxfs__paxos_msg__pack(&pm, w);
		*len = (size_t)(w - *buf);
	}
	return 0;
}

int paxos_codec_from_proto(const Paxfs__PaxosBatch *b, struct paxos_codec_msgs *out)
{
	memset(out, 0, sizeof(*out));
	struct paxos_msg *msgs = calloc(b->n_msgs ? b->n_msgs : 1, sizeof(*msgs));
	if (!msgs)
		return -ENOMEM;
	for (size_t i = 0; i < b->n_msgs; i++) {
		const Paxfs__PaxosMsg *pm = b->msgs[i];
		struct paxos_msg *m = &msgs[i];
		m->type = pm->type;
		m->flags = pm->flags;
		m->entity = pm->entity;
		m->entry = pm->entry;
		m->ballot = pm->ballot;
		m->promised = pm->promised;
		m->accepted = pm->accepted;
		m->value_id = pm->value_id;
		m->chosen = pm->chosen;
		m->entry_to = pm->entry_to;
		m->nonce = pm->nonce;
		m->top = pm->top;
		m->session = pm->session;
		m->to_session = pm->to_session;
		m->has_value = pm->has_value;
		if (!pm->has_value && pm->value.len) {
			free(msgs);
			return -EBADMSG;
		}
		m->value = pm->value.len ? pm->value.data : NULL;
		m->value_len = pm->value.len;
		m->items = pm->items;
		m->n_items = pm->n_items;
		if (paxos_codec_check_msg(m)) {
			free(msgs);
			return -EBADMSG;
		}
	}
	out->msgs = msgs;
	out->n = b->n_msgs;
	out->pb = (Paxfs__PaxosBatch *)b;
	out->owns_pb = 0;
	return 0;
}

/* Frees what paxos_codec_decode built under its budget (util_budget_free is
 * free(): the budget is gone by then). */
static ProtobufCAllocator freer = {util_budget_alloc, util_budget_free, NULL};

int paxos_codec_decode(const uint8_t *buf, size_t len, struct paxos_codec_msgs *out)
{
	struct util_budget b;
	ProtobufCAllocator a = {util_budget_alloc, util_budget_free, &b};

	memset(out, 0, sizeof(*out));
	util_budget_init(&b, util_decode_limit(len));
	Paxfs__PaxosBatch *pb = paxfs__paxos_batch__unpack(&a, len, buf);
	if (!pb)
		return -EBADMSG;
	int rc = paxos_codec_from_proto(pb, out);
	if (rc) {
		paxfs__paxos_batch__free_unpacked(pb, &freer);
		return rc;
	}
	out->owns_pb = 1;
	return 0;
}

void paxos_codec_msgs_free(struct paxos_codec_msgs *m)
{
	if (!m)
		return;
	if (m->owns_pb && m->pb)
		paxfs__paxos_batch__free_unpacked(m->pb, &freer);
	free(m->msgs);
	memset(m, 0, sizeof(*m));
}

static size_t varint_len(size_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t paxos_codec_batch_fit(const Paxfs__PaxosBatch *b, size_t from, size_t max_bytes)
{
	size_t used = 0, i = from;
	for (; i < b->n_msgs; i++) {
		size_t m = protobuf_c_message_get_packed_size(&b->msgs[i]->base);
		size_t need = 1 + varint_len(m) + m; /* field 1, its length, the message */
		if (i > from && used + need > max_bytes)
			break;
		used += need;
	}
	return i;
}
