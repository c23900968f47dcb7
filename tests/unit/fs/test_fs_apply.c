/* tests/unit/fs/test_fs_apply.c — what fs_apply promises beyond one
 * command: a value applies atomically (all its commands, or nothing), an
 * applied entry re-applied changes nothing, entries go in order, a file's
 * entry before its creation waits (-EAGAIN), unlink + reclaim, damage
 * (undecodable values, records failing their checksum) makes that entity
 * alone answer EIO, a failed store write applies nothing, state survives a
 * reopen, and the listing of entities for paxfs-verify. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "fs/keys.h"
#include "proto/command.pb-c.h"
#include "tests/unit/fs/fs_test.h"
#include "util/budget.h"
#include "util/crc32c.h"

#define ROOT FS_ROOT_INO

START_TEST(several_commands_in_one_value_apply_in_order_and_together)
{
	struct tnode n;
	struct fs_cmd c[4];
	size_t got;
	tn_open(&n, 2);
	/* namespace: the third command sees what the first two made */
	uint64_t d = 2u << 8 | 2; /* the second inode this node makes */
	ck_assert_int_eq(fs_cmd_create(&n.who, ROOT, "a", 0644, true, &c[0]), 0);
	ck_assert_int_eq(fs_cmd_mkdir(&n.who, ROOT, "d", 0755, &c[1]), 0);
	ck_assert_int_eq(fs_cmd_create(&n.who, d, "x", 0644, true, &c[2]), 0);
	ck_assert_int_eq(fs_cmd_create(&n.who, ROOT, "a", 0644, true, &c[3]), 0);
	ck_assert_int_eq(tn_apply_many(&n, FS_NAMESPACE, c, 4), 0);
	ck_assert_uint_eq(n.out.n_results, 4);
	ck_assert_int_eq(n.out.results[0].err, 0);
	ck_assert_uint_eq(n.out.results[1].ino, d);
	ck_assert_int_eq(n.out.results[2].err, 0);
	ck_assert_int_eq(n.out.results[3].err, -EEXIST);
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(n.out.results[i].cmd_id >> 56, 2);
	uint64_t x = t_lookup(&n, d, "x");
	ck_assert_uint_eq(x, n.out.results[2].ino);
	t_digest(&n, FS_NAMESPACE);
	t_digest(&n, x);

	/* a file: write, append, truncate, write, in one value */
	ck_assert_int_eq(fs_cmd_write(&n.who, x, 0, "abcdef", 6, &c[0]), 0);
	ck_assert_int_eq(fs_cmd_append(&n.who, x, "gh", 2, &c[1]), 0);
	ck_assert_int_eq(fs_cmd_truncate(&n.who, x, 3, &c[2]), 0);
	ck_assert_int_eq(fs_cmd_append(&n.who, x, "Z", 1, &c[3]), 0);
	ck_assert_int_eq(tn_apply_many(&n, x, c, 4), 0);
	ck_assert_uint_eq(n.out.results[1].offset, 6);
	ck_assert_uint_eq(n.out.results[3].offset, 3);
	uint8_t *b = t_read(&n, x, 0, 100, &got);
	ck_assert_uint_eq(got, 4);
	ck_assert_mem_eq(b, "abcZ", 4);
	free(b);
	ck_assert_int_eq(t_stat(&n, x).st_blocks, 8);
	t_digest(&n, x);
	tn_close(&n);
}
END_TEST

