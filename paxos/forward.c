/* paxos/forward.c — forwarding commands to the holder of a contended entity
 * (paxos/paxos.h, "Forwarding", has the protocol and why it is exactly once).
 *
 *   origin                                     holder
 *   queue ──▶ FORWARD(seq, commands) ────────▶ fwd_in[origin]: seq == next?
 *   fwd list: cmd (SENT, holder, seq)            decide it once: take (into the
 *             ◀──── FWD_ACK / FWD_NACK(seq) ──   queue: its next entry) or refuse;
 *   ACK:  TAKEN, wait to see it chosen           keep the decision for resends
 *   NACK: back to the queue, propose ourselves
 *
 *   fwd_out[holder]  seq:  lo ............ next
 *                    ents: [e7][0 ][e9][e2]      entity of each unanswered seq
 *                                                (0: settled), ring of WINDOW
 *
 * Invariants:
 * - a command is in exactly one place: the origin's queue or proposer, its
 *   fwd list (SENT or TAKEN: the holder process it was sent to may hold it,
 *   and nobody else ever proposes it), or a holder's queue or proposer; only
 *   the place that holds it puts it into a value;
 * - per (origin process, holder process) each sequence number is decided at
 *   most once, in order, and every resend of it gets that decision; a
 *   FORWARD addressed to another process of the holder's node is decided by
 *   nobody (FWD_STALE);
 * - a node forwards only commands it submitted itself (ids of this process),
 *   at most one unanswered FORWARD per entity and holder; the fwd list holds only live
 *   commands (a failed one is dropped: its outcome was reported unknown);
 * - a FORWARD carries a bound (msg.entry): a holder puts its commands only
 *   into a value for an entry at or below it, and drops them when its next
 *   value goes higher. So once the origin has every entry up to the bound
 *   chosen and none of them holds a command, that command can never be
 *   chosen: it is the origin's again (queued, proposed or forwarded anew),
 *   whether the holder died, lost the FORWARD or dropped it. That is how a
 *   holder's death costs a few entries, not the proposal timeout.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "paxos/codec.h"
#include "paxos/internal.h"

#define W PAXOS_FWD_WINDOW

/* A FORWARD's commands may be chosen only up to the origin's chosen entry +
 * FWD_SPAN (its bound, msg.entry): the holder may be an entry ahead of the
 * origin (its CHOSEN still on the way) with its value for the next entry
 * built already, so its next value goes at most 3 entries past the origin's
 * chosen one. A larger span only makes the origin wait for more entries
 * before it takes back the commands of a holder that died. */
#define FWD_SPAN 3

static uint64_t bit(size_t idx)
{
	return 1ull << idx;
}

static void cmd_free(struct paxos *p, struct paxos_cmd *c)
{
	free(c);
	p->n_cmds--;
}

/* The node index that holds pre-authorisation for the next entry, as this
 * node knows it; false when nobody does (the namespace's entry 1, after a
 * snapshot) or that node is not a member. */
static bool holder(const struct paxos *p, const struct paxos_entity *e, size_t *idx)
{
	uint32_t node;
	if (e->chosen == 0)
		node = e->id == PAXOS_NAMESPACE_ENTITY ? 0 : (uint32_t)(e->id & 0xff);
	else
		node = e->chosen_proposer;
	if (!node || node > 255 || !p->node_idx[node])
		return false;
	*idx = p->node_idx[node] - 1;
	return true;
}

/* ---- the origin's side: channels ------------------------------------------- */

