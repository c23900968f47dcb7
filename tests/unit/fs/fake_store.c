/* tests/unit/fs/fake_store.c — THROWAWAY in-memory implementation of
 * store/store.h, used only by the fs/ unit tests until the real store/ (in
 * another branch) is merged. It implements what fs/ calls (batches, apply and
 * paxos metas, the 'S' keyspace, entity scans) with the header's semantics,
 * including a CRC over key and payload checked on every read, so tests can
 * damage a record (fake_store_corrupt) and see -EBADMSG. The Paxos log calls
 * answer -ENOSYS: fs/ never uses them.
 *
 * Data of a store outlives store_free for the life of the process (keyed by
 * the directory path), so a test can close and reopen "the same" store.
 *
 *   db: sorted array of { key = kind byte ‖ rest, payload, crc }
 *       'S' fs-key      state
 *       'A' entity:8    ApplyMeta (struct bytes)
 *       'M' entity:8    PaxosMeta (struct bytes)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "tests/unit/fs/fake_store.h"
#include "util/crc32c.h"
#include "util/endian.h"

struct rec {
	uint8_t *key;
	size_t klen;
	uint8_t *val;
	size_t vlen;
	uint32_t crc;
};

struct db {
	char *dir;
	bool open;
	struct rec *recs;
	size_t n, cap;
	struct db *next;
};

struct store {
	struct db *db;
};

struct op {
	bool del;
	uint8_t *key;
	size_t klen;
	uint8_t *val;
	size_t vlen;
};

struct store_batch {
	struct op *ops;
	size_t n, cap;
	size_t bytes;
};

static struct db *dbs;

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

static uint8_t *dup_bytes(const void *p, size_t n)
{
	uint8_t *d = xmalloc(n);
	if (n)
		memcpy(d, p, n);
	return d;
}

static uint32_t rec_crc(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	return util_crc32c(util_crc32c(0, k, kl), v, vl);
}

static int cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

/* First index with key >= k. */
static size_t lower(const struct db *db, const uint8_t *k, size_t kl)
{
	size_t lo = 0, hi = db->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cmp(db->recs[mid].key, db->recs[mid].klen, k, kl) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct rec *find(struct db *db, const uint8_t *k, size_t kl)
{
	size_t i = lower(db, k, kl);
	if (i < db->n && cmp(db->recs[i].key, db->recs[i].klen, k, kl) == 0)
		return &db->recs[i];
	return NULL;
}

static void db_put(struct db *db, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	size_t i = lower(db, k, kl);
	if (i < db->n && cmp(db->recs[i].key, db->recs[i].klen, k, kl) == 0) {
		free(db->recs[i].val);
	} else {
		if (db->n == db->cap) {
			db->cap = db->cap ? db->cap * 2 : 64;
			db->recs = realloc(db->recs, db->cap * sizeof(*db->recs));
			if (!db->recs)
				abort();
		}
		memmove(&db->recs[i + 1], &db->recs[i], (db->n - i) * sizeof(*db->recs));
		db->n++;
		db->recs[i].key = dup_bytes(k, kl);
		db->recs[i].klen = kl;
	}
	db->recs[i].val = dup_bytes(v, vl);
	db->recs[i].vlen = vl;
	db->recs[i].crc = rec_crc(k, kl, v, vl);
}

static void db_del(struct db *db, const uint8_t *k, size_t kl)
{
	size_t i = lower(db, k, kl);
	if (i < db->n && cmp(db->recs[i].key, db->recs[i].klen, k, kl) == 0) {
		free(db->recs[i].key);
		free(db->recs[i].val);
		memmove(&db->recs[i], &db->recs[i + 1], (db->n - i - 1) * sizeof(*db->recs));
		db->n--;
	}
}

/* Reads a record, checking its CRC. */
static int db_get(struct db *db, const uint8_t *k, size_t kl, void **val, size_t *vlen)
{
	struct rec *r = find(db, k, kl);
	if (!r)
		return -ENOENT;
	if (rec_crc(r->key, r->klen, r->val, r->vlen) != r->crc)
		return -EBADMSG;
	*val = dup_bytes(r->val, r->vlen);
	*vlen = r->vlen;
	return 0;
}

int store_open(const char *dir, const struct store_options *opt, struct store **out, char *err,
	       size_t errlen)
{
	struct db *db;
	*out = NULL;
	for (db = dbs; db; db = db->next)
		if (strcmp(db->dir, dir) == 0)
			break;
	if (!db) {
		if (!opt || !opt->create) {
			if (err)
				snprintf(err, errlen, "%s: no store", dir);
			return -ENOENT;
		}
		db = calloc(1, sizeof(*db));
		if (!db)
			return -ENOMEM;
		db->dir = strdup(dir);
		db->next = dbs;
		dbs = db;
	}
	if (db->open) {
		if (err)
			snprintf(err, errlen, "%s: in use", dir);
		return -EBUSY;
	}
	struct store *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	db->open = true;
	s->db = db;
	*out = s;
	return 0;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	s->db->open = false;
	free(s);
}

/* ---- batches ---------------------------------------------------------- */

struct store_batch *store_batch_new(void)
{
	return calloc(1, sizeof(struct store_batch));
}

void store_batch_clear(struct store_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->ops[i].key);
		free(b->ops[i].val);
	}
	b->n = 0;
	b->bytes = 0;
}

