/* fs/apply.c — fs_apply: one chosen entry of one entity, applied atomically.
 *
 *   value --decode--> (id, Command)*  --each--> fs_apply_ns / fs_apply_file
 *                                                 |  into one fs_txn
 *   seal: state changes + ApplyMeta {entry, c_i = crc32c(c_{i-1}, value),
 *         digest ^= delta} (+ ApplyMeta of files born) --> one store batch
 *
 * Invariant: the entity's state in the store is always exactly its applied
 * prefix; a value is applied entirely or not at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "fs/apply_int.h"
#include "fs/fs_int.h"
#include "fs/keys.h"
#include "fs/record.h"
#include "fs/txn.h"
#include "proto/command.pb-c.h"
#include "util/budget.h"
#include "util/crc32c.h"
#include "util/log.h"

/* ---- the out structure ------------------------------------------------ */

void fs_apply_out_init(struct fs_apply_out *o)
{
	memset(o, 0, sizeof(*o));
}

void fs_apply_out_close(struct fs_apply_out *o)
{
	free(o->results);
	free(o->inodes);
	free(o->entries);
	free(o->unlinked);
	memset(o, 0, sizeof(*o));
}

static void out_reset(struct fs_apply_out *o)
{
	o->skipped = o->noop = false;
	o->n_results = o->n_inodes = o->n_entries = o->n_unlinked = 0;
	o->batch_bytes = 0;
	memset(&o->meta, 0, sizeof(o->meta));
}

static bool reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	void *p = realloc(*arr, ncap * elem);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

void fs_out_inode(struct fs_actx *c, uint64_t ino, bool data, uint64_t off, uint64_t len)
{
	struct fs_apply_out *o = c->out;
	for (size_t i = 0; i < o->n_inodes; i++) {
		struct fs_inval_inode *v = &o->inodes[i];
		if (v->ino != ino)
			continue;
		if (data && !v->data) {
			v->data = true;
			v->off = off;
			v->len = len;
		} else if (data) {
			/* Union of the two ranges; len 0 means "to the end". */
			uint64_t end = len ? off + len : 0, vend = v->len ? v->off + v->len : 0;
			v->off = off < v->off ? off : v->off;
			v->len = (end == 0 || vend == 0) ? 0 : (end > vend ? end : vend) - v->off;
		}
		return;
	}
	if (!reserve((void **)&o->inodes, &o->cap_inodes, o->n_inodes + 1, sizeof(*o->inodes))) {
		fs_txn_fail(c->t, -ENOMEM);
		return;
	}
	o->inodes[o->n_inodes++] = (struct fs_inval_inode){
	    .ino = ino, .data = data, .off = data ? off : 0, .len = data ? len : 0};
}

void fs_out_entry(struct fs_actx *c, uint64_t parent, const void *name, size_t namelen,
		  uint64_t child, bool removed)
{
	struct fs_apply_out *o = c->out;
	if (!reserve((void **)&o->entries, &o->cap_entries, o->n_entries + 1,
		     sizeof(*o->entries))) {
		fs_txn_fail(c->t, -ENOMEM);
		return;
	}
	struct fs_inval_entry *e = &o->entries[o->n_entries++];
	if (namelen > FS_NAME_MAX)
		namelen = FS_NAME_MAX;
	e->parent = parent;
	e->child = child;
	e->removed = removed;
	e->namelen = namelen;
	memcpy(e->name, name, namelen);
	e->name[namelen] = '\0';
}

void fs_out_unlinked(struct fs_actx *c, uint64_t ino)
{
	struct fs_apply_out *o = c->out;
	if (!reserve((void **)&o->unlinked, &o->cap_unlinked, o->n_unlinked + 1,
		     sizeof(*o->unlinked))) {
		fs_txn_fail(c->t, -ENOMEM);
		return;
	}
	o->unlinked[o->n_unlinked++] = ino;
}

void fs_out_born(struct fs_actx *c, uint64_t ino)
{
	if (!reserve((void **)&c->born, &c->cap_born, c->n_born + 1, sizeof(*c->born))) {
		fs_txn_fail(c->t, -ENOMEM);
		return;
	}
	c->born[c->n_born++] = ino;
}

bool fs_out_is_born(const struct fs_actx *c, uint64_t ino)
{
	for (size_t i = 0; i < c->n_born; i++)
		if (c->born[i] == ino)
			return true;
	return false;
}

