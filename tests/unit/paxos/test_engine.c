/* tests/unit/paxos/test_engine.c — one engine, driven by hand: the fast path
 * in one round trip, phase 1 for everyone else, the acceptor's rules,
 * batching, forwarding (origin and holder), re-proposal after a lost entry,
 * timeouts, which writes are synced, the amnesia guard, trimming and
 * snapshots, read barriers, storage errors, eviction, and the rejection of
 * malformed events. Every update is persisted into an in-memory
 * store before the next step, as the daemon does. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "paxos/codec.h"
#include "paxos/paxos.h"
#include "tests/sim/simstore.h"

#define E_OWNED_BY_1 0x201ull /* entity whose entry 1 is pre-authorised to node 1 */

struct fx {
	struct sim_store st;
	struct paxos_storage_ops ops;
	struct paxos_config cfg;
	uint32_t nodes[3];
	struct paxos *p;
	struct paxos_update *u;
	uint64_t now;
	int fail_meta; /* load_meta returns this when non-zero */
};

static void peers_answer(struct fx *f);

static int failing_load_meta(void *ctx, uint64_t entity, struct paxos_meta *out)
{
	struct fx *f = (struct fx *)((char *)ctx - offsetof(struct fx, st));
	if (f->fail_meta)
		return f->fail_meta;
	return sim_store_ops.load_meta(ctx, entity, out);
}

static void fx_start(struct fx *f)
{
	char err[128];
	f->cfg.boot_count++;
	f->cfg.id_base = f->cfg.boot_count << 32; /* session(self, boot) below */
	f->cfg.incarnation = f->cfg.boot_count;
	ck_assert_int_eq(paxos_new(&f->cfg, &f->p, err, sizeof(err)), 0);
}

static int step(struct fx *f, struct paxos_event *ev);
static void synced(struct fx *f);

/* The file system made `entity` with a command of this life (a create
 * applied): entry 1 is this node's at round 0, ACCEPTs at once. */
static int born(struct fx *f, uint64_t entity, uint64_t cmd_id)
{
	struct paxos_event ev = {.type = PAXOS_EV_BORN};
	ev.born.entity = entity;
	ev.born.cmd_id = cmd_id;
	int rc = step(f, &ev);
	if (rc == 0)
		synced(f); /* PaxosMeta.born is durable: entry 1 may go early */
	return rc;
}

/* An id of this life's range (paxos.h, "Ids never repeat"). */
static uint64_t id_of_this_life(const struct fx *f)
{
	return (uint64_t)f->cfg.self << 56 | (f->cfg.id_base + 1);
}

static void fx_init(struct fx *f, uint32_t self, bool amnesia)
{
	memset(f, 0, sizeof(*f));
	sim_store_init(&f->st);
	f->ops = sim_store_ops;
	f->ops.load_meta = failing_load_meta;
	f->nodes[0] = 1;
	f->nodes[1] = 2;
	f->nodes[2] = 3;
	f->cfg.self = self;
	f->cfg.nodes = f->nodes;
	f->cfg.n_nodes = 3;
	f->cfg.amnesia = amnesia;
	f->cfg.seed = 1;
	f->cfg.ops = &f->ops;
	f->cfg.ops_ctx = &f->st;
	f->cfg.retry_ms = 100;
	f->cfg.proposal_timeout_ms = 1000;
	f->cfg.barrier_timeout_ms = 1000;
	f->cfg.idle_evict_ms = 5000;
	f->cfg.retention = 2;
	f->now = 1000;
	fx_start(f);
	/* node 1 created E_OWNED_BY_1 in this life */
	if (self == 1 && !amnesia)
		ck_assert_int_eq(born(f, E_OWNED_BY_1, id_of_this_life(f)), 0);
	if (!amnesia)
		peers_answer(f);
}

static void fx_restart(struct fx *f)
{
	paxos_free(f->p);
	f->cfg.amnesia = false;
	fx_start(f);
	peers_answer(f);
}

static void fx_close(struct fx *f)
{
	paxos_free(f->p);
	sim_store_close(&f->st);
}

/* One step, then persist its update (the daemon's order). */
static int step(struct fx *f, struct paxos_event *ev)
{
	ev->now_ms = f->now;
	int rc = paxos_step(f->p, ev, &f->u);
	ck_assert_ptr_nonnull(f->u);
	ck_assert_int_eq(sim_store_apply(&f->st, f->u), 0);
	return rc;
}

static uint64_t submit(struct fx *f, uint64_t entity, const char *body)
{
	struct paxos_event ev = {.type = PAXOS_EV_SUBMIT};
	ev.submit.entity = entity;
	ev.submit.body = body;
	ev.submit.len = strlen(body);
	ck_assert_int_eq(step(f, &ev), 0);
	ck_assert_uint_ne(f->u->submit_id, 0);
	return f->u->submit_id;
}

static int recv(struct fx *f, uint32_t from, const struct paxos_msg *m)
{
	struct paxos_event ev = {.type = PAXOS_EV_RECEIVE};
	ev.receive.from = from;
	ev.receive.msgs = m;
	ev.receive.n = 1;
	return step(f, &ev);
}

static void tick(struct fx *f, uint64_t advance)
{
	f->now += advance;
	struct paxos_event ev = {.type = PAXOS_EV_TICK};
	ck_assert_int_eq(step(f, &ev), 0);
}

/* The first message of `type` for `to` in the last update, or NULL. */
static const struct paxos_msg *sent_in(const struct paxos_outbox *boxes, size_t n, uint32_t to,
				       uint32_t type)
{
	for (size_t i = 0; i < n; i++) {
		const struct paxos_outbox *b = &boxes[i];
		if (b->to != to)
			continue;
		for (size_t k = 0; k < b->n; k++)
			if (b->msgs[k].type == type)
				return &b->msgs[k];
	}
	return NULL;
}

/* A message of the update to `to`, sent after the sync or early. */
static const struct paxos_msg *sent(const struct fx *f, uint32_t to, uint32_t type)
{
	const struct paxos_msg *m = sent_in(f->u->outboxes, f->u->n_outboxes, to, type);
	return m ? m : sent_in(f->u->early_outboxes, f->u->n_early_outboxes, to, type);
}

/* Only among the messages that may leave before the sync. */
static const struct paxos_msg *sent_early(const struct fx *f, uint32_t to, uint32_t type)
{
	return sent_in(f->u->early_outboxes, f->u->n_early_outboxes, to, type);
}

static size_t count_sent(const struct fx *f, uint32_t type)
{
	size_t n = 0;
	for (size_t i = 0; i < f->u->n_outboxes; i++)
		for (size_t k = 0; k < f->u->outboxes[i].n; k++)
			n += f->u->outboxes[i].msgs[k].type == type;
	for (size_t i = 0; i < f->u->n_early_outboxes; i++)
		for (size_t k = 0; k < f->u->early_outboxes[i].n; k++)
			n += f->u->early_outboxes[i].msgs[k].type == type;
	return n;
}

static const struct paxos_out_record *written(const struct fx *f, uint64_t entity, uint64_t entry)
{
	for (size_t i = 0; i < f->u->n_records; i++)
		if (f->u->records[i].entity == entity && f->u->records[i].entry == entry)
			return &f->u->records[i];
	return NULL;
}

static struct paxos_msg msg(uint32_t type, uint64_t entity, uint64_t entry, uint64_t ballot)
{
	struct paxos_msg m = {0};
	m.type = type;
	m.entity = entity;
	m.entry = entry;
	m.ballot = ballot;
	return m;
}

struct cmds {
	uint64_t ids[8];
	char bodies[8][32];
	size_t n;
};

static int cmd_cb(void *arg, uint64_t id, const uint8_t *body, size_t len)
{
	struct cmds *c = arg;
	c->ids[c->n] = id;
	memcpy(c->bodies[c->n], body, len < 31 ? len : 31);
	c->bodies[c->n][len < 31 ? len : 31] = 0;
	c->n++;
	return 0;
}

static struct cmds value_cmds(const uint8_t *v, size_t len)
{
	struct cmds c;
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(paxos_codec_value_foreach(v, len, cmd_cb, &c), 0);
	return c;
}

static struct paxos_msg scan_reply(uint64_t cursor, const uint64_t *items, size_t n, bool done)
{
	struct paxos_msg m = {0};
	m.type = PAXOS_MSG_SCAN_REPLY;
	m.nonce = cursor;
	m.items = items;
	m.n_items = n;
	m.flags = done ? PAXOS_MSG_F_DONE : 0;
	return m;
}

/* Both peers answer this node's entity listing (empty): it now knows a
 * majority of voters, as a restarted node does one round trip after start. */
static void peers_answer(struct fx *f)
{
	for (uint32_t from = 1; from <= 3; from++) {
		if (from == f->cfg.self)
			continue;
		struct paxos_msg r = scan_reply(0, NULL, 0, true);
		ck_assert_int_eq(recv(f, from, &r), 0);
	}
}

/* ---- tests ------------------------------------------------------------------ */

