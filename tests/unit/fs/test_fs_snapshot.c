/* tests/unit/fs/test_fs_snapshot.c — an entity's state exported as a
 * stream of bounded chunks and installed on another node: same digest, same
 * reads, the log continues on top; the namespace's install creates the files
 * it names from their birth records and reports the ones it no longer
 * names; a stale export, a damaged or tampered stream, an interrupted
 * install are refused and never served. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/fs.pb-c.h"
#include "tests/unit/fs/fs_test.h"

#define ROOT FS_ROOT_INO

struct stream {
	uint8_t *buf[512];
	size_t len[512];
	int n;
};

static void export_all(struct tnode *n, uint64_t entity, size_t max, struct stream *s)
{
	struct fs_export *e;
	bool last = false;
	memset(s, 0, sizeof(*s));
	ck_assert_int_eq(fs_export_open(n->fs, entity, &e), 0);
	while (!last) {
		ck_assert_int_lt(s->n, 512);
		ck_assert_int_eq(fs_export_next(e, max, &s->buf[s->n], &s->len[s->n], &last), 0);
		/* bounded: a chunk is about max bytes, one record over at most */
		ck_assert_uint_le(s->len[s->n], max + FS_CHUNK_SIZE + 512);
		s->n++;
	}
	uint8_t *extra;
	size_t len;
	ck_assert_int_eq(fs_export_next(e, max, &extra, &len, &last), -EINVAL);
	fs_export_free(e);
}

static void stream_free(struct stream *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->buf[i]);
}

static int install_all(struct tnode *n, uint64_t entity, const struct stream *s,
		       struct fs_apply_out *out)
{
	struct fs_install *in;
	int rc;
	ck_assert_int_eq(fs_install_open(n->fs, entity, &in), 0);
	for (int i = 0; i < s->n; i++)
		if ((rc = fs_install_chunk(in, s->buf[i], s->len[i])) < 0) {
			fs_install_free(in);
			return rc;
		}
	rc = fs_install_finish(in, out);
	fs_install_free(in);
	return rc;
}

static void same_meta(struct tnode *a, struct tnode *b, uint64_t e)
{
	struct store_apply_meta ma, mb;
	ck_assert_int_eq(fs_applied(a->fs, e, &ma), 0);
	ck_assert_int_eq(fs_applied(b->fs, e, &mb), 0);
	ck_assert_uint_eq(ma.applied_entry, mb.applied_entry);
	ck_assert_uint_eq(ma.chain_crc, mb.chain_crc);
	ck_assert_uint_eq(ma.state_digest, mb.state_digest);
	ck_assert_uint_eq(t_digest(a, e), t_digest(b, e));
}

/* Replays a's log entries of one entity onto b, from entry `from`. */
static void replay_entity(struct tnode *b, const struct tnode *a, uint64_t e, uint64_t from)
{
	for (size_t i = 0; i < a->nlog; i++)
		if (a->log[i].entity == e && a->log[i].entry >= from)
			ck_assert_int_eq(fs_apply(b->fs, e, a->log[i].entry, a->log[i].value,
						  a->log[i].len, &b->out),
					 0);
}

static void fill(uint8_t *b, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
}

