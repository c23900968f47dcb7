/* tests/unit/node/test_node.c — the node core over a recording io and fsm:
 * the order of a turn (persist at once; sync, send, apply, answers, timer at
 * the end), one sync for a whole turn, no sync for a turn without votes, a
 * sync that completes later, a failed sync (the node stops, nothing leaves),
 * a full disk (the engine is rebuilt with a new boot count) and any other
 * failed write (the node stops). One-node and three-node clusters over the
 * simulator's in-memory store. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node/node.h"
#include "tests/sim/simstore.h"

#define E_MINE 0x101ull /* entry 1 pre-authorised to node 1 */

struct fx {
	struct sim_store st;
	struct node *node;
	uint64_t now;
	uint64_t boot;
	uint64_t base;  /* the id base io->boot gives; 0: boot << 32 */
	char log[4096]; /* one letter per call, in order */
	size_t n_log;
	int persist_rc, sync_rc;
	int boots, persists, syncs, sends, applies, fails, fatals, losts, lost_err;
	uint64_t timer;
	uint32_t n_nodes;
	int expect_abandon_err;
	uint64_t applied; /* E_MINE's applied entry */
	int apply_rc;
	struct paxos_msg accept; /* the last ACCEPT sent (no value) */
};

static void note(struct fx *f, char c)
{
	ck_assert_uint_lt(f->n_log, sizeof(f->log) - 1);
	f->log[f->n_log++] = c;
}

static uint64_t io_now(void *ctx)
{
	return ((struct fx *)ctx)->now;
}

static int io_boot(void *ctx, struct node_boot *out, char *err, size_t errlen)
{
	struct fx *f = ctx;
	(void)err;
	(void)errlen;
	note(f, 'B');
	f->boots++;
	out->boot_count = ++f->boot;
	out->id_base = f->base ? f->base : f->boot << 32; /* above the last engine's ids */
	out->amnesia = false;
	out->seed = 7;
	return 0;
}

static int io_persist(void *ctx, const struct paxos_update *u)
{
	struct fx *f = ctx;
	note(f, 'p');
	f->persists++;
	if (f->persist_rc)
		return f->persist_rc;
	ck_assert_int_eq(sim_store_apply(&f->st, u), 0);
	return 0;
}

static int io_sync(void *ctx)
{
	struct fx *f = ctx;
	note(f, 'S');
	f->syncs++;
	return f->sync_rc;
}

static void io_send(void *ctx, uint32_t to, const struct paxos_msg *msgs, size_t n)
{
	struct fx *f = ctx;
	(void)to;
	for (size_t i = 0; i < n; i++) {
		if (msgs[i].type == PAXOS_MSG_ACCEPT) {
			f->accept = msgs[i];
			f->accept.value = NULL;
		}
	}
	note(f, 's');
	f->sends++;
}

static void io_set_timer(void *ctx, uint64_t deadline)
{
	struct fx *f = ctx;
	note(f, 'T');
	f->timer = deadline;
}

static void io_schedule_flush(void *ctx)
{
	note(ctx, 'F');
}

static bool io_peer_connected(void *ctx, uint32_t peer)
{
	return peer <= ((struct fx *)ctx)->n_nodes;
}

static void io_fatal(void *ctx, int err, const char *why)
{
	struct fx *f = ctx;
	(void)err;
	ck_assert_ptr_nonnull(strstr(why, "stopping"));
	note(f, '!');
	f->fatals++;
}

static int fsm_applied(void *ctx, uint64_t entity, uint64_t *entry)
{
	struct fx *f = ctx;
	*entry = entity == E_MINE ? f->applied : 0;
	return 0;
}

static int fsm_apply(void *ctx, const struct paxos_chosen *c, bool from_log)
{
	struct fx *f = ctx;
	ck_assert_uint_eq(c->entity, E_MINE);
	ck_assert_uint_eq(c->entry, f->applied + 1); /* strictly in order */
	note(f, from_log ? 'l' : 'a');
	if (f->apply_rc)
		return f->apply_rc;
	f->applies++;
	f->applied = c->entry;
	return 0;
}

static void fsm_failed(void *ctx, void *req, const struct paxos_failed *x)
{
	struct fx *f = ctx;
	(void)x;
	ck_assert_ptr_nonnull(req);
	note(f, 'x');
	f->fails++;
}