START_TEST(bad_configs_are_refused)
{
	struct fx f;
	fx_init(&f, 1, false);
	struct paxos_config c = f.cfg;
	struct paxos *p = (struct paxos *)1;
	char err[128];
	c.self = 4;
	ck_assert_int_eq(paxos_new(&c, &p, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_ptr_nonnull(strstr(err, "self"));
	uint32_t dup[3] = {1, 2, 2};
	c = f.cfg;
	c.nodes = dup;
	ck_assert_int_eq(paxos_new(&c, &p, err, sizeof(err)), -EINVAL);
	uint32_t zero[3] = {0, 1, 2};
	c.nodes = zero;
	ck_assert_int_eq(paxos_new(&c, &p, err, sizeof(err)), -EINVAL);
	c = f.cfg;
	struct paxos_storage_ops none = {0};
	c.ops = &none;
	ck_assert_int_eq(paxos_new(&c, &p, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "storage"));
	fx_close(&f);
}
END_TEST

START_TEST(ballot_encoding)
{
	uint64_t b = paxos_ballot(7, 0x123456, 9);
	ck_assert_uint_eq(b, 7ull << 32 | 0x123456ull << 8 | 9);
	ck_assert_uint_eq(paxos_ballot_round(b), 7);
	ck_assert_uint_eq(paxos_ballot_incarnation(b), 0x123456);
	ck_assert_uint_eq(paxos_ballot_node(b), 9);
	/* the incarnation keeps its low 24 bits, the node its low 8 */
	ck_assert_uint_eq(paxos_ballot(1, 0x1abcdef, 0x1ff), paxos_ballot(1, 0xabcdef, 0xff));
	/* two lives of a node never share a ballot, round 0 included */
	ck_assert_uint_ne(paxos_ballot(0, 1, 3), paxos_ballot(0, 2, 3));
	/* the round orders first, then the incarnation, then the node */
	ck_assert_uint_gt(paxos_ballot(2, 0, 1), paxos_ballot(1, 0xffffff, 255));
	ck_assert_uint_gt(paxos_ballot(1, 2, 1), paxos_ballot(1, 1, 255));
	ck_assert_uint_gt(paxos_ballot(1, 1, 2), paxos_ballot(1, 1, 1));
	ck_assert_uint_eq(paxos_ballot_round(UINT64_MAX), 0xffffffffull);
}
END_TEST

static int persisted(struct fx *f, const struct paxos_msg *notices, size_t n)
{
	struct paxos_event ev = {.type = PAXOS_EV_PERSISTED};
	ev.persisted.msgs = notices;
	ev.persisted.n = n;
	return step(f, &ev);
}

/* The sync of the last step's writes returned: its notices go back. */
static void synced(struct fx *f)
{
	struct paxos_msg notes[8];
	size_t n = f->u->n_notices;
	ck_assert_uint_le(n, 8);
	memcpy(notes, f->u->notices, n * sizeof(*notes));
	if (n)
		ck_assert_int_eq(persisted(f, notes, n), 0);
}

/* Takes E_OWNED_BY_1 to "entry 1 chosen with our value" (this life). */
static uint64_t chosen_first(struct fx *f)
{
	submit(f, E_OWNED_BY_1, "first");
	const struct paxos_out_record *r = written(f, E_OWNED_BY_1, 1);
	struct paxos_msg ok = msg(PAXOS_MSG_ACCEPTED, E_OWNED_BY_1, 1, paxos_ballot(0, 1, 1));
	ok.value_id = r->rec.value_id;
	ck_assert_uint_eq(f->u->n_notices, 1); /* early: our vote counts once synced */
	synced(f);
	ck_assert_int_eq(recv(f, 2, &ok), 0);
	ck_assert_uint_eq(f->u->n_chosen, 1);
	return ok.value_id;
}

/* Our ACCEPTs leave before our own acceptance is durable; that acceptance
 * counts toward the majority only once the caller hands back the notice
 * (after the sync). Before: counted at once, so one peer's ACCEPTED chose
 * a value this node had not synced. */
START_TEST(early_accept_counts_self_only_after_the_sync)
{
	struct fx f;
	fx_init(&f, 1, false);
	chosen_first(&f);
	submit(&f, E_OWNED_BY_1, "second");
	const struct paxos_out_record *r = written(&f, E_OWNED_BY_1, 2);
	ck_assert_ptr_nonnull(r);
	ck_assert(r->sync);
	ck_assert(f.u->needs_sync);
	uint64_t b = paxos_ballot(0, f.cfg.incarnation, 1);
	ck_assert_uint_eq(r->rec.accepted, b);
	for (uint32_t to = 2; to <= 3; to++) {
		const struct paxos_msg *m = sent_early(&f, to, PAXOS_MSG_ACCEPT);
		ck_assert_ptr_nonnull(m);
		ck_assert_uint_eq(m->ballot, b);
	}
	ck_assert_uint_eq(f.u->n_notices, 1);
	struct paxos_msg note = f.u->notices[0];
	ck_assert_uint_eq(note.type, PAXOS_MSG_ACCEPTED);
	ck_assert_uint_eq(note.entry, 2);
	ck_assert_uint_eq(note.ballot, b);
	ck_assert_uint_eq(note.value_id, r->rec.value_id);

	/* one peer alone is no majority while our sync is out */
	struct paxos_msg ok = msg(PAXOS_MSG_ACCEPTED, E_OWNED_BY_1, 2, b);
	ok.value_id = note.value_id;
	ck_assert_int_eq(recv(&f, 2, &ok), 0);
	ck_assert_uint_eq(f.u->n_chosen, 0);
	/* our sync returned: chosen, announced early */
	ck_assert_int_eq(persisted(&f, &note, 1), 0);
	ck_assert_uint_eq(f.u->n_chosen, 1);
	ck_assert_uint_eq(f.u->chosen[0].entry, 2);
	ck_assert_ptr_nonnull(sent_early(&f, 3, PAXOS_MSG_CHOSEN));
	/* a notice handed back twice, or for a proposal gone, changes nothing */
	ck_assert_int_eq(persisted(&f, &note, 1), 0);
	ck_assert_uint_eq(f.u->n_chosen, 0);
	/* only the engine's own notices are taken */
	struct paxos_msg bad = msg(PAXOS_MSG_PROMISE, E_OWNED_BY_1, 3, b);
	ck_assert_int_eq(persisted(&f, &bad, 1), -EINVAL);
	fx_close(&f);
}
END_TEST

/* Entry 1 at round 0 belongs to the one life whose command made the entity
 * (PAXOS_EV_BORN), which sends its ACCEPTs before its own sync: an earlier
 * life may have done the same and lost its acceptance in a crash, so any
 * other life, or an entity nobody said was born here, runs phase 1. Before,
 * every life used round 0 at entry 1, persisting first. */
START_TEST(entry_one_is_round_zero_only_for_the_life_that_made_it)
{
	struct fx f;
	const uint64_t other = 0x301; /* also node 1's by its low byte */
	fx_init(&f, 1, false);
	/* not said born: phase 1 */
	submit(&f, other, "x");
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_ACCEPT), 0);
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_PREPARE));
	/* born of an earlier life's command, or of another node's: nothing */
	const uint64_t e2 = 0x401, e3 = 0x501;
	ck_assert_int_eq(born(&f, e2, 1ull << 56 | f.cfg.id_base), 0);
	submit(&f, e2, "y");
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_ACCEPT), 0);
	ck_assert_int_eq(born(&f, e3, 2ull << 56 | (f.cfg.id_base + 1)), 0);
	submit(&f, e3, "z");
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_ACCEPT), 0);
	/* nor does a born of the namespace, or of another node's entity */
	ck_assert_int_eq(born(&f, PAXOS_NAMESPACE_ENTITY, id_of_this_life(&f)), 0);
	submit(&f, PAXOS_NAMESPACE_ENTITY, "n");
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_ACCEPT), 0);

	/* born in this life: round 0, ACCEPTs before our sync */
	const uint64_t e4 = 0x601;
	ck_assert_int_eq(born(&f, e4, id_of_this_life(&f)), 0);
	submit(&f, e4, "w");
	const struct paxos_msg *a = sent_early(&f, 3, PAXOS_MSG_ACCEPT);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->entry, 1);
	ck_assert_uint_eq(a->ballot, paxos_ballot(0, f.cfg.incarnation, 1));

	/* the next life: E_OWNED_BY_1 was made by the one before: phase 1 */
	fx_restart(&f);
	submit(&f, E_OWNED_BY_1, "after restart");
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_ACCEPT), 0);
	const struct paxos_msg *pm = sent(&f, 2, PAXOS_MSG_PREPARE);
	ck_assert_ptr_nonnull(pm);
	ck_assert_uint_eq(pm->entry, 1);
	ck_assert_uint_eq(paxos_ballot_round(pm->ballot), 1);
	fx_close(&f);
}
END_TEST

/* The proposal counters of paxos_stats (metrics: paxfs_proposals_total and
 * the rest): an entry opened at round 0, one by phase 1, a REJECT, a resend,
 * and an entry another value took from our commands. */
START_TEST(proposal_counters)
{
	struct fx f;
	struct paxos_stats st;
	fx_init(&f, 1, false);
	submit(&f, E_OWNED_BY_1, "fast");
	const uint64_t other = 0x301;
	submit(&f, other, "slow");
	const struct paxos_msg *pm = sent(&f, 2, PAXOS_MSG_PREPARE);
	ck_assert_ptr_nonnull(pm);
	uint64_t b = pm->ballot;
	paxos_get_stats(f.p, &st);
	ck_assert_uint_eq(st.entries_proposed, 2);
	ck_assert_uint_eq(st.entries_fast, 1);
	ck_assert_uint_eq(st.phase1_rounds, 1);
	ck_assert_uint_eq(st.preempted + st.entries_lost + st.resends, 0);
	/* nobody answers: resent after retry_ms (both proposals) */
	tick(&f, f.cfg.retry_ms);
	paxos_get_stats(f.p, &st);
	ck_assert_uint_eq(st.resends, 2);
	/* node 2 promised a higher ballot: preempted */
	struct paxos_msg rj = msg(PAXOS_MSG_REJECT, other, 1, b);
	rj.promised = paxos_ballot(5, 1, 2);
	ck_assert_int_eq(recv(&f, 2, &rj), 0);
	paxos_get_stats(f.p, &st);
	ck_assert_uint_eq(st.preempted, 1);
	/* node 2's value is chosen at that entry: ours go back to the queue */
	struct paxos_msg ch = msg(PAXOS_MSG_CHOSEN, other, 1, paxos_ballot(5, 1, 2));
	ch.value_id = 0x0201000000000009ull;
	ch.has_value = true;
	ck_assert_int_eq(recv(&f, 2, &ch), 0);
	paxos_get_stats(f.p, &st);
	ck_assert_uint_eq(st.entries_lost, 1);
	fx_close(&f);
}
END_TEST

