/* paxos/paxos.c — the engine's entry points: configuration, paxos_step's
 * dispatch, timers, and the end-of-step bookkeeping.
 *
 * One step: reset the update, handle the event, run every timer that is due
 * (whatever the event: a late TICK loses nothing), start queued catch-ups,
 * then settle — every dirty record and meta goes into the update, deadlines
 * are recomputed, idle entities are evicted — and compute the next deadline.
 * Handlers only ever append to the update; nothing is half-sent.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paxos/codec.h"
#include "paxos/internal.h"

static int config_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int config_error(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

#define DEFAULT(field, value)                                                                      \
	do {                                                                                       \
		if (!p->cfg.field)                                                                 \
			p->cfg.field = (value);                                                    \
	} while (0)

int paxos_new(const struct paxos_config *cfg, struct paxos **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!cfg || !cfg->nodes || cfg->n_nodes < 1 || cfg->n_nodes > PAXOS_MAX_NODES)
		return config_error(err, errlen, "paxos: need 1..%d nodes", PAXOS_MAX_NODES);
	if (!cfg->ops || !cfg->ops->load_meta || !cfg->ops->load_record ||
	    !cfg->ops->scan_records || !cfg->ops->list_entities)
		return config_error(err, errlen, "paxos: storage callbacks missing");
	if (cfg->id_base >= PAXOS_ID_SEQ_MASK)
		return config_error(err, errlen, "paxos: id base %llu is not below 2^56 - 1",
				    (unsigned long long)cfg->id_base);
	struct paxos *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	p->cfg.nodes = p->nodes;
	p->n_nodes = cfg->n_nodes;
	bool self_found = false;
	for (size_t i = 0; i < cfg->n_nodes; i++) {
		uint32_t id = cfg->nodes[i];
		if (id < 1 || id > 255 || p->node_idx[id]) {
			free(p);
			return config_error(err, errlen,
					    "paxos: node id %u is out of 1..255 or repeated", id);
		}
		p->nodes[i] = id;
		p->node_idx[id] = (uint8_t)(i + 1);
		if (id == cfg->self) {
			self_found = true;
			p->self_idx = i;
		}
	}
	if (!self_found) {
		free(p);
		return config_error(err, errlen, "paxos: self (%u) is not one of the nodes",
				    cfg->self);
	}
	DEFAULT(retry_ms, 200);
	DEFAULT(backoff_min_ms, 10);
	DEFAULT(backoff_max_ms, 500);
	DEFAULT(proposal_timeout_ms, 30000);
	DEFAULT(barrier_timeout_ms, 30000);
	DEFAULT(idle_evict_ms, 30000);
	DEFAULT(value_max_bytes, 4u << 20);
	DEFAULT(fetch_max_entries, 64);
	DEFAULT(fetch_max_bytes, 4u << 20);
	DEFAULT(catchup_concurrency, 16);
	DEFAULT(scan_page, 256);
	DEFAULT(scan_interval_ms, 600000);
	DEFAULT(retention, 1000);
	DEFAULT(forward_hold_ms, 1000);
	if (p->cfg.backoff_max_ms < p->cfg.backoff_min_ms)
		p->cfg.backoff_max_ms = p->cfg.backoff_min_ms;
	p->majority = p->n_nodes / 2 + 1;
	p->amnesia = cfg->amnesia;
	p->quorum_known = !p->amnesia && p->majority == 1;
	p->session = (uint64_t)cfg->self << 56 | cfg->id_base;
	p->id_last = cfg->id_base;
	util_prng_seed(&p->prng, cfg->seed);
	p->out.boxes = paxos_calloc(p, p->n_nodes * sizeof(*p->out.boxes));
	p->out.outboxes = paxos_calloc(p, p->n_nodes * sizeof(*p->out.outboxes));
	p->out.eboxes = paxos_calloc(p, p->n_nodes * sizeof(*p->out.eboxes));
	p->out.early_outboxes = paxos_calloc(p, p->n_nodes * sizeof(*p->out.early_outboxes));
	if (!p->out.boxes || !p->out.outboxes || !p->out.eboxes || !p->out.early_outboxes) {
		paxos_free(p);
		return -ENOMEM;
	}
	paxos_upd_reset(p);
	*out = p;
	return 0;
}

void paxos_free(struct paxos *p)
{
	if (!p)
		return;
	paxos_table_free(p);
	paxos_forward_free_all(p);
	paxos_upd_free(p);
	free(p->cu_queue);
	free(p->cu_peer);
	free(p);
}

/* ---- receiving ---------------------------------------------------------- */

