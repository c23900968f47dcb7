/* tests/unit/fs/test_fs_lock.c — the lock table of a file (fs/lock.h):
 * conflicts, POSIX ranges that split and merge, upgrade and downgrade,
 * flock, release by holder; and the lock commands through fs_apply, with
 * commands from two nodes, replayed on a third to the same state. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/lock.h"
#include "tests/unit/fs/fs_test.h"

#define ROOT FS_ROOT_INO
#define END  FS_LOCK_END

static struct fs_lock px(uint32_t node, uint64_t owner, uint32_t type, uint64_t start, uint64_t end)
{
	return (struct fs_lock){.kind = FS_LOCK_POSIX,
				.type = type,
				.start = start,
				.end = end,
				.node = node,
				.owner = owner,
				.pid = 100 + (uint32_t)owner};
}

static struct fs_lock fl(uint32_t node, uint64_t owner, uint32_t type)
{
	struct fs_lock l = px(node, owner, type, 0, END);
	l.kind = FS_LOCK_FLOCK;
	return l;
}

static int set(struct fs_locks *t, struct fs_lock l)
{
	return fs_locks_set(t, &l, NULL, NULL);
}

/* The table holds exactly these (kind POSIX, in order): "type:start-end". */
static void expect(const struct fs_locks *t, size_t n, const struct fs_lock *want)
{
	ck_assert_uint_eq(t->n, n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(t->v[i].kind, want[i].kind);
		ck_assert_uint_eq(t->v[i].type, want[i].type);
		ck_assert_uint_eq(t->v[i].start, want[i].start);
		ck_assert_uint_eq(t->v[i].end, want[i].end);
		ck_assert_uint_eq(t->v[i].node, want[i].node);
		ck_assert_uint_eq(t->v[i].owner, want[i].owner);
	}
}

START_TEST(posix_ranges_split_and_merge)
{
	struct fs_locks t;
	bool unlocked;
	fs_locks_init(&t);
	ck_assert_int_eq(set(&t, px(1, 7, FS_LOCK_WRITE, 0, 99)), 0);
	/* unlock in the middle splits */
	struct fs_lock u = px(1, 7, FS_LOCK_UNLOCK, 10, 19);
	ck_assert_int_eq(fs_locks_set(&t, &u, NULL, &unlocked), 0);
	ck_assert(unlocked);
	expect(&t, 2,
	       (struct fs_lock[]){px(1, 7, FS_LOCK_WRITE, 0, 9), px(1, 7, FS_LOCK_WRITE, 20, 99)});
	/* filling the hole merges the three into one */
	ck_assert_int_eq(set(&t, px(1, 7, FS_LOCK_WRITE, 10, 19)), 0);
	expect(&t, 1, (struct fs_lock[]){px(1, 7, FS_LOCK_WRITE, 0, 99)});
	/* adjacent of the same type merges; of another type does not */
	ck_assert_int_eq(set(&t, px(1, 7, FS_LOCK_WRITE, 100, 109)), 0);
	ck_assert_int_eq(set(&t, px(1, 7, FS_LOCK_READ, 110, END)), 0);
	expect(
	    &t, 2,
	    (struct fs_lock[]){px(1, 7, FS_LOCK_WRITE, 0, 109), px(1, 7, FS_LOCK_READ, 110, END)});
	/* downgrade in the middle: three pieces, and waiters may go */
	struct fs_lock d = px(1, 7, FS_LOCK_READ, 50, 59);
	ck_assert_int_eq(fs_locks_set(&t, &d, NULL, &unlocked), 0);
	ck_assert(unlocked);
	expect(&t, 4,
	       (struct fs_lock[]){px(1, 7, FS_LOCK_WRITE, 0, 49), px(1, 7, FS_LOCK_READ, 50, 59),
				  px(1, 7, FS_LOCK_WRITE, 60, 109),
				  px(1, 7, FS_LOCK_READ, 110, END)});
	/* upgrading back frees nothing */
	struct fs_lock up = px(1, 7, FS_LOCK_WRITE, 50, 59);
	ck_assert_int_eq(fs_locks_set(&t, &up, NULL, &unlocked), 0);
	ck_assert(!unlocked);
	expect(
	    &t, 2,
	    (struct fs_lock[]){px(1, 7, FS_LOCK_WRITE, 0, 109), px(1, 7, FS_LOCK_READ, 110, END)});
	/* unlock of everything from 0 to the end */
	ck_assert_int_eq(set(&t, px(1, 7, FS_LOCK_UNLOCK, 0, END)), 0);
	ck_assert_uint_eq(t.n, 0);
	/* unlock of nothing is fine and frees nothing */
	ck_assert_int_eq(fs_locks_set(&t, &u, NULL, &unlocked), 0);
	ck_assert(!unlocked);
	fs_locks_close(&t);
}
END_TEST

