/* store/state.c — the file-system state keyspace: 'S' followed by a key of
 * fs/'s own layout, values framed like every other.
 *
 * A batch remembers its state changes in a small open-addressing table
 * (key -> index of the last op on it) so that several commands applied into
 * one batch read each other's writes:
 *
 *   map slot:  0 = empty | i+1 = ops[i] is the latest PUT or DEL of that key
 *
 * Invariant: store_batch_get_state answers from the batch for every key the
 * batch has touched and from the store for every other key.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/frame.h"
#include "store/internal.h"
#include "store/keys.h"
#include "util/crc32c.h"

/* State keys are built in a small stack buffer when short enough. */
#define STATE_KEY_STACK 256

/* ---- read-your-writes map ------------------------------------------------ */

static size_t key_hash(const void *key, size_t klen)
{
	return util_crc32c(0x9e3779b9u, key, klen);
}

/* Slot of key in the map: the one holding it, or the empty one where it goes. */
static size_t map_slot(const struct store_batch *b, const void *key, size_t klen)
{
	size_t mask = b->map_cap - 1, i = key_hash(key, klen) & mask;
	for (;; i = (i + 1) & mask) {
		uint32_t v = b->map[i];
		if (!v)
			return i;
		const struct store_op *op = &b->ops[v - 1];
		if (op->klen == klen && !memcmp(b->arena + op->key, key, klen))
			return i;
	}
}

static int map_grow(struct store_batch *b)
{
	size_t cap = b->map_cap ? 2 * b->map_cap : 64;
	uint32_t *old = b->map, *map = calloc(cap, sizeof(*map));
	size_t old_cap = b->map_cap;

	if (!map)
		return -ENOMEM;
	b->map = map;
	b->map_cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i]) {
			const struct store_op *op = &b->ops[old[i] - 1];
			b->map[map_slot(b, b->arena + op->key, op->klen)] = old[i];
		}
	}
	free(old);
	return 0;
}

/* Points the map entry of the last op's key at it. */
static void map_note_last(struct store_batch *b)
{
	const struct store_op *op;
	size_t slot;

	if (b->err)
		return;
	if (b->nops > UINT32_MAX - 1) {
		store_batch_fail(b, -EINVAL);
		return;
	}
	if (2 * (b->map_used + 1) > b->map_cap && map_grow(b)) {
		store_batch_fail(b, -ENOMEM);
		return;
	}
	op = &b->ops[b->nops - 1];
	slot = map_slot(b, b->arena + op->key, op->klen);
	if (!b->map[slot])
		b->map_used++;
	b->map[slot] = (uint32_t)b->nops;
}

/* ---- queueing -------------------------------------------------------------- */

/* Builds 'S' key into buf (or a malloc'd buffer when longer); NULL on ENOMEM. */
static uint8_t *state_key(uint8_t *buf, const void *key, size_t klen)
{
	uint8_t *k = klen + 1 <= STATE_KEY_STACK ? buf : malloc(klen + 1);
	if (!k)
		return NULL;
	k[0] = STORE_TAG_STATE;
	if (klen)
		memcpy(k + 1, key, klen);
	return k;
}

static void state_key_free(uint8_t *buf, uint8_t *k)
{
	if (k != buf)
		free(k);
}

void store_batch_put_state(struct store_batch *b, const void *key, size_t klen, const void *val,
			   size_t vlen)
{
	uint8_t buf[STATE_KEY_STACK], *k, *p;

	if (b->err)
		return;
	if (klen >= STORE_BATCH_ITEM_MAX) {
		store_batch_fail(b, -EINVAL);
		return;
	}
	k = state_key(buf, key, klen);
	if (!k) {
		store_batch_fail(b, -ENOMEM);
		return;
	}
	p = store_batch_put_begin(b, k, klen + 1, vlen);
	if (p) {
		if (vlen)
			memcpy(p, val, vlen);
		store_batch_put_end(b);
		map_note_last(b);
	}
	state_key_free(buf, k);
}