/* Round 0 after a restart: the value chosen at entry 1 was built by the
 * earlier life, which may have sent round-0 ACCEPTs for entry 2 before its
 * acceptance was durable and lost it: a second round-0 ballot (the new
 * life's, higher) without phase 1 could choose another value there. So the
 * new life runs phase 1; once a value of its own is chosen, round 0 again. */
START_TEST(no_round_zero_after_a_restart_on_an_earlier_life_value)
{
	struct fx f;
	fx_init(&f, 1, false);
	chosen_first(&f);
	fx_restart(&f);
	submit(&f, E_OWNED_BY_1, "after restart");
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_ACCEPT), 0);
	const struct paxos_msg *pm = sent(&f, 2, PAXOS_MSG_PREPARE);
	ck_assert_ptr_nonnull(pm);
	ck_assert_uint_eq(pm->entry, 2);
	uint64_t b = paxos_ballot(1, f.cfg.incarnation, 1);
	ck_assert_uint_eq(pm->ballot, b);
	/* a PREPARE waits for the sync of our promise */
	ck_assert_ptr_null(sent_early(&f, 2, PAXOS_MSG_PREPARE));
	struct paxos_msg pr = msg(PAXOS_MSG_PROMISE, E_OWNED_BY_1, 2, b);
	pr.promised = b;
	ck_assert_int_eq(recv(&f, 2, &pr), 0);
	/* phase 2 at a ballot of this life: early */
	const struct paxos_msg *am = sent_early(&f, 3, PAXOS_MSG_ACCEPT);
	ck_assert_ptr_nonnull(am);
	ck_assert_uint_eq(am->ballot, b);
	ck_assert_uint_eq(f.u->n_notices, 1);
	struct paxos_msg note = f.u->notices[0];
	struct paxos_msg ok = msg(PAXOS_MSG_ACCEPTED, E_OWNED_BY_1, 2, b);
	ok.value_id = am->value_id;
	ck_assert_int_eq(persisted(&f, &note, 1), 0);
	ck_assert_int_eq(recv(&f, 2, &ok), 0);
	ck_assert_uint_eq(f.u->n_chosen, 1);
	/* our value of this life is chosen at 2: entry 3 at round 0, early */
	submit(&f, E_OWNED_BY_1, "third");
	am = sent_early(&f, 2, PAXOS_MSG_ACCEPT);
	ck_assert_ptr_nonnull(am);
	ck_assert_uint_eq(am->entry, 3);
	ck_assert_uint_eq(am->ballot, paxos_ballot(0, f.cfg.incarnation, 1));
	fx_close(&f);
}
END_TEST

/* What asserts persisted state waits for the sync: PROMISE and ACCEPTED. */
START_TEST(votes_are_never_early)
{
	struct fx f;
	fx_init(&f, 2, false);
	uint64_t b = paxos_ballot(1, 1, 1);
	struct paxos_msg p = msg(PAXOS_MSG_PREPARE, 0x777, 1, b);
	ck_assert_int_eq(recv(&f, 1, &p), 0);
	ck_assert_ptr_nonnull(sent(&f, 1, PAXOS_MSG_PROMISE));
	ck_assert_ptr_null(sent_early(&f, 1, PAXOS_MSG_PROMISE));
	ck_assert(f.u->needs_sync);
	struct paxos_msg a = msg(PAXOS_MSG_ACCEPT, 0x777, 1, b);
	a.value_id = 1ull << 56 | 1ull << 32 | 1;
	a.value = (const uint8_t *)"";
	a.has_value = true;
	ck_assert_int_eq(recv(&f, 1, &a), 0);
	ck_assert_ptr_nonnull(sent(&f, 1, PAXOS_MSG_ACCEPTED));
	ck_assert_ptr_null(sent_early(&f, 1, PAXOS_MSG_ACCEPTED));
	ck_assert(f.u->needs_sync);
	fx_close(&f);
}
END_TEST

/* The listing's top for one entity, as this node answers a SCAN. */
static uint64_t listed_top(struct fx *f, uint64_t entity)
{
	struct paxos_msg sc = {0};
	sc.type = PAXOS_MSG_SCAN;
	ck_assert_int_eq(recv(f, 2, &sc), 0);
	const struct paxos_msg *r = sent(f, 2, PAXOS_MSG_SCAN_REPLY);
	ck_assert_ptr_nonnull(r);
	for (size_t i = 0; i + 2 < r->n_items; i += 3)
		if (r->items[i] == entity)
			return r->items[i + 2];
	ck_abort_msg("entity not listed");
	return 0;
}

/* A process that dies may leave round-0 ACCEPTs for the entry after its own
 * chosen value in flight, sent before its acceptance there was durable. Its
 * next process lists that value's entry + 1, so that an amnesic node fences
 * the entry they are for; the process that built the value lists its top. */
START_TEST(a_restarted_node_lists_one_past_its_earlier_value)
{
	struct fx f;
	fx_init(&f, 1, false);
	chosen_first(&f);
	ck_assert_uint_eq(listed_top(&f, E_OWNED_BY_1), 1);
	fx_restart(&f);
	ck_assert_uint_eq(listed_top(&f, E_OWNED_BY_1), 2);
	fx_close(&f);
}
END_TEST

/* Entry 1 goes early only once PaxosMeta.born is durable: the proposal
 * waits for the notice that comes back after the sync. A later
 * process lists entry 1 of an entity an earlier one created and never wrote:
 * that one may have sent its round-0 ACCEPTs there before they were durable
 * anywhere it could list, and a wiped node must not vote there on its word
 * (docs/decisions.md, "Wiped nodes"; tests/sim
 * entry_one_early_accept_and_a_wiped_node). */
START_TEST(a_create_is_durable_before_entry_one_goes_early)
{
	struct fx f;
	const uint64_t a = 0x701, b = 0x801;
	fx_init(&f, 1, false);
	struct paxos_event ev = {.type = PAXOS_EV_BORN};
	ev.born.entity = a;
	ev.born.cmd_id = id_of_this_life(&f);
	ck_assert_int_eq(step(&f, &ev), 0);
	ck_assert(f.u->needs_sync);
	ck_assert_uint_eq(f.u->n_metas, 1);
	ck_assert_uint_eq(f.u->metas[0].meta.born, f.cfg.id_base);
	ck_assert(f.u->metas[0].sync);
	ck_assert_uint_eq(f.u->n_notices, 1);
	struct paxos_msg note = f.u->notices[0];
	submit(&f, a, "v");
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_ACCEPT), 0); /* not known durable yet */
	ck_assert_int_eq(persisted(&f, &note, 1), 0);
	ck_assert_ptr_nonnull(sent_early(&f, 2, PAXOS_MSG_ACCEPT)); /* now, at once */
	ck_assert_uint_eq(listed_top(&f, a), 1);                    /* its record */

	ck_assert_int_eq(born(&f, b, id_of_this_life(&f)), 0); /* never written */
	ck_assert_uint_eq(listed_top(&f, b), 0); /* this process: nothing sent there */
	fx_restart(&f);
	ck_assert_uint_eq(listed_top(&f, b), 1); /* an earlier one's create */
	fx_close(&f);
}
END_TEST

START_TEST(fast_path_is_one_round_trip)
{
	struct fx f;
	fx_init(&f, 1, false);
	uint64_t a = submit(&f, E_OWNED_BY_1, "write A");

	/* Pre-authorised: no PREPARE, our acceptance persisted with the ACCEPTs. */
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_PREPARE), 0);
	const struct paxos_out_record *r = written(&f, E_OWNED_BY_1, 1);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->rec.accepted, paxos_ballot(0, 1, 1));
	ck_assert_uint_eq(r->rec.promised, paxos_ballot(0, 1, 1));
	for (uint32_t to = 2; to <= 3; to++) {
		const struct paxos_msg *m = sent(&f, to, PAXOS_MSG_ACCEPT);
		ck_assert_ptr_nonnull(m);
		ck_assert_uint_eq(m->entry, 1);
		ck_assert_uint_eq(m->ballot, paxos_ballot(0, 1, 1));
		ck_assert_uint_eq(m->value_id, r->rec.value_id);
		struct cmds c = value_cmds(m->value, m->value_len);
		ck_assert_uint_eq(c.n, 1);
		ck_assert_uint_eq(c.ids[0], a);
		ck_assert_str_eq(c.bodies[0], "write A");
	}
	uint64_t vid = r->rec.value_id;
	/* Entry 1 of an entity this life made (PAXOS_EV_BORN): the ACCEPTs
	 * leave before our acceptance is durable, which counts once synced. */
	ck_assert_ptr_nonnull(sent_early(&f, 2, PAXOS_MSG_ACCEPT));
	ck_assert_uint_eq(f.u->n_notices, 1);
	ck_assert(r->sync);
	synced(&f);

	/* One acceptance more makes a majority: chosen, ours. */
	struct paxos_msg ok = msg(PAXOS_MSG_ACCEPTED, E_OWNED_BY_1, 1, paxos_ballot(0, 1, 1));
	ok.value_id = vid;
	ck_assert_int_eq(recv(&f, 2, &ok), 0);
	ck_assert_uint_eq(f.u->n_chosen, 1);
	ck_assert_uint_eq(f.u->chosen[0].entry, 1);
	ck_assert_int_eq(f.u->chosen[0].mine, 1);
	ck_assert_uint_eq(f.u->chosen[0].value_id, vid);
	/* announced to all, without the value (acceptors hold it) */
	ck_assert_int_eq(sent(&f, 2, PAXOS_MSG_CHOSEN)->has_value, 0);
	ck_assert_int_eq(sent(&f, 3, PAXOS_MSG_CHOSEN)->has_value, 0);
	ck_assert_uint_eq(f.u->n_metas, 1);
	ck_assert_uint_eq(f.u->metas[0].meta.chosen_entry, 1);
	ck_assert_uint_eq(f.u->metas[0].meta.chosen_proposer, 1);
	uint64_t ch = 99;
	ck_assert_int_eq(paxos_entity_chosen(f.p, E_OWNED_BY_1, &ch), 0);
	ck_assert_uint_eq(ch, 1);
	ck_assert_int_eq(paxos_entity_chosen(f.p, 0x12345, &ch), 0); /* never seen */
	ck_assert_uint_eq(ch, 0);

	/* Our value (this life's) was chosen at 1: entry 2 is ours at round 0,
	 * and its ACCEPTs leave before our acceptance is durable. */
	submit(&f, E_OWNED_BY_1, "write B");
	const struct paxos_msg *m = sent_early(&f, 3, PAXOS_MSG_ACCEPT);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->entry, 2);
	ck_assert_uint_eq(m->ballot, paxos_ballot(0, 1, 1));
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_PREPARE), 0);
	fx_close(&f);
}
END_TEST

