/* fs/fs.c — opening the file system, the marks of bad and installing
 * entities, and the read helpers every other file of fs/ uses.
 *
 * Invariant: a store that fs_open returned from holds a namespace (root
 * inode, FsNamespace, ApplyMeta of entity 1), unless an install of the
 * namespace is under way (the install then brings it).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs_int.h"
#include "fs/hash.h"
#include "fs/keys.h"
#include "fs/record.h"
#include "fs/txn.h"
#include "proto/fs.pb-c.h"
#include "util/log.h"

/* ---- id sets ---------------------------------------------------------- */

bool fs_idset_has(const struct fs_idset *s, uint64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->ids[i] == id)
			return true;
	return false;
}

int fs_idset_add(struct fs_idset *s, uint64_t id)
{
	if (fs_idset_has(s, id))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		uint64_t *p = realloc(s->ids, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->ids = p;
		s->cap = cap;
	}
	s->ids[s->n++] = id;
	return 0;
}

void fs_idset_del(struct fs_idset *s, uint64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->ids[i] == id) {
			s->ids[i] = s->ids[--s->n];
			return;
		}
}

void fs_idset_close(struct fs_idset *s)
{
	free(s->ids);
	memset(s, 0, sizeof(*s));
}

/* ---- bad entities ----------------------------------------------------- */

void fs_mark_bad(struct fs *fs, uint64_t entity, const char *fmt, ...)
{
	char reason[120];
	va_list ap;

	if (fs_idset_has(&fs->bad, entity))
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	LOG_ERR("fs: entity %llu is bad (%s): it answers EIO until repaired",
		(unsigned long long)entity, reason);
	if (fs_idset_add(&fs->bad, entity) < 0)
		LOG_ERR("fs: out of memory remembering bad entity %llu",
			(unsigned long long)entity);

	Paxfs__FsBadMark m;
	paxfs__fs_bad_mark__init(&m);
	m.reason = reason;
	size_t len = paxfs__fs_bad_mark__get_packed_size(&m);
	uint8_t buf[sizeof(reason) + 16];
	struct fs_key k;
	struct store_batch *b = store_batch_new();
	int rc = -ENOMEM;
	if (b && len <= sizeof(buf)) {
		paxfs__fs_bad_mark__pack(&m, buf);
		fs_key_mark(&k, FS_TAG_BAD, entity);
		store_batch_put_state(b, k.b, k.len, buf, len);
		rc = store_write(fs->st, b, false);
	}
	if (rc)
		LOG_ERR("fs: could not persist the bad mark of entity %llu (%d)",
			(unsigned long long)entity, rc);
	store_batch_free(b);
}

bool fs_entity_bad(struct fs *fs, uint64_t entity)
{
	return fs_idset_has(&fs->bad, entity);
}

int fs_serviceable(struct fs *fs, uint64_t entity)
{
	if (fs_idset_has(&fs->bad, entity) || fs_idset_has(&fs->installing, entity))
		return -EIO;
	return 0;
}

/* ---- reads ------------------------------------------------------------ */

int fs_get(struct fs *fs, struct fs_txn *t, const void *key, size_t klen, void **val, size_t *vlen)
{
	if (t)
		return fs_txn_get(t, key, klen, val, vlen);
	int rc = store_get_state(fs->st, key, klen, val, vlen);
	if (rc == -EBADMSG)
		fs_mark_bad(fs, fs_key_entity(key, klen), "a state record fails its checksum");
	return rc;
}

int fs_scan(struct fs *fs, const void *start, size_t slen, const void *end, size_t elen,
	    store_state_cb cb, void *arg)
{
	int rc = store_scan_state(fs->st, start, slen, end, elen, cb, arg);
	if (rc == -EBADMSG)
		fs_mark_bad(fs, fs_key_entity(start, slen), "a state record fails its checksum");
	return rc;
}

struct first_key {
	uint64_t entity;
	bool found;
};

static int first_key_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct first_key *f = arg;
	f->entity = fs_key_entity(key, klen);
	f->found = true;
	return 1;
}

int fs_next_state_entity(struct fs *fs, uint64_t after, uint64_t *entity)
{
	uint8_t start[8];
	struct first_key f = {0};
	*entity = 0;
	if (after == UINT64_MAX)
		return 0;
	util_put_be64(start, after + 1 > 1 ? after + 1 : 1);
	int rc = store_scan_state(fs->st, start, sizeof(start), NULL, 0, first_key_cb, &f);
	if (rc < 0)
		return rc;
	if (f.found)
		*entity = f.entity;
	return 0;
}

/* ---- open ------------------------------------------------------------- */

struct load_marks {
	struct fs_idset *set;
	int rc;
};

