/* tests/unit/tools/test_verify_offline.c — paxfs-verify --offline on real
 * stores: three nodes that applied the same chosen entries agree; a node
 * that missed entries is lag, not divergence; a rewritten chosen value, a
 * flipped byte in a record, a state that rots under a valid checksum are
 * found and named (entity, entry, node, path); bad data dirs are refused
 * with a reason while the others are still compared. */
#include "config.h"

#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"
#include "tests/lib/tmpdir.h"

#include <errno.h>
#include <leveldb/c.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs.h"
#include "store/store.h"
#include "tools/verify.h"
#include "util/endian.h"

/* ---- a temporary directory per case --------------------------------------------- */

static char tmp[PATH_MAX - 64];

static void tmp_setup(void)
{
	tmpdir_make(tmp, sizeof(tmp), "paxfs-verify");
}

static void tmp_teardown(void)
{
	rm_rf(tmp);
}

#define CASE(suite, fn, timeout_s) FIXTURE_CASE(suite, fn, timeout_s, tmp_setup, tmp_teardown)

/* ---- nodes that apply a shared history -------------------------------------------- */

struct tnode {
	char dir[PATH_MAX];
	struct store *st;
	struct fs *fs;
};

static void node_open(struct tnode *n, uint32_t id, const char *cluster)
{
	struct store_options o = {.create = true};
	struct store_node nm = {.node_id = id, .boot_count = 1};
	char err[300];
	snprintf(n->dir, sizeof(n->dir), "%s/data%u", tmp, id);
	ck_assert_int_eq(store_open(n->dir, &o, &n->st, err, sizeof(err)), 0);
	snprintf(nm.cluster, sizeof(nm.cluster), "%s", cluster);
	struct store_batch *b = store_batch_new();
	store_batch_put_node(b, &nm);
	ck_assert_int_eq(store_write(n->st, b, true), 0);
	store_batch_free(b);
	ck_assert_int_eq(fs_open(n->st, NULL, &n->fs), 0);
}

static void node_close(struct tnode *n)
{
	fs_free(n->fs);
	store_free(n->st);
	n->fs = NULL;
	n->st = NULL;
}

/* One chosen entry, as the daemon has it: the record and the Paxos meta,
 * then the apply. */
struct entry {
	uint64_t entity, entry, value_id;
	uint8_t *value;
	size_t len;
};

static void node_apply(struct tnode *n, const struct entry *e)
{
	struct store_record rec = {.promised = 0x101,
				   .accepted = 0x101,
				   .value_id = e->value_id,
				   .chosen = true,
				   .value = e->value,
				   .value_len = e->len};
	struct store_paxos_meta pm = {.chosen_entry = e->entry, .chosen_proposer = 1};
	struct store_batch *b = store_batch_new();
	struct fs_apply_out out;
	store_batch_put_record(b, e->entity, e->entry, &rec, false);
	store_batch_put_paxos_meta(b, e->entity, &pm);
	ck_assert_int_eq(store_write(n->st, b, true), 0);
	store_batch_free(b);
	fs_apply_out_init(&out);
	ck_assert_int_eq(fs_apply(n->fs, e->entity, e->entry, e->value, e->len, &out), 0);
	fs_apply_out_close(&out);
}

#define NHIST 16
static struct entry hist[NHIST];
static size_t nhist;
static uint64_t counter;

static void add(struct fs_cmd *cmd, uint64_t entry)
{
	uint64_t id = (uint64_t)1 << 56 | (uint64_t)1 << 32 | ++counter;
	struct entry *e = &hist[nhist++];
	e->entity = cmd->entity;
	e->entry = entry;
	e->value_id = id;
	ck_assert_int_eq(fs_value_encode(&id, cmd, 1, &e->value, &e->len), 0);
	fs_cmd_close(cmd);
}

