/* paxos/learner.c — learning chosen entries, catching up, trimming, snapshots.
 *
 *    chosen                 open slots (some may be known chosen already)
 *   ───────┤ e+1 ├ e+2 ├ e+3 …
 *           ▲ delivered as soon as it is chosen and all below are
 *
 * Invariants:
 * - entries are delivered (update->chosen) exactly once per engine lifetime
 *   and in entry order; `chosen` only moves up, by delivery or by an
 *   installed snapshot; nothing is delivered while a snapshot is asked for;
 * - a chosen entry's record is persisted with chosen = true in the same
 *   update that moves the meta's chosen_entry over it;
 * - a node that learns it is behind (a peer's msg.chosen, a CHOSEN it has
 *   no value for) keeps one FETCH in flight for the entity, a range at a
 *   time, until it has caught up; a peer that trimmed what is asked answers
 *   TRIMMED, and the caller is asked for a snapshot instead; when no peer
 *   can serve the next entry (those that knew it chosen lost their disks),
 *   the node proposes at it: phase 1 recovers a chosen value;
 * - an entry above chosen that holds an accepted value may have been chosen
 *   with nobody knowing (its proposer died after a majority accepted): when
 *   such an entry sits idle with no proposer here for proposal_timeout (plus
 *   jitter, so that usually one node does it), this node proposes at it;
 *   phase 1 finds the value and finishes it, so every node eventually learns
 *   every chosen entry without waiting for the next write;
 * - trimming removes only applied entries, and keeps at least `retention`
 *   of them: the log is trimmed to a checkpoint (entry, chained crc) that
 *   the file system reported applied `retention` entries earlier.
 */
#include <errno.h>
#include <stdlib.h>

#include "paxos/internal.h"

/* After a FETCH_WAIT, the FETCH is asked again (of the same peer) after this
 * many retry_ms: the peer answers it before then as its rate allows. */
#define FETCH_WAIT_FACTOR 4

/* Delivers every entry that became contiguous with `chosen`. */
static void advance(struct paxos *p, struct paxos_entity *e)
{
	uint64_t before = e->chosen;
	/* While a snapshot is asked for, the file system may install it at
	 * any moment: deliver nothing it could receive after the snapshot
	 * (learning goes on into the slots; delivery resumes past it). */
	if (e->snapshot_at)
		return;
	while (e->slots && e->slots->entry == e->chosen + 1 && e->slots->chosen) {
		struct paxos_slot *s = e->slots;
		e->chosen = s->entry;
		e->chosen_proposer = paxos_id_node(s->value_id);
		e->chosen_mine = paxos_id_mine(p, s->value_id);
		paxos_meta_dirty(e);
		paxos_upd_chosen(p, e->id, s->entry, s->value_id, s->value);
		paxos_proposer_resolved(p, e, s->entry, s->value_id);
		paxos_forward_chosen(p, e, s->value);
		paxos_slots_drop_upto(p, e, s->entry);
	}
	if (e->chosen == before)
		return;
	e->fetch_stalls = 0;
	if (e->behind_to <= e->chosen) {
		e->behind_to = 0;
		e->fetch_at = 0;
		e->fetch_tries = 0;
		paxos_catchup_check_done(p, e);
	} else if (e->fetch_at && e->chosen >= e->fetch_to) {
		/* The range asked for has arrived: ask for the next one now. */
		e->fetch_at = 0;
	}
	paxos_forward_settle(p, e);
	paxos_propose_maybe(p, e, false);
	paxos_forward_drive(p, e); /* on to the next entry a forward waits for */
	paxos_barrier_check(p, e);
}

