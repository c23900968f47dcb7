/* tests/sim/workload.c — one random run of the simulator per seed.
 *
 * From the seed alone: the network's quality, the entities, the clients (some
 * writing one entity from one node — the fast path — some writing the same
 * entity from several nodes — contention), read barriers, and with faults the
 * whole schedule of crashes and power cuts, wiped disks, partitions, slow
 * disks, engine resets. Then the
 * faults stop (everything heals and restarts) and the cluster must converge:
 * every command answered, every node holding the same log.
 *
 * Wiped disks obey the fault model the engine promises to survive: a node is
 * wiped only while every other node is up, voting, and neither recovering
 * from a wipe nor fenced by the amnesia guard at an undecided entry (one lost
 * voter at a time, for every entity). Crashes and power cuts need no such
 * care: such a node keeps its disk up to its last synced write, so any number
 * of them at once must be safe.
 *
 * The kills mode (sim_random_opts.kills) is the daemon's life under the fault
 * harness's kills schedule: every node writes shared entities the whole run,
 * nodes are killed (-9: a crash, the disk intact) and restarted at random,
 * never more than (n - 1) / 2 down at once, on a clean network, with the
 * daemon's timing (retries, backoff, 30 s timeouts). A majority is always up,
 * so the liveness check holds every command and barrier of a live node to
 * 2 s.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/sim/simint.h"

struct wl {
	struct util_prng prng;
	int n;
	uint64_t entities[6];
	int n_entities;
	uint64_t next_req;
	uint32_t downtime_max;
};

static uint64_t rnd(struct wl *w, uint64_t n)
{
	return n ? util_prng_below(&w->prng, n) : 0;
}

static void act_submit(struct sim *s, void *arg, uint64_t node, uint64_t entity)
{
	struct wl *w = arg;
	uint8_t body[4096];
	size_t len;
	uint64_t r = rnd(w, 100);
	if (r < 80)
		len = 1 + rnd(w, 40);
	else if (r < 95)
		len = 100 + rnd(w, 1400);
	else
		len = 3000 + rnd(w, 1000);
	for (size_t i = 0; i < len; i++)
		body[i] = (uint8_t)rnd(w, 256);
	uint64_t id;
	sim_submit(s, (int)node, entity, body, len, &id);
}

/* The owner of `entity` creates it (SIM_BORN_TAG): its writes at entry 1
 * then skip phase 1, in the life that created it only. */
static void act_born(struct sim *s, void *arg, uint64_t node, uint64_t entity)
{
	(void)arg;
	sim_create(s, (int)node, entity);
}

static void act_barrier(struct sim *s, void *arg, uint64_t node, uint64_t entity)
{
	struct wl *w = arg;
	sim_barrier(s, (int)node, entity, ++w->next_req);
}

static void act_restart(struct sim *s, void *arg, uint64_t node, uint64_t b)
{
	sim_restart(s, (int)node);
}

static void act_crash(struct sim *s, void *arg, uint64_t node, uint64_t downtime)
{
	struct wl *w = arg;
	if (!sim_up(s, (int)node))
		return;
	/* A killed process, or a power cut that also loses what was written
	 * without sync since the last synced write. */
	if (rnd(w, 2))
		sim_power_cut(s, (int)node, -1);
	else
		sim_crash(s, (int)node);
	sim_at(s, sim_now(s) + downtime, act_restart, arg, node, 0);
}

static void act_engine_reset(struct sim *s, void *arg, uint64_t node, uint64_t b)
{
	sim_engine_reset(s, (int)node);
}

/* The disk fails the node's next write (a full disk: the core rebuilds its
 * engine) or its next sync (the core stops the node; it restarts after
 * `downtime`, as a supervisor would). */
static void act_disk_fault(struct sim *s, void *arg, uint64_t node, uint64_t downtime)
{
	sim_disk_fault(s, (int)node, downtime != 0);
	if (downtime)
		sim_at(s, sim_now(s) + downtime, act_restart, arg, node, 0);
}

