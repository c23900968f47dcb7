/* paxos/barrier.c — the read barrier (PaxosStore's leaseless read).
 *
 * "Make sure this node holds every entry of entity E chosen before now":
 * ask every node for the highest entry it knows of (its chosen entry, and
 * the highest entry where it accepted a value). A value chosen before the
 * barrier began was accepted by a majority, and any majority of answers
 * includes one of those acceptors, so the highest entry in a majority of
 * answers (target) bounds every entry chosen before now. The barrier
 * completes once the local chosen entry reaches target.
 *
 * Entries below target are chosen (an entry is only proposed once the one
 * before it is chosen), so catching up gets them. The target entry itself
 * may be accepted but undecided (its proposer died): after retry_ms without
 * progress, this node proposes at it (phase 1 finds the value if it may have
 * been chosen, otherwise a no-op closes the entry).
 *
 * Amnesic nodes answer with NONVOTER and are not counted (they may have
 * forgotten acceptances); an amnesic requester does not count itself.
 */
#include <errno.h>
#include <stdlib.h>

#include "paxos/internal.h"

static uint64_t bit(size_t idx)
{
	return 1ull << idx;
}

/* The highest entry this node knows anything was accepted at (its fence
 * included: below it, it may have forgotten acceptances). */
static uint64_t self_top(const struct paxos_entity *e)
{
	uint64_t top = paxos_slots_top_accepted(e);
	if (e->vote_after > e->chosen)
		top = paxos_max(top, e->vote_after);
	return top;
}

static void barrier_send(struct paxos *p, struct paxos_entity *e, struct paxos_barrier *b)
{
	struct paxos_msg m = paxos_msg_for(PAXOS_MSG_BARRIER, e, 0);
	m.nonce = b->nonce;
	for (size_t i = 0; i < p->n_nodes; i++)
		if (i != p->self_idx && !(b->acks & bit(i)))
			paxos_send(p, i, &m, NULL);
	b->resend_at = p->now + p->cfg.retry_ms;
}

static void counted_maybe(struct paxos *p, struct paxos_entity *e, struct paxos_barrier *b)
{
	if (!b->counted && (size_t)paxos_popcount(b->acks) >= p->majority) {
		b->counted = true;
		b->stuck_since = p->now;
		b->seen_chosen = e->chosen;
	}
}

int paxos_barrier_start(struct paxos *p, uint64_t entity, uint64_t req_id)
{
	if (!entity)
		return -EINVAL;
	struct paxos_entity *e;
	int rc = paxos_entity_get(p, entity, &e);
	if (rc == -ENOMEM)
		return rc;
	if (rc)
		return paxos_upd_barrier(p, entity, req_id, -EIO, 0);
	struct paxos_barrier *b = paxos_calloc(p, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->req_id = req_id;
	/* An id, not a per-engine count: an engine rebuilt inside the process
	 * (a failed store write) keeps the connections, and answers meant for
	 * the old engine's barriers may still arrive. */
	b->nonce = paxos_new_id(p);
	if (!b->nonce) {
		/* The id rate bound (paxos.h, "Ids never repeat"): not now. */
		free(b);
		return paxos_upd_barrier(p, entity, req_id, -EAGAIN, 0);
	}
	b->started_ms = p->now;
	if (!p->amnesia) {
		b->acks = bit(p->self_idx);
		b->target = paxos_max(e->chosen, self_top(e));
	}
	b->next = e->barriers;
	e->barriers = b;
	barrier_send(p, e, b);
	counted_maybe(p, e, b);
	return paxos_barrier_check(p, e);
}

int paxos_on_barrier(struct paxos *p, struct paxos_entity *e, size_t from,
		     const struct paxos_msg *m)
{
	struct paxos_msg r = paxos_msg_for(PAXOS_MSG_BARRIER_ACK, e, 0);
	r.nonce = m->nonce;
	r.top = self_top(e);
	return paxos_send(p, from, &r, NULL); /* NONVOTER when amnesic (paxos_send) */
}

int paxos_on_barrier_ack(struct paxos *p, struct paxos_entity *e, size_t from,
			 const struct paxos_msg *m)
{
	if (m->flags & PAXOS_MSG_F_NONVOTER)
		return 0;
	for (struct paxos_barrier *b = e->barriers; b; b = b->next) {
		if (b->nonce != m->nonce)
			continue;
		if (b->acks & bit(from))
			return 0;
		b->acks |= bit(from);
		b->target = paxos_max(b->target, paxos_max(m->chosen, m->top));
		counted_maybe(p, e, b);
		return paxos_barrier_check(p, e);
	}
	return 0;
}

int paxos_barrier_check(struct paxos *p, struct paxos_entity *e)
{
	struct paxos_barrier **pp = &e->barriers;
	bool want_close = false;
	while (*pp) {
		struct paxos_barrier *b = *pp;
		int result = 1;
		if (!p->amnesia && !(b->acks & bit(p->self_idx))) {
			/* Begun while amnesic: this node votes now, so it counts
			 * (else, with a peer down, a majority may never answer). */
			b->acks |= bit(p->self_idx);
			b->target = paxos_max(b->target, paxos_max(e->chosen, self_top(e)));
			counted_maybe(p, e, b);
		}
		if (b->counted && e->chosen >= b->target)
			result = 0;
		else if (p->now >= b->started_ms + p->cfg.barrier_timeout_ms)
			result = -ETIMEDOUT;
		if (result <= 0) {
			paxos_upd_barrier(p, e->id, b->req_id, result, result ? 0 : e->chosen);
			*pp = b->next;
			free(b);
			continue;
		}
		if (!b->counted) {
			if (p->now >= b->resend_at)
				barrier_send(p, e, b);
		} else if (e->chosen > b->seen_chosen) {
			b->seen_chosen = e->chosen;
			b->stuck_since = p->now;
		} else if (p->now >= b->stuck_since + p->cfg.retry_ms) {
			/* Nothing moved for a while: finish the entry ourselves. */
			b->stuck_since = p->now;
			want_close = true;
		}
		pp = &b->next;
	}
	if (want_close && !e->prop && e->behind_to <= e->chosen)
		return paxos_propose_maybe(p, e, true); /* (behind: the fetch timer closes) */
	return 0;
}

void paxos_barrier_free_all(struct paxos *p, struct paxos_entity *e)
{
	(void)p;
	while (e->barriers) {
		struct paxos_barrier *b = e->barriers;
		e->barriers = b->next;
		free(b);
	}
}
