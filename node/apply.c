/* node/apply.c — the apply order: chosen entries into the state machine,
 * strictly in entry order per entity.
 *
 *   chosen (entity, entry) ──▶ applied cursor a (fsm->applied)
 *        entries a+1 .. entry-1 read back from the log (storage load_record:
 *        the turn wrote them before delivering), entry itself from the turn
 *        ──▶ fsm->apply, one entry at a time
 *
 *   deferred: entity → 1   entities with chosen entries the state machine
 *                           put off (-EAGAIN: e.g. a file whose inode the
 *                           namespace has not created here yet; -ENOSPC: the
 *                           disk is full), or that it holds still
 *                           (fsm->hold: a snapshot of it streams out), or
 *                           whose next value is not in the log yet
 *
 * Deferred entities are retried after an entry of cfg.unblock_entity (the
 * namespace) is applied, when the driver says so (node_apply_retry), and
 * every NODE_APPLY_RETRY_MS while any remain (the node's one timer).
 * After an engine start the state machine catches up from the log: every
 * entity whose chosen entry is above its applied one, cfg.unblock_entity
 * first.
 *
 * Invariant: the applied entry of an entity never passes the engine's chosen
 * entry, and nothing is applied out of order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/internal.h"
#include "util/log.h"

static void defer(struct node *n, uint64_t entity)
{
	if (util_u64map_put(&n->deferred, entity, (void *)1) < 0)
		abort(); /* a lost entity would never be applied */
	if (!n->retry_at) {
		n->retry_at = n->cfg.io->now_ms(n->cfg.io_ctx) + NODE_APPLY_RETRY_MS;
		node_arm_timer(n);
	}
}

/* Applies entity through `entry`; `c` (may be NULL) is that entry's value. */
static void apply_through(struct node *n, uint64_t entity, uint64_t entry,
			  const struct paxos_chosen *c)
{
	const struct node_fsm *fsm = n->cfg.fsm;
	void *fc = n->cfg.fsm_ctx;
	uint64_t applied = 0;
	int rc;

	if (fsm->hold && fsm->hold(fc, entity)) {
		defer(n, entity); /* its state must stay still now */
		return;
	}
	rc = fsm->applied(fc, entity, &applied);
	if (rc < 0) {
		LOG_ERR("entity %llu: cannot read its apply cursor: %s", (unsigned long long)entity,
			strerror(-rc));
		return;
	}
	for (uint64_t e = applied + 1; e <= entry && !n->stopped; e++) {
		if (e == entry && c) {
			rc = fsm->apply(fc, c, false);
		} else {
			struct paxos_record rec = {0};
			struct paxos_chosen from_log = {.entity = entity, .entry = e};
			rc = n->cfg.storage->load_record(n->cfg.storage_ctx, entity, e, &rec);
			if (rc == 0 && !rec.chosen)
				rc = -EAGAIN; /* chosen, but this node holds no chosen value
					       * yet: the engine fetches it; try later */
			if (rc == 0) {
				from_log.value_id = rec.value_id;
				from_log.value = rec.value;
				from_log.value_len = rec.value_len;
				rc = fsm->apply(fc, &from_log, true);
			}
			free(rec.value);
		}
		if (rc == -EAGAIN || rc == -ENOSPC || rc == -ENOENT) {
			defer(n, entity);
			break;
		}
		if (rc < 0) {
			LOG_ERR("entity %llu entry %llu cannot be applied: %s",
				(unsigned long long)entity, (unsigned long long)e, strerror(-rc));
			break;
		}
		if (entity == n->cfg.unblock_entity && n->deferred.len)
			node_apply_retry(n);
	}
}

void node_apply_chosen(struct node *n, const struct paxos_chosen *c)
{
	apply_through(n, c->entity, c->entry, c);
	if (n->cfg.fsm->applies_done)
		n->cfg.fsm->applies_done(n->cfg.fsm_ctx);
}

/* The entity's chosen entry as the store holds it (0: none). */
static uint64_t stored_chosen(struct node *n, uint64_t entity)
{
	struct paxos_meta m;
	if (n->cfg.storage->load_meta(n->cfg.storage_ctx, entity, &m) < 0)
		return 0;
	return m.chosen_entry;
}

void node_apply_retry(struct node *n)
{
	struct util_u64map todo = n->deferred;
	size_t pos = 0;
	uint64_t entity;
	void *v;

	/* Entities that fail again are deferred anew into a fresh map. */
	util_u64map_init(&n->deferred);
	n->retry_at = 0;
	while (util_u64map_next(&todo, &pos, &entity, &v)) {
		uint64_t chosen = stored_chosen(n, entity);
		if (chosen > 0)
			apply_through(n, entity, chosen, NULL);
	}
	util_u64map_close(&todo);
	if (n->cfg.fsm->applies_done)
		n->cfg.fsm->applies_done(n->cfg.fsm_ctx);
}

/* Applies what the log holds beyond the state of `entity`. */
static void catch_up_one(struct node *n, uint64_t entity)
{
	uint64_t chosen = stored_chosen(n, entity), applied = 0;
	if (chosen == 0)
		return;
	if (n->cfg.fsm->applied(n->cfg.fsm_ctx, entity, &applied) == 0 && applied >= chosen)
		return;
	apply_through(n, entity, chosen, NULL);
}

void node_apply_catch_up(struct node *n)
{
	uint64_t ids[64], after = 0;
	size_t got = 0;
	int rc;

	if (n->cfg.unblock_entity)
		catch_up_one(n, n->cfg.unblock_entity); /* the others may wait for it */
	do {
		rc = n->cfg.storage->list_entities(n->cfg.storage_ctx, after, ids, 64, &got);
		if (rc < 0) {
			LOG_ERR("listing entities to re-apply: %s", strerror(-rc));
			break;
		}
		for (size_t i = 0; i < got && !n->stopped; i++)
			if (ids[i] != n->cfg.unblock_entity)
				catch_up_one(n, ids[i]);
		if (got)
			after = ids[got - 1];
	} while (got == 64);
	if (n->cfg.fsm->applies_done)
		n->cfg.fsm->applies_done(n->cfg.fsm_ctx);
}

size_t node_deferred(const struct node *n)
{
	return n->deferred.len;
}

bool node_apply_deferred(const struct node *n, uint64_t entity)
{
	return util_u64map_get(&n->deferred, entity) != NULL;
}
