/* mount/ops.c — the FUSE low-level operations.
 *
 * Each op only translates: reads go to fs/ and are answered at once from
 * the local applied state; changes become commands (fs_cmd_*) that wait in
 * mount/req.c until applied; open, opendir and a lookup that finds nothing
 * first pass read barriers (DESIGN.md, Consistency). write() goes to the
 * write-behind buffer (mount/wbuf.c) unless the handle is O_APPEND, O_SYNC,
 * O_DSYNC or the mount is `-o sync`; any other op on an inode with buffered
 * writes first waits until they are applied (struct deferred), so that it
 * sees them and keeps their order. Every fuse_req_t is answered exactly
 * once. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "mount/lease.h"
#include "mount/lock.h"
#include "mount/names.h"
#include "mount/node.h"
#include "mount/notify.h"
#include "mount/reply.h"
#include "mount/req.h"
#include "mount/wbuf.h"
#include "util/log.h"

#define CACHE_TIMEOUT_S 1.0

static struct mount_node *node_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static void caller_of(fuse_req_t req, struct fs_caller *c)
{
	mount_caller(node_of(req), req, c);
}

/* A file this node held a lock on when its lock lease ran out: I/O on it
 * fails until it is closed here (mount/lease.h). true: answered. */
static bool fenced(fuse_req_t req, fuse_ino_t ino)
{
	int rc = mount_lease_check(node_of(req), ino);
	if (rc < 0)
		mount_reply_err(req, -rc);
	return rc < 0;
}

/* An operation on an inode the kernel holds, which no longer exists here:
 * another node removed it. ESTALE makes the kernel look the path up again
 * (LOOKUP_REVAL) instead of failing with ENOENT on a name that may now lead
 * to another inode. */
static int inode_gone(int rc)
{
	return rc == -ENOENT ? -ESTALE : rc;
}

/* Proposes a built command, or answers the build error at once. wb_ino: the
 * inode a file command changes (0 for namespace commands), whose buffered
 * writes must not overtake it (mount/wbuf.h). */
static void propose_on(fuse_req_t req, enum mount_req_kind kind, int build_rc, struct fs_cmd *cmd,
		       const struct fuse_file_info *fi, uint64_t wb_ino)
{
	struct mount_node *n = node_of(req);
	struct mount_req *r;

	if (build_rc < 0) {
		fs_cmd_close(cmd);
		mount_reply_err(req, -build_rc);
		return;
	}
	r = mount_req_new(n, kind, req);
	if (!r) {
		fs_cmd_close(cmd);
		return;
	}
	if (fi)
		r->fi = *fi;
	if (wb_ino) {
		r->wb_ino = wb_ino;
		mount_wbuf_cmd_begin(n, wb_ino);
	}
	mount_req_submit(n, r, cmd);
}

static void propose(fuse_req_t req, enum mount_req_kind kind, int build_rc, struct fs_cmd *cmd,
		    const struct fuse_file_info *fi)
{
	propose_on(req, kind, build_rc, cmd, fi, 0);
}

/* ---- ops that wait for buffered writes ------------------------------------ */

enum defer_op {
	D_LOOKUP = 1,
	D_GETATTR,
	D_READ,
	D_SETATTR,
	D_FALLOCATE,
	D_SETXATTR,
	D_REMOVEXATTR,
	D_WRITE,
};

/* An op on an inode with buffered writes, with what it needs to run later. */
struct deferred {
	struct mount_wbuf_wait w; /* first: resume gets it back */
	enum defer_op op;
	fuse_ino_t parent;
	size_t size;
	off_t off, length;
	int mode, to_set, flags;
	struct stat attr;
	char *name; /* lookup, xattrs */
	char *data; /* setxattr value, write data */
};

static void do_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
static void do_getattr(fuse_req_t req, fuse_ino_t ino);
static void do_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off);
static void do_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set);
static void do_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length);
static void do_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags);
static void do_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);
static void do_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     bool append);

static void deferred_free(struct deferred *d)
{
	free(d->name);
	free(d->data);
	free(d);
}

