/* node/req.c — the driver's requests waiting for the engine.
 *
 *   cmds:     command id → request   (a SUBMIT the engine took)
 *   barriers: barrier id → request   (one entry per barrier; a request may
 *                                      wait for several)
 *
 * Barrier ids are this node's (process's), never reused across engines: an
 * answer meant for an engine that was dropped finds no entry. A request
 * leaves the maps exactly once: its command is applied (node_cmd_take), the
 * engine gives up on it (fsm->failed, fsm->barrier_done), or the engine is
 * dropped (fsm->abandon, once per request). */
#include <errno.h>
#include <stdlib.h>

#include "node/internal.h"

int node_submit(struct node *n, uint64_t entity, const void *body, size_t len, void *req,
		uint64_t *cmd_id)
{
	struct paxos_event ev = {.type = PAXOS_EV_SUBMIT};
	uint64_t id = 0;
	int rc;

	ev.submit.entity = entity;
	ev.submit.body = body;
	ev.submit.len = len;
	rc = node_step(n, &ev, &id);
	*cmd_id = id;
	if (rc < 0 || !id)
		return rc < 0 ? rc : -EIO;
	if (util_u64map_put(&n->cmds, id, req) < 0)
		abort(); /* a lost entry would leave a request unanswered */
	return 0;
}

void *node_cmd_take(struct node *n, uint64_t cmd_id)
{
	return util_u64map_del(&n->cmds, cmd_id);
}

int node_barrier(struct node *n, uint64_t entity, void *req)
{
	struct paxos_event ev = {.type = PAXOS_EV_BARRIER};
	uint64_t id = ++n->next_barrier_id;
	int rc;

	if (util_u64map_put(&n->barriers, id, req) < 0)
		abort();
	ev.barrier.entity = entity;
	ev.barrier.req_id = id;
	rc = node_step(n, &ev, NULL);
	if (rc >= 0)
		return 0;
	if (util_u64map_del(&n->barriers, id))
		return rc; /* refused at once: no answer will come */
	return -ECANCELED; /* the step dropped the engine: req went to fsm->abandon */
}

void node_req_failed(struct node *n, const struct paxos_failed *f)
{
	void *req = util_u64map_del(&n->cmds, f->cmd_id);
	if (req)
		n->cfg.fsm->failed(n->cfg.fsm_ctx, req, f);
}

void node_req_barrier_done(struct node *n, const struct paxos_barrier_done *b)
{
	void *req = util_u64map_del(&n->barriers, b->req_id);
	if (req)
		n->cfg.fsm->barrier_done(n->cfg.fsm_ctx, req, b);
}

void node_abandon_all(struct node *n, int err)
{
	struct util_u64map seen, in_flight, cmds = n->cmds, barriers = n->barriers;
	size_t pos = 0;
	uint64_t key;
	void *val;

	/* The maps are emptied first: an answer may submit anew. */
	util_u64map_init(&n->cmds);
	util_u64map_init(&n->barriers);
	util_u64map_init(&seen);
	util_u64map_init(&in_flight);
	/* A request may wait for several barriers: it is abandoned once. A
	 * command in flight may still be chosen: its request is abandoned with
	 * -EIO, "not known to be done", whatever dropped the engine. */
	while (util_u64map_next(&barriers, &pos, &key, &val))
		if (util_u64map_put(&seen, (uint64_t)(uintptr_t)val, val) < 0)
			abort();
	pos = 0;
	while (util_u64map_next(&cmds, &pos, &key, &val)) {
		util_u64map_del(&seen, (uint64_t)(uintptr_t)val);
		if (util_u64map_put(&in_flight, (uint64_t)(uintptr_t)val, val) < 0)
			abort();
	}
	util_u64map_close(&barriers);
	util_u64map_close(&cmds);
	pos = 0;
	while (util_u64map_next(&seen, &pos, &key, &val))
		n->cfg.fsm->abandon(n->cfg.fsm_ctx, val, err);
	pos = 0;
	while (util_u64map_next(&in_flight, &pos, &key, &val))
		n->cfg.fsm->abandon(n->cfg.fsm_ctx, val, -EIO);
	util_u64map_close(&seen);
	util_u64map_close(&in_flight);
}