START_TEST(a_file_snapshot_installs_with_the_same_digest_and_reads)
{
	struct tnode a, b;
	struct stream s;
	struct fs_cmd c;
	static uint8_t data[200000], got_a[300000], got_b[300000];
	size_t ga, gb;
	tn_open(&a, 1);
	tn_open(&b, 2);
	uint64_t f = t_create(&a, ROOT, "f", 0644);
	fill(data, sizeof(data), 9);
	t_write(&a, f, 0, data, sizeof(data));
	t_write(&a, f, 5ull << 30, "far", 3); /* sparse: 5 GiB */
	ck_assert_int_eq(fs_cmd_setxattr(a.fs, &a.who, f, "user.k", "v", 1, 0, &c), 0);
	ck_assert_int_eq(tn_do(&a, &c, NULL), 0);
	replay_entity(&b, &a, FS_NAMESPACE, 1);

	export_all(&a, f, 16384, &s);
	ck_assert_int_gt(s.n, 10); /* 200 KB in chunks of ~16 KB */
	ck_assert_int_eq(install_all(&b, f, &s, NULL), 0);
	stream_free(&s);
	same_meta(&a, &b, f);
	ck_assert_int_eq(fs_read(a.fs, f, 0, sizeof(got_a), got_a, &ga), 0);
	ck_assert_int_eq(fs_read(b.fs, f, 0, sizeof(got_b), got_b, &gb), 0);
	ck_assert_uint_eq(ga, gb);
	ck_assert_mem_eq(got_a, got_b, ga);
	struct stat sa = t_stat(&a, f), sb = t_stat(&b, f);
	ck_assert_int_eq(sa.st_size, sb.st_size);
	ck_assert_int_eq(sa.st_blocks, sb.st_blocks);
	char v[4];
	size_t vl;
	ck_assert_int_eq(fs_getxattr(b.fs, f, "user.k", v, sizeof(v), &vl), 0);

	/* the log goes on on top of the snapshot */
	size_t mark = a.nlog;
	struct store_apply_meta am;
	ck_assert_int_eq(fs_applied(a.fs, f, &am), 0);
	t_truncate(&a, f, 1000);
	ck_assert_int_eq(fs_cmd_append(&a.who, f, "end", 3, &c), 0);
	ck_assert_int_eq(tn_do(&a, &c, NULL), 0);
	ck_assert_uint_eq(a.nlog, mark + 2);
	replay_entity(&b, &a, f, am.applied_entry + 1);
	same_meta(&a, &b, f);
	/* installing what b already has is refused and changes nothing */
	export_all(&a, f, 1 << 20, &s);
	ck_assert_int_eq(install_all(&b, f, &s, NULL), -EALREADY);
	stream_free(&s);
	same_meta(&a, &b, f);
	tn_close(&a);
	tn_close(&b);
}
END_TEST

START_TEST(an_export_goes_stale_when_the_entity_is_applied)
{
	struct tnode a;
	struct fs_export *e;
	static uint8_t data[50000];
	uint8_t *buf;
	size_t len;
	bool last;
	tn_open(&a, 1);
	uint64_t f = t_create(&a, ROOT, "f", 0644);
	t_write(&a, f, 0, data, sizeof(data));
	ck_assert_int_eq(fs_export_open(a.fs, f, &e), 0);
	ck_assert_int_eq(fs_export_next(e, 8192, &buf, &len, &last), 0);
	ck_assert(!last);
	free(buf);
	t_write(&a, f, 0, "x", 1);
	ck_assert_int_eq(fs_export_next(e, 8192, &buf, &len, &last), -ESTALE);
	fs_export_free(e);
	/* nothing to export for an inode without an entity here */
	ck_assert_int_eq(fs_export_open(a.fs, 77u << 8 | 1, &e), -ENOENT);
	tn_close(&a);
}
END_TEST

