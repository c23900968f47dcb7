/* fs/snapshot.c — an entity's state as a stream of bounded chunks, for a
 * node that fell behind the log's trim point.
 *
 *   export:  [seq 0: cursor, kvs...] [seq 1: cursor, kvs...] ... [last]
 *            kvs in key order; each chunk repeats the cursor (applied entry,
 *            chain, digest) it was taken at, and the exporter refuses to go
 *            on (-ESTALE) once the entity has been applied since
 *   install: first chunk -> installing marker, old state swept;
 *            each chunk  -> its records, digest accumulated;
 *            finish      -> digest checked, ApplyMeta written, marker gone
 *
 * Invariant: while the installing marker is set the entity serves nothing
 * and applies nothing, so a half-installed state is never seen.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs_int.h"
#include "fs/hash.h"
#include "fs/keys.h"
#include "fs/record.h"
#include "proto/fs.pb-c.h"
#include "util/budget.h"
#include "util/log.h"

#define INSTALL_FIXUP_BATCH 1024

/* ---- export ----------------------------------------------------------- */

struct fs_export {
	struct fs *fs;
	uint64_t entity;
	struct store_apply_meta am;
	struct fs_key resume; /* the last key exported */
	bool started, done;
	uint32_t seq;
};

int fs_export_open(struct fs *fs, uint64_t entity, struct fs_export **out)
{
	struct fs_export *e;
	struct fs_key k;
	void *v;
	size_t vl;
	int rc;

	*out = NULL;
	if (entity == 0)
		return -EINVAL;
	if ((rc = fs_serviceable(fs, entity)) < 0)
		return rc;
	if (!(e = calloc(1, sizeof(*e))))
		return -ENOMEM;
	e->fs = fs;
	e->entity = entity;
	if ((rc = fs_applied(fs, entity, &e->am)) < 0)
		goto fail;
	if (entity != FS_NAMESPACE) {
		fs_key_attr(&k, entity);
		if ((rc = fs_get(fs, NULL, k.b, k.len, &v, &vl)) < 0)
			goto fail;
		free(v);
	}
	*out = e;
	return 0;
fail:
	free(e);
	return rc == -ENOENT || rc == -ENOMEM ? rc : -EIO;
}

void fs_export_free(struct fs_export *e)
{
	free(e);
}

struct export_scan {
	Paxfs__FsKeyValue *kvs;
	Paxfs__FsKeyValue **ptrs;
	size_t n, cap;
	size_t bytes, max;
	bool full;
	int rc;
};

static int export_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct export_scan *x = arg;
	if (klen < 9 || klen >= FS_KEY_MAX) {
		/* fs/ never writes such a key: damage */
		x->rc = -EBADMSG;
		return 1;
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		Paxfs__FsKeyValue *kvs = realloc(x->kvs, cap * sizeof(*kvs));
		if (!kvs) {
			x->rc = -ENOMEM;
			return 1;
		}
		x->kvs = kvs;
		x->cap = cap;
	}
	Paxfs__FsKeyValue *kv = &x->kvs[x->n];
	paxfs__fs_key_value__init(kv);
	kv->key.data = malloc(klen);
	kv->value.data = malloc(vlen ? vlen : 1);
	if (!kv->key.data || !kv->value.data) {
		free(kv->key.data);
		free(kv->value.data);
		x->rc = -ENOMEM;
		return 1;
	}
	memcpy(kv->key.data, key, klen);
	if (vlen)
		memcpy(kv->value.data, val, vlen);
	kv->key.len = klen;
	kv->value.len = vlen;
	x->n++;
	x->bytes += klen + vlen;
	if (x->bytes >= x->max) {
		x->full = true;
		return 1;
	}
	return 0;
}