START_TEST(others_and_the_namespace_run_phase_one)
{
	struct fx f;
	fx_init(&f, 2, false);
	submit(&f, E_OWNED_BY_1, "from node 2");
	const struct paxos_msg *m = sent(&f, 1, PAXOS_MSG_PREPARE);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->ballot, paxos_ballot(1, 1, 2));
	ck_assert_uint_eq(written(&f, E_OWNED_BY_1, 1)->rec.promised, paxos_ballot(1, 1, 2));
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_ACCEPT), 0);
	struct paxos_msg pr = msg(PAXOS_MSG_PROMISE, E_OWNED_BY_1, 1, paxos_ballot(1, 1, 2));
	pr.promised = pr.ballot;
	ck_assert_int_eq(recv(&f, 3, &pr), 0);
	m = sent(&f, 1, PAXOS_MSG_ACCEPT);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->ballot, paxos_ballot(1, 1, 2));
	fx_close(&f);

	/* nobody holds entry 1 of the namespace, not even node 1 */
	fx_init(&f, 1, false);
	submit(&f, PAXOS_NAMESPACE_ENTITY, "mkdir");
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_PREPARE));
	fx_close(&f);
}
END_TEST

START_TEST(phase_one_adopts_the_highest_accepted_value)
{
	struct fx f;
	fx_init(&f, 2, false);
	uint64_t mine = submit(&f, E_OWNED_BY_1, "mine");
	static const uint8_t theirs[] = {0x0a, 0x0d, 0x09, 1,    0, 0,   0,  0,
					 0,    0,    3,    0x12, 2, 'h', 'i'};
	struct paxos_msg pr = msg(PAXOS_MSG_PROMISE, E_OWNED_BY_1, 1, paxos_ballot(1, 1, 2));
	pr.promised = pr.ballot;
	pr.accepted = paxos_ballot(0, 1, 1);
	pr.value_id = 0x0101000000000005ull;
	pr.value = theirs;
	pr.value_len = sizeof(theirs);
	pr.has_value = true;
	ck_assert_int_eq(recv(&f, 1, &pr), 0);
	const struct paxos_msg *m = sent(&f, 3, PAXOS_MSG_ACCEPT);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->value_id, 0x0101000000000005ull);
	ck_assert_mem_eq(m->value, theirs, sizeof(theirs));
	ck_assert_uint_eq(f.u->n_notices, 1);
	struct paxos_msg note = f.u->notices[0];

	/* that value is chosen (3's acceptance and, synced, ours): ours was
	 * not, so it goes into the next entry */
	struct paxos_msg ok = msg(PAXOS_MSG_ACCEPTED, E_OWNED_BY_1, 1, paxos_ballot(1, 1, 2));
	ok.value_id = m->value_id;
	ck_assert_int_eq(persisted(&f, &note, 1), 0);
	ck_assert_uint_eq(f.u->n_chosen, 0);
	ck_assert_int_eq(recv(&f, 3, &ok), 0);
	ck_assert_uint_eq(f.u->n_chosen, 1);
	ck_assert_int_eq(f.u->chosen[0].mine, 0);
	/* node 1's value was chosen at 1: entry 2 needs phase 1 from us */
	m = sent(&f, 1, PAXOS_MSG_PREPARE);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->entry, 2);
	pr = msg(PAXOS_MSG_PROMISE, E_OWNED_BY_1, 2, m->ballot);
	pr.promised = pr.ballot;
	ck_assert_int_eq(recv(&f, 1, &pr), 0);
	m = sent(&f, 1, PAXOS_MSG_ACCEPT);
	ck_assert_ptr_nonnull(m);
	struct cmds c = value_cmds(m->value, m->value_len);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_uint_eq(c.ids[0], mine);
	fx_close(&f);
}
END_TEST

START_TEST(a_promise_revokes_pre_authorisation)
{
	struct fx f;
	fx_init(&f, 1, false);
	struct paxos_msg p = msg(PAXOS_MSG_PREPARE, E_OWNED_BY_1, 1, paxos_ballot(1, 1, 3));
	ck_assert_int_eq(recv(&f, 3, &p), 0);
	ck_assert_ptr_nonnull(sent(&f, 3, PAXOS_MSG_PROMISE));
	submit(&f, E_OWNED_BY_1, "late");
	const struct paxos_msg *m = sent(&f, 2, PAXOS_MSG_PREPARE);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->ballot, paxos_ballot(2, 1, 1));
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_ACCEPT), 0);
	fx_close(&f);
}
END_TEST

START_TEST(the_acceptor_keeps_its_promises)
{
	struct fx f;
	fx_init(&f, 3, false);
	uint64_t b22 = paxos_ballot(2, 1, 2), b13 = paxos_ballot(1, 1, 3),
		 b33 = paxos_ballot(3, 1, 3);
	struct paxos_msg m = msg(PAXOS_MSG_PREPARE, 0x777, 4, b22);
	ck_assert_int_eq(recv(&f, 2, &m), 0);
	ck_assert_uint_eq(written(&f, 0x777, 4)->rec.promised, b22);
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_PROMISE));

	m = msg(PAXOS_MSG_PREPARE, 0x777, 4, b13);
	ck_assert_int_eq(recv(&f, 1, &m), 0);
	const struct paxos_msg *r = sent(&f, 1, PAXOS_MSG_REJECT);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->promised, b22);
	ck_assert_uint_eq(f.u->n_records, 0);

	static const uint8_t v[] = {0x0a, 0x0b, 0x09, 9, 0, 0, 0, 0, 0, 0, 2, 0x12, 0};
	m = msg(PAXOS_MSG_ACCEPT, 0x777, 4, b13);
	m.value_id = 0x0201000000000009ull;
	m.value = v;
	m.value_len = sizeof(v);
	m.has_value = true;
	ck_assert_int_eq(recv(&f, 1, &m), 0);
	ck_assert_ptr_nonnull(sent(&f, 1, PAXOS_MSG_REJECT));
	m.ballot = b22;
	ck_assert_int_eq(recv(&f, 2, &m), 0);
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_ACCEPTED));
	ck_assert_uint_eq(written(&f, 0x777, 4)->rec.accepted, b22);

	/* a higher prepare learns what was accepted */
	m = msg(PAXOS_MSG_PREPARE, 0x777, 4, b33);
	ck_assert_int_eq(recv(&f, 1, &m), 0);
	r = sent(&f, 1, PAXOS_MSG_PROMISE);
	ck_assert_uint_eq(r->accepted, b22);
	ck_assert_uint_eq(r->value_id, 0x0201000000000009ull);
	ck_assert_mem_eq(r->value, v, sizeof(v));
	/* the same prepare again: the same answer, nothing new to persist */
	ck_assert_int_eq(recv(&f, 1, &m), 0);
	r = sent(&f, 1, PAXOS_MSG_PROMISE);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->accepted, b22);
	ck_assert_uint_eq(f.u->n_records, 0);
	fx_close(&f);
}
END_TEST

START_TEST(a_node_that_lost_its_disk_prepares_strictly)
{
	/* the acceptor side: an equal ballot is promised again, unless STRICT */
	struct fx f;
	fx_init(&f, 3, false);
	struct paxos_msg p = msg(PAXOS_MSG_PREPARE, 0x777, 1, paxos_ballot(1, 1, 2));
	ck_assert_int_eq(recv(&f, 2, &p), 0);
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_PROMISE));
	ck_assert_int_eq(recv(&f, 2, &p), 0);
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_PROMISE)); /* a resend: same answer */
	p.flags = PAXOS_MSG_F_STRICT;
	ck_assert_int_eq(recv(&f, 2, &p), 0);
	const struct paxos_msg *r = sent(&f, 2, PAXOS_MSG_REJECT);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->promised, paxos_ballot(1, 1, 2));
	fx_close(&f);

	/* the proposer side: at or below its fence, its PREPAREs are STRICT,
	 * and a REJECT of its own ballot sends it to a higher round */
	fx_init(&f, 2, true);
	uint64_t items[3] = {E_OWNED_BY_1, 0, 1};
	struct paxos_msg sr = scan_reply(0, items, 3, true);
	ck_assert_int_eq(recv(&f, 1, &sr), 0);
	sr = scan_reply(0, NULL, 0, true);
	ck_assert_int_eq(recv(&f, 3, &sr), 0);
	ck_assert_int_eq(f.u->amnesia_cleared, 1);
	submit(&f, E_OWNED_BY_1, "after the wipe");
	const struct paxos_msg *m = sent(&f, 1, PAXOS_MSG_PREPARE);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->entry, 1);
	ck_assert_uint_eq(m->ballot, paxos_ballot(1, 1, 2));
	ck_assert_uint_eq(m->flags & PAXOS_MSG_F_STRICT, PAXOS_MSG_F_STRICT);
	struct paxos_msg rj = msg(PAXOS_MSG_REJECT, E_OWNED_BY_1, 1, paxos_ballot(1, 1, 2));
	rj.promised = paxos_ballot(1, 1, 2);
	ck_assert_int_eq(recv(&f, 1, &rj), 0);
	tick(&f, 999); /* past the longest first backoff, within the command's timeout */
	m = sent(&f, 1, PAXOS_MSG_PREPARE);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->ballot, paxos_ballot(2, 1, 2));
	fx_close(&f);
}
END_TEST