static void fsm_barrier_done(void *ctx, void *req, const struct paxos_barrier_done *b)
{
	(void)b;
	ck_assert_ptr_nonnull(req);
	note(ctx, 'b');
}

/* Requests are small counters: each abandon adds one to its own; a
 * command's request (>= 100) is told -EIO, a barrier's what dropped the
 * engine. */
static void fsm_abandon(void *ctx, void *req, int err)
{
	struct fx *f = ctx;
	int *r = req;
	note(f, 'A');
	ck_assert_int_eq(err, *r >= 100 ? -EIO : f->expect_abandon_err);
	(*r)++;
}

static void fsm_snapshot_fetch(void *ctx, const struct paxos_snapshot_req *r)
{
	(void)r;
	note(ctx, 'n');
}

static void fsm_entity_error(void *ctx, uint64_t entity, int err)
{
	(void)ctx;
	(void)entity;
	(void)err;
	ck_abort_msg("no storage error expected");
}

static void fsm_started(void *ctx)
{
	note(ctx, 'G');
}

static void fsm_lost(void *ctx, int err)
{
	struct fx *f = ctx;
	note(f, 'L');
	f->losts++;
	f->lost_err = err;
}

static const struct node_io fx_io = {
    .now_ms = io_now,
    .boot = io_boot,
    .persist = io_persist,
    .sync = io_sync,
    .send = io_send,
    .set_timer = io_set_timer,
    .schedule_flush = io_schedule_flush,
    .peer_connected = io_peer_connected,
    .fatal = io_fatal,
};

static const struct node_fsm fx_fsm = {
    .applied = fsm_applied,
    .apply = fsm_apply,
    .failed = fsm_failed,
    .barrier_done = fsm_barrier_done,
    .abandon = fsm_abandon,
    .snapshot_fetch = fsm_snapshot_fetch,
    .entity_error = fsm_entity_error,
    .started = fsm_started,
    .lost = fsm_lost,
};

static void fx_init(struct fx *f, uint32_t n_nodes)
{
	static const uint32_t ids[3] = {1, 2, 3};
	struct node_config c = {0};
	char err[128];

	memset(f, 0, sizeof(*f));
	sim_store_init(&f->st);
	f->now = 1000;
	f->boot = 40;
	f->n_nodes = n_nodes;
	c.self = 1;
	c.nodes = ids;
	c.n_nodes = n_nodes;
	c.engine.proposal_timeout_ms = 3000;
	c.storage = &sim_store_ops;
	c.storage_ctx = &f->st;
	c.io = &fx_io;
	c.io_ctx = f;
	c.fsm = &fx_fsm;
	c.fsm_ctx = f;
	ck_assert_int_eq(node_new(&c, &f->node), 0);
	ck_assert_int_eq(node_start(f->node, err, sizeof(err)), 0);
	ck_assert_uint_eq(node_boot_count(f->node), 41);
	/* The peers answer the entity listing: a majority of voters is known. */
	for (uint32_t from = 2; from <= n_nodes; from++) {
		struct paxos_msg r = {.type = PAXOS_MSG_SCAN_REPLY, .flags = PAXOS_MSG_F_DONE};
		struct paxos_event ev = {.type = PAXOS_EV_RECEIVE};
		ev.receive.from = from;
		ev.receive.msgs = &r;
		ev.receive.n = 1;
		ck_assert_int_eq(node_step(f->node, &ev, NULL), 0);
	}
	node_flush(f->node);
	f->n_log = 0;
	memset(f->log, 0, sizeof(f->log));
	f->persists = f->syncs = f->sends = f->applies = 0;
}

/* Node 1 created E_MINE in this life (its create was applied): its entry 1
 * goes at round 0, ACCEPTs before the sync. */
static void fx_born(struct fx *f)
{
	struct paxos_event ev = {.type = PAXOS_EV_BORN};
	ev.born.entity = E_MINE;
	ev.born.cmd_id = 1ull << 56 | (node_id_base(f->node) + 1);
	ck_assert_int_eq(node_step(f->node, &ev, NULL), 0);
	node_flush(f->node); /* PaxosMeta.born synced; its notice back */
	node_flush(f->node);
	f->n_log = 0;
	memset(f->log, 0, sizeof(f->log));
	f->persists = f->syncs = f->sends = f->applies = 0;
}