int fs_export_next(struct fs_export *e, size_t max_bytes, uint8_t **buf, size_t *len, bool *last)
{
	struct export_scan x = {.max = max_bytes ? max_bytes : 1};
	struct store_apply_meta now;
	struct fs_key start;
	uint8_t end[8];
	int rc;

	*buf = NULL;
	*last = false;
	if (e->done)
		return -EINVAL;
	if ((rc = fs_serviceable(e->fs, e->entity)) < 0)
		return rc;
	if ((rc = fs_applied(e->fs, e->entity, &now)) < 0)
		return rc == -ENOENT ? -ESTALE : -EIO;
	if (now.applied_entry != e->am.applied_entry || now.chain_crc != e->am.chain_crc ||
	    now.state_digest != e->am.state_digest)
		return -ESTALE;

	if (e->started) {
		/* The smallest key after the last one sent. */
		start = e->resume;
		start.b[start.len++] = 0;
	} else {
		util_put_be64(start.b, e->entity);
		start.len = 8;
	}
	util_put_be64(end, e->entity + 1);
	rc = fs_scan(e->fs, start.b, start.len, end, sizeof(end), export_cb, &x);
	if (x.rc)
		rc = x.rc;
	else if (rc == 1)
		rc = 0;
	if (rc == -EBADMSG && !fs_entity_bad(e->fs, e->entity))
		fs_mark_bad(e->fs, e->entity, "a state record has a malformed key");
	if (rc < 0) {
		rc = rc == -ENOMEM ? rc : -EIO;
		goto out;
	}

	Paxfs__FsSnapshotChunk ch;
	paxfs__fs_snapshot_chunk__init(&ch);
	ch.entity = e->entity;
	ch.applied_entry = e->am.applied_entry;
	ch.chain_crc = e->am.chain_crc;
	ch.state_digest = e->am.state_digest;
	ch.seq = e->seq;
	x.ptrs = malloc((x.n ? x.n : 1) * sizeof(*x.ptrs));
	if (!x.ptrs) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < x.n; i++)
		x.ptrs[i] = &x.kvs[i];
	ch.n_kvs = x.n;
	ch.kvs = x.ptrs;
	ch.last = !x.full;
	size_t sz = paxfs__fs_snapshot_chunk__get_packed_size(&ch);
	if (!(*buf = malloc(sz ? sz : 1))) {
		rc = -ENOMEM;
		goto out;
	}
	*len = paxfs__fs_snapshot_chunk__pack(&ch, *buf);
	*last = ch.last;
	if (x.n) {
		Paxfs__FsKeyValue *kv = &x.kvs[x.n - 1];
		memcpy(e->resume.b, kv->key.data, kv->key.len);
		e->resume.len = kv->key.len;
	}
	e->started = true;
	e->done = ch.last;
	e->seq++;
	rc = 0;
out:
	for (size_t i = 0; i < x.n; i++) {
		free(x.kvs[i].key.data);
		free(x.kvs[i].value.data);
	}
	free(x.kvs);
	free(x.ptrs);
	return rc;
}

/* ---- install ---------------------------------------------------------- */

struct fs_install {
	struct fs *fs;
	uint64_t entity;
	bool begun, got_last, failed;
	uint32_t next_seq;
	struct store_apply_meta am; /* the sender's cursor */
	uint64_t digest;            /* of what was installed so far */
	struct fs_key last_key;
	bool have_last_key;
};

int fs_install_open(struct fs *fs, uint64_t entity, struct fs_install **out)
{
	struct fs_install *in;
	*out = NULL;
	if (entity == 0)
		return -EINVAL;
	if (!(in = calloc(1, sizeof(*in))))
		return -ENOMEM;
	in->fs = fs;
	in->entity = entity;
	*out = in;
	return 0;
}

void fs_install_free(struct fs_install *in)
{
	free(in);
}

/* Marks the entity installing (memory first, then the store) and sweeps
 * away its old state. */
static int install_begin(struct fs_install *in)
{
	struct fs *fs = in->fs;
	struct store_apply_meta local;
	struct fs_key k;
	int rc;

	rc = store_get_apply_meta(fs->st, in->entity, &local);
	if (rc < 0 && rc != -ENOENT && rc != -EBADMSG)
		return -EIO;
	if (rc == 0 && !fs_idset_has(&fs->bad, in->entity) &&
	    !fs_idset_has(&fs->installing, in->entity) &&
	    local.applied_entry >= in->am.applied_entry)
		return -EALREADY;
	if ((rc = fs_idset_add(&fs->installing, in->entity)) < 0)
		return rc;
	struct store_batch *b = store_batch_new();
	if (!b)
		return -ENOMEM;
	fs_key_mark(&k, FS_TAG_INSTALL, in->entity);
	store_batch_put_state(b, k.b, k.len, "", 0);
	rc = store_write(fs->st, b, false);
	store_batch_free(b);
	if (rc < 0)
		return rc == -ENOSPC ? rc : -EIO;
	LOG_INFO("fs: installing a snapshot of entity %llu at entry %llu",
		 (unsigned long long)in->entity, (unsigned long long)in->am.applied_entry);
	rc = fs_sweep_entity(fs, in->entity);
	return rc;
}

static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

