/* mount/wbuf.c — write-behind (mount/wbuf.h has the contract).
 *
 * An inode's buffer is a sorted array of extents that never overlap: a write
 * copies over the parts already buffered (later data wins) and fills the
 * gaps by growing the extent that ends where a gap starts, else with new
 * extents, none larger than MOUNT_WBUF_CMD_MAX, so each extent is one
 * command. Sealing moves the open extents into a batch at the tail of the
 * inode's queue; the pump submits the head batch's next extent when nothing
 * of the inode is in flight. Batches are numbered; an op that waits records
 * the number of the last batch sealed when it came (its target) and runs
 * when that batch is done. */
#include "mount/wbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mount/lease.h"
#include "mount/notify.h"
#include "mount/reply.h"
#include "mount/req.h"
#include "util/log.h"

#define TIMER_MS 200

struct wb_ext {
	uint64_t off;
	size_t len, cap;
	uint8_t *data;
};

struct wb_exts {
	struct wb_ext *v;
	size_t n, cap;
};

struct wb_batch {
	struct wb_batch *next;
	uint64_t seq;
	struct wb_exts ex;
	size_t next_ext;                  /* extents before it were submitted */
	bool kill_suidgid;                /* a writer without CAP_FSETID (fs_caller) */
	uint64_t lease_life, lease_epoch; /* the lock lease its writes came under */
};

struct wb_inode {
	uint64_t ino;
	struct wb_exts open; /* not sealed yet */
	size_t open_bytes;
	bool open_kill_suidgid;         /* a write in open came from a user */
	uint64_t open_life, open_epoch; /* the lock lease the writes in open came under */
	uint64_t open_since_ms;         /* when open became non-empty */
	struct wb_batch *head, *tail;   /* sealed, oldest first */
	uint64_t sealed_seq, done_seq;  /* last batch sealed / done */
	unsigned inflight;              /* commands of this inode in flight (any op) */
	bool ours_inflight;             /* one of them is a wbuf write */
	size_t inflight_bytes;
	int err;            /* first error not reported yet */
	uint64_t inval_seq; /* the notify item dropping the pages of a failed write */
	struct mount_wbuf_wait *waiters, **waiters_tail;
	bool pumping;  /* pump() runs: it goes on from a failed submit itself */
	unsigned hold; /* a caller still uses it: not freed meanwhile */
};

struct blocked {
	struct blocked *next;
	fuse_req_t req;
	uint64_t ino;
	off_t off;
	size_t size;
	bool kill_suidgid;
	char data[];
};

struct mount_wbuf {
	struct mount_node *n;
	struct util_u64map inodes; /* ino → struct wb_inode */
	size_t bytes;              /* buffered or in flight */
	struct event *timer;
	struct blocked *blocked, **blocked_tail;
	bool stopping;
	/* fsyncs and closes whose error waits for the kernel to drop the pages
	 * of the failed write (w->target: that notify item) */
	struct mount_wbuf_wait *reporting;
	struct mount_wbuf_stats stats;
};

/* ---- extents ------------------------------------------------------------- */

static void exts_free(struct wb_exts *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].data);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

static int ext_insert(struct wb_exts *e, size_t i, uint64_t off, const uint8_t *src, size_t len)
{
	uint8_t *d;
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 8;
		struct wb_ext *v = realloc(e->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		e->v = v;
		e->cap = cap;
	}
	if (!(d = malloc(len)))
		return -ENOMEM;
	memcpy(d, src, len);
	memmove(&e->v[i + 1], &e->v[i], (e->n - i) * sizeof(e->v[0]));
	e->v[i] = (struct wb_ext){.off = off, .len = len, .cap = len, .data = d};
	e->n++;
	return 0;
}

static int ext_grow(struct wb_ext *x, const uint8_t *src, size_t len)
{
	if (x->len + len > x->cap) {
		size_t cap = x->cap * 2;
		uint8_t *d;
		if (cap < x->len + len)
			cap = x->len + len;
		if (cap > MOUNT_WBUF_CMD_MAX)
			cap = MOUNT_WBUF_CMD_MAX;
		if (!(d = realloc(x->data, cap)))
			return -ENOMEM;
		x->data = d;
		x->cap = cap;
	}
	memcpy(x->data + x->len, src, len);
	x->len += len;
	return 0;
}

