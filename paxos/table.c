/* paxos/table.c — the entity table: lookup, load from storage, idle eviction.
 *
 *   table[]  open addressing, linear probing, keyed by entity id; the id
 *            is kept in the bucket so a probe never touches the entity
 *            ┌──────┬──────┬──────┬──────┬──────┐
 *            │ 7:e7 │      │ 3:e3 │ 9:e9 │      │  (e NULL = empty;
 *            └──────┴──────┴──────┴──────┴──────┘   removal shifts back)
 *   idle     e3 ⇄ e9 ⇄ …   LRU of evictable entities, oldest first
 *
 * An entity is loaded on first touch: its meta, then its open records (those
 * above the chosen entry) become slots. It leaves memory when it has had
 * nothing in flight for idle_evict_ms; everything it knew is in storage, so
 * reloading it later gives the same state (the invariant of this file).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "paxos/internal.h"

static size_t hash_id(uint64_t id, size_t cap)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdull;
	id ^= id >> 33;
	return (size_t)id & (cap - 1);
}

static int table_grow(struct paxos *p)
{
	size_t ncap = p->table_cap ? p->table_cap * 2 : 64;
	struct px_bucket *nt = px_calloc(p, ncap * sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < p->table_cap; i++) {
		struct px_entity *e = p->table[i].e;
		if (!e)
			continue;
		size_t h = hash_id(e->id, ncap);
		while (nt[h].e)
			h = (h + 1) & (ncap - 1);
		nt[h] = p->table[i];
	}
	free(p->table);
	p->table = nt;
	p->table_cap = ncap;
	return 0;
}

static struct px_entity *table_lookup(const struct paxos *p, uint64_t id)
{
	if (!p->table_cap)
		return NULL;
	size_t h = hash_id(id, p->table_cap);
	for (;;) {
		const struct px_bucket *b = &p->table[h];
		if (!b->e)
			return NULL;
		if (b->id == id)
			return b->e;
		h = (h + 1) & (p->table_cap - 1);
	}
}

static int table_insert(struct paxos *p, struct px_entity *e)
{
	if ((p->n_entities + 1) * 4 > p->table_cap * 3) {
		int rc = table_grow(p);
		if (rc)
			return rc;
	}
	size_t h = hash_id(e->id, p->table_cap);
	while (p->table[h].e)
		h = (h + 1) & (p->table_cap - 1);
	p->table[h].id = e->id;
	p->table[h].e = e;
	p->n_entities++;
	return 0;
}

static void table_remove(struct paxos *p, struct px_entity *e)
{
	size_t mask = p->table_cap - 1;
	size_t i = hash_id(e->id, p->table_cap);
	while (p->table[i].e != e)
		i = (i + 1) & mask;
	/* Backward-shift deletion: keep every later entry of the probe run
	 * reachable from its home bucket. */
	size_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		struct px_bucket x = p->table[j];
		if (!x.e)
			break;
		size_t home = hash_id(x.id, p->table_cap);
		bool movable = (i <= j) ? (home <= i || home > j) : (home <= i && home > j);
		if (movable) {
			p->table[i] = x;
			i = j;
		}
	}
	p->table[i].e = NULL;
	p->table[i].id = 0;
	p->n_entities--;
}

/* ---- idle list ------------------------------------------------------------ */

static void idle_remove(struct paxos *p, struct px_entity *e)
{
	if (!(e->flags & PXE_IDLE))
		return;
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		p->idle_head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		p->idle_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
	e->flags &= (uint16_t)~PXE_IDLE;
	p->n_idle--;
}

static void idle_append(struct paxos *p, struct px_entity *e)
{
	e->lru_next = NULL;
	e->lru_prev = p->idle_tail;
	if (p->idle_tail)
		p->idle_tail->lru_next = e;
	else
		p->idle_head = e;
	p->idle_tail = e;
	e->flags |= PXE_IDLE;
	p->n_idle++;
}

/* ---- slots ------------------------------------------------------------- */

struct px_slot *px_slot_find(struct px_entity *e, uint64_t entry)
{
	for (struct px_slot *s = e->slots; s && s->entry <= entry; s = s->next)
		if (s->entry == entry)
			return s;
	return NULL;
}