void fs_result_stat(struct fs_actx *c, uint64_t ino, const struct fs_inode *ns,
		    const struct fs_file *f)
{
	struct fs_file file;
	if (!f && (!ns || S_ISREG(ns->mode))) {
		/* Another entity's state: read without failing this apply
		 * (a damaged file must not stop the namespace). */
		struct fs_txn *t = fs_out_is_born(c, ino) || ino == c->entity ? c->t : NULL;
		if (fs_file_load(c->fs, t, ino, &file) < 0)
			return;
		f = &file;
	}
	fs_stat_fill(&c->res->st, ino, ns, f);
	c->res->has_stat = true;
}

int fs_xattr_check(const ProtobufCBinaryData *name, const ProtobufCBinaryData *value,
		   uint32_t flags, bool remove)
{
	if (name->len == 0 || name->len > FS_XATTR_NAME_MAX)
		return -ERANGE;
	if (memchr(name->data, '\0', name->len))
		return -EINVAL;
	if (remove)
		return 0;
	if (value->len > FS_XATTR_SIZE_MAX)
		return -E2BIG;
	if ((flags & ~(uint32_t)(XATTR_CREATE | XATTR_REPLACE)) ||
	    flags == (XATTR_CREATE | XATTR_REPLACE))
		return -EINVAL;
	return 0;
}

int fs_xattr_write(struct fs_actx *c, uint64_t ino, bool file_entity,
		   const ProtobufCBinaryData *name, const ProtobufCBinaryData *value,
		   uint32_t flags, bool remove)
{
	struct fs_key k;
	void *old;
	size_t olen;
	int rc;

	fs_key_xattr(&k, ino, file_entity, name->data, name->len);
	rc = fs_get(c->fs, c->t, k.b, k.len, &old, &olen);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	if (rc == 0)
		free(old);
	bool exists = rc == 0;
	if (remove)
		return exists ? fs_txn_del(c->t, k.b, k.len) : -ENODATA;
	if ((flags & XATTR_CREATE) && exists)
		return -EEXIST;
	if ((flags & XATTR_REPLACE) && !exists)
		return -ENODATA;
	return fs_txn_put(c->t, k.b, k.len, value->data, value->len);
}

int fs_name_check(const void *name, size_t len)
{
	const char *n = name;
	if (len == 0)
		return -EINVAL;
	if (len > FS_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(n, '/', len) || memchr(n, '\0', len))
		return -EINVAL;
	if ((len == 1 && n[0] == '.') || (len == 2 && n[0] == '.' && n[1] == '.'))
		return -EINVAL;
	return 0;
}

/* ---- fs_apply --------------------------------------------------------- */

/* A file entity with no ApplyMeta here: not created yet (its inode number is
 * beyond the namespace's counter), or created and gone before this node saw
 * it (a namespace snapshot skipped its life). */
static int file_missing(struct fs *fs, uint64_t entity, bool *pending)
{
	struct fs_nsmeta nm;
	int rc = fs_nsmeta_load(fs, NULL, &nm);
	if (rc < 0)
		return rc == -EBADMSG ? -EIO : rc;
	*pending = (entity >> 8) >= nm.next_counter;
	return 0;
}

/* Consumes an entry of a file entity that is gone here: the cursor and the
 * chain advance, nothing else (the value is not even decoded). */
static int consume_dead(struct fs *fs, uint64_t entity, uint64_t entry, const uint8_t *value,
			size_t len, const struct store_apply_meta *prev, struct fs_apply_out *out)
{
	struct store_apply_meta am = {0};
	struct fs_key k;
	struct store_batch *b = fs_txn_batch(fs->txn);
	int rc;

	fs_txn_reset(fs->txn);
	am.applied_entry = entry;
	am.chain_crc = util_crc32c(prev ? prev->chain_crc : 0, value, len);
	am.state_digest = 0;
	store_batch_put_apply_meta(b, entity, &am);
	fs_key_mark(&k, FS_TAG_DEAD, entity);
	store_batch_put_state(b, k.b, k.len, "", 0);
	out->batch_bytes = store_batch_bytes(b);
	rc = store_write(fs->st, b, false);
	fs_txn_reset(fs->txn);
	if (rc)
		return rc == -ENOSPC ? rc : -EIO;
	out->noop = true;
	out->meta = am;
	return 0;
}

static bool is_ns_op(Paxfs__Command__OpCase op)
{
	switch (op) {
	case PAXFS__COMMAND__OP_CREATE:
	case PAXFS__COMMAND__OP_MKDIR:
	case PAXFS__COMMAND__OP_MKNOD:
	case PAXFS__COMMAND__OP_SYMLINK:
	case PAXFS__COMMAND__OP_LINK:
	case PAXFS__COMMAND__OP_UNLINK:
	case PAXFS__COMMAND__OP_RMDIR:
	case PAXFS__COMMAND__OP_RENAME:
		return true;
	default:
		return false;
	}
}

