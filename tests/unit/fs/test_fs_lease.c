/* tests/unit/fs/test_fs_lease.c — lock leases at apply (fs/lease.c, the
 * expire release and the fence of fs/lock.c): renew and expire in the
 * namespace, the release of a dead node's locks by node and epoch, its
 * write refused when stamped with the released lease, duplicates harmless,
 * and the same state replayed on another node. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/lock.h"
#include "tests/unit/fs/fs_test.h"

#define ROOT FS_ROOT_INO

/* Runs cmd as node `node` (the top byte of its id), stamped with lease
 * (life, epoch) (0: none). */
static int as(struct tnode *n, uint32_t node, struct fs_cmd *c, struct fs_result *r)
{
	uint32_t self = n->node;
	n->node = node;
	int err = tn_do(n, c, r);
	n->node = self;
	return err;
}

static void stamp(struct tnode *n, uint64_t life, uint64_t epoch)
{
	n->who.lease_life = life;
	n->who.lease_epoch = epoch;
}

static int renew(struct tnode *n, uint32_t node, uint64_t life, uint64_t epoch, uint64_t seq,
		 struct fs_result *r)
{
	struct fs_cmd c;
	ck_assert_int_eq(fs_cmd_lease_renew(&n->who, life, epoch, seq, 1000 * epoch, &c), 0);
	return as(n, node, &c, r);
}

static int expire(struct tnode *n, uint32_t by, uint32_t node, uint64_t life, uint64_t epoch,
		  uint64_t seq, struct fs_result *r)
{
	struct fs_cmd c;
	struct fs_lease rec = {.life = life, .epoch = epoch, .seq = seq};
	ck_assert_int_eq(fs_cmd_lease_expire(&n->who, node, &rec, &c), 0);
	return as(n, by, &c, r);
}

static void expect_lease(struct tnode *n, uint32_t node, uint64_t life, uint64_t epoch,
			 uint64_t seq, bool expired)
{
	struct fs_lease l;
	ck_assert_int_eq(fs_lease_get(n->fs, node, &l), 0);
	ck_assert_uint_eq(l.life, life);
	ck_assert_uint_eq(l.epoch, epoch);
	ck_assert_uint_eq(l.seq, seq);
	ck_assert_int_eq(l.expired, expired);
}

START_TEST(a_lease_is_renewed_and_expired_in_the_namespace)
{
	struct tnode a;
	struct fs_result r;
	tn_open(&a, 1);
	struct fs_lease l;
	ck_assert_int_eq(fs_lease_get(a.fs, 2, &l), -ENOENT);

	/* node 2 renews (life 7, epoch 1) twice */
	ck_assert_int_eq(renew(&a, 2, 7, 1, 1, &r), 0);
	ck_assert(r.has_lease);
	ck_assert_uint_eq(r.lease_node, 2);
	ck_assert_int_eq(renew(&a, 2, 7, 1, 2, NULL), 0);
	expect_lease(&a, 2, 7, 1, 2, false);
	/* a late renewal of the same epoch keeps the later record */
	ck_assert_int_eq(renew(&a, 2, 7, 1, 1, NULL), 0);
	expect_lease(&a, 2, 7, 1, 2, false);
	/* node 3 judged seq 1 overdue, but seq 2 came after: no effect */
	ck_assert_int_eq(expire(&a, 3, 2, 7, 1, 1, &r), -ESTALE);
	expect_lease(&a, 2, 7, 1, 2, false);
	/* node 3 judged seq 2 overdue and nothing came after: expired */
	ck_assert_int_eq(expire(&a, 3, 2, 7, 1, 2, &r), 0);
	ck_assert(r.has_lease && r.lease.expired && r.lease_node == 2);
	expect_lease(&a, 2, 7, 1, 2, true);
	/* node 1 judged the same: a duplicate, harmless */
	ck_assert_int_eq(expire(&a, 1, 2, 7, 1, 2, &r), -ESTALE);
	expect_lease(&a, 2, 7, 1, 2, true);
	/* node 2's renewal proposed before it knew, chosen after: refused,
	 * the epoch cannot be extended any more */
	ck_assert_int_eq(renew(&a, 2, 7, 1, 3, &r), -ESTALE);
	ck_assert(r.has_lease && r.lease.expired);
	expect_lease(&a, 2, 7, 1, 2, true);
	/* a new epoch starts a new lease; the old one stays ended */
	ck_assert_int_eq(renew(&a, 2, 7, 2, 1, NULL), 0);
	expect_lease(&a, 2, 7, 2, 1, false);
	struct fs_lease got;
	ck_assert_int_eq(fs_lease_get(a.fs, 2, &got), 0);
	ck_assert_uint_eq(got.lease_ms, 2000); /* the others count by the holder's lease */
	ck_assert_int_eq(renew(&a, 2, 7, 1, 9, NULL), -ESTALE);
	/* a later life starts over at any epoch */
	ck_assert_int_eq(renew(&a, 2, 8, 1, 1, NULL), 0);
	expect_lease(&a, 2, 8, 1, 1, false);

	/* whose locks are over, by a record */
	struct fs_lease rec = {.life = 8, .epoch = 3, .seq = 1};
	struct fs_lock lk = {.life = 8, .epoch = 3};
	ck_assert(!fs_lease_ended(&rec, &lk));
	rec.expired = true;
	ck_assert(fs_lease_ended(&rec, &lk));
	lk.epoch = 4;
	ck_assert(!fs_lease_ended(&rec, &lk));
	rec.expired = false;
	lk.epoch = 2;
	ck_assert(fs_lease_ended(&rec, &lk)); /* the node moved past it */
	lk.life = 7;
	lk.epoch = 9;
	ck_assert(fs_lease_ended(&rec, &lk));
	lk.epoch = 0; /* a lease-less lock (an older daemon's) never ends so */
	ck_assert(!fs_lease_ended(&rec, &lk));

	/* lease commands belong to the namespace */
	uint64_t f = t_create(&a, ROOT, "f", 0644);
	struct fs_cmd c;
	ck_assert_int_eq(fs_cmd_lease_renew(&a.who, 8, 1, 2, 15000, &c), 0);
	c.entity = f;
	ck_assert_int_eq(as(&a, 2, &c, NULL), -EINVAL);
	ck_assert_int_eq(fs_cmd_lease_renew(&a.who, 8, 0, 2, 15000, &c), -EINVAL);
	tn_close(&a);
}
END_TEST

