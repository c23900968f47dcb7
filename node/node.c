/* node/node.c — the node's life: creating it, starting its engine,
 * dropping and restarting the engine after a store fault, stopping.
 *
 * Invariant: an engine runs only after io->boot recorded its id base, above
 * every id of the engines before it (ids never repeat, paxos/paxos.h; within
 * the process checked here, across processes by the wall clock). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/internal.h"
#include "util/log.h"

int node_new(const struct node_config *cfg, struct node **out)
{
	struct node *n;

	*out = NULL;
	if (!cfg->io || !cfg->fsm || !cfg->storage || !cfg->n_nodes ||
	    cfg->n_nodes > PAXOS_MAX_NODES)
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->cfg = *cfg;
	memcpy(n->nodes, cfg->nodes, cfg->n_nodes * sizeof(*n->nodes));
	n->cfg.nodes = n->nodes;
	n->deadline_ms = PAXOS_NO_DEADLINE;
	n->cur = node_turn_new();
	util_u64map_init(&n->cmds);
	util_u64map_init(&n->barriers);
	util_u64map_init(&n->deferred);
	*out = n;
	return 0;
}

void node_free(struct node *n)
{
	if (!n)
		return;
	paxos_free(n->engine);
	node_turn_free(n->cur);
	node_turn_free(n->held);
	node_turn_free(n->spare);
	util_u64map_close(&n->cmds);
	util_u64map_close(&n->barriers);
	util_u64map_close(&n->deferred);
	free(n);
}

int node_start(struct node *n, char *err, size_t errlen)
{
	struct paxos_config cfg = n->cfg.engine;
	struct node_boot boot = {0};
	int rc;

	if (n->stopped) {
		snprintf(err, errlen, "the node is stopped");
		return -ESHUTDOWN;
	}
	if (n->engine) {
		snprintf(err, errlen, "an engine runs already");
		return -EALREADY;
	}
	/* A new boot count and id base before any id of this life is handed out. */
	rc = n->cfg.io->boot(n->cfg.io_ctx, &boot, err, errlen);
	if (rc < 0)
		return rc;
	/* An earlier engine of this process may have run within the same
	 * millisecond of the wall clock, or the clock stepped back: its ids
	 * must stay below this one's. Not now, then; node_tick tries again. */
	if (boot.id_base < n->id_used) {
		snprintf(err, errlen,
			 "the id base %llu is not above the last engine's ids (%llu): the wall "
			 "clock went back?",
			 (unsigned long long)boot.id_base, (unsigned long long)n->id_used);
		return -EAGAIN;
	}
	n->boot_count = boot.boot_count;
	n->id_base = boot.id_base;
	n->amnesia = boot.amnesia;

	cfg.self = n->cfg.self;
	cfg.nodes = n->nodes;
	cfg.n_nodes = n->cfg.n_nodes;
	cfg.boot_count = boot.boot_count;
	cfg.id_base = boot.id_base;
	/* Ballots carry it too: a new life never reuses an earlier one's. */
	cfg.incarnation = boot.incarnation ? boot.incarnation : boot.boot_count;
	cfg.amnesia = boot.amnesia;
	cfg.seed = boot.seed;
	cfg.ops = n->cfg.storage;
	cfg.ops_ctx = n->cfg.storage_ctx;
	rc = paxos_new(&cfg, &n->engine, err, errlen);
	if (rc < 0)
		return rc;
	n->engine_err = 0;
	n->restart = false;
	/* What the engine had chosen that the state machine had not applied
	 * when the last engine stopped: from the log, before anything new. */
	node_apply_catch_up(n);
	n->cfg.fsm->started(n->cfg.fsm_ctx);
	for (size_t i = 0; i < n->cfg.n_nodes && n->engine; i++) {
		uint32_t peer = n->nodes[i];
		if (peer != n->cfg.self && n->cfg.io->peer_connected(n->cfg.io_ctx, peer)) {
			struct paxos_event ev = {.type = PAXOS_EV_PEER_UP, .peer = {peer}};
			node_step(n, &ev, NULL);
		}
	}
	if (n->engine && n->cfg.n_nodes == 1) {
		/* Alone, nothing else would step it: its first step clears the
		 * amnesia of a new store (nobody to re-learn from). */
		struct paxos_event ev = {.type = PAXOS_EV_TICK};
		node_step(n, &ev, NULL);
	}
	return 0;
}

