/* fs/read.c — local reads: getattr, lookup, readdir, read, readlink,
 * getxattr, listxattr, statfs. They see the applied state of this node (the
 * daemon's open barrier makes that state fresh enough: DESIGN.md).
 *
 * A request touches the namespace, and for a regular file also its entity;
 * if either is bad (or being installed) the answer is -EIO.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/apply_int.h"
#include "fs/fs_int.h"
#include "fs/keys.h"
#include "fs/record.h"

/* What an inode is here: its namespace record (ns_ok) and, for a regular
 * file, its attributes (f_ok). A regular file with no link left has only
 * the latter. */
struct node {
	bool ns_ok, f_ok;
	struct fs_inode ns;
	struct fs_file f;
};

static int load_node(struct fs *fs, uint64_t ino, struct node *n)
{
	int rc;

	n->ns_ok = n->f_ok = false;
	if ((rc = fs_serviceable(fs, FS_NAMESPACE)) < 0)
		return rc;
	rc = fs_inode_load(fs, NULL, ino, &n->ns);
	if (rc < 0 && rc != -ENOENT)
		return fs_read_err(rc);
	n->ns_ok = rc == 0;
	if (n->ns_ok && !S_ISREG(n->ns.mode))
		return 0;
	if (ino == FS_NAMESPACE)
		return n->ns_ok ? 0 : -ENOENT;
	if ((rc = fs_serviceable(fs, ino)) < 0)
		return rc;
	rc = fs_file_load(fs, NULL, ino, &n->f);
	if (rc == -ENOENT)
		/* Linked but no state: a namespace entry never writes one
		 * without the other, so the store is damaged. */
		return n->ns_ok ? -EIO : -ENOENT;
	if (rc < 0)
		return fs_read_err(rc);
	n->f_ok = true;
	return 0;
}

static void node_stat(uint64_t ino, const struct node *n, struct stat *st)
{
	fs_stat_fill(st, ino, n->ns_ok ? &n->ns : NULL, n->f_ok ? &n->f : NULL);
}

int fs_getattr(struct fs *fs, uint64_t ino, struct stat *st)
{
	struct node *n = malloc(sizeof(*n));
	int rc;

	if (!n)
		return -ENOMEM;
	if ((rc = load_node(fs, ino, n)) == 0)
		node_stat(ino, n, st);
	free(n);
	return rc;
}

int fs_entity_of(struct fs *fs, uint64_t ino, uint64_t *entity)
{
	struct node *n = malloc(sizeof(*n));
	int rc;

	if (!n)
		return -ENOMEM;
	if ((rc = load_node(fs, ino, n)) == 0)
		*entity = n->f_ok ? ino : FS_NAMESPACE;
	free(n);
	return rc;
}

/* Loads directory `ino` from the namespace. */
static int load_dir(struct fs *fs, uint64_t ino, struct fs_inode *d)
{
	int rc = fs_serviceable(fs, FS_NAMESPACE);
	if (rc == 0)
		rc = fs_read_err(fs_inode_load(fs, NULL, ino, d));
	if (rc == 0 && !S_ISDIR(d->mode))
		rc = -ENOTDIR;
	return rc;
}

int fs_lookup(struct fs *fs, uint64_t parent, const char *name, struct stat *st)
{
	size_t len = strlen(name);
	struct fs_inode *d = malloc(sizeof(*d));
	struct fs_dirent de;
	int rc;

	if (!d)
		return -ENOMEM;
	if ((rc = load_dir(fs, parent, d)) < 0)
		goto out;
	if (len > FS_NAME_MAX) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		/* The kernel resolves these itself; answer anyway. */
		rc = fs_getattr(fs, name[1] ? d->parent : parent, st);
		goto out;
	}
	if ((rc = fs_name_check(name, len)) < 0) {
		rc = rc == -EINVAL ? -ENOENT : rc;
		goto out;
	}
	rc = fs_read_err(fs_dirent_load(fs, NULL, parent, name, len, &de));
	if (rc == 0) {
		rc = fs_getattr(fs, de.ino, st);
		if (rc == -ENOENT)
			rc = -EIO; /* an entry naming no inode: damage */
	}
out:
	free(d);
	return rc;
}

struct readdir_scan {
	fs_readdir_cb cb;
	void *arg;
	int rc;
	int stop;
};

