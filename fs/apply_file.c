/* fs/apply_file.c — the commands of a regular file's entity: write, append,
 * truncate, fallocate, setattr, setxattr, removexattr.
 *
 * Data lives in chunks of FS_CHUNK_SIZE bytes keyed (ino, index), so a write
 * costs the chunks it touches, whatever the size of the file:
 *
 *   offset   0        4096      8192      12288
 *            | chunk 0 | chunk 1 |  (hole)  | chunk 3 |..     size
 *                                                  ^ stored length <= 4096
 *
 * Invariants: a chunk never holds bytes at or past the file size (truncate
 * cuts them, so growing the file again shows zeros); a missing chunk, and the
 * part of a chunk past its stored length, read as zeros; FsFile.chunks is the
 * number of stored chunks.
 */
#include <errno.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>

#include "fs/apply_int.h"
#include "fs/fs_int.h"
#include "fs/keys.h"
#include "fs/record.h"
#include "fs/txn.h"

#define CS ((uint64_t)FS_CHUNK_SIZE)

/* A chunk as the transaction sees it; *len 0 and *present false when absent.
 * A stored chunk longer than FS_CHUNK_SIZE is damage. */
static int chunk_get(struct fs_actx *c, uint64_t ino, uint64_t idx, uint8_t *buf, size_t *len,
		     bool *present)
{
	struct fs_key k;
	void *v;
	size_t vl;
	int rc;

	fs_key_chunk(&k, ino, idx);
	rc = fs_get(c->fs, c->t, k.b, k.len, &v, &vl);
	*len = 0;
	*present = false;
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	if (vl > CS) {
		free(v);
		fs_mark_bad(c->fs, ino, "chunk %llu holds %zu bytes", (unsigned long long)idx, vl);
		fs_txn_fail(c->t, -EBADMSG);
		return -EBADMSG;
	}
	memcpy(buf, v, vl);
	free(v);
	*len = vl;
	*present = true;
	return 0;
}

static int chunk_put(struct fs_actx *c, uint64_t ino, uint64_t idx, const uint8_t *buf, size_t len)
{
	struct fs_key k;
	fs_key_chunk(&k, ino, idx);
	return fs_txn_put(c->t, k.b, k.len, buf, len);
}

/* Writes len bytes at off (off + len <= FS_FILE_SIZE_MAX). */
static int put_data(struct fs_actx *c, uint64_t ino, struct fs_file *f, uint64_t off,
		    const uint8_t *data, uint64_t len)
{
	uint8_t buf[FS_CHUNK_SIZE];
	uint64_t end = off + len;

	for (uint64_t idx = off / CS; idx <= (end - 1) / CS; idx++) {
		uint64_t cstart = idx * CS;
		size_t from = (size_t)((off > cstart ? off : cstart) - cstart);
		size_t to = (size_t)((end < cstart + CS ? end : cstart + CS) - cstart);
		size_t olen;
		bool present;
		int rc = chunk_get(c, ino, idx, buf, &olen, &present);
		if (rc < 0)
			return rc;
		if (!present)
			f->chunks++;
		size_t nlen = olen > to ? olen : to;
		if (nlen > olen)
			memset(buf + olen, 0, nlen - olen);
		memcpy(buf + from, data + (cstart + from - off), to - from);
		if ((rc = chunk_put(c, ino, idx, buf, nlen)) < 0)
			return rc;
	}
	return 0;
}

/* Deletes the chunks with first <= index < last (last 0: to the end). */
static int del_chunks(struct fs_actx *c, uint64_t ino, struct fs_file *f, uint64_t first,
		      uint64_t last)
{
	struct fs_key start, end;
	uint64_t removed = 0;
	int rc;

	fs_key_chunk(&start, ino, first);
	if (last)
		fs_key_chunk(&end, ino, last);
	else
		fs_key_make(&end, ino, FS_TAG_CHUNK + 1, NULL, NULL, 0);
	if ((rc = fs_txn_del_range(c->t, start.b, start.len, end.b, end.len, &removed)) < 0)
		return rc;
	f->chunks = removed > f->chunks ? 0 : f->chunks - removed;
	return 0;
}

/* Zeroes bytes [from, to) of chunk idx, if it is stored; keeps its length. */
static int zero_in_chunk(struct fs_actx *c, uint64_t ino, uint64_t idx, size_t from, size_t to)
{
	uint8_t buf[FS_CHUNK_SIZE];
	size_t len;
	bool present;
	int rc = chunk_get(c, ino, idx, buf, &len, &present);

	if (rc < 0 || !present || from >= len)
		return rc;
	if (to > len)
		to = len;
	memset(buf + from, 0, to - from);
	return chunk_put(c, ino, idx, buf, len);
}

