/* mount/node.h — one paxfs node: its parts, shared by the files of mount/.
 *
 *   FUSE ops ──commands──▶ engine ◀──messages── net mesh
 *      ▲                    │ updates
 *      │ replies            ▼
 *   requests ◀──results── applier ◀──chosen── turn (persist → send → deliver)
 *                           │
 *                           ▼
 *                      fs (+ store)   ──invalidations──▶ notify thread
 *
 * Everything runs on one thread, the libevent loop; only the notify thread
 * (kernel cache invalidation) and leveldb's own compaction thread run beside it.
 *
 * The engine, its turns (group commit) and its restarts are the node core,
 * node/node.h, which the simulator drives too; mount/turn.c plugs leveldb,
 * net/, libevent and fs/ into it. */
#ifndef PAXFS_MOUNT_NODE_H
#define PAXFS_MOUNT_NODE_H

#include <event2/event.h>
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>

#include "fs/fs.h"
#include "mount/args.h"
#include "net/net.h"
#include "node/node.h"
#include "paxos/paxos.h"
#include "store/store.h"
#include "util/conf.h"
#include "util/u64map.h"

struct mount_turn;
struct mount_req;
struct mount_session;
struct mount_notify;
struct mount_snapshots;
struct mount_compact;
struct mount_progress;
struct mount_quorum;
struct mount_loopwatch;
struct mount_wbuf;
struct mount_metrics;
struct mount_hist;
struct mount_lease;

struct mount_node {
	const struct mount_args *args;
	const struct util_conf *conf;
	uint32_t self;
	char data_dir[4096];

	struct event_base *base;
	struct store *store;
	struct fs *fs;
	struct node *core; /* the engine and its turns (node/node.h) */
	struct net_mesh *mesh;
	struct mount_session *session;
	struct mount_notify *notify;
	struct mount_snapshots *snapshots;
	struct mount_compact *compact;     /* the store's compaction thread */
	struct mount_progress *progress;   /* catch-up progress lines (mount/progress.c) */
	struct mount_quorum *quorum;       /* the majority watch (mount/quorum.c) */
	struct mount_loopwatch *loopwatch; /* says when the loop was blocked */
	struct fs_apply_out apply_out;     /* the applier's result buffer (mount/apply.c) */
	struct mount_wbuf *wbuf;           /* write-behind buffers (mount/wbuf.c) */
	struct mount_metrics *metrics; /* the HTTP endpoint, when configured (mount/metrics.c) */

	struct mount_turn *turn; /* the core's io: store batch, flush and tick events */
	struct event *retry_ev;  /* rechecks waiting requests, prunes names */
	struct event *notify_ev; /* the notify thread made progress */

	/* requests (those waiting for the engine are in the core) */
	struct mount_req *waiting; /* requests waiting for an apply or the notify thread */
	size_t pending;            /* requests not yet answered */

	/* blocking lock requests parked until a lock of their file goes (mount/lock.c) */
	struct mount_req *lock_waiters;
	uint64_t lock_life;        /* this process' life in lock holders (mount/lock.c: life_of) */
	struct mount_lease *lease; /* this node's lock lease, the others' watched (mount/lease.h) */

	/* local state of inodes */
	struct util_u64map opens;      /* ino → number of open handles (uintptr_t) */
	struct util_u64map names;      /* ino → recent remote name change (mount/names.c) */
	struct util_u64map retain;     /* entity → applies not yet reported (mount/retain.c) */
	struct util_u64map data_stale; /* ino → 1: another node changed it since our last
					  open reply; the next open drops cached data */
	uint64_t name_seq;
	uint64_t applied_entries;  /* entries applied since start (mount/progress.c) */
	uint64_t applied_bytes;    /* and the bytes of their values */
	uint64_t installed_states; /* snapshots installed since start */
	uint64_t installed_bytes;  /* and their bytes */
	uint64_t started_ms;       /* mount_now_ms() when the node was opened (mount/status.c) */
	int64_t started_wall_ns;   /* ...and the wall clock then */

	/* shutting down */
	struct event *sig_ev[3];
	struct event *stop_ev;
	bool stopping;
	int exit_code;
};

/* ---- life cycle (mount/node.c) ----------------------------------------- */

/* Opens the data dir, the store, the peer mesh and the engine, then mounts.
 * `a` and `conf` are borrowed for the node's life. Returns 0, or -errno with
 * a message for a person in err (the caller then calls mount_node_close). */
