/* mount/syncer.h — the disk's sync point on a thread of its own.
 *
 * The node core's io->sync (node/node.h) may complete later
 * (NODE_SYNC_PENDING): the daemon then runs store_sync on this thread and
 * the loop goes on — it sends the turn's early ACCEPTs (so the followers
 * persist while this node syncs: one fsync on a write's critical path) and
 * takes new steps into the next turn, whose writes the store takes without
 * waiting for the fsync. When the sync returns, done(arg, rc) runs on the
 * loop.
 *
 * Requests are numbered. A sync starts after the request it answers, so it
 * covers every write made before that request; one sync answers every
 * request made before it started. mount_syncer_request returns the request's
 * number and done() gets the highest number the finished sync answers: a
 * caller whose turn was dropped meanwhile (node_reset) compares numbers and
 * ignores an answer to an older request. */
#ifndef PAXFS_MOUNT_SYNCER_H
#define PAXFS_MOUNT_SYNCER_H

#include <event2/event.h>
#include <stdint.h>

#include "mount/hist.h"
#include "store/store.h"

struct mount_syncer;

/* Starts the thread. done(arg, upto, rc) runs on `base`'s loop: every
 * request numbered <= upto is answered with rc (0, or store_sync's -EIO).
 * 0, or -ENOMEM / -errno of pthread_create. */
int mount_syncer_new(struct event_base *base, struct store *store,
		     void (*done)(void *arg, uint64_t upto, int rc), void *arg,
		     struct mount_syncer **out);

/* Asks for a sync of every write made so far; returns the request's number
 * (>= 1). Never blocks on the disk. */
uint64_t mount_syncer_request(struct mount_syncer *s);

/* How long each store_sync took (paxfs_fsync_seconds, mount/metrics.c):
 * read from any thread while the syncer lives. */
const struct mount_hist *mount_syncer_latency(const struct mount_syncer *s);

/* Stops the thread after the sync under way, if any (its done() does not
 * run). NULL is a no-op. */
void mount_syncer_free(struct mount_syncer *s);

#endif