void store_batch_del_state(struct store_batch *b, const void *key, size_t klen)
{
	uint8_t buf[STATE_KEY_STACK], *k;

	if (b->err)
		return;
	if (klen >= STORE_BATCH_ITEM_MAX) {
		store_batch_fail(b, -EINVAL);
		return;
	}
	k = state_key(buf, key, klen);
	if (!k) {
		store_batch_fail(b, -ENOMEM);
		return;
	}
	store_batch_del(b, k, klen + 1);
	map_note_last(b);
	state_key_free(buf, k);
}

/* ---- reading --------------------------------------------------------------- */

static int copy_out(const uint8_t *payload, size_t plen, void **val, size_t *vlen)
{
	/* One byte more, so that an empty value is a valid pointer too. */
	void *v = malloc(plen ? plen : 1);
	if (!v)
		return -ENOMEM;
	if (plen)
		memcpy(v, payload, plen);
	*val = v;
	*vlen = plen;
	return 0;
}

int store_get_state(struct store *s, const void *key, size_t klen, void **val, size_t *vlen)
{
	uint8_t buf[STATE_KEY_STACK], *k;
	const uint8_t *payload;
	leveldb_t *db;
	size_t plen;
	char *raw;
	int rc;

	*val = NULL;
	*vlen = 0;
	k = state_key(buf, key, klen);
	if (!k)
		return -ENOMEM;
	rc = store_db_enter(s, &db);
	if (!rc) {
		rc = store_db_get(db, s->ro, k, klen + 1, &raw, &payload, &plen);
		if (!rc) {
			rc = copy_out(payload, plen, val, vlen);
			leveldb_free(raw);
		}
		store_db_leave(s);
	}
	state_key_free(buf, k);
	return rc;
}

int store_batch_get_state(struct store *s, const struct store_batch *b, const void *key,
			  size_t klen, void **val, size_t *vlen)
{
	uint8_t buf[STATE_KEY_STACK], *k;
	uint32_t v = 0;

	*val = NULL;
	*vlen = 0;
	if (b->map_used) {
		k = state_key(buf, key, klen);
		if (!k)
			return -ENOMEM;
		v = b->map[map_slot(b, k, klen + 1)];
		state_key_free(buf, k);
	}
	if (!v)
		return store_get_state(s, key, klen, val, vlen);
	const struct store_op *op = &b->ops[v - 1];
	if (op->kind == STORE_OP_DEL)
		return -ENOENT;
	return copy_out(b->arena + op->val + STORE_FRAME_HDR, op->vlen - STORE_FRAME_HDR, val,
			vlen);
}

struct state_scan {
	store_state_cb cb;
	void *arg;
};

static int state_one(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct state_scan *c = arg;
	const uint8_t *payload;
	size_t plen;
	int rc = store_frame_open(key, klen, val, vlen, &payload, &plen);
	if (rc)
		return rc;
	return c->cb(c->arg, key + 1, klen - 1, payload, plen);
}

int store_scan_state(struct store *s, const void *start, size_t slen, const void *end, size_t elen,
		     store_state_cb cb, void *arg)
{
	uint8_t lobuf[STATE_KEY_STACK], hibuf[STATE_KEY_STACK], *lo, *hi = NULL;
	static const uint8_t keyspace_end[1] = {STORE_TAG_STATE + 1};
	struct state_scan c = {.cb = cb, .arg = arg};
	leveldb_t *db;
	int rc;

	lo = state_key(lobuf, start, start ? slen : 0);
	if (!lo)
		return -ENOMEM;
	if (end) {
		hi = state_key(hibuf, end, elen);
		if (!hi) {
			state_key_free(lobuf, lo);
			return -ENOMEM;
		}
	}
	rc = store_db_enter(s, &db);
	if (!rc) {
		rc = store_db_range(db, s->ro, lo, (start ? slen : 0) + 1, hi ? hi : keyspace_end,
				    hi ? elen + 1 : 1, state_one, &c);
		store_db_leave(s);
	}
	state_key_free(lobuf, lo);
	if (hi)
		state_key_free(hibuf, hi);
	return rc;
}