START_TEST(conflicts_between_holders)
{
	struct fs_locks t;
	struct fs_lock c;
	fs_locks_init(&t);
	ck_assert_int_eq(set(&t, px(1, 7, FS_LOCK_READ, 0, 99)), 0);
	/* shared with shared: fine, on any node */
	ck_assert_int_eq(set(&t, px(2, 7, FS_LOCK_READ, 50, 149)), 0);
	/* exclusive over a shared range of another holder: EAGAIN, names it */
	struct fs_lock w = px(2, 8, FS_LOCK_WRITE, 90, 95);
	ck_assert_int_eq(fs_locks_set(&t, &w, &c, NULL), -EAGAIN);
	ck_assert_uint_eq(c.node, 1);
	ck_assert_uint_eq(c.owner, 7);
	ck_assert_uint_eq(c.pid, 107);
	ck_assert_uint_eq(c.start, 0);
	ck_assert_uint_eq(c.end, 99);
	/* outside every lock: fine */
	ck_assert_int_eq(set(&t, px(2, 8, FS_LOCK_WRITE, 150, 199)), 0);
	/* the same owner number on another node is another holder */
	ck_assert_int_eq(set(&t, px(2, 7, FS_LOCK_WRITE, 60, 60)), -EAGAIN);
	/* upgrade refused: the holder keeps its shared lock unchanged */
	ck_assert_int_eq(set(&t, px(1, 7, FS_LOCK_WRITE, 0, 99)), -EAGAIN);
	ck_assert_uint_eq(t.n, 3);
	ck_assert(fs_locks_conflict(&t, &(struct fs_lock){.kind = FS_LOCK_POSIX,
							  .type = FS_LOCK_READ,
							  .start = 0,
							  .end = 10,
							  .node = 3,
							  .owner = 1}) == NULL);
	/* flock locks do not meet POSIX locks */
	ck_assert_int_eq(set(&t, fl(3, 1, FS_LOCK_WRITE)), 0);
	ck_assert_int_eq(set(&t, fl(3, 2, FS_LOCK_READ)), -EAGAIN);
	ck_assert_int_eq(set(&t, fl(3, 1, FS_LOCK_READ)), 0); /* downgrade */
	ck_assert_int_eq(set(&t, fl(3, 2, FS_LOCK_READ)), 0);
	ck_assert_int_eq(set(&t, fl(3, 2, FS_LOCK_WRITE)), -EAGAIN); /* upgrade blocked */
	ck_assert_int_eq(set(&t, fl(3, 1, FS_LOCK_UNLOCK)), 0);
	ck_assert_int_eq(set(&t, fl(3, 2, FS_LOCK_WRITE)), 0); /* now alone: upgraded */
	/* bad arguments */
	ck_assert_int_eq(set(&t, px(1, 7, 9, 0, 1)), -EINVAL);
	ck_assert_int_eq(set(&t, px(1, 7, FS_LOCK_READ, 5, 4)), -EINVAL);
	fs_locks_close(&t);
}
END_TEST

