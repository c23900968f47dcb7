/* mount/retain.h — how much of each entity's log this node keeps.
 *
 * The engine trims an entity's log when it is told that an entry was
 * applied: it keeps everything after the checkpoint it was told before that
 * one (paxos `retention` = 1, mount/turn.c). This file decides which applied
 * entries become checkpoints, so that the log holds about one window:
 *
 *   window of a file      entries ≤ retention (-o retention, default 1000)
 *                         and value bytes < max(retention_bytes, size / 4)
 *                         (-o retention_bytes, default 4 KiB)
 *   window of the namespace   entries ≤ retention
 *
 * An entity's log therefore holds at most two windows plus one entry: for a
 * file of size S, at most max(2 * retention_bytes, S / 2) + one entry of
 * value bytes, whatever was written to it (docs/faults.md, "Bounded storage").
 * A node that fell further behind than the log reaches gets the file's
 * state instead (a snapshot): for small files that is as cheap as entries,
 * and big files keep a long log.
 *
 * Counters live in memory: after a restart, the first window starts anew
 * (the log then keeps at most one window more until the second checkpoint). */
#ifndef PAXFS_MOUNT_RETAIN_H
#define PAXFS_MOUNT_RETAIN_H

#include <stddef.h>
#include <stdint.h>

struct mount_node;

/* fs applied `entity` through `entry` (chained crc `crc`), a value of `len`
 * bytes: tells the engine (PAXOS_EV_APPLIED) when it ends a window. */
void mount_retain_applied(struct mount_node *n, uint64_t entity, uint64_t entry, uint32_t crc,
			  size_t len);

/* The entity's state was replaced (snapshot) or reclaimed: forget its window. */
void mount_retain_forget(struct mount_node *n, uint64_t entity);

/* Frees the counters. */
void mount_retain_close(struct mount_node *n);

#endif
