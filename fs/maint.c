/* fs/maint.c — what is not a system call: reclaiming an unlinked file's
 * state, recomputing digests, listing entities and naming inodes (for
 * paxfs-verify).
 *
 * Reclaim is local to a node (it runs when nobody here holds the file open),
 * so it touches only the file entity, never the namespace, whose state must
 * stay identical on every node.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/apply_int.h"
#include "fs/fs_int.h"
#include "fs/hash.h"
#include "fs/keys.h"
#include "fs/record.h"
#include "proto/fs.pb-c.h"
#include "util/log.h"

#define RECLAIM_BATCH_KEYS 1024

/* ---- reclaim ---------------------------------------------------------- */

struct collect {
	uint8_t *keys[RECLAIM_BATCH_KEYS];
	size_t lens[RECLAIM_BATCH_KEYS];
	size_t n;
	int rc;
};

static int collect_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct collect *c = arg;
	if (!(c->keys[c->n] = malloc(klen ? klen : 1))) {
		c->rc = -ENOMEM;
		return 1;
	}
	memcpy(c->keys[c->n], key, klen);
	c->lens[c->n] = klen;
	return ++c->n == RECLAIM_BATCH_KEYS ? 1 : 0;
}

static void collect_clear(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->keys[i]);
	c->n = 0;
}

int fs_sweep_entity(struct fs *fs, uint64_t entity)
{
	struct collect *c = calloc(1, sizeof(*c));
	struct store_batch *b = store_batch_new();
	uint8_t start[8], end[8];
	bool more;
	int rc = 0;

	if (!c || !b) {
		rc = -ENOMEM;
		goto out;
	}
	util_put_be64(start, entity);
	util_put_be64(end, entity + 1);
	do {
		rc = store_scan_state(fs->st, start, 8, end, 8, collect_cb, c);
		if (c->rc)
			rc = c->rc;
		if (rc < 0)
			break;
		more = c->n == RECLAIM_BATCH_KEYS;
		for (size_t i = 0; i < c->n; i++)
			store_batch_del_state(b, c->keys[i], c->lens[i]);
		rc = c->n ? store_write(fs->st, b, false) : 0;
		collect_clear(c);
		if (rc < 0)
			break;
	} while (more);
out:
	if (c)
		collect_clear(c);
	free(c);
	store_batch_free(b);
	return rc;
}

int fs_reclaim(struct fs *fs, uint64_t ino)
{
	struct store_apply_meta am;
	struct fs_inode *ns = NULL;
	struct fs_key k;
	int rc;

	if (ino <= FS_NAMESPACE)
		return -EINVAL;
	if (fs_idset_has(&fs->installing, ino))
		return -EBUSY;
	if ((rc = fs_serviceable(fs, FS_NAMESPACE)) < 0)
		return rc;
	if (!(ns = malloc(sizeof(*ns))))
		return -ENOMEM;
	rc = fs_inode_load(fs, NULL, ino, ns);
	free(ns);
	if (rc == 0)
		return -EBUSY;
	if (rc != -ENOENT)
		return fs_read_err(rc);
	rc = store_get_apply_meta(fs->st, ino, &am);
	if (rc == -ENOENT)
		return -ENOENT;
	if (rc < 0)
		return -EIO;

	/* First the cursor says "gone" (digest of an empty state) and the
	 * attributes go: from here on, entries are consumed as no-ops. Then
	 * the rest in bounded batches; a crash in between leaves keys that a
	 * later call sweeps. */
	struct store_batch *b = store_batch_new();
	if (!b)
		return -ENOMEM;
	am.state_digest = 0;
	store_batch_put_apply_meta(b, ino, &am);
	fs_key_attr(&k, ino);
	store_batch_del_state(b, k.b, k.len);
	fs_key_mark(&k, FS_TAG_DEAD, ino);
	store_batch_put_state(b, k.b, k.len, "", 0);
	rc = store_write(fs->st, b, false);
	store_batch_free(b);
	if (rc < 0)
		return rc == -ENOSPC ? rc : -EIO;
	rc = fs_sweep_entity(fs, ino);
	return rc < 0 ? (rc == -ENOSPC || rc == -ENOMEM ? rc : -EIO) : 0;
}

/* ---- digests ---------------------------------------------------------- */

static int digest_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	*(uint64_t *)arg ^= fs_hash_kv(key, klen, val, vlen);
	return 0;
}