START_TEST(release_by_holder_and_the_table_bound)
{
	struct fs_locks t;
	fs_locks_init(&t);
	ck_assert_int_eq(set(&t, px(1, 7, FS_LOCK_WRITE, 0, 9)), 0);
	ck_assert_int_eq(set(&t, px(1, 8, FS_LOCK_WRITE, 10, 19)), 0);
	ck_assert_int_eq(set(&t, px(2, 7, FS_LOCK_WRITE, 20, 29)), 0);
	ck_assert_int_eq(set(&t, fl(1, 7, FS_LOCK_WRITE)), 0);
	uint64_t o7 = 7, both[2] = {7, 8};
	ck_assert_uint_eq(fs_locks_release(&t, 1, 0, &o7, 1, 1u << FS_LOCK_POSIX), 1);
	ck_assert_uint_eq(t.n, 3);
	ck_assert_uint_eq(
	    fs_locks_release(&t, 1, 0, both, 2, (1u << FS_LOCK_POSIX) | (1u << FS_LOCK_FLOCK)), 2);
	expect(&t, 1, (struct fs_lock[]){px(2, 7, FS_LOCK_WRITE, 20, 29)});
	/* one holder alternating types cannot grow the table past the bound */
	int rc = 0;
	for (uint64_t i = 0; i < FS_LOCKS_MAX + 10 && rc == 0; i++)
		rc = set(&t, px(3, 1, i % 2 ? FS_LOCK_READ : FS_LOCK_WRITE, 100 + i, 100 + i));
	ck_assert_int_eq(rc, -ENOLCK);
	ck_assert_uint_eq(t.n, FS_LOCKS_MAX);
	/* the record round-trips, and a damaged order is refused */
	uint8_t *buf;
	size_t len;
	struct fs_locks back;
	ck_assert_int_eq(fs_locks_encode(&t, &buf, &len), 0);
	ck_assert_int_eq(fs_locks_decode(buf, len, &back), 0);
	expect(&back, t.n, t.v);
	for (size_t i = 0; i < t.n; i++)
		ck_assert_uint_eq(back.v[i].pid, t.v[i].pid);
	free(buf);
	struct fs_lock tmp = back.v[0];
	back.v[0] = back.v[1];
	back.v[1] = tmp;
	ck_assert_int_eq(fs_locks_encode(&back, &buf, &len), 0);
	fs_locks_close(&back);
	ck_assert_int_eq(fs_locks_decode(buf, len, &back), -EBADMSG);
	free(buf);
	fs_locks_close(&t);
}
END_TEST

START_TEST(a_restarted_node_drops_the_locks_of_its_earlier_lives)
{
	struct fs_locks t;
	fs_locks_init(&t);
	struct fs_lock old = px(1, 7, FS_LOCK_WRITE, 0, 9), now = px(1, 7, FS_LOCK_WRITE, 0, 9);
	old.life = 5;
	now.life = 9;
	ck_assert_int_eq(set(&t, old), 0);
	/* the same owner number in a later life is another holder */
	ck_assert_int_eq(set(&t, now), -EAGAIN);
	now.start = now.end = 10;
	ck_assert_int_eq(set(&t, now), 0);
	ck_assert_int_eq(set(&t, px(2, 7, FS_LOCK_WRITE, 20, 29)), 0);
	/* releasing owner 7 of life 9 leaves life 5's lock */
	uint64_t o7 = 7;
	ck_assert_uint_eq(fs_locks_release(&t, 1, 9, &o7, 1, 1u << FS_LOCK_POSIX), 1);
	ck_assert_uint_eq(t.n, 2);
	ck_assert_int_eq(set(&t, now), 0);
	/* the stale release of life 9 drops life 5 only, and only node 1's */
	ck_assert_uint_eq(fs_locks_release_stale(&t, 1, 9), 1);
	ck_assert_uint_eq(t.n, 2);
	ck_assert_uint_eq(t.v[0].life, 9);
	ck_assert_uint_eq(t.v[1].node, 2);
	ck_assert_uint_eq(fs_locks_release_stale(&t, 1, 9), 0);
	fs_locks_close(&t);
}
END_TEST

/* A lock command from `node` on `ino`. */
static int lock_on(struct tnode *n, uint32_t node, uint64_t ino, struct fs_lock l, bool test,
		   struct fs_result *r)
{
	struct fs_cmd c;
	uint32_t self = n->node;
	ck_assert_int_eq(fs_cmd_lock(&n->who, ino, &l, test, &c), 0);
	n->node = node;
	int err = tn_do(n, &c, r);
	n->node = self;
	return err;
}

static int count_cb(void *arg, const struct fs_lock *l)
{
	(void)l;
	(*(int *)arg)++;
	return 0;
}