int paxos_learn(struct paxos *p, struct paxos_entity *e, uint64_t entry, uint64_t ballot,
		uint64_t value_id, struct paxos_value *v, size_t from)
{
	if (entry <= e->chosen)
		return 0;
	struct paxos_slot *s = paxos_slot_get(p, e, entry);
	if (!s)
		return -ENOMEM;
	if (s->chosen) {
		advance(p, e);
		return 0;
	}
	if (!v) {
		/* An announcement without the value: we hold it if we accepted
		 * it (value ids name one value each) or proposed it. */
		if (s->value && s->value_id == value_id)
			v = s->value;
		else if (e->prop && e->prop->entry == entry && e->prop->value &&
			 e->prop->value_id == value_id)
			v = e->prop->value;
		else {
			/* Fetch it; or take it from the first ACCEPT of it to
			 * arrive (acceptor.c), whichever comes first. */
			s->chosen_vid = value_id;
			s->chosen_ballot = ballot;
			return paxos_note_peer_chosen(p, e, from, entry);
		}
	}
	if (s->value != v) {
		paxos_value_unref(s->value);
		s->value = paxos_value_ref(v);
		s->value_stored = false;
	}
	if (s->value_id != value_id) {
		s->value_id = value_id;
		s->value_stored = false;
	}
	s->chosen = true;
	/* By P2c every acceptance above the chosen ballot is of this value, so
	 * raising the accepted ballot keeps the record truthful and monotone. */
	s->accepted = paxos_max(s->accepted, ballot);
	s->promised = paxos_max(s->promised, s->accepted);
	paxos_slot_dirty(e, s);
	advance(p, e);
	return 0;
}

int paxos_on_chosen(struct paxos *p, struct paxos_entity *e, size_t from, const struct paxos_msg *m)
{
	struct paxos_value *v = NULL;
	if (m->has_value) {
		v = paxos_value_new(p, m->value, m->value_len);
		if (!v)
			return -ENOMEM;
	}
	int rc = paxos_learn(p, e, m->entry, m->ballot, m->value_id, v, from);
	paxos_value_unref(v);
	return rc;
}

/* ---- orphaned entries --------------------------------------------------- */

void paxos_orphan_settle(struct paxos *p, struct paxos_entity *e)
{
	const struct paxos_slot *s = e->slots;
	bool orphan = !e->prop && s && s->entry == e->chosen + 1 && s->accepted && !s->chosen &&
		      !e->snapshot_at && e->behind_to <= e->chosen &&
		      !(e->flags & PAXOS_ENT_BROKEN);
	if (!orphan)
		e->orphan_at = 0;
	else if (!e->orphan_at)
		e->orphan_at = p->now + p->cfg.proposal_timeout_ms +
			       util_prng_below(&p->prng, p->cfg.proposal_timeout_ms + 1);
}

int paxos_orphan_timer(struct paxos *p, struct paxos_entity *e)
{
	if (!e->orphan_at || e->orphan_at > p->now)
		return 0;
	e->orphan_at = 0;
	return paxos_propose_maybe(p, e, true);
}

/* ---- catch-up -------------------------------------------------------------- */

int paxos_note_peer_chosen(struct paxos *p, struct paxos_entity *e, size_t from, uint64_t chosen)
{
	if (chosen <= e->chosen || from == p->self_idx)
		return 0;
	if (chosen > e->behind_to) {
		e->behind_to = chosen;
		e->behind_peer = (uint32_t)from;
	}
	/* The FETCH itself goes out when the step settles (paxos_fetch_maybe):
	 * the rest of this batch may well bring what is missing. */
	return 0;
}

static int send_fetch(struct paxos *p, struct paxos_entity *e)
{
	uint64_t from = e->chosen + 1;
	uint64_t to = paxos_min(e->behind_to, e->chosen + p->cfg.fetch_max_entries);
	struct paxos_msg m = paxos_msg_for(PAXOS_MSG_FETCH, e, from);
	m.entry_to = to;
	e->fetch_to = to;
	e->fetch_at = p->now + p->cfg.retry_ms;
	e->fetch_tries++;
	return paxos_send(p, e->behind_peer, &m, NULL);
}

