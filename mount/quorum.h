/* mount/quorum.h — says when this node cannot reach a majority, and why.
 *
 * Without a majority every change and every open() waits and then fails
 * with EIO after `-o timeout`; a bare EIO tells nobody what is wrong. Every
 * QUORUM_INTERVAL_MS this watch counts the voters this node reaches (itself
 * unless it is still re-learning after a new or damaged store, and every
 * peer with an authenticated link up). Once that has been below a majority
 * for QUORUM_GRACE_MS it logs one warning naming every node it cannot reach,
 * since when, and the reason of the last failed link or dial:
 *
 *   no majority: this node reaches 1 of 3 nodes, a majority is 2; changes and
 *   open() wait, and fail with EIO after 30 s. node 2 (10.0.0.2:7101):
 *   unreachable for 12 s (cannot connect: Connection refused); node 3
 *   (10.0.0.3:7101): unreachable for 12 s (refused: authentication failed: ...)
 *
 * again every QUORUM_REPEAT_MS while it lasts, and one line when a majority
 * is back. It reads counters only; it changes nothing. */
#ifndef PAXFS_MOUNT_QUORUM_H
#define PAXFS_MOUNT_QUORUM_H

#define QUORUM_INTERVAL_MS 1000
#define QUORUM_GRACE_MS    2000
#define QUORUM_REPEAT_MS   30000

struct mount_node;

/* Starts the watch (n->base and n->mesh must exist); its state is
 * n->quorum, freed by mount_quorum_stop (also after a failed start).
 * Returns 0 or -ENOMEM. */
int mount_quorum_start(struct mount_node *n);
void mount_quorum_stop(struct mount_node *n);

#endif
