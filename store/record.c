/* store/record.c — PLog records: queue, encode, read, scan, trim.
 *
 * A record is a PlogRecord (proto/record.proto) under 'P' entity entry. Its
 * value is inline when it is at most the store's inline limit; a longer one
 * is kept once under 'V' entity entry value_id and the record carries only
 * its length and CRC, so the promise/chosen updates of an entry rewrite a
 * few dozen bytes, not the value:
 *
 *   'P' e i  -> [crc][PlogRecord promised accepted value_id chosen
 *                              value_separate=1 value_len value_crc]
 *   'V' e i id -> [crc][value bytes]                        (written once)
 *
 * Invariant: a value handed to a caller has passed its frame checksum and
 * matches the length and CRC its record names; anything else is -EBADMSG.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/record.pb-c.h"
#include "store/frame.h"
#include "store/internal.h"
#include "store/keys.h"
#include "util/crc32c.h"
#include "util/log.h"

/* Bytes a record adds to a batch besides its value (key, frame, fields). */
#define RECORD_OVERHEAD (STORE_KEY_RECORD_LEN + STORE_FRAME_HDR + 48)

void store_batch_put_record(struct store_batch *b, uint64_t entity, uint64_t entry,
			    const struct store_record *rec, bool value_stored)
{
	bool has_value = rec->accepted != 0 || rec->value_len > 0;
	size_t vlen = has_value ? rec->value_len : 0, off;
	/* Only the record is rewritten, and it cannot hold the value inline. */
	bool no_copy = value_stored && vlen > STORE_INLINE_MAX_LIMIT;
	struct store_op *op;

	assert(vlen == 0 || rec->value != NULL);
	if (b->err)
		return;
	if (vlen > STORE_BATCH_ITEM_MAX) {
		store_batch_fail(b, -EINVAL);
		return;
	}
	off = store_batch_alloc(b, STORE_FRAME_HDR + (no_copy ? 0 : vlen));
	if (off == SIZE_MAX)
		return;
	op = store_batch_op(b, STORE_OP_RECORD);
	if (!op) {
		b->used = off;
		return;
	}
	if (vlen && !no_copy)
		memcpy(b->arena + off + STORE_FRAME_HDR, rec->value, vlen);
	op->val = off;
	op->vlen = vlen;
	op->entity = entity;
	op->entry = entry;
	op->promised = rec->promised;
	op->accepted = rec->accepted;
	op->value_id = rec->value_id;
	op->chosen = rec->chosen;
	op->has_value = has_value;
	op->value_stored = value_stored;
	op->value_crc = vlen ? util_crc32c(0, rec->value, vlen) : 0;
	b->bytes += RECORD_OVERHEAD + (no_copy ? 0 : vlen);
}

int store_record_encode(struct store *s, struct store_batch *b, const struct store_op *op)
{
	Paxfs__PlogRecord r = PAXFS__PLOG_RECORD__INIT;
	uint8_t pkey[STORE_KEY_RECORD_LEN], vkey[STORE_KEY_VALUE_LEN];
	bool separate = op->has_value && op->vlen > s->inline_max;
	uint8_t *frame = b->arena + op->val;
	size_t size;

	store_key_record(pkey, op->entity, op->entry);
	if (separate && !op->value_stored) {
		store_key_value(vkey, op->entity, op->entry, op->value_id);
		store_frame_seal(vkey, sizeof(vkey), frame, op->vlen);
		leveldb_writebatch_put(b->wb, (const char *)vkey, sizeof(vkey), (const char *)frame,
				       STORE_FRAME_HDR + op->vlen);
	}
	r.promised = op->promised;
	r.accepted = op->accepted;
	r.value_id = op->value_id;
	r.chosen = op->chosen;
	if (op->has_value) {
		r.value_len = op->vlen;
		r.value_crc = op->value_crc;
		if (separate) {
			r.value_separate = 1;
		} else {
			r.value.data = frame + STORE_FRAME_HDR;
			r.value.len = op->vlen;
		}
	}
	size = paxfs__plog_record__get_packed_size(&r);
	if (STORE_FRAME_HDR + size > b->scratch_cap) {
		size_t cap = STORE_FRAME_HDR + size + 256;
		uint8_t *p = realloc(b->scratch, cap);
		if (!p)
			return -ENOMEM;
		b->scratch = p;
		b->scratch_cap = cap;
	}
	paxfs__plog_record__pack(&r, b->scratch + STORE_FRAME_HDR);
	store_frame_seal(pkey, sizeof(pkey), b->scratch, size);
	leveldb_writebatch_put(b->wb, (const char *)pkey, sizeof(pkey), (const char *)b->scratch,
			       STORE_FRAME_HDR + size);
	return 0;
}

/* ---- reading ----------------------------------------------------------- */

