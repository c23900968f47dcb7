/* node/turn.c — carrying out the engine's updates: persist, send the early
 * messages, sync, send, deliver (node/node.h draws it).
 *
 * Invariant: nothing a turn holds leaves before the sync that covers its
 * writes returned 0; a turn whose write or sync failed is dropped whole. An
 * update's early messages (paxos.h: ACCEPTs that no crash of this node can
 * make untrue, CHOSEN) are not held: they leave as soon as its writes are
 * made, so the peers' syncs run while this node's does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/internal.h"
#include "util/log.h"

#define VEC_PUSH(arr, n, cap, item)                                                                \
	do {                                                                                       \
		if ((n) == (cap)) {                                                                \
			size_t c_ = (cap) ? (cap)*2 : 16;                                          \
			void *p_ = realloc((arr), c_ * sizeof(*(arr)));                            \
			if (!p_)                                                                   \
				abort();                                                           \
			(arr) = p_;                                                                \
			(cap) = c_;                                                                \
		}                                                                                  \
		(arr)[(n)++] = (item);                                                             \
	} while (0)

/* The update's memory is the engine's until the next step: what the turn
 * holds past that is copied. */
static const void *keep(struct node_turn *t, const void *data, size_t len)
{
	void *copy;
	if (!data || !len)
		return data;
	copy = malloc(len);
	if (!copy)
		abort();
	memcpy(copy, data, len);
	VEC_PUSH(t->owned, t->n_owned, t->cap_owned, copy);
	return copy;
}

struct node_turn *node_turn_new(void)
{
	struct node_turn *t = calloc(1, sizeof(*t));
	if (!t)
		abort();
	return t;
}

void node_turn_clear(struct node_turn *t)
{
	for (size_t i = 0; i < t->n_owned; i++)
		free(t->owned[i]);
	t->n_owned = 0;
	for (size_t i = 0; i < 256; i++)
		t->out[i].n = 0;
	t->notices.n = 0;
	t->n_chosen = t->n_failed = t->n_barriers = t->n_snaps = 0;
	t->sync = t->scheduled = t->has_deadline = false;
}

void node_turn_free(struct node_turn *t)
{
	if (!t)
		return;
	node_turn_clear(t);
	for (size_t i = 0; i < 256; i++)
		free(t->out[i].v);
	free(t->notices.v);
	free(t->chosen);
	free(t->failed);
	free(t->barriers);
	free(t->snaps);
	free(t->owned);
	free(t);
}

/* Copies what the update asks to be sent, told or done into the turn. */
static void hold(struct node *n, struct node_turn *t, const struct paxos_update *u)
{
	if (u->needs_sync)
		t->sync = true;
	for (size_t i = 0; i < u->n_outboxes; i++) {
		const struct paxos_outbox *ob = &u->outboxes[i];
		struct node_out *o = &t->out[ob->to & 0xff];
		for (size_t j = 0; j < ob->n; j++) {
			struct paxos_msg m = ob->msgs[j];
			m.value = keep(t, m.value, m.value_len);
			m.items = keep(t, m.items, m.n_items * sizeof(*m.items));
			VEC_PUSH(o->v, o->n, o->cap, m);
		}
	}
	for (size_t i = 0; i < u->n_notices; i++) {
		struct paxos_msg m = u->notices[i];
		m.value = keep(t, m.value, m.value_len);
		m.items = keep(t, m.items, m.n_items * sizeof(*m.items));
		VEC_PUSH(t->notices.v, t->notices.n, t->notices.cap, m);
	}
	for (size_t i = 0; i < u->n_chosen; i++) {
		struct paxos_chosen c = u->chosen[i];
		c.value = keep(t, c.value, c.value_len);
		VEC_PUSH(t->chosen, t->n_chosen, t->cap_chosen, c);
	}
	for (size_t i = 0; i < u->n_failed; i++)
		VEC_PUSH(t->failed, t->n_failed, t->cap_failed, u->failed[i]);
	for (size_t i = 0; i < u->n_barriers; i++)
		VEC_PUSH(t->barriers, t->n_barriers, t->cap_barriers, u->barriers[i]);
	for (size_t i = 0; i < u->n_snapshots; i++)
		VEC_PUSH(t->snaps, t->n_snaps, t->cap_snaps, u->snapshots[i]);
	for (size_t i = 0; i < u->n_errors; i++)
		n->cfg.fsm->entity_error(n->cfg.fsm_ctx, u->errors[i].entity, u->errors[i].error);
	t->deadline_ms = u->deadline_ms;
	t->has_deadline = true;
}

static bool has_writes(const struct paxos_update *u)
{
	return u->n_records || u->n_metas || u->n_trims || u->amnesia_cleared;
}

