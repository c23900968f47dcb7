/* paxos/proposer.c — the proposer of one entity: its command queue, the
 * entry it is working on, phases 1 and 2, retries and backoff.
 *
 *   queue:    cmd ─▶ cmd ─▶ cmd        submitted, waiting for an entry
 *   proposer: entry = chosen + 1, ballot, phase
 *             own value (built once per entry) ◀── inflight: cmd ─▶ cmd
 *             value proposed at this ballot (own, or one found in phase 1)
 *
 * Invariants:
 * - at most one proposer per entity, always at the entity's chosen + 1;
 * - a command is in exactly one place: the queue, or the inflight list of the
 *   proposer (in the own value, which is only ever proposed at that entry),
 *   or the fwd list (forwarded to a holder, forward.c); the queue and the
 *   inflight list may hold commands another node forwarded to us, which we
 *   propose like ours but never report failed (their origin does);
 * - when that entry is chosen with another value, the own value can never be
 *   chosen anywhere (values are not carried across entries), so its commands
 *   go back to the front of the queue: each command is chosen at most once;
 * - a ballot is used for one value only: every ballot carries this life's
 *   incarnation, so no other life of this node uses it; round 0
 *   (pre-authorisation) only when this node's slot at the entry is untouched,
 *   phase-1 rounds are always above anything this node has seen at the
 *   entry, and where it may have forgotten what it saw (a lost disk, whose
 *   next incarnation may repeat an old one) its PREPAREs are STRICT: no
 *   acceptor promises a ballot equal to one it promised before;
 * - ACCEPTs leave before our own acceptance is durable (pr->early) except at
 *   entry 1's round 0 (see preauthorised); our acceptance then counts toward
 *   the majority only when the sync that persisted it returned (a notice
 *   handed back by the caller, PAXOS_EV_PERSISTED): a value is chosen when a
 *   majority has it durable, this node among them or not;
 * - the proposer's own promise is recorded (persisted) before its PREPAREs
 *   leave, even when it may not vote: the amnesia guard counts on it.
 *
 * "If any acceptor in the majority has accepted a proposal, the proposer must
 * propose the value of the highest-numbered one" (Paxos Made Simple, P2c):
 * found_* tracks it while promises arrive.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "paxos/codec.h"
#include "paxos/internal.h"

static uint64_t bit(size_t idx)
{
	return 1ull << idx;
}

static bool quorum(const struct paxos *p, uint64_t acks)
{
	return (size_t)paxos_popcount(acks) >= p->majority;
}

/* ---- the queue ------------------------------------------------------------- */

void paxos_queue_recompute_deadline(struct paxos *p, struct paxos_entity *e)
{
	e->queue_deadline =
	    e->queue ? e->queue->submitted_ms + p->cfg.proposal_timeout_ms : PAXOS_NO_DEADLINE;
}

static void cmds_free(struct paxos *p, struct paxos_cmd *c)
{
	while (c) {
		struct paxos_cmd *n = c->next;
		free(c);
		p->n_cmds--;
		c = n;
	}
}

void paxos_queue_free(struct paxos *p, struct paxos_entity *e)
{
	cmds_free(p, e->queue);
	e->queue = e->queue_tail = NULL;
}

int paxos_submit(struct paxos *p, uint64_t entity, const void *body, size_t len, uint64_t *id)
{
	*id = 0;
	if (!entity || (len && !body))
		return -EINVAL;
	if (paxos_codec_cmd_size(len) > p->cfg.value_max_bytes)
		return -EMSGSIZE;
	uint64_t cid = paxos_new_id(p);
	if (!cid)
		return -EAGAIN; /* the id rate bound: the caller tries again */
	struct paxos_entity *e;
	int rc = paxos_entity_get(p, entity, &e);
	if (rc == -ENOMEM)
		return rc;
	*id = cid;
	if (rc)
		return paxos_upd_failed(p, entity, cid, -EIO);
	/* As a holder, take others' commands for a while (forward.c). */
	e->own_until = p->now + p->cfg.forward_hold_ms;
	struct paxos_cmd *c = paxos_alloc(p, sizeof(*c) + len);
	if (!c)
		return -ENOMEM;
	c->next = NULL;
	c->id = cid;
	c->submitted_ms = p->now;
	c->failed = false;
	c->fwd_state = 0;
	c->fwd_to = 0;
	c->fwd_seq = 0;
	c->fwd_until = 0;
	c->len = len;
	if (len)
		memcpy(c->body, body, len);
	if (e->queue_tail)
		e->queue_tail->next = c;
	else
		e->queue = c;
	e->queue_tail = c;
	p->n_cmds++;
	paxos_queue_recompute_deadline(p, e);
	return paxos_propose_maybe(p, e, false);
}