static int corrupt(const uint8_t *key, size_t klen, const char *why)
{
	char name[160];
	store_key_describe(key, klen, name, sizeof(name));
	LOG_ERR("store: damaged %s: %s", name, why);
	return -EBADMSG;
}

/* A record whose separately stored value is not the one it names. */
static int corrupt_value(const uint8_t *key, const uint8_t *vkey, const char *why)
{
	char name[160], vname[160];
	store_key_describe(key, STORE_KEY_RECORD_LEN, name, sizeof(name));
	store_key_describe(vkey, STORE_KEY_VALUE_LEN, vname, sizeof(vname));
	LOG_ERR("store: damaged %s: %s (%s)", name, why, vname);
	return -EBADMSG;
}

/* Decodes the payload of the record under key (entity, entry) into *out.
 * With `with_value`, out->value is malloc'd (NULL when empty). */
static int record_decode(leveldb_t *db, const leveldb_readoptions_t *ro, const uint8_t *key,
			 const uint8_t *payload, size_t plen, bool with_value,
			 struct store_record *out)
{
	Paxfs__PlogRecord *r = paxfs__plog_record__unpack(NULL, plen, payload);
	uint8_t vkey[STORE_KEY_VALUE_LEN];
	const uint8_t *vp = NULL;
	char *raw = NULL;
	size_t vlen = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!r)
		return corrupt(key, STORE_KEY_RECORD_LEN, "record does not decode");
	out->promised = r->promised;
	out->accepted = r->accepted;
	out->value_id = r->value_id;
	out->chosen = r->chosen;
	out->value_len = (size_t)r->value_len;
	out->value_crc = r->value_crc;
	if (r->value_len > STORE_BATCH_ITEM_MAX) {
		rc = corrupt(key, STORE_KEY_RECORD_LEN, "value length out of range");
		goto out;
	}
	if (r->value_separate) {
		if (r->value.len) {
			rc = corrupt(key, STORE_KEY_RECORD_LEN, "separate value also inline");
			goto out;
		}
		if (!with_value)
			goto out;
		uint64_t entity = 0, entry = 0;
		store_key_parse_record(key, STORE_KEY_RECORD_LEN, &entity, &entry);
		store_key_value(vkey, entity, entry, r->value_id);
		rc = store_db_get(db, ro, vkey, sizeof(vkey), &raw, &vp, &vlen);
		if (rc == -ENOENT) {
			rc = corrupt_value(key, vkey, "its separately stored value is missing");
			goto out;
		}
		if (rc)
			goto out;
	} else {
		vp = r->value.data;
		vlen = r->value.len;
	}
	if (vlen != r->value_len) {
		rc = r->value_separate
			 ? corrupt_value(key, vkey, "value length differs from the record")
			 : corrupt(key, STORE_KEY_RECORD_LEN,
				   "value length differs from the record");
		goto out;
	}
	if (vlen && util_crc32c(0, vp, vlen) != r->value_crc) {
		rc = r->value_separate
			 ? corrupt_value(key, vkey, "value CRC differs from the record")
			 : corrupt(key, STORE_KEY_RECORD_LEN, "value CRC differs from the record");
		goto out;
	}
	if (with_value && vlen) {
		out->value = malloc(vlen);
		if (!out->value) {
			rc = -ENOMEM;
			goto out;
		}
		memcpy(out->value, vp, vlen);
	}
out:
	leveldb_free(raw);
	paxfs__plog_record__free_unpacked(r, NULL);
	if (rc) {
		free(out->value);
		out->value = NULL;
	}
	return rc;
}

/* A read options object on a fresh snapshot, so that a record and its
 * separate value are read from the same point in time. */
struct snap {
	const leveldb_snapshot_t *snap;
	leveldb_readoptions_t *ro;
};

static void snap_take(leveldb_t *db, struct snap *sn)
{
	sn->snap = leveldb_create_snapshot(db);
	sn->ro = leveldb_readoptions_create();
	leveldb_readoptions_set_verify_checksums(sn->ro, 1);
	leveldb_readoptions_set_snapshot(sn->ro, sn->snap);
}

static void snap_release(leveldb_t *db, struct snap *sn)
{
	leveldb_readoptions_destroy(sn->ro);
	leveldb_release_snapshot(db, sn->snap);
}

int store_get_record(struct store *s, uint64_t entity, uint64_t entry, struct store_record *out)
{
	uint8_t key[STORE_KEY_RECORD_LEN];
	const uint8_t *payload;
	leveldb_t *db;
	struct snap sn;
	char *raw;
	size_t plen;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = store_db_enter(s, &db);
	if (rc)
		return rc;
	store_key_record(key, entity, entry);
	snap_take(db, &sn);
	rc = store_db_get(db, sn.ro, key, sizeof(key), &raw, &payload, &plen);
	if (!rc) {
		rc = record_decode(db, sn.ro, key, payload, plen, true, out);
		leveldb_free(raw);
	}
	snap_release(db, &sn);
	store_db_leave(s);
	return rc;
}