/* /a (inode 257) with three writes, /b (513) with one, directory /d. */
static void make_history(void)
{
	struct fs_caller who = {.uid = 0, .gid = 0, .time_ns = 1000};
	struct fs_cmd cmd;
	char data[5000];
	memset(data, 'x', sizeof(data));
	nhist = 0;
	ck_assert_int_eq(fs_cmd_create(&who, FS_ROOT_INO, "a", 0644, true, &cmd), 0);
	add(&cmd, 1);
	ck_assert_int_eq(fs_cmd_write(&who, 257, 0, data, 100, &cmd), 0);
	add(&cmd, 1);
	ck_assert_int_eq(fs_cmd_write(&who, 257, 100, data, sizeof(data), &cmd),
			 0); /* separate value */
	add(&cmd, 2);
	ck_assert_int_eq(fs_cmd_create(&who, FS_ROOT_INO, "b", 0600, true, &cmd), 0);
	add(&cmd, 2);
	ck_assert_int_eq(fs_cmd_write(&who, 513, 0, "hello", 5, &cmd), 0);
	add(&cmd, 1);
	ck_assert_int_eq(fs_cmd_mkdir(&who, FS_ROOT_INO, "d", 0755, &cmd), 0);
	add(&cmd, 3);
	ck_assert_int_eq(fs_cmd_write(&who, 257, 3, "yy", 2, &cmd), 0);
	add(&cmd, 3);
}

static void free_history(void)
{
	for (size_t i = 0; i < nhist; i++)
		free(hist[i].value);
	nhist = 0;
}

/* Three stopped nodes; node `skip` misses the history's last entry. */
static void three_nodes(struct tnode n[3], int skip)
{
	make_history();
	for (uint32_t i = 0; i < 3; i++) {
		node_open(&n[i], i + 1, "demo");
		for (size_t k = 0; k < nhist; k++)
			if (!((int)i + 1 == skip && k == nhist - 1))
				node_apply(&n[i], &hist[k]);
		node_close(&n[i]);
	}
	free_history();
}

static int check(struct tnode n[3], bool deep, struct verify_result *r)
{
	char *dirs[3] = {n[0].dir, n[1].dir, n[2].dir};
	struct verify_opts opt = {.deep = deep};
	return verify_offline(dirs, 3, &opt, r);
}

static const struct verify_finding *find(const struct verify_result *r, enum verify_kind kind)
{
	size_t nf;
	const struct verify_finding *f = verify_cmp_findings(r->cmp, &nf);
	for (size_t i = 0; i < nf; i++)
		if (f[i].kind == kind)
			return &f[i];
	return NULL;
}

/* Flips the last byte stored under `key` with leveldb itself (below the store). */
static void flip_raw(const char *dir, const uint8_t *key, size_t klen)
{
	leveldb_options_t *o = leveldb_options_create();
	leveldb_readoptions_t *ro = leveldb_readoptions_create();
	leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
	char *err = NULL, *val;
	size_t vlen;
	leveldb_t *db = leveldb_open(o, dir, &err);
	ck_assert_ptr_null(err);
	val = leveldb_get(db, ro, (const char *)key, klen, &vlen, &err);
	ck_assert_ptr_nonnull(val);
	val[vlen - 1] ^= 1;
	leveldb_put(db, wo, (const char *)key, klen, val, vlen, &err);
	ck_assert_ptr_null(err);
	leveldb_free(val);
	leveldb_close(db);
	leveldb_readoptions_destroy(ro);
	leveldb_writeoptions_destroy(wo);
	leveldb_options_destroy(o);
}

/* ---- the cases ---------------------------------------------------------------------- */

START_TEST(nodes_with_the_same_history_agree)
{
	struct tnode n[3];
	struct verify_result r;
	three_nodes(n, 0);
	ck_assert_int_eq(check(n, false, &r), VERIFY_EXIT_AGREE);
	const struct verify_counts *c = verify_cmp_counts(r.cmp);
	ck_assert_uint_eq(c->entities, 3);
	ck_assert_uint_eq(c->digests, 3);
	ck_assert_uint_eq(c->values, 7);
	ck_assert_uint_eq(c->unsettled, 0);
	ck_assert_str_eq(r.cluster, "demo");
	for (size_t i = 0; i < 3; i++) {
		ck_assert(r.nodes[i].checked);
		ck_assert_uint_eq(r.nodes[i].id, i + 1);
	}
	verify_result_close(&r);
	/* --deep recomputes the digests and finds them as kept */
	ck_assert_int_eq(check(n, true, &r), VERIFY_EXIT_AGREE);
	verify_result_close(&r);
}
END_TEST

