/* mount/lock.c — FUSE's lock operations over the replicated lock table
 * (mount/lock.h says what each does; fs/lock.c decides the grants).
 *
 * A lock request's path:
 *
 *   getlk/setlk/flock ──(buffered writes of the inode applied)──▶ command
 *        ▲                                                          │ applied
 *        │ an applied command of the inode dropped a lock           ▼
 *   parked on n->lock_waiters ◀── EAGAIN, blocking ── outcome ──▶ answer
 *
 * A parked request holds nothing in the engine (no command in flight), so a
 * waiter costs nothing until a lock of its file goes. A grant is answered
 * once the notify thread has dropped what the kernel cached of data other
 * nodes changed before it: reads under the lock see the last holder's
 * writes. */
#include "mount/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "mount/lease.h"
#include "mount/notify.h"
#include "mount/reply.h"
#include "mount/req.h"
#include "mount/wbuf.h"
#include "util/log.h"

#define KIND_BIT(k) (1u << (k))

static struct mount_node *node_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* This process' life in lock holders: the id base of its first engine life,
 * above every id of every earlier process of this node (node/node.h), and
 * kept across engine restarts inside the process, whose lock holders live
 * on. */
static uint64_t life_of(struct mount_node *n)
{
	if (!n->lock_life)
		n->lock_life = node_id_base(n->core);
	return n->lock_life;
}

uint64_t mount_lock_life(struct mount_node *n)
{
	return life_of(n);
}

static void park(struct mount_node *n, struct mount_req *r);

/* Builds and submits r's command. The inode's command count (mount/wbuf.h)
 * keeps buffered writes from overtaking it. */
static void submit(struct mount_node *n, struct mount_req *r)
{
	struct fs_caller c;
	struct fs_cmd cmd = {0};
	int rc;

	if (r->interrupted && r->lock_op == MLOCK_SET) {
		mount_req_reply_err(n, r, -EINTR);
		return;
	}
	r->lease_wait = false;
	if ((r->lock_op == MLOCK_SET && r->lk.type != FS_LOCK_UNLOCK) || r->lock_op == MLOCK_TEST) {
		if ((rc = mount_lease_check(n, r->ino)) < 0) {
			mount_req_reply_err(n, r, rc);
			return;
		}
	}
	if (r->lock_op == MLOCK_SET && r->lk.type != FS_LOCK_UNLOCK) {
		/* a lock only under a lease the others can end */
		mount_lease_hold(n, r->ino);
		if (!mount_lease_valid(n)) {
			r->lease_wait = true;
			r->parked = true;
			r->next = n->lock_waiters;
			n->lock_waiters = r;
			return;
		}
	}
	mount_caller(n, r->req, &c);
	r->lk.epoch = c.lease_epoch;
	if (r->lock_op == MLOCK_SET || r->lock_op == MLOCK_TEST)
		rc = fs_cmd_lock(&c, r->ino, &r->lk, r->lock_op == MLOCK_TEST, &cmd);
	else if (r->lock_op == MLOCK_STALE)
		rc = fs_cmd_lock_release_stale(&c, r->ino, life_of(n), &cmd);
	else
		rc = fs_cmd_lock_release(&c, r->ino, life_of(n), r->owners, r->n_owners, r->kinds,
					 &cmd);
	if (rc < 0) {
		fs_cmd_close(&cmd);
		mount_req_reply_err(n, r, rc);
		return;
	}
	r->wb_ino = r->ino;
	mount_wbuf_cmd_begin(n, r->ino);
	mount_req_submit(n, r, &cmd);
}

/* Waits for the inode's buffered writes, then submits. */
struct after_writes {
	struct mount_wbuf_wait w; /* first: resume gets it back */
	struct mount_req *r;
};

static void after_writes_cb(struct mount_node *n, struct mount_wbuf_wait *w, int err)
{
	struct after_writes *a = (struct after_writes *)w;
	struct mount_req *r = a->r;
	free(a);
	if (err < 0)
		mount_req_reply_err(n, r, err);
	else
		submit(n, r);
}

static void submit_after_writes(struct mount_node *n, struct mount_req *r)
{
	struct after_writes *a = calloc(1, sizeof(*a));
	if (a) {
		a->r = r;
		a->w.req = r->req;
		a->w.ino = r->ino;
		a->w.resume = after_writes_cb;
		if (mount_wbuf_wait(n, &a->w))
			return;
		free(a);
	}
	submit(n, r); /* nothing buffered (or no memory: out of order beats no answer) */
}