static bool is_known_op(Paxfs__Command__OpCase op)
{
	switch (op) {
	case PAXFS__COMMAND__OP_WRITE:
	case PAXFS__COMMAND__OP_APPEND:
	case PAXFS__COMMAND__OP_TRUNCATE:
	case PAXFS__COMMAND__OP_SETATTR:
	case PAXFS__COMMAND__OP_FALLOCATE:
	case PAXFS__COMMAND__OP_SETXATTR:
	case PAXFS__COMMAND__OP_REMOVEXATTR:
	case PAXFS__COMMAND__OP_LOCK:
	case PAXFS__COMMAND__OP_LOCK_RELEASE:
	case PAXFS__COMMAND__OP_WRITE_SETATTR:
	case PAXFS__COMMAND__OP_LEASE_RENEW:
	case PAXFS__COMMAND__OP_LEASE_EXPIRE:
		return true;
	default:
		return is_ns_op(op);
	}
}

/* Runs one command; returns its outcome. */
static int run_command(struct fs_actx *c)
{
	Paxfs__Command__OpCase op = c->cmd->op_case;
	bool any_inode = op == PAXFS__COMMAND__OP_SETATTR || op == PAXFS__COMMAND__OP_SETXATTR ||
			 op == PAXFS__COMMAND__OP_REMOVEXATTR;
	bool lease = op == PAXFS__COMMAND__OP_LEASE_RENEW || op == PAXFS__COMMAND__OP_LEASE_EXPIRE;

	if (lease)
		return c->entity == FS_NAMESPACE ? fs_apply_lease(c) : -EINVAL;
	if (c->entity == FS_NAMESPACE) {
		/* Data commands belong to a file entity, never here. */
		if (!is_ns_op(op) && !any_inode)
			return -EINVAL;
		return fs_apply_ns(c);
	}
	if (is_ns_op(op))
		return -EINVAL;
	return fs_apply_file(c);
}

int fs_apply(struct fs *fs, uint64_t entity, uint64_t entry, const uint8_t *value, size_t len,
	     struct fs_apply_out *out)
{
	struct store_apply_meta am;
	struct fs_actx c = {0};
	Paxfs__Value *v = NULL;
	int rc;

	out_reset(out);
	if (entity == 0 || entry == 0)
		return -EINVAL;
	if (fs_idset_has(&fs->bad, entity))
		return -EIO;
	if (fs_idset_has(&fs->installing, entity))
		return -EAGAIN;

	rc = store_get_apply_meta(fs->st, entity, &am);
	if (rc == -EBADMSG) {
		fs_mark_bad(fs, entity, "its ApplyMeta fails its checksum");
		return -EBADMSG;
	}
	if (rc == -ENOENT) {
		bool pending;
		if (entity == FS_NAMESPACE) {
			LOG_ERR("fs: the namespace has no ApplyMeta (fs_open makes one)");
			return -EIO;
		}
		/* Pending or gone is the namespace's to say: wait while it
		 * cannot (being installed, or bad until repaired). */
		if (fs_serviceable(fs, FS_NAMESPACE) < 0)
			return -EAGAIN;
		if ((rc = file_missing(fs, entity, &pending)) < 0)
			return rc == -ENOENT ? -EAGAIN : rc;
		if (pending)
			return -EAGAIN;
		return consume_dead(fs, entity, entry, value, len, NULL, out);
	}
	if (rc < 0)
		return -EIO;
	out->meta = am;
	if (entry <= am.applied_entry) {
		out->skipped = true;
		return 0;
	}
	if (entry != am.applied_entry + 1) {
		LOG_ERR("fs: entity %llu: entry %llu applied before entry %llu",
			(unsigned long long)entity, (unsigned long long)entry,
			(unsigned long long)am.applied_entry + 1);
		return -EINVAL;
	}
	if (entity != FS_NAMESPACE) {
		struct fs_key k;
		void *val;
		size_t vlen;
		fs_key_attr(&k, entity);
		rc = fs_get(fs, NULL, k.b, k.len, &val, &vlen);
		if (rc == -ENOENT)
			return consume_dead(fs, entity, entry, value, len, &am, out);
		if (rc < 0)
			return rc;
		free(val);
	}