static int flock_on(struct tnode *n, uint32_t node, uint64_t ino, uint64_t owner, uint64_t life,
		    uint32_t type, struct fs_result *r)
{
	struct fs_cmd c;
	struct fs_lock l = {.kind = FS_LOCK_FLOCK,
			    .type = type,
			    .end = FS_LOCK_END,
			    .owner = owner,
			    .life = life,
			    .pid = 42};
	ck_assert_int_eq(fs_cmd_lock(&n->who, ino, &l, false, &c), 0);
	return as(n, node, &c, r);
}

static int write_on(struct tnode *n, uint32_t node, uint64_t ino, uint64_t off, const char *s)
{
	struct fs_cmd c;
	ck_assert_int_eq(fs_cmd_write(&n->who, ino, off, s, strlen(s), &c), 0);
	return as(n, node, &c, NULL);
}

static int release_expired(struct tnode *n, uint32_t by, uint64_t ino, uint32_t node, uint64_t life,
			   uint64_t epoch, struct fs_result *r)
{
	struct fs_cmd c;
	ck_assert_int_eq(fs_cmd_lock_release_expired(&n->who, ino, node, life, epoch, &c), 0);
	return as(n, by, &c, r);
}

static void expect_data(struct tnode *n, uint64_t ino, const char *want)
{
	size_t got;
	uint8_t *d = t_read(n, ino, 0, 64, &got);
	ck_assert_uint_eq(got, strlen(want));
	ck_assert(memcmp(d, want, got) == 0);
	free(d);
}

static int count_cb(void *arg, const struct fs_lock *l)
{
	(void)l;
	(*(int *)arg)++;
	return 0;
}

