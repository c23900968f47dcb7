/* tests/sim/simstore.c — the in-memory store (see simstore.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/simstore.h"

void sim_store_init(struct sim_store *s)
{
	memset(s, 0, sizeof(*s));
}

static void ent_free(struct sim_ent *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->recs[i].r.value);
	free(e->recs);
	free(e);
}

void sim_store_close(struct sim_store *s)
{
	for (size_t i = 0; i < s->n; i++)
		ent_free(s->ents[i]);
	free(s->ents);
	memset(s, 0, sizeof(*s));
}

/* Index of the first entity with id >= `id`. */
static size_t ent_lower(const struct sim_store *s, uint64_t id)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->ents[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct sim_ent *sim_store_ent(const struct sim_store *s, uint64_t id)
{
	size_t i = ent_lower(s, id);
	return (i < s->n && s->ents[i]->id == id) ? s->ents[i] : NULL;
}

static struct sim_ent *ent_get(struct sim_store *s, uint64_t id)
{
	size_t i = ent_lower(s, id);
	if (i < s->n && s->ents[i]->id == id)
		return s->ents[i];
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct sim_ent **x = realloc(s->ents, ncap * sizeof(*x));
		if (!x)
			return NULL;
		s->ents = x;
		s->cap = ncap;
	}
	struct sim_ent *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->id = id;
	memmove(&s->ents[i + 1], &s->ents[i], (s->n - i) * sizeof(*s->ents));
	s->ents[i] = e;
	s->n++;
	return e;
}

static size_t rec_lower(const struct sim_ent *e, uint64_t entry)
{
	/* Records are mostly appended: check the end first. */
	if (!e->n || e->recs[e->n - 1].entry < entry)
		return e->n;
	size_t lo = 0, hi = e->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (e->recs[mid].entry < entry)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct sim_rec *sim_store_rec(const struct sim_store *s, uint64_t entity, uint64_t entry)
{
	struct sim_ent *e = sim_store_ent(s, entity);
	if (!e)
		return NULL;
	size_t i = rec_lower(e, entry);
	return (i < e->n && e->recs[i].entry == entry) ? &e->recs[i] : NULL;
}

static int put_record(struct sim_store *s, const struct paxos_out_record *r)
{
	struct sim_ent *e = ent_get(s, r->entity);
	if (!e)
		return -ENOMEM;
	size_t i = rec_lower(e, r->entry);
	struct sim_rec *x;
	if (i < e->n && e->recs[i].entry == r->entry) {
		x = &e->recs[i];
		free(x->r.value);
	} else {
		if (e->n == e->cap) {
			size_t ncap = e->cap ? e->cap * 2 : 8;
			struct sim_rec *y = realloc(e->recs, ncap * sizeof(*y));
			if (!y)
				return -ENOMEM;
			e->recs = y;
			e->cap = ncap;
		}
		memmove(&e->recs[i + 1], &e->recs[i], (e->n - i) * sizeof(*e->recs));
		e->n++;
		x = &e->recs[i];
	}
	x->entry = r->entry;
	x->r = r->rec;
	x->r.value = NULL;
	if (r->rec.value_len || r->rec.accepted || r->rec.chosen) {
		x->r.value = malloc(r->rec.value_len ? r->rec.value_len : 1);
		if (!x->r.value)
			return -ENOMEM;
		if (r->rec.value_len)
			memcpy(x->r.value, r->rec.value, r->rec.value_len);
	}
	return 0;
}

static void trim(struct sim_store *s, uint64_t entity, uint64_t upto)
{
	struct sim_ent *e = sim_store_ent(s, entity);
	if (!e || !e->n)
		return;
	size_t k = 0;
	while (k < e->n && e->recs[k].entry <= upto)
		free(e->recs[k++].r.value);
	memmove(e->recs, e->recs + k, (e->n - k) * sizeof(*e->recs));
	e->n -= k;
}

static int apply_writes(struct sim_store *s, const struct paxos_out_record *records,
			size_t n_records, const struct paxos_out_meta *metas, size_t n_metas,
			const struct paxos_trim *trims, size_t n_trims)
{
	for (size_t i = 0; i < n_records; i++)
		if (put_record(s, &records[i]))
			return -ENOMEM;
	for (size_t i = 0; i < n_metas; i++) {
		struct sim_ent *e = ent_get(s, metas[i].entity);
		if (!e)
			return -ENOMEM;
		e->has_meta = true;
		e->meta = metas[i].meta;
	}
	for (size_t i = 0; i < n_trims; i++)
		trim(s, trims[i].entity, trims[i].upto);
	s->writes++;
	return 0;
}

int sim_store_apply(struct sim_store *s, const struct paxos_update *u)
{
	return apply_writes(s, u->records, u->n_records, u->metas, u->n_metas, u->trims,
			    u->n_trims);
}

int sim_store_apply_batch(struct sim_store *s, const struct sim_batch *b)
{
	return apply_writes(s, b->records, b->n_records, b->metas, b->n_metas, b->trims,
			    b->n_trims);
}

void sim_batch_free(struct sim_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n_records; i++)
		free((void *)b->records[i].rec.value);
	free(b->records);
	free(b->metas);
	free(b->trims);
	free(b);
}

