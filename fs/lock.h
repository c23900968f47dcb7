/* fs/lock.h — the lock table of one regular file, as a value: conflicts,
 * set and unlock with POSIX range rules, release by holder; and its record
 * (FsLocks, key ino 'l'). fs/lock.c applies the lock commands with it.
 *
 * Invariant of a table (every function keeps it, fs_locks_decode checks it):
 * the locks of one holder (node, life, owner, kind) never overlap, and two of
 * the same type are never adjacent (they would have merged); the array is in
 * canonical order (kind, node, life, owner, start), so two nodes that applied the
 * same commands store the same bytes; fences ascend by node, one per node.
 */
#ifndef PAXFS_FS_LOCK_H
#define PAXFS_FS_LOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/fs.h"

/* A node's lease released on this file: its commands stamped at or below
 * (life, epoch) are refused (fs.h, "lock leases"). */
struct fs_fence {
	uint32_t node;
	uint64_t life;
	uint64_t epoch;
};

struct fs_locks {
	struct fs_lock *v;
	size_t n, cap;
	struct fs_fence *fences; /* ascending node, one per node */
	size_t n_fences;
};

void fs_locks_init(struct fs_locks *t);
void fs_locks_close(struct fs_locks *t);

/* The first lock of another holder that conflicts with `want` (same kind,
 * ranges overlap, one of them exclusive), or NULL. An unlock conflicts with
 * nothing. */
const struct fs_lock *fs_locks_conflict(const struct fs_locks *t, const struct fs_lock *want);

/* Sets (type read/write) or unlocks the range of `want` for its holder:
 * the holder's parts inside the range go, the new lock goes in and merges
 * with the holder's adjacent or overlapping locks of the same type. On error
 * the table is unchanged: -EAGAIN (*conflict, if not NULL, gets the
 * conflicting lock), -ENOLCK (more than FS_LOCKS_MAX locks), -EINVAL (bad
 * kind, type, or start > end), -ENOMEM. *unlocked (may be NULL): an
 * exclusive lock became shared or some range was unlocked, so a waiter may
 * now get its lock. */
int fs_locks_set(struct fs_locks *t, const struct fs_lock *want, struct fs_lock *conflict,
		 bool *unlocked);

/* Drops every lock of (`node`, `life`) whose owner is in owners[0..n) and
 * whose kind bit (1 << kind) is in `kinds`. Returns how many went. */
size_t fs_locks_release(struct fs_locks *t, uint32_t node, uint64_t life, const uint64_t *owners,
			size_t n, uint32_t kinds);

/* Drops every lock of `node` from a life below `life`. Returns how many. */
size_t fs_locks_release_stale(struct fs_locks *t, uint32_t node, uint64_t life);

/* Drops every lock of `node` stamped with a lease at or below (life,
 * epoch) (lease-less locks, epoch 0, stay). Returns how many went. */
size_t fs_locks_release_expired(struct fs_locks *t, uint32_t node, uint64_t life, uint64_t epoch);

/* Raises the fence of `node` to (life, epoch). Returns 1 when it rose, 0
 * when it already was there or above, -ENOMEM. */
int fs_locks_fence(struct fs_locks *t, uint32_t node, uint64_t life, uint64_t epoch);

/* The fence of `node`, or NULL. */
const struct fs_fence *fs_locks_fence_of(const struct fs_locks *t, uint32_t node);

/* The record. decode: 0, -EBADMSG (does not decode, or breaks the
 * invariant), -ENOMEM; encode: malloc'd buffer (free()), -ENOMEM. */
int fs_locks_decode(const void *val, size_t len, struct fs_locks *t);
int fs_locks_encode(const struct fs_locks *t, uint8_t **buf, size_t *len);

#endif