START_TEST(commands_wait_and_batch)
{
	struct fx f;
	fx_init(&f, 1, false);
	submit(&f, E_OWNED_BY_1, "A");
	uint64_t vid = sent(&f, 2, PAXOS_MSG_ACCEPT)->value_id;
	synced(&f);
	uint64_t b = submit(&f, E_OWNED_BY_1, "B");
	ck_assert_uint_eq(f.u->n_outboxes, 0); /* waits: entry 1 is in flight */
	uint64_t c = submit(&f, E_OWNED_BY_1, "C");
	struct paxos_msg ok = msg(PAXOS_MSG_ACCEPTED, E_OWNED_BY_1, 1, paxos_ballot(0, 1, 1));
	ok.value_id = vid;
	ck_assert_int_eq(recv(&f, 3, &ok), 0);
	const struct paxos_msg *m = sent(&f, 2, PAXOS_MSG_ACCEPT);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->entry, 2);
	struct cmds cs = value_cmds(m->value, m->value_len);
	ck_assert_uint_eq(cs.n, 2);
	ck_assert_uint_eq(cs.ids[0], b);
	ck_assert_uint_eq(cs.ids[1], c);
	fx_close(&f);
}
END_TEST

static uint64_t session(uint32_t node, uint64_t boot)
{
	return (uint64_t)node << 56 | boot << 32;
}

static struct paxos_msg fwd_msg(uint32_t type, uint64_t entity, uint64_t seq, uint64_t from_session,
				uint64_t to_session)
{
	struct paxos_msg m = msg(type, entity, 0, 0);
	m.nonce = seq;
	m.session = from_session;
	m.to_session = to_session;
	return m;
}

static size_t waiting(struct fx *f)
{
	struct paxos_stats st;
	paxos_get_stats(f->p, &st);
	return st.commands_waiting;
}

/* The origin's side: commands go to the holder one FORWARD at a time, are
 * resent until answered, proposed by us only when refused, and fail with
 * -EIO when the holder that took them is gone. */
START_TEST(forwarding_from_the_origin)
{
	struct fx f;
	fx_init(&f, 2, false);
	uint64_t s1 = session(1, 5), me = session(2, 1);
	struct paxos_msg sr = scan_reply(0, NULL, 0, true);
	sr.session = s1; /* node 1's process: known from its listing */
	ck_assert_int_eq(recv(&f, 1, &sr), 0);

	uint64_t x = submit(&f, E_OWNED_BY_1, "x");
	const struct paxos_msg *m = sent(&f, 1, PAXOS_MSG_FORWARD);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->nonce, 1);
	ck_assert_uint_eq(m->session, me);
	ck_assert_uint_eq(m->to_session, s1);
	struct cmds c = value_cmds(m->value, m->value_len);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_uint_eq(c.ids[0], x);
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_PREPARE) + count_sent(&f, PAXOS_MSG_ACCEPT), 0);
	uint64_t y = submit(&f, E_OWNED_BY_1, "y");
	ck_assert_uint_eq(f.u->n_outboxes, 0); /* one FORWARD per entity at a time */
	tick(&f, 100);                         /* no answer: the same FORWARD again */
	m = sent(&f, 1, PAXOS_MSG_FORWARD);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->nonce, 1);
	ck_assert_uint_eq(value_cmds(m->value, m->value_len).n, 1);

	struct paxos_msg a = fwd_msg(PAXOS_MSG_FWD_ACK, E_OWNED_BY_1, 1, s1, me);
	ck_assert_int_eq(recv(&f, 1, &a), 0);
	m = sent(&f, 1, PAXOS_MSG_FORWARD); /* what queued up goes now */
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->nonce, 2);
	ck_assert_uint_eq(value_cmds(m->value, m->value_len).ids[0], y);
	ck_assert_int_eq(recv(&f, 1, &a), 0); /* a repeated answer: nothing */
	ck_assert_uint_eq(f.u->n_outboxes, 0);

	/* refused: never in a value of node 1, so ours to propose */
	struct paxos_msg n = fwd_msg(PAXOS_MSG_FWD_NACK, E_OWNED_BY_1, 2, s1, me);
	ck_assert_int_eq(recv(&f, 1, &n), 0);
	m = sent(&f, 1, PAXOS_MSG_PREPARE);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->ballot, paxos_ballot(1, 1, 2));
	ck_assert_uint_eq(waiting(&f), 2);

	/* entry 1 is chosen with node 1's value, which holds x: x is done;
	 * y goes to node 1 again (a new entry: a new chance) */
	uint8_t val[64];
	uint8_t *end = paxos_codec_put_cmd(val, x, "x", 1);
	struct paxos_msg ch = msg(PAXOS_MSG_CHOSEN, E_OWNED_BY_1, 1, paxos_ballot(0, 1, 1));
	ch.value_id = s1 | 9;
	ch.value = val;
	ch.value_len = (size_t)(end - val);
	ch.has_value = true;
	ck_assert_int_eq(recv(&f, 3, &ch), 0);
	ck_assert_uint_eq(f.u->n_chosen, 1);
	m = sent(&f, 1, PAXOS_MSG_FORWARD);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->nonce, 3);
	ck_assert_uint_eq(waiting(&f), 1);

	/* node 1 restarted: whatever #3 reached may be in its values; y is
	 * never proposed by us, it fails with -EIO in time */
	struct paxos_msg st = fwd_msg(PAXOS_MSG_FWD_STALE, E_OWNED_BY_1, 3, session(1, 6), me);
	ck_assert_int_eq(recv(&f, 1, &st), 0);
	ck_assert_uint_eq(f.u->n_outboxes, 0);
	tick(&f, 1000);
	ck_assert_uint_eq(f.u->n_failed, 1);
	ck_assert_uint_eq(f.u->failed[0].cmd_id, y);
	ck_assert_int_eq(f.u->failed[0].error, -EIO);
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_PREPARE) + count_sent(&f, PAXOS_MSG_ACCEPT), 0);
	ck_assert_uint_eq(waiting(&f), 0);

	/* node 1 lost its disk and runs with a lower id base (its wall clock
	 * went back across the wipe): said by its own message, that is its
	 * process now; a value id of an older, higher one changes nothing */
	uint64_t s1low = session(1, 2);
	submit(&f, E_OWNED_BY_1, "z");
	ck_assert_uint_eq(sent(&f, 1, PAXOS_MSG_FORWARD)->to_session, session(1, 6));
	st = fwd_msg(PAXOS_MSG_FWD_STALE, E_OWNED_BY_1, 1, s1low, me);
	ck_assert_int_eq(recv(&f, 1, &st), 0);
	ch.value_id = session(1, 6) | 3; /* the old process's value, learned late */
	ch.entry = 2;
	ck_assert_int_eq(recv(&f, 3, &ch), 0);
	submit(&f, E_OWNED_BY_1, "w");
	m = sent(&f, 1, PAXOS_MSG_FORWARD);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->to_session, s1low);
	ck_assert_uint_eq(m->nonce, 1);
	fx_close(&f);
}
END_TEST

/* The holder's side: each FORWARD decided once, in order, for the process
 * it names; taken commands ride in its next entry, never reported failed. */
START_TEST(forwarding_at_the_holder)
{
	struct fx f;
	fx_init(&f, 1, false);
	uint64_t s2 = session(2, 3), me = session(1, 1);
	uint8_t val[64];
	uint8_t *end = paxos_codec_put_cmd(val, s2 | 7, "a", 1);
	size_t len1 = (size_t)(end - val);
	struct paxos_msg fw = fwd_msg(PAXOS_MSG_FORWARD, E_OWNED_BY_1, 1, s2, me);
	fw.value = val;
	fw.value_len = (size_t)(end - val);
	fw.has_value = true;
	/* no write of our own there: refused */
	ck_assert_int_eq(recv(&f, 2, &fw), 0);
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_FWD_NACK));
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_ACCEPT), 0);

	submit(&f, E_OWNED_BY_1, "mine");
	uint64_t vid = sent(&f, 2, PAXOS_MSG_ACCEPT)->value_id;
	synced(&f);
	uint8_t val2[64];
	end = paxos_codec_put_cmd(val2, s2 | 8, "b", 1);
	fw.nonce = 2;
	fw.value = val2;
	fw.value_len = (size_t)(end - val2);
	ck_assert_int_eq(recv(&f, 2, &fw), 0);
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_FWD_ACK));
	ck_assert_uint_eq(waiting(&f), 2);
	ck_assert_int_eq(recv(&f, 2, &fw), 0); /* again: the same answer, taken once */
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_FWD_ACK));
	ck_assert_uint_eq(waiting(&f), 2);
	fw.nonce = 1;
	fw.value = val;
	fw.value_len = len1;
	ck_assert_int_eq(recv(&f, 2, &fw), 0); /* and #1 stays refused */
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_FWD_NACK));
	/* #4 while #3 is missing (lost, or settled by the origin unsent): #3
	 * is decided refused, so a gap never blocks the channel, and #4 taken */
	uint8_t val4[64];
	end = paxos_codec_put_cmd(val4, s2 | 9, "d", 1);
	fw.nonce = 4;
	fw.value = val4;
	fw.value_len = (size_t)(end - val4);
	ck_assert_int_eq(recv(&f, 2, &fw), 0);
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_FWD_ACK));
	ck_assert_uint_eq(waiting(&f), 3);
	fw.nonce = 3; /* a late copy of #3: refused, nothing taken */
	fw.value = val2;
	ck_assert_int_eq(recv(&f, 2, &fw), 0);
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_FWD_NACK));
	ck_assert_uint_eq(waiting(&f), 3);
	fw.nonce = 5;
	fw.to_session = session(1, 9); /* another process of ours */
	ck_assert_int_eq(recv(&f, 2, &fw), 0);
	const struct paxos_msg *m = sent(&f, 2, PAXOS_MSG_FWD_STALE);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->session, me);
	ck_assert_uint_eq(waiting(&f), 3);

	/* entry 1 (ours) chosen: entry 2 carries node 2's command */
	struct paxos_msg ok = msg(PAXOS_MSG_ACCEPTED, E_OWNED_BY_1, 1, paxos_ballot(0, 1, 1));
	ok.value_id = vid;
	ck_assert_int_eq(recv(&f, 3, &ok), 0);
	m = sent(&f, 3, PAXOS_MSG_ACCEPT);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->entry, 2);
	struct cmds c = value_cmds(m->value, m->value_len);
	ck_assert_uint_eq(c.n, 2);
	ck_assert_uint_eq(c.ids[0], s2 | 8);
	ck_assert_uint_eq(c.ids[1], s2 | 9);
	/* no majority for it: its origin reports it, not us */
	tick(&f, 1000);
	tick(&f, 1000);
	ck_assert_uint_eq(f.u->n_failed, 0);

	/* a command of another process than the FORWARD's sender: refused */
	end = paxos_codec_put_cmd(val, session(2, 2) | 1, "c", 1);
	fw.nonce = 5;
	fw.to_session = me;
	fw.value = val;
	fw.value_len = (size_t)(end - val);
	ck_assert_int_eq(recv(&f, 2, &fw), 0);
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_FWD_NACK));

	/* a new process of node 2 with a lower id base (its disk was lost):
	 * its sequence starts again at 1 and is decided, not ignored */
	uint64_t s2low = session(2, 1);
	end = paxos_codec_put_cmd(val, s2low | 1, "e", 1);
	fw = fwd_msg(PAXOS_MSG_FORWARD, E_OWNED_BY_1, 1, s2low, me);
	fw.value = val;
	fw.value_len = (size_t)(end - val);
	fw.has_value = true;
	ck_assert_int_eq(recv(&f, 2, &fw), 0);
	/* decided, not ignored: refused (no entry of ours in flight now) */
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_FWD_NACK));
	fx_close(&f);
}
END_TEST