START_TEST(an_expired_lease_frees_the_locks_and_fences_the_late_writes)
{
	struct tnode a, b;
	struct fs_result r;
	struct fs_cmd c;
	tn_open(&a, 1);
	uint64_t f = t_create(&a, ROOT, "f", 0644);

	/* node 2 holds an exclusive flock under lease (life 7, epoch 1), and a
	 * lease-less POSIX lock (an older daemon's) */
	stamp(&a, 7, 1);
	ck_assert_int_eq(flock_on(&a, 2, f, 5, 7, FS_LOCK_WRITE, NULL), 0);
	stamp(&a, 0, 0);
	struct fs_lock old = {.kind = FS_LOCK_POSIX,
			      .type = FS_LOCK_WRITE,
			      .start = 100,
			      .end = 100,
			      .owner = 6,
			      .life = 7};
	ck_assert_int_eq(fs_cmd_lock(&a.who, f, &old, false, &c), 0);
	ck_assert_int_eq(as(&a, 2, &c, NULL), 0);
	int held = 0;
	ck_assert_int_eq(fs_locks_of_node(a.fs, f, 2, count_cb, &held), 0);
	ck_assert_int_eq(held, 2);
	stamp(&a, 7, 1);
	ck_assert_int_eq(write_on(&a, 2, f, 0, "node2"), 0);
	/* node 1 waits */
	stamp(&a, 3, 1);
	ck_assert_int_eq(flock_on(&a, 1, f, 9, 3, FS_LOCK_WRITE, &r), -EAGAIN);

	/* node 3 releases node 2's locks of lease (7, <= 1): the flock goes,
	 * the lease-less lock stays, waiters may try */
	stamp(&a, 0, 0);
	ck_assert_int_eq(release_expired(&a, 3, f, 2, 7, 1, &r), 0);
	ck_assert(r.unlocked);
	held = 0;
	ck_assert_int_eq(fs_locks_of_node(a.fs, f, 2, count_cb, &held), 0);
	ck_assert_int_eq(held, 1);
	/* what node 2 finds when it notices its lapse after the release */
	bool covered;
	ck_assert_int_eq(fs_locks_fenced(a.fs, f, 2, 7, 1, &covered), 0);
	ck_assert(covered);
	ck_assert_int_eq(fs_locks_fenced(a.fs, f, 2, 7, 2, &covered), 0);
	ck_assert(!covered);
	ck_assert_int_eq(fs_locks_fenced(a.fs, f, 3, 7, 1, &covered), 0);
	ck_assert(!covered);
	stamp(&a, 3, 1);
	ck_assert_int_eq(flock_on(&a, 1, f, 9, 3, FS_LOCK_WRITE, &r), 0);
	ck_assert_int_eq(write_on(&a, 1, f, 0, "NODE1"), 0);

	/* node 2's write and truncate proposed under (7, 1), chosen after the
	 * release: refused, node 1's data stands */
	stamp(&a, 7, 1);
	ck_assert_int_eq(write_on(&a, 2, f, 0, "late!"), -EIO);
	ck_assert_int_eq(fs_cmd_truncate(&a.who, f, 0, &c), 0);
	ck_assert_int_eq(as(&a, 2, &c, NULL), -EIO);
	/* ... and so are its lock commands under that lease (earlier lives too) */
	ck_assert_int_eq(flock_on(&a, 2, f, 5, 7, FS_LOCK_READ, NULL), -EIO);
	stamp(&a, 6, 4);
	ck_assert_int_eq(write_on(&a, 2, f, 0, "older"), -EIO);
	expect_data(&a, f, "NODE1");
	/* unlocks and releases of the old lease still go through */
	stamp(&a, 7, 1);
	ck_assert_int_eq(flock_on(&a, 2, f, 5, 7, FS_LOCK_UNLOCK, NULL), 0);

	/* a duplicate release (node 1 judged the same): nothing changes */
	struct store_apply_meta before, after;
	ck_assert_int_eq(fs_applied(a.fs, f, &before), 0);
	stamp(&a, 0, 0);
	ck_assert_int_eq(release_expired(&a, 1, f, 2, 7, 1, &r), 0);
	ck_assert(!r.unlocked);
	ck_assert_int_eq(fs_applied(a.fs, f, &after), 0);
	ck_assert_uint_eq(before.state_digest, after.state_digest);
	/* an older one is no lower fence either */
	ck_assert_int_eq(release_expired(&a, 1, f, 2, 6, 9, &r), 0);
	stamp(&a, 7, 1);
	ck_assert_int_eq(write_on(&a, 2, f, 0, "late!"), -EIO);

	/* node 2 in its next lease (7, 2), and unstamped: accepted */
	stamp(&a, 7, 2);
	ck_assert_int_eq(write_on(&a, 2, f, 5, "+e2"), 0);
	stamp(&a, 0, 0);
	ck_assert_int_eq(write_on(&a, 2, f, 8, "+0"), 0);
	expect_data(&a, f, "NODE1+e2+0");
	/* other nodes are not fenced by node 2's release */
	stamp(&a, 3, 1);
	ck_assert_int_eq(write_on(&a, 3, f, 10, "!"), 0);
	/* a release needs a node and an epoch */
	ck_assert_int_eq(fs_cmd_lock_release_expired(&a.who, f, 2, 7, 0, &c), -EINVAL);
	ck_assert_int_eq(fs_cmd_lock_release_expired(&a.who, f, 256, 7, 1, &c), -EINVAL);

	/* the fence survives the last lock of the file going */
	stamp(&a, 0, 0);
	uint64_t o = 6;
	ck_assert_int_eq(fs_cmd_lock_release(&a.who, f, 7, &o, 1, 1u << FS_LOCK_POSIX, &c), 0);
	ck_assert_int_eq(as(&a, 2, &c, NULL), 0);
	ck_assert_int_eq(flock_on(&a, 1, f, 9, 3, FS_LOCK_UNLOCK, NULL), 0);
	stamp(&a, 7, 1);
	ck_assert_int_eq(write_on(&a, 2, f, 0, "late!"), -EIO);

	/* another node applying the same log refuses the same, holds the same */
	tn_open(&b, 3);
	tn_replay(&b, &a);
	struct store_apply_meta ma, mb;
	ck_assert_int_eq(fs_applied(a.fs, f, &ma), 0);
	ck_assert_int_eq(fs_applied(b.fs, f, &mb), 0);
	ck_assert_uint_eq(ma.state_digest, mb.state_digest);
	uint64_t d;
	ck_assert_int_eq(fs_digest_recompute(b.fs, f, &d), 0);
	ck_assert_uint_eq(d, mb.state_digest);
	expect_data(&b, f, "NODE1+e2+0!");
	tn_close(&b);
	tn_close(&a);
}
END_TEST