/* Puts the proposer's in-flight commands back at the front of the queue, in
 * order (they were submitted before anything still queued). Commands already
 * reported failed are dropped: their outcome was announced as unknown, and
 * it is now known they were not chosen, which the caller already assumed. */
static void requeue_inflight(struct paxos *p, struct paxos_entity *e, struct paxos_proposer *pr)
{
	struct paxos_cmd *head = NULL, *last = NULL;
	struct paxos_cmd *c = pr->inflight;
	while (c) {
		struct paxos_cmd *n = c->next;
		if (c->failed) {
			free(c);
			p->n_cmds--;
		} else {
			c->next = NULL;
			if (last)
				last->next = c;
			else
				head = c;
			last = c;
		}
		c = n;
	}
	pr->inflight = NULL;
	if (head) {
		last->next = e->queue;
		if (!e->queue)
			e->queue_tail = last;
		e->queue = head;
	}
	paxos_queue_recompute_deadline(p, e);
}

void paxos_queue_expire(struct paxos *p, struct paxos_entity *e)
{
	uint64_t limit = p->cfg.proposal_timeout_ms;
	while (e->queue && e->queue->submitted_ms + limit <= p->now) {
		struct paxos_cmd *c = e->queue;
		e->queue = c->next;
		if (!e->queue)
			e->queue_tail = NULL;
		/* Not in any value that can still be chosen, and nobody else
		 * holds it: it will never be chosen. One taken from another
		 * node is dropped silently: its origin reports it (-EIO). */
		if (paxos_id_mine(p, c->id))
			paxos_upd_failed(p, e->id, c->id, -ETIMEDOUT);
		free(c);
		p->n_cmds--;
	}
	paxos_queue_recompute_deadline(p, e);
	if (e->prop) {
		for (struct paxos_cmd *c = e->prop->inflight; c; c = c->next) {
			if (!c->failed && c->submitted_ms + limit <= p->now) {
				/* Sent, not known chosen: the caller must treat the
				 * outcome as unknown. */
				if (paxos_id_mine(p, c->id))
					paxos_upd_failed(p, e->id, c->id, -EIO);
				c->failed = true;
			}
		}
	}
	paxos_forward_expire(p, e, 0);
}

/* ---- proposer lifecycle ------------------------------------------------- */

static void proposer_release(struct paxos *p, struct paxos_proposer *pr)
{
	paxos_value_unref(pr->found);
	paxos_value_unref(pr->value);
	paxos_value_unref(pr->own);
	cmds_free(p, pr->inflight);
	free(pr);
	p->n_props--;
}

void paxos_proposer_free(struct paxos *p, struct paxos_entity *e)
{
	if (!e->prop)
		return;
	proposer_release(p, e->prop);
	e->prop = NULL;
}

void paxos_proposer_resolved(struct paxos *p, struct paxos_entity *e, uint64_t entry,
			     uint64_t value_id)
{
	struct paxos_proposer *pr = e->prop;
	if (!pr || pr->entry != entry)
		return;
	if (pr->own && value_id == pr->own_id) {
		/* Our commands are chosen: the chosen notice carries them. */
		cmds_free(p, pr->inflight);
		pr->inflight = NULL;
	} else {
		p->ctr.lost++;
		requeue_inflight(p, e, pr);
	}
	e->prop = NULL;
	proposer_release(p, pr);
}

void paxos_proposer_superseded(struct paxos *p, struct paxos_entity *e)
{
	struct paxos_proposer *pr = e->prop;
	if (!pr)
		return;
	/* A snapshot covered the entry: whether our value was chosen there is
	 * no longer knowable here. */
	for (struct paxos_cmd *c = pr->inflight; c; c = c->next)
		if (!c->failed && paxos_id_mine(p, c->id))
			paxos_upd_failed(p, e->id, c->id, -ESTALE);
	e->prop = NULL;
	proposer_release(p, pr);
}

/* How this node may open an entry without phase 1 (docs/decisions.md,
 * "Pre-authorisation"). */
enum preauth {
	PREAUTH_NONE = 1, /* run phase 1 */
	PREAUTH_PERSIST,  /* round 0, our acceptance durable before the ACCEPTs leave */
	PREAUTH_EARLY,    /* round 0, ACCEPTs at once, our acceptance synced meanwhile */
};