static void fx_close(struct fx *f)
{
	node_free(f->node);
	sim_store_close(&f->st);
}

static uint64_t submit(struct fx *f, const char *body)
{
	struct paxos_event ev = {.type = PAXOS_EV_SUBMIT};
	uint64_t id = 0;
	ev.submit.entity = E_MINE;
	ev.submit.body = body;
	ev.submit.len = strlen(body);
	ck_assert_int_eq(node_step(f->node, &ev, &id), 0);
	return id;
}

/* The log from position `from`, as a string. */
static const char *since(struct fx *f, size_t from)
{
	f->log[f->n_log] = 0;
	return f->log + from;
}

START_TEST(a_turn_persists_at_once_and_delivers_after_one_sync)
{
	struct fx f;
	fx_init(&f, 1);
	fx_born(&f);
	ck_assert_uint_ne(submit(&f, "one"), 0);
	ck_assert_uint_ne(submit(&f, "two"), 0); /* waits for entry 1 */
	/* written at once, one flush asked for; nothing delivered yet */
	ck_assert_int_eq(f.persists, 1);
	ck_assert_int_eq(f.syncs, 0);
	ck_assert_int_eq(f.applies, 0);
	ck_assert_str_eq(since(&f, 0), "pF");
	node_flush(f.node);
	/* one sync for the turn, then the timer; our early acceptance counts
	 * in the turn after its sync (the notice handed back) */
	ck_assert_int_eq(f.syncs, 1);
	ck_assert_int_eq(f.log[2], 'S');
	ck_assert_int_eq(f.log[f.n_log - 1], 'T');
	size_t turn2 = f.n_log;
	node_flush(f.node);
	/* the next turn: one sync, then the applies, then the timer */
	ck_assert_int_eq(f.syncs, 2);
	ck_assert_int_ge(f.applies, 1);
	ck_assert_int_eq(f.log[turn2], 'S');
	ck_assert_int_eq(f.log[f.n_log - 1], 'T');
	for (size_t i = turn2 + 1; i + 1 < f.n_log; i++)
		ck_assert_int_ne(f.log[i], 'S');
	fx_close(&f);
}
END_TEST

START_TEST(a_turn_without_votes_is_not_synced)
{
	struct fx f;
	struct paxos_event tick = {.type = PAXOS_EV_TICK};
	fx_init(&f, 1);
	ck_assert_int_eq(node_step(f.node, &tick, NULL), 0);
	node_flush(f.node);
	ck_assert_int_eq(f.syncs, 0);
	ck_assert_str_eq(since(&f, 0), "FT");
	/* a flush with nothing stepped does nothing */
	node_flush(f.node);
	ck_assert_str_eq(since(&f, 0), "FT");
	fx_close(&f);
}
END_TEST

START_TEST(messages_wait_for_the_sync)
{
	struct fx f;
	fx_init(&f, 3);
	/* three nodes: an ACCEPT to each peer, after the own acceptance is durable */
	f.sync_rc = NODE_SYNC_PENDING;
	submit(&f, "x");
	node_flush(f.node);
	ck_assert_int_eq(f.syncs, 1);
	ck_assert_int_eq(f.sends, 0);
	ck_assert(node_busy(f.node));
	/* a step meanwhile goes into the next turn; its flush waits */
	submit(&f, "y");
	node_flush(f.node);
	ck_assert_int_eq(f.syncs, 1);
	ck_assert_int_eq(f.sends, 0);
	f.sync_rc = 0;
	node_sync_done(f.node, 0);
	ck_assert(!node_busy(f.node));
	ck_assert_int_eq(f.sends, 2);
	fx_close(&f);
}
END_TEST

static void accepted_by(struct fx *f, uint32_t from)
{
	struct paxos_msg m = f->accept;
	struct paxos_event ev = {.type = PAXOS_EV_RECEIVE};
	m.type = PAXOS_MSG_ACCEPTED;
	m.has_value = false;
	m.value_len = 0;
	ev.receive.from = from;
	ev.receive.msgs = &m;
	ev.receive.n = 1;
	ck_assert_int_eq(node_step(f->node, &ev, NULL), 0);
}

