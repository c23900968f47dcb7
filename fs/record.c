/* fs/record.c — FsInode, FsFile, FsDirent, FsNamespace <-> C structs, and
 * their keys (fs/keys.h). Encoding is deterministic (protobuf-c packs fields
 * in number order and leaves zero fields out), which the digests rely on. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs_int.h"
#include "fs/keys.h"
#include "fs/record.h"
#include "fs/txn.h"
#include "proto/fs.pb-c.h"

/* Packs any message into a malloc'd buffer. */
static int pack(const ProtobufCMessage *m, uint8_t **buf, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	*buf = malloc(n ? n : 1);
	if (!*buf)
		return -ENOMEM;
	*len = protobuf_c_message_pack(m, *buf);
	return 0;
}

static int put_msg(struct fs_txn *t, const struct fs_key *k, const ProtobufCMessage *m)
{
	uint8_t *buf;
	size_t len;
	int rc = pack(m, &buf, &len);
	if (rc) {
		fs_txn_fail(t, rc);
		return rc;
	}
	rc = fs_txn_put(t, k->b, k->len, buf, len);
	free(buf);
	return rc;
}

/* ---- FsInode ---------------------------------------------------------- */

static void inode_to_msg(const struct fs_inode *in, Paxfs__FsInode *m)
{
	paxfs__fs_inode__init(m);
	m->mode = in->mode;
	m->uid = in->uid;
	m->gid = in->gid;
	m->nlink = in->nlink;
	m->atime_ns = in->atime_ns;
	m->mtime_ns = in->mtime_ns;
	m->ctime_ns = in->ctime_ns;
	m->birth_ns = in->birth_ns;
	m->rdev = in->rdev;
	m->target.data = (uint8_t *)in->target;
	m->target.len = in->target_len;
	m->parent = in->parent;
	m->entries = in->entries;
}

int fs_inode_decode(const void *val, size_t vlen, struct fs_inode *out)
{
	Paxfs__FsInode *m = paxfs__fs_inode__unpack(NULL, vlen, val);
	if (!m)
		return -EBADMSG;
	if (m->target.len > FS_SYMLINK_MAX) {
		paxfs__fs_inode__free_unpacked(m, NULL);
		return -EBADMSG;
	}
	out->mode = m->mode;
	out->uid = m->uid;
	out->gid = m->gid;
	out->nlink = m->nlink;
	out->atime_ns = m->atime_ns;
	out->mtime_ns = m->mtime_ns;
	out->ctime_ns = m->ctime_ns;
	out->birth_ns = m->birth_ns;
	out->rdev = m->rdev;
	out->parent = m->parent;
	out->entries = m->entries;
	out->target_len = m->target.len;
	if (m->target.len)
		memcpy(out->target, m->target.data, m->target.len);
	out->target[m->target.len] = '\0';
	paxfs__fs_inode__free_unpacked(m, NULL);
	return 0;
}

int fs_inode_encode(const struct fs_inode *in, uint8_t **buf, size_t *len)
{
	Paxfs__FsInode m;
	inode_to_msg(in, &m);
	return pack(&m.base, buf, len);
}

int fs_inode_store(struct fs_txn *t, uint64_t ino, const struct fs_inode *in)
{
	Paxfs__FsInode m;
	struct fs_key k;
	inode_to_msg(in, &m);
	fs_key_inode(&k, ino);
	return put_msg(t, &k, &m.base);
}

/* Reads key k and decodes it with `decode`; damage marks the entity bad. */
static int load(struct fs *fs, struct fs_txn *t, const struct fs_key *k,
		int (*decode)(const void *, size_t, void *), void *out)
{
	void *val;
	size_t vlen;
	int rc = fs_get(fs, t, k->b, k->len, &val, &vlen);
	if (rc)
		return rc;
	rc = decode(val, vlen, out);
	free(val);
	if (rc == -EBADMSG) {
		fs_mark_bad(fs, fs_key_entity(k->b, k->len), "a state record does not decode");
		if (t)
			fs_txn_fail(t, rc);
	}
	return rc;
}