START_TEST(waiting_commands_fail_with_a_clear_error)
{
	struct fx f;
	fx_init(&f, 1, false);
	uint64_t sent_one = submit(&f, E_OWNED_BY_1, "sent");
	f.now += 10;
	uint64_t queued = submit(&f, E_OWNED_BY_1, "queued");
	ck_assert_uint_ne(f.u->deadline_ms, PAXOS_NO_DEADLINE);
	tick(&f, 995); /* past the first's timeout only */
	ck_assert_uint_eq(f.u->n_failed, 1);
	ck_assert_uint_eq(f.u->failed[0].cmd_id, sent_one);
	ck_assert_int_eq(f.u->failed[0].error, -EIO); /* sent: outcome unknown */
	tick(&f, 10);
	ck_assert_uint_eq(f.u->n_failed, 1);
	ck_assert_uint_eq(f.u->failed[0].cmd_id, queued);
	ck_assert_int_eq(f.u->failed[0].error, -ETIMEDOUT); /* never left */
	ck_assert_uint_eq(f.u->n_chosen, 0);
	fx_close(&f);
}
END_TEST

/* Votes are synced before their messages leave; what is learned is not. */
START_TEST(only_votes_are_synced)
{
	struct fx f;
	fx_init(&f, 1, false);
	submit(&f, E_OWNED_BY_1, "write A");
	const struct paxos_out_record *r = written(&f, E_OWNED_BY_1, 1);
	ck_assert_int_eq(r->sync, 1); /* our own round-0 acceptance: a vote */
	ck_assert_int_eq(f.u->needs_sync, 1);
	struct paxos_msg ok = msg(PAXOS_MSG_ACCEPTED, E_OWNED_BY_1, 1, paxos_ballot(0, 1, 1));
	ok.value_id = r->rec.value_id;
	synced(&f);
	ck_assert_int_eq(recv(&f, 2, &ok), 0);
	ck_assert_uint_eq(f.u->n_chosen, 1);
	r = written(&f, E_OWNED_BY_1, 1);
	ck_assert_int_eq(r->rec.chosen, 1);
	ck_assert_int_eq(r->sync, 0); /* the chosen flag, and the meta: lazy */
	ck_assert_uint_eq(f.u->n_metas, 1);
	ck_assert_int_eq(f.u->metas[0].sync, 0);
	ck_assert_int_eq(f.u->needs_sync, 0);
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_CHOSEN)); /* sent all the same */

	/* as an acceptor: a promise and an acceptance are synced */
	struct paxos_msg m = msg(PAXOS_MSG_PREPARE, 0x777, 1, paxos_ballot(1, 1, 2));
	ck_assert_int_eq(recv(&f, 2, &m), 0);
	ck_assert_int_eq(written(&f, 0x777, 1)->sync, 1);
	ck_assert_int_eq(f.u->needs_sync, 1);
	m = msg(PAXOS_MSG_ACCEPT, 0x777, 1, paxos_ballot(1, 1, 2));
	m.value_id = 0x0201000000000005ull;
	m.has_value = true;
	ck_assert_int_eq(recv(&f, 2, &m), 0);
	ck_assert_int_eq(written(&f, 0x777, 1)->sync, 1);
	/* a repeated ACCEPT changes nothing: no write at all */
	ck_assert_int_eq(recv(&f, 2, &m), 0);
	ck_assert_ptr_null(written(&f, 0x777, 1));
	ck_assert_int_eq(f.u->needs_sync, 0);
	/* learning it chosen is lazy; so is the whole catch-up of an entity */
	struct paxos_msg c = msg(PAXOS_MSG_CHOSEN, 0x777, 1, paxos_ballot(1, 1, 2));
	c.value_id = m.value_id;
	ck_assert_int_eq(recv(&f, 2, &c), 0);
	ck_assert_int_eq(written(&f, 0x777, 1)->rec.chosen, 1);
	ck_assert_int_eq(f.u->needs_sync, 0);
	c = msg(PAXOS_MSG_CHOSEN, 0x888, 1, paxos_ballot(1, 1, 2));
	c.value_id = 0x0201000000000009ull;
	c.has_value = true;
	ck_assert_int_eq(recv(&f, 2, &c), 0);
	ck_assert_uint_eq(f.u->n_chosen, 1);
	ck_assert_int_eq(f.u->needs_sync, 0);
	fx_close(&f);

	/* an amnesic node's fences are synced, and so is amnesia cleared */
	fx_init(&f, 3, true);
	uint64_t items[3] = {E_OWNED_BY_1, 4, 5};
	struct paxos_msg sr = scan_reply(0, items, 3, true);
	ck_assert_int_eq(recv(&f, 1, &sr), 0);
	ck_assert_uint_eq(f.u->n_metas, 1);
	ck_assert_int_eq(f.u->metas[0].sync, 1);
	ck_assert_int_eq(f.u->needs_sync, 1);
	sr = scan_reply(0, NULL, 0, true);
	ck_assert_int_eq(recv(&f, 2, &sr), 0);
	ck_assert_int_eq(f.u->amnesia_cleared, 1);
	ck_assert_int_eq(f.u->n_metas, 0);
	ck_assert_int_eq(f.u->needs_sync, 1);
	fx_close(&f);
}
END_TEST

START_TEST(amnesia_votes_only_above_the_fence)
{
	struct fx f;
	fx_init(&f, 3, true);
	struct paxos_msg p = msg(PAXOS_MSG_PREPARE, E_OWNED_BY_1, 1, paxos_ballot(1, 1, 1));
	ck_assert_int_eq(recv(&f, 1, &p), 0);
	ck_assert_ptr_null(sent(&f, 1, PAXOS_MSG_PROMISE));
	ck_assert_ptr_nonnull(sent(&f, 1, PAXOS_MSG_SCAN)); /* first step: listing asked */

	/* node 1 has records of E up to 5 */
	uint64_t items[3] = {E_OWNED_BY_1, 4, 5};
	struct paxos_msg r = scan_reply(0, items, 3, true);
	ck_assert_int_eq(recv(&f, 1, &r), 0);
	ck_assert_int_eq(f.u->amnesia_cleared, 0); /* node 2 has not answered */
	ck_assert_uint_eq(f.u->n_metas, 1);
	ck_assert_uint_eq(f.u->metas[0].meta.vote_after, 5);
	r = scan_reply(0, NULL, 0, true);
	ck_assert_int_eq(recv(&f, 2, &r), 0);
	ck_assert_int_eq(f.u->amnesia_cleared, 1);

	p = msg(PAXOS_MSG_PREPARE, E_OWNED_BY_1, 5, paxos_ballot(1, 1, 1));
	ck_assert_int_eq(recv(&f, 1, &p), 0);
	ck_assert_ptr_null(sent(&f, 1, PAXOS_MSG_PROMISE));
	p.entry = 6;
	ck_assert_int_eq(recv(&f, 1, &p), 0);
	ck_assert_ptr_nonnull(sent(&f, 1, PAXOS_MSG_PROMISE));
	/* an entity nobody listed: no fence */
	p.entity = 0x999;
	p.entry = 1;
	ck_assert_int_eq(recv(&f, 1, &p), 0);
	ck_assert_ptr_nonnull(sent(&f, 1, PAXOS_MSG_PROMISE));

	/* the fence is persisted: a restart keeps it */
	fx_restart(&f);
	p = msg(PAXOS_MSG_PREPARE, E_OWNED_BY_1, 4, paxos_ballot(2, 1, 1));
	ck_assert_int_eq(recv(&f, 1, &p), 0);
	ck_assert_ptr_null(sent(&f, 1, PAXOS_MSG_PROMISE));
	fx_close(&f);
}
END_TEST

static void choose_entries(struct fx *f, uint64_t entity, uint64_t from, uint64_t to)
{
	for (uint64_t e = from; e <= to; e++) {
		struct paxos_msg c = msg(PAXOS_MSG_CHOSEN, entity, e, paxos_ballot(1, 1, 2));
		c.value_id = 0x0201000000000000ull | e;
		c.has_value = true; /* no-op values */
		c.chosen = e;
		ck_assert_int_eq(recv(f, 2, &c), 0);
	}
}