/* Pre-authorisation for chosen + 1 needs that nothing happened at that entry
 * on this node (a promise there revokes it), and then:
 * - entry 1: the entity was made by a command of THIS life (PAXOS_EV_BORN;
 *   its low byte names us, never the namespace). Only that life ever uses
 *   round 0 there, before our acceptance is durable, once the create is
 *   (PaxosMeta.born, which a later process lists: scan.c; the proposal waits
 *   for that sync, paxos_propose_maybe). A later life (the flag is not
 *   persisted), or this one after the entity was evicted, runs phase 1;
 * - entry i+1: the value chosen at i was built by THIS life. No earlier life
 *   can have known that value chosen, so none used round 0 here, and no
 *   later life ever will (below): our round-0 ballot is the only one ever
 *   used at this entry, and it may go before it is durable — once our own
 *   acceptance at i is (else persisted first, as at entry 1);
 * - the value chosen at i is ours but from an earlier life (or we cannot
 *   tell: the entity was reloaded): that life may have sent round 0 here
 *   before its acceptance was durable, and lost it in a crash; a second
 *   round-0 ballot, higher and without phase 1, could contradict it. Phase 1. */
static enum preauth preauthorised(const struct paxos *p, const struct paxos_entity *e,
				  const struct paxos_slot *s)
{
	uint64_t entry = e->chosen + 1;
	if (!paxos_may_vote(p, e, entry) || s->promised || s->accepted)
		return PREAUTH_NONE;
	if (e->chosen == 0) /* (not proposed while the create is not durable) */
		return e->flags & PAXOS_ENT_BORN_SYNCED ? PREAUTH_EARLY : PREAUTH_NONE;
	if (e->chosen_proposer != p->cfg.self || !e->chosen_mine)
		return PREAUTH_NONE;
	/* Early only once our acceptance at i is durable: then our listing
	 * shows i with our value even if we die now, and an amnesic node
	 * fences i+1 on it (scan.c, listed_top). */
	return e->own_synced == e->chosen ? PREAUTH_EARLY : PREAUTH_PERSIST;
}

int paxos_born(struct paxos *p, uint64_t entity, uint64_t cmd_id)
{
	struct paxos_entity *e;
	int rc;

	/* An id of this node above this life's base: handed out by this life
	 * (every earlier life's ids are below it; paxos.h, "Ids never repeat"). */
	if (entity == PAXOS_NAMESPACE_ENTITY || (uint32_t)(entity & 0xff) != p->cfg.self ||
	    paxos_id_node(cmd_id) != p->cfg.self || paxos_id_seq(cmd_id) <= p->cfg.id_base)
		return 0;
	if ((rc = paxos_entity_get(p, entity, &e)))
		return rc == -EIO ? 0 : rc;
	if (e->chosen || (e->flags & PAXOS_ENT_BORN))
		return 0;
	/* Durable before entry 1 goes early: a later life lists entry 1 from
	 * it (scan.c, listed_top), so a wiped node does not vote there on its
	 * word. Entry 1 waits for the notice of that sync (paxos_born_synced). */
	e->born = p->cfg.id_base;
	e->flags |= PAXOS_ENT_BORN;
	paxos_meta_fence(e);
	struct paxos_msg note = {.type = PAXOS_NOTE_BORN, .entity = entity};
	return paxos_upd_notice(p, &note);
}

int paxos_born_synced(struct paxos *p, uint64_t entity)
{
	struct paxos_entity *e = paxos_entity_peek(p, entity);
	if (!e || !(e->flags & PAXOS_ENT_BORN) || e->born != p->cfg.id_base)
		return 0;
	e->flags |= PAXOS_ENT_BORN_SYNCED;
	paxos_touch(p, e);
	return paxos_propose_maybe(p, e, false); /* what waited for it */
}

/* Builds our own value for the entry: the queued commands that fit, or a
 * no-op when nothing waits (closing an entry for a barrier). */