START_TEST(the_table_keeps_epochs_and_fences)
{
	struct fs_locks t, u;
	uint8_t *buf;
	size_t len;
	fs_locks_init(&t);
	struct fs_lock l = {.kind = FS_LOCK_FLOCK,
			    .type = FS_LOCK_READ,
			    .end = FS_LOCK_END,
			    .node = 4,
			    .life = 7,
			    .owner = 1,
			    .epoch = 3};
	ck_assert_int_eq(fs_locks_set(&t, &l, NULL, NULL), 0);
	ck_assert_int_eq(fs_locks_fence(&t, 9, 1, 1), 1);
	ck_assert_int_eq(fs_locks_fence(&t, 2, 5, 5), 1);
	ck_assert_int_eq(fs_locks_fence(&t, 2, 5, 4), 0);
	ck_assert_int_eq(fs_locks_fence(&t, 2, 5, 6), 1);
	ck_assert_uint_eq(t.n_fences, 2);
	ck_assert_uint_eq(t.fences[0].node, 2);
	ck_assert_int_eq(fs_locks_encode(&t, &buf, &len), 0);
	ck_assert_int_eq(fs_locks_decode(buf, len, &u), 0);
	free(buf);
	ck_assert_uint_eq(u.n, 1);
	ck_assert_uint_eq(u.v[0].epoch, 3);
	ck_assert_uint_eq(u.n_fences, 2);
	ck_assert_uint_eq(fs_locks_fence_of(&u, 2)->epoch, 6);
	ck_assert_uint_eq(fs_locks_fence_of(&u, 9)->life, 1);
	ck_assert(fs_locks_fence_of(&u, 4) == NULL);
	/* release by lease: epoch 3 of life 7 is at or below (7, 3), not (7, 2) */
	ck_assert_uint_eq(fs_locks_release_expired(&u, 4, 7, 2), 0);
	ck_assert_uint_eq(fs_locks_release_expired(&u, 4, 6, 9), 0);
	ck_assert_uint_eq(fs_locks_release_expired(&u, 3, 7, 3), 0);
	ck_assert_uint_eq(fs_locks_release_expired(&u, 4, 7, 3), 1);
	fs_locks_close(&u);
	/* fences out of order do not decode */
	struct fs_fence sw = t.fences[0];
	t.fences[0] = t.fences[1];
	t.fences[1] = sw;
	ck_assert_int_eq(fs_locks_encode(&t, &buf, &len), 0);
	ck_assert_int_eq(fs_locks_decode(buf, len, &u), -EBADMSG);
	free(buf);
	fs_locks_close(&t);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("fs lease");
	TEST_CASE(s, a_lease_is_renewed_and_expired_in_the_namespace, 10);
	TEST_CASE(s, an_expired_lease_frees_the_locks_and_fences_the_late_writes, 10);
	TEST_CASE(s, the_table_keeps_epochs_and_fences, 10);
	return s;
}
