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
	struct paxos_bucket *nt = paxos_calloc(p, ncap * sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < p->table_cap; i++) {
		struct paxos_entity *e = p->table[i].e;
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

static struct paxos_entity *table_lookup(const struct paxos *p, uint64_t id)
{
	if (!p->table_cap)
		return NULL;
	size_t h = hash_id(id, p->table_cap);
	for (;;) {
		const struct paxos_bucket *b = &p->table[h];
		if (!b->e)
			return NULL;
		if (b->id == id)
			return b->e;
		h = (h + 1) & (p->table_cap - 1);
	}
}

static int table_insert(struct paxos *p, struct paxos_entity *e)
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

static void table_remove(struct paxos *p, struct paxos_entity *e)
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
		struct paxos_bucket x = p->table[j];
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

static void idle_remove(struct paxos *p, struct paxos_entity *e)
{
	if (!(e->flags & PAXOS_ENT_IDLE))
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
	e->flags &= (uint16_t)~PAXOS_ENT_IDLE;
	p->n_idle--;
}

static void idle_append(struct paxos *p, struct paxos_entity *e)
{
	e->lru_next = NULL;
	e->lru_prev = p->idle_tail;
	if (p->idle_tail)
		p->idle_tail->lru_next = e;
	else
		p->idle_head = e;
	p->idle_tail = e;
	e->flags |= PAXOS_ENT_IDLE;
	p->n_idle++;
}

/* ---- slots ------------------------------------------------------------- */

struct paxos_slot *paxos_slot_find(struct paxos_entity *e, uint64_t entry)
{
	for (struct paxos_slot *s = e->slots; s && s->entry <= entry; s = s->next)
		if (s->entry == entry)
			return s;
	return NULL;
}

struct paxos_slot *paxos_slot_get(struct paxos *p, struct paxos_entity *e, uint64_t entry)
{
	struct paxos_slot **pp = &e->slots;
	while (*pp && (*pp)->entry < entry)
		pp = &(*pp)->next;
	if (*pp && (*pp)->entry == entry)
		return *pp;
	struct paxos_slot *s = paxos_calloc(p, sizeof(*s));
	if (!s)
		return NULL;
	s->entry = entry;
	s->next = *pp;
	*pp = s;
	return s;
}

static void slot_free(struct paxos_slot *s)
{
	paxos_value_unref(s->value);
	free(s);
}

void paxos_slots_drop_upto(struct paxos *p, struct paxos_entity *e, uint64_t upto)
{
	while (e->slots && e->slots->entry <= upto) {
		struct paxos_slot *s = e->slots;
		if (s->dirty)
			paxos_upd_record(p, e, s);
		e->slots = s->next;
		slot_free(s);
	}
}

uint64_t paxos_slots_top_accepted(const struct paxos_entity *e)
{
	uint64_t top = 0;
	for (const struct paxos_slot *s = e->slots; s; s = s->next)
		if (s->accepted || s->chosen)
			top = s->entry;
	return top;
}

uint64_t paxos_slots_top(const struct paxos_entity *e)
{
	uint64_t top = e->chosen;
	for (const struct paxos_slot *s = e->slots; s; s = s->next)
		if (s->entry > top && (s->promised || s->accepted || s->chosen))
			top = s->entry;
	return top;
}

/* ---- loading --------------------------------------------------------------- */

struct load_ctx {
	struct paxos *p;
	struct paxos_entity *e;
};

static int load_slot_cb(void *arg, uint64_t entry, const struct paxos_record *rec)
{
	struct load_ctx *c = arg;
	if (entry <= c->e->chosen)
		return 0;
	struct paxos_slot *s = paxos_slot_get(c->p, c->e, entry);
	if (!s)
		return -ENOMEM;
	s->promised = rec->promised;
	s->accepted = rec->accepted;
	s->value_id = rec->value_id;
	s->chosen = rec->chosen;
	if (rec->accepted || rec->chosen) {
		s->value = paxos_value_new(c->p, rec->value, rec->value_len);
		if (!s->value)
			return -ENOMEM;
		s->value_stored = true;
	}
	return 0;
}

static void entity_free(struct paxos *p, struct paxos_entity *e)
{
	paxos_proposer_free(p, e);
	paxos_queue_free(p, e);
	paxos_forward_free(p, e);
	paxos_barrier_free_all(p, e);
	while (e->slots) {
		struct paxos_slot *s = e->slots;
		e->slots = s->next;
		slot_free(s);
	}
	free(e);
}

static int entity_load(struct paxos *p, struct paxos_entity *e)
{
	struct paxos_meta m;
	memset(&m, 0, sizeof(m));
	int rc = p->cfg.ops->load_meta(p->cfg.ops_ctx, e->id, &m);
	if (rc == -ENOENT) {
		memset(&m, 0, sizeof(m));
	} else if (rc) {
		return rc;
	} else {
		e->flags |= PAXOS_ENT_META_ON_DISK;
	}
	e->chosen = m.chosen_entry;
	e->chosen_stored = m.chosen_entry;
	e->chosen_proposer = m.chosen_proposer;
	e->trimmed = m.trimmed_entry;
	e->trimmed_crc = m.trimmed_crc;
	e->vote_after = m.vote_after;
	e->born = m.born;
	e->applied = m.trimmed_entry;
	struct load_ctx c = {p, e};
	rc = p->cfg.ops->scan_records(p->cfg.ops_ctx, e->id, e->chosen + 1, load_slot_cb, &c);
	if (rc) {
		while (e->slots) {
			struct paxos_slot *s = e->slots;
			e->slots = s->next;
			slot_free(s);
		}
	}
	return rc;
}

void paxos_touch(struct paxos *p, struct paxos_entity *e)
{
	e->last_used = p->now;
	idle_remove(p, e);
	if (e->flags & PAXOS_ENT_TOUCHED)
		return;
	if (paxos_grow(p, (void **)&p->touched, &p->cap_touched, p->n_touched + 1,
		       sizeof(*p->touched))) {
		/* Cannot track it: leave it out of the idle list, settle later. */
		return;
	}
	p->touched[p->n_touched++] = e;
	e->flags |= PAXOS_ENT_TOUCHED;
}

struct paxos_entity *paxos_entity_peek(const struct paxos *p, uint64_t id)
{
	return table_lookup(p, id);
}

int paxos_entity_get(struct paxos *p, uint64_t id, struct paxos_entity **out)
{
	struct paxos_entity *e = table_lookup(p, id);
	if (e) {
		paxos_touch(p, e);
		*out = e;
		return (e->flags & PAXOS_ENT_BROKEN) ? -EIO : 0;
	}
	e = paxos_calloc(p, sizeof(*e));
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
		e->flags |= PAXOS_ENT_BROKEN;
		paxos_upd_error(p, id, rc);
	}
	if (table_insert(p, e)) {
		entity_free(p, e);
		return -ENOMEM;
	}
	paxos_touch(p, e);
	*out = e;
	return (e->flags & PAXOS_ENT_BROKEN) ? -EIO : 0;
}