static void unpark(struct mount_node *n, struct mount_req *r)
{
	for (struct mount_req **pp = &n->lock_waiters; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	r->parked = false;
	r->next = NULL;
}

/* A signal for a process blocked in a lock: a parked request ends now with
 * EINTR; one in flight ends so if its command finds a conflict (granted, it
 * is answered 0: the lock is held, as if the signal came just after). */
static void interrupt_cb(fuse_req_t req, void *data)
{
	struct mount_node *n = node_of(req);
	struct mount_req *r = data;

	r->interrupted = true;
	if (r->parked) {
		unpark(n, r);
		mount_req_reply_err(n, r, -EINTR);
	}
}

static void lock_request(fuse_req_t req, uint64_t ino, const struct fs_lock *lk, bool test,
			 bool wait)
{
	struct mount_node *n = node_of(req);
	struct mount_req *r;
	struct stat st;
	int rc = fs_getattr(n->fs, ino, &st);

	/* Only regular files have a lock table (the kernel keeps directory
	 * locks itself: FUSE has no lock operations for directories). */
	if (rc == 0 && !S_ISREG(st.st_mode))
		rc = -EINVAL;
	if (rc < 0) {
		mount_reply_err(req, rc == -ENOENT ? ESTALE : -rc);
		return;
	}
	if (!(r = mount_req_new(n, MREQ_LOCK, req)))
		return;
	r->ino = ino;
	r->lk = *lk;
	r->lk.life = life_of(n);
	r->lock_op = test ? MLOCK_TEST : MLOCK_SET;
	r->lock_wait = wait;
	if (wait) {
		/* called at once when the signal already came */
		fuse_req_interrupt_func(req, interrupt_cb, r);
		if (r->interrupted) {
			mount_req_reply_err(n, r, -EINTR);
			return;
		}
	}
	submit_after_writes(n, r);
}

/* struct flock (absolute: the kernel resolved l_whence) to a lock of ours.
 * -EINVAL for a type FUSE does not send. */
static int from_flock(const struct flock *fl, uint64_t owner, struct fs_lock *lk)
{
	memset(lk, 0, sizeof(*lk));
	lk->kind = FS_LOCK_POSIX;
	switch (fl->l_type) {
	case F_RDLCK:
		lk->type = FS_LOCK_READ;
		break;
	case F_WRLCK:
		lk->type = FS_LOCK_WRITE;
		break;
	case F_UNLCK:
		lk->type = FS_LOCK_UNLOCK;
		break;
	default:
		return -EINVAL;
	}
	if (fl->l_start < 0 || fl->l_len < 0)
		return -EINVAL;
	lk->start = (uint64_t)fl->l_start;
	lk->end = fl->l_len == 0 ? FS_LOCK_END : lk->start + (uint64_t)fl->l_len - 1;
	if (lk->end < lk->start)
		lk->end = FS_LOCK_END;
	lk->owner = owner;
	lk->pid = (uint32_t)fl->l_pid;
	return 0;
}

void mount_lock_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct flock *lock)
{
	struct fs_lock lk;
	int rc = from_flock(lock, fi->lock_owner, &lk);
	if (rc == 0 && lk.type == FS_LOCK_UNLOCK)
		rc = -EINVAL;
	if (rc < 0) {
		mount_reply_err(req, -rc);
		return;
	}
	lock_request(req, ino, &lk, true, false);
}

void mount_lock_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct flock *lock,
		      int sleep)
{
	struct fs_lock lk;
	int rc = from_flock(lock, fi->lock_owner, &lk);
	if (rc < 0) {
		mount_reply_err(req, -rc);
		return;
	}
	lock_request(req, ino, &lk, false, sleep && lk.type != FS_LOCK_UNLOCK);
}

void mount_lock_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
	struct fs_lock lk = {.kind = FS_LOCK_FLOCK,
			     .start = 0,
			     .end = FS_LOCK_END,
			     .owner = fi->lock_owner,
			     .pid = (uint32_t)fuse_req_ctx(req)->pid};

	switch (op & ~LOCK_NB) {
	case LOCK_SH:
		lk.type = FS_LOCK_READ;
		break;
	case LOCK_EX:
		lk.type = FS_LOCK_WRITE;
		break;
	case LOCK_UN:
		lk.type = FS_LOCK_UNLOCK;
		break;
	default:
		mount_reply_err(req, EINVAL);
		return;
	}
	lock_request(req, ino, &lk, false, !(op & LOCK_NB) && lk.type != FS_LOCK_UNLOCK);
}