static int chan_alloc(struct paxos *p, struct paxos_fwd_out *c)
{
	if (c->ents)
		return 0;
	c->ents = paxos_calloc(p, W * sizeof(*c->ents));
	c->sent_ms = paxos_calloc(p, W * sizeof(*c->sent_ms));
	if (!c->ents || !c->sent_ms) {
		free(c->ents);
		free(c->sent_ms);
		c->ents = c->sent_ms = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void chan_lo(struct paxos_fwd_out *c)
{
	while (c->lo < c->next && !c->ents[c->lo % W])
		c->lo++;
}

/* Commands going back to the front of the entity's queue, in order. */
struct back_list {
	struct paxos_cmd *head, *tail;
};

/* c (already unlinked) is ours again, unforwarded. */
static void back_add(struct back_list *b, struct paxos_cmd *c)
{
	c->next = NULL;
	c->fwd_state = 0;
	c->fwd_until = 0;
	if (b->tail)
		b->tail->next = c;
	else
		b->head = c;
	b->tail = c;
}

/* Submitted before anything queued: in front, in order. */
static void back_requeue(struct paxos *p, struct paxos_entity *e, const struct back_list *b)
{
	if (!b->head)
		return;
	b->tail->next = e->queue;
	if (!e->queue)
		e->queue_tail = b->tail;
	e->queue = b->head;
	paxos_queue_recompute_deadline(p, e);
}

/* Settles our commands of FORWARD `seq` to holder `h`: taken (they stay, as
 * TAKEN, until seen chosen or failed) or refused (back to the front of the
 * queue, in order). */
static void settle_cmds(struct paxos *p, struct paxos_entity *e, size_t h, uint64_t seq, bool taken)
{
	struct paxos_cmd **pp = &e->fwd;
	struct back_list back = {0};
	while (*pp) {
		struct paxos_cmd *c = *pp;
		if (c->fwd_state != PAXOS_FWD_SENT || c->fwd_to != h || c->fwd_seq != seq) {
			pp = &c->next;
			continue;
		}
		if (taken) {
			c->fwd_state = PAXOS_FWD_TAKEN;
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		back_add(&back, c);
	}
	back_requeue(p, e, &back);
}

/* The holder process of channel h is gone (a newer one exists): whatever it
 * may have taken stays unknown — seen chosen, or failed with -EIO in time;
 * never proposed by us. The sequence starts again with the new process. */
static void chan_reset(struct paxos *p, size_t h, uint64_t session)
{
	struct paxos_fwd_out *c = &p->fwd_out[h];
	size_t n = 0;
	uint64_t *ids = NULL;
	if (c->ents && c->next > c->lo) {
		ids = paxos_alloc(p, (c->next - c->lo) * sizeof(*ids));
		if (!ids)
			return; /* the engine stops (mem.c) */
	}
	for (uint64_t s = c->lo; c->ents && s < c->next; s++) {
		uint64_t id = c->ents[s % W];
		if (!id)
			continue;
		c->ents[s % W] = 0;
		/* An entity with forwarded commands is never evicted. */
		struct paxos_entity *e = paxos_entity_peek(p, id);
		if (!e)
			continue;
		paxos_touch(p, e);
		settle_cmds(p, e, h, s, true);
		ids[n++] = id;
	}
	c->session = session;
	c->next = c->lo = 1;
	c->resend_at = 0;
	/* Commands that waited for those answers go now (to the new process,
	 * or proposed by us). */
	for (size_t i = 0; i < n; i++) {
		struct paxos_entity *e = paxos_entity_peek(p, ids[i]);
		if (e && e->queue && !e->prop)
			paxos_propose_maybe(p, e, false);
	}
	free(ids);
}

void paxos_note_session(struct paxos *p, size_t idx, uint64_t session)
{
	if (idx == p->self_idx || paxos_id_node(session) != p->nodes[idx])
		return;
	/* Said by that process itself, so it is the current one even when its
	 * number is lower than an earlier one's (bases grow from life to life
	 * unless the peer's wall clock went back across a wipe). */
	if (p->fwd_out[idx].session != session)
		chan_reset(p, idx, session);
}

void paxos_note_peer(struct paxos *p, size_t idx, bool up)
{
	if (!up) {
		p->peers_down |= bit(idx);
		/* Commands forwarded to it: decide their entries now, rather
		 * than after 4 * retry_ms (paxos_forward_drive). */
		for (size_t i = 0; i < p->table_cap; i++) {
			struct paxos_entity *e = p->table[i].e;
			if (!e || e->prop || !e->fwd)
				continue;
			for (const struct paxos_cmd *c = e->fwd; c; c = c->next) {
				if (c->fwd_to == idx && c->fwd_until > e->chosen) {
					paxos_touch(p, e);
					paxos_forward_drive(p, e);
					break;
				}
			}
		}
		return;
	}
	p->peers_down &= ~bit(idx);
	/* What was in flight on the old connection is lost: resend now. */
	if (p->fwd_out[idx].resend_at)
		p->fwd_out[idx].resend_at = p->now;
}

/* Whether new commands may go to holder h now: it is not known down, we
 * know its process, there is room in the window, and it has answered
 * everything older than 2 * retry_ms. */
static bool chan_usable(struct paxos *p, size_t h)
{
	struct paxos_fwd_out *c = &p->fwd_out[h];
	if ((p->peers_down & bit(h)) || !c->session)
		return false;
	if (!c->ents)
		return true;
	chan_lo(c);
	if (c->next - c->lo >= W)
		return false;
	return c->lo == c->next || c->sent_ms[c->lo % W] + 2 * (uint64_t)p->cfg.retry_ms > p->now;
}

/* (Re)sends FORWARD `seq` of entity e to holder h with the commands of it
 * that are still ours to wait for; settles it when none are (the holder,
 * seeing a later number first, decides this one as refused). */
static int send_seq(struct paxos *p, struct paxos_entity *e, size_t h, uint64_t seq)
{
	struct paxos_fwd_out *c = &p->fwd_out[h];
	size_t total = 0;
	uint64_t until = 0;
	for (struct paxos_cmd *x = e->fwd; x; x = x->next) {
		if (x->fwd_state == PAXOS_FWD_SENT && x->fwd_to == h && x->fwd_seq == seq) {
			total += paxos_codec_cmd_size(x->len);
			until = x->fwd_until; /* the same for all of them */
		}
	}
	if (!total) {
		/* All seen chosen or failed: nothing left to ask about. */
		c->ents[seq % W] = 0;
		return 0;
	}
	struct paxos_value *v = paxos_value_new(p, NULL, total);
	if (!v)
		return -ENOMEM;
	uint8_t *w = v->data;
	for (struct paxos_cmd *x = e->fwd; x; x = x->next)
		if (x->fwd_state == PAXOS_FWD_SENT && x->fwd_to == h && x->fwd_seq == seq)
			w = paxos_codec_put_cmd(w, x->id, x->body, x->len);
	struct paxos_msg m = paxos_msg_for(PAXOS_MSG_FORWARD, e, until);
	m.nonce = seq;
	m.session = p->session;
	m.to_session = c->session;
	paxos_msg_set_value(&m, v);
	int rc = paxos_send(p, h, &m, v);
	paxos_value_unref(v);
	return rc;
}

/* Moves the queued commands that fit one value into a new FORWARD to h. */
static int send_forward(struct paxos *p, struct paxos_entity *e, size_t h)
{
	struct paxos_fwd_out *c = &p->fwd_out[h];
	if (chan_alloc(p, c))
		return -ENOMEM;
	uint64_t seq = c->next++;
	c->ents[seq % W] = e->id;
	c->sent_ms[seq % W] = p->now;
	if (!c->resend_at)
		c->resend_at = p->now + p->cfg.retry_ms;
	struct paxos_cmd **tail = &e->fwd;
	while (*tail)
		tail = &(*tail)->next;
	uint64_t until = e->chosen + FWD_SPAN;
	size_t total = 0, n = 0;
	while (e->queue) {
		struct paxos_cmd *x = e->queue;
		size_t sz = paxos_codec_cmd_size(x->len);
		if (n && total + sz > p->cfg.value_max_bytes)
			break;
		total += sz;
		n++;
		e->queue = x->next;
		x->next = NULL;
		x->fwd_state = PAXOS_FWD_SENT;
		x->fwd_to = (uint8_t)h;
		x->fwd_seq = seq;
		x->fwd_until = until;
		*tail = x;
		tail = &x->next;
	}
	if (!e->queue)
		e->queue_tail = NULL;
	paxos_queue_recompute_deadline(p, e);
	return send_seq(p, e, h, seq);
}

int paxos_forward_maybe(struct paxos *p, struct paxos_entity *e)
{
	size_t h;
	if (!holder(p, e, &h) || h == p->self_idx)
		return 1;
	if (e->fwd_block == e->chosen + 1)
		return 1; /* refused at this entry: our turn */
	for (const struct paxos_cmd *x = e->queue; x; x = x->next)
		if (!paxos_id_mine(p, x->id))
			return 1; /* we hold others' commands: we propose them */
	for (const struct paxos_cmd *x = e->fwd; x; x = x->next)
		if (x->submitted_ms + 4 * (uint64_t)p->cfg.retry_ms <= p->now)
			return 1; /* the holder is not getting our commands chosen */
	if (!chan_usable(p, h))
		return 1;
	for (const struct paxos_cmd *x = e->fwd; x; x = x->next)
		if (x->fwd_state == PAXOS_FWD_SENT && x->fwd_to == h)
			return 0; /* wait for its answer, then send what queued up */
	return send_forward(p, e, h);
}

int paxos_on_forward_reply(struct paxos *p, struct paxos_entity *e, size_t from,
			   const struct paxos_msg *m)
{
	if (paxos_id_node(m->session) != p->nodes[from])
		return -EINVAL;
	/* FWD_STALE: the holder has a newer process; noting its session (as
	 * for every message, paxos.c) has reset the channel already. */
	struct paxos_fwd_out *c = &p->fwd_out[from];
	if (m->type == PAXOS_MSG_FWD_STALE || m->session != c->session ||
	    m->to_session != p->session || !c->ents)
		return 0;
	uint64_t seq = m->nonce;
	if (seq < c->lo || seq >= c->next || c->ents[seq % W] != e->id)
		return 0; /* settled already (a duplicate, or all its commands done) */
	c->ents[seq % W] = 0;
	bool taken = m->type == PAXOS_MSG_FWD_ACK;
	settle_cmds(p, e, from, seq, taken);
	if (!taken)
		e->fwd_block = e->chosen + 1;
	/* What queued up while it was out goes now (forwarded, or proposed). */
	return paxos_propose_maybe(p, e, false);
}

struct chosen_ctx {
	struct paxos *p;
	struct paxos_entity *e;
};

static int chosen_cb(void *arg, uint64_t id, const uint8_t *body, size_t len)
{
	struct chosen_ctx *x = arg;
	(void)body;
	(void)len;
	for (struct paxos_cmd **pp = &x->e->fwd; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct paxos_cmd *c = *pp;
			*pp = c->next;
			cmd_free(x->p, c); /* done: the chosen notice carries it */
			break;
		}
	}
	return x->e->fwd ? 0 : 1;
}

void paxos_forward_chosen(struct paxos *p, struct paxos_entity *e, const struct paxos_value *v)
{
	if (!e->fwd || !v)
		return;
	struct chosen_ctx x = {p, e};
	paxos_codec_value_foreach(v->data, v->len, chosen_cb, &x);
}

/* FORWARD `seq` to holder h has no command left to wait for: settled here
 * (a late copy reaching the holder can only be dropped there, or refused). */
static void seq_done_maybe(struct paxos *p, struct paxos_entity *e, size_t h, uint64_t seq)
{
	struct paxos_fwd_out *c = &p->fwd_out[h];
	for (const struct paxos_cmd *x = e->fwd; x; x = x->next)
		if (x->fwd_state == PAXOS_FWD_SENT && x->fwd_to == h && x->fwd_seq == seq)
			return;
	if (c->ents && seq >= c->lo && seq < c->next && c->ents[seq % W] == e->id) {
		c->ents[seq % W] = 0;
		chan_lo(c);
	}
}

void paxos_forward_settle(struct paxos *p, struct paxos_entity *e)
{
	struct paxos_cmd **pp = &e->fwd;
	struct back_list back = {0};
	while (*pp) {
		struct paxos_cmd *c = *pp;
		if (!c->fwd_until || c->fwd_until > e->chosen) {
			pp = &c->next;
			continue;
		}
		/* Every entry it may be chosen at is chosen, and it was in none
		 * (paxos_forward_chosen would have removed it): ours again. */
		*pp = c->next;
		bool sent = c->fwd_state == PAXOS_FWD_SENT;
		back_add(&back, c);
		if (sent)
			seq_done_maybe(p, e, c->fwd_to, c->fwd_seq);
	}
	back_requeue(p, e, &back);
}

void paxos_forward_drop_late(struct paxos *p, struct paxos_entity *e, uint64_t entry)
{
	struct paxos_cmd **pp = &e->queue, *last = NULL;
	bool dropped = false;
	while (*pp) {
		struct paxos_cmd *c = *pp;
		if (c->fwd_until && c->fwd_until < entry && !paxos_id_mine(p, c->id)) {
			/* Past its bound: its origin proposes it once it has the
			 * entries up to the bound chosen without it. */
			*pp = c->next;
			cmd_free(p, c);
			dropped = true;
			continue;
		}
		last = c;
		pp = &c->next;
	}
	if (dropped) {
		e->queue_tail = last;
		paxos_queue_recompute_deadline(p, e);
	}
}

/* A forwarded command of ours waits for entries that someone should be
 * deciding: the holder is down, or has not got it chosen in 4 * retry_ms. */
static bool drive_due(const struct paxos *p, const struct paxos_entity *e,
		      const struct paxos_cmd *c)
{
	return c->fwd_until > e->chosen &&
	       ((p->peers_down & bit(c->fwd_to)) ||
		c->submitted_ms + 4 * (uint64_t)p->cfg.retry_ms <= p->now);
}

int paxos_forward_drive(struct paxos *p, struct paxos_entity *e)
{
	if (e->prop || e->behind_to > e->chosen)
		return 0; /* deciding already, or catching up (which decides too) */
	for (const struct paxos_cmd *c = e->fwd; c; c = c->next)
		if (drive_due(p, e, c))
			return paxos_propose_maybe(p, e, true);
	return 0;
}

void paxos_forward_expire(struct paxos *p, struct paxos_entity *e, int error)
{
	uint64_t limit = p->cfg.proposal_timeout_ms;
	struct paxos_cmd **pp = &e->fwd;
	while (*pp) {
		struct paxos_cmd *c = *pp;
		if (!error && c->submitted_ms + limit > p->now) {
			pp = &c->next;
			continue;
		}
		/* Sent, not seen chosen: the caller must treat the outcome as
		 * unknown. A FORWARD still unanswered is resent without it. */
		paxos_upd_failed(p, e->id, c->id, error ? error : -EIO);
		*pp = c->next;
		cmd_free(p, c);
	}
}

uint64_t paxos_forward_deadline(const struct paxos *p, const struct paxos_entity *e)
{
	uint64_t d = PAXOS_NO_DEADLINE;
	for (const struct paxos_cmd *c = e->fwd; c; c = c->next) {
		d = paxos_min(d, c->submitted_ms + p->cfg.proposal_timeout_ms);
		if (!e->prop && c->fwd_until > e->chosen) {
			/* paxos_forward_drive; once due, again every retry_ms */
			uint64_t t = c->submitted_ms + 4 * (uint64_t)p->cfg.retry_ms;
			d = paxos_min(d, t > p->now ? t : p->now + p->cfg.retry_ms);
		}
	}
	return d;
}

void paxos_forward_free(struct paxos *p, struct paxos_entity *e)
{
	while (e->fwd) {
		struct paxos_cmd *c = e->fwd;
		e->fwd = c->next;
		cmd_free(p, c);
	}
}

int paxos_forward_timer(struct paxos *p)
{
	int ret = 0;
	for (size_t h = 0; h < p->n_nodes; h++) {
		struct paxos_fwd_out *c = &p->fwd_out[h];
		if (!c->resend_at || c->resend_at > p->now)
			continue;
		size_t n = 0;
		uint64_t *kick = paxos_alloc(p, (c->next - c->lo) * sizeof(*kick));
		if (!kick)
			return -ENOMEM;
		for (uint64_t s = c->lo; s < c->next; s++) {
			uint64_t id = c->ents[s % W];
			struct paxos_entity *e;
			if (!id)
				continue;
			int rc = paxos_entity_get(p, id, &e);
			if (rc == -ENOMEM) {
				free(kick);
				return rc;
			}
			if (rc) {
				c->ents[s % W] =
				    0; /* broken: its commands wait for their timeout */
				continue;
			}
			if (send_seq(p, e, h, s))
				ret = -ENOMEM;
			if (e->queue && !e->prop)
				kick[n++] = id;
		}
		chan_lo(c);
		c->resend_at = c->lo < c->next ? p->now + p->cfg.retry_ms : 0;
		/* Commands waiting for those answers: if the holder has gone
		 * quiet, they are proposed by us instead (after the loop: that
		 * may start new FORWARDs on this channel). */
		for (size_t i = 0; i < n; i++) {
			struct paxos_entity *e = paxos_entity_peek(p, kick[i]);
			if (e && e->queue && !e->prop && paxos_propose_maybe(p, e, false))
				ret = -ENOMEM;
		}
		free(kick);
	}
	return ret;
}

uint64_t paxos_forward_timer_deadline(const struct paxos *p)
{
	uint64_t d = PAXOS_NO_DEADLINE;
	for (size_t h = 0; h < p->n_nodes; h++)
		if (p->fwd_out[h].resend_at)
			d = paxos_min(d, p->fwd_out[h].resend_at);
	return d;
}

void paxos_forward_free_all(struct paxos *p)
{
	for (size_t i = 0; i < PAXOS_MAX_NODES; i++) {
		free(p->fwd_out[i].ents);
		free(p->fwd_out[i].sent_ms);
		free(p->fwd_in[i].taken);
	}
}

/* ---- the holder's side ---------------------------------------------------- */

/* Whether this node takes forwarded commands for e now: it is proposing
 * there already (they ride along in its next entry), or it holds
 * pre-authorisation for the next entry and writes there itself. A holder
 * without writes of its own refuses: the origin then proposes and becomes
 * the holder, so that a lone writer gets the fast path. */
static bool takes(const struct paxos *p, const struct paxos_entity *e, uint64_t until)
{
	if (p->amnesia || !p->quorum_known || (e->flags & PAXOS_ENT_BROKEN) || e->snapshot_at ||
	    e->behind_to > e->chosen)
		return false;
	/* Our next value goes at chosen + 1, or at chosen + 2 when the one
	 * for chosen + 1 is built already: within the FORWARD's bound. (0: a
	 * FORWARD without a bound, from an origin that never takes back.) */
	if (until && e->chosen + (e->prop && e->prop->own ? 2 : 1) > until)
		return false;
	if (e->prop)
		return true;
	size_t h;
	if (e->own_until <= p->now || !holder(p, e, &h) || h != p->self_idx ||
	    !paxos_may_vote(p, e, e->chosen + 1))
		return false;
	struct paxos_slot *s = paxos_slot_find((struct paxos_entity *)e, e->chosen + 1);
	return !s || (!s->promised && !s->accepted);
}

struct take_ctx {
	struct paxos *p;
	struct paxos_entity *e;
	uint64_t session;
	uint64_t until;
	bool add;
};

static int take_cb(void *arg, uint64_t id, const uint8_t *body, size_t len)
{
	struct take_ctx *t = arg;
	struct paxos *p = t->p;
	/* Only the origin's own commands of this process (above its base; a
	 * later process of it would not send through this one), each small
	 * enough for a value of ours. */
	if (paxos_id_node(id) != paxos_id_node(t->session) ||
	    paxos_id_seq(id) <= paxos_id_seq(t->session) ||
	    paxos_codec_cmd_size(len) > p->cfg.value_max_bytes)
		return -EINVAL;
	if (!t->add)
		return 0;
	struct paxos_cmd *c = paxos_alloc(p, sizeof(*c) + len);
	if (!c)
		return -ENOMEM;
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->submitted_ms = p->now;
	c->fwd_until = t->until;
	c->len = len;
	if (len)
		memcpy(c->body, body, len);
	if (t->e->queue_tail)
		t->e->queue_tail->next = c;
	else
		t->e->queue = c;
	t->e->queue_tail = c;
	p->n_cmds++;
	return 0;
}

static int reply(struct paxos *p, struct paxos_entity *e, size_t to, const struct paxos_msg *in,
		 uint32_t type)
{
	struct paxos_msg m = paxos_msg_for(type, e, 0);
	m.nonce = in->nonce;
	m.session = p->session;
	m.to_session = in->session;
	return paxos_send(p, to, &m, NULL);
}

static bool taken_bit(const struct paxos_fwd_in *in, uint64_t seq)
{
	return in->taken[(seq % W) / 64] >> (seq % 64) & 1;
}

int paxos_on_forward(struct paxos *p, struct paxos_entity *e, size_t from,
		     const struct paxos_msg *m)
{
	if (paxos_id_node(m->session) != p->nodes[from])
		return -EINVAL;
	if (m->to_session != p->session)
		return reply(p, e, from, m, PAXOS_MSG_FWD_STALE); /* meant for another process */
	struct paxos_fwd_in *in = &p->fwd_in[from];
	uint64_t session = m->session, seq = m->nonce;
	if (!in->taken) {
		in->taken = paxos_calloc(p, W / 8);
		if (!in->taken)
			return -ENOMEM;
	}
	if (session != in->session) {
		/* A new process of the origin (net/ delivers nothing of an
		 * earlier process after a later one; its number may be lower,
		 * paxos_note_session): its sequence starts again. */
		in->session = session;
		in->next = 1;
		memset(in->taken, 0, W / 8);
	}
	if (seq < in->next) {
		/* Decided already: the same answer again (within the window;
		 * older ones were answered before the origin went on). */
		if (in->next - seq > W)
			return 0;
		return reply(p, e, from, m,
			     taken_bit(in, seq) ? PAXOS_MSG_FWD_ACK : PAXOS_MSG_FWD_NACK);
	}
	if (seq > in->next) {
		/* Earlier numbers are missing: lost with a link, or settled by
		 * the origin without being sent (their commands all failed or
		 * were seen chosen). Waiting for them could block this channel
		 * for good, so they are decided now, refused: they were never
		 * put into a value and never will be, and a late copy of one
		 * gets FWD_NACK (the origin then proposes its commands itself). */
		uint64_t skip = seq - in->next < W ? seq - in->next : W;
		for (uint64_t s = seq - skip; s < seq; s++)
			in->taken[(s % W) / 64] &= ~(1ull << (s % 64));
		in->next = seq;
	}
	struct take_ctx t = {p, e, session, m->entry, false};
	bool take = takes(p, e, m->entry) &&
		    !paxos_codec_value_foreach(m->value, m->value_len, take_cb, &t);
	if (take) {
		t.add = true;
		int rc = paxos_codec_value_foreach(m->value, m->value_len, take_cb, &t);
		if (rc)
			return rc; /* -ENOMEM: the engine stops, nothing of this step leaves */
		paxos_queue_recompute_deadline(p, e);
	}
	uint64_t *word = &in->taken[(seq % W) / 64];
	*word = take ? *word | 1ull << (seq % 64) : *word & ~(1ull << (seq % 64));
	in->next++;
	int rc = reply(p, e, from, m, take ? PAXOS_MSG_FWD_ACK : PAXOS_MSG_FWD_NACK);
	if (take) {
		int rc2 = paxos_propose_maybe(p, e, false);
		rc = rc ? rc : rc2;
	}
	return rc;
}
