/* node/node.h — the node core: one node's engine, its turns (group commit)
 * and its restarts, with the clock, the disk, the network and the state
 * machine injected. The daemon (mount/) and the simulator (tests/sim/) drive
 * this same code; only what is behind the two vtables differs.
 *
 *              events (RECEIVE, SUBMIT, BARRIER, PEER_*, APPLIED, SNAPSHOT_*)
 *                 │ node_step            ▲ node_tick (timer)
 *                 ▼                      │
 *   ┌──────────────── struct node ────────────────────────────────┐
 *   │ engine (paxos/) ──update──▶ turn: records ──io.persist──▶ disk (unsynced, now)
 *   │                              held: messages, chosen, failed,│
 *   │                                    barriers, snapshot asks  │
 *   │ node_flush (end of the driver's loop turn):                 │
 *   │   1. io.sync        if any update of the turn holds a vote  │
 *   │   2. io.send        one batch per peer                      │
 *   │   3. fsm.apply      chosen values, in entry order           │
 *   │   4. fsm.failed / fsm.barrier_done   answers                │
 *   │   5. fsm.snapshot_fetch                                     │
 *   │   6. io.set_timer   the engine's next deadline              │
 *   └─────────────────────────────────────────────────────────────┘
 *        daemon: leveldb, net/ mesh,        simulator: simstore + its wal,
 *                libevent timers, fs/                  lossy network,
 *                                                      virtual time, model fs
 *
 * The turn. Within one loop turn of the driver every step's records are
 * written at once without sync (io->persist), so the engine's storage reads
 * see them; what the update asks to be told or sent is copied and held. At
 * the end of the turn (the driver calls node_flush when io->schedule_flush
 * asked for it) one synced write makes everything durable — group commit —
 * if any update of the turn needs it, and only then are the held messages
 * sent, the chosen values applied, the answers given and the timer armed, in
 * that order (paxos/paxos.h). A turn without votes (chosen flags, trims) is
 * not synced: the next synced write covers it, and the engine learns again
 * what a crash loses of it. Work that delivering causes (APPLIED events, new
 * commands) lands in the next turn. The sync may complete later
 * (io->sync returns NODE_SYNC_PENDING, the simulator's slow disk): the turn
 * is held until node_sync_done; steps meanwhile go into the next turn.
 *
 * Faults. An unsynced write that fails for want of room (-ENOSPC) means the
 * engine believes something the disk does not hold: the engine is dropped
 * and rebuilt from the store, as after a crash, with a new boot count
 * (node_reset); nothing of the turn leaves, and the driver keeps its
 * connections. Any other failed write, and a failed sync, stop the node
 * (node_stop, then io->fatal): after a failed fsync nobody knows what reached
 * the disk, nor what a later sync would write.
 *
 * Engine (re)start. node_start records a new boot count durably
 * (io->boot), builds the engine from the store, tells it which peers are
 * connected (PEER_UP), and lets the state machine catch up (fsm->started).
 * After node_reset the start is retried from node_tick, at once and then
 * every NODE_RESTART_RETRY_MS while the store refuses writes.
 *
 * Not here (yet): the daemon's request bookkeeping (command and barrier ids
 * → waiting FUSE requests, mount/req.c), the apply order and deferred applies
 * (mount/apply.c), catch-up pacing (mount/snapshot.c).
 *
 * Everything runs on the driver's one thread. No globals: every piece of
 * state is in struct node. */
#ifndef PAXFS_NODE_NODE_H
#define PAXFS_NODE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "paxos/paxos.h"

/* io->sync: the write was started and completes later (node_sync_done). */
#define NODE_SYNC_PENDING 1

/* How often a failed engine restart is retried. */
#define NODE_RESTART_RETRY_MS 1000

/* What io->boot hands to a new engine. */
struct node_boot {
	uint64_t boot_count; /* grown at every start, recorded durably */
	bool amnesia;        /* NodeMeta.amnesia as stored */
	uint64_t seed;       /* the engine's PRNG seed */
};

/* The clock, the disk, the network and the timer. Every call is made from the
 * driver's thread; ctx is node_config.io_ctx. */
