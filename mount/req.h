/* mount/req.h — a FUSE request waiting for the cluster.
 *
 * Requests that change state wait for their command to be applied here;
 * open() waits for read barriers, then for the applies they call for, then
 * for the notify thread to have dropped older cached data. Every request is
 * answered exactly once: by its outcome, by an engine failure (EIO), or by
 * mount_req_fail_all at shutdown. */
#ifndef PAXFS_MOUNT_REQ_H
#define PAXFS_MOUNT_REQ_H

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>

#include "mount/node.h"

enum mount_req_kind {
	MREQ_ENTRY = 1, /* mknod, mkdir, symlink, link: fuse_reply_entry */
	MREQ_CREATE,    /* create: fuse_reply_create */
	MREQ_ERR,       /* unlink, rmdir, rename, xattrs, fallocate: fuse_reply_err */
	MREQ_ATTR,      /* setattr: fuse_reply_attr */
	MREQ_WRITE,     /* write: fuse_reply_write */
	MREQ_OPEN,      /* open, opendir: barriers, then fuse_reply_open */
	MREQ_LOOKUP,    /* a lookup that missed: namespace barrier, then look again */
	MREQ_WBUF,      /* a write command of mount/wbuf.c: no FUSE request to answer */
	MREQ_LOCK,      /* a lock command of mount/lock.c (req NULL: a release nobody waits for) */
};

enum mount_lock_op {
	MLOCK_SET = 1, /* setlk, flock */
	MLOCK_TEST,    /* getlk: fuse_reply_lock */
	MLOCK_RELEASE, /* close, exit, last handle */
	MLOCK_FLUSH,   /* a flush's release, then the flush itself */
	MLOCK_STALE,   /* the locks of this node's earlier lives */
	MLOCK_RENEW,   /* this node's lease renewal (mount/lease.c) */
	MLOCK_EXPIRE,  /* another node's lease, judged over */
	MLOCK_EXPIRED, /* a release of the locks of a lease that is over, on ino */
};

#define MREQ_MAX_WAIT 2

struct mount_req {
	enum mount_req_kind kind;
	fuse_req_t req;
	struct mount_req *next; /* on n->waiting */
	uint64_t cmd_id;
	int64_t started_ms;
	uint64_t wb_ino; /* not 0: a command on this inode, counted by mount/wbuf.c */
	bool wb_carry;   /* a setattr carrying wbuf's write (mount_wbuf_carry) */
	struct fs_setattr carried_attr; /* ...the setattr, to send alone if the write fails */
	struct fs_caller carried_caller;

	/* open / lookup */
	uint64_t ino;             /* open: the inode; create: the new one */
	uint64_t parent;          /* lookup */
	char name[256];           /* lookup */
	struct fuse_file_info fi; /* open, create */
	bool is_dir;
	int barriers_left;
	int err;                             /* first failure among the barriers */
	uint64_t wait_entity[MREQ_MAX_WAIT]; /* wait until fs has applied these... */
	uint64_t wait_entry[MREQ_MAX_WAIT];  /* ...through these entries */
	int n_wait;
	uint64_t notify_seq; /* and until the notify thread passed this */
	bool truncate;       /* create found an existing file and O_TRUNC asks to empty it */

	/* locks (mount/lock.c) */
	enum mount_lock_op lock_op;
	struct fs_lock lk; /* set, test */
	uint64_t *owners;  /* release: malloc'd, freed with the request */
	size_t n_owners;
	uint32_t kinds;    /* release: kind bits */
	bool lock_wait;    /* F_SETLKW, flock without LOCK_NB */
	bool interrupted;  /* a signal came while it waited */
	bool parked;       /* on n->lock_waiters */
	bool stale_tried;  /* met a lock of this node's earlier life: released it once */
	bool expire_tried; /* met a lock of an ended lease: released it once */
	bool lease_wait;   /* parked until this node holds a valid lease */
	/* lease commands (mount/lease.c); lk.life, lk.epoch: the lease a lock
	 * command or renewal was stamped with */
	uint64_t lease_seq;
	uint64_t lease_at; /* boot ms when the renewal was proposed */
	uint32_t lease_node;
	struct fs_lease lease_rec;
};

/* A new request of `kind` for FUSE request `req` (counted in n->pending;
 * req is NULL for MREQ_WBUF). */
struct mount_req *mount_req_new(struct mount_node *n, enum mount_req_kind kind, fuse_req_t req);

/* The caller of FUSE request `req` (NULL: the daemon itself, uid 0): its
 * uid and gid, the time now, kill_suidgid for a writer without CAP_FSETID
 * (not root), and this node's lock lease (mount_lease_stamp). */
void mount_caller(struct mount_node *n, fuse_req_t req, struct fs_caller *c);

/* Answers `r` with an error (0 for success of MREQ_ERR) and frees it; an
 * MREQ_WBUF command hands its outcome to mount/wbuf.c. */
void mount_req_reply_err(struct mount_node *n, struct mount_req *r, int err);

/* Frees `r` without answering: its FUSE request was answered, or handed on,
 * or it has none. err: the command's outcome (for mount/wbuf.c). */
void mount_req_free(struct mount_node *n, struct mount_req *r, int err);

/* open / opendir / a missed lookup: asks read barriers on `entities` and
 * answers when the local copy holds everything chosen before now. */
void mount_req_barrier(struct mount_node *n, struct mount_req *r, const uint64_t *entities,
		       int count);

#endif