struct px_slot *px_slot_get(struct paxos *p, struct px_entity *e, uint64_t entry)
{
	struct px_slot **pp = &e->slots;
	while (*pp && (*pp)->entry < entry)
		pp = &(*pp)->next;
	if (*pp && (*pp)->entry == entry)
		return *pp;
	struct px_slot *s = px_calloc(p, sizeof(*s));
	if (!s)
		return NULL;
	s->entry = entry;
	s->next = *pp;
	*pp = s;
	return s;
}

static void slot_free(struct px_slot *s)
{
	px_value_unref(s->value);
	free(s);
}

void px_slots_drop_upto(struct paxos *p, struct px_entity *e, uint64_t upto)
{
	while (e->slots && e->slots->entry <= upto) {
		struct px_slot *s = e->slots;
		if (s->dirty)
			px_out_record(p, e, s);
		e->slots = s->next;
		slot_free(s);
	}
}

uint64_t px_slots_top_accepted(const struct px_entity *e)
{
	uint64_t top = 0;
	for (const struct px_slot *s = e->slots; s; s = s->next)
		if (s->accepted || s->chosen)
			top = s->entry;
	return top;
}

uint64_t px_slots_top(const struct px_entity *e)
{
	uint64_t top = e->chosen;
	for (const struct px_slot *s = e->slots; s; s = s->next)
		if (s->entry > top && (s->promised || s->accepted || s->chosen))
			top = s->entry;
	return top;
}

/* ---- loading --------------------------------------------------------------- */

struct load_ctx {
	struct paxos *p;
	struct px_entity *e;
};

static int load_slot_cb(void *arg, uint64_t entry, const struct paxos_record *rec)
{
	struct load_ctx *c = arg;
	if (entry <= c->e->chosen)
		return 0;
	struct px_slot *s = px_slot_get(c->p, c->e, entry);
	if (!s)
		return -ENOMEM;
	s->promised = rec->promised;
	s->accepted = rec->accepted;
	s->value_id = rec->value_id;
	s->chosen = rec->chosen;
	if (rec->accepted || rec->chosen) {
		s->value = px_value_new(c->p, rec->value, rec->value_len);
		if (!s->value)
			return -ENOMEM;
		s->value_stored = true;
	}
	return 0;
}

static void entity_free(struct paxos *p, struct px_entity *e)
{
	px_proposer_free(p, e);
	px_queue_free(p, e);
	px_barrier_free_all(p, e);
	while (e->slots) {
		struct px_slot *s = e->slots;
		e->slots = s->next;
		slot_free(s);
	}
	free(e);
}

static int entity_load(struct paxos *p, struct px_entity *e)
{
	struct paxos_meta m;
	memset(&m, 0, sizeof(m));
	int rc = p->cfg.ops->load_meta(p->cfg.ops_ctx, e->id, &m);
	if (rc == -ENOENT) {
		memset(&m, 0, sizeof(m));
	} else if (rc) {
		return rc;
	} else {
		e->flags |= PXE_META_ON_DISK;
	}
	e->chosen = m.chosen_entry;
	e->chosen_stored = m.chosen_entry;
	e->chosen_proposer = m.chosen_proposer;
	e->trimmed = m.trimmed_entry;
	e->trimmed_crc = m.trimmed_crc;
	e->vote_after = m.vote_after;
	e->applied = m.trimmed_entry;
	struct load_ctx c = {p, e};
	rc = p->cfg.ops->scan_records(p->cfg.ops_ctx, e->id, e->chosen + 1, load_slot_cb, &c);
	if (rc) {
		while (e->slots) {
			struct px_slot *s = e->slots;
			e->slots = s->next;
			slot_free(s);
		}
	}
	return rc;
}

void px_touch(struct paxos *p, struct px_entity *e)
{
	e->last_used = p->now;
	idle_remove(p, e);
	if (e->flags & PXE_TOUCHED)
		return;
	if (px_grow(p, (void **)&p->touched, &p->cap_touched, p->n_touched + 1, sizeof(*p->touched))) {
		/* Cannot track it: leave it out of the idle list, settle later. */
		return;
	}
	p->touched[p->n_touched++] = e;
	e->flags |= PXE_TOUCHED;
}