START_TEST(a_namespace_install_makes_the_files_it_names)
{
	struct tnode a, b;
	struct stream s;
	struct fs_apply_out out;
	tn_open(&a, 1);
	tn_open(&b, 2);
	/* b has a file of its own that a's history does not know */
	uint64_t mine = t_create(&b, ROOT, "mine", 0644);
	t_write(&b, mine, 0, "b's", 3);

	uint64_t d = t_mkdir(&a, ROOT, "d", 0750);
	uint64_t f = t_create(&a, d, "f", 0640);
	uint64_t g = t_create(&a, ROOT, "g", 0600);
	uint64_t h = t_create(&a, ROOT, "h", 0644);
	t_write(&a, f, 0, "fff", 3);
	t_write(&a, h, 0, "hhh", 3);
	t_unlink(&a, ROOT, "h");
	t_symlink(&a, d, "s", "f");
	export_all(&a, FS_NAMESPACE, 64, &s);
	ck_assert_int_gt(s.n, 3);
	fs_apply_out_init(&out);
	ck_assert_int_eq(install_all(&b, FS_NAMESPACE, &s, &out), 0);
	stream_free(&s);
	same_meta(&a, &b, FS_NAMESPACE);
	/* b's own file is no longer named: b reclaims it once closed */
	ck_assert_uint_eq(out.n_unlinked, 1);
	ck_assert_uint_eq(out.unlinked[0], mine);
	fs_apply_out_close(&out);
	ck_assert_uint_eq(t_stat(&b, mine).st_nlink, 0);
	ck_assert_int_eq(fs_reclaim(b.fs, mine), 0);

	/* the files a's namespace names exist on b at entry 0 */
	char *la = t_list(&a, d), *lb = t_list(&b, d);
	ck_assert_str_eq(la, lb);
	free(la);
	free(lb);
	struct store_apply_meta am;
	ck_assert_int_eq(fs_applied(b.fs, f, &am), 0);
	ck_assert_uint_eq(am.applied_entry, 0);
	struct stat st = t_stat(&b, f);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 0640);
	ck_assert_int_eq(st.st_size, 0);
	/* never written: identical to a's already */
	same_meta(&a, &b, g);
	/* f's log brings it level */
	replay_entity(&b, &a, f, 1);
	same_meta(&a, &b, f);
	/* h was unlinked before the snapshot: its entries are no-ops on b */
	ck_assert_int_eq(fs_applied(b.fs, h, &am), -ENOENT);
	for (size_t i = 0; i < a.nlog; i++)
		if (a.log[i].entity == h) {
			ck_assert_int_eq(
			    fs_apply(b.fs, h, a.log[i].entry, a.log[i].value, a.log[i].len, &b.out),
			    0);
			ck_assert(b.out.noop);
		}
	struct stat x;
	ck_assert_int_eq(fs_getattr(b.fs, h, &x), -ENOENT);
	/* and the namespace goes on: inode numbers continue */
	uint64_t nf = t_create(&b, d, "new", 0644);
	ck_assert_uint_eq(nf >> 8, 6);
	tn_close(&a);
	tn_close(&b);
}
END_TEST

/* Re-encodes chunk i of s with its first value changed. */
static void tamper(struct stream *s, int i)
{
	Paxfs__FsSnapshotChunk *ch = paxfs__fs_snapshot_chunk__unpack(NULL, s->len[i], s->buf[i]);
	ck_assert_ptr_nonnull(ch);
	ck_assert_uint_gt(ch->n_kvs, 0);
	ck_assert_uint_gt(ch->kvs[0]->value.len, 0);
	ch->kvs[0]->value.data[0] ^= 1;
	free(s->buf[i]);
	s->len[i] = paxfs__fs_snapshot_chunk__get_packed_size(ch);
	s->buf[i] = malloc(s->len[i]);
	paxfs__fs_snapshot_chunk__pack(ch, s->buf[i]);
	paxfs__fs_snapshot_chunk__free_unpacked(ch, NULL);
}