int fs_digest_recompute(struct fs *fs, uint64_t entity, uint64_t *digest)
{
	uint8_t start[8], end[8];
	int rc;

	*digest = 0;
	if (entity == 0)
		return -EINVAL;
	util_put_be64(start, entity);
	util_put_be64(end, entity + 1);
	rc = fs_scan(fs, start, 8, entity == UINT64_MAX ? NULL : end, entity == UINT64_MAX ? 0 : 8,
		     digest_cb, digest);
	if (rc < 0)
		return rc == -EBADMSG ? rc : -EIO;
	return 0;
}

/* ---- listing ---------------------------------------------------------- */

static int first_paxos_cb(void *arg, uint64_t entity, const struct store_paxos_meta *m)
{
	*(uint64_t *)arg = entity;
	return 1;
}

struct first_mark {
	uint64_t entity;
};

static int first_mark_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct first_mark *f = arg;
	if (klen == 17)
		f->entity = util_get_be64((const uint8_t *)key + 9);
	return 1;
}

/* The smallest entity > after with a marker of `tag` (0: none). */
static int next_mark(struct fs *fs, uint8_t tag, uint64_t after, uint64_t *out)
{
	struct fs_key start, end;
	struct first_mark f = {0};
	uint64_t from = after + 1;
	int rc;

	*out = 0;
	if (after == UINT64_MAX)
		return 0;
	fs_key_mark(&start, tag, from);
	fs_key_make(&end, 0, tag + 1, NULL, NULL, 0);
	rc = store_scan_state(fs->st, start.b, start.len, end.b, end.len, first_mark_cb, &f);
	if (rc < 0)
		return rc;
	*out = f.entity;
	return 0;
}

static void bad_reason(struct fs *fs, uint64_t entity, char *buf, size_t size)
{
	struct fs_key k;
	void *v;
	size_t vl;
	snprintf(buf, size, "unknown");
	fs_key_mark(&k, FS_TAG_BAD, entity);
	if (store_get_state(fs->st, k.b, k.len, &v, &vl) < 0)
		return;
	Paxfs__FsBadMark *m = paxfs__fs_bad_mark__unpack(NULL, vl, v);
	if (m) {
		snprintf(buf, size, "%s", m->reason);
		paxfs__fs_bad_mark__free_unpacked(m, NULL);
	}
	free(v);
}

static int entity_info(struct fs *fs, uint64_t e, struct fs_entity_info *info)
{
	struct fs_key k;
	void *v;
	size_t vl;
	int rc;

	memset(info, 0, sizeof(*info));
	info->entity = e;
	rc = store_get_apply_meta(fs->st, e, &info->meta);
	if (rc < 0 && rc != -ENOENT && rc != -EBADMSG)
		return -EIO;
	info->has_meta = rc == 0;
	if (rc == -EBADMSG)
		fs_mark_bad(fs, e, "its ApplyMeta fails its checksum");
	if (fs_idset_has(&fs->bad, e)) {
		info->state = FS_ENTITY_BAD;
		bad_reason(fs, e, info->reason, sizeof(info->reason));
		return 0;
	}
	if (fs_idset_has(&fs->installing, e)) {
		info->state = FS_ENTITY_INSTALLING;
		return 0;
	}
	if (e == FS_NAMESPACE) {
		info->state = FS_ENTITY_LIVE;
		return 0;
	}
	fs_key_attr(&k, e);
	rc = store_get_state(fs->st, k.b, k.len, &v, &vl);
	if (rc == 0) {
		free(v);
		info->state = FS_ENTITY_LIVE;
		return 0;
	}
	if (rc == -EBADMSG) {
		fs_mark_bad(fs, e, "a state record fails its checksum");
		info->state = FS_ENTITY_BAD;
		snprintf(info->reason, sizeof(info->reason), "a state record fails its checksum");
		return 0;
	}
	if (rc != -ENOENT)
		return -EIO;
	if (info->has_meta) {
		info->state = FS_ENTITY_DEAD;
		return 0;
	}
	struct fs_nsmeta nm;
	rc = fs_nsmeta_load(fs, NULL, &nm);
	info->state = rc == 0 && (e >> 8) < nm.next_counter ? FS_ENTITY_DEAD : FS_ENTITY_PENDING;
	return 0;
}