/* Entry 2 follows our own value of this life: its ACCEPTs leave as soon as
 * the step's writes are made, before the sync (the peers sync meanwhile);
 * our acceptance counts only once the sync returned. */
START_TEST(early_accepts_leave_before_the_sync)
{
	struct fx f;
	fx_init(&f, 3);
	fx_born(&f);
	submit(&f, "x");
	ck_assert_int_eq(f.sends, 2); /* entry 1 of a file this life made: at once */
	ck_assert_uint_eq(f.accept.entry, 1);
	node_flush(f.node); /* our sync: our acceptance counts */
	accepted_by(&f, 2);
	node_flush(f.node);
	ck_assert_uint_eq(f.applied, 1);

	f.sync_rc = NODE_SYNC_PENDING;
	int sends = f.sends, syncs = f.syncs;
	submit(&f, "y");
	ck_assert_int_eq(f.sends, sends + 2); /* at once, with the write */
	ck_assert_uint_eq(f.accept.entry, 2);
	ck_assert_int_eq(f.syncs, syncs);
	node_flush(f.node);
	ck_assert_int_eq(f.syncs, syncs + 1);
	ck_assert(node_busy(f.node));
	/* a peer's acceptance alone is no majority while our sync is out */
	accepted_by(&f, 2);
	ck_assert_uint_eq(f.applied, 1);
	f.sync_rc = 0;
	node_sync_done(f.node, 0);
	node_flush(f.node);
	ck_assert_uint_eq(f.applied, 2);
	fx_close(&f);
}
END_TEST

START_TEST(a_failed_sync_stops_the_node_and_nothing_leaves)
{
	struct fx f;
	char err[128];
	fx_init(&f, 3);
	f.sync_rc = -EIO;
	submit(&f, "x");
	node_flush(f.node);
	ck_assert_int_eq(f.fatals, 1);
	ck_assert_int_eq(f.sends, 0);
	ck_assert_int_eq(f.applies, 0);
	ck_assert_int_eq(f.losts, 1);
	ck_assert_int_eq(f.lost_err, -EIO);
	ck_assert(node_stopped(f.node));
	ck_assert_ptr_null(node_engine(f.node));
	ck_assert_uint_eq(f.timer, PAXOS_NO_DEADLINE);
	{
		struct paxos_event ev = {.type = PAXOS_EV_TICK};
		ck_assert_int_eq(node_step(f.node, &ev, NULL), -ENOTCONN);
	}
	node_tick(f.node);
	ck_assert_int_eq(node_start(f.node, err, sizeof(err)), -ESHUTDOWN);
	ck_assert_int_eq(f.boots, 1);
	fx_close(&f);
}
END_TEST

START_TEST(a_full_disk_rebuilds_the_engine_with_a_new_boot)
{
	struct fx f;
	struct paxos_event ev = {.type = PAXOS_EV_SUBMIT};
	uint64_t id = 1;
	fx_init(&f, 3);
	f.persist_rc = -ENOSPC;
	ev.submit.entity = E_MINE;
	ev.submit.body = "x";
	ev.submit.len = 1;
	ck_assert_int_eq(node_step(f.node, &ev, &id), -ENOTCONN);
	ck_assert_int_eq(f.losts, 1);
	ck_assert_int_eq(f.lost_err, -ENOSPC);
	ck_assert_int_eq(node_engine_err(f.node), -ENOSPC);
	ck_assert_ptr_null(node_engine(f.node));
	ck_assert_int_eq(f.fatals, 0);
	ck_assert_uint_eq(f.timer, f.now); /* the restart: at once */
	/* nothing of the turn leaves */
	node_flush(f.node);
	ck_assert_int_eq(f.syncs, 0);
	ck_assert_int_eq(f.sends, 0);
	f.persist_rc = 0;
	node_tick(f.node);
	ck_assert_ptr_nonnull(node_engine(f.node));
	ck_assert_int_eq(node_engine_err(f.node), 0);
	ck_assert_int_eq(f.boots, 2);
	ck_assert_uint_eq(node_boot_count(f.node), 42);
	ck_assert_uint_ne(submit(&f, "y"), 0);
	fx_close(&f);
}
END_TEST

/* An engine rebuilt inside the process must start above the ids of the
 * one before it, whatever the wall clock says (docs/decisions.md, "Value ids
 * and command ids"): a base not above them is refused, and the start is
 * tried again later. */