static int build_own(struct paxos *p, struct paxos_entity *e, struct paxos_proposer *pr)
{
	paxos_forward_drop_late(p, e, pr->entry);
	size_t total = 0, n = 0;
	for (struct paxos_cmd *c = e->queue; c; c = c->next) {
		size_t sz = paxos_codec_cmd_size(c->len);
		if (n && total + sz > p->cfg.value_max_bytes)
			break;
		total += sz;
		n++;
	}
	uint64_t id = paxos_new_id(p);
	if (!id)
		return -EAGAIN; /* the id rate bound (start_phase2) */
	struct paxos_value *v = paxos_value_new(p, NULL, total);
	if (!v)
		return -ENOMEM;
	uint8_t *w = v->data;
	struct paxos_cmd **tail = &pr->inflight;
	for (size_t i = 0; i < n; i++) {
		struct paxos_cmd *c = e->queue;
		e->queue = c->next;
		w = paxos_codec_put_cmd(w, c->id, c->body, c->len);
		c->next = NULL;
		*tail = c;
		tail = &c->next;
	}
	if (!e->queue)
		e->queue_tail = NULL;
	paxos_queue_recompute_deadline(p, e);
	pr->own = v;
	pr->own_id = id;
	return 0;
}

static int send_accepts(struct paxos *p, struct paxos_entity *e, struct paxos_proposer *pr,
			uint64_t to_mask)
{
	struct paxos_msg m = paxos_msg_for(PAXOS_MSG_ACCEPT, e, pr->entry);
	m.ballot = pr->ballot;
	m.value_id = pr->value_id;
	paxos_msg_set_value(&m, pr->value);
	int rc = 0;
	for (size_t i = 0; i < p->n_nodes; i++) {
		if (i == p->self_idx || !(to_mask & bit(i)))
			continue;
		if ((pr->early ? paxos_send_early : paxos_send)(p, i, &m, pr->value))
			rc = -ENOMEM;
	}
	return rc;
}

static int send_prepares(struct paxos *p, struct paxos_entity *e, struct paxos_proposer *pr,
			 uint64_t to_mask)
{
	struct paxos_msg m = paxos_msg_for(PAXOS_MSG_PREPARE, e, pr->entry);
	m.ballot = pr->ballot;
	/* Where this node may have forgotten its own activity (amnesia, or at
	 * or below its fence), it may be reusing a ballot it used before its
	 * disk was lost: ask for a promise strictly above what was promised. */
	if (!paxos_may_vote(p, e, pr->entry))
		m.flags |= PAXOS_MSG_F_STRICT;
	int rc = 0;
	for (size_t i = 0; i < p->n_nodes; i++)
		if (i != p->self_idx && (to_mask & bit(i)) && paxos_send(p, i, &m, NULL))
			rc = -ENOMEM;
	return rc;
}

static int chosen_by_quorum(struct paxos *p, struct paxos_entity *e, struct paxos_proposer *pr);

/* Phase 2: propose the value phase 1 found, else our own (built now if not
 * yet), at pr->ballot. */
static int start_phase2(struct paxos *p, struct paxos_entity *e, struct paxos_proposer *pr)
{
	struct paxos_value *v;
	uint64_t vid;
	if (pr->found) {
		v = pr->found;
		vid = pr->found_id;
	} else {
		if (!pr->own) {
			int rc = build_own(p, e, pr);
			if (rc == -EAGAIN) {
				/* No id for a value now (the rate bound): phase 1
				 * again in a millisecond, as after a preemption. */
				pr->phase = PAXOS_PHASE_BACKOFF;
				pr->deadline = p->now + 1;
				return 0;
			}
			if (rc)
				return rc;
		}
		v = pr->own;
		vid = pr->own_id;
	}
	paxos_value_unref(pr->value);
	pr->value = paxos_value_ref(v);
	pr->value_id = vid;
	pr->phase = PAXOS_PHASE_ACCEPT;
	pr->acks = 0;

	struct paxos_slot *s = paxos_slot_get(p, e, pr->entry);
	if (!s)
		return -ENOMEM;
	if (paxos_may_vote(p, e, pr->entry)) {
		if (pr->ballot < s->promised) {
			/* Our own acceptor promised someone higher meanwhile. */
			pr->max_round = paxos_max(pr->max_round, paxos_ballot_round(s->promised));
			pr->phase = PAXOS_PHASE_BACKOFF;
			pr->attempts++;
			pr->deadline = p->now + paxos_backoff(p, pr->attempts);
			return 0;
		}
		if (s->accepted != pr->ballot || s->value_id != vid) {
			paxos_value_unref(s->value);
			s->value = paxos_value_ref(v);
			s->value_stored = false;
			s->value_id = vid;
			s->accepted = pr->ballot;
		}
		s->promised = pr->ballot;
		paxos_slot_vote(e, s);
		if (pr->early) {
			/* Counted once the sync that persists it returned. */
			struct paxos_msg n = paxos_msg_for(PAXOS_MSG_ACCEPTED, e, pr->entry);
			n.ballot = pr->ballot;
			n.value_id = vid;
			if (paxos_upd_notice(p, &n))
				return -ENOMEM;
		} else {
			pr->acks |= bit(p->self_idx);
		}
	}
	pr->deadline = p->now + p->cfg.retry_ms;
	int rc = send_accepts(p, e, pr, ~0ull);
	if (quorum(p, pr->acks))
		return chosen_by_quorum(p, e, pr);
	return rc;
}

