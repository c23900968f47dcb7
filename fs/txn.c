/* fs/txn.c — the overlay of one applied entry (see fs/txn.h).
 *
 *   buckets[] --> ent --> ent        chained hash table on the key
 *   order[]   = ent, ent, ent, ...   every entry, in first-touch order, for
 *                                    sealing and range deletes
 *
 * An entry caches what the store held ("orig") the first time its key was
 * touched, and the current value. The hash of orig is taken lazily, when the
 * entry first changes: most keys that are read are never written.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs_int.h"
#include "fs/hash.h"
#include "fs/keys.h"
#include "fs/txn.h"
#include "store/store.h"
#include "util/log.h"

struct txn_ent {
	struct txn_ent *next; /* hash chain */
	uint64_t khash;
	bool orig_present;
	bool orig_hashed; /* orig_hash is valid */
	bool cur_present;
	bool dirty; /* changed since first touch */
	uint64_t orig_hash;
	uint8_t *val; /* current value when cur_present (malloc'd) */
	size_t vlen;
	size_t klen;
	uint8_t key[];
};

struct txn_range {
	uint8_t *start, *end;
	size_t slen, elen;
};

struct txn_delta {
	uint64_t entity;
	uint64_t delta;
};

struct fs_txn {
	struct fs *fs;
	struct store_batch *b;
	struct txn_ent **buckets;
	size_t nbuckets; /* power of two */
	struct txn_ent **order;
	size_t n, cap;
	struct txn_range *ranges;
	size_t nranges, capranges;
	struct txn_delta *deltas;
	size_t ndeltas, capdeltas;
	int failed;
	bool sealed;
};

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	void *p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int fs_txn_new(struct fs *fs, struct fs_txn **out)
{
	struct fs_txn *t = calloc(1, sizeof(*t));
	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->fs = fs;
	t->b = store_batch_new();
	t->nbuckets = 64;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->b || !t->buckets) {
		fs_txn_free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

static void clear_entries(struct fs_txn *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->order[i]->val);
		free(t->order[i]);
	}
	t->n = 0;
	memset(t->buckets, 0, t->nbuckets * sizeof(*t->buckets));
	for (size_t i = 0; i < t->nranges; i++) {
		free(t->ranges[i].start);
		free(t->ranges[i].end);
	}
	t->nranges = 0;
	t->ndeltas = 0;
}

void fs_txn_free(struct fs_txn *t)
{
	if (!t)
		return;
	if (t->buckets)
		clear_entries(t);
	free(t->buckets);
	free(t->order);
	free(t->ranges);
	free(t->deltas);
	store_batch_free(t->b);
	free(t);
}

void fs_txn_reset(struct fs_txn *t)
{
	clear_entries(t);
	store_batch_clear(t->b);
	t->failed = 0;
	t->sealed = false;
	/* A huge entry (a truncate of a big file) must not pin its memory. */
	if (t->cap > 4096) {
		free(t->order);
		t->order = NULL;
		t->cap = 0;
	}
	if (t->nbuckets > 4096) {
		struct txn_ent **nb = calloc(64, sizeof(*nb));
		if (nb) {
			free(t->buckets);
			t->buckets = nb;
			t->nbuckets = 64;
		}
	}
}

int fs_txn_failed(const struct fs_txn *t)
{
	return t->failed;
}

void fs_txn_fail(struct fs_txn *t, int rc)
{
	if (!t->failed && rc < 0)
		t->failed = rc;
}

struct store_batch *fs_txn_batch(struct fs_txn *t)
{
	return t->b;
}

