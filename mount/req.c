/* mount/req.c — FUSE requests waiting for the cluster, and their answers.
 *
 * A request is in exactly one place until it is answered: the node core
 * (its command or its barriers are in the engine: node_submit, node_barrier),
 * or n->waiting (barriers done, waiting for applies or invalidations). */
#include "mount/req.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "mount/lease.h"
#include "mount/lock.h"
#include "mount/names.h"
#include "mount/notify.h"
#include "mount/reply.h"
#include "mount/wbuf.h"
#include "util/log.h"

#define CACHE_TIMEOUT_S 1.0

struct mount_req *mount_req_new(struct mount_node *n, enum mount_req_kind kind, fuse_req_t req)
{
	struct mount_req *r = calloc(1, sizeof(*r));
	if (!r) {
		if (req)
			mount_reply_err(req, ENOMEM);
		return NULL;
	}
	r->kind = kind;
	r->req = req;
	r->started_ms = (int64_t)mount_now_ms();
	n->pending++;
	return r;
}

/* err: the command's outcome, for mount/wbuf.c (which may submit the
 * inode's next command before n->pending drops here). */
static void req_free(struct mount_node *n, struct mount_req *r, int err)
{
	if (r->wb_ino)
		mount_wbuf_cmd_done(n, r->wb_ino, r->kind == MREQ_WBUF || r->wb_carry,
				    err < 0 ? err : -err);
	n->pending--;
	free(r->owners);
	free(r);
	if (n->stopping && n->pending == 0 && n->stop_ev)
		event_active(n->stop_ev, 0, 0);
}

void mount_req_free(struct mount_node *n, struct mount_req *r, int err)
{
	req_free(n, r, err);
}

void mount_req_reply_err(struct mount_node *n, struct mount_req *r, int err)
{
	if (r->kind == MREQ_OPEN && r->is_dir && err)
		free((void *)(uintptr_t)r->fi.fh); /* no releasedir follows a failed opendir */
	if (r->kind != MREQ_WBUF && r->req)
		mount_reply_err(r->req, err < 0 ? -err : err);
	req_free(n, r, err);
}

/* Attributes as applied, with the size of the writes this node buffered
 * after them (mount_wbuf_size): the kernel must not shrink its own size. */
static struct stat with_buffered(struct mount_node *n, uint64_t ino, const struct stat *st)
{
	struct stat out = *st;
	uint64_t size = (uint64_t)out.st_size;
	mount_wbuf_size(n, ino, &size);
	out.st_size = (off_t)size;
	return out;
}

static void fill_entry(struct mount_node *n, struct fuse_entry_param *e, uint64_t ino,
		       const struct stat *st)
{
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	e->attr = with_buffered(n, ino, st);
	e->attr_timeout = CACHE_TIMEOUT_S;
	e->entry_timeout = CACHE_TIMEOUT_S;
}

static void count_open(struct mount_node *n, uint64_t ino)
{
	uintptr_t c = (uintptr_t)util_u64map_get(&n->opens, ino);
	if (util_u64map_put(&n->opens, ino, (void *)(c + 1)) < 0)
		abort();
}

void mount_req_submit(struct mount_node *n, struct mount_req *r, struct fs_cmd *cmd)
{
	uint64_t id = 0;
	int rc;

	rc = node_submit(n->core, cmd->entity, cmd->body, cmd->len, r, &id);
	fs_cmd_close(cmd);
	if (rc < 0) {
		/* While a full disk keeps the engine down, say so (not "I/O error"). */
		if (rc == -EMSGSIZE)
			rc = -EFBIG;
		else if (rc == -EAGAIN)
			rc = -EAGAIN; /* ids faster than their bound (paxos.h): not now */
		else if (rc == -ENOTCONN && node_engine_err(n->core) == -ENOSPC)
			rc = -ENOSPC;
		else
			rc = -EIO;
		mount_req_reply_err(n, r, rc);
		return;
	}
	r->cmd_id = id;
}

void mount_caller(struct mount_node *n, fuse_req_t req, struct fs_caller *c)
{
	memset(c, 0, sizeof(*c));
	if (req) {
		const struct fuse_ctx *ctx = fuse_req_ctx(req);
		c->uid = ctx->uid;
		c->gid = ctx->gid;
		c->kill_suidgid = ctx->uid != 0;
	}
	c->time_ns = mount_wall_ns();
	mount_lease_stamp(n, c);
}

/* create without O_EXCL met an existing file and O_TRUNC asks to empty it. */
static bool create_needs_truncate(struct mount_node *n, struct mount_req *r,
				  const struct fs_result *res)
{
	struct fs_caller c;
	struct fs_cmd cmd;

	if (r->truncate || res->created || !(r->fi.flags & O_TRUNC) || res->st.st_size == 0)
		return false;
	mount_caller(n, r->req, &c);
	if (fs_cmd_truncate(&c, res->ino, 0, &cmd) < 0)
		return false;
	r->truncate = true;
	r->ino = res->ino;
	mount_req_submit(n, r, &cmd);
	return true;
}

