/* tests/sim/sim.h — the deterministic cluster simulator.
 *
 * N nodes, each the daemon's node core (node/: the engine, its turns and
 * group commit, engine start and reset) over an in-memory store (simstore.h):
 * per loop turn, every step's writes at once without sync, then one synced
 * write (possibly after a slow disk), then send, then deliver the chosen
 * values to a model file system, then arm the timer. The simulator supplies
 * only the io (virtual time, the simulated disk and network) and the model
 * state machine. Virtual time, one event queue, one seeded PRNG: a run is a
 * pure function of its seed.
 *
 * Faults: message loss, duplication, delay and reordering; partitions;
 * crash and restart of any node at any time (the update waiting for its
 * synced write is lost); power cuts (also lost: the writes made without sync
 * since the last synced one, a random suffix of them — the store's guarantee
 * is that a synced write makes every earlier write durable); a wiped disk
 * (restart with an empty store, amnesic); slow disks (only synced writes
 * wait for them); engine resets (a failed write for want of room: the
 * engine is rebuilt inside the process, its connections kept); failed
 * syncs (the dirty pages are dropped for good: the node must stop, and
 * comes back only when restarted).
 * The network keeps one rule of net/: once a node has received a message
 * from a peer's new process, nothing sent by that peer's earlier processes
 * is delivered to it (paxos/paxos.h, "What the engine relies on").
 *
 * The checker (check.c) runs after every step: at most one value chosen per
 * (entity, entry) ever, by the omniscient tally of persisted acceptances;
 * every chosen value was proposed; every command is chosen at most once and
 * never after it was failed with -ETIMEDOUT; persisted promises never go
 * backwards; nothing is sent before what it depends on is durable (the
 * durable copy of the store, not what the engine wrote lazily); reads
 * after a barrier see every entry chosen before it began. At the end, after
 * faults stop: every command submitted to a live node is chosen or failed,
 * and all nodes hold the same chosen log of every entity.
 *
 * Liveness (cfg.liveness_ms, off when 0): while a node is up together with a
 * majority of nodes that are up and pairwise connected (no partition and no
 * broken connection between any two of them), every command submitted to it
 * is answered there (applied, or failed) and every barrier it began completes
 * within liveness_ms, counted from the later of its start and the moment
 * that majority formed; a node restarted with its disk intact votes (is not
 * amnesic) within liveness_ms too. A stall is a violation, found as soon as
 * the bound passes, not only at the end.
 */
#ifndef PAXFS_TESTS_SIM_SIM_H
#define PAXFS_TESTS_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "paxos/paxos.h"

#define SIM_MAX_NODES 5
/* A namespace command body "BORN" + entity (8 bytes, little-endian): the
 * model of a create; the node whose command it is tells its engine (as the
 * daemon does for its creates), which opens the entity's entry 1 at round 0
 * without a sync first when that command is of the engine's own life. */
#define SIM_BORN_TAG "BORN"

struct sim_config {
	uint64_t seed;
	int n_nodes;                /* 1..SIM_MAX_NODES; node ids are 1..n */
	struct paxos_config engine; /* timing and bounds for every node (ids, ops ignored) */
	uint32_t delay_min_ms, delay_max_ms;
	uint32_t loss_pct, dup_pct; /* per message batch, in percent */
	uint32_t disk_ms;           /* 0: persisting takes no time */
	bool check;                 /* run the checker (default in sim_config_default: on) */
	bool wipe_repeats_inc;      /* a wiped node's ballots carry its first life's
				      * incarnation again (its ids stay unique), as a
				      * clock-derived boot count may: STRICT prepares
				      * must cope */
	bool fs_log;                /* keep every applied value id (needed by the checker) */
	bool group_turns;           /* a loop turn takes every input of the same instant, as
				      * the daemon's turn takes every ready event (group
				      * commit across steps); off: one input per turn */
	uint32_t liveness_ms;       /* 0: off; else the bound of the liveness check (above) */
	size_t trace_ring;          /* trace lines kept for a failure report (0: none) */
	FILE *trace_out;            /* if set, every trace line is printed there too */
};

void sim_config_default(struct sim_config *c, uint64_t seed, int n_nodes);

struct sim;

int sim_new(const struct sim_config *c, struct sim **out);
void sim_free(struct sim *s);

uint64_t sim_now(const struct sim *s);

/* ---- actions (take effect now) -------------------------------------------- */

/* Submits a command at `node` (1-based). *cmd_id is 0 when the node is down. */
int sim_submit(struct sim *s, int node, uint64_t entity, const void *body, size_t len,
	       uint64_t *cmd_id);
/* Node `node` creates `entity` (a SIM_BORN_TAG command on the namespace,
 * submitted like sim_submit; its outcome is not followed). */
int sim_create(struct sim *s, int node, uint64_t entity);
int sim_barrier(struct sim *s, int node, uint64_t entity, uint64_t req_id);
/* A process crash (SIGKILL): what it wrote without sync stays in the page
 * cache and survives; the turn waiting for its synced write never leaves. */