static int inode_decode_cb(const void *v, size_t n, void *out)
{
	return fs_inode_decode(v, n, out);
}

int fs_inode_load(struct fs *fs, struct fs_txn *t, uint64_t ino, struct fs_inode *out)
{
	struct fs_key k;
	fs_key_inode(&k, ino);
	return load(fs, t, &k, inode_decode_cb, out);
}

/* ---- FsFile ----------------------------------------------------------- */

static void file_to_msg(const struct fs_file *f, Paxfs__FsFile *m)
{
	paxfs__fs_file__init(m);
	m->mode = f->mode;
	m->uid = f->uid;
	m->gid = f->gid;
	m->size = f->size;
	m->atime_ns = f->atime_ns;
	m->mtime_ns = f->mtime_ns;
	m->ctime_ns = f->ctime_ns;
	m->birth_ns = f->birth_ns;
	m->chunks = f->chunks;
}

static int file_decode_cb(const void *val, size_t vlen, void *arg)
{
	struct fs_file *out = arg;
	Paxfs__FsFile *m = paxfs__fs_file__unpack(NULL, vlen, val);
	if (!m)
		return -EBADMSG;
	out->mode = m->mode;
	out->uid = m->uid;
	out->gid = m->gid;
	out->size = m->size;
	out->atime_ns = m->atime_ns;
	out->mtime_ns = m->mtime_ns;
	out->ctime_ns = m->ctime_ns;
	out->birth_ns = m->birth_ns;
	out->chunks = m->chunks;
	paxfs__fs_file__free_unpacked(m, NULL);
	if (!S_ISREG(out->mode) || out->size > (uint64_t)FS_FILE_SIZE_MAX)
		return -EBADMSG;
	return 0;
}

int fs_file_load(struct fs *fs, struct fs_txn *t, uint64_t ino, struct fs_file *out)
{
	struct fs_key k;
	fs_key_attr(&k, ino);
	return load(fs, t, &k, file_decode_cb, out);
}

int fs_file_encode(const struct fs_file *f, uint8_t **buf, size_t *len)
{
	Paxfs__FsFile m;
	file_to_msg(f, &m);
	return pack(&m.base, buf, len);
}

int fs_file_store(struct fs_txn *t, uint64_t ino, const struct fs_file *f)
{
	Paxfs__FsFile m;
	struct fs_key k;
	file_to_msg(f, &m);
	fs_key_attr(&k, ino);
	return put_msg(t, &k, &m.base);
}

void fs_file_from_birth(const struct fs_inode *birth, struct fs_file *out)
{
	memset(out, 0, sizeof(*out));
	out->mode = birth->mode;
	out->uid = birth->uid;
	out->gid = birth->gid;
	out->atime_ns = out->mtime_ns = out->ctime_ns = out->birth_ns = birth->birth_ns;
}

/* ---- FsDirent --------------------------------------------------------- */

int fs_dirent_decode(const void *val, size_t vlen, struct fs_dirent *out)
{
	Paxfs__FsDirent *m = paxfs__fs_dirent__unpack(NULL, vlen, val);
	if (!m)
		return -EBADMSG;
	out->ino = m->ino;
	out->type = m->type;
	paxfs__fs_dirent__free_unpacked(m, NULL);
	return out->ino ? 0 : -EBADMSG;
}

static int dirent_decode_cb(const void *v, size_t n, void *out)
{
	return fs_dirent_decode(v, n, out);
}

int fs_dirent_load(struct fs *fs, struct fs_txn *t, uint64_t parent, const void *name,
		   size_t namelen, struct fs_dirent *out)
{
	struct fs_key k;
	fs_key_dirent(&k, parent, name, namelen);
	return load(fs, t, &k, dirent_decode_cb, out);
}

