/* paxos/update.c — building the struct paxos_update a step returns.
 *
 * The arrays live in the engine and are reused from step to step (cleared,
 * never shrunk), so a steady stream of steps allocates nothing here. Every
 * value a record, message or chosen notice points into is referenced by the
 * update (refs[]) and released when the next step begins: that is what makes
 * "valid until the next paxos_step" true.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "paxos/internal.h"

#define GROW(p, arr, n, cap) paxos_grow((p), (void **)&(arr), &(cap), (n) + 1, sizeof(*(arr)))

static int keep_ref(struct paxos *p, struct paxos_value *v)
{
	if (!v)
		return 0;
	if (GROW(p, p->out.refs, p->out.n_refs, p->out.cap_refs))
		return -ENOMEM;
	p->out.refs[p->out.n_refs++] = paxos_value_ref(v);
	return 0;
}

void paxos_upd_reset(struct paxos *p)
{
	struct paxos_updbuf *o = &p->out;
	for (size_t i = 0; i < o->n_refs; i++)
		paxos_value_unref(o->refs[i]);
	for (size_t i = 0; i < o->n_items; i++)
		free(o->items[i]);
	o->n_refs = o->n_items = 0;
	o->n_records = o->n_metas = o->n_trims = 0;
	o->n_chosen = o->n_failed = o->n_barriers = o->n_snapshots = o->n_errors = 0;
	o->needs_sync = false;
	for (size_t i = 0; i < p->n_nodes; i++)
		o->boxes[i].n = o->eboxes[i].n = 0;
	o->n_notices = 0;
	memset(&o->upd, 0, sizeof(o->upd));
	o->upd.deadline_ms = PAXOS_NO_DEADLINE;
}

/* The non-empty boxes, as outboxes. */
static size_t collect(const struct paxos *p, const struct paxos_updbox *boxes,
		      struct paxos_outbox *out)
{
	size_t k = 0;
	for (size_t i = 0; i < p->n_nodes; i++) {
		if (!boxes[i].n)
			continue;
		out[k].to = p->nodes[i];
		out[k].msgs = boxes[i].msgs;
		out[k].n = boxes[i].n;
		k++;
	}
	return k;
}

void paxos_upd_finish(struct paxos *p)
{
	struct paxos_updbuf *o = &p->out;
	struct paxos_update *u = &o->upd;
	u->records = o->records;
	u->n_records = o->n_records;
	u->metas = o->metas;
	u->n_metas = o->n_metas;
	u->trims = o->trims;
	u->n_trims = o->n_trims;
	u->chosen = o->chosen;
	u->n_chosen = o->n_chosen;
	u->failed = o->failed;
	u->n_failed = o->n_failed;
	u->barriers = o->barriers;
	u->n_barriers = o->n_barriers;
	u->snapshots = o->snapshots;
	u->n_snapshots = o->n_snapshots;
	u->errors = o->errors;
	u->n_errors = o->n_errors;
	u->needs_sync = o->needs_sync;
	u->n_outboxes = collect(p, o->boxes, o->outboxes);
	u->outboxes = o->outboxes;
	u->n_early_outboxes = collect(p, o->eboxes, o->early_outboxes);
	u->early_outboxes = o->early_outboxes;
	u->notices = o->notices;
	u->n_notices = o->n_notices;
}

void paxos_upd_free(struct paxos *p)
{
	struct paxos_updbuf *o = &p->out;
	paxos_upd_reset(p);
	free(o->records);
	free(o->record_values);
	free(o->metas);
	free(o->trims);
	if (o->boxes)
		for (size_t i = 0; i < p->n_nodes; i++)
			free(o->boxes[i].msgs);
	if (o->eboxes)
		for (size_t i = 0; i < p->n_nodes; i++)
			free(o->eboxes[i].msgs);
	free(o->boxes);
	free(o->outboxes);
	free(o->eboxes);
	free(o->early_outboxes);
	free(o->notices);
	free(o->chosen);
	free(o->failed);
	free(o->barriers);
	free(o->snapshots);
	free(o->errors);
	free(o->refs);
	free(o->items);
	memset(o, 0, sizeof(*o));
}