/* Phase 1 at a round above everything seen at this entry. */
static int start_phase1(struct paxos *p, struct paxos_entity *e, struct paxos_proposer *pr)
{
	struct paxos_slot *s = paxos_slot_get(p, e, pr->entry);
	if (!s)
		return -ENOMEM;
	uint64_t round = paxos_max(pr->max_round, paxos_ballot_round(s->promised));
	round = paxos_max(round, paxos_ballot_round(s->accepted));
	pr->ballot = paxos_ballot(round + 1, p->cfg.incarnation, p->cfg.self);
	p->ctr.phase1++;
	/* A ballot of this life, promised by a majority (our PREPAREs leave
	 * after our own promise is durable): no other life uses it. */
	pr->early = true;
	pr->max_round = round + 1;
	pr->phase = PAXOS_PHASE_PREPARE;
	pr->acks = 0;
	pr->found_ballot = 0;
	pr->found_id = 0;
	paxos_value_unref(pr->found);
	pr->found = NULL;
	/* Our own promise, recorded (synced) even when we may not vote. */
	s->promised = pr->ballot;
	paxos_slot_vote(e, s);
	if (paxos_may_vote(p, e, pr->entry)) {
		pr->acks |= bit(p->self_idx);
		if (s->accepted) {
			pr->found_ballot = s->accepted;
			pr->found_id = s->value_id;
			pr->found = paxos_value_ref(s->value);
		}
	}
	pr->deadline = p->now + p->cfg.retry_ms;
	int rc = send_prepares(p, e, pr, ~0ull);
	if (quorum(p, pr->acks))
		return start_phase2(p, e, pr);
	return rc;
}

int paxos_propose_maybe(struct paxos *p, struct paxos_entity *e, bool close)
{
	if (e->prop || (e->flags & PAXOS_ENT_BROKEN) || e->snapshot_at)
		return 0;
	/* Not before a majority of voters is known (scan.c): a proposal made
	 * while most nodes are still amnesic could only fence them. */
	if (!p->quorum_known)
		return 0;
	if (!e->queue && !close)
		return 0;
	/* Known to be behind: chosen + 1 is decided already; catch up first
	 * (learning calls back here). A closing proposal is how catching up
	 * ends when no peer can serve the entry. */
	if (e->behind_to > e->chosen && !close)
		return 0;
	/* Entry 1 of a file this life created, its create not durable yet: the
	 * sync under way writes it and its notice proposes (paxos_born_synced),
	 * sooner than persisting our acceptance after it. */
	if (e->chosen == 0 && (e->flags & PAXOS_ENT_BORN) && !(e->flags & PAXOS_ENT_BORN_SYNCED))
		return 0;
	/* Someone else holds the next entry: our commands may go to it. */
	if (!close) {
		int rc = paxos_forward_maybe(p, e);
		if (rc <= 0)
			return rc;
	}
	struct paxos_proposer *pr = paxos_calloc(p, sizeof(*pr));
	if (!pr)
		return -ENOMEM;
	p->n_props++;
	pr->entry = e->chosen + 1;
	pr->started_ms = p->now;
	e->prop = pr;
	struct paxos_slot *s = paxos_slot_get(p, e, pr->entry);
	if (!s) {
		paxos_proposer_free(p, e);
		return -ENOMEM;
	}
	enum preauth pa = preauthorised(p, e, s);
	p->ctr.proposed++;
	if (pa != PREAUTH_NONE) {
		p->ctr.fast++;
		pr->ballot = paxos_ballot(0, p->cfg.incarnation, p->cfg.self);
		pr->early = pa == PREAUTH_EARLY;
		return start_phase2(p, e, pr);
	}
	return start_phase1(p, e, pr);
}

/* ---- answers ------------------------------------------------------------ */