/* ---- release ----------------------------------------------------------- */

struct owners {
	uint64_t life; /* this process' */
	uint64_t *v;
	size_t n, cap;
	uint64_t only; /* with only_set: collect just whether this owner holds one */
	bool only_set;
	uint32_t kinds;
	bool found;
};

static int owners_cb(void *arg, const struct fs_lock *l)
{
	struct owners *o = arg;

	if (!(o->kinds & KIND_BIT(l->kind)) || l->life != o->life)
		return 0; /* an earlier life's: mount_lock_sweep_stale's */
	if (o->only_set) {
		o->found = o->found || l->owner == o->only;
		return 0;
	}
	for (size_t i = 0; i < o->n; i++)
		if (o->v[i] == l->owner)
			return 0;
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 4;
		uint64_t *v = realloc(o->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n++] = l->owner;
	return 0;
}

/* A release request for `owners` (taken over) of `kinds` on `ino`. */
static struct mount_req *release_req(struct mount_node *n, fuse_req_t req, uint64_t ino,
				     enum mount_lock_op op, uint64_t *owners, size_t count,
				     uint32_t kinds)
{
	struct mount_req *r = mount_req_new(n, MREQ_LOCK, req);
	if (!r) {
		free(owners);
		return NULL;
	}
	r->ino = ino;
	r->lock_op = op;
	r->owners = owners;
	r->n_owners = count;
	r->kinds = kinds;
	return r;
}

bool mount_lock_flush(struct mount_node *n, fuse_req_t req, uint64_t ino,
		      const struct fuse_file_info *fi)
{
	struct owners o = {.life = life_of(n),
			   .only = fi->lock_owner,
			   .only_set = true,
			   .kinds = KIND_BIT(FS_LOCK_POSIX)};
	uint64_t *owner;
	struct mount_req *r;

	if (fs_locks_of_node(n->fs, ino, n->self, owners_cb, &o) < 0 || !o.found)
		return false;
	if (!(owner = malloc(sizeof(*owner))))
		return false; /* flush as usual; the last close drops the lock */
	*owner = fi->lock_owner;
	r = release_req(n, req, ino, MLOCK_FLUSH, owner, 1, KIND_BIT(FS_LOCK_POSIX));
	if (r)
		submit_after_writes(n, r);
	return true; /* r NULL: mount_req_new answered ENOMEM */
}

void mount_lock_release(struct mount_node *n, uint64_t ino, const struct fuse_file_info *fi,
			bool last)
{
	struct owners o = {.life = life_of(n),
			   .kinds = KIND_BIT(FS_LOCK_POSIX) | KIND_BIT(FS_LOCK_FLOCK)};
	struct mount_req *r;
	int rc;

	if (last) {
		mount_lease_closed(n, ino);
		/* every holder on this node: none of them can hold a lock on
		 * a file it does not have open */
		rc = fs_locks_of_node(n->fs, ino, n->self, owners_cb, &o);
	} else if (fi->flock_release) {
		/* flock and OFD locks belong to the open file: both carry the
		 * kernel's lock owner of the file, which release names */
		o.only = fi->lock_owner;
		o.only_set = true;
		rc = fs_locks_of_node(n->fs, ino, n->self, owners_cb, &o);
		if (rc == 0 && o.found) {
			if (!(o.v = malloc(sizeof(*o.v)))) {
				rc = -ENOMEM;
			} else {
				o.v[0] = fi->lock_owner;
				o.n = 1;
			}
		}
	} else {
		return;
	}
	if (rc < 0 || o.n == 0) {
		if (rc < 0)
			LOG_WARN("locks of inode %llu not released at close: %s",
				 (unsigned long long)ino, strerror(-rc));
		free(o.v);
		return;
	}
	r = release_req(n, NULL, ino, MLOCK_RELEASE, o.v, o.n, o.kinds);
	if (r)
		submit_after_writes(n, r);
}

/* Fire and forget: the stale release of `ino`. */
static void stale_release(struct mount_node *n, uint64_t ino)
{
	struct mount_req *r = release_req(n, NULL, ino, MLOCK_STALE, NULL, 0, 0);
	if (r)
		submit(n, r);
}

struct sweep {
	struct mount_node *n;
	uint32_t node;
	mount_lock_match match;
	void *arg;
	uint64_t *inos;
	size_t count, cap;
	bool found;
};

static int match_cb(void *arg, const struct fs_lock *l)
{
	struct sweep *s = arg;
	if (s->match(s->arg, l))
		s->found = true;
	return 0;
}