static void deferred_run(struct mount_node *n, struct mount_wbuf_wait *w, int err)
{
	struct deferred *d = (struct deferred *)w;
	fuse_req_t req = w->req;
	(void)n;

	if (err < 0) {
		mount_reply_err(req, -err);
		deferred_free(d);
		return;
	}
	/* The lease may have run out while it waited (mount/lease.h). */
	if (d->op != D_LOOKUP && d->op != D_GETATTR && fenced(req, w->ino)) {
		deferred_free(d);
		return;
	}
	switch (d->op) {
	case D_LOOKUP:
		do_lookup(req, d->parent, d->name);
		break;
	case D_GETATTR:
		do_getattr(req, w->ino);
		break;
	case D_READ:
		do_read(req, w->ino, d->size, d->off);
		break;
	case D_SETATTR:
		do_setattr(req, w->ino, &d->attr, d->to_set);
		break;
	case D_FALLOCATE:
		do_fallocate(req, w->ino, d->mode, d->off, d->length);
		break;
	case D_SETXATTR:
		do_setxattr(req, w->ino, d->name, d->data, d->size, d->flags);
		break;
	case D_REMOVEXATTR:
		do_removexattr(req, w->ino, d->name);
		break;
	case D_WRITE:
		do_write(req, w->ino, d->data, d->size, d->off, d->flags != 0);
		break;
	}
	deferred_free(d);
}

/* true: `ino` has buffered writes, and the op described by `t` (its name
 * and data copied) runs once they are applied; false: run it now. */
static bool defer(fuse_req_t req, uint64_t ino, const struct deferred *t, const char *name,
		  const char *data, size_t data_len)
{
	struct mount_node *n = node_of(req);
	struct deferred *d;

	if (!mount_wbuf_busy(n, ino))
		return false;
	d = malloc(sizeof(*d));
	if (!d)
		return false; /* run now: out of order beats a lost answer */
	*d = *t;
	d->name = name ? strdup(name) : NULL;
	d->data = data_len ? malloc(data_len) : NULL;
	if ((name && !d->name) || (data_len && !d->data)) {
		deferred_free(d);
		return false;
	}
	if (data_len)
		memcpy(d->data, data, data_len);
	d->w.req = req;
	d->w.ino = ino;
	d->w.resume = deferred_run;
	if (!mount_wbuf_wait(n, &d->w)) {
		deferred_free(d);
		return false;
	}
	return true;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct mount_node *n = userdata;
	conn->max_write = 1u << 20;
	conn->max_readahead = 1u << 20;
	conn->time_gran = 1;
	/* O_TRUNC arrives as a setattr (a command) before open, not inside open. */
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
	/* Write-through, never write-back: with FUSE_CAP_WRITEBACK_CACHE the
	 * kernel trusts its own size and mtime of a file over ours, and would
	 * not see another node's append or truncate (sshfs dropped it for that). */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/* A read() after another node's change, whose invalidated attributes
	 * the kernel then asks again, drops cached pages if mtime moved. */
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	/* suid/sgid clearing on write is left to the kernel (a setattr). */
	conn->want &= ~FUSE_CAP_HANDLE_KILLPRIV;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	/* names are invalidated through the epoch where the kernel has it (7.44) */
	if (n->notify)
		mount_notify_use_epoch(n->notify,
				       conn->proto_major > 7 ||
					   (conn->proto_major == 7 && conn->proto_minor >= 44));
}

static void reply_entry_stat(fuse_req_t req, const struct stat *st)
{
	struct fuse_entry_param e;
	memset(&e, 0, sizeof(e));
	e.ino = st->st_ino;
	e.attr = *st;
	e.attr_timeout = CACHE_TIMEOUT_S;
	e.entry_timeout = CACHE_TIMEOUT_S;
	mount_reply_entry(req, &e);
}