int fs_install_chunk(struct fs_install *in, const uint8_t *buf, size_t len)
{
	Paxfs__FsSnapshotChunk *ch;
	struct store_batch *b = NULL;
	int rc = 0;

	if (in->failed)
		return -EPROTO;
	if (in->got_last)
		return -EPROTO;
	/* From a peer: decoded under a memory budget (util/budget.h). */
	struct util_budget cb;
	util_budget_init(&cb, util_decode_limit(len));
	ProtobufCAllocator ca = {util_budget_alloc, util_budget_free, &cb};
	ch = paxfs__fs_snapshot_chunk__unpack(&ca, len, buf);
	if (!ch) {
		rc = -EBADMSG;
		goto out;
	}
	if (ch->entity != in->entity) {
		rc = -EBADMSG;
		goto out;
	}
	if (ch->seq != in->next_seq) {
		rc = -EPROTO;
		goto out;
	}
	if (ch->seq == 0) {
		in->am.applied_entry = ch->applied_entry;
		in->am.chain_crc = ch->chain_crc;
		in->am.state_digest = ch->state_digest;
		if ((rc = install_begin(in)) < 0)
			goto out;
		in->begun = true;
	} else if (ch->applied_entry != in->am.applied_entry || ch->chain_crc != in->am.chain_crc ||
		   ch->state_digest != in->am.state_digest) {
		rc = -EBADMSG;
		goto out;
	}
	if (!(b = store_batch_new())) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ch->n_kvs; i++) {
		const ProtobufCBinaryData *k = &ch->kvs[i]->key, *v = &ch->kvs[i]->value;
		if (k->len < 9 || k->len >= FS_KEY_MAX ||
		    fs_key_entity(k->data, k->len) != in->entity ||
		    (in->have_last_key &&
		     key_cmp(k->data, k->len, in->last_key.b, in->last_key.len) <= 0)) {
			rc = -EBADMSG;
			goto out;
		}
		memcpy(in->last_key.b, k->data, k->len);
		in->last_key.len = k->len;
		in->have_last_key = true;
		in->digest ^= fs_hash_kv(k->data, k->len, v->data, v->len);
		store_batch_put_state(b, k->data, k->len, v->len ? (const void *)v->data : "",
				      v->len);
	}
	if (!store_batch_empty(b) && (rc = store_write(in->fs->st, b, false)) < 0) {
		rc = rc == -ENOSPC ? rc : -EIO;
		goto out;
	}
	in->next_seq++;
	in->got_last = ch->last;
out:
	if (rc < 0) {
		in->failed = true;
		LOG_WARN("fs: snapshot chunk of entity %llu refused (%d)",
			 (unsigned long long)in->entity, rc);
	}
	store_batch_free(b);
	if (ch)
		paxfs__fs_snapshot_chunk__free_unpacked(ch, &ca);
	return rc;
}

/* After a namespace install: every regular file the namespace names gets
 * its initial state if this node has none (from the birth record). */
struct fixup {
	struct fs *fs;
	struct store_batch *b;
	size_t queued;
	int rc;
};

static int fixup_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct fixup *fx = arg;
	struct fs_inode *in = malloc(sizeof(*in));
	struct store_apply_meta am;
	struct fs_file f;
	struct fs_key k;
	uint8_t *fb = NULL;
	size_t fl;
	int rc;

	if (!in) {
		fx->rc = -ENOMEM;
		return 1;
	}
	if (klen != 17 || fs_inode_decode(val, vlen, in) < 0) {
		fx->rc = -EBADMSG;
		goto out;
	}
	uint64_t ino = util_get_be64((const uint8_t *)key + 9);
	if (!S_ISREG(in->mode))
		goto out;
	rc = store_get_apply_meta(fx->fs->st, ino, &am);
	if (rc != -ENOENT) {
		if (rc < 0 && rc != -EBADMSG)
			fx->rc = -EIO;
		goto out;
	}
	fs_file_from_birth(in, &f);
	if ((fx->rc = fs_file_encode(&f, &fb, &fl)) < 0)
		goto out;
	fs_key_attr(&k, ino);
	memset(&am, 0, sizeof(am));
	am.state_digest = fs_hash_kv(k.b, k.len, fb, fl);
	store_batch_put_state(fx->b, k.b, k.len, fb, fl);
	store_batch_put_apply_meta(fx->b, ino, &am);
	fs_key_mark(&k, FS_TAG_DEAD, ino);
	store_batch_del_state(fx->b, k.b, k.len);
	free(fb);
	if (++fx->queued >= INSTALL_FIXUP_BATCH) {
		if ((rc = store_write(fx->fs->st, fx->b, false)) < 0)
			fx->rc = rc;
		fx->queued = 0;
	}