void store_batch_free(struct store_batch *b)
{
	if (!b)
		return;
	store_batch_clear(b);
	free(b->ops);
	free(b);
}

bool store_batch_empty(const struct store_batch *b)
{
	return b->n == 0;
}

size_t store_batch_bytes(const struct store_batch *b)
{
	return b->bytes;
}

static void batch_op(struct store_batch *b, bool del, const uint8_t *k, size_t kl, const void *v,
		     size_t vl)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->ops = realloc(b->ops, b->cap * sizeof(*b->ops));
		if (!b->ops)
			abort();
	}
	struct op *o = &b->ops[b->n++];
	o->del = del;
	o->key = dup_bytes(k, kl);
	o->klen = kl;
	o->val = del ? NULL : dup_bytes(v, vl);
	o->vlen = del ? 0 : vl;
	b->bytes += kl + o->vlen;
}

int store_write(struct store *s, struct store_batch *b, bool sync)
{
	for (size_t i = 0; i < b->n; i++) {
		struct op *o = &b->ops[i];
		if (o->del)
			db_del(s->db, o->key, o->klen);
		else
			db_put(s->db, o->key, o->klen, o->val, o->vlen);
	}
	store_batch_clear(b);
	return 0;
}

/* ---- node meta, Paxos log: not used by fs/ ---------------------------- */

int store_get_node(struct store *s, struct store_node *out)
{
	return -ENOSYS;
}

void store_batch_put_node(struct store_batch *b, const struct store_node *n)
{
	abort(); /* fs/ never writes node meta */
}

void store_batch_put_record(struct store_batch *b, uint64_t entity, uint64_t entry,
			    const struct store_record *rec, bool value_stored)
{
	abort(); /* fs/ never writes the log */
}

int store_get_record(struct store *s, uint64_t entity, uint64_t entry, struct store_record *out)
{
	return -ENOSYS;
}

int store_scan_records(struct store *s, uint64_t entity, uint64_t from, uint64_t to, bool with_values,
		       store_record_cb cb, void *arg)
{
	return -ENOSYS;
}

int store_batch_trim(struct store *s, struct store_batch *b, uint64_t entity, uint64_t upto)
{
	return -ENOSYS;
}

int store_batch_drop_entity(struct store *s, struct store_batch *b, uint64_t entity)
{
	return -ENOSYS;
}

/* ---- metas ------------------------------------------------------------ */

static void meta_key(uint8_t *k, char kind, uint64_t entity)
{
	k[0] = (uint8_t)kind;
	util_put_be64(k + 1, entity);
}

int store_get_paxos_meta(struct store *s, uint64_t entity, struct store_paxos_meta *out)
{
	uint8_t k[9];
	void *v;
	size_t vl;
	meta_key(k, 'M', entity);
	memset(out, 0, sizeof(*out));
	int rc = db_get(s->db, k, 9, &v, &vl);
	if (rc)
		return rc;
	memcpy(out, v, sizeof(*out));
	free(v);
	return 0;
}

int store_get_apply_meta(struct store *s, uint64_t entity, struct store_apply_meta *out)
{
	uint8_t k[9];
	void *v;
	size_t vl;
	meta_key(k, 'A', entity);
	memset(out, 0, sizeof(*out));
	int rc = db_get(s->db, k, 9, &v, &vl);
	if (rc)
		return rc;
	memcpy(out, v, sizeof(*out));
	free(v);
	return 0;
}

void store_batch_put_paxos_meta(struct store_batch *b, uint64_t entity,
				const struct store_paxos_meta *m)
{
	uint8_t k[9];
	meta_key(k, 'M', entity);
	batch_op(b, false, k, 9, m, sizeof(*m));
}

