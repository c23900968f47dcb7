/* tests/unit/fs/fs_test.c — the test node and helpers of fs_test.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* nftw, mkdtemp (config.h defines it when included) */
#endif
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/fs/fs_test.h"

const char *t_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

static void open_store(struct tnode *n, bool create)
{
	struct store_options opt = {.create = create};
	char err[256] = "";
	int rc = store_open(n->dir, &opt, &n->st, err, sizeof(err));
	ck_assert_msg(rc == 0, "store_open %s: %d %s", n->dir, rc, err);
	rc = fs_open(n->st, NULL, &n->fs);
	ck_assert_msg(rc == 0, "fs_open: %d", rc);
}

void tn_open(struct tnode *n, uint32_t node)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->dir, sizeof(n->dir), "%s/paxfs-fs-test-XXXXXX", t_tmpdir());
	ck_assert_ptr_nonnull(mkdtemp(n->dir));
	/* The store makes the data dir itself (0700): give it a fresh path. */
	strncat(n->dir, "/data", sizeof(n->dir) - strlen(n->dir) - 1);
	n->node = node;
	n->who.uid = 1000;
	n->who.gid = 1000;
	n->who.time_ns = 1700000000LL * 1000000000LL;
	fs_apply_out_init(&n->out);
	open_store(n, true);
}