static int chosen_by_quorum(struct paxos *p, struct paxos_entity *e, struct paxos_proposer *pr)
{
	/* Announce first, without the value: the acceptors of this ballot
	 * hold it (even those that answered too late to count), and a node
	 * that does not fetches it, off this write's path. Then learn: learning settles and may replace the proposer,
	 * and the next entry's ACCEPTs must follow this CHOSEN in the batch. */
	struct paxos_msg m = paxos_msg_for(PAXOS_MSG_CHOSEN, e, pr->entry);
	m.ballot = pr->ballot;
	m.value_id = pr->value_id;
	if (pr->acks & bit(p->self_idx))
		e->own_synced = pr->entry; /* our vote counted: it is durable */
	if (pr->entry == e->chosen + 1)
		m.chosen = pr->entry;
	int rc = paxos_broadcast(p, &m, NULL);
	struct paxos_value *v = paxos_value_ref(pr->value);
	int rc2 = paxos_learn(p, e, pr->entry, pr->ballot, pr->value_id, v, p->self_idx);
	paxos_value_unref(v);
	return rc ? rc : rc2;
}

int paxos_on_promise(struct paxos *p, struct paxos_entity *e, size_t from,
		     const struct paxos_msg *m)
{
	struct paxos_proposer *pr = e->prop;
	if (!pr || pr->phase != PAXOS_PHASE_PREPARE || m->entry != pr->entry ||
	    m->ballot != pr->ballot)
		return 0;
	if (pr->acks & bit(from))
		return 0;
	pr->acks |= bit(from);
	if (m->accepted && m->accepted > pr->found_ballot) {
		struct paxos_value *v = paxos_value_new(p, m->value, m->value_len);
		if (!v)
			return -ENOMEM;
		paxos_value_unref(pr->found);
		pr->found = v;
		pr->found_ballot = m->accepted;
		pr->found_id = m->value_id;
	}
	if (quorum(p, pr->acks))
		return start_phase2(p, e, pr);
	return 0;
}

int paxos_on_accepted(struct paxos *p, struct paxos_entity *e, size_t from,
		      const struct paxos_msg *m)
{
	struct paxos_proposer *pr = e->prop;
	if (!pr || pr->phase != PAXOS_PHASE_ACCEPT || m->entry != pr->entry ||
	    m->ballot != pr->ballot || m->value_id != pr->value_id)
		return 0;
	if (pr->acks & bit(from))
		return 0;
	pr->acks |= bit(from);
	if (quorum(p, pr->acks))
		return chosen_by_quorum(p, e, pr);
	return 0;
}

int paxos_on_reject(struct paxos *p, struct paxos_entity *e, size_t from, const struct paxos_msg *m)
{
	struct paxos_proposer *pr = e->prop;
	if (!pr || m->entry != pr->entry || m->ballot != pr->ballot ||
	    pr->phase == PAXOS_PHASE_BACKOFF)
		return 0;
	/* Preempted: someone promised a higher ballot. Wait a random while so
	 * that two proposers do not keep preempting each other, then try again
	 * above what we saw. */
	pr->max_round = paxos_max(pr->max_round, paxos_ballot_round(m->promised));
	p->ctr.preempted++;
	pr->phase = PAXOS_PHASE_BACKOFF;
	pr->attempts++;
	pr->deadline = p->now + paxos_backoff(p, pr->attempts);
	return 0;
}

int paxos_proposer_timer(struct paxos *p, struct paxos_entity *e)
{
	struct paxos_proposer *pr = e->prop;
	if (!pr || pr->deadline > p->now)
		return 0;
	bool live = e->queue != NULL;
	for (struct paxos_cmd *c = pr->inflight; c && !live; c = c->next)
		live = !c->failed;
	if (!live && !e->barriers && p->now >= pr->started_ms + p->cfg.proposal_timeout_ms) {
		/* Nobody waits for this entry any more: stop sending. The
		 * entry stays open; the next proposal will finish it. */
		paxos_proposer_free(p, e);
		return 0;
	}
	switch (pr->phase) {
	case PAXOS_PHASE_BACKOFF:
		return start_phase1(p, e, pr);
	case PAXOS_PHASE_PREPARE:
		pr->deadline = p->now + p->cfg.retry_ms;
		p->ctr.resends++;
		return send_prepares(p, e, pr, ~pr->acks);
	case PAXOS_PHASE_ACCEPT:
		pr->deadline = p->now + p->cfg.retry_ms;
		p->ctr.resends++;
		return send_accepts(p, e, pr, ~pr->acks);
	}
	return 0;
}