/* ---- deadlines and settling ------------------------------------------- */

uint64_t paxos_entity_deadline(const struct paxos *p, const struct paxos_entity *e)
{
	uint64_t d = PAXOS_NO_DEADLINE;
	if (e->prop)
		d = paxos_min(d, e->prop->deadline);
	if (e->queue)
		d = paxos_min(d, e->queue_deadline);
	if (e->fwd)
		d = paxos_min(d, paxos_forward_deadline(p, e));
	if (e->fetch_at)
		d = paxos_min(d, e->fetch_at);
	if (e->snapshot_at)
		d = paxos_min(d, e->snapshot_at);
	if (e->orphan_at)
		d = paxos_min(d, e->orphan_at);
	for (const struct paxos_barrier *b = e->barriers; b; b = b->next) {
		d = paxos_min(d, b->started_ms + p->cfg.barrier_timeout_ms);
		if (!b->counted)
			d = paxos_min(d, b->resend_at);
		else if (b->stuck_since)
			d = paxos_min(d, b->stuck_since + p->cfg.retry_ms);
	}
	return d;
}

static bool evictable(const struct paxos_entity *e)
{
	return !e->prop && !e->queue && !e->fwd && !e->barriers &&
	       !(e->flags & PAXOS_ENT_CATCHUP) && !e->fetch_at && !e->snapshot_at &&
	       !e->orphan_at && e->deadline == PAXOS_NO_DEADLINE;
}

void paxos_settle(struct paxos *p)
{
	/* Flushing may touch nothing new, but catch-up completion can pull
	 * more entities in: iterate by index over a growing array. */
	for (size_t i = 0; i < p->n_touched; i++) {
		struct paxos_entity *e = p->touched[i];
		paxos_fetch_maybe(p, e);
		if (e->flags & PAXOS_ENT_SLOTS_DIRTY) {
			for (struct paxos_slot *s = e->slots; s; s = s->next)
				if (s->dirty)
					paxos_upd_record(p, e, s);
			e->flags &= (uint16_t)~PAXOS_ENT_SLOTS_DIRTY;
		}
		if (e->flags & PAXOS_ENT_META_DIRTY)
			paxos_upd_meta(p, e);
	}
	for (size_t i = 0; i < p->n_touched; i++) {
		struct paxos_entity *e = p->touched[i];
		e->flags &= (uint16_t)~PAXOS_ENT_TOUCHED;
		e->chosen_stored = e->chosen;
		paxos_orphan_settle(p, e);
		paxos_heap_set(p, e, paxos_entity_deadline(p, e));
		if (evictable(e))
			idle_append(p, e);
	}
	p->n_touched = 0;
	while (p->idle_head && p->idle_head->last_used + p->cfg.idle_evict_ms <= p->now) {
		struct paxos_entity *e = p->idle_head;
		idle_remove(p, e);
		table_remove(p, e);
		entity_free(p, e);
	}
}

void paxos_table_free(struct paxos *p)
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
