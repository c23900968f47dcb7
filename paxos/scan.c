/* paxos/scan.c — entity listings from peers: background catch-up after a
 * restart or a partition, and the amnesia fence.
 *
 *   SCAN(cursor) ──▶ peer lists up to scan_page entities after cursor:
 *   ◀── SCAN_REPLY (entity, chosen, top)… [DONE on the last page]
 *
 * For each listed entity this node is behind on (peer's chosen > ours), the
 * entity goes on the catch-up queue; at most catchup_concurrency entities are
 * fetched at once, and the next page is asked only while the queue is short:
 * a node back from a long absence catches up in the background at a bounded
 * rate, while it serves everything else.
 *
 * Passes start when this process starts, when a peer comes back (PEER_UP:
 * what was lost with the connection), and every scan_interval_ms (slow
 * anti-entropy: a node partitioned from a proposer that then lost its disk
 * learns the entry from a third node, which nothing else would make it ask).
 *
 * Amnesia (docs/decisions.md, and paxos/paxos.h for why every other node):
 * while amnesic, each listed entity's vote fence is raised to the peer's top
 * (the highest entry it holds any record of, or its own fence; one more
 * where that entry holds a value an earlier process of the peer built:
 * listed_top below). Amnesia ends
 * when the listing of every other node has been read to the end; the fences
 * persist in the same update that reports amnesia_cleared.
 *
 * Who votes: every message says whether its sender is amnesic (NONVOTER,
 * set by paxos_send); paxos.c notes it for every message received. A node
 * proposes only while it knows a majority of voters, itself included
 * (proposer.c): in a new cluster, where every node starts amnesic, nothing is
 * written until a majority has joined, so the nodes joining last find no
 * records and take no fences — otherwise the first node to finish could
 * fence two others at its first entry and block that entity for good.
 *
 * Invariant: one page per peer in flight, answered by cursor; a stale or
 * duplicated page (its cursor is not the one we wait for) is ignored.
 */
#include <errno.h>
#include <stdlib.h>

#include "paxos/internal.h"

#define CATCHUP_QUEUE_PAGES 4 /* ask for more pages while the queue is shorter */

static int send_scan(struct paxos *p, size_t peer)
{
	struct paxos_scan *sc = &p->scans[peer];
	struct paxos_msg m = {0};
	m.type = PAXOS_MSG_SCAN;
	m.nonce = sc->cursor;
	m.session = p->session; /* who we are (forward.c) */
	sc->resend_at = p->now + p->cfg.retry_ms;
	return paxos_send(p, peer, &m, NULL);
}

/* The top this node lists for `e`: the highest entry it holds any record
 * of, plus one when that entry holds a value an earlier process of this
 * node built (or may have: a chosen entry whose value this process did not
 * see built); 1 for an entity an earlier process created (PaxosMeta.born)
 * and holds no record of, for the same reason at entry 1. That process may
 * have sent round-0 ACCEPTs for the next entry before its own acceptance
 * there was durable (proposer.c: only once its acceptance here was
 * durable, so this record survives), then died: they
 * may still reach a peer that has not heard from this process yet, after it
 * answered an amnesic node, which must not vote there (paxos.h, "Amnesia
 * guard"). */
static uint64_t listed_top(const struct paxos *p, const struct paxos_entity *e)
{
	uint64_t top = paxos_slots_top(e);
	if (!top) /* an earlier process's create: it may have sent entry 1 early */
		return e->born && e->born != p->cfg.id_base ? 1 : 0;
	const struct paxos_slot *s = NULL;
	for (const struct paxos_slot *x = e->slots; x; x = x->next)
		if (x->entry == top)
			s = x;
	bool earlier;
	if (s)
		earlier = s->accepted && paxos_id_node(s->value_id) == p->cfg.self &&
			  !paxos_id_mine(p, s->value_id);
	else /* the chosen entry, its record out of memory */
		earlier = e->chosen_proposer == p->cfg.self && !e->chosen_mine;
	return earlier ? top + 1 : top;
}

static bool queue_full(const struct paxos *p)
{
	return p->cu_len >= (size_t)p->cfg.scan_page * CATCHUP_QUEUE_PAGES;
}

int paxos_scan_start(struct paxos *p, size_t peer)
{
	if (peer == p->self_idx)
		return 0;
	struct paxos_scan *sc = &p->scans[peer];
	if (sc->open) {
		/* A pass is under way: finish it, then list everything again
		 * (what it listed already may have changed meanwhile). A
		 * flapping link thus costs one pass at a time, not a restart
		 * per flap that never finishes. */
		sc->again = true;
		return 0;
	}
	sc->open = true;
	sc->again = false;
	sc->cursor = 0;
	return send_scan(p, peer);
}