static int sweep_cb(void *arg, const struct fs_entity_info *e)
{
	struct sweep *s = arg;

	if (e->entity == FS_NAMESPACE || e->state != FS_ENTITY_LIVE)
		return 0;
	s->found = false;
	if (fs_locks_of_node(s->n->fs, e->entity, s->node, match_cb, s) < 0 || !s->found)
		return 0;
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		uint64_t *v = realloc(s->inos, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->inos = v;
		s->cap = cap;
	}
	s->inos[s->count++] = e->entity;
	return 0;
}

int mount_lock_files_of(struct mount_node *n, uint32_t node, mount_lock_match match, void *arg,
			uint64_t **inos, size_t *count)
{
	struct sweep s = {.n = n, .node = node, .match = match, .arg = arg};
	int rc = fs_entities(n->fs, 0, sweep_cb, &s);
	*inos = s.inos;
	*count = s.count;
	return rc < 0 ? rc : 0;
}

static bool earlier_life(void *arg, const struct fs_lock *l)
{
	return l->life < life_of(arg);
}

void mount_lock_sweep_stale(struct mount_node *n)
{
	uint64_t *inos;
	size_t count;
	int rc = mount_lock_files_of(n, n->self, earlier_life, n, &inos, &count);

	if (rc < 0)
		LOG_WARN("locks of this node's earlier lives: the scan failed (%s); they go when "
			 "they are in a lock's way",
			 strerror(-rc));
	if (count)
		LOG_INFO("releasing the locks this node held before its restart on %zu file(s)",
			 count);
	for (size_t i = 0; i < count; i++)
		stale_release(n, inos[i]);
	free(inos);
}

/* ---- outcomes ------------------------------------------------------------ */

/* Waits for a lock of the inode to go: no command of ours in flight on the
 * inode meanwhile. */
static void park(struct mount_node *n, struct mount_req *r)
{
	mount_wbuf_cmd_done(n, r->wb_ino, false, 0);
	r->wb_ino = 0;
	r->parked = true;
	r->next = n->lock_waiters;
	n->lock_waiters = r;
}

static void reply_test(struct mount_node *n, struct mount_req *r, const struct fs_result *res)
{
	struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET};

	if (res->has_lock) {
		const struct fs_lock *l = &res->lock;
		fl.l_type = l->type == FS_LOCK_WRITE ? F_WRLCK : F_RDLCK;
		fl.l_start = (off_t)l->start;
		fl.l_len = l->end == FS_LOCK_END ? 0 : (off_t)(l->end - l->start + 1);
		/* a pid is a process of the holder's node: elsewhere 0, as NFS
		 * reports a remote holder (docs/decisions.md, Locks) */
		fl.l_pid = l->node == n->self ? (pid_t)l->pid : 0;
	}
	mount_reply_lock(r->req, &fl);
	mount_req_free(n, r, 0);
}

/* Fire and forget: the release of node's locks of an ended lease on ino. */
static void release_expired(struct mount_node *n, uint64_t ino, uint32_t node, uint64_t life,
			    uint64_t epoch)
{
	struct mount_req *r = release_req(n, NULL, ino, MLOCK_EXPIRED, NULL, 0, 0);
	struct fs_caller c;
	struct fs_cmd cmd = {0};
	int rc;

	if (!r)
		return;
	mount_caller(n, NULL, &c);
	if ((rc = fs_cmd_lock_release_expired(&c, ino, node, life, epoch, &cmd)) < 0) {
		fs_cmd_close(&cmd);
		mount_req_free(n, r, 0);
		return;
	}
	mount_req_submit(n, r, &cmd);
}