/* Copies [off, off+len) into e; *added gets the bytes not buffered before. */
static int exts_write(struct wb_exts *e, uint64_t off, const uint8_t *src, size_t len,
		      size_t *added)
{
	uint64_t pos = off, end = off + len;
	size_t lo = 0, hi = e->n, i;

	*added = 0;
	/* i: the first extent that ends after off */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (e->v[mid].off + e->v[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	i = lo;
	while (pos < end) {
		struct wb_ext *x = i < e->n ? &e->v[i] : NULL;
		uint64_t gap_end;
		size_t k;

		if (x && x->off <= pos) { /* inside x: later data wins */
			k = (size_t)((x->off + x->len < end ? x->off + x->len : end) - pos);
			memcpy(x->data + (pos - x->off), src + (pos - off), k);
			pos += k;
			i++;
			continue;
		}
		gap_end = x && x->off < end ? x->off : end;
		if (i > 0 && e->v[i - 1].off + e->v[i - 1].len == pos &&
		    e->v[i - 1].len < MOUNT_WBUF_CMD_MAX) {
			struct wb_ext *p = &e->v[i - 1];
			k = (size_t)(gap_end - pos);
			if (k > MOUNT_WBUF_CMD_MAX - p->len)
				k = MOUNT_WBUF_CMD_MAX - p->len;
			if (ext_grow(p, src + (pos - off), k) < 0)
				return -ENOMEM;
		} else {
			k = (size_t)(gap_end - pos);
			if (k > MOUNT_WBUF_CMD_MAX)
				k = MOUNT_WBUF_CMD_MAX;
			if (ext_insert(e, i, pos, src + (pos - off), k) < 0)
				return -ENOMEM;
			i++;
		}
		pos += k;
		*added += k;
	}
	return 0;
}

/* ---- inodes ----------------------------------------------------------------- */

static struct wb_inode *inode_get(struct mount_wbuf *wb, uint64_t ino, bool create)
{
	struct wb_inode *wi = util_u64map_get(&wb->inodes, ino);
	if (wi || !create)
		return wi;
	if (!(wi = calloc(1, sizeof(*wi))))
		return NULL;
	wi->ino = ino;
	wi->waiters_tail = &wi->waiters;
	if (util_u64map_put(&wb->inodes, ino, wi) < 0) {
		free(wi);
		return NULL;
	}
	return wi;
}

static bool inode_busy(const struct wb_inode *wi)
{
	return wi && (wi->open.n || wi->head);
}

/* Drops the state of an idle inode; an unlinked one no handle holds is
 * reclaimed now (mount_inode_release waited for us). */
static void inode_maybe_free(struct mount_node *n, struct wb_inode *wi)
{
	struct mount_wbuf *wb = n->wbuf;
	if (wi->open.n || wi->head || wi->inflight || wi->waiters || wi->pumping || wi->hold)
		return;
	if (wi->err && util_u64map_get(&n->opens, wi->ino))
		return; /* kept for the next fsync or close */
	util_u64map_del(&wb->inodes, wi->ino);
	exts_free(&wi->open);
	if (!util_u64map_get(&n->opens, wi->ino))
		mount_inode_release(n, wi->ino);
	free(wi);
}

/* A buffered write failed: fsync or close reports it, and the kernel's
 * page cache, which took the data at write() time, must not serve it on:
 * the next open drops the pages (n->data_stale), and so does the notify
 * thread now for handles already open (mount/notify.h says why this is the
 * one invalidation of data it does). */
static void note_err(struct mount_node *n, struct wb_inode *wi, int err)
{
	/* The file was removed (here or elsewhere): its data went with it. */
	if (err == -ENOENT || err == -ESTALE || !err)
		return;
	if (!wi->err)
		wi->err = err;
	if (util_u64map_put(&n->data_stale, wi->ino, (void *)1) < 0)
		abort(); /* a lost mark would serve data never chosen */
	if (n->notify)
		wi->inval_seq = mount_notify_inode_data(n->notify, wi->ino);
}

static void arm_timer(struct mount_wbuf *wb)
{
	struct timeval tv = {0, TIMER_MS * 1000};
	if (!evtimer_pending(wb->timer, NULL))
		evtimer_add(wb->timer, &tv);
}

static void seal(struct mount_wbuf *wb, struct wb_inode *wi)
{
	struct wb_batch *b;
	(void)wb;
	if (!wi->open.n)
		return;
	if (!(b = calloc(1, sizeof(*b))))
		abort(); /* dropping written data silently is not an option */
	b->seq = ++wi->sealed_seq;
	b->ex = wi->open;
	b->kill_suidgid = wi->open_kill_suidgid;
	b->lease_life = wi->open_life;
	b->lease_epoch = wi->open_epoch;
	memset(&wi->open, 0, sizeof(wi->open));
	wi->open_bytes = 0;
	wi->open_kill_suidgid = false;
	if (wi->tail)
		wi->tail->next = b;
	else
		wi->head = b;
	wi->tail = b;
}

static void batch_pop(struct wb_inode *wi)
{
	struct wb_batch *b = wi->head;
	wi->done_seq = b->seq;
	wi->head = b->next;
	if (!wi->head)
		wi->tail = NULL;
	exts_free(&b->ex);
	free(b);
}

/* The ops whose writes are applied run, oldest first; one that submits a
 * command holds the inode's next write back until it is applied. */
static void run_waiters(struct mount_node *n, struct wb_inode *wi)
{
	wi->hold++;
	while (wi->waiters && wi->waiters->target <= wi->done_seq) {
		struct mount_wbuf_wait *w = wi->waiters;
		wi->waiters = w->next;
		if (!wi->waiters)
			wi->waiters_tail = &wi->waiters;
		w->resume(n, w, 0);
	}
	wi->hold--;
}

/* Submits the next extent of the head batch if nothing of the inode is in
 * flight. A submit that fails at once comes back through
 * mount_wbuf_cmd_done; the loop goes on from here instead of recursing. */
static void pump(struct mount_node *n, struct wb_inode *wi)
{
	struct mount_wbuf *wb = n->wbuf;

	if (wi->pumping)
		return;
	wi->pumping = true;
	while (!wi->inflight) {
		struct wb_batch *b = wi->head;
		struct wb_ext *x;
		struct mount_req *r;
		struct fs_caller c = {.uid = 0, .gid = 0, .kill_suidgid = b && b->kill_suidgid};
		struct fs_cmd cmd = {0};
		int rc;

		if (!b)
			break;
		if (b->next_ext == b->ex.n) {
			batch_pop(wi);
			run_waiters(n, wi);
			continue;
		}
		x = &b->ex.v[b->next_ext++];
		c.time_ns = mount_wall_ns();
		/* the lease it was written under: a write of a lease that ran
		 * out is refused at apply (fs/lock.c, the fence), whenever it
		 * is sent */
		c.lease_life = b->lease_life;
		c.lease_epoch = b->lease_epoch;
		/* written under a lock this node has lost: not sent under its
		 * next lease (mount/lease.h); fsync and close report EIO */
		rc = mount_lease_check(n, wi->ino);
		if (rc == 0)
			rc = fs_cmd_write(&c, wi->ino, x->off, x->data, x->len, &cmd);
		wb->bytes -= x->len;
		free(x->data);
		x->data = NULL;
		if (rc < 0) {
			note_err(n, wi, rc);
			continue;
		}
		r = mount_req_new(n, MREQ_WBUF, NULL);
		if (!r) {
			fs_cmd_close(&cmd);
			note_err(n, wi, -ENOMEM);
			continue;
		}
		r->ino = wi->ino;
		r->wb_ino = wi->ino;
		wi->inflight++;
		wi->ours_inflight = true;
		wi->inflight_bytes = x->len;
		wb->bytes += x->len;
		wb->stats.commands++;
		wb->stats.bytes += x->len;
		mount_req_submit(n, r, &cmd);
	}
	wi->pumping = false;
}

/* Writes that waited for room, in order. */
static void admit_blocked(struct mount_node *n);

/* ---- the timer: age, and the global bound ------------------------------- */

static void seal_and_pump(struct mount_node *n, bool all)
{
	struct mount_wbuf *wb = n->wbuf;
	uint64_t now = mount_now_ms();
	size_t pos = 0, count = 0, cap = wb->inodes.len;
	uint64_t key, *todo;
	void *val;

	if (!cap)
		return;
	/* pumping may free inodes: collect first */
	if (!(todo = malloc(cap * sizeof(*todo))))
		return;
	while (count < cap && util_u64map_next(&wb->inodes, &pos, &key, &val)) {
		struct wb_inode *wi = val;
		if (wi->open.n && (all || now - wi->open_since_ms >= MOUNT_WBUF_AGE_MS))
			todo[count++] = key;
	}
	for (size_t i = 0; i < count; i++) {
		struct wb_inode *wi = inode_get(wb, todo[i], false);
		if (!wi)
			continue;
		seal(wb, wi);
		pump(n, wi);
		inode_maybe_free(n, wi);
	}
	free(todo);
}

static bool any_open(struct mount_wbuf *wb)
{
	size_t pos = 0;
	uint64_t key;
	void *val;
	while (util_u64map_next(&wb->inodes, &pos, &key, &val))
		if (((struct wb_inode *)val)->open.n)
			return true;
	return false;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_node *n = arg;
	(void)fd;
	(void)what;
	seal_and_pump(n, false);
	if (any_open(n->wbuf))
		arm_timer(n->wbuf);
}

/* ---- the API ----------------------------------------------------------------- */

int mount_wbuf_new(struct mount_node *n)
{
	struct mount_wbuf *wb = calloc(1, sizeof(*wb));
	if (!wb)
		return -ENOMEM;
	wb->n = n;
	util_u64map_init(&wb->inodes);
	wb->blocked_tail = &wb->blocked;
	if (!(wb->timer = evtimer_new(n->base, timer_cb, n))) {
		free(wb);
		return -ENOMEM;
	}
	n->wbuf = wb;
	return 0;
}

void mount_wbuf_free(struct mount_node *n)
{
	struct mount_wbuf *wb = n->wbuf;
	size_t pos = 0;
	uint64_t key;
	void *val;

	if (!wb)
		return;
	while (util_u64map_next(&wb->inodes, &pos, &key, &val)) {
		struct wb_inode *wi = val;
		exts_free(&wi->open);
		while (wi->head)
			batch_pop(wi);
		free(wi);
	}
	util_u64map_close(&wb->inodes);
	while (wb->blocked) {
		struct blocked *b = wb->blocked;
		wb->blocked = b->next;
		free(b);
	}
	event_free(wb->timer);
	LOG_INFO("write-behind: %llu writes went out in %llu commands (%llu bytes; %llu carried by "
		 "a setattr)",
		 (unsigned long long)wb->stats.writes, (unsigned long long)wb->stats.commands,
		 (unsigned long long)wb->stats.bytes, (unsigned long long)wb->stats.carried);
	free(wb);
	n->wbuf = NULL;
}

static int buffer(struct mount_node *n, uint64_t ino, const char *buf, size_t size, off_t off,
		  bool kill_suidgid)
{
	struct mount_wbuf *wb = n->wbuf;
	struct wb_inode *wi = inode_get(wb, ino, true);
	struct fs_caller stamp = {0};
	size_t added;
	bool was_empty;
	int rc;

	if (!wi)
		return -ENOMEM;
	/* writes of another lease go into a batch of their own */
	mount_lease_stamp(n, &stamp);
	if (wi->open.n &&
	    (stamp.lease_life != wi->open_life || stamp.lease_epoch != wi->open_epoch))
		seal(wb, wi);
	wi->open_life = stamp.lease_life;
	wi->open_epoch = stamp.lease_epoch;
	was_empty = !wi->open.n;
	rc = exts_write(&wi->open, (uint64_t)off, (const uint8_t *)buf, size, &added);
	wi->open_bytes += added;
	wb->bytes += added;
	if (rc < 0) {
		inode_maybe_free(n, wi);
		return rc;
	}
	wb->stats.writes++;
	wi->open_kill_suidgid |= kill_suidgid;
	if (was_empty && wi->open.n) {
		wi->open_since_ms = mount_now_ms();
		arm_timer(wb);
	}
	if (wi->open_bytes >= MOUNT_WBUF_START && !wi->head) {
		seal(wb, wi);
		pump(n, wi);
	}
	return 0;
}

static void admit_blocked(struct mount_node *n)
{
	struct mount_wbuf *wb = n->wbuf;
	while (wb->blocked &&
	       (wb->stopping || !wb->bytes || wb->bytes + wb->blocked->size <= MOUNT_WBUF_MAX)) {
		struct blocked *b = wb->blocked;
		int rc;
		wb->blocked = b->next;
		if (!wb->blocked)
			wb->blocked_tail = &wb->blocked;
		rc = buffer(n, b->ino, b->data, b->size, b->off, b->kill_suidgid);
		if (rc < 0)
			mount_reply_err(b->req, -rc);
		else
			mount_reply_write(b->req, b->size);
		free(b);
	}
}

void mount_wbuf_write(struct mount_node *n, fuse_req_t req, uint64_t ino, const char *buf,
		      size_t size, off_t off)
{
	struct mount_wbuf *wb = n->wbuf;
	struct blocked *b;
	int rc;

	if (off < 0 || (uint64_t)off > (uint64_t)INT64_MAX - size) {
		mount_reply_err(req, EFBIG);
		return;
	}
	if (!size) {
		mount_reply_write(req, 0);
		return;
	}
	if (!wb->blocked && (wb->stopping || !wb->bytes || wb->bytes + size <= MOUNT_WBUF_MAX)) {
		rc = buffer(n, ino, buf, size, off, fuse_req_ctx(req)->uid != 0);
		if (rc < 0)
			mount_reply_err(req, -rc);
		else
			mount_reply_write(req, size);
		return;
	}
	/* No room: the write waits, and everything buffered goes out. */
	if (!(b = malloc(sizeof(*b) + size))) {
		mount_reply_err(req, ENOMEM);
		return;
	}
	b->next = NULL;
	b->req = req;
	b->ino = ino;
	b->off = off;
	b->size = size;
	b->kill_suidgid = fuse_req_ctx(req)->uid != 0;
	memcpy(b->data, buf, size);
	*wb->blocked_tail = b;
	wb->blocked_tail = &b->next;
	seal_and_pump(n, true);
}

bool mount_wbuf_wait(struct mount_node *n, struct mount_wbuf_wait *w)
{
	struct mount_wbuf *wb = n->wbuf;
	struct wb_inode *wi = inode_get(wb, w->ino, false);

	if (!inode_busy(wi))
		return false;
	seal(wb, wi);
	w->target = wi->sealed_seq;
	w->next = NULL;
	*wi->waiters_tail = w;
	wi->waiters_tail = &w->next;
	pump(n, wi);
	return true;
}

static void sync_resume(struct mount_node *n, struct mount_wbuf_wait *w, int err)
{
	struct wb_inode *wi = inode_get(n->wbuf, w->ino, false);
	if (!err && wi) {
		err = wi->err;
		wi->err = 0;
		/* the caller learns of the failure once no page holds its data */
		if (err < 0 && n->notify && mount_notify_done(n->notify) < wi->inval_seq) {
			w->err = err;
			w->target = wi->inval_seq;
			w->next = n->wbuf->reporting;
			n->wbuf->reporting = w;
			inode_maybe_free(n, wi);
			return;
		}
	}
	mount_reply_err(w->req, -err);
	free(w);
	if (wi)
		inode_maybe_free(n, wi);
}

void mount_wbuf_sync(struct mount_node *n, fuse_req_t req, uint64_t ino)
{
	struct mount_wbuf_wait *w = calloc(1, sizeof(*w));
	if (!w) {
		mount_reply_err(req, ENOMEM);
		return;
	}
	w->req = req;
	w->ino = ino;
	w->resume = sync_resume;
	if (!mount_wbuf_wait(n, w))
		sync_resume(n, w, 0);
}

void mount_wbuf_notified(struct mount_node *n)
{
	struct mount_wbuf_wait **pp = n->wbuf ? &n->wbuf->reporting : NULL;
	uint64_t done = n->notify ? mount_notify_done(n->notify) : UINT64_MAX;

	while (pp && *pp) {
		struct mount_wbuf_wait *w = *pp;
		if (w->target > done) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		mount_reply_err(w->req, -w->err);
		free(w);
	}
}

void mount_wbuf_release(struct mount_node *n, uint64_t ino)
{
	struct wb_inode *wi = inode_get(n->wbuf, ino, false);
	if (!wi)
		return;
	seal(n->wbuf, wi);
	pump(n, wi);
	inode_maybe_free(n, wi);
}

bool mount_wbuf_busy(struct mount_node *n, uint64_t ino)
{
	struct wb_inode *wi;
	if (!n->wbuf)
		return false;
	wi = inode_get(n->wbuf, ino, false);
	return wi && (inode_busy(wi) || wi->inflight || wi->waiters);
}

static void exts_raise_end(const struct wb_exts *e, uint64_t *size)
{
	/* sorted and disjoint: the last extent ends last */
	if (e->n && e->v[e->n - 1].off + e->v[e->n - 1].len > *size)
		*size = e->v[e->n - 1].off + e->v[e->n - 1].len;
}

void mount_wbuf_size(struct mount_node *n, uint64_t ino, uint64_t *size)
{
	struct wb_inode *wi = n->wbuf ? inode_get(n->wbuf, ino, false) : NULL;
	if (!wi)
		return;
	exts_raise_end(&wi->open, size);
	/* a batch stays queued until its last command is done */
	for (const struct wb_batch *b = wi->head; b; b = b->next)
		exts_raise_end(&b->ex, size);
}

void mount_wbuf_cmd_begin(struct mount_node *n, uint64_t ino)
{
	struct wb_inode *wi = inode_get(n->wbuf, ino, true);
	if (!wi)
		abort(); /* the order of this inode's commands could not be kept */
	wi->inflight++;
}

void mount_wbuf_cmd_done(struct mount_node *n, uint64_t ino, bool ours, int err)
{
	struct mount_wbuf *wb = n->wbuf;
	struct wb_inode *wi = wb ? inode_get(wb, ino, false) : NULL;

	if (!wi)
		return;
	wi->inflight--;
	if (ours) {
		wi->ours_inflight = false;
		wb->bytes -= wi->inflight_bytes;
		wi->inflight_bytes = 0;
		note_err(n, wi, err);
		if (wi->head && wi->head->next_ext == wi->head->ex.n)
			batch_pop(wi);
		/* a stream keeps going: what came meanwhile is the next batch */
		if (!wi->head && wi->open.n)
			seal(wb, wi);
	}
	run_waiters(n, wi);
	pump(n, wi);
	admit_blocked(n);
	inode_maybe_free(n, wi);
}

bool mount_wbuf_carry(struct mount_node *n, uint64_t ino, const struct fs_caller *c,
		      const struct fs_setattr *a, struct fs_cmd *cmd)
{
	struct mount_wbuf *wb = n->wbuf;
	struct wb_inode *wi = wb ? inode_get(wb, ino, false) : NULL;
	struct fs_carried_write w;
	struct wb_batch *b;
	struct wb_ext *x;
	size_t left;

	if (!wi || wi->inflight || wi->waiters || wi->pumping)
		return false;
	left = wi->open.n;
	for (b = wi->head; b; b = b->next)
		left += b->ex.n - b->next_ext;
	if (left != 1)
		return false;
	seal(wb, wi);
	b = wi->head;
	if (b->lease_life != c->lease_life || b->lease_epoch != c->lease_epoch)
		return false; /* one command carries one lease */
	x = &b->ex.v[b->next_ext];
	w = (struct fs_carried_write){
	    .offset = x->off, .data = x->data, .len = x->len, .kill_suidgid = b->kill_suidgid};
	if (fs_cmd_write_setattr(n->fs, c, ino, &w, a, cmd) < 0)
		return false; /* sealed, still buffered: the setattr waits for it */
	/* as pump() does for a write of its own */
	b->next_ext++;
	free(x->data);
	x->data = NULL;
	wi->inflight++;
	wi->ours_inflight = true;
	wi->inflight_bytes = x->len;
	wb->stats.commands++;
	wb->stats.carried++;
	wb->stats.bytes += x->len;
	return true;
}

void mount_wbuf_stop(struct mount_node *n)
{
	if (!n->wbuf)
		return;
	n->wbuf->stopping = true;
	admit_blocked(n);
	seal_and_pump(n, true);
}

void mount_wbuf_fail_all(struct mount_node *n, int err)
{
	struct mount_wbuf *wb = n->wbuf;
	size_t pos = 0;
	uint64_t key;
	void *val;

	if (!wb)
		return;
	while (wb->blocked) {
		struct blocked *b = wb->blocked;
		wb->blocked = b->next;
		mount_reply_err(b->req, -err);
		free(b);
	}
	wb->blocked_tail = &wb->blocked;
	while (wb->reporting) {
		struct mount_wbuf_wait *w = wb->reporting;
		wb->reporting = w->next;
		mount_reply_err(w->req, -w->err);
		free(w);
	}
	while (util_u64map_next(&wb->inodes, &pos, &key, &val)) {
		struct wb_inode *wi = val;
		wi->hold++; /* freed with the rest in mount_wbuf_free */
		while (wi->waiters) {
			struct mount_wbuf_wait *w = wi->waiters;
			wi->waiters = w->next;
			w->resume(n, w, err);
		}
		wi->waiters_tail = &wi->waiters;
		if (wi->open.n || wi->head)
			LOG_WARN("write-behind: dropping unsynced writes of inode %llu",
				 (unsigned long long)wi->ino);
		exts_free(&wi->open);
		while (wi->head)
			batch_pop(wi);
	}
}

void mount_wbuf_stats(const struct mount_node *n, struct mount_wbuf_stats *out)
{
	*out = n->wbuf->stats;
}