static int readdir_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct readdir_scan *rs = arg;
	struct fs_dirent de;
	char name[FS_NAME_MAX + 1];
	size_t nlen = klen - 17;

	if (klen <= 17 || nlen > FS_NAME_MAX || fs_dirent_decode(val, vlen, &de) < 0) {
		rs->rc = -EBADMSG;
		return 1;
	}
	memcpy(name, (const uint8_t *)key + 17, nlen);
	name[nlen] = '\0';
	rs->stop = rs->cb(rs->arg, name, de.ino, de.type);
	return rs->stop ? 1 : 0;
}

int fs_readdir(struct fs *fs, uint64_t ino, const char *after, fs_readdir_cb cb, void *arg)
{
	struct fs_inode *d = malloc(sizeof(*d));
	struct readdir_scan rs = {.cb = cb, .arg = arg};
	struct fs_key start, end;
	int rc;

	if (!d)
		return -ENOMEM;
	if ((rc = load_dir(fs, ino, d)) < 0)
		goto out;
	if (!after) {
		if ((rc = cb(arg, ".", ino, S_IFDIR)) != 0)
			goto out;
	}
	if (!after || strcmp(after, ".") == 0) {
		if ((rc = cb(arg, "..", d->parent, S_IFDIR)) != 0)
			goto out;
	}
	if (!after || strcmp(after, ".") == 0 || strcmp(after, "..") == 0) {
		fs_key_dirent(&start, ino, NULL, 0);
	} else {
		size_t alen = strlen(after);
		if (alen > FS_NAME_MAX) {
			rc = -EINVAL;
			goto out;
		}
		/* The smallest key after "ino ‖ after" is "ino ‖ after ‖ \0". */
		fs_key_dirent(&start, ino, after, alen);
		start.b[start.len++] = 0;
	}
	fs_key_dirent(&end, ino, NULL, 0);
	fs_key_prefix_end(&end);
	rc = fs_scan(fs, start.b, start.len, end.b, end.len, readdir_cb, &rs);
	if (rs.rc == -EBADMSG) {
		fs_mark_bad(fs, FS_NAMESPACE, "a directory entry of %llu does not decode",
			    (unsigned long long)ino);
		rc = -EIO;
	} else if (rs.stop) {
		rc = rs.stop;
	} else {
		rc = fs_read_err(rc);
	}
out:
	free(d);
	return rc;
}

struct read_scan {
	uint64_t ino;
	uint64_t off, n; /* the range [off, off+n) being read */
	uint8_t *buf;
	int rc;
};

static int read_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct read_scan *r = arg;
	if (klen != 17 || vlen > FS_CHUNK_SIZE) {
		r->rc = -EBADMSG;
		return 1;
	}
	uint64_t cstart = util_get_be64((const uint8_t *)key + 9) * FS_CHUNK_SIZE;
	uint64_t lo = cstart > r->off ? cstart : r->off;
	uint64_t hi = cstart + vlen < r->off + r->n ? cstart + vlen : r->off + r->n;
	if (lo < hi)
		memcpy(r->buf + (lo - r->off), (const uint8_t *)val + (lo - cstart), hi - lo);
	return 0;
}