int paxos_fetch_maybe(struct paxos *p, struct paxos_entity *e)
{
	if (e->behind_to <= e->chosen || e->fetch_at || e->snapshot_at ||
	    (e->flags & PAXOS_ENT_BROKEN))
		return 0;
	return send_fetch(p, e);
}

int paxos_fetch_timer(struct paxos *p, struct paxos_entity *e)
{
	if (e->snapshot_at && e->snapshot_at <= p->now) {
		/* The caller did not answer the snapshot request: ask again. */
		e->snapshot_at = p->now + p->cfg.proposal_timeout_ms;
		return paxos_upd_snapshot(p, e->id, p->nodes[e->behind_peer], e->behind_to);
	}
	if (!e->fetch_at || e->fetch_at > p->now)
		return 0;
	e->fetch_at = 0;
	if (e->behind_to <= e->chosen) {
		e->behind_to = 0;
		paxos_catchup_check_done(p, e);
		return 0;
	}
	/* Nobody could serve chosen + 1 although it is chosen (whoever knew
	 * may have lost its disk since). Phase 1 at that entry finds the chosen
	 * value (any majority holds it): propose there. */
	if (++e->fetch_stalls >= 2 * (p->n_nodes - 1) && !e->prop)
		paxos_propose_maybe(p, e, true);
	/* No answer: try the next peer (the one asked may be down; any node
	 * that has chosen the entries can serve them). */
	if (e->fetch_tries >= 2) {
		size_t next = e->behind_peer;
		for (size_t i = 0; i < p->n_nodes; i++) {
			next = (next + 1) % p->n_nodes;
			if (next != p->self_idx)
				break;
		}
		e->behind_peer = (uint32_t)next;
		e->fetch_tries = 0;
	}
	return send_fetch(p, e);
}

int paxos_on_fetch(struct paxos *p, struct paxos_entity *e, size_t from, const struct paxos_msg *m)
{
	if (m->entry <= e->trimmed) {
		struct paxos_msg t = paxos_msg_for(PAXOS_MSG_TRIMMED, e, e->trimmed);
		return paxos_send(p, from, &t, NULL);
	}
	uint64_t to = paxos_min(m->entry_to, e->chosen);
	to = paxos_min(to, m->entry + p->cfg.fetch_max_entries - 1);
	/* Answers are CHOSEN (or TRIMMED) messages: early ones (paxos_send). */
	const struct paxos_updbox *box = &p->out.eboxes[from];
	size_t before = box->n;
	for (uint64_t entry = m->entry; entry <= to; entry++) {
		int rc = paxos_send_chosen_entry(p, e, from, entry);
		if (rc)
			return rc;
		/* Bound the answer's size (at least one entry always goes). */
		size_t bytes = 0;
		for (size_t i = before; i < box->n; i++)
			bytes += box->msgs[i].value_len;
		if (bytes >= p->cfg.fetch_max_bytes)
			break;
	}
	return 0;
}

void paxos_on_fetch_wait(struct paxos *p, struct paxos_entity *e, size_t from,
			 const struct paxos_msg *m)
{
	/* Only for the FETCH in flight, to the peer it went to: that peer has
	 * the entries and will answer, so this is no stall. Waiting keeps the
	 * rate the peer chose; proposing at the entry instead would preempt
	 * whoever writes the entity now, and every peer would answer our
	 * PREPARE with the value, outside that rate. */
	if (!e->fetch_at || from != e->behind_peer || m->entry != e->chosen + 1)
		return;
	e->fetch_at = p->now + FETCH_WAIT_FACTOR * (uint64_t)p->cfg.retry_ms;
	e->fetch_tries = 0;
	e->fetch_stalls = 0;
}