int node_step(struct node *n, struct paxos_event *ev, uint64_t *submit_id)
{
	const struct node_io *io = n->cfg.io;
	struct paxos_update *u;
	int rc, wrc = 0;

	if (submit_id)
		*submit_id = 0;
	if (!n->engine)
		return -ENOTCONN;
	ev->now_ms = io->now_ms(n->cfg.io_ctx);
	rc = paxos_step(n->engine, ev, &u);
	if (rc == -ENOMEM) {
		/* The engine is in an unknown state (paxos.h): stop as a crash would. */
		LOG_ERR("out of memory in the Paxos engine: stopping");
		abort();
	}
	if (submit_id)
		*submit_id = u->submit_id;
	if (has_writes(u))
		wrc = io->persist(n->cfg.io_ctx, u);
	if (wrc == -ENOSPC) {
		/* Nothing of the failed write is in the page cache: rebuild the
		 * engine from the store, which takes writes again once there is
		 * room. */
		node_reset(n, wrc);
		return -ENOTCONN;
	}
	if (wrc < 0) {
		char why[160];
		snprintf(why, sizeof(why),
			 "writing to the store failed (%s): stopping; restart the node to recover "
			 "from its disk",
			 strerror(-wrc));
		node_stop(n);
		io->fatal(n->cfg.io_ctx, wrc, why);
		return -ENOTCONN;
	}
	if (u->amnesia_cleared)
		n->amnesia = false;
	/* Written (not yet durable): what may go before the sync goes now. */
	for (size_t i = 0; i < u->n_early_outboxes; i++)
		io->send(n->cfg.io_ctx, u->early_outboxes[i].to, u->early_outboxes[i].msgs,
			 u->early_outboxes[i].n);
	hold(n, n->cur, u);
	if (!n->cur->scheduled) {
		n->cur->scheduled = true;
		io->schedule_flush(n->cfg.io_ctx);
	}
	return rc;
}

static void arm_timer(struct node *n, uint64_t deadline)
{
	n->deadline_ms = n->engine ? deadline : PAXOS_NO_DEADLINE;
	node_arm_timer(n);
}

/* Steps 2..6 of a turn whose writes are durable. The turn leaves n->held
 * first: what delivering steps goes into n->cur. */
static void deliver(struct node *n, struct node_turn *t)
{
	const struct node_io *io = n->cfg.io;
	const struct node_fsm *fsm = n->cfg.fsm;
	void *fc = n->cfg.fsm_ctx;

	for (uint32_t to = 1; to < 256; to++)
		if (t->out[to].n)
			io->send(n->cfg.io_ctx, to, t->out[to].v, t->out[to].n);
	if (t->notices.n && n->engine) {
		/* The engine's own acceptances in this turn are durable now:
		 * they count toward their proposals' majorities (a step of the
		 * next turn). */
		struct paxos_event ev = {.type = PAXOS_EV_PERSISTED};
		ev.persisted.msgs = t->notices.v;
		ev.persisted.n = t->notices.n;
		node_step(n, &ev, NULL);
	}
	/* The values are chosen and durable: they are applied even when a
	 * step made while applying reset the engine; not after a stop. */
	for (size_t i = 0; i < t->n_chosen && !n->stopped; i++)
		node_apply_chosen(n, &t->chosen[i]);
	for (size_t i = 0; i < t->n_failed && !n->stopped; i++)
		node_req_failed(n, &t->failed[i]);
	for (size_t i = 0; i < t->n_barriers && !n->stopped; i++)
		node_req_barrier_done(n, &t->barriers[i]);
	for (size_t i = 0; i < t->n_snaps && !n->stopped; i++)
		fsm->snapshot_fetch(fc, &t->snaps[i]);
	/* An engine reset while delivering armed the restart: keep it. */
	if (n->engine && t->has_deadline)
		arm_timer(n, t->deadline_ms);
}

static void recycle(struct node *n, struct node_turn *t)
{
	node_turn_clear(t);
	if (n->spare)
		node_turn_free(n->spare);
	n->spare = t;
}

static void sync_failed(struct node *n, struct node_turn *t, int rc)
{
	char why[160];
	/* After a failed sync nobody knows what of the page cache reached
	 * the disk, nor what a later sync would write ("fsyncgate"): nothing
	 * of the turn leaves, and the node stops. A restart recovers from what
	 * the disk holds. */
	recycle(n, t);
	snprintf(why, sizeof(why),
		 "syncing the store failed (%s): stopping; restart the node to recover from its "
		 "disk",
		 strerror(-rc));
	node_stop(n);
	n->cfg.io->fatal(n->cfg.io_ctx, rc, why);
}

void node_flush(struct node *n)
{
	struct node_turn *t = n->cur;
	int rc = 0;

	if (!t->scheduled || n->held)
		return;
	n->cur = n->spare ? n->spare : node_turn_new();
	n->spare = NULL;
	if (t->sync) {
		/* The writes are made; this is the sync point that makes every
		 * write of the turn (and before) durable. */
		rc = n->cfg.io->sync(n->cfg.io_ctx);
		if (rc == NODE_SYNC_PENDING) {
			n->held = t;
			return;
		}
		if (rc < 0) {
			sync_failed(n, t, rc);
			return;
		}
	}
	deliver(n, t);
	recycle(n, t);
}

void node_sync_done(struct node *n, int rc)
{
	struct node_turn *t = n->held;

	if (!t)
		return; /* dropped meanwhile (node_reset, node_stop) */
	n->held = NULL;
	if (rc < 0) {
		sync_failed(n, t, rc);
		return;
	}
	deliver(n, t);
	recycle(n, t);
	/* Steps taken while the sync was out: their turn asked for a flush
	 * that found this one held. */
	if (n->cur->scheduled)
		node_flush(n);
}