START_TEST(a_failed_store_write_applies_nothing)
{
	struct tnode n;
	struct fs_cmd c[2];
	struct store_apply_meta before, after;
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	ck_assert_int_eq(fs_applied(n.fs, FS_NAMESPACE, &before), 0);
	ck_assert_int_eq(fs_cmd_create(&n.who, ROOT, "g", 0644, true, &c[0]), 0);
	ck_assert_int_eq(fs_cmd_unlink(&n.who, ROOT, "f", &c[1]), 0);
	uint64_t ids[2] = {1ull << 56 | 100, 1ull << 56 | 101};
	uint8_t *v;
	size_t len;
	ck_assert_int_eq(fs_value_encode(ids, c, 2, &v, &len), 0);
	t_fail_writes = -ENOSPC;
	ck_assert_int_eq(fs_apply(n.fs, FS_NAMESPACE, before.applied_entry + 1, v, len, &n.out),
			 -ENOSPC);
	ck_assert_uint_eq(n.out.n_results, 0);
	t_fail_writes = -EIO;
	ck_assert_int_eq(fs_apply(n.fs, FS_NAMESPACE, before.applied_entry + 1, v, len, &n.out),
			 -EIO);
	t_fail_writes = 0;
	ck_assert_int_eq(fs_applied(n.fs, FS_NAMESPACE, &after), 0);
	ck_assert_uint_eq(after.applied_entry, before.applied_entry);
	ck_assert_uint_eq(after.state_digest, before.state_digest);
	ck_assert_int_eq(e_lookup(&n, ROOT, "g"), -ENOENT);
	ck_assert_int_eq(e_lookup(&n, ROOT, "f"), 0);
	ck_assert(!fs_entity_bad(n.fs, FS_NAMESPACE));
	/* the same entry, once the disk has room */
	ck_assert_int_eq(fs_apply(n.fs, FS_NAMESPACE, before.applied_entry + 1, v, len, &n.out), 0);
	ck_assert_int_eq(n.out.results[0].err, 0);
	ck_assert_int_eq(n.out.results[1].err, 0);
	ck_assert_int_eq(e_lookup(&n, ROOT, "g"), 0);
	ck_assert_int_eq(e_lookup(&n, ROOT, "f"), -ENOENT);
	ck_assert_uint_eq(n.out.n_unlinked, 1);
	ck_assert_uint_eq(n.out.unlinked[0], f);
	t_digest(&n, FS_NAMESPACE);
	free(v);
	for (int i = 0; i < 2; i++)
		fs_cmd_close(&c[i]);
	tn_close(&n);
}
END_TEST