static void do_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct mount_node *n = node_of(req);
	struct stat st;
	int rc = fs_lookup(n->fs, parent, name, &st);

	if (rc < 0) {
		mount_reply_err(req, -rc);
		return;
	}
	mount_names_looked_up(n, st.st_ino);
	reply_entry_stat(req, &st);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct mount_node *n = node_of(req);
	struct stat st;
	struct mount_req *r;
	uint64_t ns = FS_NAMESPACE;
	int rc = fs_lookup(n->fs, parent, name, &st);
	struct deferred t = {.op = D_LOOKUP, .parent = parent};

	/* the size in the answer must count the writes buffered here */
	if (rc == 0 && defer(req, st.st_ino, &t, name, NULL, 0))
		return;
	if (rc == 0) {
		mount_names_looked_up(n, st.st_ino);
		reply_entry_stat(req, &st);
		return;
	}
	if (rc != -ENOENT) {
		mount_reply_err(req, -rc);
		return;
	}
	/* Not here: perhaps created elsewhere a moment ago. Ask before saying no. */
	r = mount_req_new(n, MREQ_LOOKUP, req);
	if (!r)
		return;
	r->parent = parent;
	snprintf(r->name, sizeof(r->name), "%s", name);
	mount_req_barrier(n, r, &ns, 1);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino;
	(void)nlookup;
	mount_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	(void)count;
	(void)forgets;
	mount_reply_none(req);
}

static void do_getattr(fuse_req_t req, fuse_ino_t ino)
{
	struct stat st;
	int rc = inode_gone(fs_getattr(node_of(req)->fs, ino, &st));
	if (rc < 0)
		mount_reply_err(req, -rc);
	else
		mount_reply_attr(req, &st, CACHE_TIMEOUT_S);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct deferred t = {.op = D_GETATTR};
	(void)fi;
	if (!defer(req, ino, &t, NULL, NULL, 0))
		do_getattr(req, ino);
}

/* The fs's setattr from the kernel's. */
static struct fs_setattr setattr_of(const struct stat *attr, int to_set)
{
	struct fs_setattr a = {0};

	if (to_set & FUSE_SET_ATTR_MODE) {
		a.valid |= FS_SET_MODE;
		a.mode = attr->st_mode & 07777;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		a.valid |= FS_SET_UID;
		a.uid = attr->st_uid;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		a.valid |= FS_SET_GID;
		a.gid = attr->st_gid;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		a.valid |= FS_SET_SIZE;
		a.size = (uint64_t)attr->st_size;
	}
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		a.valid |= FS_SET_ATIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME) {
		a.valid |= FS_SET_ATIME;
		a.atime_ns = (int64_t)attr->st_atim.tv_sec * 1000000000 + attr->st_atim.tv_nsec;
	}
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		a.valid |= FS_SET_MTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME) {
		a.valid |= FS_SET_MTIME;
		a.mtime_ns = (int64_t)attr->st_mtim.tv_sec * 1000000000 + attr->st_mtim.tv_nsec;
	}
	if (to_set & FUSE_SET_ATTR_CTIME) {
		a.valid |= FS_SET_CTIME;
		a.ctime_ns = (int64_t)attr->st_ctim.tv_sec * 1000000000 + attr->st_ctim.tv_nsec;
	}
	return a;
}

static void do_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set)
{
	struct mount_node *n = node_of(req);
	struct fs_setattr a = setattr_of(attr, to_set);
	struct fs_caller c;
	struct fs_cmd cmd = {0};

	caller_of(req, &c);
	propose_on(req, MREQ_ATTR, inode_gone(fs_cmd_setattr(n->fs, &c, ino, &a, &cmd)), &cmd, NULL,
		   ino);
}

/* tar, cp -p and rsync set a file's owner, mode or times right after
 * writing it: the setattr carries the buffered write when it is one
 * command's worth (mount_wbuf_carry), one entry instead of two. true: r was
 * proposed (or answered). */