void tn_reopen(struct tnode *n)
{
	fs_free(n->fs);
	store_free(n->st);
	n->fs = NULL;
	n->st = NULL;
	open_store(n, false);
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

void tn_close(struct tnode *n)
{
	fs_free(n->fs);
	store_free(n->st);
	fs_apply_out_close(&n->out);
	for (size_t i = 0; i < n->nlog; i++)
		free(n->log[i].value);
	free(n->log);
	char *slash = strrchr(n->dir, '/');
	if (slash) {
		*slash = '\0'; /* the mkdtemp directory */
		nftw(n->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	}
	memset(n, 0, sizeof(*n));
}

uint64_t tn_next_entry(struct tnode *n, uint64_t entity)
{
	struct store_apply_meta am;
	int rc = fs_applied(n->fs, entity, &am);
	if (rc == -ENOENT)
		return 1;
	ck_assert_int_eq(rc, 0);
	return am.applied_entry + 1;
}

static void record(struct tnode *n, uint64_t entity, uint64_t entry, const uint8_t *v, size_t len)
{
	if (n->nlog == n->caplog) {
		n->caplog = n->caplog ? n->caplog * 2 : 64;
		n->log = realloc(n->log, n->caplog * sizeof(*n->log));
		ck_assert_ptr_nonnull(n->log);
	}
	struct tentry *e = &n->log[n->nlog++];
	e->entity = entity;
	e->entry = entry;
	e->value = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(e->value);
	memcpy(e->value, v, len);
	e->len = len;
}

int tn_apply_raw(struct tnode *n, uint64_t entity, uint64_t entry, const uint8_t *v, size_t len)
{
	int rc = fs_apply(n->fs, entity, entry, v, len, &n->out);
	if (rc == 0 && !n->out.skipped)
		record(n, entity, entry, v, len);
	return rc;
}

int tn_apply_many(struct tnode *n, uint64_t entity, struct fs_cmd *cmds, size_t k)
{
	uint64_t ids[64] = {0};
	uint8_t *v;
	size_t len;
	int rc;

	ck_assert_uint_le(k, 64);
	for (size_t i = 0; i < k; i++)
		ids[i] = (uint64_t)n->node << 56 | ++n->next_id;
	ck_assert_int_eq(fs_value_encode(ids, cmds, k, &v, &len), 0);
	rc = tn_apply_raw(n, entity, tn_next_entry(n, entity), v, len);
	free(v);
	for (size_t i = 0; i < k; i++)
		fs_cmd_close(&cmds[i]);
	return rc;
}

int tn_apply(struct tnode *n, struct fs_cmd *cmd, struct fs_result *res)
{
	int rc = tn_apply_many(n, cmd->entity, cmd, 1);
	if (res) {
		memset(res, 0, sizeof(*res));
		if (rc == 0 && n->out.n_results == 1)
			*res = n->out.results[0];
	}
	return rc;
}

int tn_do(struct tnode *n, struct fs_cmd *cmd, struct fs_result *res)
{
	struct fs_result r;
	n->who.time_ns += 1000;
	int rc = tn_apply(n, cmd, &r);
	ck_assert_msg(rc == 0, "fs_apply: %d", rc);
	ck_assert_uint_eq(n->out.n_results, 1);
	if (res)
		*res = r;
	return r.err;
}

void tn_replay(struct tnode *to, const struct tnode *from)
{
	for (size_t i = 0; i < from->nlog; i++) {
		const struct tentry *e = &from->log[i];
		int rc = fs_apply(to->fs, e->entity, e->entry, e->value, e->len, &to->out);
		ck_assert_msg(rc == 0, "replay of %llu/%llu: %d", (unsigned long long)e->entity,
			      (unsigned long long)e->entry, rc);
	}
}

/* ---- operations ------------------------------------------------------- */

int e_create(struct tnode *n, uint64_t parent, const char *name, uint32_t mode, bool excl)
{
	struct fs_cmd c;
	ck_assert_int_eq(fs_cmd_create(&n->who, parent, name, mode, excl, &c), 0);
	return tn_do(n, &c, NULL);
}

uint64_t t_create(struct tnode *n, uint64_t parent, const char *name, uint32_t mode)
{
	struct fs_cmd c;
	struct fs_result r;
	ck_assert_int_eq(fs_cmd_create(&n->who, parent, name, mode, true, &c), 0);
	int e = tn_do(n, &c, &r);
	ck_assert_msg(e == 0, "create %s: %d", name, e);
	ck_assert(r.created);
	return r.ino;
}

uint64_t t_mkdir(struct tnode *n, uint64_t parent, const char *name, uint32_t mode)
{
	struct fs_cmd c;
	struct fs_result r;
	ck_assert_int_eq(fs_cmd_mkdir(&n->who, parent, name, mode, &c), 0);
	int e = tn_do(n, &c, &r);
	ck_assert_msg(e == 0, "mkdir %s: %d", name, e);
	return r.ino;
}

int e_mkdir(struct tnode *n, uint64_t parent, const char *name)
{
	struct fs_cmd c;
	ck_assert_int_eq(fs_cmd_mkdir(&n->who, parent, name, 0755, &c), 0);
	return tn_do(n, &c, NULL);
}

uint64_t t_symlink(struct tnode *n, uint64_t parent, const char *name, const char *target)
{
	struct fs_cmd c;
	struct fs_result r;
	ck_assert_int_eq(fs_cmd_symlink(&n->who, parent, name, target, &c), 0);
	int e = tn_do(n, &c, &r);
	ck_assert_msg(e == 0, "symlink %s: %d", name, e);
	return r.ino;
}

void t_write(struct tnode *n, uint64_t ino, uint64_t off, const void *data, size_t len)
{
	struct fs_cmd c;
	struct fs_result r;
	ck_assert_int_eq(fs_cmd_write(&n->who, ino, off, data, len, &c), 0);
	int e = tn_do(n, &c, &r);
	ck_assert_msg(e == 0, "write: %d", e);
	ck_assert_uint_eq(r.written, len);
}

void t_truncate(struct tnode *n, uint64_t ino, uint64_t size)
{
	struct fs_cmd c;
	ck_assert_int_eq(fs_cmd_truncate(&n->who, ino, size, &c), 0);
	ck_assert_int_eq(tn_do(n, &c, NULL), 0);
}

int e_unlink(struct tnode *n, uint64_t parent, const char *name)
{
	struct fs_cmd c;
	ck_assert_int_eq(fs_cmd_unlink(&n->who, parent, name, &c), 0);
	return tn_do(n, &c, NULL);
}

void t_unlink(struct tnode *n, uint64_t parent, const char *name)
{
	int e = e_unlink(n, parent, name);
	ck_assert_msg(e == 0, "unlink %s: %d", name, e);
}

int e_rmdir(struct tnode *n, uint64_t parent, const char *name)
{
	struct fs_cmd c;
	ck_assert_int_eq(fs_cmd_rmdir(&n->who, parent, name, &c), 0);
	return tn_do(n, &c, NULL);
}

int e_rename(struct tnode *n, uint64_t p, const char *name, uint64_t np, const char *newname,
	     uint32_t flags)
{
	struct fs_cmd c;
	ck_assert_int_eq(fs_cmd_rename(&n->who, p, name, np, newname, flags, &c), 0);
	return tn_do(n, &c, NULL);
}

int e_link(struct tnode *n, uint64_t ino, uint64_t np, const char *newname)
{
	struct fs_cmd c;
	ck_assert_int_eq(fs_cmd_link(&n->who, ino, np, newname, &c), 0);
	return tn_do(n, &c, NULL);
}

/* ---- reads ------------------------------------------------------------ */

struct stat t_stat(struct tnode *n, uint64_t ino)
{
	struct stat st;
	int rc = fs_getattr(n->fs, ino, &st);
	ck_assert_msg(rc == 0, "getattr %llu: %d", (unsigned long long)ino, rc);
	ck_assert_uint_eq(st.st_ino, ino);
	return st;
}

int e_lookup(struct tnode *n, uint64_t parent, const char *name)
{
	struct stat st;
	return fs_lookup(n->fs, parent, name, &st);
}

uint64_t t_lookup(struct tnode *n, uint64_t parent, const char *name)
{
	struct stat st;
	int rc = fs_lookup(n->fs, parent, name, &st);
	ck_assert_msg(rc == 0, "lookup %s: %d", name, rc);
	return st.st_ino;
}

uint8_t *t_read(struct tnode *n, uint64_t ino, uint64_t off, size_t size, size_t *got)
{
	uint8_t *buf = malloc(size ? size : 1);
	ck_assert_ptr_nonnull(buf);
	int rc = fs_read(n->fs, ino, off, size, buf, got);
	ck_assert_msg(rc == 0, "read: %d", rc);
	return buf;
}

struct list {
	char *s;
	size_t len;
};

static int list_cb(void *arg, const char *name, uint64_t ino, uint32_t type)
{
	struct list *l = arg;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	size_t n = strlen(name);
	l->s = realloc(l->s, l->len + n + 2);
	memcpy(l->s + l->len, name, n);
	l->len += n;
	l->s[l->len++] = '\n';
	l->s[l->len] = '\0';
	return 0;
}

char *t_list(struct tnode *n, uint64_t dir)
{
	struct list l = {.s = calloc(1, 1)};
	int rc = fs_readdir(n->fs, dir, NULL, list_cb, &l);
	ck_assert_msg(rc == 0, "readdir: %d", rc);
	return l.s;
}

uint64_t t_digest(struct tnode *n, uint64_t entity)
{
	struct store_apply_meta am;
	uint64_t d;
	ck_assert_int_eq(fs_applied(n->fs, entity, &am), 0);
	ck_assert_int_eq(fs_digest_recompute(n->fs, entity, &d), 0);
	ck_assert_msg(d == am.state_digest, "entity %llu: digest kept %016llx, recomputed %016llx",
		      (unsigned long long)entity, (unsigned long long)am.state_digest,
		      (unsigned long long)d);
	return d;
}

void t_pack(const ProtobufCMessage *m, uint64_t entity, struct fs_cmd *out)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	out->body = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(out->body);
	out->len = protobuf_c_message_pack(m, out->body);
	out->entity = entity;
}

static int count_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	(*(size_t *)arg)++;
	return 0;
}

size_t t_count_state(struct tnode *n)
{
	size_t count = 0;
	ck_assert_int_eq(store_scan_state(n->st, "", 0, NULL, 0, count_cb, &count), 0);
	return count;
}

void t_put_paxos_meta(struct tnode *n, uint64_t entity)
{
	struct store_paxos_meta m = {.chosen_entry = 1};
	struct store_batch *b = store_batch_new();
	ck_assert_ptr_nonnull(b);
	store_batch_put_paxos_meta(b, entity, &m);
	ck_assert_int_eq(store_write(n->st, b, false), 0);
	store_batch_free(b);
}