struct scan_ctx {
	leveldb_t *db;
	const leveldb_readoptions_t *ro;
	bool with_values;
	store_record_cb cb;
	void *arg;
};

static int scan_one(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct scan_ctx *c = arg;
	struct store_record rec;
	const uint8_t *payload;
	uint64_t entry;
	size_t plen;
	int rc;

	if (!store_key_parse_record(key, klen, NULL, &entry))
		return corrupt(key, klen, "malformed record key");
	rc = store_frame_open(key, klen, val, vlen, &payload, &plen);
	if (rc)
		return rc;
	rc = record_decode(c->db, c->ro, key, payload, plen, c->with_values, &rec);
	if (rc)
		return rc;
	rc = c->cb(c->arg, entry, &rec);
	free(rec.value);
	return rc;
}

int store_scan_records(struct store *s, uint64_t entity, uint64_t from, uint64_t to,
		       bool with_values, store_record_cb cb, void *arg)
{
	uint8_t lo[STORE_KEY_RECORD_LEN], hi[STORE_KEY_RECORD_LEN];
	struct scan_ctx c = {.with_values = with_values, .cb = cb, .arg = arg};
	leveldb_t *db;
	struct snap sn;
	int rc;

	if (from > to)
		return 0;
	rc = store_db_enter(s, &db);
	if (rc)
		return rc;
	store_key_record(lo, entity, from);
	store_key_record(hi, entity, to);
	store_key_increment(hi, sizeof(hi)); /* never overflows: the tag is 'P' */
	snap_take(db, &sn);
	c.db = db;
	c.ro = sn.ro;
	rc = store_db_range(db, sn.ro, lo, sizeof(lo), hi, sizeof(hi), scan_one, &c);
	snap_release(db, &sn);
	store_db_leave(s);
	return rc;
}

/* ---- trimming ----------------------------------------------------------- */

static int del_key(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct store_batch *b = arg;
	store_batch_del(b, key, klen);
	return b->err;
}

/* Queues deletion of the records and values of `entity` with entry <= upto
 * that are in the store or queued in b before this call. */
static int trim_range(struct store *s, struct store_batch *b, uint64_t entity, uint64_t upto)
{
	uint8_t lo[STORE_KEY_VALUE_LEN], hi[STORE_KEY_VALUE_LEN];
	size_t queued = b->nops;
	leveldb_t *db;
	int rc;

	if (b->err)
		return b->err;
	rc = store_db_enter(s, &db);
	if (rc)
		return rc;
	store_key_record(lo, entity, 0);
	store_key_record(hi, entity, upto);
	store_key_increment(hi, STORE_KEY_RECORD_LEN);
	rc = store_db_range(db, s->ro, lo, STORE_KEY_RECORD_LEN, hi, STORE_KEY_RECORD_LEN, del_key,
			    b);
	if (!rc) {
		store_key_value(lo, entity, 0, 0);
		store_key_value(hi, entity, upto, UINT64_MAX);
		store_key_increment(hi, STORE_KEY_VALUE_LEN);
		rc = store_db_range(db, s->ro, lo, STORE_KEY_VALUE_LEN, hi, STORE_KEY_VALUE_LEN,
				    del_key, b);
	}
	store_db_leave(s);
	/* Records queued earlier in this batch are not in the store yet. */
	for (size_t i = 0; !rc && i < queued; i++) {
		const struct store_op *op = &b->ops[i];
		uint64_t e = op->entry, id = op->value_id;
		if (op->kind != STORE_OP_RECORD || op->entity != entity || op->entry > upto)
			continue;
		bool has_value = op->has_value;
		store_key_record(lo, entity, e);
		store_batch_del(b, lo, STORE_KEY_RECORD_LEN); /* may move b->ops */
		if (has_value) {
			store_key_value(lo, entity, e, id);
			store_batch_del(b, lo, STORE_KEY_VALUE_LEN);
		}
		rc = b->err;
	}
	return rc;
}

int store_batch_trim(struct store *s, struct store_batch *b, uint64_t entity, uint64_t upto)
{
	return trim_range(s, b, entity, upto);
}

int store_batch_drop_entity(struct store *s, struct store_batch *b, uint64_t entity)
{
	uint8_t key[STORE_KEY_ENTITY_LEN];
	int rc = trim_range(s, b, entity, UINT64_MAX);
	if (rc)
		return rc;
	store_key_entity(key, STORE_TAG_PAXOS_META, entity);
	store_batch_del(b, key, sizeof(key));
	store_key_entity(key, STORE_TAG_APPLY_META, entity);
	store_batch_del(b, key, sizeof(key));
	return b->err;
}