START_TEST(trimmed_entries_are_served_as_snapshots)
{
	struct fx f;
	fx_init(&f, 1, false);
	choose_entries(&f, 0x500, 1, 6);
	struct paxos_event ap = {.type = PAXOS_EV_APPLIED};
	ap.applied.entity = 0x500;
	ap.applied.entry = 2;
	ap.applied.chain_crc = 22;
	ck_assert_int_eq(step(&f, &ap), 0);
	ap.applied.entry = 5;
	ap.applied.chain_crc = 55;
	ck_assert_int_eq(step(&f, &ap), 0); /* 2 + retention 2 <= 5: trim to 2 */
	ck_assert_uint_eq(f.u->n_trims, 1);
	ck_assert_uint_eq(f.u->trims[0].upto, 2);
	ck_assert_uint_eq(f.u->metas[0].meta.trimmed_entry, 2);
	ck_assert_uint_eq(f.u->metas[0].meta.trimmed_crc, 22);

	/* a peer asking for trimmed entries is told so; later ones are served */
	struct paxos_msg fe = msg(PAXOS_MSG_FETCH, 0x500, 1, 0);
	fe.entry_to = 6;
	ck_assert_int_eq(recv(&f, 3, &fe), 0);
	ck_assert_uint_eq(sent(&f, 3, PAXOS_MSG_TRIMMED)->entry, 2);
	fe.entry = 3;
	ck_assert_int_eq(recv(&f, 3, &fe), 0);
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_CHOSEN), 4);
	fx_close(&f);

	/* the node that is behind asks its caller for a snapshot */
	fx_init(&f, 3, false);
	struct paxos_msg t = msg(PAXOS_MSG_TRIMMED, 0x500, 2, 0);
	t.chosen = 6;
	ck_assert_int_eq(recv(&f, 1, &t), 0);
	ck_assert_uint_eq(f.u->n_snapshots, 1);
	ck_assert_uint_eq(f.u->snapshots[0].from, 1);
	ck_assert_uint_eq(f.u->snapshots[0].entry, 2);
	struct paxos_event in = {.type = PAXOS_EV_SNAPSHOT_INSTALLED};
	in.snapshot.entity = 0x500;
	in.snapshot.entry = 5;
	in.snapshot.chain_crc = 55;
	ck_assert_int_eq(step(&f, &in), 0);
	ck_assert_uint_eq(f.u->metas[0].meta.chosen_entry, 5);
	ck_assert_uint_eq(f.u->metas[0].meta.trimmed_entry, 5);
	ck_assert_uint_eq(f.u->n_trims, 1);
	const struct paxos_msg *m = sent(&f, 1, PAXOS_MSG_FETCH); /* 6 is still missing */
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->entry, 6);
	fx_close(&f);
}
END_TEST

/* A peer that paces catch-up holds a FETCH and says FETCH_WAIT: the asker
 * waits for it, asks that peer again (not the other one), and never proposes
 * at the entry meanwhile (its PREPAREs would preempt whoever writes the
 * entity, and be answered with the value by every peer, outside the rate).
 * Without the WAITs it falls back to phase 1 after four stalls: the case
 * the fallback is for (nobody can serve the entry). */
START_TEST(a_fetch_wait_is_waited_for)
{
	struct fx f;
	fx_init(&f, 3, false);
	/* any message tells node 3 that node 1 has 1..5 chosen */
	struct paxos_msg hello = msg(PAXOS_MSG_BARRIER_ACK, 0x700, 0, 0);
	hello.chosen = 5;
	ck_assert_int_eq(recv(&f, 1, &hello), 0);
	const struct paxos_msg *q = sent(&f, 1, PAXOS_MSG_FETCH);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(q->entry, 1);
	size_t prepares = 0, to_other = 0;
	for (int i = 0; i < 40; i++) { /* 4 s of 100 ms retries */
		struct paxos_msg w = msg(PAXOS_MSG_FETCH_WAIT, 0x700, 1, 0);
		if (sent(&f, 1, PAXOS_MSG_FETCH))
			ck_assert_int_eq(recv(&f, 1, &w), 0);
		tick(&f, 100);
		prepares += count_sent(&f, PAXOS_MSG_PREPARE);
		to_other += sent(&f, 2, PAXOS_MSG_FETCH) != NULL;
	}
	ck_assert_uint_eq(prepares, 0);
	ck_assert_uint_eq(to_other, 0);
	/* the answer comes: caught up */
	choose_entries(&f, 0x700, 1, 5);
	fx_close(&f);

	/* without the WAITs: the fallback, as before */
	fx_init(&f, 3, false);
	ck_assert_int_eq(recv(&f, 1, &hello), 0);
	for (int i = 0; i < 40 && !prepares; i++) {
		tick(&f, 100);
		prepares += count_sent(&f, PAXOS_MSG_PREPARE);
	}
	ck_assert_uint_gt(prepares, 0);
	fx_close(&f);
}
END_TEST

START_TEST(barriers_wait_for_what_a_majority_knows)
{
	struct fx f;
	fx_init(&f, 1, false);
	struct paxos_event b = {.type = PAXOS_EV_BARRIER};
	b.barrier.entity = 0x600;
	b.barrier.req_id = 7;
	ck_assert_int_eq(step(&f, &b), 0);
	const struct paxos_msg *q = sent(&f, 2, PAXOS_MSG_BARRIER);
	ck_assert_ptr_nonnull(q);
	struct paxos_msg ack = msg(PAXOS_MSG_BARRIER_ACK, 0x600, 0, 0);
	ack.nonce = q->nonce;
	ack.chosen = 2;
	ack.top = 3; /* node 2 accepted something at 3 */
	ck_assert_int_eq(recv(&f, 2, &ack), 0);
	ck_assert_uint_eq(f.u->n_barriers, 0);
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_FETCH));
	choose_entries(&f, 0x600, 1, 2);
	ck_assert_uint_eq(f.u->n_barriers, 0); /* 3 may have been chosen */
	choose_entries(&f, 0x600, 3, 3);
	ck_assert_uint_eq(f.u->n_barriers, 1);
	ck_assert_uint_eq(f.u->barriers[0].req_id, 7);
	ck_assert_int_eq(f.u->barriers[0].result, 0);
	ck_assert_uint_eq(f.u->barriers[0].entry, 3);

	/* nobody answers: a clear error after the timeout */
	b.barrier.req_id = 8;
	ck_assert_int_eq(step(&f, &b), 0);
	tick(&f, 1000);
	ck_assert_uint_eq(f.u->n_barriers, 1);
	ck_assert_int_eq(f.u->barriers[0].result, -ETIMEDOUT);
	fx_close(&f);
}
END_TEST

START_TEST(a_broken_entity_refuses_service)
{
	struct fx f;
	fx_init(&f, 1, false);
	f.fail_meta = -EBADMSG;
	struct paxos_event ev = {.type = PAXOS_EV_SUBMIT};
	ev.submit.entity = 0x700;
	ev.submit.body = "x";
	ev.submit.len = 1;
	ck_assert_int_eq(step(&f, &ev), 0);
	ck_assert_uint_eq(f.u->n_errors, 1);
	ck_assert_int_eq(f.u->errors[0].error, -EBADMSG);
	ck_assert_uint_eq(f.u->n_failed, 1);
	ck_assert_int_eq(f.u->failed[0].error, -EIO);
	f.fail_meta = 0; /* still refused: reported once, not retried */
	ck_assert_int_eq(step(&f, &ev), 0);
	ck_assert_uint_eq(f.u->n_errors, 0);
	ck_assert_int_eq(f.u->failed[0].error, -EIO);
	/* others are served */
	submit(&f, E_OWNED_BY_1, "fine");
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_ACCEPT));
	/* a FORWARD for it is refused, not dropped: FORWARDs are a sequence
	 * over all entities, and the next one is served */
	uint64_t s2 = session(2, 1), me = session(1, 1);
	uint8_t val[32];
	uint8_t *end = paxos_codec_put_cmd(val, s2 | 1, "a", 1);
	struct paxos_msg fw = fwd_msg(PAXOS_MSG_FORWARD, 0x700, 1, s2, me);
	fw.value = val;
	fw.value_len = (size_t)(end - val);
	fw.has_value = true;
	ck_assert_int_eq(recv(&f, 2, &fw), 0);
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_FWD_NACK));
	fw.entity = E_OWNED_BY_1; /* we write there (proposing): taken */
	fw.nonce = 2;
	end = paxos_codec_put_cmd(val, s2 | 2, "b", 1);
	fw.value_len = (size_t)(end - val);
	ck_assert_int_eq(recv(&f, 2, &fw), 0);
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_FWD_ACK));
	fx_close(&f);
}
END_TEST

START_TEST(idle_entities_leave_memory_and_come_back)
{
	struct fx f;
	fx_init(&f, 3, false);
	choose_entries(&f, 0x800, 1, 3);
	struct paxos_msg p = msg(PAXOS_MSG_PREPARE, 0x800, 4, paxos_ballot(2, 1, 2));
	ck_assert_int_eq(recv(&f, 2, &p), 0);
	struct paxos_stats st;
	paxos_get_stats(f.p, &st);
	ck_assert_uint_eq(st.entities, 1);
	tick(&f, 5000);
	paxos_get_stats(f.p, &st);
	ck_assert_uint_eq(st.entities, 0);
	/* reloaded as it was: chosen 3, promised 2.2 at 4 */
	p.ballot = paxos_ballot(1, 1, 1);
	ck_assert_int_eq(recv(&f, 1, &p), 0);
	ck_assert_uint_eq(sent(&f, 1, PAXOS_MSG_REJECT)->promised, paxos_ballot(2, 1, 2));
	ck_assert_uint_eq(sent(&f, 1, PAXOS_MSG_REJECT)->chosen, 3);
	fx_close(&f);
}
END_TEST