void store_batch_put_apply_meta(struct store_batch *b, uint64_t entity,
				const struct store_apply_meta *m)
{
	uint8_t k[9];
	struct store_apply_meta copy;
	memset(&copy, 0, sizeof(copy)); /* no padding garbage in the bytes */
	copy.applied_entry = m->applied_entry;
	copy.chain_crc = m->chain_crc;
	copy.state_digest = m->state_digest;
	meta_key(k, 'A', entity);
	batch_op(b, false, k, 9, &copy, sizeof(copy));
}

int store_scan_entities(struct store *s, uint64_t after, store_entity_cb cb, void *arg)
{
	uint8_t k[9];
	meta_key(k, 'M', after);
	for (;;) {
		size_t i = lower(s->db, k, 9);
		if (i < s->db->n && cmp(s->db->recs[i].key, s->db->recs[i].klen, k, 9) == 0)
			i++;
		if (i >= s->db->n || s->db->recs[i].key[0] != 'M')
			return 0;
		struct store_paxos_meta m;
		memcpy(k, s->db->recs[i].key, 9);
		memcpy(&m, s->db->recs[i].val, sizeof(m));
		int rc = cb(arg, util_get_be64(k + 1), &m);
		if (rc)
			return rc;
	}
}

/* ---- state ------------------------------------------------------------ */

static uint8_t *state_key(const void *key, size_t klen)
{
	uint8_t *k = xmalloc(klen + 1);
	k[0] = 'S';
	memcpy(k + 1, key, klen);
	return k;
}

void store_batch_put_state(struct store_batch *b, const void *key, size_t klen, const void *val,
			   size_t vlen)
{
	uint8_t *k = state_key(key, klen);
	batch_op(b, false, k, klen + 1, val, vlen);
	free(k);
}

void store_batch_del_state(struct store_batch *b, const void *key, size_t klen)
{
	uint8_t *k = state_key(key, klen);
	batch_op(b, true, k, klen + 1, NULL, 0);
	free(k);
}

int store_get_state(struct store *s, const void *key, size_t klen, void **val, size_t *vlen)
{
	uint8_t *k = state_key(key, klen);
	int rc = db_get(s->db, k, klen + 1, val, vlen);
	free(k);
	return rc;
}

int store_batch_get_state(struct store *s, const struct store_batch *b, const void *key, size_t klen,
			  void **val, size_t *vlen)
{
	uint8_t *k = state_key(key, klen);
	for (size_t i = b->n; i-- > 0;) {
		const struct op *o = &b->ops[i];
		if (o->klen == klen + 1 && memcmp(o->key, k, klen + 1) == 0) {
			free(k);
			if (o->del)
				return -ENOENT;
			*val = dup_bytes(o->val, o->vlen);
			*vlen = o->vlen;
			return 0;
		}
	}
	int rc = db_get(s->db, k, klen + 1, val, vlen);
	free(k);
	return rc;
}

int store_scan_state(struct store *s, const void *start, size_t slen, const void *end, size_t elen,
		     store_state_cb cb, void *arg)
{
	uint8_t *k = state_key(start, slen), *e = end ? state_key(end, elen) : NULL;
	size_t kl = slen + 1, el = elen + 1;
	bool first = true;
	int rc = 0;

	/* Seeks afresh after each callback: the callback may write the store. */
	for (;;) {
		size_t i = lower(s->db, k, kl);
		if (!first && i < s->db->n && cmp(s->db->recs[i].key, s->db->recs[i].klen, k, kl) == 0)
			i++;
		first = false;
		if (i >= s->db->n)
			break;
		struct rec *r = &s->db->recs[i];
		if (r->key[0] != 'S' || (e && cmp(r->key, r->klen, e, el) >= 0))
			break;
		if (rec_crc(r->key, r->klen, r->val, r->vlen) != r->crc) {
			rc = -EBADMSG;
			break;
		}
		uint8_t *rk = dup_bytes(r->key, r->klen), *rv = dup_bytes(r->val, r->vlen);
		size_t rkl = r->klen, rvl = r->vlen;
		free(k);
		k = rk;
		kl = rkl;
		rc = cb(arg, rk + 1, rkl - 1, rv, rvl);
		free(rv);
		if (rc)
			break;
	}
	free(k);
	free(e);
	return rc;
}

/* ---- test hooks ------------------------------------------------------- */

int fake_store_corrupt_state(struct store *s, const void *key, size_t klen)
{
	uint8_t *k = state_key(key, klen);
	struct rec *r = find(s->db, k, klen + 1);
	free(k);
	if (!r)
		return -ENOENT;
	if (r->vlen)
		r->val[r->vlen / 2] ^= 0x40;
	else
		r->crc ^= 1;
	return 0;
}