	/* A value comes from a peer: decoded under a memory budget
	 * (util/budget.h), a pure function of its bytes, so every node
	 * refuses the same values. */
	struct util_budget vb;
	util_budget_init(&vb, util_decode_limit(len));
	ProtobufCAllocator va = {util_budget_alloc, util_budget_free, &vb};
	v = paxfs__value__unpack(&va, len, value);
	if (!v && vb.oom && !vb.over)
		return -ENOMEM; /* this node's trouble, not the value's */
	if (!v) {
		fs_mark_bad(fs, entity, "entry %llu does not decode as a Value%s",
			    (unsigned long long)entry,
			    vb.over ? " (it would take more than 32 x its size in memory)" : "");
		return -EBADMSG;
	}
	if (!reserve((void **)&out->results, &out->cap_results, v->n_cmds ? v->n_cmds : 1,
		     sizeof(*out->results))) {
		paxfs__value__free_unpacked(v, &va);
		return -ENOMEM;
	}

	fs_txn_reset(fs->txn);
	c.fs = fs;
	c.t = fs->txn;
	c.entity = entity;
	c.out = out;
	for (size_t i = 0; i < v->n_cmds; i++) {
		Paxfs__ValueCmd *vc = v->cmds[i];
		struct util_budget cb;
		util_budget_init(&cb, util_decode_limit(vc->body.len));
		ProtobufCAllocator ca = {util_budget_alloc, util_budget_free, &cb};
		Paxfs__Command *cmd = paxfs__command__unpack(&ca, vc->body.len, vc->body.data);
		if (!cmd && cb.oom && !cb.over) {
			rc = -ENOMEM;
			goto abort;
		}
		if (!cmd || cmd->version != 1 || !is_known_op(cmd->op_case)) {
			/* Every node holds the same bytes, so every node stops
			 * here: refusing service beats guessing. */
			fs_mark_bad(fs, entity, "entry %llu command %zu: %s",
				    (unsigned long long)entry, i,
				    !cmd                ? "does not decode"
				    : cmd->version != 1 ? "unknown command version"
							: "unknown operation");
			if (cmd)
				paxfs__command__free_unpacked(cmd, &ca);
			rc = -EBADMSG;
			goto abort;
		}
		c.cmd = cmd;
		c.cmd_id = vc->id;
		c.node = (uint32_t)(vc->id >> 56);
		c.now = cmd->time_ns;
		c.res = &out->results[i];
		memset(c.res, 0, sizeof(*c.res));
		c.res->cmd_id = vc->id;
		out->n_results = i + 1;
		c.res->err = run_command(&c);
		paxfs__command__free_unpacked(cmd, &ca);
		if ((rc = fs_txn_failed(fs->txn)) < 0)
			goto abort;
	}

	if ((rc = fs_txn_seal(fs->txn)) < 0)
		goto abort;
	struct store_batch *b = fs_txn_batch(fs->txn);
	am.applied_entry = entry;
	am.chain_crc = util_crc32c(am.chain_crc, value, len);
	am.state_digest ^= fs_txn_delta(fs->txn, entity);
	store_batch_put_apply_meta(b, entity, &am);
	for (size_t i = 0; i < c.n_born; i++) {
		struct store_apply_meta born = {.state_digest = fs_txn_delta(fs->txn, c.born[i])};
		store_batch_put_apply_meta(b, c.born[i], &born);
	}
	out->batch_bytes = store_batch_bytes(b);
	rc = store_write(fs->st, b, false);
	if (rc < 0) {
		LOG_ERR("fs: entity %llu entry %llu: writing the apply batch failed (%d)",
			(unsigned long long)entity, (unsigned long long)entry, rc);
		rc = rc == -ENOSPC ? rc : -EIO;
		goto abort;
	}
	out->meta = am;
	fs_txn_reset(fs->txn);
	free(c.born);
	paxfs__value__free_unpacked(v, &va);
	return 0;

abort:
	fs_txn_reset(fs->txn);
	free(c.born);
	paxfs__value__free_unpacked(v, &va);
	out->n_results = out->n_inodes = out->n_entries = out->n_unlinked = 0;
	out->batch_bytes = 0;
	/* A damaged record marked its entity bad on the way; -EBADMSG
	 * promises that this entity is the damaged one. */
	if (rc == -EBADMSG && !fs_idset_has(&fs->bad, entity))
		rc = -EIO;
	if (rc != -EBADMSG && rc != -ENOMEM && rc != -ENOSPC)
		rc = -EIO;
	return rc;
}