void sim_crash(struct sim *s, int node);
/* A power cut: a crash that also loses writes no synced write has covered —
 * the last ones, keeping the first `keep` (keep < 0: a random number of
 * them). Works on a node that is down too (its unsynced writes are at risk
 * until its next start, which syncs). */
void sim_power_cut(struct sim *s, int node, int keep);
void sim_wipe(struct sim *s, int node); /* crash and lose the disk: next start is amnesic */
void sim_restart(struct sim *s, int node);
/* Moves the node's wall clock (simulated now + its offset) by ms. */
void sim_wall_step(struct sim *s, int node, int64_t ms);
/* A failed store write (-ENOSPC): node_reset, the daemon's own reaction —
 * the engine is dropped and rebuilt from the store at the next timer, with a
 * new boot count, inside the same process; its connections, and the messages
 * in flight on them, stay. */
void sim_engine_reset(struct sim *s, int node);
/* The node's disk fails its next write (-ENOSPC: the core rebuilds its
 * engine) or its next sync (-EIO, the unsynced writes are lost for good: the
 * core must stop the node, which then stays down until sim_restart). */
void sim_disk_fault(struct sim *s, int node, bool sync);
void sim_disk_heal(struct sim *s);                         /* disarms every fault not yet met */
void sim_block(struct sim *s, int a, int b, bool blocked); /* both directions */
void sim_heal(struct sim *s);
void sim_set_net(struct sim *s, uint32_t delay_min, uint32_t delay_max, uint32_t loss_pct,
		 uint32_t dup_pct);
void sim_set_disk(struct sim *s, int node, uint32_t ms);
/* Messages from `from` to `to` sent from now on take `ms` (0: the network's
 * delay again); only that direction. */
void sim_set_link_delay(struct sim *s, int from, int to, uint32_t ms);

/* Runs a callback at virtual time t (actions of a scripted or random run). */
typedef void (*sim_action_cb)(struct sim *s, void *arg, uint64_t a, uint64_t b);
void sim_at(struct sim *s, uint64_t t, sim_action_cb fn, void *arg, uint64_t a, uint64_t b);

/* ---- running -------------------------------------------------------------- */

/* Processes events up to virtual time t (inclusive). Returns 0, or -1 as soon
 * as the checker found a violation (sim_failure tells which). */
int sim_run_until(struct sim *s, uint64_t t);
/* Runs until every node is up, no command waits, all nodes agree on every
 * entity, or until `limit`. Returns 0 when converged, -1 otherwise. */
int sim_run_until_converged(struct sim *s, uint64_t limit);
/* End-of-run checks (faults must have stopped): -1 on a violation. */
int sim_final_check(struct sim *s);

const char *sim_failure(const struct sim *s); /* NULL when none */
/* Sends every trace line from now on to `out` too (NULL: stop). */
void sim_set_trace(struct sim *s, FILE *out);
void sim_print_trace(const struct sim *s, FILE *f);

/* ---- observation ------------------------------------------------------- */

bool sim_up(const struct sim *s, int node);
bool sim_amnesic(const struct sim *s, int node);
/* Wiped and not caught up yet, or fenced (amnesia guard) above its chosen
 * entry of some entity: not a full voter, so wiping another node now would be
 * a second concurrent failure. */
bool sim_fragile(struct sim *s, int node);
/* The entry through which `node`'s file system has applied `entity`. */
uint64_t sim_applied(const struct sim *s, int node, uint64_t entity);
struct paxos *sim_engine(struct sim *s, int node);

struct sim_stats {
	uint64_t steps;
	uint64_t batches, msgs, bytes;
	uint64_t entries_chosen; /* distinct (entity, entry) chosen */
	uint64_t deliveries;     /* chosen notices delivered, all nodes */
	uint64_t cmds_submitted, cmds_chosen, cmds_failed;
	uint64_t barriers_ok, barriers_failed;
	uint64_t snapshots;
	uint64_t crashes, power_cuts, wipes, engine_resets;
	uint64_t fatal_stops; /* nodes that stopped themselves (a failed sync) */
	uint64_t forwards, fwd_nacks,
	    fwd_stale;        /* FORWARD (resends too), FWD_NACK, FWD_STALE sent */
	uint64_t alloc_bytes; /* engine allocations, all nodes, all lives */
};
void sim_get_stats(const struct sim *s, struct sim_stats *out);

/* ---- random runs (workload.c) -------------------------------------------- */

struct sim_random_opts {
	int n_nodes;
	bool faults;      /* every fault enabled */
	bool verbose;     /* print the whole trace to stderr */
	bool kills;       /* instead: only kill -9 and restart, never more than (n - 1) / 2
			   * down at once, on a clean network with the daemon's timing;
			   * liveness checked (2 s) */
	bool group_turns; /* sim_config.group_turns */
};

/* One random run: random entities, clients, barriers and (with faults) the
 * whole fault schedule, then faults stop and the cluster must converge. On a
 * violation prints the seed, the cause and the last trace lines to `report`
 * (if not NULL) and returns -1; 0 when clean. */
int sim_run_random(uint64_t seed, const struct sim_random_opts *o, FILE *report,
		   struct sim_stats *stats);

#endif