/* A setattr carried a buffered write (mount_wbuf_carry). The write's
 * outcome goes to mount/wbuf.c (a failure is for fsync and close, as any
 * buffered write's); then the request is a plain setattr: answered by this
 * result, or, when the write failed and so nothing was applied, proposed
 * again alone. true: r was handed on. */
static bool carried_write_done(struct mount_node *n, struct mount_req *r,
			       const struct fs_result *res)
{
	uint64_t ino = r->wb_ino;
	struct fs_cmd cmd = {0};
	int rc;

	r->wb_carry = false;
	if (res->written || !res->err) {
		r->wb_ino = 0;
		mount_wbuf_cmd_done(n, ino, true, 0);
		return false;
	}
	/* The setattr alone goes before the write's outcome lets the ops that
	 * came after it run (they may propose too). */
	mount_wbuf_cmd_begin(n, ino);
	rc = fs_cmd_setattr(n->fs, &r->carried_caller, ino, &r->carried_attr, &cmd);
	if (rc < 0)
		mount_req_reply_err(n, r, rc == -ENOENT ? -ESTALE : rc);
	else
		mount_req_submit(n, r, &cmd);
	mount_wbuf_cmd_done(n, ino, true, res->err);
	return true;
}

void mount_req_applied(struct mount_node *n, const struct fs_result *res)
{
	struct mount_req *r = node_cmd_take(n->core, res->cmd_id);
	struct fuse_entry_param e;

	if (!r)
		return; /* its request was already answered (failed, or the engine was reset) */
	if (r->kind == MREQ_WBUF) {
		req_free(n, r, res->err);
		return;
	}
	if (r->kind == MREQ_LOCK) {
		mount_lock_applied(n, r, res);
		return;
	}
	if (r->wb_carry && carried_write_done(n, r, res))
		return;
	if (res->err) {
		mount_req_reply_err(n, r, res->err);
		return;
	}
	switch (r->kind) {
	case MREQ_ENTRY:
		fill_entry(n, &e, res->ino, &res->st);
		mount_reply_entry(r->req, &e);
		break;
	case MREQ_CREATE:
		if (create_needs_truncate(n, r, res))
			return;
		fill_entry(n, &e, r->truncate ? r->ino : res->ino, &res->st);
		count_open(n, e.ino);
		r->fi.keep_cache = !util_u64map_del(&n->data_stale, e.ino);
		if (mount_reply_create(r->req, &e, &r->fi) == -ENOENT)
			mount_inode_release(n, e.ino); /* the caller was interrupted: no handle */
		break;
	case MREQ_ATTR: {
		struct stat st = with_buffered(n, res->st.st_ino, &res->st);
		mount_reply_attr(r->req, &st, CACHE_TIMEOUT_S);
		break;
	}
	case MREQ_WRITE:
		mount_reply_write(r->req, res->written);
		break;
	case MREQ_WBUF:
		break;
	case MREQ_ERR:
		mount_reply_err(r->req, 0);
		break;
	default:
		LOG_ERR("request of kind %d got a command result", r->kind);
		mount_reply_err(r->req, EIO);
		break;
	}
	req_free(n, r, 0);
}

void mount_req_failed(struct mount_node *n, struct mount_req *r, int err)
{
	LOG_WARN("a change failed: %s (no majority answered in time)", strerror(-err));
	/* The caller's contract: EIO means "not known to be done". */
	mount_req_reply_err(n, r, -EIO);
}

void mount_req_barrier(struct mount_node *n, struct mount_req *r, const uint64_t *entities,
		       int count)
{
	r->barriers_left = count;
	for (int i = 0; i < count; i++) {
		int rc = node_barrier(n->core, entities[i], r);
		if (rc == -ECANCELED)
			return; /* the engine was dropped: r was answered */
		if (rc < 0) {
			/* refused at once: count it as a failed barrier */
			r->err = r->err ? r->err : -EIO;
			if (--r->barriers_left == 0) {
				mount_req_reply_err(n, r, r->err);
				return;
			}
		}
	}
}

void mount_req_barrier_done(struct mount_node *n, struct mount_req *r,
			    const struct paxos_barrier_done *b)
{
	if (b->result < 0) {
		if (!r->err)
			r->err = b->result;
	} else if (r->n_wait < MREQ_MAX_WAIT) {
		r->wait_entity[r->n_wait] = b->entity;
		r->wait_entry[r->n_wait] = b->entry;
		r->n_wait++;
	}
	if (--r->barriers_left > 0)
		return;
	if (r->err) {
		LOG_WARN("a read barrier failed: %s", strerror(-r->err));
		mount_req_reply_err(n, r, -EIO);
		return;
	}
	r->next = n->waiting;
	n->waiting = r;
	mount_req_recheck(n);
}

static bool applied_through(struct mount_node *n, uint64_t entity, uint64_t entry)
{
	struct store_apply_meta m;
	if (entry == 0)
		return true;
	if (fs_applied(n->fs, entity, &m) < 0)
		return false;
	return m.applied_entry >= entry;
}