START_TEST(lock_commands_decide_at_apply_the_same_on_every_node)
{
	struct tnode a, b;
	struct fs_result r;
	struct fs_cmd c;
	tn_open(&a, 1);
	uint64_t f = t_create(&a, ROOT, "f", 0644);

	/* node 1 takes an exclusive flock; node 2's is refused, naming it */
	ck_assert_int_eq(lock_on(&a, 1, f, fl(0, 5, FS_LOCK_WRITE), false, &r), 0);
	ck_assert(!r.unlocked);
	ck_assert_int_eq(lock_on(&a, 2, f, fl(0, 5, FS_LOCK_WRITE), false, &r), -EAGAIN);
	ck_assert(r.has_lock);
	ck_assert_uint_eq(r.lock.node, 1);
	ck_assert_uint_eq(r.lock.owner, 5);
	/* POSIX: node 2 holds 0..9; F_GETLK from node 1 sees it; nothing changes */
	ck_assert_int_eq(lock_on(&a, 2, f, px(0, 9, FS_LOCK_WRITE, 0, 9), false, &r), 0);
	ck_assert_int_eq(lock_on(&a, 1, f, px(0, 3, FS_LOCK_READ, 5, 5), true, &r), 0);
	ck_assert(r.has_lock);
	ck_assert_uint_eq(r.lock.node, 2);
	ck_assert_uint_eq(r.lock.type, FS_LOCK_WRITE);
	ck_assert_uint_eq(r.lock.end, 9);
	ck_assert_uint_eq(r.lock.pid, 109);
	ck_assert_int_eq(lock_on(&a, 1, f, px(0, 3, FS_LOCK_READ, 10, 20), true, &r), 0);
	ck_assert(!r.has_lock);
	ck_assert_int_eq(lock_on(&a, 1, f, px(0, 3, FS_LOCK_READ, 5, 5), false, &r), -EAGAIN);
	int held = 0;
	ck_assert_int_eq(fs_locks_of_node(a.fs, f, 2, count_cb, &held), 0);
	ck_assert_int_eq(held, 1);
	/* node 2 releases its owner's POSIX locks (close): node 1 may go on */
	uint64_t o = 9;
	ck_assert_int_eq(fs_cmd_lock_release(&a.who, f, 0, &o, 1, 1u << FS_LOCK_POSIX, &c), 0);
	a.node = 2;
	ck_assert_int_eq(tn_do(&a, &c, &r), 0);
	a.node = 1;
	ck_assert(r.unlocked);
	ck_assert_int_eq(lock_on(&a, 1, f, px(0, 3, FS_LOCK_READ, 5, 5), false, &r), 0);
	/* the release of node 2 did not touch node 1's flock (same owner number) */
	ck_assert_int_eq(lock_on(&a, 2, f, fl(0, 9, FS_LOCK_READ), false, &r), -EAGAIN);
	/* node 2 restarted (life 1): its stale release drops what life 0 held */
	ck_assert_int_eq(lock_on(&a, 2, f, px(0, 11, FS_LOCK_WRITE, 100, 100), false, &r), 0);
	ck_assert_int_eq(lock_on(&a, 3, f, px(0, 12, FS_LOCK_WRITE, 100, 100), false, &r), -EAGAIN);
	ck_assert_int_eq(fs_cmd_lock_release_stale(&a.who, f, 1, &c), 0);
	a.node = 2;
	ck_assert_int_eq(tn_do(&a, &c, &r), 0);
	a.node = 1;
	ck_assert(r.unlocked);
	ck_assert_int_eq(lock_on(&a, 3, f, px(0, 12, FS_LOCK_WRITE, 100, 100), false, &r), 0);
	/* a lock command to the namespace, or with a bad type, is refused */
	ck_assert_int_eq(
	    fs_cmd_lock(&a.who, f, &(struct fs_lock){.kind = FS_LOCK_POSIX}, false, &c), -EINVAL);
	struct fs_lock ok = px(0, 1, FS_LOCK_READ, 0, 0);
	ck_assert_int_eq(fs_cmd_lock(&a.who, f, &ok, false, &c), 0);
	c.entity = FS_NAMESPACE;
	ck_assert_int_eq(tn_do(&a, &c, NULL), -EINVAL);

	/* a second node applying the same log holds the same table and digest */
	tn_open(&b, 3);
	tn_replay(&b, &a);
	struct store_apply_meta ma, mb;
	ck_assert_int_eq(fs_applied(a.fs, f, &ma), 0);
	ck_assert_int_eq(fs_applied(b.fs, f, &mb), 0);
	ck_assert_uint_eq(ma.state_digest, mb.state_digest);
	ck_assert_uint_eq(ma.chain_crc, mb.chain_crc);
	uint64_t d;
	ck_assert_int_eq(fs_digest_recompute(b.fs, f, &d), 0);
	ck_assert_uint_eq(d, mb.state_digest);
	held = 0;
	ck_assert_int_eq(fs_locks_of_node(b.fs, f, 1, count_cb, &held), 0);
	ck_assert_int_eq(held, 2); /* the flock and the POSIX read lock */
	tn_close(&b);
	tn_close(&a);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("fs lock");
	TEST_CASE(s, posix_ranges_split_and_merge, 10);
	TEST_CASE(s, conflicts_between_holders, 10);
	TEST_CASE(s, release_by_holder_and_the_table_bound, 30);
	TEST_CASE(s, a_restarted_node_drops_the_locks_of_its_earlier_lives, 10);
	TEST_CASE(s, lock_commands_decide_at_apply_the_same_on_every_node, 10);
	return s;
}