START_TEST(a_rebuilt_engine_starts_above_the_last_ones_ids)
{
	struct fx f;
	struct paxos_event ev = {.type = PAXOS_EV_SUBMIT};
	uint64_t x = 0;
	fx_init(&f, 3);
	fx_born(&f);
	f.persist_rc = -ENOSPC;
	ev.submit.entity = E_MINE;
	ev.submit.body = "x";
	ev.submit.len = 1;
	ck_assert_int_eq(node_step(f.node, &ev, &x), -ENOTCONN);
	ck_assert_uint_ne(x, 0); /* the engine handed out x's id (and a value's) */
	f.persist_rc = 0;
	f.base = paxos_id_seq(x); /* the wall clock went back: not above them */
	node_tick(f.node);
	ck_assert_ptr_null(node_engine(f.node));
	ck_assert_uint_eq(f.timer, f.now + NODE_RESTART_RETRY_MS);
	f.base = 0;
	f.now += NODE_RESTART_RETRY_MS;
	node_tick(f.node);
	ck_assert_ptr_nonnull(node_engine(f.node));
	ck_assert_uint_gt(paxos_id_seq(submit(&f, "y")), paxos_id_seq(x) + 1);
	fx_close(&f);
}
END_TEST

START_TEST(any_other_failed_write_stops_the_node)
{
	struct fx f;
	struct paxos_event ev = {.type = PAXOS_EV_SUBMIT};
	fx_init(&f, 3);
	f.persist_rc = -EIO;
	ev.submit.entity = E_MINE;
	ev.submit.body = "x";
	ev.submit.len = 1;
	ck_assert_int_eq(node_step(f.node, &ev, NULL), -ENOTCONN);
	ck_assert_int_eq(f.fatals, 1);
	ck_assert(node_stopped(f.node));
	node_tick(f.node);
	ck_assert_int_eq(f.boots, 1);
	fx_close(&f);
}
END_TEST

/* Requests wait in the node until answered, and an engine that is dropped
 * hands each back once, however many barriers it waited for; an answer for
 * the dropped engine's barrier then finds nobody. */
START_TEST(requests_are_handed_back_once_when_the_engine_goes)
{
	struct fx f;
	int a = 0, b = 0, c = 100;
	uint64_t id = 0;
	fx_init(&f, 3);
	ck_assert_int_eq(node_barrier(f.node, E_MINE, &a), 0);
	ck_assert_int_eq(node_barrier(f.node, E_MINE + 1, &a), 0);
	ck_assert_int_eq(node_barrier(f.node, E_MINE, &b), 0);
	ck_assert_int_eq(node_submit(f.node, E_MINE, "x", 1, &c, &id), 0);
	ck_assert_uint_ne(id, 0);
	node_flush(f.node);
	f.expect_abandon_err = -ENOSPC;
	node_reset(f.node, -ENOSPC);
	ck_assert_int_eq(a, 1);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(c, 101); /* a command in flight: -EIO, not -ENOSPC */
	/* abandoned before the state machine hears the engine is gone */
	ck_assert_ptr_nonnull(strstr(since(&f, 0), "AAAL"));
	ck_assert_ptr_null(node_cmd_take(f.node, id));
	/* without an engine, nothing is recorded and the caller keeps req */
	ck_assert_int_eq(node_barrier(f.node, E_MINE, &a), -ENOTCONN);
	ck_assert_int_eq(node_submit(f.node, E_MINE, "y", 1, &c, &id), -ENOTCONN);
	ck_assert_uint_eq(id, 0);
	node_tick(f.node);
	f.expect_abandon_err = -EIO;
	node_abandon_all(f.node, -EIO);
	ck_assert_int_eq(a, 1);
	ck_assert_int_eq(c, 101);
	fx_close(&f);
}
END_TEST

/* A command applied by the driver leaves the node with its request. */
START_TEST(an_applied_command_gives_its_request_back)
{
	struct fx f;
	int r = 0;
	uint64_t id = 0;
	fx_init(&f, 1);
	ck_assert_int_eq(node_submit(f.node, E_MINE, "x", 1, &r, &id), 0);
	node_flush(f.node);
	ck_assert_ptr_eq(node_cmd_take(f.node, id), &r);
	ck_assert_ptr_null(node_cmd_take(f.node, id));
	fx_close(&f);
}
END_TEST