out:
	free(in);
	return fx->rc ? 1 : 0;
}

static int add_unlinked(struct fs_apply_out *o, uint64_t ino)
{
	if (o->n_unlinked == o->cap_unlinked) {
		size_t cap = o->cap_unlinked ? o->cap_unlinked * 2 : 8;
		uint64_t *p = realloc(o->unlinked, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		o->unlinked = p;
		o->cap_unlinked = cap;
	}
	o->unlinked[o->n_unlinked++] = ino;
	return 0;
}

/* File entities alive here that the new namespace no longer names. */
static int find_orphans(struct fs *fs, struct fs_apply_out *out)
{
	uint64_t e = FS_NAMESPACE;
	struct fs_key k;
	void *v;
	size_t vl;
	int rc;

	for (;;) {
		if ((rc = fs_next_state_entity(fs, e, &e)) < 0)
			return -EIO;
		if (!e)
			return 0;
		fs_key_attr(&k, e);
		if (store_get_state(fs->st, k.b, k.len, &v, &vl) < 0)
			continue;
		free(v);
		fs_key_inode(&k, e);
		rc = store_get_state(fs->st, k.b, k.len, &v, &vl);
		if (rc == 0) {
			free(v);
			continue;
		}
		if (rc == -ENOENT && out && (rc = add_unlinked(out, e)) < 0)
			return rc;
	}
}

int fs_install_finish(struct fs_install *in, struct fs_apply_out *out)
{
	struct fs *fs = in->fs;
	struct fs_key k;
	int rc;

	if (out) {
		out->n_results = out->n_inodes = out->n_entries = out->n_unlinked = 0;
		out->skipped = out->noop = false;
	}
	if (in->failed || !in->got_last)
		return -EPROTO;
	if (in->digest != in->am.state_digest) {
		LOG_ERR("fs: snapshot of entity %llu: digest %016llx of what arrived, %016llx "
			"announced: refused, the entity stays unavailable",
			(unsigned long long)in->entity, (unsigned long long)in->digest,
			(unsigned long long)in->am.state_digest);
		in->failed = true;
		return -EBADMSG;
	}
	struct store_batch *b = store_batch_new();
	if (!b)
		return -ENOMEM;
	if (in->entity == FS_NAMESPACE) {
		/* Before the install completes, so that a crash in between
		 * leaves it unfinished (to be redone) rather than finished with
		 * files missing. */
		struct fixup fx = {.fs = fs, .b = b};
		struct fs_key start, end;
		fs_key_make(&start, FS_NAMESPACE, FS_TAG_INODE, NULL, NULL, 0);
		fs_key_make(&end, FS_NAMESPACE, FS_TAG_INODE + 1, NULL, NULL, 0);
		rc = store_scan_state(fs->st, start.b, start.len, end.b, end.len, fixup_cb, &fx);
		if (fx.rc)
			rc = fx.rc;
		if (rc >= 0 && fx.queued)
			rc = store_write(fs->st, b, false);
		if (rc < 0) {
			LOG_ERR("fs: installing the namespace: creating the files it names failed "
				"(%d)",
				rc);
			store_batch_free(b);
			in->failed = true;
			return rc == -ENOSPC || rc == -ENOMEM ? rc : rc == -EBADMSG ? rc : -EIO;
		}
		store_batch_clear(b);
	}
	store_batch_put_apply_meta(b, in->entity, &in->am);
	fs_key_mark(&k, FS_TAG_INSTALL, in->entity);
	store_batch_del_state(b, k.b, k.len);
	fs_key_mark(&k, FS_TAG_BAD, in->entity);
	store_batch_del_state(b, k.b, k.len);
	fs_key_mark(&k, FS_TAG_DEAD, in->entity);
	store_batch_del_state(b, k.b, k.len);
	rc = store_write(fs->st, b, false);
	store_batch_free(b);
	if (rc < 0) {
		in->failed = true;
		return rc == -ENOSPC ? rc : -EIO;
	}
	fs_idset_del(&fs->installing, in->entity);
	fs_idset_del(&fs->bad, in->entity);
	in->got_last = false;
	in->failed = true; /* done: the handle takes no more */
	LOG_INFO("fs: snapshot of entity %llu installed at entry %llu",
		 (unsigned long long)in->entity, (unsigned long long)in->am.applied_entry);
	if (in->entity == FS_NAMESPACE && (rc = find_orphans(fs, out)) < 0)
		return rc;
	return 0;
}