START_TEST(entity_listings_catch_up_and_repeat)
{
	struct fx f;
	fx_init(&f, 3, false); /* listings asked at start, answered (peers_answer) */
	/* node 1 comes back: its listing is read again */
	struct paxos_event up = {.type = PAXOS_EV_PEER_UP};
	up.peer.node = 1;
	ck_assert_int_eq(step(&f, &up), 0);
	ck_assert_ptr_nonnull(sent(&f, 1, PAXOS_MSG_SCAN));
	ck_assert_ptr_null(sent(&f, 2, PAXOS_MSG_SCAN));
	/* node 1 lists an entity we are behind on: we fetch it */
	uint64_t items[3] = {0xa01, 4, 4};
	struct paxos_msg r = scan_reply(0, items, 3, true);
	ck_assert_int_eq(recv(&f, 1, &r), 0);
	const struct paxos_msg *m = sent(&f, 1, PAXOS_MSG_FETCH);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->entity, 0xa01);
	ck_assert_uint_eq(m->entry_to, 4);
	/* a stale or repeated page is ignored */
	ck_assert_int_eq(recv(&f, 1, &r), 0);
	ck_assert_ptr_null(sent(&f, 1, PAXOS_MSG_SCAN));
	/* the next pass comes by itself (default: ten minutes) */
	tick(&f, 600000);
	ck_assert_ptr_nonnull(sent(&f, 1, PAXOS_MSG_SCAN));
	fx_close(&f);
}
END_TEST

START_TEST(proposals_wait_for_a_majority_of_voters)
{
	struct fx f;
	fx_init(&f, 1, false);
	fx_restart(&f);
	paxos_free(f.p);
	fx_start(&f); /* restarted, no peer heard from yet */
	ck_assert_int_eq(born(&f, E_OWNED_BY_1, id_of_this_life(&f)), 0);
	submit(&f, E_OWNED_BY_1, "early");
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_ACCEPT), 0);
	/* a peer that is still amnesic does not count */
	struct paxos_msg r = scan_reply(0, NULL, 0, true);
	r.flags |= PAXOS_MSG_F_NONVOTER;
	ck_assert_int_eq(recv(&f, 2, &r), 0);
	ck_assert_uint_eq(count_sent(&f, PAXOS_MSG_ACCEPT), 0);
	/* any message from a voter: the waiting command goes */
	struct paxos_msg b = msg(PAXOS_MSG_BARRIER, 0x42, 0, 0);
	ck_assert_int_eq(recv(&f, 3, &b), 0);
	ck_assert_ptr_nonnull(sent(&f, 2, PAXOS_MSG_ACCEPT));
	/* and what this node sends while amnesic says so */
	fx_close(&f);
	fx_init(&f, 2, true);
	b = msg(PAXOS_MSG_BARRIER, 0x42, 0, 0);
	ck_assert_int_eq(recv(&f, 1, &b), 0);
	const struct paxos_msg *ack = sent(&f, 1, PAXOS_MSG_BARRIER_ACK);
	ck_assert_ptr_nonnull(ack);
	ck_assert_uint_eq(ack->flags & PAXOS_MSG_F_NONVOTER, PAXOS_MSG_F_NONVOTER);
	fx_close(&f);
}
END_TEST

/* A one-node cluster has nobody to hear from: an amnesic start (every new
 * store) clears at the first step, and the node's own vote is a majority
 * (issue 14: a 1-node cluster never worked). */
START_TEST(a_single_node_clears_amnesia_and_chooses_alone)
{
	struct fx f;
	memset(&f, 0, sizeof(f));
	sim_store_init(&f.st);
	f.ops = sim_store_ops;
	f.nodes[0] = 1;
	f.cfg.self = 1;
	f.cfg.nodes = f.nodes;
	f.cfg.n_nodes = 1;
	f.cfg.amnesia = true;
	f.cfg.seed = 1;
	f.cfg.ops = &f.ops;
	f.cfg.ops_ctx = &f.st;
	f.cfg.retry_ms = 100;
	f.cfg.proposal_timeout_ms = 1000;
	f.cfg.barrier_timeout_ms = 1000;
	f.cfg.idle_evict_ms = 5000;
	f.cfg.retention = 2;
	f.now = 1000;
	fx_start(&f);
	tick(&f, 1);
	ck_assert_int_eq(f.u->amnesia_cleared, 1);
	uint64_t id = submit(&f, E_OWNED_BY_1, "alone"); /* phase 1: an earlier life's file */
	size_t chosen = f.u->n_chosen;
	for (int i = 0; i < 5 && !chosen; i++) {
		synced(&f);
		chosen = f.u->n_chosen;
		if (!chosen) {
			tick(&f, 10);
			chosen = f.u->n_chosen;
		}
	}
	ck_assert_uint_eq(chosen, 1);
	ck_assert_int_eq(f.u->chosen[0].mine, 1);
	(void)id;
	fx_close(&f);
}
END_TEST

START_TEST(malformed_events_are_refused)
{
	struct fx f;
	fx_init(&f, 1, false);
	struct paxos_msg p = msg(PAXOS_MSG_PREPARE, 0x900, 1, paxos_ballot(1, 1, 2));
	ck_assert_int_eq(recv(&f, 1, &p), -EINVAL); /* from self */
	ck_assert_int_eq(recv(&f, 9, &p), -EINVAL); /* not a member */
	p.ballot = paxos_ballot(0, 1, 2);           /* round 0 is never prepared */
	ck_assert_int_eq(recv(&f, 2, &p), -EINVAL);
	ck_assert_uint_eq(f.u->n_records, 0);

	struct paxos_event ev = {.type = PAXOS_EV_SUBMIT};
	ev.submit.entity = 0;
	ck_assert_int_eq(step(&f, &ev), -EINVAL);
	static uint8_t big[5u << 20];
	ev.submit.entity = 0x900;
	ev.submit.body = big;
	ev.submit.len = sizeof(big);
	ck_assert_int_eq(step(&f, &ev), -EMSGSIZE);
	ck_assert_uint_eq(f.u->submit_id, 0);
	ev.type = 99;
	ck_assert_int_eq(step(&f, &ev), -EINVAL);
	fx_close(&f);
}
END_TEST

/* Ids (paxos.h, "Ids never repeat"): node << 56 | seq above this life's
 * base, at most (elapsed ms + 1) << 14 of them, so that the next life's base
 * (from the wall clock) is above them all. Past the bound SUBMIT says
 * -EAGAIN, and hands out ids again once time has passed. */
START_TEST(ids_keep_to_their_rate_bound)
{
	struct fx f;
	fx_init(&f, 1, false);
	const uint64_t base = f.cfg.id_base, room = UINT64_C(1) << PAXOS_ID_MS_SHIFT;
	uint64_t n = 0;
	int rc = 0;
	for (; n <= room; n++) {
		struct paxos_event ev = {.type = PAXOS_EV_SUBMIT};
		ev.submit.entity = E_OWNED_BY_1;
		ev.submit.body = "x";
		ev.submit.len = 1;
		rc = step(&f, &ev);
		if (rc)
			break;
		uint64_t id = f.u->submit_id;
		ck_assert_uint_eq(paxos_id_node(id), 1);
		ck_assert_uint_gt(paxos_id_seq(id), base);
		ck_assert_uint_le(paxos_id_seq(id), base + room);
	}
	ck_assert_int_eq(rc, -EAGAIN);
	ck_assert_uint_eq(f.u->submit_id, 0);
	ck_assert_uint_gt(n, room - 4); /* a value id or two went to the proposer */
	tick(&f, 1);
	uint64_t id = submit(&f, E_OWNED_BY_1, "later");
	ck_assert_uint_gt(paxos_id_seq(id), base + room - 4);
	ck_assert_uint_le(paxos_id_seq(id), base + 2 * room);
	fx_close(&f);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("paxos engine");
	TEST_CASE(s, bad_configs_are_refused, 10);
	TEST_CASE(s, ballot_encoding, 10);
	TEST_CASE(s, fast_path_is_one_round_trip, 10);
	TEST_CASE(s, early_accept_counts_self_only_after_the_sync, 10);
	TEST_CASE(s, entry_one_is_round_zero_only_for_the_life_that_made_it, 10);
	TEST_CASE(s, proposal_counters, 10);
	TEST_CASE(s, no_round_zero_after_a_restart_on_an_earlier_life_value, 10);
	TEST_CASE(s, votes_are_never_early, 10);
	TEST_CASE(s, a_create_is_durable_before_entry_one_goes_early, 10);
	TEST_CASE(s, a_restarted_node_lists_one_past_its_earlier_value, 10);
	TEST_CASE(s, others_and_the_namespace_run_phase_one, 10);
	TEST_CASE(s, phase_one_adopts_the_highest_accepted_value, 10);
	TEST_CASE(s, a_promise_revokes_pre_authorisation, 10);
	TEST_CASE(s, the_acceptor_keeps_its_promises, 10);
	TEST_CASE(s, a_node_that_lost_its_disk_prepares_strictly, 10);
	TEST_CASE(s, commands_wait_and_batch, 10);
	TEST_CASE(s, forwarding_from_the_origin, 10);
	TEST_CASE(s, forwarding_at_the_holder, 10);
	TEST_CASE(s, waiting_commands_fail_with_a_clear_error, 10);
	TEST_CASE(s, only_votes_are_synced, 10);
	TEST_CASE(s, amnesia_votes_only_above_the_fence, 10);
	TEST_CASE(s, trimmed_entries_are_served_as_snapshots, 10);
	TEST_CASE(s, a_fetch_wait_is_waited_for, 30);
	TEST_CASE(s, barriers_wait_for_what_a_majority_knows, 10);
	TEST_CASE(s, a_broken_entity_refuses_service, 10);
	TEST_CASE(s, idle_entities_leave_memory_and_come_back, 10);
	TEST_CASE(s, entity_listings_catch_up_and_repeat, 10);
	TEST_CASE(s, proposals_wait_for_a_majority_of_voters, 10);
	TEST_CASE(s, a_single_node_clears_amnesia_and_chooses_alone, 10);
	TEST_CASE(s, malformed_events_are_refused, 10);
	TEST_CASE(s, ids_keep_to_their_rate_bound, 30);
	return s;
}