static int on_msg(struct paxos *p, size_t from, const struct paxos_msg *m)
{
	if (paxos_codec_check_msg(m))
		return -EINVAL;
	paxos_note_voter(p, from, !(m->flags & PAXOS_MSG_F_NONVOTER));
	/* Which process of the peer is running (forward.c): said by some
	 * messages. (A value id does not show it: an id is node << 56 | seq,
	 * and which life's base lies below seq is not in it.) */
	if (m->session)
		paxos_note_session(p, from, m->session);
	if (m->type == PAXOS_MSG_SCAN)
		return paxos_on_scan(p, from, m);
	if (m->type == PAXOS_MSG_SCAN_REPLY)
		return paxos_on_scan_reply(p, from, m);
	struct paxos_entity *e = NULL;
	int rc = paxos_entity_get(p, m->entity, &e);
	bool fwd = m->type == PAXOS_MSG_FORWARD || m->type == PAXOS_MSG_FWD_ACK ||
		   m->type == PAXOS_MSG_FWD_NACK || m->type == PAXOS_MSG_FWD_STALE;
	if (rc == -EIO && e && fwd) {
		/* Broken, but FORWARDs are a sequence over all entities: decide
		 * this one (refused) and settle its answer, or one bad entity
		 * would stall forwarding between the two nodes. */
		return m->type == PAXOS_MSG_FORWARD ? paxos_on_forward(p, e, from, m)
						    : paxos_on_forward_reply(p, e, from, m);
	}
	if (rc)
		return rc == -EIO ? 0 : rc; /* broken: refuse service, reported once */
	switch (m->type) {
	case PAXOS_MSG_PREPARE:
		rc = paxos_on_prepare(p, e, from, m);
		break;
	case PAXOS_MSG_PROMISE:
		rc = paxos_on_promise(p, e, from, m);
		break;
	case PAXOS_MSG_ACCEPT:
		rc = paxos_on_accept(p, e, from, m);
		break;
	case PAXOS_MSG_ACCEPTED:
		rc = paxos_on_accepted(p, e, from, m);
		break;
	case PAXOS_MSG_REJECT:
		rc = paxos_on_reject(p, e, from, m);
		break;
	case PAXOS_MSG_CHOSEN:
		rc = paxos_on_chosen(p, e, from, m);
		break;
	case PAXOS_MSG_FETCH:
		rc = paxos_on_fetch(p, e, from, m);
		break;
	case PAXOS_MSG_TRIMMED:
		rc = paxos_on_trimmed(p, e, from, m);
		break;
	case PAXOS_MSG_FETCH_WAIT:
		paxos_on_fetch_wait(p, e, from, m);
		break;
	case PAXOS_MSG_BARRIER:
		rc = paxos_on_barrier(p, e, from, m);
		break;
	case PAXOS_MSG_BARRIER_ACK:
		rc = paxos_on_barrier_ack(p, e, from, m);
		break;
	case PAXOS_MSG_FORWARD:
		rc = paxos_on_forward(p, e, from, m);
		break;
	case PAXOS_MSG_FWD_ACK:
	case PAXOS_MSG_FWD_NACK:
	case PAXOS_MSG_FWD_STALE:
		rc = paxos_on_forward_reply(p, e, from, m);
		break;
	}
	/* After the handler: the message itself may have brought what it
	 * would otherwise make us fetch. */
	int rc2 = paxos_note_peer_chosen(p, e, from, m->chosen);
	return rc ? rc : rc2;
}

static int on_receive(struct paxos *p, const struct paxos_event *ev)
{
	uint32_t from = ev->receive.from;
	if (from > 255 || !p->node_idx[from] || from == p->cfg.self)
		return -EINVAL;
	if (ev->receive.n && !ev->receive.msgs)
		return -EINVAL;
	size_t idx = p->node_idx[from] - 1;
	int ret = 0;
	p->peers_down &= ~(1ull << idx); /* it is up after all */
	for (size_t i = 0; i < ev->receive.n; i++) {
		int rc = on_msg(p, idx, &ev->receive.msgs[i]);
		if (rc && !ret)
			ret = rc;
	}
	return ret;
}

/* The engine's own notices, back after the sync that made them true: so
 * far "my acceptance at (entity, entry, ballot) is durable" (proposer.c),
 * which counts toward that proposal's majority only now. */
