/* fs/lock.c — the lock table of a regular file (fs/lock.h) and the lock
 * commands (Lock, LockRelease) applied to it.
 *
 * A holder's POSIX locks on one file, before and after F_SETLK(F_UNLCK,
 * 10..19) and then F_SETLK(F_RDLCK, 20..29):
 *
 *   0         10        20        30
 *   [====W=========================]        one write lock 0..29
 *   [==W====]          [====W======]        unlock 10..19 splits it
 *   [==W====]          [====R======]        20..29 downgraded in place
 *
 * The whole table is one record, rewritten by each lock command: tables
 * are small (a handful of holders), and one record keeps the apply simple
 * and the digest exact.
 */
#include "fs/lock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/apply_int.h"
#include "fs/fs_int.h"
#include "fs/keys.h"
#include "fs/txn.h"
#include "proto/fs.pb-c.h"

void fs_locks_init(struct fs_locks *t)
{
	memset(t, 0, sizeof(*t));
}

void fs_locks_close(struct fs_locks *t)
{
	free(t->v);
	free(t->fences);
	memset(t, 0, sizeof(*t));
}

static bool same_holder(const struct fs_lock *a, const struct fs_lock *b)
{
	return a->kind == b->kind && a->node == b->node && a->life == b->life &&
	       a->owner == b->owner;
}

static bool overlaps(const struct fs_lock *a, const struct fs_lock *b)
{
	return a->start <= b->end && b->start <= a->end;
}

/* a ends right before b starts (no overflow at FS_LOCK_END). */
static bool touches(const struct fs_lock *a, const struct fs_lock *b)
{
	return a->end != FS_LOCK_END && a->end + 1 == b->start;
}

static int cmp_lock(const void *x, const void *y)
{
	const struct fs_lock *a = x, *b = y;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->node != b->node)
		return a->node < b->node ? -1 : 1;
	if (a->life != b->life)
		return a->life < b->life ? -1 : 1;
	if (a->owner != b->owner)
		return a->owner < b->owner ? -1 : 1;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return 0;
}

static bool valid(const struct fs_lock *l, bool unlock_ok)
{
	if (l->kind != FS_LOCK_POSIX && l->kind != FS_LOCK_FLOCK)
		return false;
	if (l->type != FS_LOCK_READ && l->type != FS_LOCK_WRITE &&
	    !(unlock_ok && l->type == FS_LOCK_UNLOCK))
		return false;
	return l->start <= l->end;
}

const struct fs_lock *fs_locks_conflict(const struct fs_locks *t, const struct fs_lock *want)
{
	if (want->type == FS_LOCK_UNLOCK)
		return NULL;
	for (size_t i = 0; i < t->n; i++) {
		const struct fs_lock *l = &t->v[i];
		if (l->kind != want->kind || same_holder(l, want) || !overlaps(l, want))
			continue;
		if (l->type == FS_LOCK_WRITE || want->type == FS_LOCK_WRITE)
			return l;
	}
	return NULL;
}

int fs_locks_set(struct fs_locks *t, const struct fs_lock *want, struct fs_lock *conflict,
		 bool *unlocked)
{
	const struct fs_lock *cl;
	struct fs_lock nl = *want, *v;
	size_t n = 0, cap = t->n * 2 + 2; /* a lock splits in at most two, plus the new one */
	bool freed = false;

	if (unlocked)
		*unlocked = false;
	if (!valid(want, true))
		return -EINVAL;
	if ((cl = fs_locks_conflict(t, want))) {
		if (conflict)
			*conflict = *cl;
		return -EAGAIN;
	}
	if (!(v = malloc(cap * sizeof(*v))))
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		struct fs_lock l = t->v[i];
		if (!same_holder(&l, want)) {
			v[n++] = l;
			continue;
		}
		/* Merge a neighbour of the same type into the new lock. */
		if (want->type == l.type &&
		    (overlaps(&l, &nl) || touches(&l, &nl) || touches(&nl, &l))) {
			nl.start = l.start < nl.start ? l.start : nl.start;
			nl.end = l.end > nl.end ? l.end : nl.end;
			continue;
		}
		if (!overlaps(&l, want)) {
			v[n++] = l;
			continue;
		}
		/* The parts outside the range stay; the part inside is replaced. */
		if (l.type == FS_LOCK_WRITE || want->type == FS_LOCK_UNLOCK)
			freed = true;
		if (l.start < want->start) {
			v[n] = l;
			v[n++].end = want->start - 1;
		}
		if (l.end > want->end) {
			v[n] = l;
			v[n++].start = want->end + 1;
		}
	}
	if (want->type != FS_LOCK_UNLOCK)
		v[n++] = nl;
	if (n > FS_LOCKS_MAX) {
		free(v);
		return -ENOLCK;
	}
	qsort(v, n, sizeof(*v), cmp_lock);
	free(t->v);
	t->v = v;
	t->n = n;
	t->cap = cap;
	if (unlocked)
		*unlocked = freed;
	return 0;
}