START_TEST(a_node_behind_is_lag)
{
	struct tnode n[3];
	struct verify_result r;
	three_nodes(n, 3);
	ck_assert_int_eq(check(n, false, &r), VERIFY_EXIT_AGREE);
	const struct verify_lag *l = verify_cmp_lag(r.cmp, 2);
	ck_assert_uint_eq(l->entities, 1);
	ck_assert_uint_eq(l->max, 1);
	ck_assert_uint_eq(l->ex[0].entity, 257);
	ck_assert_uint_eq(l->ex[0].applied, 2);
	ck_assert_uint_eq(l->ex[0].chosen, 3);
	ck_assert_uint_eq(verify_cmp_lag(r.cmp, 0)->entities, 0);
	verify_result_close(&r);
}
END_TEST

START_TEST(a_rewritten_chosen_value_is_found)
{
	struct tnode n[3];
	struct verify_result r;
	struct store_options o = {0};
	struct store_record rec;
	char err[300];
	three_nodes(n, 0);
	ck_assert_int_eq(store_open(n[1].dir, &o, &n[1].st, err, sizeof(err)), 0);
	ck_assert_int_eq(store_get_record(n[1].st, 257, 2, &rec), 0);
	rec.value[rec.value_len - 1] ^= 0x20;
	struct store_batch *b = store_batch_new();
	store_batch_put_record(b, 257, 2, &rec, false);
	ck_assert_int_eq(store_write(n[1].st, b, true), 0);
	store_batch_free(b);
	free(rec.value);
	store_free(n[1].st);

	ck_assert_int_eq(check(n, false, &r), VERIFY_EXIT_DIVERGE);
	const struct verify_finding *f = find(&r, VERIFY_VALUE);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->entity, 257);
	ck_assert_uint_eq(f->entry, 2);
	ck_assert(verify_nodes_has(f->nodes, 2));
	ck_assert_str_eq(f->path, "/a");
	f = find(&r, VERIFY_REPLAY);
	ck_assert_ptr_nonnull(f);
	ck_assert(verify_nodes_has(f->nodes, 2) && !verify_nodes_has(f->nodes, 1));
	verify_result_close(&r);
}
END_TEST

START_TEST(a_flipped_byte_in_a_record_is_found)
{
	struct tnode n[3];
	struct verify_result r;
	uint8_t key[17] = {'P'};
	three_nodes(n, 0);
	util_put_be64(key + 1, 513);
	util_put_be64(key + 9, 1);
	flip_raw(n[0].dir, key, sizeof(key));
	ck_assert_int_eq(check(n, false, &r), VERIFY_EXIT_DIVERGE);
	const struct verify_finding *f = find(&r, VERIFY_DAMAGE);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->entity, 513);
	ck_assert_uint_eq(f->entry, 1);
	ck_assert(verify_nodes_has(f->nodes, 1) && !verify_nodes_has(f->nodes, 2));
	ck_assert_str_eq(f->path, "/b");
	verify_result_close(&r);
}
END_TEST

