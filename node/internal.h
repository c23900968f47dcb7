/* node/internal.h — struct node and its turn, shared by the files of node/.
 *
 *   struct node
 *     engine ─────────── NULL while being reset, or after node_stop
 *     cur  ──▶ turn      collecting this loop turn's steps
 *     held ──▶ turn      waiting for its sync (NODE_SYNC_PENDING), or NULL
 *     spare──▶ turn      a cleared turn, reused
 */
#ifndef PAXFS_NODE_INTERNAL_H
#define PAXFS_NODE_INTERNAL_H

#include "node/node.h"
#include "util/u64map.h"

struct node_out {
	struct paxos_msg *v;
	size_t n, cap;
};

/* One loop turn: what its steps asked for, held until its sync. */
struct node_turn {
	bool sync;                /* an update of this turn needs a synced write */
	bool scheduled;           /* io->schedule_flush was called for it */
	struct node_out out[256]; /* messages by destination node id */
	struct node_out notices;  /* the engine's to itself (PAXOS_EV_PERSISTED) */
	struct paxos_chosen *chosen;
	size_t n_chosen, cap_chosen;
	struct paxos_failed *failed;
	size_t n_failed, cap_failed;
	struct paxos_barrier_done *barriers;
	size_t n_barriers, cap_barriers;
	struct paxos_snapshot_req *snaps;
	size_t n_snaps, cap_snaps;
	void **owned; /* copies of values and items, freed with the turn */
	size_t n_owned, cap_owned;
	uint64_t deadline_ms; /* the last update's */
	bool has_deadline;
};

struct node {
	struct node_config cfg;
	uint32_t nodes[PAXOS_MAX_NODES];
	struct paxos *engine;
	int engine_err;      /* while engine is NULL: what dropped it */
	bool restart;        /* engine dropped by node_reset: node_tick starts it */
	uint64_t restart_at; /* when */
	bool stopped;        /* node_stop ran */
	uint64_t boot_count;
	uint64_t id_base; /* this engine life's (node_boot.id_base) */
	uint64_t id_used; /* the last id seq of the previous engine of this process */
	bool amnesia;
	uint64_t deadline_ms; /* the engine's, as last armed */
	struct node_turn *cur, *held, *spare;
	struct util_u64map cmds;     /* command id → request (req.c) */
	struct util_u64map barriers; /* barrier id → request */
	uint64_t next_barrier_id;    /* this process's; never reused */
	struct util_u64map deferred; /* entity → 1: applies put off (apply.c) */
	uint64_t retry_at;           /* when to retry them (0: none deferred) */
};

/* req.c: a failed command, a barrier done: to its request, if any. */
void node_req_failed(struct node *n, const struct paxos_failed *f);
void node_req_barrier_done(struct node *n, const struct paxos_barrier_done *b);

/* apply.c */
void node_apply_chosen(struct node *n, const struct paxos_chosen *c);
void node_apply_catch_up(struct node *n);

/* node.c: arms io's one timer at the earliest of the engine's deadline, the
 * engine restart and the retry of deferred applies. */
void node_arm_timer(struct node *n);

/* turn.c */
struct node_turn *node_turn_new(void);
void node_turn_clear(struct node_turn *t);
void node_turn_free(struct node_turn *t);

#endif