size_t fs_locks_release(struct fs_locks *t, uint32_t node, uint64_t life, const uint64_t *owners,
			size_t n, uint32_t kinds)
{
	size_t kept = 0, gone = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct fs_lock *l = &t->v[i];
		bool drop = false;
		if (l->node == node && l->life == life && l->kind < 32 && (kinds & (1u << l->kind)))
			for (size_t j = 0; j < n && !drop; j++)
				drop = owners[j] == l->owner;
		if (drop)
			gone++;
		else
			t->v[kept++] = *l;
	}
	t->n = kept;
	return gone;
}

size_t fs_locks_release_stale(struct fs_locks *t, uint32_t node, uint64_t life)
{
	size_t kept = 0, gone = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].node == node && t->v[i].life < life)
			gone++;
		else
			t->v[kept++] = t->v[i];
	}
	t->n = kept;
	return gone;
}

size_t fs_locks_release_expired(struct fs_locks *t, uint32_t node, uint64_t life, uint64_t epoch)
{
	size_t kept = 0, gone = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct fs_lock *l = &t->v[i];
		if (l->node == node && l->epoch != 0 &&
		    fs_lease_cmp(l->life, l->epoch, life, epoch) <= 0)
			gone++;
		else
			t->v[kept++] = *l;
	}
	t->n = kept;
	return gone;
}

const struct fs_fence *fs_locks_fence_of(const struct fs_locks *t, uint32_t node)
{
	for (size_t i = 0; i < t->n_fences; i++)
		if (t->fences[i].node == node)
			return &t->fences[i];
	return NULL;
}

int fs_locks_fence(struct fs_locks *t, uint32_t node, uint64_t life, uint64_t epoch)
{
	struct fs_fence *f = (struct fs_fence *)fs_locks_fence_of(t, node), *v;
	size_t i;

	if (f) {
		if (fs_lease_cmp(life, epoch, f->life, f->epoch) <= 0)
			return 0;
		f->life = life;
		f->epoch = epoch;
		return 1;
	}
	if (!(v = realloc(t->fences, (t->n_fences + 1) * sizeof(*v))))
		return -ENOMEM;
	t->fences = v;
	for (i = t->n_fences; i > 0 && v[i - 1].node > node; i--)
		v[i] = v[i - 1];
	v[i] = (struct fs_fence){.node = node, .life = life, .epoch = epoch};
	t->n_fences++;
	return 1;
}

int fs_locks_decode(const void *val, size_t len, struct fs_locks *t)
{
	Paxfs__FsLocks *m = paxfs__fs_locks__unpack(NULL, len, val);
	int rc = 0;

	fs_locks_init(t);
	if (!m)
		return -EBADMSG;
	if (m->n_locks > FS_LOCKS_MAX) {
		rc = -EBADMSG;
		goto out;
	}
	if (m->n_locks && !(t->v = calloc(m->n_locks, sizeof(*t->v)))) {
		rc = -ENOMEM;
		goto out;
	}
	t->cap = m->n_locks;
	for (size_t i = 0; i < m->n_locks; i++) {
		const Paxfs__FsLock *x = m->locks[i];
		struct fs_lock l = {.kind = x->kind,
				    .type = x->type,
				    .start = x->start,
				    .end = x->end,
				    .node = x->node,
				    .life = x->life,
				    .owner = x->owner,
				    .pid = x->pid,
				    .epoch = x->epoch};
		if (!valid(&l, false)) {
			rc = -EBADMSG;
			goto out;
		}
		if (i > 0) {
			const struct fs_lock *p = &t->v[i - 1];
			/* canonical order; one holder's locks apart, never mergeable */
			if (cmp_lock(p, &l) >= 0 ||
			    (same_holder(p, &l) &&
			     (overlaps(p, &l) || (p->type == l.type && touches(p, &l))))) {
				rc = -EBADMSG;
				goto out;
			}
		}
		t->v[t->n++] = l;
	}
	if (m->n_fences > 256) {
		rc = -EBADMSG;
		goto out;
	}
	if (m->n_fences && !(t->fences = calloc(m->n_fences, sizeof(*t->fences)))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < m->n_fences; i++) {
		const Paxfs__FsFence *x = m->fences[i];
		if (x->node > 255 || (i > 0 && t->fences[i - 1].node >= x->node)) {
			rc = -EBADMSG;
			goto out;
		}
		t->fences[t->n_fences++] =
		    (struct fs_fence){.node = x->node, .life = x->life, .epoch = x->epoch};
	}
out:
	paxfs__fs_locks__free_unpacked(m, NULL);
	if (rc < 0)
		fs_locks_close(t);
	return rc;
}