START_TEST(bad_streams_are_refused_and_never_served)
{
	struct tnode a, b;
	struct stream s;
	struct fs_install *in;
	struct fs_cmd c;
	static uint8_t data[40000];
	uint8_t buf[8];
	size_t got;
	tn_open(&a, 1);
	tn_open(&b, 2);
	uint64_t f = t_create(&a, ROOT, "f", 0644);
	fill(data, sizeof(data), 3);
	t_write(&a, f, 0, data, sizeof(data));
	replay_entity(&b, &a, FS_NAMESPACE, 1);
	export_all(&a, f, 8192, &s);
	ck_assert_int_ge(s.n, 4);

	/* garbage */
	ck_assert_int_eq(fs_install_open(b.fs, f, &in), 0);
	const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
	ck_assert_int_eq(fs_install_chunk(in, junk, sizeof(junk)), -EBADMSG);
	fs_install_free(in);
	/* out of sequence */
	ck_assert_int_eq(fs_install_open(b.fs, f, &in), 0);
	ck_assert_int_eq(fs_install_chunk(in, s.buf[1], s.len[1]), -EPROTO);
	fs_install_free(in);
	/* another entity's stream */
	ck_assert_int_eq(fs_install_open(b.fs, f + 256, &in), 0);
	ck_assert_int_eq(fs_install_chunk(in, s.buf[0], s.len[0]), -EBADMSG);
	fs_install_free(in);
	/* finished early */
	ck_assert_int_eq(fs_install_open(b.fs, f, &in), 0);
	ck_assert_int_eq(fs_install_chunk(in, s.buf[0], s.len[0]), 0);
	ck_assert_int_eq(fs_install_finish(in, NULL), -EPROTO);
	fs_install_free(in);
	/* ... which leaves f installing: not served, not applied */
	ck_assert_int_eq(fs_read(b.fs, f, 0, 8, buf, &got), -EIO);
	ck_assert_int_eq(fs_cmd_write(&b.who, f, 0, "x", 1, &c), 0);
	ck_assert_int_eq(tn_apply(&b, &c, NULL), -EAGAIN);
	/* across a restart too */
	tn_reopen(&b);
	ck_assert_int_eq(fs_read(b.fs, f, 0, 8, buf, &got), -EIO);

	/* a value changed in transit: the digest does not match */
	struct stream t = s;
	uint8_t *orig = s.buf[2];
	size_t olen = s.len[2];
	t.buf[2] = malloc(olen);
	memcpy(t.buf[2], orig, olen);
	tamper(&t, 2);
	ck_assert_int_eq(install_all(&b, f, &t, NULL), -EBADMSG);
	free(t.buf[2]);
	ck_assert_int_eq(fs_read(b.fs, f, 0, 8, buf, &got), -EIO);

	/* the real stream repairs it */
	ck_assert_int_eq(install_all(&b, f, &s, NULL), 0);
	same_meta(&a, &b, f);
	ck_assert_int_eq(fs_read(b.fs, f, 0, 8, buf, &got), 0);
	ck_assert_mem_eq(buf, data, 8);
	stream_free(&s);
	tn_close(&a);
	tn_close(&b);
}
END_TEST

START_TEST(a_snapshot_repairs_a_bad_entity)
{
	struct tnode a, b;
	struct stream s;
	uint8_t buf[4];
	size_t got;
	tn_open(&a, 1);
	tn_open(&b, 2);
	uint64_t f = t_create(&a, ROOT, "f", 0644);
	t_write(&a, f, 0, "good", 4);
	tn_replay(&b, &a);
	const uint8_t junk[] = {0xff, 0xff};
	ck_assert_int_eq(fs_apply(b.fs, f, 2, junk, sizeof(junk), &b.out), -EBADMSG);
	ck_assert(fs_entity_bad(b.fs, f));
	t_write(&a, f, 0, "GOOD", 4);
	export_all(&a, f, 4096, &s);
	ck_assert_int_eq(install_all(&b, f, &s, NULL), 0);
	stream_free(&s);
	ck_assert(!fs_entity_bad(b.fs, f));
	ck_assert_int_eq(fs_read(b.fs, f, 0, 4, buf, &got), 0);
	ck_assert_mem_eq(buf, "GOOD", 4);
	tn_reopen(&b);
	ck_assert(!fs_entity_bad(b.fs, f));
	same_meta(&a, &b, f);
	tn_close(&a);
	tn_close(&b);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("fs snapshot");
	TEST_CASE(s, a_file_snapshot_installs_with_the_same_digest_and_reads, 20);
	TEST_CASE(s, an_export_goes_stale_when_the_entity_is_applied, 10);
	TEST_CASE(s, a_namespace_install_makes_the_files_it_names, 10);
	TEST_CASE(s, bad_streams_are_refused_and_never_served, 10);
	TEST_CASE(s, a_snapshot_repairs_a_bad_entity, 10);
	return s;
}