static void *dup_mem(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);
	if (q && n)
		memcpy(q, p, n);
	return q;
}

struct sim_batch *sim_batch_copy(const struct paxos_update *u)
{
	struct sim_batch *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->records = dup_mem(u->records, u->n_records * sizeof(*u->records));
	b->metas = dup_mem(u->metas, u->n_metas * sizeof(*u->metas));
	b->trims = dup_mem(u->trims, u->n_trims * sizeof(*u->trims));
	if (!b->records || !b->metas || !b->trims) {
		sim_batch_free(b);
		return NULL;
	}
	b->n_metas = u->n_metas;
	b->n_trims = u->n_trims;
	for (size_t i = 0; i < u->n_records; i++) {
		struct paxos_out_record *r = &b->records[i];
		r->rec.value = NULL;
		if (u->records[i].rec.value) {
			r->rec.value =
			    dup_mem(u->records[i].rec.value, u->records[i].rec.value_len);
			if (!r->rec.value) {
				sim_batch_free(b);
				return NULL;
			}
		}
		b->n_records = i + 1;
	}
	return b;
}

int sim_store_copy(struct sim_store *dst, const struct sim_store *src)
{
	sim_store_close(dst);
	for (size_t i = 0; i < src->n; i++) {
		const struct sim_ent *se = src->ents[i];
		struct sim_ent *de = ent_get(dst, se->id);
		if (!de)
			return -ENOMEM;
		de->has_meta = se->has_meta;
		de->meta = se->meta;
		if (se->n) {
			de->recs = malloc(se->n * sizeof(*de->recs));
			if (!de->recs)
				return -ENOMEM;
			de->cap = se->n;
		}
		for (size_t k = 0; k < se->n; k++) {
			de->recs[k] = se->recs[k];
			de->recs[k].r.value = NULL;
			if (se->recs[k].r.value) {
				de->recs[k].r.value =
				    dup_mem(se->recs[k].r.value, se->recs[k].r.value_len);
				if (!de->recs[k].r.value)
					return -ENOMEM;
			}
			de->n = k + 1;
		}
	}
	return 0;
}

/* ---- the engine's storage callbacks -------------------------------------- */

static int op_load_meta(void *ctx, uint64_t entity, struct paxos_meta *out)
{
	struct sim_store *s = ctx;
	s->reads++;
	struct sim_ent *e = sim_store_ent(s, entity);
	if (!e || !e->has_meta)
		return -ENOENT;
	*out = e->meta;
	return 0;
}

static int op_load_record(void *ctx, uint64_t entity, uint64_t entry, struct paxos_record *out)
{
	struct sim_store *s = ctx;
	s->reads++;
	struct sim_rec *r = sim_store_rec(s, entity, entry);
	if (!r)
		return -ENOENT;
	*out = r->r;
	out->value = NULL;
	if (r->r.value) {
		out->value = malloc(r->r.value_len ? r->r.value_len : 1);
		if (!out->value)
			return -ENOMEM;
		memcpy(out->value, r->r.value, r->r.value_len);
	}
	return 0;
}

static int op_scan_records(void *ctx, uint64_t entity, uint64_t from, paxos_record_cb cb, void *arg)
{
	struct sim_store *s = ctx;
	s->reads++;
	struct sim_ent *e = sim_store_ent(s, entity);
	if (!e)
		return 0;
	for (size_t i = rec_lower(e, from); i < e->n; i++) {
		int rc = cb(arg, e->recs[i].entry, &e->recs[i].r);
		if (rc)
			return rc;
	}
	return 0;
}

static int op_list_entities(void *ctx, uint64_t after, uint64_t *ids, size_t max, size_t *n)
{
	struct sim_store *s = ctx;
	s->reads++;
	*n = 0;
	if (after == UINT64_MAX)
		return 0;
	for (size_t i = after ? ent_lower(s, after + 1) : 0; i < s->n && *n < max; i++)
		if (s->ents[i]->has_meta && s->ents[i]->id > after)
			ids[(*n)++] = s->ents[i]->id;
	return 0;
}

const struct paxos_storage_ops sim_store_ops = {
    .load_meta = op_load_meta,
    .load_record = op_load_record,
    .scan_records = op_scan_records,
    .list_entities = op_list_entities,
};