static bool setattr_carrying(fuse_req_t req, fuse_ino_t ino, const struct stat *attr, int to_set)
{
	struct mount_node *n = node_of(req);
	struct mount_req *r;
	struct fs_cmd cmd = {0};

	if (!mount_wbuf_busy(n, ino))
		return false;
	if (!(r = mount_req_new(n, MREQ_ATTR, req)))
		return true; /* answered ENOMEM */
	r->carried_attr = setattr_of(attr, to_set);
	caller_of(req, &r->carried_caller);
	if (!mount_wbuf_carry(n, ino, &r->carried_caller, &r->carried_attr, &cmd)) {
		mount_req_free(n, r, 0);
		return false;
	}
	r->wb_ino = ino;
	r->wb_carry = true;
	mount_req_submit(n, r, &cmd);
	return true;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct deferred t = {.op = D_SETATTR, .attr = *attr, .to_set = to_set};
	(void)fi;
	if (fenced(req, ino))
		return;
	if (setattr_carrying(req, ino, attr, to_set))
		return;
	if (!defer(req, ino, &t, NULL, NULL, 0))
		do_setattr(req, ino, attr, to_set);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[FS_SYMLINK_MAX + 1];
	size_t len;
	int rc = inode_gone(fs_readlink(node_of(req)->fs, ino, buf, sizeof(buf), &len));
	if (rc < 0)
		mount_reply_err(req, -rc);
	else
		mount_reply_readlink(req, buf);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct fs_caller c;
	struct fs_cmd cmd = {0};
	caller_of(req, &c);
	propose(req, MREQ_ENTRY, fs_cmd_mknod(&c, parent, name, mode, rdev, &cmd), &cmd, NULL);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fs_caller c;
	struct fs_cmd cmd = {0};
	caller_of(req, &c);
	propose(req, MREQ_ENTRY, fs_cmd_mkdir(&c, parent, name, mode & 07777, &cmd), &cmd, NULL);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_caller c;
	struct fs_cmd cmd = {0};
	caller_of(req, &c);
	propose(req, MREQ_ERR, fs_cmd_unlink(&c, parent, name, &cmd), &cmd, NULL);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_caller c;
	struct fs_cmd cmd = {0};
	caller_of(req, &c);
	propose(req, MREQ_ERR, fs_cmd_rmdir(&c, parent, name, &cmd), &cmd, NULL);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct fs_caller c;
	struct fs_cmd cmd = {0};
	caller_of(req, &c);
	propose(req, MREQ_ENTRY, fs_cmd_symlink(&c, parent, name, link, &cmd), &cmd, NULL);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct fs_caller c;
	struct fs_cmd cmd = {0};
	caller_of(req, &c);
	propose(req, MREQ_ERR, fs_cmd_rename(&c, parent, name, newparent, newname, flags, &cmd),
		&cmd, NULL);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct fs_caller c;
	struct fs_cmd cmd = {0};
	caller_of(req, &c);
	propose(req, MREQ_ENTRY, fs_cmd_link(&c, ino, newparent, newname, &cmd), &cmd, NULL);
}

/* open and opendir pass the read barrier of DESIGN.md: the entity holding
 * the inode's state and the namespace (so a file renamed over or unlinked
 * elsewhere is not served from a stale name). */
static void open_common(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, bool is_dir)
{
	struct mount_node *n = node_of(req);
	uint64_t entities[2] = {FS_NAMESPACE, 0};
	struct mount_req *r;
	int count = 1, rc = inode_gone(fs_entity_of(n->fs, ino, &entities[1]));

	if (rc < 0) {
		mount_reply_err(req, -rc);
		return;
	}
	if (entities[1] != FS_NAMESPACE)
		count = 2;
	r = mount_req_new(n, MREQ_OPEN, req);
	if (!r)
		return;
	r->ino = ino;
	r->is_dir = is_dir;
	r->fi = *fi;
	mount_req_barrier(n, r, entities, count);
}

/* File handles use the kernel's page cache in write-through mode (no
 * FUSE_CAP_WRITEBACK_CACHE): reads are served from it, mmap works, and a
 * write() copies its data into the cached pages, then reaches us as a
 * WRITE that mount/wbuf.c buffers and answers at once. That is the local
 * disk's contract: a reader on this node sees the data at once, other nodes
 * after the writer's fsync or close (DESIGN.md, Durability). What keeps the
 * cache honest:
 * - another node's change applied here invalidates the inode's attributes
 *   (mount/apply.c); with FUSE_CAP_AUTO_INVAL_DATA the kernel asks for them
 *   again at the next read() and drops its pages when size or mtime moved;
 *   the next open drops them in any case (n->data_stale);
 * - a buffered write that fails drops the inode's pages (mount/wbuf.c), so
 *   data never chosen is not served on;
 * - every answer with attributes counts what this node buffered (getattr,
 *   lookup and setattr wait for it; readdirplus leaves such an inode out;
 *   create and link raise the size: mount_wbuf_size), so the kernel's own
 *   size, which it trusts after a write, never shrinks.
 * O_APPEND handles stay direct_io: the kernel would compute an append's
 * offset from its cached size and cache the data there, while apply puts
 * it at the end of the file as it is then (appends of other nodes before
 * it). The price: no MAP_SHARED mapping of an O_APPEND handle (the kernel
 * refuses it on direct_io files without FUSE_DIRECT_IO_ALLOW_MMAP, which
 * libfuse 3.14 cannot ask for). */