/* The barriers and applies are done, and the kernel dropped older caches. */
static void finish(struct mount_node *n, struct mount_req *r)
{
	struct stat st;
	struct fuse_entry_param e;
	int rc;

	switch (r->kind) {
	case MREQ_OPEN:
		if (mount_names_stale(n, r->ino)) {
			/* reached through a name another node changed: walk again */
			mount_req_reply_err(n, r, -ESTALE);
			return;
		}
		if (r->is_dir) {
			if (fs_getattr(n->fs, r->ino, &st) < 0) {
				mount_req_reply_err(n, r, -ESTALE); /* removed elsewhere */
				return;
			}
			mount_reply_open(r->req, &r->fi);
			break;
		}
		rc = fs_getattr(n->fs, r->ino, &st);
		if ((rc == 0 && st.st_nlink == 0) || rc == -ENOENT)
			rc = -ESTALE; /* unlinked elsewhere: the kernel looks the path up again */
		if (rc < 0) {
			mount_reply_err(r->req, -rc);
			break;
		}
		count_open(n, r->ino);
		/* Cached data is kept unless another node changed the file since
		 * the last open here; then the kernel drops it as it opens
		 * (mount/notify.c says why not from the notify thread). */
		r->fi.keep_cache = !util_u64map_del(&n->data_stale, r->ino);
		/* writes buffered here are not applied yet: no mark for them */
		if (mount_wbuf_busy(n, r->ino))
			r->fi.keep_cache = 0;
		if (mount_reply_open(r->req, &r->fi) == -ENOENT)
			mount_inode_release(n, r->ino);
		break;
	case MREQ_LOOKUP:
		rc = fs_lookup(n->fs, r->parent, r->name, &st);
		if (rc == -ENOENT &&
		    (mount_names_stale(n, r->parent) || fs_getattr(n->fs, r->parent, &st) < 0))
			rc = -ESTALE; /* the directory itself was renamed or removed meanwhile */
		if (rc < 0) {
			mount_reply_err(r->req, -rc);
			break;
		}
		mount_names_looked_up(n, st.st_ino);
		fill_entry(n, &e, st.st_ino, &st);
		mount_reply_entry(r->req, &e);
		break;
	case MREQ_LOCK: /* granted; the kernel dropped data cached before */
		mount_reply_err(r->req, 0);
		break;
	default:
		mount_reply_err(r->req, EIO);
		break;
	}
	req_free(n, r, 0);
}

void mount_req_recheck(struct mount_node *n)
{
	struct mount_req **pp = &n->waiting;
	int64_t now = (int64_t)mount_now_ms();

	while (*pp) {
		struct mount_req *r = *pp;
		bool ready = true;
		for (int i = 0; i < r->n_wait && ready; i++)
			ready = applied_through(n, r->wait_entity[i], r->wait_entry[i]);
		/* Only open waits for the kernel to drop older caches: a lookup is
		 * answered from our own state, and the kernel holds the directory's
		 * lock during a lookup, which an entry invalidation needs too. */
		if (ready && n->notify && (r->kind == MREQ_OPEN || r->kind == MREQ_LOCK)) {
			/* A file's attributes may come from a lookup answered from
			 * our state just before its last applies, whose invalidation
			 * then found no inode in the kernel yet and was lost: drop
			 * them too, so that open() shows the size the barrier
			 * waited for. */
			if (!r->notify_seq)
				r->notify_seq = r->is_dir ? mount_notify_queued(n->notify)
							  : mount_notify_inode(n->notify, r->ino);
			ready = mount_notify_done(n->notify) >= r->notify_seq;
		}
		if (!ready && now - r->started_ms > (int64_t)n->args->timeout_s * 1000) {
			struct store_apply_meta m = {0};
			int i = r->n_wait > 0 ? r->n_wait - 1 : 0;
			for (int j = 0; j < r->n_wait; j++)
				if (!applied_through(n, r->wait_entity[j], r->wait_entry[j]))
					i = j;
			fs_applied(n->fs, r->wait_entity[i], &m);
			*pp = r->next;
			LOG_WARN(
			    "open gave up waiting for entity %llu to be applied through entry %llu "
			    "(applied %llu)",
			    (unsigned long long)r->wait_entity[i],
			    (unsigned long long)r->wait_entry[i],
			    (unsigned long long)m.applied_entry);
			mount_req_reply_err(n, r, -EIO);
			continue;
		}
		if (!ready) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		finish(n, r);
	}
	if (n->waiting && n->retry_ev && !evtimer_pending(n->retry_ev, NULL)) {
		struct timeval tv = {1, 0}; /* to give up on time if nothing else happens */
		evtimer_add(n->retry_ev, &tv);
	}
}

void mount_req_abandon(struct mount_node *n, struct mount_req *r, int err)
{
	mount_req_reply_err(n, r, err);
}

void mount_req_fail_all(struct mount_node *n, int err)
{
	/* Those waiting for the engine come back through mount_req_abandon. */
	if (n->core)
		node_abandon_all(n->core, err);
	mount_lock_fail_all(n, err);
	while (n->waiting) {
		struct mount_req *r = n->waiting;
		n->waiting = r->next;
		mount_req_reply_err(n, r, err);
	}
}