START_TEST(reapplying_an_applied_entry_changes_nothing)
{
	struct tnode n;
	struct fs_cmd c;
	struct store_apply_meta am, am2;
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	ck_assert_int_eq(fs_cmd_append(&n.who, f, "abc", 3, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	size_t ei = n.nlog - 1;
	const struct tentry *e = &n.log[ei];
	ck_assert_int_eq(fs_applied(n.fs, f, &am), 0);
	ck_assert_uint_eq(am.applied_entry, 1);
	/* the same append again as entry 1: skipped, not appended twice */
	ck_assert_int_eq(fs_apply(n.fs, f, 1, e->value, e->len, &n.out), 0);
	ck_assert(n.out.skipped);
	ck_assert_uint_eq(n.out.n_results, 0);
	ck_assert_int_eq(t_stat(&n, f).st_size, 3);
	ck_assert_int_eq(fs_applied(n.fs, f, &am2), 0);
	ck_assert_mem_eq(&am, &am2, sizeof(am));
	/* an entry from the future: refused, nothing applied */
	ck_assert_int_eq(fs_apply(n.fs, f, 3, e->value, e->len, &n.out), -EINVAL);
	ck_assert_int_eq(t_stat(&n, f).st_size, 3);
	/* the namespace's create re-applied: no second file */
	const struct tentry *ce = &n.log[0];
	ck_assert_uint_eq(ce->entity, FS_NAMESPACE);
	ck_assert_int_eq(fs_apply(n.fs, FS_NAMESPACE, ce->entry, ce->value, ce->len, &n.out), 0);
	ck_assert(n.out.skipped);
	char *l = t_list(&n, ROOT);
	ck_assert_str_eq(l, "f\n");
	free(l);
	/* a no-op value advances the cursor; the chain is crc32c(c, value),
	 * which an empty value leaves as it was */
	ck_assert_int_eq(tn_apply_raw(&n, f, 2, (const uint8_t *)"", 0), 0);
	ck_assert_int_eq(fs_applied(n.fs, f, &am2), 0);
	ck_assert_uint_eq(am2.applied_entry, 2);
	ck_assert_uint_eq(am2.chain_crc, am.chain_crc);
	ck_assert_uint_eq(am2.state_digest, am.state_digest);
	ck_assert_int_eq(fs_cmd_append(&n.who, f, "d", 1, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	ck_assert_int_eq(fs_applied(n.fs, f, &am2), 0);
	ck_assert_uint_eq(am2.applied_entry, 3);
	ck_assert_uint_eq(am2.chain_crc, util_crc32c(am.chain_crc, n.log[n.nlog - 1].value,
						     n.log[n.nlog - 1].len));
	e = &n.log[ei]; /* the log may have moved */
	ck_assert_int_eq(fs_apply(n.fs, 0, 1, e->value, e->len, &n.out), -EINVAL);
	tn_close(&n);
}
END_TEST

START_TEST(a_file_entry_before_its_create_waits)
{
	struct tnode a, b;
	tn_open(&a, 1);
	tn_open(&b, 2);
	uint64_t f = t_create(&a, ROOT, "f", 0644);
	t_write(&a, f, 0, "data", 4);
	ck_assert_uint_eq(a.nlog, 2);
	const struct tentry *create = &a.log[0], *write = &a.log[1];
	struct store_apply_meta am;
	/* b learns the file's entry first */
	ck_assert_int_eq(fs_apply(b.fs, f, 1, write->value, write->len, &b.out), -EAGAIN);
	ck_assert_int_eq(fs_applied(b.fs, f, &am), -ENOENT);
	struct stat st;
	ck_assert_int_eq(fs_getattr(b.fs, f, &st), -ENOENT);
	ck_assert_int_eq(fs_apply(b.fs, FS_NAMESPACE, 1, create->value, create->len, &b.out), 0);
	ck_assert_int_eq(fs_apply(b.fs, f, 1, write->value, write->len, &b.out), 0);
	ck_assert_int_eq(b.out.results[0].err, 0);
	ck_assert_int_eq(t_stat(&b, f).st_size, 4);
	ck_assert_uint_eq(t_digest(&a, f), t_digest(&b, f));
	ck_assert_uint_eq(t_digest(&a, FS_NAMESPACE), t_digest(&b, FS_NAMESPACE));
	tn_close(&a);
	tn_close(&b);
}
END_TEST

static int count_cb(void *arg, const struct fs_entity_info *info)
{
	struct fs_entity_info *out = arg;
	for (int i = 0; i < 16; i++)
		if (out[i].entity == 0) {
			out[i] = *info;
			break;
		}
	return 0;
}

static const struct fs_entity_info *info_of(const struct fs_entity_info *l, uint64_t e)
{
	for (int i = 0; i < 16; i++)
		if (l[i].entity == e)
			return &l[i];
	return NULL;
}

START_TEST(unlink_then_reclaim_then_later_entries_are_no_ops)
{
	struct tnode n;
	struct fs_cmd c;
	struct store_apply_meta am;
	static uint8_t data[3 * 4096];
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	uint64_t g = t_create(&n, ROOT, "g", 0644);
	t_write(&n, f, 0, data, sizeof(data));
	ck_assert_int_eq(fs_cmd_setxattr(n.fs, &n.who, f, "user.x", "1", 1, 0, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	ck_assert_int_eq(fs_reclaim(n.fs, f), -EBUSY); /* still linked */
	t_unlink(&n, ROOT, "f");
	ck_assert_uint_eq(n.out.n_unlinked, 1);
	size_t before = t_count_state(&n);
	ck_assert_int_eq(fs_reclaim(n.fs, f), 0);
	/* attributes, three chunks, one xattr: gone; nothing else */
	ck_assert_uint_eq(t_count_state(&n), before - 5 + 1 /* tombstone */);
	struct stat st;
	ck_assert_int_eq(fs_getattr(n.fs, f, &st), -ENOENT);
	ck_assert_int_eq(fs_reclaim(n.fs, f), 0); /* idempotent */
	ck_assert_int_eq(fs_applied(n.fs, f, &am), 0);
	ck_assert_uint_eq(am.state_digest, 0);
	uint64_t d;
	ck_assert_int_eq(fs_digest_recompute(n.fs, f, &d), 0);
	ck_assert_uint_eq(d, 0);

	/* a write another node still made: consumed, chain advances */
	uint64_t entry = am.applied_entry + 1;
	ck_assert_int_eq(fs_cmd_write(&n.who, f, 0, "late", 4, &c), 0);
	ck_assert_int_eq(tn_apply(&n, &c, NULL), 0);
	ck_assert(n.out.noop);
	ck_assert_int_eq(fs_applied(n.fs, f, &am), 0);
	ck_assert_uint_eq(am.applied_entry, entry);
	ck_assert_int_eq(fs_getattr(n.fs, f, &st), -ENOENT);

	/* a file bigger than one reclaim batch (1024 keys) */
	static uint8_t mib[1 << 20];
	uint64_t big = t_create(&n, ROOT, "big", 0644);
	for (int i = 0; i < 5; i++)
		t_write(&n, big, (uint64_t)i << 20, mib, sizeof(mib));
	t_unlink(&n, ROOT, "big");
	before = t_count_state(&n);
	ck_assert_int_eq(fs_reclaim(n.fs, big), 0);
	ck_assert_uint_eq(t_count_state(&n), before - 1 - 1280 + 1);
	char path[16];
	ck_assert_int_eq(fs_path(n.fs, big, path, sizeof(path)), -ENOENT);

	ck_assert_int_eq(fs_reclaim(n.fs, 1), -EINVAL);
	ck_assert_int_eq(fs_reclaim(n.fs, 99u << 8 | 1), -ENOENT);
	ck_assert_int_eq(fs_reclaim(n.fs, g), -EBUSY);

	/* paxfs-verify's view */
	struct fs_entity_info list[16];
	memset(list, 0, sizeof(list));
	t_put_paxos_meta(&n, 50u << 8 | 4); /* a file not created yet */
	ck_assert_int_eq(fs_entities(n.fs, 0, count_cb, list), 0);
	ck_assert_uint_eq(list[0].entity, FS_NAMESPACE);
	ck_assert_int_eq(list[0].state, FS_ENTITY_LIVE);
	ck_assert_int_eq(info_of(list, f)->state, FS_ENTITY_DEAD);
	ck_assert_int_eq(info_of(list, g)->state, FS_ENTITY_LIVE);
	ck_assert(info_of(list, g)->has_meta);
	ck_assert_int_eq(info_of(list, 50u << 8 | 4)->state, FS_ENTITY_PENDING);
	ck_assert_ptr_null(info_of(list, 7));
	memset(list, 0, sizeof(list));
	ck_assert_int_eq(fs_entities(n.fs, f, count_cb, list), 0);
	ck_assert_uint_eq(list[0].entity, g);
	tn_close(&n);
}
END_TEST

START_TEST(an_undecodable_value_makes_that_entity_alone_refuse_service)
{
	struct tnode n;
	struct fs_cmd c;
	uint8_t buf[8];
	size_t got;
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	uint64_t g = t_create(&n, ROOT, "g", 0644);
	t_write(&n, f, 0, "ok", 2);
	const uint8_t garbage[] = {0xff, 0xff, 0xff, 0x01, 0x02};
	ck_assert_int_eq(fs_apply(n.fs, f, 2, garbage, sizeof(garbage), &n.out), -EBADMSG);
	ck_assert(fs_entity_bad(n.fs, f));
	ck_assert_int_eq(fs_read(n.fs, f, 0, 2, buf, &got), -EIO);
	struct stat st;
	ck_assert_int_eq(fs_getattr(n.fs, f, &st), -EIO);
	ck_assert_int_eq(fs_cmd_write(&n.who, f, 0, "x", 1, &c), 0);
	ck_assert_int_eq(tn_apply(&n, &c, NULL), -EIO);
	/* the others are fine */
	t_write(&n, g, 0, "fine", 4);
	ck_assert_int_eq(t_stat(&n, g).st_size, 4);
	ck_assert_int_eq(e_mkdir(&n, ROOT, "d"), 0);
	/* the mark survives a restart */
	tn_reopen(&n);
	ck_assert(fs_entity_bad(n.fs, f));
	ck_assert_int_eq(fs_read(n.fs, f, 0, 2, buf, &got), -EIO);
	ck_assert_int_eq(fs_read(n.fs, g, 0, 4, buf, &got), 0);

	/* a command of an unknown version, or with no operation, likewise */
	Paxfs__Command m = PAXFS__COMMAND__INIT;
	Paxfs__Write w = PAXFS__WRITE__INIT;
	m.version = 2;
	m.op_case = PAXFS__COMMAND__OP_WRITE;
	m.write = &w;
	t_pack(&m.base, g, &c);
	ck_assert_int_eq(tn_apply(&n, &c, NULL), -EBADMSG);
	ck_assert(fs_entity_bad(n.fs, g));
	/* a good command before a bad one in the same value: neither applies */
	uint64_t h = t_create(&n, ROOT, "h", 0644);
	struct store_apply_meta before, after;
	uint64_t d0, d1;
	ck_assert_int_eq(fs_applied(n.fs, h, &before), 0);
	ck_assert_int_eq(fs_digest_recompute(n.fs, h, &d0), 0);
	struct fs_cmd two[2];
	ck_assert_int_eq(fs_cmd_write(&n.who, h, 0, "zz", 2, &two[0]), 0);
	m.version = 1;
	m.op_case = PAXFS__COMMAND__OP__NOT_SET;
	t_pack(&m.base, h, &two[1]);
	ck_assert_int_eq(tn_apply_many(&n, h, two, 2), -EBADMSG);
	ck_assert(fs_entity_bad(n.fs, h));
	ck_assert_int_eq(fs_applied(n.fs, h, &after), 0);
	ck_assert_mem_eq(&before, &after, sizeof(before));
	ck_assert_int_eq(fs_digest_recompute(n.fs, h, &d1), 0);
	ck_assert_uint_eq(d0, d1);
	ck_assert(!fs_entity_bad(n.fs, FS_NAMESPACE));

	struct fs_entity_info list[16];
	memset(list, 0, sizeof(list));
	ck_assert_int_eq(fs_entities(n.fs, 0, count_cb, list), 0);
	ck_assert_int_eq(info_of(list, f)->state, FS_ENTITY_BAD);
	ck_assert_ptr_nonnull(strstr(info_of(list, f)->reason, "decode"));
	tn_close(&n);
}
END_TEST

/* A value comes from a peer: one of 2 MiB whose commands are empty
 * (2 bytes each on the wire, ~130 in memory as protobuf-c structs) must not
 * cost hundreds of megabytes to find out that it is bad. */
START_TEST(a_value_that_would_decode_into_too_much_memory_is_refused_cheaply)
{
	struct tnode n;
	struct rusage before, after;
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	size_t len = 2u << 20;
	uint8_t *v = malloc(len);
	ck_assert(v != NULL);
	for (size_t i = 0; i < len; i += 2) {
		v[i] = 1 << 3 | 2; /* Value.cmds (field 1), length-delimited */
		v[i + 1] = 0;      /* an empty ValueCmd */
	}
	getrusage(RUSAGE_SELF, &before);
	ck_assert_int_eq(fs_apply(n.fs, f, 1, v, len, &n.out), -EBADMSG);
	getrusage(RUSAGE_SELF, &after);
	ck_assert(fs_entity_bad(n.fs, f));
	long grew_mib = (after.ru_maxrss - before.ru_maxrss) / 1024;
	/* at most the budget (util/budget.h); ASan's allocator counts otherwise */
	const char *san = getenv("PAXFS_SANITIZE");
	if (!san || strcmp(san, "yes") != 0)
		ck_assert_msg(grew_mib <= (long)(util_decode_limit(len) >> 20),
			      "decoding took %ld MiB more (budget %zu MiB)", grew_mib,
			      util_decode_limit(len) >> 20);
	free(v);
	tn_close(&n);
}
END_TEST

START_TEST(a_damaged_record_gives_ebadmsg_then_eio_for_that_entity_only)
{
	struct tnode n;
	struct fs_key k;
	struct fs_cmd c;
	uint8_t buf[16];
	size_t got;
	uint64_t d;
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	uint64_t g = t_create(&n, ROOT, "g", 0644);
	uint64_t h = t_create(&n, ROOT, "h", 0644);
	t_write(&n, f, 0, "0123456789", 10);
	t_write(&n, g, 0, "0123456789", 10);
	t_write(&n, h, 0, "0123456789", 10);

	/* f: a damaged data chunk, found by a read */
	fs_key_chunk(&k, f, 0);
	t_corrupt_state(&n, k.b, k.len);
	ck_assert_int_eq(fs_read(n.fs, f, 0, 10, buf, &got), -EIO);
	ck_assert(fs_entity_bad(n.fs, f));
	ck_assert_int_eq(fs_cmd_write(&n.who, f, 0, "x", 1, &c), 0);
	ck_assert_int_eq(tn_apply(&n, &c, NULL), -EIO);

	/* g: damaged attributes, found by the next apply */
	fs_key_attr(&k, g);
	t_corrupt_state(&n, k.b, k.len);
	ck_assert_int_eq(fs_cmd_write(&n.who, g, 0, "x", 1, &c), 0);
	ck_assert_int_eq(tn_apply(&n, &c, NULL), -EBADMSG);
	ck_assert(fs_entity_bad(n.fs, g));
	ck_assert_int_eq(fs_cmd_write(&n.who, g, 0, "x", 1, &c), 0);
	ck_assert_int_eq(tn_apply(&n, &c, NULL), -EIO);
	ck_assert_int_eq(fs_read(n.fs, g, 0, 10, buf, &got), -EIO);

	/* h: damage found by a deep verify */
	fs_key_chunk(&k, h, 0);
	t_corrupt_state(&n, k.b, k.len);
	ck_assert_int_eq(fs_digest_recompute(n.fs, h, &d), -EBADMSG);
	ck_assert(fs_entity_bad(n.fs, h));

	/* the rest of the file system works */
	ck_assert(!fs_entity_bad(n.fs, FS_NAMESPACE));
	uint64_t x = t_create(&n, ROOT, "x", 0644);
	t_write(&n, x, 0, "still", 5);
	ck_assert_int_eq(fs_read(n.fs, x, 0, 5, buf, &got), 0);
	ck_assert_mem_eq(buf, "still", 5);
	/* a damaged file can still be unlinked and reclaimed */
	t_unlink(&n, ROOT, "g");
	ck_assert_int_eq(fs_reclaim(n.fs, g), 0);
	tn_close(&n);
}
END_TEST

START_TEST(a_damaged_namespace_record_stops_the_namespace_not_the_files)
{
	struct tnode n;
	struct fs_key k;
	uint8_t buf[8];
	size_t got;
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	t_write(&n, f, 0, "abc", 3);
	fs_key_dirent(&k, ROOT, "f", 1);
	t_corrupt_state(&n, k.b, k.len);
	ck_assert_int_eq(e_lookup(&n, ROOT, "f"), -EIO);
	ck_assert(fs_entity_bad(n.fs, FS_NAMESPACE));
	struct fs_cmd c;
	ck_assert_int_eq(fs_cmd_mkdir(&n.who, ROOT, "d", 0755, &c), 0);
	ck_assert_int_eq(tn_apply(&n, &c, NULL), -EIO);
	/* the file's own entity still applies; reads of it need the namespace */
	t_write(&n, f, 3, "d", 1);
	ck_assert_int_eq(fs_read(n.fs, f, 0, 4, buf, &got), -EIO);
	tn_close(&n);
}
END_TEST

START_TEST(state_and_cursors_survive_a_reopen)
{
	struct tnode n;
	struct store_apply_meta ns1, f1, ns2, f2;
	size_t got;
	tn_open(&n, 1);
	uint64_t d = t_mkdir(&n, ROOT, "d", 0755);
	uint64_t f = t_create(&n, d, "f", 0644);
	t_write(&n, f, 4096 * 3, "tail", 4);
	t_symlink(&n, d, "s", "f");
	ck_assert_int_eq(fs_applied(n.fs, FS_NAMESPACE, &ns1), 0);
	ck_assert_int_eq(fs_applied(n.fs, f, &f1), 0);
	tn_reopen(&n);
	ck_assert_int_eq(fs_applied(n.fs, FS_NAMESPACE, &ns2), 0);
	ck_assert_int_eq(fs_applied(n.fs, f, &f2), 0);
	ck_assert_mem_eq(&ns1, &ns2, sizeof(ns1));
	ck_assert_mem_eq(&f1, &f2, sizeof(f1));
	ck_assert_uint_eq(t_lookup(&n, d, "f"), f);
	uint8_t *b = t_read(&n, f, 4096 * 3, 10, &got);
	ck_assert_uint_eq(got, 4);
	ck_assert_mem_eq(b, "tail", 4);
	free(b);
	/* the counter too: the next inode is a new one */
	uint64_t g = t_create(&n, ROOT, "g", 0644);
	ck_assert_uint_eq(g, 4u << 8 | 1);
	t_digest(&n, FS_NAMESPACE);
	tn_close(&n);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("fs apply");
	TEST_CASE(s, several_commands_in_one_value_apply_in_order_and_together, 10);
	TEST_CASE(s, a_failed_store_write_applies_nothing, 10);
	TEST_CASE(s, reapplying_an_applied_entry_changes_nothing, 10);
	TEST_CASE(s, a_file_entry_before_its_create_waits, 10);
	TEST_CASE(s, unlink_then_reclaim_then_later_entries_are_no_ops, 10);
	TEST_CASE(s, an_undecodable_value_makes_that_entity_alone_refuse_service, 10);
	TEST_CASE(s, a_value_that_would_decode_into_too_much_memory_is_refused_cheaply, 30);
	TEST_CASE(s, a_damaged_record_gives_ebadmsg_then_eio_for_that_entity_only, 10);
	TEST_CASE(s, a_damaged_namespace_record_stops_the_namespace_not_the_files, 10);
	TEST_CASE(s, state_and_cursors_survive_a_reopen, 10);
	return s;
}