int fs_locks_encode(const struct fs_locks *t, uint8_t **buf, size_t *len)
{
	Paxfs__FsLocks m;
	Paxfs__FsLock *msgs = calloc(t->n ? t->n : 1, sizeof(*msgs));
	Paxfs__FsLock **ptrs = calloc(t->n ? t->n : 1, sizeof(*ptrs));
	Paxfs__FsFence *fmsgs = calloc(t->n_fences ? t->n_fences : 1, sizeof(*fmsgs));
	Paxfs__FsFence **fptrs = calloc(t->n_fences ? t->n_fences : 1, sizeof(*fptrs));
	int rc = 0;

	if (!msgs || !ptrs || !fmsgs || !fptrs) {
		rc = -ENOMEM;
		goto out;
	}
	paxfs__fs_locks__init(&m);
	for (size_t i = 0; i < t->n; i++) {
		const struct fs_lock *l = &t->v[i];
		paxfs__fs_lock__init(&msgs[i]);
		msgs[i].kind = l->kind;
		msgs[i].type = l->type;
		msgs[i].start = l->start;
		msgs[i].end = l->end;
		msgs[i].node = l->node;
		msgs[i].owner = l->owner;
		msgs[i].pid = l->pid;
		msgs[i].life = l->life;
		msgs[i].epoch = l->epoch;
		ptrs[i] = &msgs[i];
	}
	m.n_locks = t->n;
	m.locks = ptrs;
	for (size_t i = 0; i < t->n_fences; i++) {
		paxfs__fs_fence__init(&fmsgs[i]);
		fmsgs[i].node = t->fences[i].node;
		fmsgs[i].life = t->fences[i].life;
		fmsgs[i].epoch = t->fences[i].epoch;
		fptrs[i] = &fmsgs[i];
	}
	m.n_fences = t->n_fences;
	m.fences = fptrs;
	*len = paxfs__fs_locks__get_packed_size(&m);
	if (!(*buf = malloc(*len ? *len : 1))) {
		rc = -ENOMEM;
		goto out;
	}
	paxfs__fs_locks__pack(&m, *buf);
out:
	free(msgs);
	free(ptrs);
	free(fmsgs);
	free(fptrs);
	return rc;
}

/* ---- the table in the store -------------------------------------------- */