int paxos_upd_record(struct paxos *p, struct paxos_entity *e, struct paxos_slot *s)
{
	struct paxos_updbuf *o = &p->out;
	if (GROW(p, o->records, o->n_records, o->cap_records) ||
	    GROW(p, o->record_values, o->n_records, o->cap_record_values) || keep_ref(p, s->value))
		return -ENOMEM;
	o->record_values[o->n_records] = s->value;
	struct paxos_out_record *r = &o->records[o->n_records++];
	r->entity = e->id;
	r->entry = s->entry;
	r->rec.promised = s->promised;
	r->rec.accepted = s->accepted;
	r->rec.value_id = s->value_id;
	r->rec.chosen = s->chosen;
	r->rec.value = s->value ? s->value->data : NULL;
	r->rec.value_len = s->value ? s->value->len : 0;
	r->value_stored = s->value && s->value_stored;
	r->sync = s->vote;
	o->needs_sync |= s->vote;
	s->dirty = false;
	s->vote = false;
	if (s->value)
		s->value_stored = true;
	/* A record without a meta would be invisible to list_entities (and so
	 * to scans and amnesia fences): persist the meta with the first one. */
	if (!(e->flags & PAXOS_ENT_META_ON_DISK))
		e->flags |= PAXOS_ENT_META_DIRTY;
	return 0;
}

const struct paxos_record *paxos_upd_find_chosen(struct paxos *p, uint64_t entity, uint64_t entry,
						 struct paxos_value **v)
{
	struct paxos_updbuf *o = &p->out;
	for (size_t i = o->n_records; i-- > 0;) {
		const struct paxos_out_record *r = &o->records[i];
		if (r->entity == entity && r->entry == entry && r->rec.chosen) {
			*v = o->record_values[i];
			return &r->rec;
		}
	}
	return NULL;
}

int paxos_upd_meta(struct paxos *p, struct paxos_entity *e)
{
	struct paxos_updbuf *o = &p->out;
	if (GROW(p, o->metas, o->n_metas, o->cap_metas))
		return -ENOMEM;
	struct paxos_out_meta *m = &o->metas[o->n_metas++];
	m->entity = e->id;
	m->meta.chosen_entry = e->chosen;
	m->meta.chosen_proposer = e->chosen_proposer;
	m->meta.trimmed_entry = e->trimmed;
	m->meta.trimmed_crc = e->trimmed_crc;
	m->meta.vote_after = e->vote_after;
	m->meta.born = e->born;
	m->sync = (e->flags & PAXOS_ENT_META_SYNC) != 0;
	o->needs_sync |= m->sync;
	e->flags &= (uint16_t) ~(PAXOS_ENT_META_DIRTY | PAXOS_ENT_META_SYNC);
	e->flags |= PAXOS_ENT_META_ON_DISK;
	return 0;
}

int paxos_upd_trim(struct paxos *p, uint64_t entity, uint64_t upto)
{
	struct paxos_updbuf *o = &p->out;
	if (GROW(p, o->trims, o->n_trims, o->cap_trims))
		return -ENOMEM;
	o->trims[o->n_trims].entity = entity;
	o->trims[o->n_trims].upto = upto;
	o->n_trims++;
	return 0;
}

static int box_push(struct paxos *p, struct paxos_updbox *b, size_t to_idx,
		    const struct paxos_msg *msg, struct paxos_value *v)
{
	if (to_idx == p->self_idx)
		return 0;
	if (GROW(p, b->msgs, b->n, b->cap) || keep_ref(p, v))
		return -ENOMEM;
	b->msgs[b->n] = *msg;
	if (p->amnesia) /* every message says whether its sender votes */
		b->msgs[b->n].flags |= PAXOS_MSG_F_NONVOTER;
	b->n++;
	return 0;
}