static int on_persisted(struct paxos *p, const struct paxos_event *ev)
{
	if (ev->persisted.n && !ev->persisted.msgs)
		return -EINVAL;
	for (size_t i = 0; i < ev->persisted.n; i++) {
		const struct paxos_msg *m = &ev->persisted.msgs[i];
		if (m->type == PAXOS_NOTE_BORN) {
			int rc = paxos_born_synced(p, m->entity);
			if (rc)
				return rc;
			continue;
		}
		if (m->type != PAXOS_MSG_ACCEPTED)
			return -EINVAL;
		/* Only an entity in memory can have the proposal it is for. */
		struct paxos_entity *e = paxos_entity_peek(p, m->entity);
		if (!e || (e->flags & PAXOS_ENT_BROKEN))
			continue;
		paxos_touch(p, e);
		int rc = paxos_on_accepted(p, e, p->self_idx, m);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- timers --------------------------------------------------------------- */

static void entity_timer(struct paxos *p, struct paxos_entity *e)
{
	paxos_queue_expire(p, e);
	if (e->prop && e->prop->deadline <= p->now)
		paxos_proposer_timer(p, e);
	paxos_fetch_timer(p, e);
	paxos_barrier_check(p, e);
	paxos_orphan_timer(p, e);
	paxos_forward_drive(p, e);
}

static void run_timers(struct paxos *p)
{
	struct paxos_entity *e;
	while ((e = paxos_heap_top(p)) && e->deadline <= p->now) {
		paxos_touch(p, e);
		/* Out of the heap until settle puts it back with a fresh
		 * deadline: every entity is visited once per step. */
		paxos_heap_set(p, e, PAXOS_NO_DEADLINE);
		entity_timer(p, e);
	}
	paxos_scan_timer(p);
	paxos_forward_timer(p);
}

/* ---- the step ------------------------------------------------------------- */

static int peer_index(const struct paxos *p, uint32_t node, size_t *idx)
{
	if (node > 255 || !p->node_idx[node] || node == p->cfg.self)
		return -EINVAL;
	*idx = p->node_idx[node] - 1;
	return 0;
}

int paxos_step(struct paxos *p, const struct paxos_event *ev, struct paxos_update **out)
{
	int rc = 0;
	paxos_upd_reset(p);
	*out = &p->out.upd;
	if (p->oom)
		return -ENOMEM;
	if (ev->now_ms > p->now)
		p->now = ev->now_ms;
	if (!p->started) {
		p->started = true;
		p->id_start = p->now; /* the rate bound counts from here */
		/* First step of this process: list every peer's entities, to
		 * catch up what changed while we were away (and, if amnesic,
		 * to learn the fences). */
		for (size_t i = 0; i < p->n_nodes; i++)
			paxos_scan_start(p, i);
		paxos_amnesia_check(p); /* alone in the cluster: nobody to hear from */
	}
	size_t idx;
	switch (ev->type) {
	case PAXOS_EV_TICK:
		break;
	case PAXOS_EV_RECEIVE:
		rc = on_receive(p, ev);
		break;
	case PAXOS_EV_SUBMIT:
		rc = paxos_submit(p, ev->submit.entity, ev->submit.body, ev->submit.len,
				  &p->out.upd.submit_id);
		break;
	case PAXOS_EV_BARRIER:
		rc = paxos_barrier_start(p, ev->barrier.entity, ev->barrier.req_id);
		break;
	case PAXOS_EV_PEER_UP:
		rc = peer_index(p, ev->peer.node, &idx);
		if (!rc) {
			p->peers_up |= 1ull << idx;
			paxos_note_peer(p, idx, true);
			rc = paxos_scan_start(p, idx);
		}
		break;
	case PAXOS_EV_PEER_DOWN:
		rc = peer_index(p, ev->peer.node, &idx);
		if (!rc) {
			p->peers_up &= ~(1ull << idx);
			paxos_note_peer(p, idx, false);
		}
		break;
	case PAXOS_EV_APPLIED:
		rc = ev->applied.entity ? paxos_applied(p, ev->applied.entity, ev->applied.entry,
							ev->applied.chain_crc)
					: -EINVAL;
		break;
	case PAXOS_EV_SNAPSHOT_INSTALLED:
		rc = ev->snapshot.entity
			 ? paxos_snapshot_installed(p, ev->snapshot.entity, ev->snapshot.entry,
						    ev->snapshot.chain_crc)
			 : -EINVAL;
		break;
	case PAXOS_EV_SNAPSHOT_FAILED:
		rc = ev->snapshot.entity ? paxos_snapshot_failed(p, ev->snapshot.entity) : -EINVAL;
		break;
	case PAXOS_EV_PERSISTED:
		rc = on_persisted(p, ev);
		break;
	case PAXOS_EV_BORN:
		rc = paxos_born(p, ev->born.entity, ev->born.cmd_id);
		break;
	default:
		rc = -EINVAL;
		break;
	}
	run_timers(p);
	paxos_catchup_pump(p);
	paxos_settle(p);
	uint64_t d = paxos_min(paxos_scan_deadline(p), paxos_forward_timer_deadline(p));
	struct paxos_entity *top = paxos_heap_top(p);
	if (top)
		d = paxos_min(d, top->deadline);
	p->out.upd.deadline_ms = d;
	paxos_upd_finish(p);
	if (p->oom) {
		/* Some record, meta or message of this step may be missing: hand
		 * out nothing of it — exactly a crash before this step's persist —
		 * and stop. A restart resumes from what earlier steps persisted. */
		struct paxos_update *u = &p->out.upd;
		memset(u, 0, sizeof(*u));
		u->deadline_ms = PAXOS_NO_DEADLINE;
		return -ENOMEM;
	}
	return rc;
}

/* ---- observation ------------------------------------------------------- */

const char *paxos_msg_type_name(uint32_t type)
{
	static const char *const names[] = {
	    [PAXOS_MSG_PREPARE] = "PREPARE",
	    [PAXOS_MSG_PROMISE] = "PROMISE",
	    [PAXOS_MSG_ACCEPT] = "ACCEPT",
	    [PAXOS_MSG_ACCEPTED] = "ACCEPTED",
	    [PAXOS_MSG_REJECT] = "REJECT",
	    [PAXOS_MSG_CHOSEN] = "CHOSEN",
	    [PAXOS_MSG_FETCH] = "FETCH",
	    [PAXOS_MSG_TRIMMED] = "TRIMMED",
	    [PAXOS_MSG_BARRIER] = "BARRIER",
	    [PAXOS_MSG_BARRIER_ACK] = "BARRIER_ACK",
	    [PAXOS_MSG_SCAN] = "SCAN",
	    [PAXOS_MSG_SCAN_REPLY] = "SCAN_REPLY",
	    [PAXOS_MSG_FORWARD] = "FORWARD",
	    [PAXOS_MSG_FWD_ACK] = "FWD_ACK",
	    [PAXOS_MSG_FWD_NACK] = "FWD_NACK",
	    [PAXOS_MSG_FWD_STALE] = "FWD_STALE",
	    [PAXOS_MSG_FETCH_WAIT] = "FETCH_WAIT",
	};
	if (type < 1 || type > PAXOS_MSG_TYPE_MAX)
		return "?";
	return names[type];
}

void paxos_get_stats(const struct paxos *p, struct paxos_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->entities = p->n_entities;
	out->entities_idle = p->n_idle;
	out->proposals = p->n_props;
	out->commands_waiting = p->n_cmds;
	out->catchup_queued = p->cu_len;
	out->catchup_active = p->cu_active;
	out->catchup_done = p->cu_done;
	out->entries_proposed = p->ctr.proposed;
	out->entries_fast = p->ctr.fast;
	out->phase1_rounds = p->ctr.phase1;
	out->preempted = p->ctr.preempted;
	out->entries_lost = p->ctr.lost;
	out->resends = p->ctr.resends;
	for (size_t i = 0; i < p->n_nodes; i++)
		if (p->scans[i].open)
			out->scans_open++;
	out->amnesia = p->amnesia;
	out->alloc_bytes = p->alloc_bytes;
	out->alloc_count = p->alloc_count;
}

int paxos_entity_chosen(struct paxos *p, uint64_t entity, uint64_t *chosen)
{
	*chosen = 0;
	/* Outside a step: read, never load (loading would touch the update
	 * the caller may still be reading). */
	const struct paxos_entity *e = paxos_entity_peek(p, entity);
	if (e) {
		*chosen = e->chosen;
		return (e->flags & PAXOS_ENT_BROKEN) ? -EIO : 0;
	}
	struct paxos_meta m;
	int rc = p->cfg.ops->load_meta(p->cfg.ops_ctx, entity, &m);
	if (rc == -ENOENT)
		return 0;
	if (!rc)
		*chosen = m.chosen_entry;
	return rc;
}