static void append_direct(struct fuse_file_info *fi)
{
	if (fi->flags & O_APPEND)
		fi->direct_io = 1;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fi->fh = (uint64_t)(unsigned)fi->flags;
	append_direct(fi);
	open_common(req, ino, fi, false);
}

static void do_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off)
{
	struct mount_node *n = node_of(req);
	size_t got = 0;
	void *buf = malloc(size ? size : 1);
	int rc;

	if (!buf) {
		mount_reply_err(req, ENOMEM);
		return;
	}
	rc = fs_read(n->fs, ino, (uint64_t)off, size, buf, &got);
	if (rc < 0)
		mount_reply_err(req, -rc);
	else
		mount_reply_buf(req, buf, got);
	free(buf);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct deferred t = {.op = D_READ, .size = size, .off = off};
	(void)fi;
	if (fenced(req, ino))
		return;
	if (!defer(req, ino, &t, NULL, NULL, 0))
		do_read(req, ino, size, off);
}

/* A write chosen before it is answered (O_APPEND, O_SYNC, -o sync). */
static void do_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     bool append)
{
	struct fs_caller c;
	struct fs_cmd cmd = {0};
	int rc;

	caller_of(req, &c);
	if (append)
		rc = fs_cmd_append(&c, ino, buf, size, &cmd);
	else
		rc = fs_cmd_write(&c, ino, (uint64_t)off, buf, size, &cmd);
	propose_on(req, MREQ_WRITE, rc, &cmd, NULL, ino);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct mount_node *n = node_of(req);
	int flags = fi->flags | (int)fi->fh;
	/* A page written back from a shared mapping (fi->writepage) carries its
	 * offset; the handle the kernel picked for it may be another's. */
	bool append = !fi->writepage && (flags & O_APPEND) != 0;
	struct deferred t = {.op = D_WRITE, .size = size, .off = off, .flags = append};

	if (fenced(req, ino))
		return;
	if (fi->writepage && !n->args->sync)
		flags &= ~O_DSYNC;
	if (!append && !(flags & O_DSYNC) && !n->args->sync) {
		mount_wbuf_write(n, req, ino, buf, size, off);
		return;
	}
	/* O_DSYNC is part of O_SYNC: both are chosen before they return. */
	if (!defer(req, ino, &t, NULL, buf, size))
		do_write(req, ino, buf, size, off, append);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	/* close(): the closing process' POSIX locks go (after its writes) */
	if (mount_lock_flush(node_of(req), req, ino, fi))
		return;
	/* close(): the writes buffered so far are chosen before it returns */
	mount_wbuf_sync(node_of(req), req, ino);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mount_node *n = node_of(req);
	uintptr_t c = (uintptr_t)util_u64map_get(&n->opens, ino);
	mount_wbuf_release(n, ino); /* what is left goes; nobody waits */
	mount_lock_release(n, ino, fi, c <= 1);
	if (c > 1)
		util_u64map_put(&n->opens, ino, (void *)(c - 1));
	else {
		util_u64map_del(&n->opens, ino);
		mount_inode_release(n, ino);
	}
	mount_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)datasync; /* data and metadata are chosen together */
	(void)fi;
	mount_wbuf_sync(node_of(req), req, ino);
}

/* ---- directories ------------------------------------------------------ */

/* A directory handle: where the last readdir stopped, so the next one goes
 * on after that name even if entries were added or removed meanwhile. */
