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
 *   │                              early messages ──io.send──▶ peers (now)
 *   │                              held: messages, chosen, failed,│
 *   │                                    notices to the engine,   │
 *   │                                    barriers, snapshot asks  │
 *   │ node_flush (end of the driver's loop turn):                 │
 *   │   1. io.sync        if any update of the turn holds a vote  │
 *   │   2. io.send        one batch per peer; the notices go back │
 *   │                     to the engine (PERSISTED: a next-turn step)
 *   │   3. fsm.apply      chosen values, in entry order (gaps read│
 *   │                     from the log; put-off ones retried)     │
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
 * that order (paxos/paxos.h). The update's early messages (ACCEPTs of this
 * life's ballots, CHOSEN) are not held: they go as soon as its writes are
 * made, so the peers persist while this node syncs; the engine counts its
 * own acceptance only when the notice comes back after the sync (one fsync
 * on a write's critical path, not two in a row). A turn without votes (chosen flags, trims) is
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
 * connected (PEER_UP), after the state machine caught up from the log and
 * heard of it (fsm->started).
 * After node_reset the start is retried from node_tick, at once and then
 * every NODE_RESTART_RETRY_MS while the store refuses writes.
 *
 * Requests. The driver's requests (opaque pointers: the daemon's waiting
 * FUSE requests) wait here for their command (node_submit) or barriers
 * (node_barrier); each is handed back exactly once: node_cmd_take when the
 * driver applied its command, fsm->failed or fsm->barrier_done, or
 * fsm->abandon when the engine is dropped.
 *
 * Apply order (node/apply.c). Chosen entries reach the state machine
 * strictly in entry order per entity, from its applied entry + 1: entries
 * it lacks are read back from the log (the storage callbacks). Applies it
 * puts off (-EAGAIN, -ENOSPC) or holds (a snapshot streaming out) are
 * retried later; after an engine start it catches up from the log.
 *
 * Not here (yet): catch-up pacing (mount/snapshot.c), snapshot transfers.
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

/* How often applies the state machine put off are retried (node/apply.c). */
#define NODE_APPLY_RETRY_MS 1000

/* What io->boot hands to a new engine. */
struct node_boot {
	uint64_t boot_count;  /* grown at every start, recorded durably */
	uint64_t id_base;     /* this life's id base (node_id_base), recorded durably */
	uint64_t incarnation; /* the engine's ballots carry it; 0: boot_count (the
			       * simulator repeats an earlier life's after a wipe,
			       * as a wrapped clock-derived count could) */
	bool amnesia;         /* NodeMeta.amnesia as stored */
	uint64_t seed;        /* the engine's PRNG seed */
};

/* The clock, the disk, the network and the timer. Every call is made from the
 * driver's thread; ctx is node_config.io_ctx. */
struct node_io {
	/* Monotonic milliseconds; never goes backwards. */
	uint64_t (*now_ms)(void *ctx);
	/* Records a new boot of the engine: reads the node record, grows its
	 * boot count, takes the id base from the wall clock and the recorded
	 * one (node_id_base) and writes both with sync (which makes every
	 * earlier write durable too). 0, or -errno with a cause for a person
	 * in err. */
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
	/* The entry through which the state machine has applied `entity`
	 * (*entry = 0: nothing). 0 or -errno. */
	int (*applied)(void *ctx, uint64_t entity, uint64_t *entry);
	/* Applies one chosen entry: always the applied entry + 1 (c->value
	 * borrowed). from_log: read back from the log (a gap, a retry, the
	 * catch-up after a start; c->mine is then false). 0; -EAGAIN or
	 * -ENOSPC (or -ENOENT): put off, node/ retries later; another -errno:
	 * logged, this entity waits for the next chosen entry. */
	int (*apply)(void *ctx, const struct paxos_chosen *c, bool from_log);
	/* Optional: true while `entity`'s state must stay still (a snapshot of
	 * it streams out): its applies are put off. */
	bool (*hold)(void *ctx, uint64_t entity);
	/* Optional: a run of applies ended (requests waiting for them may
	 * look again). */
	void (*applies_done)(void *ctx);
	/* The engine gave up on the command of request `req` (node_submit). */
	void (*failed)(void *ctx, void *req, const struct paxos_failed *f);
	/* A barrier of request `req` (node_barrier) is done, or failed;
	 * b->req_id is the node's id of the barrier, not the caller's. */
	void (*barrier_done)(void *ctx, void *req, const struct paxos_barrier_done *b);
	/* Request `req` waited for a command or barriers of an engine that was
	 * dropped: no answer will come. err: -EIO for a command (it may still
	 * be chosen: not known to be done), else as for `lost`. Once per
	 * request, before `lost`. */
	void (*abandon)(void *ctx, void *req, int err);
	/* The engine wants an entity's state from a peer (a snapshot). */
	void (*snapshot_fetch)(void *ctx, const struct paxos_snapshot_req *r);
	/* An entity refuses service: its stored log cannot be read. */
	void (*entity_error)(void *ctx, uint64_t entity, int err);
	/* A new engine runs; the state machine has caught up from the log. */
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
	/* An entity whose applies may unblock the others' (the namespace,
	 * which creates the inodes files wait for): after each of its entries
	 * the deferred entities are retried, and it is caught up first. 0:
	 * none. */
	uint64_t unblock_entity;
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

/* ---- requests ---------------------------------------------------------------- */

/* Submits a command (body borrowed) for request `req` (not NULL). 0 with
 * *cmd_id set: the request waits here. Otherwise node_step's error
 * (-EMSGSIZE, -EAGAIN: ids faster than their bound, try again a ms later;
 * -ENOTCONN without an engine: node_engine_err
 * says why) and *cmd_id is 0; nothing was recorded. */
int node_submit(struct node *n, uint64_t entity, const void *body, size_t len, void *req,
		uint64_t *cmd_id);

/* The driver applied command cmd_id of this node: its request, which leaves
 * the node (NULL when none waits: answered already, or not this engine's). */
void *node_cmd_take(struct node *n, uint64_t cmd_id);

/* A read barrier on `entity` for request `req` (not NULL); a request may
 * wait for several. 0: fsm->barrier_done (or abandon) follows; -ECANCELED:
 * the step dropped the engine and `req` was handed to fsm->abandon already
 * (do not touch it); another -errno: the engine refused it at once, nothing
 * was recorded. */
int node_barrier(struct node *n, uint64_t entity, void *req);

/* ---- applies ---------------------------------------------------------------- */

/* Retries the applies that were put off (the driver knows something
 * changed: a snapshot was installed, an export ended). */
void node_apply_retry(struct node *n);
/* How many entities have applies put off; whether `entity` has. */
size_t node_deferred(const struct node *n);
bool node_apply_deferred(const struct node *n, uint64_t entity);

/* Hands every waiting request back through fsm->abandon(err), once each
 * (the driver's shutdown). node_reset and node_stop do it themselves. */
void node_abandon_all(struct node *n, int err);

/* ---- observation --------------------------------------------------------- */

/* The engine, NULL while there is none. For stats and tests only. */
struct paxos *node_engine(const struct node *n);
/* While there is no engine: the error that dropped it (0 otherwise). */
int node_engine_err(const struct node *n);
uint64_t node_boot_count(const struct node *n);
/* This engine life's id base (node_boot.id_base). */
uint64_t node_id_base(const struct node *n);

/* The id base of a new engine life (paxos.h, "Ids never repeat";
 * docs/decisions.md, "Value ids and command ids"), from the wall clock
 * (wall_ms: ms since 1970, the real clock) and what the node record holds:
 *   (wall_ms + 1) << PAXOS_ID_MS_SHIFT, raised to
 *   last_base + (1 << PAXOS_ID_MS_SHIFT) when the record has a base
 *     (last_base != 0: bases grow even if the clock stepped back a little),
 *   ((old_boot & 0xffffff) + 1) << 32 when it is an old record (no base,
 *     old_boot = its boot count): above the ids of the old layout
 *     (node << 56 | boot << 32 | counter) of that store's lives.
 * A new store passes 0 and 0. Returns 0 when the result would not leave
 * room below 2^56 (a clock past the year 2109, or a damaged record). */
uint64_t node_id_base_next(uint64_t wall_ms, uint64_t last_base, uint64_t old_boot);

/* The id base recorded in a NEW node record (no life yet): the one a life
 * started a millisecond before wall_ms would have had, so that the first
 * start takes the clock's base and no more. */
uint64_t node_id_base_new(uint64_t wall_ms);
/* NodeMeta.amnesia as this node last wrote it. */
bool node_amnesia(const struct node *n);
/* A turn waits for its sync. */
bool node_busy(const struct node *n);
bool node_stopped(const struct node *n);

#endif
