/* mount/lock.h — flock, POSIX and OFD locks through FUSE's lock operations,
 * held across the cluster: each lock, unlock and F_GETLK is a command on the
 * file's entity, decided at apply from the replicated lock table (fs/lock.c).
 *
 * A blocking request (F_SETLKW, flock without LOCK_NB) whose command found a
 * conflict waits here, parked, and is tried again whenever an applied command
 * of that file dropped or narrowed a lock (on any node); a signal (FUSE
 * interrupt) ends the wait with EINTR. Locks go when their holder lets go:
 * unlock; close (flush: the POSIX locks of the closing process; release with
 * the flock flag: the open file's flock and OFD locks); the last handle of
 * the file on this node (every lock of this node on it: no process here can
 * hold one without an open file); a restart (the locks of the node's earlier
 * lives: after its start's catch-up, or when one is in a lock's way).
 *
 * Every lock command comes after the writes buffered before it (mount/wbuf.h):
 * data written under a lock is chosen before the unlock is. A lock is asked
 * only under a valid lease of this node (mount/lease.h), which the others
 * end when this node stops renewing it; a lock of an ended lease in the
 * way of a request is released first, as a stale one is. */
#ifndef PAXFS_MOUNT_LOCK_H
#define PAXFS_MOUNT_LOCK_H

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>

#include "fs/fs.h"
#include "mount/node.h"

/* The FUSE operations. */
void mount_lock_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		      struct flock *lock);
void mount_lock_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct flock *lock,
		      int sleep);
void mount_lock_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op);

/* flush (close): when the closing process holds POSIX locks on `ino`, drops
 * them after its buffered writes, then syncs as flush does
 * (mount_wbuf_sync) and answers req: true. false: it holds none, req is the
 * caller's to answer. */
bool mount_lock_flush(struct mount_node *n, fuse_req_t req, uint64_t ino,
		      const struct fuse_file_info *fi);

/* release: drops the flock and OFD locks of the open file (fi->flock_release)
 * and, when `last` (no handle of `ino` left open on this node), every lock
 * of this node on it. Nobody waits for it. */
void mount_lock_release(struct mount_node *n, uint64_t ino, const struct fuse_file_info *fi,
			bool last);

/* The outcome of a lock command of this node (mount/req.c): answers, parks a
 * blocking request, or waits for the kernel to drop cached data. */
struct mount_req;
void mount_lock_applied(struct mount_node *n, struct mount_req *r, const struct fs_result *res);

/* An applied command dropped or narrowed a lock of `ino`: parked requests on
 * it try again. */
void mount_lock_wake(struct mount_node *n, uint64_t ino);

/* After the start's catch-up: every file whose table holds locks of this
 * node from an earlier life (a crash or restart: their holders are gone)
 * gets a stale release. Scans every entity here once. */
void mount_lock_sweep_stale(struct mount_node *n);

/* The live files holding a lock of `node` for which match(arg, lock) is
 * true: *inos (malloc'd, free() it; NULL when none) and *count. A failed
 * scan returns its error, with what it found before. */
typedef bool (*mount_lock_match)(void *arg, const struct fs_lock *l);
int mount_lock_files_of(struct mount_node *n, uint32_t node, mount_lock_match match, void *arg,
			uint64_t **inos, size_t *count);

/* This process' life in lock holders (the id base of its first engine life). */
uint64_t mount_lock_life(struct mount_node *n);

/* Every parked request tries again (a lease became valid, or another
 * node's lease ended). */
void mount_lock_wake_all(struct mount_node *n);

/* Whether a lock request waits for this node's lease; non-blocking ones
 * that waited longer than -o timeout get EIO (mount/lease.c's tick). */
bool mount_lock_lease_waiting(struct mount_node *n);
void mount_lock_lease_timeouts(struct mount_node *n);

/* Shutdown: answers every parked request with err. */
void mount_lock_fail_all(struct mount_node *n, int err);

#endif
