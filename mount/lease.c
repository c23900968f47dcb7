/* mount/lease.c — this node's lock lease and the watch over the other
 * nodes' (mount/lease.h has the picture; docs/decisions.md, "Locks", the
 * argument).
 *
 * The clock is CLOCK_BOOTTIME: it counts while the machine is suspended,
 * so a node woken from a suspend does not think its lease still runs (a
 * monotonic clock that stops would let it write after the others released
 * its locks). Both counts err on the safe side: this node counts its lease
 * from when it PROPOSED the renewal (before it was chosen), the others from
 * when they SAW it applied (after it was chosen). */
#include "mount/lease.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mount/lock.h"
#include "mount/node.h"
#include "mount/req.h"
#include "util/log.h"

#define MAX_NODES 256

struct watch {
	bool known;          /* rec holds what the last tick saw */
	struct fs_lease rec; /* the node's record, as applied here */
	uint64_t since;      /* when this node first saw rec (boot ms) */
	uint64_t sent_at;    /* an expire of rec was proposed from here then (0: not) */
};

struct mount_lease {
	struct event *tick;
	uint64_t lease_ms;
	/* this node's lease */
	uint64_t epoch;            /* the current one; 0 until the first lease */
	uint64_t seq;              /* of the last renewal proposed */
	uint64_t valid_until;      /* boot ms; 0: no valid lease */
	uint64_t next_renew;       /* boot ms */
	struct util_u64map held;   /* ino → 1: files this node locked in this life */
	struct util_u64map fenced; /* ino → 1 fenced, 2 fenced and said so */
	struct watch w[MAX_NODES];
};

static uint64_t boot_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t mount_lease_bound_ms(uint64_t lease_ms)
{
	/* (1 + rho)^2 <= 1.1 + 1000 / L for rho = 4.8 % and any L: the
	 * holder's L by a clock 4.8 % slow is at most the others' bound by a
	 * clock 4.8 % fast; the second is slack for ticks and scheduling. */
	return lease_ms + lease_ms / 10 + 1000;
}

static void fire(struct mount_node *n, struct mount_req *r, struct fs_cmd *cmd, int rc)
{
	if (rc < 0) {
		fs_cmd_close(cmd);
		mount_req_free(n, r, 0);
		return;
	}
	mount_req_submit(n, r, cmd);
}

static void propose_renew(struct mount_node *n, struct mount_lease *l, uint64_t now)
{
	struct mount_req *r = mount_req_new(n, MREQ_LOCK, NULL);
	struct fs_caller c = {.time_ns = mount_wall_ns()};
	struct fs_cmd cmd = {0};

	if (!r)
		return;
	r->lock_op = MLOCK_RENEW;
	r->lk.life = mount_lock_life(n);
	r->lk.epoch = l->epoch;
	r->lease_seq = ++l->seq;
	r->lease_at = now; /* before the engine sees it: the count starts early */
	l->next_renew = now + l->lease_ms / 3;
	fire(n, r, &cmd,
	     fs_cmd_lease_renew(&c, r->lk.life, r->lk.epoch, r->lease_seq, l->lease_ms, &cmd));
}

static void propose_expire(struct mount_node *n, uint32_t node, const struct fs_lease *rec)
{
	struct mount_req *r = mount_req_new(n, MREQ_LOCK, NULL);
	struct fs_caller c = {.time_ns = mount_wall_ns()};
	struct fs_cmd cmd = {0};

	if (!r)
		return;
	r->lock_op = MLOCK_EXPIRE;
	r->lease_node = node;
	r->lease_rec = *rec;
	fire(n, r, &cmd, fs_cmd_lease_expire(&c, node, rec, &cmd));
}

/* LockRelease{expire} of node's locks at or below (life, epoch) on ino. */
static void release_on(struct mount_node *n, uint64_t ino, uint32_t node, uint64_t life,
		       uint64_t epoch)
{
	struct mount_req *r = mount_req_new(n, MREQ_LOCK, NULL);
	struct fs_caller c = {.time_ns = mount_wall_ns()};
	struct fs_cmd cmd = {0};

	if (!r)
		return;
	r->lock_op = MLOCK_EXPIRED;
	r->ino = ino;
	fire(n, r, &cmd, fs_cmd_lock_release_expired(&c, ino, node, life, epoch, &cmd));
}