int paxos_send(struct paxos *p, size_t to_idx, const struct paxos_msg *msg, struct paxos_value *v)
{
	/* A CHOSEN is true whatever this node forgets in a crash: it needs no
	 * sync, and going early keeps it ahead of the next entry's ACCEPTs. */
	if (msg->type == PAXOS_MSG_CHOSEN)
		return paxos_send_early(p, to_idx, msg, v);
	return box_push(p, &p->out.boxes[to_idx], to_idx, msg, v);
}

int paxos_send_early(struct paxos *p, size_t to_idx, const struct paxos_msg *msg,
		     struct paxos_value *v)
{
	return box_push(p, &p->out.eboxes[to_idx], to_idx, msg, v);
}

int paxos_upd_notice(struct paxos *p, const struct paxos_msg *msg)
{
	struct paxos_updbuf *o = &p->out;
	if (GROW(p, o->notices, o->n_notices, o->cap_notices))
		return -ENOMEM;
	o->notices[o->n_notices++] = *msg;
	return 0;
}

int paxos_broadcast(struct paxos *p, const struct paxos_msg *msg, struct paxos_value *v)
{
	int rc = 0;
	for (size_t i = 0; i < p->n_nodes; i++)
		if (i != p->self_idx && paxos_send(p, i, msg, v))
			rc = -ENOMEM;
	return rc;
}

int paxos_upd_chosen(struct paxos *p, uint64_t entity, uint64_t entry, uint64_t value_id,
		     struct paxos_value *v)
{
	struct paxos_updbuf *o = &p->out;
	if (GROW(p, o->chosen, o->n_chosen, o->cap_chosen) || keep_ref(p, v))
		return -ENOMEM;
	struct paxos_chosen *c = &o->chosen[o->n_chosen++];
	c->entity = entity;
	c->entry = entry;
	c->value_id = value_id;
	c->value = v ? v->data : NULL;
	c->value_len = v ? v->len : 0;
	c->mine = paxos_id_mine(p, value_id);
	return 0;
}

int paxos_upd_failed(struct paxos *p, uint64_t entity, uint64_t cmd_id, int error)
{
	struct paxos_updbuf *o = &p->out;
	if (GROW(p, o->failed, o->n_failed, o->cap_failed))
		return -ENOMEM;
	o->failed[o->n_failed].cmd_id = cmd_id;
	o->failed[o->n_failed].entity = entity;
	o->failed[o->n_failed].error = error;
	o->n_failed++;
	return 0;
}

int paxos_upd_barrier(struct paxos *p, uint64_t entity, uint64_t req_id, int result, uint64_t entry)
{
	struct paxos_updbuf *o = &p->out;
	if (GROW(p, o->barriers, o->n_barriers, o->cap_barriers))
		return -ENOMEM;
	struct paxos_barrier_done *b = &o->barriers[o->n_barriers++];
	b->req_id = req_id;
	b->entity = entity;
	b->result = result;
	b->entry = entry;
	return 0;
}

int paxos_upd_snapshot(struct paxos *p, uint64_t entity, uint32_t from, uint64_t entry)
{
	struct paxos_updbuf *o = &p->out;
	if (GROW(p, o->snapshots, o->n_snapshots, o->cap_snapshots))
		return -ENOMEM;
	o->snapshots[o->n_snapshots].entity = entity;
	o->snapshots[o->n_snapshots].from = from;
	o->snapshots[o->n_snapshots].entry = entry;
	o->n_snapshots++;
	return 0;
}

int paxos_upd_error(struct paxos *p, uint64_t entity, int error)
{
	struct paxos_updbuf *o = &p->out;
	if (GROW(p, o->errors, o->n_errors, o->cap_errors))
		return -ENOMEM;
	o->errors[o->n_errors].entity = entity;
	o->errors[o->n_errors].error = error;
	o->n_errors++;
	return 0;
}

int paxos_upd_keep_items(struct paxos *p, uint64_t *items)
{
	struct paxos_updbuf *o = &p->out;
	if (GROW(p, o->items, o->n_items, o->cap_items)) {
		free(items);
		return -ENOMEM;
	}
	o->items[o->n_items++] = items;
	return 0;
}