/* An entry the state machine puts off is retried from the log on the
 * node's timer; a later entry waits for it (no gap, no reordering). */
START_TEST(applies_put_off_are_retried_in_order)
{
	struct fx f;
	fx_init(&f, 1);
	fx_born(&f);
	f.apply_rc = -EAGAIN;
	submit(&f, "one");
	node_flush(f.node);
	node_flush(f.node); /* early: our acceptance counts in the turn after its sync */
	ck_assert_uint_eq(f.applied, 0);
	ck_assert_uint_eq(node_deferred(f.node), 1);
	ck_assert(node_apply_deferred(f.node, E_MINE));
	ck_assert_uint_le(f.timer, f.now + NODE_APPLY_RETRY_MS);
	/* the next entry is chosen meanwhile: entry 1 is read back first */
	f.apply_rc = 0;
	f.n_log = 0;
	submit(&f, "two");
	node_flush(f.node);
	/* entry 2 went early: our acceptance counts in the turn after its sync */
	node_flush(f.node);
	ck_assert_uint_eq(f.applied, 2);
	ck_assert_ptr_nonnull(strstr(since(&f, 0), "la"));
	/* the retry finds nothing left to do */
	f.now += NODE_APPLY_RETRY_MS;
	node_tick(f.node);
	ck_assert_uint_eq(node_deferred(f.node), 0);
	ck_assert_uint_eq(f.applied, 2);
	fx_close(&f);
}
END_TEST

START_TEST(a_put_off_apply_is_retried_on_the_timer)
{
	struct fx f;
	fx_init(&f, 1);
	fx_born(&f);
	f.apply_rc = -ENOSPC;
	submit(&f, "one");
	node_flush(f.node);
	node_flush(f.node); /* early: our acceptance counts in the turn after its sync */
	ck_assert_uint_eq(node_deferred(f.node), 1);
	f.apply_rc = 0;
	f.now += NODE_APPLY_RETRY_MS - 1;
	node_tick(f.node);
	ck_assert_uint_eq(f.applied, 0); /* not yet */
	f.now += 1;
	node_tick(f.node);
	ck_assert_uint_eq(f.applied, 1);
	ck_assert_uint_eq(node_deferred(f.node), 0);
	fx_close(&f);
}
END_TEST

/* A new engine first applies what the log holds beyond the state. */
START_TEST(a_restarted_engine_catches_up_from_the_log)
{
	struct fx f;
	fx_init(&f, 1);
	f.apply_rc = -EAGAIN;
	submit(&f, "one");
	submit(&f, "two");
	node_flush(f.node);
	ck_assert_uint_eq(f.applied, 0);
	f.apply_rc = 0;
	f.expect_abandon_err = -ENOSPC;
	node_reset(f.node, -ENOSPC);
	f.n_log = 0;
	node_tick(f.node);
	ck_assert_ptr_nonnull(node_engine(f.node));
	ck_assert_uint_ge(f.applied, 1);
	ck_assert_int_eq(f.log[1], 'l'); /* boot, then the log */
	fx_close(&f);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("node");
	TEST_CASE(s, a_turn_persists_at_once_and_delivers_after_one_sync, 10);
	TEST_CASE(s, a_turn_without_votes_is_not_synced, 10);
	TEST_CASE(s, messages_wait_for_the_sync, 10);
	TEST_CASE(s, a_failed_sync_stops_the_node_and_nothing_leaves, 10);
	TEST_CASE(s, a_full_disk_rebuilds_the_engine_with_a_new_boot, 10);
	TEST_CASE(s, a_rebuilt_engine_starts_above_the_last_ones_ids, 10);
	TEST_CASE(s, any_other_failed_write_stops_the_node, 10);
	TEST_CASE(s, requests_are_handed_back_once_when_the_engine_goes, 10);
	TEST_CASE(s, an_applied_command_gives_its_request_back, 10);
	TEST_CASE(s, applies_put_off_are_retried_in_order, 10);
	TEST_CASE(s, early_accepts_leave_before_the_sync, 10);
	TEST_CASE(s, a_put_off_apply_is_retried_on_the_timer, 10);
	TEST_CASE(s, a_restarted_engine_catches_up_from_the_log, 10);
	return s;
}