/* ---- this node's lease ---------------------------------------------------- */

struct mine {
	uint64_t life, epoch; /* at or below: counted */
	bool found;
};

static int mine_cb(void *arg, const struct fs_lock *lk)
{
	struct mine *m = arg;
	if (lk->life == m->life && (m->epoch == 0 || (lk->epoch && lk->epoch <= m->epoch)))
		m->found = true;
	return 0;
}

/* Whether this node holds a lock of this life on ino (epoch 0: any). */
static bool holds(struct mount_node *n, uint64_t ino, uint64_t epoch)
{
	struct mine m = {.life = mount_lock_life(n), .epoch = epoch};
	return fs_locks_of_node(n->fs, ino, n->self, mine_cb, &m) == 0 && m.found;
}

/* The lease ran out (by this node's clock), or the cluster ended it. */
static void lapse(struct mount_node *n, struct mount_lease *l, const char *why)
{
	uint64_t life = mount_lock_life(n), epoch = l->epoch, *inos = NULL;
	size_t pos = 0, count = 0, fenced = 0;
	uint64_t ino;
	void *val;

	l->valid_until = 0;
	l->epoch++;
	l->seq = 0;
	l->next_renew = 0;
	if (l->held.len && !(inos = calloc(l->held.len, sizeof(*inos))))
		LOG_ERR("lock lease: out of memory: files not fenced");
	while (inos && util_u64map_next(&l->held, &pos, &ino, &val)) {
		bool released = false;
		/* held here, or already released by the others (their release
		 * may be applied before this node noticed its own lapse) */
		if (holds(n, ino, epoch) ||
		    (fs_locks_fenced(n->fs, ino, n->self, life, epoch, &released) == 0 && released))
			inos[count++] = ino;
	}
	for (size_t i = 0; i < count; i++) {
		/* the processes here think they hold these locks: every I/O on
		 * the file fails until they close it, and the locks go */
		if (!util_u64map_get(&l->fenced, inos[i]) &&
		    util_u64map_put(&l->fenced, inos[i], (void *)(uintptr_t)1) == 0)
			fenced++;
		release_on(n, inos[i], n->self, life, epoch);
	}
	free(inos);
	if (count)
		LOG_WARN("lock lease (epoch %llu) %s: this node held locks on %zu file(s); they "
			 "are released, and I/O on them fails (EIO) here until every handle of "
			 "them on this node is closed",
			 (unsigned long long)epoch, why, count);
	(void)fenced;
	/* requests that were granted under the old lease are not affected;
	 * those parked for a lease wait for the next */
}

bool mount_lease_valid(struct mount_node *n)
{
	struct mount_lease *l = n->lease;
	if (!l || !l->valid_until)
		return false;
	if (boot_ms() < l->valid_until)
		return true;
	lapse(n, l, "ran out: no renewal chosen in time");
	return false;
}

void mount_lease_stamp(struct mount_node *n, struct fs_caller *c)
{
	struct mount_lease *l = n->lease;
	if (!l || !l->epoch)
		return;
	mount_lease_valid(n); /* a lapse bumps the epoch before anything is stamped */
	c->lease_life = mount_lock_life(n);
	c->lease_epoch = l->epoch;
}

int mount_lease_check(struct mount_node *n, uint64_t ino)
{
	struct mount_lease *l = n->lease;
	uintptr_t f;

	if (!l)
		return 0;
	if (l->valid_until)
		mount_lease_valid(n);
	if (!(f = (uintptr_t)util_u64map_get(&l->fenced, ino)))
		return 0;
	if (f == 1) {
		LOG_WARN("inode %llu: I/O refused (EIO): this node's lock lease ran out while it "
			 "held a lock on it; close every handle of it here to use it again",
			 (unsigned long long)ino);
		util_u64map_put(&l->fenced, ino, (void *)(uintptr_t)2);
	}
	return -EIO;
}