/* Makes [off, end) read as zeros: whole chunks go, partial ones are zeroed. */
static int zero_range(struct fs_actx *c, uint64_t ino, struct fs_file *f, uint64_t off,
		      uint64_t end)
{
	int rc;

	if (off >= end)
		return 0;
	uint64_t first_full = (off + CS - 1) / CS, last_full = end / CS; /* [first, last) */
	if (off / CS == (end - 1) / CS && (off % CS || end % CS))
		return zero_in_chunk(c, ino, off / CS, (size_t)(off % CS),
				     (size_t)(end - off / CS * CS));
	if (off % CS && (rc = zero_in_chunk(c, ino, off / CS, (size_t)(off % CS), (size_t)CS)) < 0)
		return rc;
	if (first_full < last_full && (rc = del_chunks(c, ino, f, first_full, last_full)) < 0)
		return rc;
	if (end % CS && (rc = zero_in_chunk(c, ino, end / CS, 0, (size_t)(end % CS))) < 0)
		return rc;
	return 0;
}

/* Sets the size; shrinking cuts the last chunk and drops those past it. */
static int resize(struct fs_actx *c, uint64_t ino, struct fs_file *f, uint64_t size)
{
	int rc;

	if (size < f->size) {
		if (size % CS) {
			uint8_t buf[FS_CHUNK_SIZE];
			size_t len;
			bool present;
			if ((rc = chunk_get(c, ino, size / CS, buf, &len, &present)) < 0)
				return rc;
			if (present && len > size % CS &&
			    (rc = chunk_put(c, ino, size / CS, buf, (size_t)(size % CS))) < 0)
				return rc;
		}
		if ((rc = del_chunks(c, ino, f, (size + CS - 1) / CS, 0)) < 0)
			return rc;
		fs_out_inode(c, ino, true, size, 0);
	} else if (size > f->size) {
		fs_out_inode(c, ino, true, f->size, 0);
	}
	f->size = size;
	return 0;
}

static int finish(struct fs_actx *c, uint64_t ino, const struct fs_file *f)
{
	struct fs_inode ns;
	int rc = fs_file_store(c->t, ino, f);
	if (rc < 0)
		return rc;
	c->res->ino = ino;
	/* nlink from the namespace as this node has it now (reported only). */
	rc = fs_inode_load(c->fs, NULL, ino, &ns);
	fs_result_stat(c, ino, rc == 0 && S_ISREG(ns.mode) ? &ns : NULL, f);
	fs_out_inode(c, ino, false, 0, 0);
	return 0;
}

static int op_write(struct fs_actx *c, uint64_t ino, struct fs_file *f, bool append, uint64_t off,
		    const ProtobufCBinaryData *data, bool kill_suidgid)
{
	int rc;

	if (append)
		off = f->size;
	if (off > (uint64_t)FS_FILE_SIZE_MAX || data->len > (uint64_t)FS_FILE_SIZE_MAX - off)
		return -EFBIG;
	c->res->offset = off;
	if (data->len > 0) {
		if ((rc = put_data(c, ino, f, off, data->data, data->len)) < 0)
			return rc;
		if (off + data->len > f->size)
			f->size = off + data->len;
		f->mtime_ns = f->ctime_ns = c->now;
		fs_out_inode(c, ino, true, off, data->len);
		/* the kernel leaves this to us: writers are direct_io */
		if (kill_suidgid) {
			f->mode &= ~(uint32_t)S_ISUID;
			if (f->mode & S_IXGRP)
				f->mode &= ~(uint32_t)S_ISGID;
		}
	}
	c->res->written = data->len;
	return finish(c, ino, f);
}

static int op_truncate(struct fs_actx *c, uint64_t ino, struct fs_file *f, uint64_t size)
{
	int rc;

	if (size > (uint64_t)FS_FILE_SIZE_MAX)
		return -EFBIG;
	if (size != f->size) {
		if ((rc = resize(c, ino, f, size)) < 0)
			return rc;
		f->mtime_ns = f->ctime_ns = c->now;
	}
	return finish(c, ino, f);
}

static int op_fallocate(struct fs_actx *c, uint64_t ino, struct fs_file *f,
			const Paxfs__Fallocate *a)
{
	uint32_t mode = a->mode;
	bool keep = mode & FALLOC_FL_KEEP_SIZE;
	int rc;

	if (a->length == 0)
		return -EINVAL;
	if (a->offset > (uint64_t)FS_FILE_SIZE_MAX ||
	    a->length > (uint64_t)FS_FILE_SIZE_MAX - a->offset)
		return -EFBIG;
	uint64_t end = a->offset + a->length;
	switch (mode & ~(uint32_t)FALLOC_FL_KEEP_SIZE) {
	case 0:
		/* Holes already read as zeros and no space can be reserved in a
		 * replicated store: only the size changes. */
		if (!keep && end > f->size) {
			fs_out_inode(c, ino, true, f->size, 0);
			f->size = end;
			f->mtime_ns = f->ctime_ns = c->now;
		}
		break;
	case FALLOC_FL_PUNCH_HOLE:
		if (!keep)
			return -EOPNOTSUPP;
		/* fall through */
	case FALLOC_FL_ZERO_RANGE:
		if ((rc = zero_range(c, ino, f, a->offset, end < f->size ? end : f->size)) < 0)
			return rc;
		fs_out_inode(c, ino, true, a->offset, a->length);
		if (!keep && end > f->size)
			f->size = end;
		f->mtime_ns = f->ctime_ns = c->now;
		break;
	default:
		return -EOPNOTSUPP;
	}
	return finish(c, ino, f);
}