static int load_marks_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct load_marks *lm = arg;
	if (klen != 17) {
		lm->rc = -EBADMSG;
		return 1;
	}
	lm->rc = fs_idset_add(lm->set, util_get_be64((const uint8_t *)key + 9));
	return lm->rc ? 1 : 0;
}

static int load_marks(struct fs *fs, uint8_t tag, struct fs_idset *set)
{
	struct fs_key start, end;
	struct load_marks lm = {.set = set};
	fs_key_make(&start, 0, tag, NULL, NULL, 0);
	fs_key_make(&end, 0, tag + 1, NULL, NULL, 0);
	int rc = store_scan_state(fs->st, start.b, start.len, end.b, end.len, load_marks_cb, &lm);
	if (lm.rc)
		return lm.rc;
	return rc < 0 ? rc : 0;
}

/* Writes the namespace of a new file system: the root and the counter. */
static int create_namespace(struct fs *fs)
{
	struct fs_inode root;
	struct fs_nsmeta nm = {.next_counter = 1, .inodes = 1};
	struct store_apply_meta am = {0};
	struct fs_key kr, kn;
	uint8_t *rb = NULL, *nb = NULL;
	size_t rl, nl;
	int rc;

	memset(&root, 0, sizeof(root));
	root.mode = S_IFDIR | (fs->opt.root_mode & 07777);
	root.uid = fs->opt.root_uid;
	root.gid = fs->opt.root_gid;
	root.nlink = 2;
	root.parent = FS_ROOT_INO;
	fs_key_inode(&kr, FS_ROOT_INO);
	fs_key_nsmeta(&kn);
	if ((rc = fs_inode_encode(&root, &rb, &rl)) < 0 ||
	    (rc = fs_nsmeta_encode(&nm, &nb, &nl)) < 0)
		goto out;
	am.state_digest = fs_hash_kv(kr.b, kr.len, rb, rl) ^ fs_hash_kv(kn.b, kn.len, nb, nl);

	struct store_batch *b = store_batch_new();
	if (!b) {
		rc = -ENOMEM;
		goto out;
	}
	store_batch_put_state(b, kr.b, kr.len, rb, rl);
	store_batch_put_state(b, kn.b, kn.len, nb, nl);
	store_batch_put_apply_meta(b, FS_NAMESPACE, &am);
	/* Unsynced like every apply: a new namespace lost in a crash is made
	 * again, identically, by the next fs_open. */
	rc = store_write(fs->st, b, false);
	store_batch_free(b);
out:
	free(rb);
	free(nb);
	return rc;
}

int fs_open(struct store *st, const struct fs_options *opt, struct fs **out)
{
	struct store_apply_meta am;
	struct fs *fs;
	int rc;

	*out = NULL;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->st = st;
	if (opt) {
		fs->opt = *opt;
	} else {
		fs->opt.root_mode = FS_ROOT_MODE_DEFAULT;
	}
	if ((rc = fs_txn_new(fs, &fs->txn)) < 0)
		goto fail;
	if ((rc = load_marks(fs, FS_TAG_BAD, &fs->bad)) < 0 ||
	    (rc = load_marks(fs, FS_TAG_INSTALL, &fs->installing)) < 0) {
		LOG_ERR("fs: cannot read the marks of bad or installing entities (%d)", rc);
		goto fail;
	}
	rc = store_get_apply_meta(st, FS_NAMESPACE, &am);
	if (rc == -ENOENT && !fs_idset_has(&fs->installing, FS_NAMESPACE))
		rc = create_namespace(fs);
	else if (rc == -ENOENT)
		rc = 0;
	if (rc < 0) {
		LOG_ERR("fs: cannot read or create the namespace (%d)", rc);
		goto fail;
	}
	for (size_t i = 0; i < fs->bad.n; i++)
		LOG_WARN("fs: entity %llu is marked bad: it answers EIO",
			 (unsigned long long)fs->bad.ids[i]);
	for (size_t i = 0; i < fs->installing.n; i++)
		LOG_WARN("fs: entity %llu has an unfinished snapshot install: it answers EIO until "
			 "an install finishes",
			 (unsigned long long)fs->installing.ids[i]);
	*out = fs;
	return 0;
fail:
	fs_free(fs);
	return rc;
}

void fs_free(struct fs *fs)
{
	if (!fs)
		return;
	fs_txn_free(fs->txn);
	fs_idset_close(&fs->bad);
	fs_idset_close(&fs->installing);
	free(fs);
}

int fs_applied(struct fs *fs, uint64_t entity, struct store_apply_meta *out)
{
	int rc = store_get_apply_meta(fs->st, entity, out);
	if (rc == -EBADMSG)
		fs_mark_bad(fs, entity, "its ApplyMeta fails its checksum");
	return rc;
}