int mount_node_open(struct mount_node *n, const struct mount_args *a, const struct util_conf *conf,
		    char *err, size_t errlen);

/* Runs the loop until the node is stopped; returns the exit status. */
int mount_node_run(struct mount_node *n);

/* Unmounts and closes everything (after a failed open too). */
void mount_node_close(struct mount_node *n);

/* Stops the node at once after a fault it must not go on from (a failed
 * sync): logs `fmt` as an error, answers every waiting request with EIO and
 * ends the loop; mount_node_run then returns 1. Nothing more is sent or
 * applied. */
void mount_node_fail(struct mount_node *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- time ----------------------------------------------------------------- */

uint64_t mount_now_ms(void);       /* monotonic */
int64_t mount_wall_ns(void);       /* wall clock, for timestamps in commands */
uint64_t mount_real_wall_ms(void); /* the real wall clock (no test offset): ids */

/* ---- the node core's io and fsm (mount/turn.c) ------------------------- */

/* Creates n->core over the store, the mesh, the loop and fs/ (the engine
 * itself starts with node_start). 0 or -ENOMEM. */
int mount_turn_init(struct mount_node *n);
void mount_turn_close(struct mount_node *n);
/* Sends engine messages to peer `to` as the core's io does (the catch-up
 * pacer's FETCH_WAIT, mount/snapshot.c). */
void mount_turn_send(struct mount_node *n, uint32_t to, const struct paxos_msg *msgs, size_t count);

/* How long the store's syncs took (mount/syncer.h), or NULL before
 * mount_turn_init. */
const struct mount_hist *mount_turn_sync_latency(const struct mount_node *n);

/* ---- applying chosen entries (mount/apply.c) --------------------------- */

/* The node core's fsm->apply: applies entry c->entry of c->entity (the
 * applied entry + 1) to fs/, answers the requests whose commands it held,
 * invalidates caches, reclaims unlinked files. 0, or fs_apply's -errno
 * (-EAGAIN, -ENOSPC: the core retries later). */
int mount_apply_entry(struct mount_node *n, const struct paxos_chosen *c);

/* The open-handle count of an inode changed; reclaims an unlinked file whose
 * last handle went. */
void mount_inode_release(struct mount_node *n, uint64_t ino);

/* ---- requests (mount/req.c) --------------------------------------------- */

/* Proposes command `cmd` (its body is freed) for FUSE request `r`; the
 * answer comes when it is applied here (mount_req_applied) or fails. */
void mount_req_submit(struct mount_node *n, struct mount_req *r, struct fs_cmd *cmd);

/* An applied command of this node: answers its request, if still waiting. */
void mount_req_applied(struct mount_node *n, const struct fs_result *res);

/* The engine gave up on r's command; one of r's barriers is done. */
void mount_req_failed(struct mount_node *n, struct mount_req *r, int err);
void mount_req_barrier_done(struct mount_node *n, struct mount_req *r,
			    const struct paxos_barrier_done *b);

/* r waited for an engine that was dropped: answers it with err. */
void mount_req_abandon(struct mount_node *n, struct mount_req *r, int err);

/* Re-checks requests waiting for an apply or for the notify thread. */
void mount_req_recheck(struct mount_node *n);

/* Answers every waiting request with `err` (shutdown, engine reset). */
void mount_req_fail_all(struct mount_node *n, int err);

/* ---- FUSE (mount/ops.c) ------------------------------------------------- */

extern const struct fuse_lowlevel_ops mount_ops;

/* ---- peers (mount/peer.c) ----------------------------------------------- */

int mount_peer_recv_cb(void *arg, uint32_t from, const Paxfs__Envelope *env);
void mount_peer_up_cb(void *arg, uint32_t peer, bool up);

/* At start, before the daemon says it is ready: runs the loop until a peer
 * is up (0), or every peer either refused this node's proof of the cluster
 * secret or could not be reached, or MOUNT_SECRET_CHECK_MS passed. If no peer
 * came up and at least one refused the proof, returns -EACCES with what to
 * check in err: the node could mount, but it would never work. Peers that
 * are down are no error (a node may start first, or alone in a minority). */
#define MOUNT_SECRET_CHECK_MS 3000
int mount_peer_check_secret(struct mount_node *n, char *err, size_t errlen);

/* The engine's storage callbacks over the store (mount/storage.c). */
extern const struct paxos_storage_ops mount_storage_ops;

#endif