static void act_wipe(struct sim *s, void *arg, uint64_t node, uint64_t downtime)
{
	struct wl *w = arg;
	for (int i = 1; i <= w->n; i++)
		if (!sim_up(s, i) || sim_amnesic(s, i) || sim_fragile(s, i))
			return; /* only one node out of the voters at a time */
	sim_wipe(s, (int)node);
	/* Down for days, some of the time: its wall clock moves on (ids of the
	 * next life come from it, and must stay above this life's). */
	if (rnd(w, 2))
		sim_wall_step(s, (int)node, (int64_t)rnd(w, (uint64_t)1 << 32));
	sim_at(s, sim_now(s) + downtime, act_restart, arg, node, 0);
}

static void act_partition(struct sim *s, void *arg, uint64_t side, uint64_t block)
{
	struct wl *w = arg;
	for (int a = 1; a <= w->n; a++)
		for (int b = a + 1; b <= w->n; b++)
			if (((side >> a) & 1) != ((side >> b) & 1))
				sim_block(s, a, b, block != 0);
}

static void act_disk(struct sim *s, void *arg, uint64_t node, uint64_t ms)
{
	sim_set_disk(s, (int)node, (uint32_t)ms);
}

/* A kill -9, unless (n - 1) / 2 nodes are down already, or the new cluster
 * has not formed yet (a node is still amnesic: it waits for every other
 * node, as the harness waits for every mount before its first kill). */
static void act_kill(struct sim *s, void *arg, uint64_t node, uint64_t downtime)
{
	struct wl *w = arg;
	int down = 0;
	for (int i = 1; i <= w->n; i++) {
		down += !sim_up(s, i);
		if (sim_amnesic(s, i))
			return;
	}
	if (!sim_up(s, (int)node) || down >= (w->n - 1) / 2)
		return;
	sim_crash(s, (int)node);
	sim_at(s, sim_now(s) + downtime, act_restart, arg, node, 0);
}

static void act_calm(struct sim *s, void *arg, uint64_t a, uint64_t b)
{
	struct wl *w = arg;
	sim_trace(s, "faults stop");
	sim_heal(s);
	sim_disk_heal(s);
	sim_set_net(s, 1, 3, 0, 0);
	for (int i = 1; i <= w->n; i++) {
		sim_set_disk(s, i, 0);
		sim_restart(s, i);
	}
}

int sim_run_random(uint64_t seed, const struct sim_random_opts *o, FILE *report,
		   struct sim_stats *stats)
{
	struct wl w;
	memset(&w, 0, sizeof(w));
	util_prng_seed(&w.prng, seed ^ 0x5eed5eed5eedull);
	w.n = o->n_nodes;
	struct sim_config c;
	sim_config_default(&c, seed, w.n);
	c.group_turns = o->group_turns;
	if (o->verbose)
		c.trace_out = stderr;
	static const uint32_t losses[] = {0, 1, 5, 15, 30};
	static const uint32_t dups[] = {0, 2, 10};
	static const uint32_t delays[] = {1, 5, 20, 60, 300};
	if (o->kills) {
		c.dup_pct = dups[rnd(&w, 2)];
		c.delay_min_ms = (uint32_t)rnd(&w, 2);
		c.delay_max_ms = delays[rnd(&w, 3)];
		c.liveness_ms = 2000;
	} else if (o->faults) {
		c.loss_pct = losses[rnd(&w, 5)];
		c.dup_pct = dups[rnd(&w, 3)];
		c.delay_min_ms = (uint32_t)rnd(&w, 2);
		/* 300 ms: messages outlive retries, crashes and whole recoveries */
		c.delay_max_ms = delays[rnd(&w, rnd(&w, 4) ? 4 : 5)];
	}
	/* The engine's own knobs vary too, so that every path gets exercised:
	 * tiny pages and fetches, short and long retention and timeouts. */
	static const uint32_t retries[] = {20, 50, 100};
	static const uint32_t retentions[] = {2, 6, 50};
	c.engine.retry_ms = retries[rnd(&w, 3)];
	c.engine.retention = retentions[rnd(&w, 3)];
	c.engine.scan_page = 1 + (uint32_t)rnd(&w, 4);
	c.engine.fetch_max_entries = 1 + (uint32_t)rnd(&w, 8);
	c.engine.fetch_max_bytes = rnd(&w, 2) ? 4096 : 1u << 20;
	c.engine.catchup_concurrency = 1 + (uint32_t)rnd(&w, 3);
	c.engine.proposal_timeout_ms = 1000 + (uint32_t)rnd(&w, 4000);
	c.engine.barrier_timeout_ms = 1000 + (uint32_t)rnd(&w, 4000);
	c.engine.idle_evict_ms = rnd(&w, 2) ? 100 : 5000;
	/* from a holder that hardly ever takes forwarded commands to one that
	 * keeps taking them long after its own last write */
	static const uint32_t holds[] = {1, 50, 300, 2000};
	c.engine.forward_hold_ms = holds[rnd(&w, 4)];
	if (o->kills) {
		/* the daemon's (paxos/paxos.h defaults; -o timeout=30) */
		c.engine.retry_ms = 200;
		c.engine.backoff_min_ms = 10;
		c.engine.backoff_max_ms = 500;
		c.engine.proposal_timeout_ms = 30000;
		c.engine.barrier_timeout_ms = 30000;
		/* and its value bound: with 4 KiB values, five nodes writing one
		 * entity every few ms queue up for longer than the 2 s bound */
		c.engine.value_max_bytes = 4u << 20;
	}
	struct sim *s;
	if (sim_new(&c, &s))
		abort();

