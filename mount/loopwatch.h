/* mount/loopwatch.h — says when this node's event loop was blocked.
 *
 * Everything of a node but fsync and FUSE's own threads runs on one libevent
 * loop (DESIGN.md); a callback that runs long (a large read from the store,
 * a slow disk under leveldb's write, a huge frame to decode) delays every
 * operation of every file and every peer waiting for this node's vote. A
 * timer fires every LOOPWATCH_INTERVAL_MS; when it fires more than
 * LOOPWATCH_WARN_MS late, the loop was blocked that long and the watch logs
 *
 *   the event loop was blocked for 1830 ms (operations and peers waited)
 *
 * and counts it (mount_loopwatch_get: paxfsctl status, metrics). It reads
 * the clock only; it changes nothing. */
#ifndef PAXFS_MOUNT_LOOPWATCH_H
#define PAXFS_MOUNT_LOOPWATCH_H

#include <stdint.h>

#define LOOPWATCH_INTERVAL_MS 100
#define LOOPWATCH_WARN_MS     1000

struct mount_node;

/* Starts the watch on n->base; its state is n->loopwatch, freed by
 * mount_loopwatch_stop (also after a failed start). 0 or -ENOMEM. */
int mount_loopwatch_start(struct mount_node *n);
void mount_loopwatch_stop(struct mount_node *n);

/* Blocks of at least LOOPWATCH_WARN_MS since start, and the longest (ms). */
void mount_loopwatch_get(const struct mount_node *n, uint64_t *blocks, uint64_t *longest_ms);

#endif