void mount_lock_applied(struct mount_node *n, struct mount_req *r, const struct fs_result *res)
{
	fuse_req_t req;
	uint64_t ino, life, epoch;

	switch (r->lock_op) {
	case MLOCK_TEST:
		if (res->err)
			mount_req_reply_err(n, r, res->err);
		else
			reply_test(n, r, res);
		return;
	case MLOCK_RELEASE:
		mount_req_free(n, r, 0);
		return;
	case MLOCK_STALE:
	case MLOCK_EXPIRED:
		/* whatever it found, requests parked behind it try again */
		ino = r->ino;
		mount_req_free(n, r, 0);
		mount_lock_wake(n, ino);
		return;
	case MLOCK_RENEW:
		mount_lease_renewed(n, r, res);
		mount_req_free(n, r, 0);
		return;
	case MLOCK_EXPIRE:
		mount_lease_expired(n, r, res);
		mount_req_free(n, r, 0);
		return;
	case MLOCK_FLUSH:
		/* the locks are gone: now the flush itself (its writes were
		 * applied before; this answers with their error, if any) */
		if (res->err) {
			mount_req_reply_err(n, r, res->err);
			return;
		}
		req = r->req;
		ino = r->ino;
		mount_req_free(n, r, 0);
		mount_wbuf_sync(n, req, ino);
		return;
	case MLOCK_SET:
		break;
	}
	if (res->err == -EAGAIN && res->has_lock && res->lock.node == n->self &&
	    res->lock.life < life_of(n) && !r->stale_tried) {
		/* in the way: a lock of this node's earlier life (a crash before
		 * the sweep came to this file). Drop them, then try again. */
		r->stale_tried = true;
		stale_release(n, r->ino);
		park(n, r);
		return;
	}
	if (res->err == -EAGAIN && res->has_lock && !r->expire_tried &&
	    mount_lease_lock_ended(n, &res->lock, &life, &epoch)) {
		/* in the way: a lock of a lease that is over (its node died or
		 * was cut off, and nobody released it yet). Drop, try again. */
		r->expire_tried = true;
		release_expired(n, r->ino, res->lock.node, life, epoch);
		park(n, r);
		return;
	}
	if (res->err == -EAGAIN && r->lock_wait && !r->interrupted) {
		park(n, r);
		return;
	}
	if (res->err) {
		mount_req_reply_err(n, r,
				    res->err == -EAGAIN && r->interrupted ? -EINTR : res->err);
		return;
	}
	struct fs_lock mine = r->lk;
	mine.node = n->self;
	if (r->lk.type != FS_LOCK_UNLOCK && r->lk.epoch &&
	    mount_lease_lock_ended(n, &mine, &life, &epoch)) {
		/* granted under a lease that ran out before it was chosen: the
		 * others may have ended it, so it is not handed out; it goes,
		 * and the request asks again under the next lease */
		release_expired(n, r->ino, n->self, life, epoch);
		park(n, r);
		return;
	}
	if (r->lk.type != FS_LOCK_UNLOCK)
		mount_lease_hold(n, r->ino); /* held: the lease is kept from now on */
	if (r->lk.type != FS_LOCK_UNLOCK && n->notify &&
	    mount_notify_done(n->notify) < mount_notify_queued(n->notify)) {
		/* granted: answer once the kernel dropped data cached before */
		r->notify_seq = mount_notify_queued(n->notify);
		r->next = n->waiting;
		n->waiting = r;
		mount_req_recheck(n);
		return;
	}
	mount_req_reply_err(n, r, 0);
}

void mount_lock_wake(struct mount_node *n, uint64_t ino)
{
	struct mount_req *wake = NULL, **pp = &n->lock_waiters;

	while (*pp) {
		struct mount_req *r = *pp;
		if (r->ino != ino) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		r->parked = false;
		r->next = wake;
		wake = r;
	}
	while (wake) {
		struct mount_req *r = wake;
		wake = r->next;
		r->next = NULL;
		submit(n, r);
	}
}

void mount_lock_wake_all(struct mount_node *n)
{
	struct mount_req *wake = n->lock_waiters;

	n->lock_waiters = NULL;
	while (wake) {
		struct mount_req *r = wake;
		wake = r->next;
		r->next = NULL;
		r->parked = false;
		submit(n, r);
	}
}

bool mount_lock_lease_waiting(struct mount_node *n)
{
	for (struct mount_req *r = n->lock_waiters; r; r = r->next)
		if (r->lease_wait)
			return true;
	return false;
}

void mount_lock_lease_timeouts(struct mount_node *n)
{
	int64_t now = (int64_t)mount_now_ms();
	struct mount_req **pp = &n->lock_waiters;

	while (*pp) {
		struct mount_req *r = *pp;
		/* a non-blocking request without a majority to renew with: EIO
		 * after -o timeout, as any command (a blocking one waits on,
		 * until a signal) */
		if (!r->lease_wait || r->lock_wait ||
		    now - r->started_ms <= (int64_t)n->args->timeout_s * 1000) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		r->parked = false;
		r->next = NULL;
		mount_req_reply_err(n, r, -EIO);
	}
}

void mount_lock_fail_all(struct mount_node *n, int err)
{
	while (n->lock_waiters) {
		struct mount_req *r = n->lock_waiters;
		n->lock_waiters = r->next;
		r->parked = false;
		mount_req_reply_err(n, r, err);
	}
}