static uint64_t min_nonzero(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

int fs_entities(struct fs *fs, uint64_t after, fs_entity_cb cb, void *arg)
{
	struct fs_entity_info info;
	uint64_t cur = after;

	for (;;) {
		uint64_t next = 0, e;
		int rc;

		if ((rc = fs_next_state_entity(fs, cur, &e)) < 0)
			return -EIO;
		next = min_nonzero(next, e);
		e = 0;
		rc = store_scan_entities(fs->st, cur, first_paxos_cb, &e);
		if (rc < 0)
			return -EIO;
		next = min_nonzero(next, e);
		static const uint8_t tags[] = {FS_TAG_DEAD, FS_TAG_BAD, FS_TAG_INSTALL};
		for (size_t i = 0; i < sizeof(tags); i++) {
			if ((rc = next_mark(fs, tags[i], cur, &e)) < 0)
				return -EIO;
			next = min_nonzero(next, e);
		}
		if (!next)
			return 0;
		if ((rc = entity_info(fs, next, &info)) < 0)
			return rc;
		if ((rc = cb(arg, &info)) != 0)
			return rc;
		cur = next;
	}
}

/* ---- paths ------------------------------------------------------------ */

struct find_link {
	uint64_t ino;
	uint64_t parent;
	size_t namelen;
	char name[FS_NAME_MAX + 1];
	bool found;
};

static int find_link_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct find_link *f = arg;
	struct fs_dirent de;
	if (klen <= 17 || klen - 17 > FS_NAME_MAX || fs_dirent_decode(val, vlen, &de) < 0)
		return 0; /* damage is for verify --deep to report, not for naming */
	if (de.ino != f->ino)
		return 0;
	f->parent = util_get_be64((const uint8_t *)key + 9);
	f->namelen = klen - 17;
	memcpy(f->name, (const uint8_t *)key + 17, f->namelen);
	f->found = true;
	return 1;
}

/* One (parent, name) naming ino: within its parent for a directory, else
 * anywhere in the namespace. */
static int find_link(struct fs *fs, uint64_t ino, struct find_link *f)
{
	struct fs_inode *in = malloc(sizeof(*in));
	struct fs_key start, end;
	int rc;

	if (!in)
		return -ENOMEM;
	memset(f, 0, sizeof(*f));
	f->ino = ino;
	rc = fs_inode_load(fs, NULL, ino, in);
	if (rc < 0) {
		free(in);
		return fs_read_err(rc);
	}
	if (S_ISDIR(in->mode)) {
		fs_key_dirent(&start, in->parent, NULL, 0);
		end = start;
		fs_key_prefix_end(&end);
	} else {
		fs_key_make(&start, FS_NAMESPACE, FS_TAG_DIRENT, NULL, NULL, 0);
		fs_key_make(&end, FS_NAMESPACE, FS_TAG_DIRENT + 1, NULL, NULL, 0);
	}
	free(in);
	rc = fs_scan(fs, start.b, start.len, end.b, end.len, find_link_cb, f);
	if (rc < 0)
		return fs_read_err(rc);
	return f->found ? 0 : -ENOENT;
}

int fs_path(struct fs *fs, uint64_t ino, char *buf, size_t size)
{
	struct find_link f;
	struct fs_nsmeta nm;
	char *tmp;
	size_t pos;
	int rc;

	if (size < 2)
		return -ENAMETOOLONG;
	if ((rc = fs_serviceable(fs, FS_NAMESPACE)) < 0)
		return rc;
	if (ino == FS_ROOT_INO) {
		strcpy(buf, "/");
		return 0;
	}
	if ((rc = fs_nsmeta_load(fs, NULL, &nm)) < 0)
		return fs_read_err(rc);
	if (!(tmp = malloc(size)))
		return -ENOMEM;
	/* Built backwards from the leaf: "/b" then "/a/b". */
	pos = size - 1;
	tmp[pos] = '\0';
	for (uint64_t x = ino, steps = 0; x != FS_ROOT_INO; steps++) {
		if (steps > nm.inodes) {
			rc = -EIO; /* a parent cycle */
			goto out;
		}
		if ((rc = find_link(fs, x, &f)) < 0)
			goto out;
		if (f.namelen + 1 > pos) {
			rc = -ENAMETOOLONG;
			goto out;
		}
		pos -= f.namelen;
		memcpy(tmp + pos, f.name, f.namelen);
		tmp[--pos] = '/';
		x = f.parent;
	}
	memmove(buf, tmp + pos, size - pos);
	rc = 0;
out:
	free(tmp);
	return rc;
}