int fs_dirent_store(struct fs_txn *t, uint64_t parent, const void *name, size_t namelen,
		    const struct fs_dirent *d)
{
	Paxfs__FsDirent m;
	struct fs_key k;
	paxfs__fs_dirent__init(&m);
	m.ino = d->ino;
	m.type = d->type;
	fs_key_dirent(&k, parent, name, namelen);
	return put_msg(t, &k, &m.base);
}

/* ---- FsNamespace ------------------------------------------------------ */

static int nsmeta_decode_cb(const void *val, size_t vlen, void *arg)
{
	struct fs_nsmeta *out = arg;
	Paxfs__FsNamespace *m = paxfs__fs_namespace__unpack(NULL, vlen, val);
	if (!m)
		return -EBADMSG;
	out->next_counter = m->next_counter;
	out->inodes = m->inodes;
	paxfs__fs_namespace__free_unpacked(m, NULL);
	return out->next_counter ? 0 : -EBADMSG;
}

int fs_nsmeta_load(struct fs *fs, struct fs_txn *t, struct fs_nsmeta *out)
{
	struct fs_key k;
	fs_key_nsmeta(&k);
	return load(fs, t, &k, nsmeta_decode_cb, out);
}

static void nsmeta_to_msg(const struct fs_nsmeta *n, Paxfs__FsNamespace *m)
{
	paxfs__fs_namespace__init(m);
	m->next_counter = n->next_counter;
	m->inodes = n->inodes;
}

int fs_nsmeta_encode(const struct fs_nsmeta *n, uint8_t **buf, size_t *len)
{
	Paxfs__FsNamespace m;
	nsmeta_to_msg(n, &m);
	return pack(&m.base, buf, len);
}

int fs_nsmeta_store(struct fs_txn *t, const struct fs_nsmeta *n)
{
	Paxfs__FsNamespace m;
	struct fs_key k;
	nsmeta_to_msg(n, &m);
	fs_key_nsmeta(&k);
	return put_msg(t, &k, &m.base);
}

/* ---- struct stat ------------------------------------------------------ */

static void set_ts(struct timespec *ts, int64_t ns)
{
	/* Floor division: times before 1970 keep 0 <= tv_nsec < 1e9. */
	int64_t s = ns / 1000000000;
	int64_t r = ns % 1000000000;
	if (r < 0) {
		r += 1000000000;
		s--;
	}
	ts->tv_sec = (time_t)s;
	ts->tv_nsec = (long)r;
}

void fs_stat_fill(struct stat *st, uint64_t ino, const struct fs_inode *ns, const struct fs_file *f)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = (ino_t)ino;
	st->st_blksize = FS_BLKSIZE;
	if (f) {
		int64_t ctime = f->ctime_ns;
		if (ns && ns->ctime_ns > ctime)
			ctime = ns->ctime_ns;
		st->st_mode = f->mode;
		st->st_nlink = ns ? ns->nlink : 0;
		st->st_uid = f->uid;
		st->st_gid = f->gid;
		st->st_size = (off_t)f->size;
		st->st_blocks = (blkcnt_t)(f->chunks * (FS_CHUNK_SIZE / 512));
		set_ts(&st->st_atim, f->atime_ns);
		set_ts(&st->st_mtim, f->mtime_ns);
		set_ts(&st->st_ctim, ctime);
		return;
	}
	st->st_mode = ns->mode;
	st->st_nlink = ns->nlink;
	st->st_uid = ns->uid;
	st->st_gid = ns->gid;
	st->st_rdev = (dev_t)ns->rdev;
	if (S_ISDIR(ns->mode))
		st->st_size = (off_t)ns->entries;
	else if (S_ISLNK(ns->mode))
		st->st_size = (off_t)ns->target_len;
	set_ts(&st->st_atim, ns->atime_ns);
	set_ts(&st->st_mtim, ns->mtime_ns);
	set_ts(&st->st_ctim, ns->ctime_ns);
}