START_TEST(state_rotting_under_a_valid_checksum_is_found_deep_and_refused)
{
	struct tnode n[3];
	struct verify_result r;
	struct store_options o = {0};
	char err[300], buf[16];
	size_t got;
	uint8_t key[17];
	three_nodes(n, 0);
	/* /a's first chunk on node 3: different bytes, the store's checksum
	 * valid, the kept digest left as it was */
	ck_assert_int_eq(store_open(n[2].dir, &o, &n[2].st, err, sizeof(err)), 0);
	util_put_be64(key, 257);
	key[8] = 'c';
	util_put_be64(key + 9, 0);
	void *val;
	size_t vlen;
	ck_assert_int_eq(store_get_state(n[2].st, key, sizeof(key), &val, &vlen), 0);
	((uint8_t *)val)[0] ^= 0x20;
	struct store_batch *b = store_batch_new();
	store_batch_put_state(b, key, sizeof(key), val, vlen);
	ck_assert_int_eq(store_write(n[2].st, b, true), 0);
	store_batch_free(b);
	free(val);
	store_free(n[2].st);

	/* kept digests still agree: only --deep can see it */
	ck_assert_int_eq(check(n, false, &r), VERIFY_EXIT_AGREE);
	verify_result_close(&r);
	ck_assert_int_eq(check(n, true, &r), VERIFY_EXIT_DIVERGE);
	const struct verify_finding *f = find(&r, VERIFY_DEEP);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->entity, 257);
	ck_assert_uint_eq(f->entry, 3);
	ck_assert(verify_nodes_has(f->nodes, 3) && !verify_nodes_has(f->nodes, 1));
	verify_result_close(&r);

	/* and the node now refuses it rather than serve wrong data */
	ck_assert_int_eq(store_open(n[2].dir, &o, &n[2].st, err, sizeof(err)), 0);
	ck_assert_int_eq(fs_open(n[2].st, NULL, &n[2].fs), 0);
	ck_assert(fs_entity_bad(n[2].fs, 257));
	ck_assert_int_eq(fs_read(n[2].fs, 257, 0, sizeof(buf), buf, &got), -EIO);
	ck_assert_int_eq(fs_read(n[2].fs, 513, 0, sizeof(buf), buf, &got), 0);
	node_close(&n[2]);
	ck_assert_int_eq(check(n, false, &r), VERIFY_EXIT_DIVERGE);
	f = find(&r, VERIFY_BAD);
	ck_assert_ptr_nonnull(f);
	ck_assert(verify_nodes_has(f->nodes, 3));
	verify_result_close(&r);
}
END_TEST

START_TEST(bad_data_dirs_are_refused_and_the_others_compared)
{
	struct tnode n[3], other;
	struct verify_result r;
	struct store_options o = {0};
	struct store *held;
	char notstore[PATH_MAX - 32], file[PATH_MAX], err[300];
	FILE *fp;
	three_nodes(n, 0);
	snprintf(notstore, sizeof(notstore), "%s/notstore", tmp);
	ck_assert_int_eq(mkdir(notstore, 0700), 0);
	snprintf(file, sizeof(file), "%s/notes.txt", notstore);
	fp = fopen(file, "w");
	fputs("hello\n", fp);
	fclose(fp);
	node_open(&other, 9, "another");
	node_close(&other);

	/* a copy of node 2's data dir: the same node twice */
	char copy[PATH_MAX - 32], cmd[3 * PATH_MAX];
	snprintf(copy, sizeof(copy), "%s/copy", tmp);
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", n[1].dir, copy);
	ck_assert_int_eq(system(cmd), 0);

	char *dirs[6] = {n[0].dir, n[1].dir, n[2].dir, notstore, other.dir, copy};
	struct verify_opts opt = {0};
	/* a data dir a running node holds: refused, not waited for */
	ck_assert_int_eq(store_open(n[2].dir, &o, &held, err, sizeof(err)), 0);
	ck_assert_int_eq(verify_offline(dirs, 6, &opt, &r), VERIFY_EXIT_UNCHECKED);
	store_free(held);
	ck_assert(r.nodes[0].checked && r.nodes[1].checked);
	ck_assert(!r.nodes[2].checked);
	ck_assert_ptr_nonnull(strstr(r.nodes[2].reason, "in use"));
	ck_assert(!r.nodes[3].checked);
	ck_assert_ptr_nonnull(strstr(r.nodes[3].reason, "not a paxfs data dir"));
	ck_assert(!r.nodes[4].checked);
	ck_assert_ptr_nonnull(strstr(r.nodes[4].reason, "another"));
	ck_assert(!r.nodes[5].checked);
	ck_assert_ptr_nonnull(strstr(r.nodes[5].reason, "node 2 again"));
	ck_assert_uint_eq(verify_cmp_counts(r.cmp)->entities, 3);
	ck_assert_uint_eq(verify_cmp_counts(r.cmp)->digests, 3);
	verify_result_close(&r);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("verify_offline");
	CASE(s, nodes_with_the_same_history_agree, 30);
	CASE(s, a_node_behind_is_lag, 30);
	CASE(s, a_rewritten_chosen_value_is_found, 30);
	CASE(s, a_flipped_byte_in_a_record_is_found, 30);
	CASE(s, state_rotting_under_a_valid_checksum_is_found_deep_and_refused, 30);
	CASE(s, bad_data_dirs_are_refused_and_the_others_compared, 30);
	return s;
}
