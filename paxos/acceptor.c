/* paxos/acceptor.c — the acceptor: PREPARE and ACCEPT, answered from the
 * open entries' records (slots).
 *
 * "An acceptor can accept a proposal numbered n iff it has not responded to
 * a prepare request having a number greater than n" (Lamport, Paxos Made
 * Simple, P1a). Every answer is built after the slot is changed and marked
 * as a vote; the step persists the slot with sync before the answer leaves,
 * so a promise or an acceptance is never sent without being durable.
 *
 * Equal ballots are answered again, the same way (PREPARE b twice gives the
 * same PROMISE; ACCEPT b, v twice the same ACCEPTED): every message stays
 * idempotent and a lost answer costs one resend, not a new round. Except a
 * STRICT PREPARE: its proposer lost its disk and may be reusing, without
 * knowing it, a ballot it already used before (and got a value accepted at);
 * an equal ballot is then refused, so that every ballot keeps one value.
 *
 * An entry this node knows chosen is answered with CHOSEN and its value,
 * whatever was asked; a trimmed one with TRIMMED. A node that may not vote
 * (amnesia, or at or below its fence) answers nothing: the proposer counts
 * on the others.
 */
#include <errno.h>
#include <stdlib.h>

#include "paxos/internal.h"

bool paxos_may_vote(const struct paxos *p, const struct paxos_entity *e, uint64_t entry)
{
	return !p->amnesia && entry > e->vote_after;
}

int paxos_send_chosen_entry(struct paxos *p, struct paxos_entity *e, size_t to, uint64_t entry)
{
	struct paxos_msg m;
	if (entry <= e->trimmed) {
		m = paxos_msg_for(PAXOS_MSG_TRIMMED, e, e->trimmed);
		return paxos_send(p, to, &m, NULL);
	}
	if (entry > e->chosen_stored) {
		/* Chosen during this step: storage does not have it yet. */
		struct paxos_value *cv;
		const struct paxos_record *cr = paxos_upd_find_chosen(p, e->id, entry, &cv);
		if (!cr)
			return 0; /* cannot happen: chosen entries are flushed when freed */
		m = paxos_msg_for(PAXOS_MSG_CHOSEN, e, entry);
		m.ballot = cr->accepted;
		m.value_id = cr->value_id;
		paxos_msg_set_value(&m, cv);
		return paxos_send(p, to, &m, cv);
	}
	struct paxos_record rec = {0};
	int rc = p->cfg.ops->load_record(p->cfg.ops_ctx, e->id, entry, &rec);
	if (rc || !rec.chosen) {
		/* The meta says chosen but the record is missing or not marked:
		 * the store lost something. Say so; never answer from nothing. */
		free(rec.value);
		paxos_upd_error(p, e->id, rc ? rc : -EBADMSG);
		return rc == -ENOMEM ? rc : 0;
	}
	struct paxos_value *v = paxos_value_new(p, rec.value, rec.value_len);
	free(rec.value);
	if (!v)
		return -ENOMEM;
	m = paxos_msg_for(PAXOS_MSG_CHOSEN, e, entry);
	m.ballot = rec.accepted;
	m.value_id = rec.value_id;
	paxos_msg_set_value(&m, v);
	rc = paxos_send(p, to, &m, v);
	paxos_value_unref(v);
	return rc;
}

static int send_slot_chosen(struct paxos *p, struct paxos_entity *e, size_t to,
			    struct paxos_slot *s)
{
	struct paxos_msg m = paxos_msg_for(PAXOS_MSG_CHOSEN, e, s->entry);
	m.ballot = s->accepted;
	m.value_id = s->value_id;
	paxos_msg_set_value(&m, s->value);
	return paxos_send(p, to, &m, s->value);
}

static int send_reject(struct paxos *p, struct paxos_entity *e, size_t to,
		       const struct paxos_msg *in, uint64_t promised)
{
	struct paxos_msg m = paxos_msg_for(PAXOS_MSG_REJECT, e, in->entry);
	m.ballot = in->ballot;
	m.promised = promised;
	return paxos_send(p, to, &m, NULL);
}

/* What PREPARE and ACCEPT share: the slot of `in->entry` to vote in (*out),
 * or the answer given instead — the entry's chosen value, or nothing (this
 * node may not vote there). Returns 1 with *out set, else what was sent. */
static int voting_slot(struct paxos *p, struct paxos_entity *e, size_t from,
		       const struct paxos_msg *in, struct paxos_slot **out)
{
	e->orphan_at = 0; /* someone is working on this entity: not orphaned */
	if (in->entry <= e->chosen)
		return paxos_send_chosen_entry(p, e, from, in->entry);
	if (!paxos_may_vote(p, e, in->entry))
		return 0;
	struct paxos_slot *s = paxos_slot_get(p, e, in->entry);
	if (!s)
		return -ENOMEM;
	if (s->chosen)
		return send_slot_chosen(p, e, from, s);
	*out = s;
	return 1;
}

int paxos_on_prepare(struct paxos *p, struct paxos_entity *e, size_t from,
		     const struct paxos_msg *in)
{
	struct paxos_slot *s = NULL;
	int rc = voting_slot(p, e, from, in, &s);
	if (rc != 1)
		return rc;
	if (in->ballot < s->promised ||
	    (in->ballot == s->promised && (in->flags & PAXOS_MSG_F_STRICT)))
		return send_reject(p, e, from, in, s->promised);
	if (in->ballot > s->promised) {
		s->promised = in->ballot;
		paxos_slot_vote(e, s);
	}
	struct paxos_msg m = paxos_msg_for(PAXOS_MSG_PROMISE, e, in->entry);
	m.ballot = in->ballot;
	m.promised = s->promised;
	if (s->accepted) {
		m.accepted = s->accepted;
		m.value_id = s->value_id;
		paxos_msg_set_value(&m, s->value);
	}
	return paxos_send(p, from, &m, s->accepted ? s->value : NULL);
}

int paxos_on_accept(struct paxos *p, struct paxos_entity *e, size_t from,
		    const struct paxos_msg *in)
{
	struct paxos_slot *s = NULL;
	int rc = voting_slot(p, e, from, in, &s);
	if (rc != 1)
		return rc;
	if (in->ballot < s->promised)
		return send_reject(p, e, from, in, s->promised);
	if (s->accepted != in->ballot || s->value_id != in->value_id) {
		struct paxos_value *v = paxos_value_new(p, in->value, in->value_len);
		if (!v)
			return -ENOMEM;
		paxos_value_unref(s->value);
		s->value = v;
		s->value_stored = false;
		s->value_id = in->value_id;
		s->accepted = in->ballot;
		paxos_slot_vote(e, s);
	}
	if (s->promised != in->ballot) {
		s->promised = in->ballot;
		paxos_slot_vote(e, s);
	}
	struct paxos_msg m = paxos_msg_for(PAXOS_MSG_ACCEPTED, e, in->entry);
	m.ballot = in->ballot;
	m.value_id = in->value_id;
	rc = paxos_send(p, from, &m, NULL);
	if (rc || !s->chosen_vid || s->chosen_vid != s->value_id)
		return rc;
	/* The value announced chosen here earlier, without its bytes: now we
	 * hold them (a value id names one value). Learning may free s. */
	return paxos_learn(p, e, in->entry, s->chosen_ballot, s->value_id, NULL, from);
}