struct px_entity *px_entity_peek(const struct paxos *p, uint64_t id)
{
	return table_lookup(p, id);
}

int px_entity_get(struct paxos *p, uint64_t id, struct px_entity **out)
{
	struct px_entity *e = table_lookup(p, id);
	if (e) {
		px_touch(p, e);
		*out = e;
		return (e->flags & PXE_BROKEN) ? -EIO : 0;
	}
	e = px_calloc(p, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->id = id;
	e->deadline = PAXOS_NO_DEADLINE;
	int rc = entity_load(p, e);
	if (rc == -ENOMEM) {
		free(e);
		return rc;
	}
	if (rc) {
		/* Keep a stub so that the failure is reported once and every
		 * request on it is refused, not retried against a bad disk. */
		e->flags |= PXE_BROKEN;
		px_out_error(p, id, rc);
	}
	if (table_insert(p, e)) {
		entity_free(p, e);
		return -ENOMEM;
	}
	px_touch(p, e);
	*out = e;
	return (e->flags & PXE_BROKEN) ? -EIO : 0;
}

/* ---- deadlines and settling ------------------------------------------- */

uint64_t px_entity_deadline(const struct paxos *p, const struct px_entity *e)
{
	uint64_t d = PAXOS_NO_DEADLINE;
	if (e->prop)
		d = px_min(d, e->prop->deadline);
	if (e->queue)
		d = px_min(d, e->queue_deadline);
	if (e->fetch_at)
		d = px_min(d, e->fetch_at);
	if (e->snapshot_at)
		d = px_min(d, e->snapshot_at);
	if (e->orphan_at)
		d = px_min(d, e->orphan_at);
	for (const struct px_barrier *b = e->barriers; b; b = b->next) {
		d = px_min(d, b->started_ms + p->cfg.barrier_timeout_ms);
		if (!b->counted)
			d = px_min(d, b->resend_at);
		else if (b->stuck_since)
			d = px_min(d, b->stuck_since + p->cfg.retry_ms);
	}
	return d;
}

static bool evictable(const struct px_entity *e)
{
	return !e->prop && !e->queue && !e->barriers && !(e->flags & PXE_CATCHUP) && !e->fetch_at &&
	       !e->snapshot_at && !e->orphan_at && e->deadline == PAXOS_NO_DEADLINE;
}

void px_settle(struct paxos *p)
{
	/* Flushing may touch nothing new, but catch-up completion can pull
	 * more entities in: iterate by index over a growing array. */
	for (size_t i = 0; i < p->n_touched; i++) {
		struct px_entity *e = p->touched[i];
		px_fetch_maybe(p, e);
		if (e->flags & PXE_SLOTS_DIRTY) {
			for (struct px_slot *s = e->slots; s; s = s->next)
				if (s->dirty)
					px_out_record(p, e, s);
			e->flags &= (uint16_t)~PXE_SLOTS_DIRTY;
		}
		if (e->flags & PXE_META_DIRTY)
			px_out_meta(p, e);
	}
	for (size_t i = 0; i < p->n_touched; i++) {
		struct px_entity *e = p->touched[i];
		e->flags &= (uint16_t)~PXE_TOUCHED;
		e->chosen_stored = e->chosen;
		px_orphan_settle(p, e);
		px_heap_set(p, e, px_entity_deadline(p, e));
		if (evictable(e))
			idle_append(p, e);
	}
	p->n_touched = 0;
	while (p->idle_head && p->idle_head->last_used + p->cfg.idle_evict_ms <= p->now) {
		struct px_entity *e = p->idle_head;
		idle_remove(p, e);
		table_remove(p, e);
		entity_free(p, e);
	}
}

void px_table_free(struct paxos *p)
{
	for (size_t i = 0; i < p->table_cap; i++)
		if (p->table[i].e)
			entity_free(p, p->table[i].e);
	free(p->table);
	free(p->heap);
	free(p->touched);
	p->table = NULL;
	p->heap = NULL;
	p->touched = NULL;
}