int paxos_on_scan(struct paxos *p, size_t from, const struct paxos_msg *m)
{
	size_t page = p->cfg.scan_page;
	uint64_t *ids = paxos_alloc(p, page * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	size_t n = 0;
	int rc = p->cfg.ops->list_entities(p->cfg.ops_ctx, m->nonce, ids, page, &n);
	if (rc || n > page) {
		/* Not answering is safe: the requester asks again. */
		free(ids);
		return rc == -ENOMEM ? rc : 0;
	}
	uint64_t *items = paxos_alloc(p, (n ? n : 1) * 3 * sizeof(*items));
	if (!items) {
		free(ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct paxos_entity *e;
		rc = paxos_entity_get(p, ids[i], &e);
		items[3 * i] = ids[i];
		if (rc == -ENOMEM) {
			free(ids);
			free(items);
			return rc;
		}
		if (rc) {
			/* Unreadable here: claim everything, so that an amnesic
			 * peer never votes on it on our word. */
			items[3 * i + 1] = 0;
			items[3 * i + 2] = UINT64_MAX;
			continue;
		}
		items[3 * i + 1] = e->chosen;
		items[3 * i + 2] = paxos_max(listed_top(p, e), e->vote_after);
	}
	free(ids);
	struct paxos_msg r = {0};
	r.type = PAXOS_MSG_SCAN_REPLY;
	r.nonce = m->nonce;
	r.session = p->session;
	r.items = items;
	r.n_items = 3 * n;
	r.flags = n < page ? PAXOS_MSG_F_DONE : 0;
	rc = paxos_upd_keep_items(p, items);
	if (rc)
		return rc;
	return paxos_send(p, from, &r, NULL);
}

static int catchup_enqueue(struct paxos *p, uint64_t id, size_t peer, uint64_t target)
{
	if (p->cu_len == p->cu_cap) {
		size_t ncap = p->cu_cap ? p->cu_cap * 2 : 64;
		uint64_t *q = paxos_alloc(p, ncap * 2 * sizeof(*q));
		uint32_t *pe = paxos_alloc(p, ncap * sizeof(*pe));
		if (!q || !pe) {
			free(q);
			free(pe);
			return -ENOMEM;
		}
		for (size_t i = 0; i < p->cu_len; i++) {
			size_t j = (p->cu_head + i) % (p->cu_cap ? p->cu_cap : 1);
			q[2 * i] = p->cu_queue[2 * j];
			q[2 * i + 1] = p->cu_queue[2 * j + 1];
			pe[i] = p->cu_peer[j];
		}
		free(p->cu_queue);
		free(p->cu_peer);
		p->cu_queue = q;
		p->cu_peer = pe;
		p->cu_cap = ncap;
		p->cu_head = 0;
	}
	size_t j = (p->cu_head + p->cu_len) % p->cu_cap;
	p->cu_queue[2 * j] = id;
	p->cu_queue[2 * j + 1] = target;
	p->cu_peer[j] = (uint32_t)peer;
	p->cu_len++;
	return 0;
}

void paxos_amnesia_check(struct paxos *p)
{
	if (!p->amnesia)
		return;
	for (size_t i = 0; i < p->n_nodes; i++)
		if (i != p->self_idx && !p->scans[i].done)
			return;
	p->amnesia = false;
	p->out.upd.amnesia_cleared = true;
	/* Synced: lost, it would make this node amnesic again at its next
	 * start, fenced wherever its peers hold records — a second lost voter
	 * next to a wiped one, which can block an entry for good (paxos.h). */
	p->out.needs_sync = true;
	paxos_note_voter(p, p->self_idx, false); /* self counts now: re-evaluate */
}

void paxos_note_voter(struct paxos *p, size_t idx, bool votes)
{
	uint64_t bit = 1ull << idx;
	if (votes)
		p->voters |= bit;
	else
		p->voters &= ~bit;
	bool known = (size_t)paxos_popcount(p->voters) + (p->amnesia ? 0 : 1) >= p->majority;
	if (known == p->quorum_known)
		return;
	p->quorum_known = known;
	if (!known)
		return;
	/* Proposals waited for a majority of voters: start them. */
	for (size_t i = 0; i < p->table_cap; i++) {
		struct paxos_entity *e = p->table[i].e;
		if (e && e->queue && !e->prop) {
			paxos_touch(p, e);
			paxos_propose_maybe(p, e, false);
		}
	}
}

int paxos_on_scan_reply(struct paxos *p, size_t from, const struct paxos_msg *m)
{
	struct paxos_scan *sc = &p->scans[from];
	if (!sc->open || m->nonce != sc->cursor)
		return 0;
	uint64_t last = sc->cursor;
	for (size_t i = 0; i + 2 < m->n_items; i += 3) {
		uint64_t id = m->items[i], chosen = m->items[i + 1], top = m->items[i + 2];
		if (id <= last)
			return -EINVAL; /* not ascending: a broken peer */
		last = id;
		if (!(p->amnesia && top) && !chosen)
			continue;
		uint64_t local;
		const struct paxos_entity *known = paxos_entity_peek(p, id);
		if (p->amnesia && top) {
			struct paxos_entity *e;
			int rc = paxos_entity_get(p, id, &e);
			if (rc == -ENOMEM)
				return rc;
			if (rc)
				continue;
			if (top > e->vote_after) {
				e->vote_after = top;
				paxos_meta_fence(e);
			}
			local = e->chosen;
		} else if (known) {
			local = known->chosen;
		} else {
			/* Not in memory: its meta says enough, no need to load
			 * (a pass lists every entity the peer has). */
			struct paxos_meta meta;
			int rc = p->cfg.ops->load_meta(p->cfg.ops_ctx, id, &meta);
			if (rc && rc != -ENOENT)
				continue; /* reported when the entity is loaded */
			local = rc ? 0 : meta.chosen_entry;
		}
		if (chosen > local) {
			int rc = catchup_enqueue(p, id, from, chosen);
			if (rc)
				return rc;
		}
	}
	sc->cursor = last;
	if (m->flags & PAXOS_MSG_F_DONE) {
		sc->open = false;
		sc->done = true;
		sc->next_pass_at = p->now + p->cfg.scan_interval_ms;
		paxos_amnesia_check(p);
		if (!sc->again)
			return 0;
		sc->again = false;
		sc->open = true;
		sc->cursor = 0;
		sc->resend_at = p->now + p->cfg.retry_ms; /* next pass: not at once */
		return 0;
	}
	if (queue_full(p)) {
		sc->resend_at = p->now + p->cfg.retry_ms;
		return 0;
	}
	return send_scan(p, from);
}

int paxos_scan_timer(struct paxos *p)
{
	int rc = 0;
	for (size_t i = 0; i < p->n_nodes; i++) {
		struct paxos_scan *sc = &p->scans[i];
		if (!sc->open && sc->next_pass_at && sc->next_pass_at <= p->now) {
			sc->next_pass_at = 0;
			if (paxos_scan_start(p, i))
				rc = -ENOMEM;
			continue;
		}
		if (!sc->open || sc->resend_at > p->now)
			continue;
		if (queue_full(p))
			sc->resend_at = p->now + p->cfg.retry_ms;
		else if (send_scan(p, i))
			rc = -ENOMEM;
	}
	return rc;
}

uint64_t paxos_scan_deadline(const struct paxos *p)
{
	uint64_t d = PAXOS_NO_DEADLINE;
	for (size_t i = 0; i < p->n_nodes; i++) {
		if (p->scans[i].open)
			d = paxos_min(d, p->scans[i].resend_at);
		else if (p->scans[i].next_pass_at)
			d = paxos_min(d, p->scans[i].next_pass_at);
	}
	return d;
}

int paxos_catchup_pump(struct paxos *p)
{
	while (p->cu_active < p->cfg.catchup_concurrency && p->cu_len) {
		size_t j = p->cu_head;
		uint64_t id = p->cu_queue[2 * j], target = p->cu_queue[2 * j + 1];
		size_t peer = p->cu_peer[j];
		p->cu_head = (p->cu_head + 1) % p->cu_cap;
		p->cu_len--;
		struct paxos_entity *e;
		int rc = paxos_entity_get(p, id, &e);
		if (rc == -ENOMEM)
			return rc;
		if (rc || target <= e->chosen)
			continue;
		paxos_note_peer_chosen(p, e, peer, target);
		if (!(e->flags & PAXOS_ENT_CATCHUP)) {
			e->flags |= PAXOS_ENT_CATCHUP;
			p->cu_active++;
		}
	}
	return 0;
}

void paxos_catchup_check_done(struct paxos *p, struct paxos_entity *e)
{
	if (!(e->flags & PAXOS_ENT_CATCHUP) || e->behind_to > e->chosen)
		return;
	e->flags &= (uint16_t)~PAXOS_ENT_CATCHUP;
	p->cu_active--;
	p->cu_done++;
}
