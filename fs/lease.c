/* fs/lease.c — the lock leases of the nodes, in the namespace: one record
 * per node (FsLease, key 1 'L' node:8), moved only by LeaseRenew and
 * LeaseExpire, so every node agrees on whose lease ended and at which epoch.
 *
 * Time is not in here: the proposer of an expire judged the lease overdue
 * by its own clock; the apply only checks that no renewal came after the
 * one it judged (the seq it names), which orders the two in one log. A
 * record once expired at (life, epoch) refuses every renewal at or below
 * it, so the node must start a new epoch and cannot extend the old one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/apply_int.h"
#include "fs/fs_int.h"
#include "fs/keys.h"
#include "fs/txn.h"
#include "proto/command.pb-c.h"
#include "proto/fs.pb-c.h"

int fs_lease_cmp(uint64_t life_a, uint64_t epoch_a, uint64_t life_b, uint64_t epoch_b)
{
	if (life_a != life_b)
		return life_a < life_b ? -1 : 1;
	if (epoch_a != epoch_b)
		return epoch_a < epoch_b ? -1 : 1;
	return 0;
}

bool fs_lease_ended(const struct fs_lease *rec, const struct fs_lock *l)
{
	int c;
	if (l->epoch == 0)
		return false;
	c = fs_lease_cmp(l->life, l->epoch, rec->life, rec->epoch);
	return c < 0 || (c == 0 && rec->expired);
}

static void lease_key(struct fs_key *k, uint32_t node)
{
	uint64_t id = node;
	fs_key_make(k, FS_NAMESPACE, FS_TAG_LEASE, &id, NULL, 0);
}

/* t NULL: the store. -ENOENT: no record; -EBADMSG: damaged. */
static int lease_load(struct fs *fs, struct fs_txn *t, uint32_t node, struct fs_lease *out)
{
	struct fs_key k;
	Paxfs__FsLease *m;
	void *val;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	lease_key(&k, node);
	if ((rc = fs_get(fs, t, k.b, k.len, &val, &len)) < 0)
		return rc;
	m = paxfs__fs_lease__unpack(NULL, len, val);
	free(val);
	if (!m) {
		fs_mark_bad(fs, FS_NAMESPACE, "the lease record of node %u does not decode", node);
		if (t)
			fs_txn_fail(t, -EBADMSG);
		return -EBADMSG;
	}
	out->life = m->life;
	out->epoch = m->epoch;
	out->seq = m->seq;
	out->expired = m->expired;
	out->lease_ms = m->lease_ms;
	paxfs__fs_lease__free_unpacked(m, NULL);
	return 0;
}

static int lease_store(struct fs_txn *t, uint32_t node, const struct fs_lease *l)
{
	Paxfs__FsLease m;
	struct fs_key k;
	uint8_t buf[64];
	size_t len;

	paxfs__fs_lease__init(&m);
	m.life = l->life;
	m.epoch = l->epoch;
	m.seq = l->seq;
	m.expired = l->expired;
	m.lease_ms = l->lease_ms;
	len = paxfs__fs_lease__pack(&m, buf); /* 5 fields: at most 45 bytes */
	lease_key(&k, node);
	return fs_txn_put(t, k.b, k.len, buf, len);
}

int fs_lease_get(struct fs *fs, uint32_t node, struct fs_lease *out)
{
	int rc;
	if (fs_serviceable(fs, FS_NAMESPACE) < 0)
		return -EIO;
	rc = lease_load(fs, NULL, node, out);
	return rc == -ENOENT ? rc : fs_read_err(rc);
}

/* The outcome of a lease command: the record after it, for the daemon's
 * view of the leases (mount/lease.c). */
static int lease_result(struct fs_actx *c, uint32_t node, const struct fs_lease *rec, int rc)
{
	c->res->has_lease = true;
	c->res->lease_node = node;
	c->res->lease = *rec;
	return rc;
}

static int apply_renew(struct fs_actx *c, const Paxfs__LeaseRenew *m)
{
	struct fs_lease rec,
	    want = {.life = m->life, .epoch = m->epoch, .seq = m->seq, .lease_ms = m->lease_ms};
	int rc = lease_load(c->fs, c->t, c->node, &rec);
	int cmp;

	if (m->epoch == 0)
		return -EINVAL;
	if (rc == -ENOENT)
		return lease_result(c, c->node, &want, lease_store(c->t, c->node, &want));
	if (rc < 0)
		return rc;
	cmp = fs_lease_cmp(m->life, m->epoch, rec.life, rec.epoch);
	/* An epoch the node left, or one that expired: gone for good. */
	if (cmp < 0 || (cmp == 0 && rec.expired))
		return lease_result(c, c->node, &rec, -ESTALE);
	/* A late renewal of the current epoch: the record keeps the later. */
	if (cmp == 0 && m->seq <= rec.seq)
		return lease_result(c, c->node, &rec, 0);
	return lease_result(c, c->node, &want, lease_store(c->t, c->node, &want));
}

static int apply_expire(struct fs_actx *c, const Paxfs__LeaseExpire *m)
{
	struct fs_lease rec;
	int rc;

	if (m->node > 255)
		return -EINVAL;
	rc = lease_load(c->fs, c->t, m->node, &rec);
	if (rc == -ENOENT)
		return -ESTALE;
	if (rc < 0)
		return rc;
	if (rec.expired || rec.life != m->life || rec.epoch != m->epoch || rec.seq != m->seq)
		return lease_result(c, m->node, &rec, -ESTALE);
	rec.expired = true;
	return lease_result(c, m->node, &rec, lease_store(c->t, m->node, &rec));
}

int fs_apply_lease(struct fs_actx *c)
{
	if (c->cmd->op_case == PAXFS__COMMAND__OP_LEASE_RENEW)
		return apply_renew(c, c->cmd->lease_renew);
	return apply_expire(c, c->cmd->lease_expire);
}