void mount_lease_hold(struct mount_node *n, uint64_t ino)
{
	struct mount_lease *l = n->lease;
	uint64_t now;

	if (!l)
		return;
	util_u64map_put(&l->held, ino, (void *)(uintptr_t)1);
	if (!l->epoch)
		l->epoch = 1;
	if (!mount_lease_valid(n) && (now = boot_ms()) >= l->next_renew)
		propose_renew(n, l, now);
}

void mount_lease_closed(struct mount_node *n, uint64_t ino)
{
	struct mount_lease *l = n->lease;
	if (l && util_u64map_del(&l->fenced, ino))
		LOG_INFO("inode %llu: closed everywhere on this node: I/O on it is allowed again",
			 (unsigned long long)ino);
}

void mount_lease_renewed(struct mount_node *n, const struct mount_req *r,
			 const struct fs_result *res)
{
	struct mount_lease *l = n->lease;
	bool current;

	if (!l)
		return;
	current = r->lk.life == mount_lock_life(n) && r->lk.epoch == l->epoch;
	if (res->err == -ESTALE && current) {
		lapse(n, l, "was ended by the cluster (a renewal came too late)");
		return;
	}
	if (res->err || !current)
		return;
	if (r->lease_at + l->lease_ms > l->valid_until) {
		bool was = l->valid_until != 0;
		l->valid_until = r->lease_at + l->lease_ms;
		if (!was && boot_ms() < l->valid_until)
			mount_lock_wake_all(n); /* lock requests waited for a lease */
	}
}

/* ---- the other nodes' --------------------------------------------------- */

static bool lease_ended(void *arg, const struct fs_lock *lk)
{
	return fs_lease_ended(arg, lk);
}

void mount_lease_expired(struct mount_node *n, const struct mount_req *r,
			 const struct fs_result *res)
{
	struct fs_lease rec = r->lease_rec;
	uint64_t *inos;
	size_t count;
	int rc;

	if (res->err)
		return; /* a renewal came first, or another node's expire did */
	rec.expired = true;
	LOG_WARN("node %u's lock lease (epoch %llu, %llu ms) ended: no renewal seen for %llu ms; "
		 "releasing its locks",
		 r->lease_node, (unsigned long long)r->lease_rec.epoch,
		 (unsigned long long)r->lease_rec.lease_ms,
		 (unsigned long long)mount_lease_bound_ms(r->lease_rec.lease_ms > n->lease->lease_ms
							      ? r->lease_rec.lease_ms
							      : n->lease->lease_ms));
	/* this node proposed the expire that took effect: it frees the locks
	 * (a lock request meeting one frees it too: mount/lock.c) */
	if ((rc = mount_lock_files_of(n, r->lease_node, lease_ended, &rec, &inos, &count)) < 0)
		LOG_WARN("node %u's expired locks: the scan failed (%s); they go when they are "
			 "in a lock's way",
			 r->lease_node, strerror(-rc));
	for (size_t i = 0; i < count; i++)
		release_on(n, inos[i], r->lease_node, r->lease_rec.life, r->lease_rec.epoch);
	free(inos);
}

bool mount_lease_lock_ended(struct mount_node *n, const struct fs_lock *lk, uint64_t *life,
			    uint64_t *epoch)
{
	struct mount_lease *l = n->lease;
	struct fs_lease rec;

	if (!l || lk->epoch == 0)
		return false;
	if (lk->node == n->self) {
		/* ours: earlier epochs of this life ran out (earlier lives are
		 * the stale release's) */
		if (lk->life != mount_lock_life(n) || lk->epoch >= l->epoch)
			return false;
		*life = lk->life;
		*epoch = lk->epoch;
		return true;
	}
	if (fs_lease_get(n->fs, lk->node, &rec) < 0 || !fs_lease_ended(&rec, lk))
		return false;
	*life = rec.expired ? rec.life : lk->life;
	*epoch = rec.expired ? rec.epoch : lk->epoch;
	return true;
}