static struct txn_ent *find(struct fs_txn *t, const void *key, size_t klen, uint64_t h)
{
	for (struct txn_ent *e = t->buckets[h & (t->nbuckets - 1)]; e; e = e->next)
		if (e->khash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
			return e;
	return NULL;
}

static int rehash(struct fs_txn *t)
{
	size_t nb = t->nbuckets * 2;
	struct txn_ent **b = calloc(nb, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		struct txn_ent *e = t->order[i];
		e->next = b[e->khash & (nb - 1)];
		b[e->khash & (nb - 1)] = e;
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
	return 0;
}

static bool in_range(const struct txn_range *r, const void *key, size_t klen)
{
	size_t m = klen < r->slen ? klen : r->slen;
	int c = memcmp(key, r->start, m);
	if (c < 0 || (c == 0 && klen < r->slen))
		return false;
	m = klen < r->elen ? klen : r->elen;
	c = memcmp(key, r->end, m);
	return c < 0 || (c == 0 && klen < r->elen);
}

static bool removed_by_range(const struct fs_txn *t, const void *key, size_t klen)
{
	for (size_t i = 0; i < t->nranges; i++)
		if (in_range(&t->ranges[i], key, klen))
			return true;
	return false;
}

/* Reads the key from the store; on damage marks its entity bad. */
static int store_read(struct fs_txn *t, const void *key, size_t klen, void **val, size_t *vlen)
{
	int rc = store_get_state(t->fs->st, key, klen, val, vlen);
	if (rc == -EBADMSG)
		fs_mark_bad(t->fs, fs_key_entity(key, klen), "a state record fails its checksum");
	if (rc && rc != -ENOENT)
		fs_txn_fail(t, rc);
	return rc;
}

/* The entry of `key`, created from the store (or the ranges) on first touch. */
static int touch(struct fs_txn *t, const void *key, size_t klen, struct txn_ent **out)
{
	uint64_t h = fs_hash64(key, klen, 0);
	struct txn_ent *e = find(t, key, klen, h);
	int rc;

	if (e) {
		*out = e;
		return 0;
	}
	if (t->n + 1 > t->nbuckets && (rc = rehash(t)) < 0)
		goto fail;
	if ((rc = grow((void **)&t->order, &t->cap, t->n + 1, sizeof(*t->order))) < 0)
		goto fail;
	e = calloc(1, sizeof(*e) + klen);
	if (!e) {
		rc = -ENOMEM;
		goto fail;
	}
	e->khash = h;
	e->klen = klen;
	memcpy(e->key, key, klen);
	if (!removed_by_range(t, key, klen)) {
		void *v = NULL;
		size_t vl = 0;
		rc = store_read(t, key, klen, &v, &vl);
		if (rc && rc != -ENOENT) {
			free(e);
			return rc;
		}
		if (rc == 0) {
			e->orig_present = e->cur_present = true;
			e->val = v;
			e->vlen = vl;
		}
	}
	e->next = t->buckets[h & (t->nbuckets - 1)];
	t->buckets[h & (t->nbuckets - 1)] = e;
	t->order[t->n++] = e;
	*out = e;
	return 0;
fail:
	fs_txn_fail(t, rc);
	return rc;
}

int fs_txn_get(struct fs_txn *t, const void *key, size_t klen, void **val, size_t *vlen)
{
	struct txn_ent *e;
	int rc = touch(t, key, klen, &e);

	if (rc)
		return rc;
	if (!e->cur_present)
		return -ENOENT;
	*val = malloc(e->vlen ? e->vlen : 1);
	if (!*val) {
		fs_txn_fail(t, -ENOMEM);
		return -ENOMEM;
	}
	if (e->vlen)
		memcpy(*val, e->val, e->vlen);
	*vlen = e->vlen;
	return 0;
}

/* Before the first change: remember the hash of what the store held. */
static void make_dirty(struct fs_txn *t, struct txn_ent *e)
{
	if (e->dirty)
		return;
	if (e->orig_present && !e->orig_hashed) {
		/* Clean until now, so the current value is the original. */
		e->orig_hash = fs_hash_kv(e->key, e->klen, e->val, e->vlen);
		e->orig_hashed = true;
	}
	e->dirty = true;
}

int fs_txn_put(struct fs_txn *t, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct txn_ent *e;
	int rc;

	if (t->sealed)
		return -EINVAL;
	if ((rc = touch(t, key, klen, &e)) < 0)
		return rc;
	uint8_t *copy = malloc(vlen ? vlen : 1);
	if (!copy) {
		fs_txn_fail(t, -ENOMEM);
		return -ENOMEM;
	}
	if (vlen)
		memcpy(copy, val, vlen);
	make_dirty(t, e);
	free(e->val);
	e->val = copy;
	e->vlen = vlen;
	e->cur_present = true;
	return 0;
}

int fs_txn_del(struct fs_txn *t, const void *key, size_t klen)
{
	struct txn_ent *e;
	int rc;

	if (t->sealed)
		return -EINVAL;
	if ((rc = touch(t, key, klen, &e)) < 0)
		return rc;
	if (!e->cur_present)
		return 0;
	make_dirty(t, e);
	free(e->val);
	e->val = NULL;
	e->vlen = 0;
	e->cur_present = false;
	return 0;
}

static int add_delta(struct fs_txn *t, uint64_t entity, uint64_t x)
{
	for (size_t i = 0; i < t->ndeltas; i++)
		if (t->deltas[i].entity == entity) {
			t->deltas[i].delta ^= x;
			return 0;
		}
	int rc = grow((void **)&t->deltas, &t->capdeltas, t->ndeltas + 1, sizeof(*t->deltas));
	if (rc)
		return rc;
	t->deltas[t->ndeltas].entity = entity;
	t->deltas[t->ndeltas].delta = x;
	t->ndeltas++;
	return 0;
}

uint64_t fs_txn_delta(const struct fs_txn *t, uint64_t entity)
{
	for (size_t i = 0; i < t->ndeltas; i++)
		if (t->deltas[i].entity == entity)
			return t->deltas[i].delta;
	return 0;
}

struct range_scan {
	struct fs_txn *t;
	uint64_t removed;
	int rc;
};

static int range_scan_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct range_scan *rs = arg;
	struct fs_txn *t = rs->t;

	/* Keys the overlay holds are accounted for by their entry (below);
	 * keys of an earlier range are already deleted and hashed out. */
	if (find(t, key, klen, fs_hash64(key, klen, 0)) || removed_by_range(t, key, klen))
		return 0;
	rs->rc = add_delta(t, fs_key_entity(key, klen), fs_hash_kv(key, klen, val, vlen));
	if (rs->rc)
		return 1;
	store_batch_del_state(t->b, key, klen);
	rs->removed++;
	return 0;
}

int fs_txn_del_range(struct fs_txn *t, const void *start, size_t slen, const void *end, size_t elen,
		     uint64_t *removed)
{
	struct range_scan rs = {.t = t};
	struct txn_range r = {0};
	int rc;

	if (t->sealed)
		return -EINVAL;
	if ((rc = grow((void **)&t->ranges, &t->capranges, t->nranges + 1, sizeof(*t->ranges))) < 0)
		goto fail;
	r.start = malloc(slen);
	r.end = malloc(elen);
	if (!r.start || !r.end) {
		free(r.start);
		free(r.end);
		rc = -ENOMEM;
		goto fail;
	}
	memcpy(r.start, start, slen);
	memcpy(r.end, end, elen);
	r.slen = slen;
	r.elen = elen;

	rc = store_scan_state(t->fs->st, start, slen, end, elen, range_scan_cb, &rs);
	if (rs.rc)
		rc = rs.rc;
	if (rc) {
		free(r.start);
		free(r.end);
		if (rc == -EBADMSG)
			fs_mark_bad(t->fs, fs_key_entity(start, slen),
				    "a state record fails its checksum");
		goto fail;
	}
	for (size_t i = 0; i < t->n; i++) {
		struct txn_ent *e = t->order[i];
		if (e->cur_present && in_range(&r, e->key, e->klen)) {
			make_dirty(t, e);
			free(e->val);
			e->val = NULL;
			e->vlen = 0;
			e->cur_present = false;
			rs.removed++;
		}
	}
	t->ranges[t->nranges++] = r;
	if (removed)
		*removed = rs.removed;
	return 0;
fail:
	fs_txn_fail(t, rc);
	return rc;
}

int fs_txn_seal(struct fs_txn *t)
{
	int rc;

	if (t->failed)
		return t->failed;
	for (size_t i = 0; i < t->n; i++) {
		struct txn_ent *e = t->order[i];
		uint64_t x = 0;
		if (!e->dirty)
			continue;
		if (e->orig_present)
			x ^= e->orig_hash;
		if (e->cur_present) {
			x ^= fs_hash_kv(e->key, e->klen, e->val, e->vlen);
			store_batch_put_state(t->b, e->key, e->klen, e->val, e->vlen);
		} else if (e->orig_present) {
			store_batch_del_state(t->b, e->key, e->klen);
		}
		if (x && (rc = add_delta(t, fs_key_entity(e->key, e->klen), x)) < 0) {
			fs_txn_fail(t, rc);
			return rc;
		}
	}
	t->sealed = true;
	return 0;
}
