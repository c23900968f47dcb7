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

struct node_out {
	struct paxos_msg *v;
	size_t n, cap;
};

/* One loop turn: what its steps asked for, held until its sync. */
struct node_turn {
	bool sync;                /* an update of this turn needs a synced write */
	bool scheduled;           /* io->schedule_flush was called for it */
	struct node_out out[256]; /* messages by destination node id */
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
	int engine_err; /* while engine is NULL: what dropped it */
	bool restart;   /* engine dropped by node_reset: node_tick starts it */
	bool stopped;   /* node_stop ran */
	uint64_t boot_count;
	bool amnesia;
	uint64_t deadline_ms; /* the engine's, as last armed */
	struct node_turn *cur, *held, *spare;
};

/* turn.c */
struct node_turn *node_turn_new(void);
void node_turn_clear(struct node_turn *t);
void node_turn_free(struct node_turn *t);

#endif