void node_arm_timer(struct node *n)
{
	uint64_t t = n->engine ? n->deadline_ms : PAXOS_NO_DEADLINE;
	if (n->stopped)
		t = PAXOS_NO_DEADLINE;
	else if (!n->engine && n->restart && n->restart_at < t)
		t = n->restart_at;
	if (!n->stopped && n->retry_at && n->retry_at < t)
		t = n->retry_at;
	n->cfg.io->set_timer(n->cfg.io_ctx, t);
}

void node_tick(struct node *n)
{
	struct paxos_event ev = {.type = PAXOS_EV_TICK};
	uint64_t now = n->cfg.io->now_ms(n->cfg.io_ctx);
	char err[256];

	if (n->stopped)
		return;
	if (!n->engine && n->restart && now >= n->restart_at &&
	    node_start(n, err, sizeof(err)) < 0 && !n->engine && !n->stopped) {
		LOG_WARN("engine restart failed (%s); trying again in %d ms", err,
			 NODE_RESTART_RETRY_MS);
		n->restart_at = now + NODE_RESTART_RETRY_MS;
	}
	if (n->retry_at && now >= n->retry_at)
		node_apply_retry(n);
	if (n->engine)
		node_step(n, &ev, NULL); /* the flush arms the timer */
	else
		node_arm_timer(n);
}

/* Drops the engine and everything the turns hold. */
static void drop_engine(struct node *n, int err)
{
	if (n->engine)
		n->id_used = paxos_last_id_seq(n->engine);
	paxos_free(n->engine);
	n->engine = NULL;
	n->engine_err = err;
	node_turn_clear(n->cur);
	if (n->held) {
		node_turn_free(n->held);
		n->held = NULL;
	}
	n->deadline_ms = PAXOS_NO_DEADLINE;
}

void node_reset(struct node *n, int err)
{
	if (n->stopped)
		return;
	drop_engine(n, err);
	n->restart = true;
	n->restart_at = n->cfg.io->now_ms(n->cfg.io_ctx);
	node_abandon_all(n, err);
	n->cfg.fsm->lost(n->cfg.fsm_ctx, err);
	node_arm_timer(n);
}

void node_stop(struct node *n)
{
	if (n->stopped)
		return;
	n->stopped = true;
	n->restart = false;
	drop_engine(n, -EIO);
	n->cfg.io->set_timer(n->cfg.io_ctx, PAXOS_NO_DEADLINE);
	node_abandon_all(n, -EIO);
	n->cfg.fsm->lost(n->cfg.fsm_ctx, -EIO);
}

struct paxos *node_engine(const struct node *n)
{
	return n->engine;
}

int node_engine_err(const struct node *n)
{
	return n->engine_err;
}

uint64_t node_id_base_next(uint64_t wall_ms, uint64_t last_base, uint64_t old_boot)
{
	uint64_t b, floor = 0;
	if (wall_ms >= (PAXOS_ID_SEQ_MASK >> PAXOS_ID_MS_SHIFT) - 1)
		return 0;
	b = (wall_ms + 1) << PAXOS_ID_MS_SHIFT;
	if (last_base)
		floor = last_base + (UINT64_C(1) << PAXOS_ID_MS_SHIFT);
	else if (old_boot)
		floor = ((old_boot & 0xffffff) + 1) << 32;
	if (floor > b)
		b = floor;
	/* room for the life's ids above it, however few */
	if (b >= PAXOS_ID_SEQ_MASK - (UINT64_C(1) << PAXOS_ID_MS_SHIFT))
		return 0;
	return b;
}

uint64_t node_id_base_new(uint64_t wall_ms)
{
	return wall_ms << PAXOS_ID_MS_SHIFT;
}

uint64_t node_id_base(const struct node *n)
{
	return n->id_base;
}

uint64_t node_boot_count(const struct node *n)
{
	return n->boot_count;
}

bool node_amnesia(const struct node *n)
{
	return n->amnesia;
}

bool node_busy(const struct node *n)
{
	return n->held != NULL;
}

bool node_stopped(const struct node *n)
{
	return n->stopped;
}
