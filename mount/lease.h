/* mount/lease.h — the lock lease of this node, and the watch over the
 * others' (docs/decisions.md, "Locks": the guarantee and its clock
 * assumption; fs/fs.h, "lock leases": the rules at apply).
 *
 *   this node                              every other node
 *   ─────────                              ────────────────
 *   holds locks: LeaseRenew every L/3      sees N's record (life, epoch, seq)
 *   (namespace); valid until the           change: restarts its count
 *   proposal of the last one applied       unchanged for 1.1 L + 1 s:
 *   here + L (boot-time clock)             LeaseExpire(N, record) — takes
 *                                          effect only if no renewal of N
 *   ran out (or renewal refused, or        was applied between
 *   own record expired): files where       effective: LockRelease{expire, N}
 *   it held locks refuse I/O until their   on each file holding N's locks;
 *   last handle here closes; it            waiters everywhere try again
 *   releases those locks itself; the
 *   next lease is epoch + 1
 *
 * L is -o lock_lease. Every file command this node proposes carries its
 * lease (life, epoch), so a write proposed before its lease ran out but
 * chosen after a release of the file is refused at apply. A lock command
 * (but an unlock) waits for a valid lease: a lock is only ever granted
 * under a lease the others can end. */
#ifndef PAXFS_MOUNT_LEASE_H
#define PAXFS_MOUNT_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "fs/fs.h"

struct mount_node;
struct mount_req;

/* How long after the last renewal it saw another node judges a lease over:
 * 1.1 L + 1 s (docs/decisions.md: monotonic clock rates within 4.8 % of
 * real time). */
uint64_t mount_lease_bound_ms(uint64_t lease_ms);

/* Starts the lease timer (n->base, n->fs, n->core must exist); its state is
 * n->lease, freed by mount_lease_stop (also after a failed start). 0 or
 * -ENOMEM. */
int mount_lease_start(struct mount_node *n);
void mount_lease_stop(struct mount_node *n);

/* Puts this node's lease (life, epoch) on a command's caller (epoch 0
 * before its first lease). */
void mount_lease_stamp(struct mount_node *n, struct fs_caller *c);

/* Whether this node holds a valid lease now; a lapse found here takes
 * effect at once (fences, epoch + 1). */
bool mount_lease_valid(struct mount_node *n);

/* -EIO when `ino` is fenced here (this node's lease ran out while it held
 * locks on it; logs once per file); 0 otherwise. */
int mount_lease_check(struct mount_node *n, uint64_t ino);

/* A lock command of this node on `ino`: keep the lease while it holds
 * locks there; renews at once when it has no valid lease. */
void mount_lease_hold(struct mount_node *n, uint64_t ino);

/* The last handle of `ino` here closed: its fence, if any, lifts. */
void mount_lease_closed(struct mount_node *n, uint64_t ino);

/* Whether lock l (of any node) was held under a lease that is over, by
 * this node's applied namespace (and, for its own, its own count); then
 * *life, *epoch are what a release of it names. */
bool mount_lease_lock_ended(struct mount_node *n, const struct fs_lock *l, uint64_t *life,
			    uint64_t *epoch);

/* Outcomes of this node's lease commands (mount/lock.c routes them). */
void mount_lease_renewed(struct mount_node *n, const struct mount_req *r,
			 const struct fs_result *res);
void mount_lease_expired(struct mount_node *n, const struct mount_req *r,
			 const struct fs_result *res);

#endif