struct dir_handle {
	off_t last_off; /* cookie of the last entry returned */
	bool have_last;
	char last[FS_NAME_MAX + 1];
};

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dir_handle *dh = calloc(1, sizeof(*dh));
	struct stat st;
	int rc = inode_gone(fs_getattr(node_of(req)->fs, ino, &st));

	if (!dh) {
		mount_reply_err(req, ENOMEM);
		return;
	}
	if (rc == 0 && !S_ISDIR(st.st_mode))
		rc = -ENOTDIR;
	if (rc < 0) {
		free(dh);
		mount_reply_err(req, -rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)dh;
	open_common(req, ino, fi, true);
}

struct fill_state {
	struct mount_node *n;
	fuse_req_t req;
	struct dir_handle *dh;
	char *buf;
	size_t size, used;
	off_t off;  /* cookie of the entry being added */
	off_t skip; /* entries still to skip (a seek back to an older cookie) */
	bool plus;
};

static int fill_cb(void *arg, const char *name, uint64_t ino, uint32_t type)
{
	struct fill_state *f = arg;
	size_t need;

	if (f->skip > 0) {
		f->skip--;
		f->off++;
		return 0;
	}
	if (f->plus) {
		struct fuse_entry_param e;
		memset(&e, 0, sizeof(e));
		if (mount_wbuf_busy(f->n, ino)) {
			/* its size is not applied yet: no attributes (the
			 * kernel then asks with a lookup or getattr, which wait) */
			e.attr.st_ino = ino;
			e.attr.st_mode = type;
		} else if (strcmp(name, ".") && strcmp(name, "..")) {
			if (fs_getattr(f->n->fs, ino, &e.attr) < 0)
				return 0; /* gone since listed: skip it */
			e.ino = ino;
			mount_names_looked_up(f->n, ino);
			e.attr_timeout = CACHE_TIMEOUT_S;
			e.entry_timeout = CACHE_TIMEOUT_S;
		} else {
			e.attr.st_ino = ino;
			e.attr.st_mode = type;
		}
		need = fuse_add_direntry_plus(f->req, f->buf + f->used, f->size - f->used, name, &e,
					      f->off + 1);
	} else {
		struct stat st = {.st_ino = ino, .st_mode = type};
		need = fuse_add_direntry(f->req, f->buf + f->used, f->size - f->used, name, &st,
					 f->off + 1);
	}
	if (need > f->size - f->used)
		return 1; /* full: this entry goes in the next call */
	f->used += need;
	f->off++;
	f->dh->last_off = f->off;
	f->dh->have_last = true;
	snprintf(f->dh->last, sizeof(f->dh->last), "%s", name);
	return 0;
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi, bool plus)
{
	struct dir_handle *dh = (struct dir_handle *)(uintptr_t)fi->fh;
	struct fill_state f = {.n = node_of(req), .req = req, .dh = dh, .size = size, .plus = plus};
	const char *after = NULL;
	int rc;

	f.buf = malloc(size);
	if (!f.buf) {
		mount_reply_err(req, ENOMEM);
		return;
	}
	if (off != 0 && dh->have_last && off == dh->last_off) {
		after = dh->last; /* the usual case: go on where the last call stopped */
		f.off = off;
	} else if (off != 0) {
		f.skip = off; /* a seek back: count from the start */
	}
	rc = fs_readdir(f.n->fs, ino, after, fill_cb, &f);
	if (rc < 0)
		mount_reply_err(req, -rc);
	else
		mount_reply_buf(req, f.buf, f.used);
	free(f.buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	free((void *)(uintptr_t)fi->fh);
	mount_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	mount_reply_err(req, 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct mount_node *n = node_of(req);
	struct statvfs sv, disk;
	int rc = fs_statfs(n->fs, &sv);
	(void)ino;

	if (rc < 0) {
		mount_reply_err(req, -rc);
		return;
	}
	/* Space is what this node's disk has left for its data directory. */
	if (statvfs(n->data_dir, &disk) == 0) {
		sv.f_blocks = disk.f_blocks * disk.f_frsize / sv.f_frsize;
		sv.f_bfree = disk.f_bfree * disk.f_frsize / sv.f_frsize;
		sv.f_bavail = disk.f_bavail * disk.f_frsize / sv.f_frsize;
	}
	mount_reply_statfs(req, &sv);
}

/* ---- xattrs ------------------------------------------------------------- */

static void do_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	struct mount_node *n = node_of(req);
	struct fs_caller c;
	struct fs_cmd cmd = {0};
	caller_of(req, &c);
	propose_on(
	    req, MREQ_ERR,
	    inode_gone(fs_cmd_setxattr(n->fs, &c, ino, name, value, size, (uint32_t)flags, &cmd)),
	    &cmd, NULL, ino);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	struct deferred t = {.op = D_SETXATTR, .size = size, .flags = flags};
	if (fenced(req, ino))
		return;
	if (!defer(req, ino, &t, name, value, size))
		do_setxattr(req, ino, name, value, size, flags);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct mount_node *n = node_of(req);
	size_t len = 0;
	void *buf = size ? malloc(size) : NULL;
	int rc;

	if (size && !buf) {
		mount_reply_err(req, ENOMEM);
		return;
	}
	rc = inode_gone(fs_getxattr(n->fs, ino, name, buf, size, &len));
	if (rc < 0)
		mount_reply_err(req, -rc);
	else if (!size)
		mount_reply_xattr(req, len);
	else
		mount_reply_buf(req, buf, len);
	free(buf);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct mount_node *n = node_of(req);
	size_t len = 0;
	char *buf = size ? malloc(size) : NULL;
	int rc;

	if (size && !buf) {
		mount_reply_err(req, ENOMEM);
		return;
	}
	rc = inode_gone(fs_listxattr(n->fs, ino, buf, size, &len));
	if (rc < 0)
		mount_reply_err(req, -rc);
	else if (!size)
		mount_reply_xattr(req, len);
	else
		mount_reply_buf(req, buf, len);
	free(buf);
}

static void do_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct mount_node *n = node_of(req);
	struct fs_caller c;
	struct fs_cmd cmd = {0};
	caller_of(req, &c);
	propose_on(req, MREQ_ERR, inode_gone(fs_cmd_removexattr(n->fs, &c, ino, name, &cmd)), &cmd,
		   NULL, ino);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct deferred t = {.op = D_REMOVEXATTR};
	if (fenced(req, ino))
		return;
	if (!defer(req, ino, &t, name, NULL, 0))
		do_removexattr(req, ino, name);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct fs_caller c;
	struct fs_cmd cmd = {0};
	caller_of(req, &c);
	fi->fh = (uint64_t)(unsigned)fi->flags;
	append_direct(fi);
	propose(req, MREQ_CREATE,
		fs_cmd_create(&c, parent, name, mode & 07777, (fi->flags & O_EXCL) != 0, &cmd),
		&cmd, fi);
}