struct node_io {
	/* Monotonic milliseconds; never goes backwards. */
	uint64_t (*now_ms)(void *ctx);
	/* Records a new boot of the engine: reads the node record, grows its
	 * boot count and writes it with sync (which makes every earlier write
	 * durable too). 0, or -errno with a cause for a person in err. */
	int (*boot)(void *ctx, struct node_boot *out, char *err, size_t errlen);
	/* Writes u's records, metas and trims (and NodeMeta.amnesia = false
	 * when u->amnesia_cleared) as one batch, WITHOUT sync, so that the
	 * storage callbacks see them at once. 0 or -errno (-ENOSPC: the disk is
	 * full; the engine is then rebuilt). */
	int (*persist)(void *ctx, const struct paxos_update *u);
	/* Makes every write so far durable. 0, NODE_SYNC_PENDING (the driver
	 * calls node_sync_done later), or -errno (the node stops). */
	int (*sync)(void *ctx);
	/* Sends msgs (borrowed for the call) to peer `to`, as one batch. A batch
	 * that cannot go is lost, as on a network: the engine resends. */
	void (*send)(void *ctx, uint32_t to, const struct paxos_msg *msgs, size_t n);
	/* Calls node_tick at deadline_ms (replaces the earlier deadline);
	 * PAXOS_NO_DEADLINE cancels. */
	void (*set_timer)(void *ctx, uint64_t deadline_ms);
	/* Calls node_flush at the end of the current loop turn (after every
	 * other ready event). Called once per turn. */
	void (*schedule_flush)(void *ctx);
	/* Whether peer is connected now (a new engine hears PEER_UP for it). */
	bool (*peer_connected)(void *ctx, uint32_t peer);
	/* The node stopped (node_stop already ran): `why` is for a person. */
	void (*fatal)(void *ctx, int err, const char *why);
};

/* The state machine and the answers. ctx is node_config.fsm_ctx. Each may
 * call node_step (the step lands in the next turn). */
struct node_fsm {
	/* A chosen entry, in entry order per entity; c->value borrowed. */
	void (*apply)(void *ctx, const struct paxos_chosen *c);
	/* A command the engine gave up on. */
	void (*failed)(void *ctx, const struct paxos_failed *f);
	/* A barrier done (or failed). */
	void (*barrier_done)(void *ctx, const struct paxos_barrier_done *b);
	/* The engine wants an entity's state from a peer (a snapshot). */
	void (*snapshot_fetch)(void *ctx, const struct paxos_snapshot_req *r);
	/* An entity refuses service: its stored log cannot be read. */
	void (*entity_error)(void *ctx, uint64_t entity, int err);
	/* A new engine runs: apply what the log holds beyond the state. */
	void (*started)(void *ctx);
	/* The engine was dropped (err: the store error that caused it, or
	 * -EIO when the node stopped): every command and barrier in flight is
	 * gone and will never be answered. */
	void (*lost)(void *ctx, int err);
};

struct node_config {
	uint32_t self;
	const uint32_t *nodes; /* voting members, self included (copied) */
	size_t n_nodes;
	/* Timing and bounds of the engine; self, nodes, boot, amnesia, seed and
	 * ops are filled in by node_start. */
	struct paxos_config engine;
	const struct paxos_storage_ops *storage; /* borrowed: outlives the node */
	void *storage_ctx;
	const struct node_io *io; /* borrowed */
	void *io_ctx;
	const struct node_fsm *fsm; /* borrowed */
	void *fsm_ctx;
};

struct node;

/* A node without an engine yet (node_start builds it). cfg is copied.
 * 0, -EINVAL (bad config) or -ENOMEM. */
int node_new(const struct node_config *cfg, struct node **out);

/* Frees the node and its engine; nothing is persisted or answered (a
 * crash). node_free(NULL) is a no-op. */
void node_free(struct node *n);

/* Builds the engine (see the top). 0, or -errno with a cause in err.
 * -EALREADY when an engine runs; -ESHUTDOWN after node_stop. */
int node_start(struct node *n, char *err, size_t errlen);

/* Feeds one event to the engine (ev->now_ms is filled in) and takes in its
 * update into the current turn. Returns paxos_step's result, or -ENOTCONN
 * while there is no engine (being reset, or stopped) or when this step's
 * write failed (the engine was reset or the node stopped). *submit_id (may
 * be NULL) gets the id of a submitted command, 0 otherwise. */
int node_step(struct node *n, struct paxos_event *ev, uint64_t *submit_id);

/* The timer fired: a TICK, or the retry of an engine start. */
void node_tick(struct node *n);

/* The end of a loop turn: carries out the turn (see the top). A no-op when
 * nothing was stepped since the last flush, or while an earlier turn waits
 * for its sync (node_sync_done flushes this one then). */
void node_flush(struct node *n);

/* The sync that io->sync left pending is done (rc 0 or -errno). */
void node_sync_done(struct node *n, int rc);

/* Drops the engine and the turn, as a crash would, tells the state machine
 * (fsm->lost), and restarts the engine from the store at the next
 * node_tick (io->set_timer is armed now). */
void node_reset(struct node *n, int err);

/* Stops for good: the engine is dropped, nothing more is stepped, sent or
 * applied; fsm->lost(-EIO). Idempotent. */
void node_stop(struct node *n);

/* ---- observation --------------------------------------------------------- */

/* The engine, NULL while there is none. For stats and tests only. */
struct paxos *node_engine(const struct node *n);
/* While there is no engine: the error that dropped it (0 otherwise). */
int node_engine_err(const struct node *n);
uint64_t node_boot_count(const struct node *n);
/* NodeMeta.amnesia as this node last wrote it. */
bool node_amnesia(const struct node *n);
/* A turn waits for its sync. */
bool node_busy(const struct node *n);
bool node_stopped(const struct node *n);

#endif