	uint64_t t_fault = 2000 + rnd(&w, 3000);
	if (o->kills)
		t_fault = 4000 + rnd(&w, 6000);
	w.n_entities = 2 + (int)rnd(&w, 3);
	for (int i = 0; i < w.n_entities; i++) {
		uint64_t r = rnd(&w, 4);
		/* the namespace (nobody pre-authorised at entry 1), or a file
		 * created by some node (low byte), or by nobody in the cluster */
		w.entities[i] =
		    (i == 0 && r == 0)
			? PAXOS_NAMESPACE_ENTITY
			: ((uint64_t)(i + 1) << 8 | (r == 3 ? 0x80 : 1 + rnd(&w, (uint64_t)w.n)));
	}
	/* Creates come once the nodes are up (a mount answers only then): at
	 * 0 ms every node of the simulator's new stores is amnesic, which a
	 * new cluster's nodes are not (they vote from the start), and a write
	 * then meets the amnesia fence's known stall (docs/decisions.md,
	 * "Wiped nodes": one fenced voter and one node down). */
	for (int i = 0; i < w.n_entities; i++) {
		uint64_t owner = w.entities[i] & 0xff;
		if (w.entities[i] != PAXOS_NAMESPACE_ENTITY && owner >= 1 && owner <= (uint64_t)w.n)
			sim_at(s, 300 + (uint64_t)i, act_born, &w, owner, w.entities[i]);
	}
	int n_clients = o->kills ? 0 : 2 + (int)rnd(&w, 5);
	if (o->kills) {
		/* every node writes shared entities until the faults stop */
		for (int node = 1; node <= w.n; node++) {
			uint64_t gap = 5 + rnd(&w, 100);
			/* after the creates (below): as on a mount, a file is
			 * written once it exists */
			for (uint64_t t = 310 + rnd(&w, gap); t < t_fault;
			     t += 1 + rnd(&w, 2 * gap))
				sim_at(s, t, act_submit, &w, (uint64_t)node,
				       w.entities[rnd(&w, (uint64_t)w.n_entities)]);
		}
		int n_kills = 2 + (int)rnd(&w, 10);
		for (int k = 0; k < n_kills; k++)
			sim_at(s, 200 + rnd(&w, t_fault - 200), act_kill, &w,
			       1 + rnd(&w, (uint64_t)w.n), 10 + rnd(&w, 3000));
	}
	for (int k = 0; k < n_clients; k++) {
		uint64_t entity = w.entities[rnd(&w, (uint64_t)w.n_entities)];
		bool fixed = rnd(&w, 2); /* one node (fast path) or any node (contention) */
		uint64_t node = 1 + rnd(&w, (uint64_t)w.n);
		if (fixed && (entity & 0xff) >= 1 && (entity & 0xff) <= (uint64_t)w.n)
			node = entity & 0xff;
		int count = 3 + (int)rnd(&w, 13);
		uint64_t t = rnd(&w, t_fault / 2);
		bool burst = rnd(&w, 3) == 0;
		for (int i = 0; i < count; i++) {
			uint64_t at_node = fixed ? node : 1 + rnd(&w, (uint64_t)w.n);
			sim_at(s, t, act_submit, &w, at_node, entity);
			t += burst ? rnd(&w, 3) : 1 + rnd(&w, t_fault / (uint64_t)count);
		}
	}
	int n_barriers = (int)rnd(&w, o->kills ? 30 : 9);
	for (int k = 0; k < n_barriers; k++)
		sim_at(s, rnd(&w, t_fault), act_barrier, &w, 1 + rnd(&w, (uint64_t)w.n),
		       w.entities[rnd(&w, (uint64_t)w.n_entities)]);

