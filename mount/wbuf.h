/* mount/wbuf.h — write-behind: write() data buffered per inode on this node,
 * coalesced, and chosen in large commands (DESIGN.md, Durability).
 *
 * The contract is the local disk's: a buffered write() is answered as soon
 * as its data is copied here; it is acknowledged — chosen, i.e. synced on a
 * majority — when an fsync(), fdatasync() or close() (FUSE flush) of the
 * inode returns 0. Such a call first submits what is buffered, then answers
 * when every write command of the inode submitted before it was applied
 * here, with the first error any of them got since the last call that
 * reported one (then the error is cleared, as the kernel's errseq does).
 * A failed write's data, which the kernel's page cache took at write()
 * time, is dropped from it before that error is reported.
 * A crash of this node loses what was not acknowledged.
 *
 * Per inode:
 *
 *   write() ──▶ open extents ──seal──▶ batch k ─▶ batch k+1 ─▶ ...
 *               (coalesced,            (sealed: one command per
 *                later data wins)       extent, in order)
 *                                          │ at most ONE command of the inode
 *                                          ▼ in flight (ours or another op's)
 *                                       engine ──applied──▶ next command
 *
 * One command in flight per inode keeps the order: commands of one node for
 * one entity may otherwise be reordered (forwarding, take-back), and
 * overlapping writes would land in the wrong order. The other commands this
 * node makes on the inode (setattr, fallocate, xattrs, O_APPEND and O_SYNC
 * writes) count too: mount_wbuf_cmd_begin / mount_wbuf_cmd_done.
 *
 * Seal and submit when: the inode's open extents pass MOUNT_WBUF_START
 * bytes, or are older than MOUNT_WBUF_AGE_MS, or a command of the inode was
 * just applied (a stream keeps going), or anything waits (fsync, flush,
 * release, an op that must see the data, the global bound, shutdown).
 *
 * Other ops on the inode (read, getattr, lookup, setattr, ...) must see and
 * keep the order of buffered writes: they wait (mount_wbuf_wait) until the
 * writes buffered before them were applied, then run as they do without
 * write-behind.
 *
 * Back-pressure: past MOUNT_WBUF_MAX bytes buffered or in flight on this
 * node, a write() is answered only once its data fits.
 *
 * Everything runs on the loop's thread. */
#ifndef PAXFS_MOUNT_WBUF_H
#define PAXFS_MOUNT_WBUF_H

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mount/node.h"

#define MOUNT_WBUF_CMD_MAX ((4u << 20) - (16u << 10)) /* data of one command: fits a value */
#define MOUNT_WBUF_START   (8u << 20)                 /* an inode's buffer this large goes */
#define MOUNT_WBUF_AGE_MS  1000                       /* ...or this old */
#define MOUNT_WBUF_MAX     (32u << 20)                /* bytes buffered or in flight per node */

/* An op waiting for an inode's buffered writes. The caller embeds it in its
 * own struct and fills req, ino and resume; wbuf fills the rest. */
struct mount_wbuf_wait {
	struct mount_wbuf_wait *next;
	uint64_t target; /* the batch it waits for */
	int err;         /* fsync/flush: the failure it reports */
	uint64_t ino;
	fuse_req_t req;
	/* err 0: the writes before it were applied (or failed: their error is
	 * for fsync/close), run the op now; err < 0: answer req with it (the
	 * node stops). Must answer req and free the containing struct. */
	void (*resume)(struct mount_node *n, struct mount_wbuf_wait *w, int err);
};

/* Creates n->wbuf. 0 or -ENOMEM. */
int mount_wbuf_new(struct mount_node *n);

/* Frees n->wbuf and whatever it buffers (mount_wbuf_fail_all answered the
 * requests first). NULL-safe. */
void mount_wbuf_free(struct mount_node *n);

/* A write() to buffer: copies buf and answers req with fuse_reply_write at
 * once, or (past MOUNT_WBUF_MAX) once it fits; -EFBIG past the largest size. */
void mount_wbuf_write(struct mount_node *n, fuse_req_t req, uint64_t ino, const char *buf,
		      size_t size, off_t off);

/* fsync, fdatasync, flush: submits what `ino` buffers and answers req when
 * every write command submitted before was applied, with the error (see the
 * top). */
void mount_wbuf_sync(struct mount_node *n, fuse_req_t req, uint64_t ino);

/* The notify thread got further: answers the fsyncs and closes that
 * report a failed write once the kernel dropped its pages. */
void mount_wbuf_notified(struct mount_node *n);

/* release: submits what `ino` buffers; nobody waits. */
void mount_wbuf_release(struct mount_node *n, uint64_t ino);

/* An op on `ino` that must come after the writes buffered so far: true, and
 * w->resume is called once they are applied; false: nothing to wait for,
 * the caller runs the op now (w untouched). */
bool mount_wbuf_wait(struct mount_node *n, struct mount_wbuf_wait *w);

/* Whether `ino` has buffered writes or a write command in flight here (an
 * unlinked inode is not reclaimed meanwhile; an open drops cached pages). */
bool mount_wbuf_busy(struct mount_node *n, uint64_t ino);

/* Raises *size to the end of the writes `ino` has buffered or in flight
 * here: the size an answer with attributes must show (the kernel trusts its
 * own size after a write; one from an answer that missed buffered writes
 * would shrink it and drop their pages). */
void mount_wbuf_size(struct mount_node *n, uint64_t ino, uint64_t *size);

/* A command of this node on `ino` was submitted / is done (applied, failed,
 * abandoned). `ours`: a write command of wbuf, with err its outcome. */
void mount_wbuf_cmd_begin(struct mount_node *n, uint64_t ino);
void mount_wbuf_cmd_done(struct mount_node *n, uint64_t ino, bool ours, int err);

/* A setattr on `ino` that may carry the inode's buffered write
 * (fs_cmd_write_setattr: one entry instead of two). When nothing of the
 * inode is in flight or waiting and what it buffers is one extent, builds
 * *cmd from that extent and `a`, takes the extent out of the buffer as a
 * write in flight and returns true: the caller submits *cmd at once with
 * r->wb_ino = ino and r->wb_carry, and hands the write's outcome to
 * mount_wbuf_cmd_done(ours = true). false: nothing taken (the setattr waits
 * for the writes, as other ops do). */
bool mount_wbuf_carry(struct mount_node *n, uint64_t ino, const struct fs_caller *c,
		      const struct fs_setattr *a, struct fs_cmd *cmd);

/* Shutdown: submits everything, admits blocked writes past the bound. */
void mount_wbuf_stop(struct mount_node *n);

/* The node stops: answers every waiting op and blocked write with err and
 * drops what is buffered. */
void mount_wbuf_fail_all(struct mount_node *n, int err);

/* Counters since start (logged at shutdown; tests read them in the log). */
struct mount_wbuf_stats {
	uint64_t writes;   /* write() calls buffered */
	uint64_t commands; /* write commands submitted */
	uint64_t bytes;    /* bytes in them */
	uint64_t carried;  /* of those commands, carried by a setattr (mount_wbuf_carry) */
};
void mount_wbuf_stats(const struct mount_node *n, struct mount_wbuf_stats *out);

#endif