static int op_setattr(struct fs_actx *c, uint64_t ino, struct fs_file *f, const Paxfs__SetAttr *a)
{
	int rc;

	if (a->ino != ino)
		return -EINVAL;
	if (a->valid == 0)
		return finish(c, ino, f);
	if ((a->valid & FS_SET_SIZE) && a->size > (uint64_t)FS_FILE_SIZE_MAX)
		return -EFBIG;
	if ((a->valid & FS_SET_SIZE) && a->size != f->size) {
		if ((rc = resize(c, ino, f, a->size)) < 0)
			return rc;
		f->mtime_ns = c->now;
	}
	if (a->valid & FS_SET_MODE)
		f->mode = S_IFREG | (a->mode & 07777);
	if (a->valid & FS_SET_UID)
		f->uid = a->uid;
	if (a->valid & FS_SET_GID)
		f->gid = a->gid;
	if (a->valid & FS_SET_ATIME)
		f->atime_ns = a->atime_ns;
	if (a->valid & FS_SET_MTIME)
		f->mtime_ns = a->mtime_ns;
	f->ctime_ns = (a->valid & FS_SET_CTIME) ? a->ctime_ns : c->now;
	return finish(c, ino, f);
}

static int op_xattr(struct fs_actx *c, uint64_t ino, struct fs_file *f, uint64_t target,
		    const ProtobufCBinaryData *name, const ProtobufCBinaryData *value,
		    uint32_t flags, bool remove)
{
	int rc;

	if (target != ino)
		return -EINVAL;
	if ((rc = fs_xattr_check(name, value, flags, remove)) < 0 ||
	    (rc = fs_xattr_write(c, ino, true, name, value, flags, remove)) < 0)
		return rc;
	f->ctime_ns = c->now;
	return finish(c, ino, f);
}

int fs_apply_file(struct fs_actx *c)
{
	const Paxfs__Command *cmd = c->cmd;
	uint64_t ino = c->entity;
	struct fs_file f;
	int rc = fs_file_load(c->fs, c->t, ino, &f);

	/* fs_apply saw the attributes before the first command, and no
	 * command of a file entity removes them. */
	if (rc < 0)
		return rc == -ENOENT ? -EIO : rc;
	/* A change under a lease the file released: it was proposed before
	 * its node's lease ran out, and chosen after another node was given
	 * the lock (fs.h, "lock leases"). */
	if (cmd->op_case != PAXFS__COMMAND__OP_LOCK &&
	    cmd->op_case != PAXFS__COMMAND__OP_LOCK_RELEASE && (rc = fs_lease_check_fence(c)) < 0)
		return rc;
	switch (cmd->op_case) {
	case PAXFS__COMMAND__OP_WRITE:
		return op_write(c, ino, &f, false, cmd->write->offset, &cmd->write->data,
				cmd->write->kill_suidgid);
	case PAXFS__COMMAND__OP_APPEND:
		return op_write(c, ino, &f, true, 0, &cmd->append->data, cmd->append->kill_suidgid);
	case PAXFS__COMMAND__OP_TRUNCATE:
		return op_truncate(c, ino, &f, cmd->truncate->size);
	case PAXFS__COMMAND__OP_FALLOCATE:
		return op_fallocate(c, ino, &f, cmd->fallocate);
	case PAXFS__COMMAND__OP_SETATTR:
		return op_setattr(c, ino, &f, cmd->setattr);
	case PAXFS__COMMAND__OP_WRITE_SETATTR: {
		const Paxfs__WriteSetAttr *ws = cmd->write_setattr;
		if (!ws->write || !ws->setattr)
			return -EINVAL;
		if ((rc = op_write(c, ino, &f, false, ws->write->offset, &ws->write->data,
				   ws->write->kill_suidgid)) < 0)
			return rc;
		return op_setattr(c, ino, &f, ws->setattr);
	}
	case PAXFS__COMMAND__OP_SETXATTR:
		return op_xattr(c, ino, &f, cmd->setxattr->ino, &cmd->setxattr->name,
				&cmd->setxattr->value, cmd->setxattr->flags, false);
	case PAXFS__COMMAND__OP_REMOVEXATTR:
		return op_xattr(c, ino, &f, cmd->removexattr->ino, &cmd->removexattr->name, NULL, 0,
				true);
	case PAXFS__COMMAND__OP_LOCK:
	case PAXFS__COMMAND__OP_LOCK_RELEASE:
		return fs_apply_lock(c);
	default:
		return -EINVAL;
	}
}