	if (o->faults && !o->kills) {
		int n_crashes = (int)rnd(&w, 5);
		for (int k = 0; k < n_crashes; k++)
			sim_at(s, rnd(&w, t_fault), act_crash, &w, 1 + rnd(&w, (uint64_t)w.n),
			       10 + rnd(&w, 1500));
		int n_wipes = rnd(&w, 3) ? 0 : 1 + (int)rnd(&w, 3);
		for (int k = 0; k < n_wipes; k++)
			sim_at(s, rnd(&w, t_fault), act_wipe, &w, 1 + rnd(&w, (uint64_t)w.n),
			       10 + rnd(&w, 1000));
		int n_parts = (int)rnd(&w, 5);
		for (int k = 0; k < n_parts; k++) {
			uint64_t side = rnd(&w, 1u << (w.n + 1)) & ~1ull;
			uint64_t t = rnd(&w, t_fault);
			sim_at(s, t, act_partition, &w, side, 1);
			sim_at(s, t + 50 + rnd(&w, 1500), act_partition, &w, side, 0);
		}
		for (int i = 1; i <= w.n; i++)
			if (rnd(&w, 3) == 0)
				sim_at(s, rnd(&w, t_fault), act_disk, &w, (uint64_t)i,
				       1 + rnd(&w, 20));
		int n_resets = (int)rnd(&w, 3);
		for (int k = 0; k < n_resets; k++)
			sim_at(s, rnd(&w, t_fault), act_engine_reset, &w,
			       1 + rnd(&w, (uint64_t)w.n), 0);
		int n_disk_faults = (int)rnd(&w, 3);
		for (int k = 0; k < n_disk_faults; k++)
			sim_at(s, rnd(&w, t_fault), act_disk_fault, &w, 1 + rnd(&w, (uint64_t)w.n),
			       rnd(&w, 2) ? 10 + rnd(&w, 1500) : 0);
	}
	sim_at(s, t_fault, act_calm, &w, 0, 0);

	int rc = sim_run_until(s, t_fault);
	/* An entry its proposer left accepted by a majority, unannounced, is
	 * finished by the orphan timer (proposal_timeout_ms plus as much jitter)
	 * when nothing else touches it: 30 to 60 s with the daemon's timing. */
	uint64_t settle = o->kills ? 2 * (uint64_t)c.engine.proposal_timeout_ms : 0;
	if (!rc)
		rc = sim_run_until_converged(s, t_fault + 30000 + settle);
	if (!rc)
		rc = sim_final_check(s);
	if (!rc && !o->faults && !o->kills) {
		/* Without faults nothing may fail: contention must resolve. */
		struct sim_stats st;
		sim_get_stats(s, &st);
		if (st.cmds_failed || st.barriers_failed) {
			sim_fail(s, "%llu commands and %llu barriers failed without any fault",
				 (unsigned long long)st.cmds_failed,
				 (unsigned long long)st.barriers_failed);
			rc = -1;
		}
	}
	if (rc && report) {
		fprintf(report, "seed %llu (%d nodes%s): %s\n", (unsigned long long)seed, w.n,
			o->kills    ? ", kills"
			: o->faults ? ", faults"
				    : "",
			sim_failure(s));
		fprintf(report, "--- last trace lines (replay: PAXFS_SIM_SEED=%llu) ---\n",
			(unsigned long long)seed);
		sim_print_trace(s, report);
		fprintf(report, "--- end of trace ---\n");
	}
	if (stats)
		sim_get_stats(s, stats);
	sim_free(s);
	return rc ? -1 : 0;
}