/* One node's record: restart the count when it moved; expire it when it
 * stood still for the bound. */
static void watch(struct mount_node *n, struct mount_lease *l, uint32_t node, uint64_t now)
{
	struct watch *w = &l->w[node];
	struct fs_lease rec;
	uint64_t bound;

	if (fs_lease_get(n->fs, node, &rec) < 0)
		return;
	if (!w->known || rec.life != w->rec.life || rec.epoch != w->rec.epoch ||
	    rec.seq != w->rec.seq || rec.expired != w->rec.expired) {
		bool ended = w->known && rec.expired && !w->rec.expired;
		w->known = true;
		w->rec = rec;
		w->since = now;
		w->sent_at = 0;
		if (ended)
			mount_lock_wake_all(n); /* their locks go: waiters try again */
		return;
	}
	/* by the holder's lease, if longer than ours (a node started with
	 * another -o lock_lease must not be cut short) */
	bound = mount_lease_bound_ms(rec.lease_ms > l->lease_ms ? rec.lease_ms : l->lease_ms);
	if (rec.expired || now - w->since < bound || (w->sent_at && now - w->sent_at < bound))
		return; /* (again after a bound: the last one may have failed) */
	w->sent_at = now;
	propose_expire(n, node, &rec);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_node *n = arg;
	struct mount_lease *l = n->lease;
	uint64_t now = boot_ms();
	struct fs_lease own;
	bool want;
	(void)fd, (void)what;

	if (n->stopping)
		return;
	/* others' records first: the count of a node starts when this node
	 * saw its renewal applied, which is after it was chosen */
	for (uint32_t node = 1; node < MAX_NODES; node++)
		if (node != n->self && util_conf_node(n->conf, node))
			watch(n, l, node, now);
	mount_lock_lease_timeouts(n);
	if (!l->epoch)
		return;
	mount_lease_valid(n);
	/* the cluster ended this lease (this node was cut off or stopped) */
	if (l->valid_until && fs_lease_get(n->fs, n->self, &own) == 0 && own.expired &&
	    own.life == mount_lock_life(n) && own.epoch == l->epoch)
		lapse(n, l, "was ended by the cluster");
	if (now < l->next_renew)
		return;
	/* keep the lease while this node holds a lock, or waits for one */
	{
		size_t pos = 0;
		uint64_t ino, gone[64];
		size_t ngone = 0;
		void *val;
		while (util_u64map_next(&l->held, &pos, &ino, &val))
			if (!holds(n, ino, 0) && ngone < 64)
				gone[ngone++] = ino;
		for (size_t i = 0; i < ngone; i++)
			util_u64map_del(&l->held, gone[i]);
	}
	want = l->held.len > 0 || mount_lock_lease_waiting(n);
	if (want)
		propose_renew(n, l, now);
}

int mount_lease_start(struct mount_node *n)
{
	struct mount_lease *l = calloc(1, sizeof(*l));
	uint64_t step;
	struct timeval tv;

	if (!l)
		return -ENOMEM;
	n->lease = l;
	l->lease_ms = (uint64_t)n->args->lock_lease_s * 1000;
	util_u64map_init(&l->held);
	util_u64map_init(&l->fenced);
	/* a tenth of the lease, 50..250 ms: the bound is met within a tick */
	step = l->lease_ms / 10;
	step = step < 50 ? 50 : step > 250 ? 250 : step;
	tv.tv_sec = 0;
	tv.tv_usec = (suseconds_t)(step * 1000);
	if (!(l->tick = event_new(n->base, -1, EV_PERSIST, tick_cb, n)) ||
	    event_add(l->tick, &tv) < 0)
		return -ENOMEM;
	return 0;
}

void mount_lease_stop(struct mount_node *n)
{
	struct mount_lease *l = n->lease;
	if (!l)
		return;
	if (l->tick)
		event_free(l->tick);
	util_u64map_close(&l->held);
	util_u64map_close(&l->fenced);
	free(l);
	n->lease = NULL;
}