static void do_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length)
{
	struct fs_caller c;
	struct fs_cmd cmd = {0};
	caller_of(req, &c);
	propose_on(
	    req, MREQ_ERR,
	    fs_cmd_fallocate(&c, ino, (uint32_t)mode, (uint64_t)offset, (uint64_t)length, &cmd),
	    &cmd, NULL, ino);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
			 struct fuse_file_info *fi)
{
	struct deferred t = {.op = D_FALLOCATE, .mode = mode, .off = offset, .length = length};
	(void)fi;
	if (fenced(req, ino))
		return;
	if (offset < 0 || length <= 0) {
		mount_reply_err(req, EINVAL);
		return;
	}
	if (!defer(req, ino, &t, NULL, NULL, 0))
		do_fallocate(req, ino, mode, offset, length);
}

const struct fuse_lowlevel_ops mount_ops = {
    .init = op_init,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .readlink = op_readlink,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .flush = op_flush,
    .release = op_release,
    .fsync = op_fsync,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .readdirplus = op_readdirplus,
    .releasedir = op_releasedir,
    .fsyncdir = op_fsyncdir,
    .statfs = op_statfs,
    .setxattr = op_setxattr,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .removexattr = op_removexattr,
    .create = op_create,
    .fallocate = op_fallocate,
    .getlk = mount_lock_getlk,
    .setlk = mount_lock_setlk,
    .flock = mount_lock_flock,
};
