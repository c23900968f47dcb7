/* mount/notify.h — kernel cache invalidation, from a thread of its own.
 *
 * When a node applies a change that another node made, the kernel may still
 * cache the old attributes, data or directory entries. The loop queues an
 * invalidation here; a separate thread writes it to /dev/fuse. Never from the
 * loop thread: an invalidation can wait on a lock that a request holds, and
 * only the loop answers that request. And only notifications that wait on no
 * lock at all (mount/notify.c says why): attributes, and names through the
 * kernel's epoch; cached data is dropped at the next open, or at a read()
 * that finds the attributes moved, instead (one exception: after a failed
 * write).
 *
 * Every queued item gets a sequence number; mount_notify_done() tells how far
 * the thread has got, so that open() can wait until the kernel no longer
 * holds anything older than the state it is about to expose. */
#ifndef PAXFS_MOUNT_NOTIFY_H
#define PAXFS_MOUNT_NOTIFY_H

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mount_notify;

/* Starts the thread. `wake_cb(arg)` is called from the thread after it has
 * processed items (to wake the loop, e.g. with event_active); may be NULL. */
int mount_notify_start(struct fuse_session *se, void (*wake_cb)(void *arg), void *arg,
		       struct mount_notify **out);

/* Stops the thread after the queue is empty and frees everything. NULL is a no-op. */
void mount_notify_free(struct mount_notify *n);

/* The kernel speaks FUSE protocol 7.44 or later (FUSE_NOTIFY_INC_EPOCH):
 * names are invalidated all at once, without locks. Called from FUSE init. */
void mount_notify_use_epoch(struct mount_notify *n, bool on);

/* Queue: drop the kernel's attributes of `ino` (its cached data is the
 * opener's business: keep_cache off). Returns the item's sequence number. */
uint64_t mount_notify_inode(struct mount_notify *n, uint64_t ino);

/* Queue: drop the kernel's attributes and cached pages of `ino`, whose
 * buffered write failed (mount/notify.c: the one data invalidation, and
 * its risk). Returns the item's sequence number. */
uint64_t mount_notify_inode_data(struct mount_notify *n, uint64_t ino);

/* Queue: drop the kernel's entry `name` in directory `parent`. Returns its sequence number. */
uint64_t mount_notify_entry(struct mount_notify *n, uint64_t parent, const char *name, size_t len);

/* The sequence number of the last item queued / the last one processed. */
uint64_t mount_notify_queued(struct mount_notify *n);
uint64_t mount_notify_done(struct mount_notify *n);

#endif