int fs_read(struct fs *fs, uint64_t ino, uint64_t off, size_t size, void *buf, size_t *got)
{
	struct node *n = malloc(sizeof(*n));
	struct fs_key start, end;
	int rc;

	*got = 0;
	if (!n)
		return -ENOMEM;
	if ((rc = load_node(fs, ino, n)) < 0)
		goto out;
	if (!n->f_ok) {
		rc = S_ISDIR(n->ns.mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	if (off >= n->f.size || size == 0)
		goto out;
	uint64_t len = n->f.size - off < size ? n->f.size - off : size;
	struct read_scan rs = {.ino = ino, .off = off, .n = len, .buf = buf};
	/* Holes are whatever no chunk covers: zero everything first. */
	memset(buf, 0, (size_t)len);
	fs_key_chunk(&start, ino, off / FS_CHUNK_SIZE);
	fs_key_chunk(&end, ino, (off + len - 1) / FS_CHUNK_SIZE + 1);
	rc = fs_scan(fs, start.b, start.len, end.b, end.len, read_cb, &rs);
	if (rs.rc) {
		fs_mark_bad(fs, ino, "a data chunk is malformed");
		rc = -EIO;
	} else if (rc < 0) {
		rc = fs_read_err(rc);
	} else {
		*got = (size_t)len;
	}
out:
	free(n);
	return rc;
}

int fs_readlink(struct fs *fs, uint64_t ino, char *buf, size_t size, size_t *len)
{
	struct node *n = malloc(sizeof(*n));
	int rc;

	if (!n)
		return -ENOMEM;
	if ((rc = load_node(fs, ino, n)) < 0)
		goto out;
	if (!n->ns_ok || !S_ISLNK(n->ns.mode)) {
		rc = -EINVAL;
		goto out;
	}
	*len = n->ns.target_len;
	if (size <= n->ns.target_len) {
		rc = -ERANGE;
		goto out;
	}
	memcpy(buf, n->ns.target, n->ns.target_len + 1);
out:
	free(n);
	return rc;
}

/* Which keys hold the xattrs of ino: the namespace's or the file's. */
static int xattr_home(struct fs *fs, uint64_t ino, bool *regular)
{
	uint64_t entity = FS_NAMESPACE;
	int rc = fs_entity_of(fs, ino, &entity);
	*regular = entity != FS_NAMESPACE;
	return rc;
}

int fs_getxattr(struct fs *fs, uint64_t ino, const char *name, void *buf, size_t size, size_t *len)
{
	size_t nlen = strlen(name);
	struct fs_key k;
	bool regular;
	void *v;
	size_t vl;
	int rc;

	if (nlen == 0 || nlen > FS_XATTR_NAME_MAX)
		return -ERANGE;
	if (fs_xattr_is_acl(name, nlen))
		return -EOPNOTSUPP;
	if ((rc = xattr_home(fs, ino, &regular)) < 0)
		return rc;
	fs_key_xattr(&k, ino, regular, name, nlen);
	if ((rc = fs_get(fs, NULL, k.b, k.len, &v, &vl)) < 0)
		return rc == -ENOENT ? -ENODATA : fs_read_err(rc);
	*len = vl;
	if (size > 0) {
		if (size < vl)
			rc = -ERANGE;
		else if (vl)
			memcpy(buf, v, vl);
	}
	free(v);
	return rc;
}

struct list_scan {
	char *buf;
	size_t size, len;
	size_t prefix; /* key bytes before the name */
	bool too_small;
};

static int list_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct list_scan *ls = arg;
	size_t n = klen - ls->prefix;
	if (fs_xattr_is_acl((const char *)key + ls->prefix, n))
		return 0;
	if (ls->size && ls->len + n + 1 > ls->size)
		ls->too_small = true;
	else if (ls->size) {
		memcpy(ls->buf + ls->len, (const uint8_t *)key + ls->prefix, n);
		ls->buf[ls->len + n] = '\0';
	}
	ls->len += n + 1;
	return 0;
}

int fs_listxattr(struct fs *fs, uint64_t ino, char *buf, size_t size, size_t *len)
{
	struct list_scan ls = {.buf = buf, .size = size};
	struct fs_key start, end;
	bool regular;
	int rc;

	if ((rc = xattr_home(fs, ino, &regular)) < 0)
		return rc;
	fs_key_xattr(&start, ino, regular, NULL, 0);
	ls.prefix = start.len;
	end = start;
	fs_key_prefix_end(&end);
	if ((rc = fs_scan(fs, start.b, start.len, end.b, end.len, list_cb, &ls)) < 0)
		return fs_read_err(rc);
	*len = ls.len;
	return ls.too_small ? -ERANGE : 0;
}

int fs_statfs(struct fs *fs, struct statvfs *out)
{
	struct fs_nsmeta nm;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = fs_serviceable(fs, FS_NAMESPACE)) < 0)
		return rc;
	if ((rc = fs_nsmeta_load(fs, NULL, &nm)) < 0)
		return rc == -ENOENT ? -EIO : fs_read_err(rc);
	out->f_bsize = FS_CHUNK_SIZE;
	out->f_frsize = FS_CHUNK_SIZE;
	out->f_namemax = FS_NAME_MAX;
	/* Inode numbers run out only after 2^56 creations: report plenty. */
	out->f_ffree = out->f_favail = (fsfilcnt_t)1 << 32;
	out->f_files = (fsfilcnt_t)nm.inodes + out->f_ffree;
	return 0;
}