/* t NULL: the store. A damaged table is damage of the entity. */
static int table_load(struct fs *fs, struct fs_txn *t, uint64_t ino, struct fs_locks *out)
{
	struct fs_key k;
	void *val;
	size_t len;
	int rc;

	fs_locks_init(out);
	fs_key_make(&k, ino, FS_TAG_LOCKS, NULL, NULL, 0);
	rc = fs_get(fs, t, k.b, k.len, &val, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	rc = fs_locks_decode(val, len, out);
	free(val);
	if (rc == -EBADMSG) {
		fs_mark_bad(fs, ino, "its lock table does not decode");
		if (t)
			fs_txn_fail(t, rc);
	}
	return rc;
}

static int table_store(struct fs_txn *t, uint64_t ino, const struct fs_locks *tab)
{
	struct fs_key k;
	uint8_t *buf;
	size_t len;
	int rc;

	fs_key_make(&k, ino, FS_TAG_LOCKS, NULL, NULL, 0);
	if (tab->n == 0 && tab->n_fences == 0)
		return fs_txn_del(t, k.b, k.len);
	if ((rc = fs_locks_encode(tab, &buf, &len)) < 0) {
		fs_txn_fail(t, rc);
		return rc;
	}
	rc = fs_txn_put(t, k.b, k.len, buf, len);
	free(buf);
	return rc;
}

static int apply_lock(struct fs_actx *c, struct fs_locks *tab, const Paxfs__Lock *m)
{
	struct fs_lock want = {.kind = m->kind,
			       .type = m->type,
			       .start = m->start,
			       .end = m->end,
			       .node = c->node,
			       .life = m->life,
			       .owner = m->owner,
			       .pid = m->pid,
			       .epoch = c->cmd->lease_epoch};
	const struct fs_lock *cl;
	const struct fs_fence *f;
	int rc;

	if (want.kind == FS_LOCK_FLOCK) {
		want.start = 0;
		want.end = FS_LOCK_END;
	}
	if (!valid(&want, !m->test))
		return -EINVAL;
	if (m->test) {
		if ((cl = fs_locks_conflict(tab, &want))) {
			c->res->has_lock = true;
			c->res->lock = *cl;
		}
		return 0;
	}
	/* A lock asked under a lease this file has released: chosen after
	 * the release, it would hand the node a lock it no longer holds. */
	if (want.type != FS_LOCK_UNLOCK && want.epoch != 0 &&
	    (f = fs_locks_fence_of(tab, c->node)) &&
	    fs_lease_cmp(c->cmd->lease_life, want.epoch, f->life, f->epoch) <= 0)
		return -EIO;
	rc = fs_locks_set(tab, &want, &c->res->lock, &c->res->unlocked);
	if (rc == -EAGAIN)
		c->res->has_lock = true;
	if (rc == -ENOMEM)
		fs_txn_fail(c->t, rc);
	if (rc < 0)
		return rc;
	return table_store(c->t, c->entity, tab);
}

int fs_apply_lock(struct fs_actx *c)
{
	const Paxfs__Command *cmd = c->cmd;
	struct fs_locks tab;
	int rc = table_load(c->fs, c->t, c->entity, &tab);

	if (rc < 0)
		return rc;
	if (cmd->op_case == PAXFS__COMMAND__OP_LOCK) {
		rc = apply_lock(c, &tab, cmd->lock);
	} else {
		const Paxfs__LockRelease *r = cmd->lock_release;
		size_t gone;
		int rose = 0;
		if (r->expire) {
			if (r->expire_node > 255 || r->expire_epoch == 0) {
				fs_locks_close(&tab);
				return -EINVAL;
			}
			gone = fs_locks_release_expired(&tab, r->expire_node, r->life,
							r->expire_epoch);
			rose = fs_locks_fence(&tab, r->expire_node, r->life, r->expire_epoch);
			if (rose < 0) {
				fs_txn_fail(c->t, rose);
				fs_locks_close(&tab);
				return rose;
			}
		} else {
			gone = r->stale ? fs_locks_release_stale(&tab, c->node, r->life)
					: fs_locks_release(&tab, c->node, r->life, r->owners,
							   r->n_owners, r->kinds);
		}
		rc = 0;
		if (gone > 0)
			c->res->unlocked = true;
		if (gone > 0 || rose > 0) {
			rc = table_store(c->t, c->entity, &tab);
		}
	}
	fs_locks_close(&tab);
	return rc;
}

int fs_locks_of_node(struct fs *fs, uint64_t ino, uint32_t node, fs_lock_cb cb, void *arg)
{
	struct fs_locks tab;
	int rc;

	if (fs_serviceable(fs, ino) < 0)
		return -EIO;
	if ((rc = table_load(fs, NULL, ino, &tab)) < 0)
		return fs_read_err(rc);
	for (size_t i = 0; i < tab.n && rc == 0; i++)
		if (tab.v[i].node == node)
			rc = cb(arg, &tab.v[i]);
	fs_locks_close(&tab);
	return rc;
}

int fs_lease_check_fence(struct fs_actx *c)
{
	struct fs_locks tab;
	const struct fs_fence *f;
	int rc;

	if (c->cmd->lease_epoch == 0)
		return 0;
	if ((rc = table_load(c->fs, c->t, c->entity, &tab)) < 0)
		return rc;
	f = fs_locks_fence_of(&tab, c->node);
	rc = f && fs_lease_cmp(c->cmd->lease_life, c->cmd->lease_epoch, f->life, f->epoch) <= 0
		 ? -EIO
		 : 0;
	fs_locks_close(&tab);
	return rc;
}

int fs_locks_fenced(struct fs *fs, uint64_t ino, uint32_t node, uint64_t life, uint64_t epoch,
		    bool *covered)
{
	struct fs_locks tab;
	const struct fs_fence *f;
	int rc;

	*covered = false;
	if (fs_serviceable(fs, ino) < 0)
		return -EIO;
	if ((rc = table_load(fs, NULL, ino, &tab)) < 0)
		return fs_read_err(rc);
	f = fs_locks_fence_of(&tab, node);
	*covered = f && fs_lease_cmp(life, epoch, f->life, f->epoch) <= 0;
	fs_locks_close(&tab);
	return 0;
}