int paxos_on_trimmed(struct paxos *p, struct paxos_entity *e, size_t from,
		     const struct paxos_msg *m)
{
	if (e->snapshot_at)
		return 0;
	if (m->entry <= e->chosen) {
		/* That peer trimmed only what we have by now (a FETCH crossed
		 * our progress): what we miss is still in its log. Ask again at
		 * once, before it trims that too, rather than at the retry. */
		if (e->fetch_at && e->behind_peer == from)
			e->fetch_at = 0;
		return 0;
	}
	/* What we miss is gone from that peer's log: its file system will
	 * send the entity's state instead. */
	e->fetch_at = 0;
	e->behind_peer = (uint32_t)from;
	e->behind_to = paxos_max(e->behind_to, m->entry);
	e->snapshot_at = p->now + p->cfg.proposal_timeout_ms;
	return paxos_upd_snapshot(p, e->id, p->nodes[from], m->entry);
}

int paxos_snapshot_installed(struct paxos *p, uint64_t entity, uint64_t entry, uint32_t crc)
{
	struct paxos_entity *e;
	int rc = paxos_entity_get(p, entity, &e);
	if (rc)
		return rc == -EIO ? 0 : rc;
	e->snapshot_at = 0;
	if (entry > e->chosen) {
		/* The entries up to `entry` are now the snapshot's: drop what we
		 * had of them (unflushed changes included) and the log below. */
		for (struct paxos_slot *s = e->slots; s && s->entry <= entry; s = s->next)
			s->dirty = false;
		if (e->prop && e->prop->entry <= entry)
			paxos_proposer_superseded(p, e);
		/* Forwarded commands chosen at or below it cannot be seen now. */
		paxos_forward_expire(p, e, -ESTALE);
		paxos_slots_drop_upto(p, e, entry);
		e->chosen = entry;
		e->chosen_proposer = 0;
		e->chosen_mine = false;
		e->trimmed = entry;
		e->trimmed_crc = crc;
		e->applied = paxos_max(e->applied, entry);
		e->cp_entry = 0;
		paxos_meta_dirty(e);
		paxos_upd_trim(p, e->id, entry);
	}
	/* Entries above the snapshot may be known chosen already. */
	advance(p, e);
	if (e->behind_to <= e->chosen) {
		e->behind_to = 0;
		e->fetch_at = 0;
		paxos_catchup_check_done(p, e);
	}
	paxos_propose_maybe(p, e, false);
	paxos_barrier_check(p, e);
	return 0;
}

int paxos_snapshot_failed(struct paxos *p, uint64_t entity)
{
	struct paxos_entity *e;
	int rc = paxos_entity_get(p, entity, &e);
	if (rc)
		return rc == -EIO ? 0 : rc;
	if (!e->snapshot_at)
		return 0;
	/* Try again later, from the next peer: its log may still hold the
	 * entries, or it can serve the snapshot. */
	e->snapshot_at = 0;
	e->fetch_tries = 2;
	e->fetch_at = p->now + p->cfg.retry_ms;
	advance(p, e);
	return 0;
}

/* ---- trimming -------------------------------------------------------------- */

int paxos_applied(struct paxos *p, uint64_t entity, uint64_t entry, uint32_t crc)
{
	struct paxos_entity *e;
	int rc = paxos_entity_get(p, entity, &e);
	if (rc)
		return rc == -EIO ? 0 : rc;
	if (entry > e->chosen) {
		/* The file system holds a state past what we know chosen: a
		 * snapshot it installed whose SNAPSHOT_INSTALLED was lost with
		 * a crash. Its entries are chosen (they came from a peer's
		 * applied state): adopt it as that snapshot. */
		return paxos_snapshot_installed(p, entity, entry, crc);
	}
	e->applied = paxos_max(e->applied, entry);
	if (entry <= e->trimmed)
		return 0;
	if (!e->cp_entry || e->cp_entry <= e->trimmed) {
		e->cp_entry = entry;
		e->cp_crc = crc;
		return 0;
	}
	if (entry >= e->cp_entry + p->cfg.retention) {
		e->trimmed = e->cp_entry;
		e->trimmed_crc = e->cp_crc;
		paxos_meta_dirty(e);
		rc = paxos_upd_trim(p, e->id, e->trimmed);
		e->cp_entry = entry;
		e->cp_crc = crc;
	}
	return rc;
}
