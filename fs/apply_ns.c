/* fs/apply_ns.c — the commands of the namespace entity: create, mknod,
 * mkdir, symlink, link, unlink, rmdir, rename, and setattr / xattrs of the
 * inodes that live entirely in the namespace.
 *
 * Invariants kept for every inode in the namespace:
 *   - a directory's nlink is 2 + its subdirectories; its `entries` counts its
 *     directory entries; its `parent` is the directory holding it (root: 1);
 *   - any other inode's nlink is the number of entries naming it;
 *   - an inode whose nlink reaches 0 leaves the namespace in the same apply
 *     (a regular file's data stays in its entity until fs_reclaim);
 *   - a directory is never moved under itself.
 * Times follow POSIX: a new entry or a removed one sets the directory's
 * mtime and ctime; a change of an inode's links or attributes sets its ctime.
 */
#include <errno.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>

#include "fs/apply_int.h"
#include "fs/fs_int.h"
#include "fs/keys.h"
#include "fs/record.h"
#include "fs/txn.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* Loads a directory: -ENOENT, -ENOTDIR. */
static int load_dir(struct fs_actx *c, uint64_t ino, struct fs_inode *d)
{
	int rc = fs_inode_load(c->fs, c->t, ino, d);
	if (rc)
		return rc;
	return S_ISDIR(d->mode) ? 0 : -ENOTDIR;
}

static void touch_dir(struct fs_actx *c, struct fs_inode *d)
{
	d->mtime_ns = d->ctime_ns = c->now;
}

/* A new inode number: counter << 8 | proposing node. */
static int alloc_ino(struct fs_actx *c, uint64_t *ino)
{
	struct fs_nsmeta nm;
	int rc = fs_nsmeta_load(c->fs, c->t, &nm);
	if (rc)
		return rc == -ENOENT ? -EIO : rc;
	if (nm.next_counter >= (UINT64_C(1) << 56))
		return -ENOSPC;
	*ino = nm.next_counter << 8 | c->node;
	nm.next_counter++;
	nm.inodes++;
	return fs_nsmeta_store(c->t, &nm);
}

static int count_inodes(struct fs_actx *c, int64_t d)
{
	struct fs_nsmeta nm;
	int rc = fs_nsmeta_load(c->fs, c->t, &nm);
	if (rc)
		return rc == -ENOENT ? -EIO : rc;
	nm.inodes = (uint64_t)((int64_t)nm.inodes + d);
	return fs_nsmeta_store(c->t, &nm);
}

/* Owner and times of a new inode in directory `dir`. A setgid directory
 * passes its group on, and to a new directory its setgid bit. */
static void init_inode(struct fs_actx *c, const struct fs_inode *dir, uint32_t mode,
		       struct fs_inode *n)
{
	memset(n, 0, sizeof(*n));
	n->mode = mode;
	n->uid = c->cmd->uid;
	n->gid = c->cmd->gid;
	if (dir->mode & S_ISGID) {
		n->gid = dir->gid;
		if (S_ISDIR(mode))
			n->mode |= S_ISGID;
	}
	n->nlink = 1;
	n->atime_ns = n->mtime_ns = n->ctime_ns = n->birth_ns = c->now;
}

/* Deletes every namespace xattr of ino. */
static int del_ns_xattrs(struct fs_actx *c, uint64_t ino)
{
	struct fs_key start, end;
	fs_key_make(&start, FS_NAMESPACE, FS_TAG_NSXATTR, &ino, NULL, 0);
	end = start;
	fs_key_prefix_end(&end);
	return fs_txn_del_range(c->t, start.b, start.len, end.b, end.len, NULL);
}

/* Removes the inode record (and namespace xattrs) of an inode with no links. */
static int forget_inode(struct fs_actx *c, uint64_t ino, const struct fs_inode *in)
{
	struct fs_key k;
	int rc;
	fs_key_inode(&k, ino);
	if ((rc = fs_txn_del(c->t, k.b, k.len)) < 0)
		return rc;
	if (!S_ISREG(in->mode) && (rc = del_ns_xattrs(c, ino)) < 0)
		return rc;
	if (S_ISREG(in->mode))
		fs_out_unlinked(c, ino);
	return count_inodes(c, -1);
}

/* One link of a non-directory goes. */
static int drop_link(struct fs_actx *c, uint64_t ino, struct fs_inode *in)
{
	if (in->nlink > 0)
		in->nlink--;
	in->ctime_ns = c->now;
	fs_out_inode(c, ino, false, 0, 0);
	if (in->nlink == 0)
		return forget_inode(c, ino, in);
	return fs_inode_store(c->t, ino, in);
}

/* The stat of an inode in the result, from its namespace record. */
static void result_inode(struct fs_actx *c, uint64_t ino, const struct fs_inode *in)
{
	c->res->ino = ino;
	fs_result_stat(c, ino, in, NULL);
}

/* ---- create / mknod / mkdir / symlink --------------------------------- */

/* Links a new inode `n` as (parent, name) and writes everything. For a
 * regular file also the initial state of its entity, from the birth record,
 * unless a snapshot of the file arrived first. */
static int link_new(struct fs_actx *c, uint64_t parent, struct fs_inode *dir,
		    const ProtobufCBinaryData *name, struct fs_inode *n)
{
	struct fs_dirent de;
	struct store_apply_meta am;
	uint64_t ino = 0;
	int rc;

	if ((rc = alloc_ino(c, &ino)) < 0)
		return rc;
	de.ino = ino;
	de.type = n->mode & S_IFMT;
	if (S_ISDIR(n->mode)) {
		n->nlink = 2;
		n->parent = parent;
		dir->nlink++;
	}
	dir->entries++;
	touch_dir(c, dir);
	if ((rc = fs_inode_store(c->t, ino, n)) < 0 ||
	    (rc = fs_dirent_store(c->t, parent, name->data, name->len, &de)) < 0 ||
	    (rc = fs_inode_store(c->t, parent, dir)) < 0)
		return rc;
	if (S_ISREG(n->mode)) {
		struct fs_file f;
		fs_file_from_birth(n, &f);
		rc = store_get_apply_meta(c->fs->st, ino, &am);
		if (rc == -ENOENT) {
			if ((rc = fs_file_store(c->t, ino, &f)) < 0)
				return rc;
			fs_out_born(c, ino);
		} else if (rc == -EBADMSG) {
			/* Its own damage must not stop the namespace: the
			 * file refuses service, the name is made. */
			fs_mark_bad(c->fs, ino, "its ApplyMeta fails its checksum");
		} else if (rc < 0) {
			fs_txn_fail(c->t, rc);
			return rc;
		}
		c->res->ino = ino;
		fs_result_stat(c, ino, n, rc == -ENOENT ? &f : NULL);
	} else {
		result_inode(c, ino, n);
	}
	c->res->created = true;
	fs_out_inode(c, parent, true, 0, 0);
	fs_out_entry(c, parent, name->data, name->len, 0, false);
	return 0;
}

/* Looks the name up for a new entry: 0 when free, -EEXIST, or an error. */
static int name_free(struct fs_actx *c, uint64_t parent, const ProtobufCBinaryData *name,
		     struct fs_dirent *de)
{
	int rc = fs_dirent_load(c->fs, c->t, parent, name->data, name->len, de);
	if (rc == 0)
		return -EEXIST;
	return rc == -ENOENT ? 0 : rc;
}

static int op_create(struct fs_actx *c, uint64_t parent, const ProtobufCBinaryData *name,
		     uint32_t mode, bool excl)
{
	struct fs_inode dir, n;
	struct fs_dirent de;
	int rc;

	if ((rc = fs_name_check(name->data, name->len)) < 0)
		return rc;
	if ((rc = load_dir(c, parent, &dir)) < 0)
		return rc;
	rc = name_free(c, parent, name, &de);
	if (rc == -EEXIST && !excl) {
		/* open(O_CREAT) of a name that appeared meanwhile: open it. */
		struct fs_inode ex;
		if ((rc = fs_inode_load(c->fs, c->t, de.ino, &ex)) < 0)
			return rc == -ENOENT ? -EIO : rc;
		if (S_ISDIR(ex.mode))
			return -EISDIR;
		if (!S_ISREG(ex.mode))
			return -EEXIST;
		result_inode(c, de.ino, &ex);
		return 0;
	}
	if (rc < 0)
		return rc;
	init_inode(c, &dir, S_IFREG | (mode & 07777), &n);
	return link_new(c, parent, &dir, name, &n);
}

static int op_mkdir(struct fs_actx *c, const Paxfs__Mkdir *m)
{
	struct fs_inode dir, n;
	struct fs_dirent de;
	int rc;

	if ((rc = fs_name_check(m->name.data, m->name.len)) < 0)
		return rc;
	if ((rc = load_dir(c, m->parent, &dir)) < 0 ||
	    (rc = name_free(c, m->parent, &m->name, &de)))
		return rc;
	if (dir.nlink >= FS_LINK_MAX)
		return -EMLINK;
	init_inode(c, &dir, S_IFDIR | (m->mode & 07777), &n);
	return link_new(c, m->parent, &dir, &m->name, &n);
}

static int op_mknod(struct fs_actx *c, const Paxfs__Mknod *m)
{
	struct fs_inode dir, n;
	struct fs_dirent de;
	uint32_t type = m->mode & S_IFMT;
	int rc;

	if (type == 0 || type == S_IFREG)
		return op_create(c, m->parent, &m->name, m->mode, true);
	if (type == S_IFDIR)
		return -EPERM;
	if (type != S_IFIFO && type != S_IFSOCK && type != S_IFCHR && type != S_IFBLK)
		return -EINVAL;
	if ((rc = fs_name_check(m->name.data, m->name.len)) < 0)
		return rc;
	if ((rc = load_dir(c, m->parent, &dir)) < 0 ||
	    (rc = name_free(c, m->parent, &m->name, &de)))
		return rc;
	init_inode(c, &dir, type | (m->mode & 07777), &n);
	if (type == S_IFCHR || type == S_IFBLK)
		n.rdev = m->rdev;
	return link_new(c, m->parent, &dir, &m->name, &n);
}

static int op_symlink(struct fs_actx *c, const Paxfs__Symlink *s)
{
	struct fs_inode dir, n;
	struct fs_dirent de;
	int rc;

	if ((rc = fs_name_check(s->name.data, s->name.len)) < 0)
		return rc;
	if (s->target.len == 0)
		return -ENOENT;
	if (s->target.len > FS_SYMLINK_MAX)
		return -ENAMETOOLONG;
	if (memchr(s->target.data, '\0', s->target.len))
		return -EINVAL;
	if ((rc = load_dir(c, s->parent, &dir)) < 0 ||
	    (rc = name_free(c, s->parent, &s->name, &de)))
		return rc;
	init_inode(c, &dir, S_IFLNK | 0777, &n);
	memcpy(n.target, s->target.data, s->target.len);
	n.target[s->target.len] = '\0';
	n.target_len = s->target.len;
	return link_new(c, s->parent, &dir, &s->name, &n);
}

/* ---- link / unlink / rmdir -------------------------------------------- */

static int op_link(struct fs_actx *c, const Paxfs__Link *l)
{
	struct fs_inode dir, in;
	struct fs_dirent de;
	int rc;

	if ((rc = fs_name_check(l->newname.data, l->newname.len)) < 0)
		return rc;
	rc = fs_inode_load(c->fs, c->t, l->ino, &in);
	if (rc < 0)
		return rc;
	if (S_ISDIR(in.mode))
		return -EPERM;
	if ((rc = load_dir(c, l->newparent, &dir)) < 0 ||
	    (rc = name_free(c, l->newparent, &l->newname, &de)))
		return rc;
	if (in.nlink >= FS_LINK_MAX)
		return -EMLINK;
	in.nlink++;
	in.ctime_ns = c->now;
	de.ino = l->ino;
	de.type = in.mode & S_IFMT;
	dir.entries++;
	touch_dir(c, &dir);
	if ((rc = fs_inode_store(c->t, l->ino, &in)) < 0 ||
	    (rc = fs_dirent_store(c->t, l->newparent, l->newname.data, l->newname.len, &de)) < 0 ||
	    (rc = fs_inode_store(c->t, l->newparent, &dir)) < 0)
		return rc;
	result_inode(c, l->ino, &in);
	fs_out_inode(c, l->ino, false, 0, 0);
	fs_out_inode(c, l->newparent, true, 0, 0);
	fs_out_entry(c, l->newparent, l->newname.data, l->newname.len, 0, false);
	return 0;
}

static int del_dirent(struct fs_actx *c, uint64_t parent, const ProtobufCBinaryData *name)
{
	struct fs_key k;
	fs_key_dirent(&k, parent, name->data, name->len);
	return fs_txn_del(c->t, k.b, k.len);
}

static int op_unlink(struct fs_actx *c, const Paxfs__Unlink *u)
{
	struct fs_inode dir, in;
	struct fs_dirent de;
	int rc;

	if ((rc = fs_name_check(u->name.data, u->name.len)) < 0)
		return rc;
	if ((rc = load_dir(c, u->parent, &dir)) < 0)
		return rc;
	if ((rc = fs_dirent_load(c->fs, c->t, u->parent, u->name.data, u->name.len, &de)) < 0)
		return rc;
	if ((rc = fs_inode_load(c->fs, c->t, de.ino, &in)) < 0)
		return rc == -ENOENT ? -EIO : rc;
	if (S_ISDIR(in.mode))
		return -EISDIR;
	if ((rc = del_dirent(c, u->parent, &u->name)) < 0)
		return rc;
	dir.entries--;
	touch_dir(c, &dir);
	if ((rc = fs_inode_store(c->t, u->parent, &dir)) < 0 ||
	    (rc = drop_link(c, de.ino, &in)) < 0)
		return rc;
	c->res->ino = de.ino;
	if (in.nlink > 0)
		fs_result_stat(c, de.ino, &in, NULL);
	fs_out_inode(c, u->parent, true, 0, 0);
	fs_out_entry(c, u->parent, u->name.data, u->name.len, de.ino, true);
	return 0;
}

/* Removes empty directory `ino` (nlink and entries of its parent are the
 * caller's). */
static int remove_dir(struct fs_actx *c, uint64_t ino, const struct fs_inode *d)
{
	fs_out_inode(c, ino, true, 0, 0);
	return forget_inode(c, ino, d);
}

static int op_rmdir(struct fs_actx *c, const Paxfs__Rmdir *r)
{
	struct fs_inode dir, d;
	struct fs_dirent de;
	int rc;

	if (r->name.len == 1 && r->name.data[0] == '.')
		return -EINVAL;
	if (r->name.len == 2 && r->name.data[0] == '.' && r->name.data[1] == '.')
		return -ENOTEMPTY;
	if ((rc = fs_name_check(r->name.data, r->name.len)) < 0)
		return rc;
	if ((rc = load_dir(c, r->parent, &dir)) < 0)
		return rc;
	if ((rc = fs_dirent_load(c->fs, c->t, r->parent, r->name.data, r->name.len, &de)) < 0)
		return rc;
	if ((rc = fs_inode_load(c->fs, c->t, de.ino, &d)) < 0)
		return rc == -ENOENT ? -EIO : rc;
	if (!S_ISDIR(d.mode))
		return -ENOTDIR;
	if (d.entries > 0)
		return -ENOTEMPTY;
	if ((rc = del_dirent(c, r->parent, &r->name)) < 0 || (rc = remove_dir(c, de.ino, &d)) < 0)
		return rc;
	dir.entries--;
	dir.nlink--;
	touch_dir(c, &dir);
	if ((rc = fs_inode_store(c->t, r->parent, &dir)) < 0)
		return rc;
	c->res->ino = de.ino;
	fs_out_inode(c, r->parent, true, 0, 0);
	fs_out_entry(c, r->parent, r->name.data, r->name.len, de.ino, true);
	return 0;
}

/* ---- rename ----------------------------------------------------------- */

/* -EINVAL when directory `dir` is `anc` or lies below it: moving `anc`
 * there would cut it off from the root. Walks up the parent links. */
static int check_not_below(struct fs_actx *c, uint64_t anc, uint64_t dir)
{
	struct fs_nsmeta nm;
	struct fs_inode d;
	uint64_t steps = 0;
	int rc;

	if ((rc = fs_nsmeta_load(c->fs, c->t, &nm)) < 0)
		return rc == -ENOENT ? -EIO : rc;
	for (uint64_t x = dir;; steps++) {
		if (x == anc)
			return -EINVAL;
		if (x == FS_ROOT_INO)
			return 0;
		if (steps > nm.inodes) {
			/* A parent cycle: the namespace is damaged. */
			fs_mark_bad(c->fs, FS_NAMESPACE, "directory %llu has a parent cycle",
				    (unsigned long long)dir);
			fs_txn_fail(c->t, -EBADMSG);
			return -EBADMSG;
		}
		if ((rc = fs_inode_load(c->fs, c->t, x, &d)) < 0)
			return rc == -ENOENT ? -EIO : rc;
		x = d.parent;
	}
}

struct rename_side {
	uint64_t parent;
	const ProtobufCBinaryData *name;
	struct fs_inode *dir; /* may alias the other side's */
	struct fs_dirent de;
	bool present;
	struct fs_inode in;
};

static int op_rename(struct fs_actx *c, const Paxfs__Rename *r)
{
	const uint32_t known = RENAME_NOREPLACE | RENAME_EXCHANGE;
	bool exchange = r->flags & RENAME_EXCHANGE;
	struct fs_inode pdir, npdir;
	struct rename_side *s, *d;
	int rc;

	if ((r->flags & ~known) || (r->flags & known) == known)
		return -EINVAL;
	if ((rc = fs_name_check(r->name.data, r->name.len)) < 0 ||
	    (rc = fs_name_check(r->newname.data, r->newname.len)) < 0)
		return rc;
	s = calloc(2, sizeof(*s)); /* two inodes of 4 KiB: not on the stack */
	if (!s) {
		fs_txn_fail(c->t, -ENOMEM);
		return -ENOMEM;
	}
	d = s + 1;
	s->parent = r->parent;
	s->name = &r->name;
	s->dir = &pdir;
	d->parent = r->newparent;
	d->name = &r->newname;
	d->dir = r->newparent == r->parent ? &pdir : &npdir;

	if ((rc = load_dir(c, s->parent, s->dir)) < 0)
		goto out;
	if (d->dir != s->dir && (rc = load_dir(c, d->parent, d->dir)) < 0)
		goto out;
	if ((rc = fs_dirent_load(c->fs, c->t, s->parent, s->name->data, s->name->len, &s->de)) < 0)
		goto out;
	rc = fs_dirent_load(c->fs, c->t, d->parent, d->name->data, d->name->len, &d->de);
	if (rc < 0 && rc != -ENOENT)
		goto out;
	d->present = rc == 0;
	rc = 0;
	if (exchange && !d->present) {
		rc = -ENOENT;
		goto out;
	}
	if ((r->flags & RENAME_NOREPLACE) && d->present) {
		rc = -EEXIST;
		goto out;
	}
	if ((rc = fs_inode_load(c->fs, c->t, s->de.ino, &s->in)) < 0) {
		rc = rc == -ENOENT ? -EIO : rc;
		goto out;
	}
	/* POSIX: when both names are links to the same inode, do nothing. */
	if (d->present && d->de.ino == s->de.ino) {
		result_inode(c, s->de.ino, &s->in);
		goto out;
	}
	if (d->present && (rc = fs_inode_load(c->fs, c->t, d->de.ino, &d->in)) < 0) {
		rc = rc == -ENOENT ? -EIO : rc;
		goto out;
	}
	bool sdir = S_ISDIR(s->in.mode), ddir = d->present && S_ISDIR(d->in.mode);
	if (sdir && (rc = check_not_below(c, s->de.ino, d->parent)) < 0)
		goto out;
	if (exchange && ddir && (rc = check_not_below(c, d->de.ino, s->parent)) < 0)
		goto out;
	if (!exchange && d->present) {
		if (sdir && !ddir)
			rc = -ENOTDIR;
		else if (!sdir && ddir)
			rc = -EISDIR;
		else if (ddir && d->in.entries > 0)
			rc = -ENOTEMPTY;
		if (rc)
			goto out;
	}
	if (sdir && !(exchange && ddir) && d->dir != s->dir && d->dir->nlink >= FS_LINK_MAX) {
		rc = -EMLINK;
		goto out;
	}

	/* Checks done: change. */
	s->in.ctime_ns = c->now;
	if (exchange) {
		d->in.ctime_ns = c->now;
		if ((rc = fs_dirent_store(c->t, s->parent, s->name->data, s->name->len, &d->de)) <
			0 ||
		    (rc = fs_dirent_store(c->t, d->parent, d->name->data, d->name->len, &s->de)) <
			0)
			goto out;
		if (s->dir != d->dir) {
			if (sdir) {
				s->dir->nlink--;
				d->dir->nlink++;
				s->in.parent = d->parent;
			}
			if (ddir) {
				d->dir->nlink--;
				s->dir->nlink++;
				d->in.parent = s->parent;
			}
		}
		if ((rc = fs_inode_store(c->t, d->de.ino, &d->in)) < 0)
			goto out;
		fs_out_inode(c, d->de.ino, false, 0, 0);
		fs_out_entry(c, s->parent, s->name->data, s->name->len, s->de.ino, false);
		fs_out_entry(c, d->parent, d->name->data, d->name->len, d->de.ino, false);
	} else {
		if (d->present) {
			/* The replaced entry goes first. */
			if (ddir) {
				if ((rc = remove_dir(c, d->de.ino, &d->in)) < 0)
					goto out;
				d->dir->nlink--;
			} else if ((rc = drop_link(c, d->de.ino, &d->in)) < 0) {
				goto out;
			}
			d->dir->entries--;
		}
		if ((rc = del_dirent(c, s->parent, s->name)) < 0 ||
		    (rc = fs_dirent_store(c->t, d->parent, d->name->data, d->name->len, &s->de)) <
			0)
			goto out;
		s->dir->entries--;
		d->dir->entries++;
		if (sdir && s->dir != d->dir) {
			s->dir->nlink--;
			d->dir->nlink++;
			s->in.parent = d->parent;
		}
		fs_out_entry(c, s->parent, s->name->data, s->name->len, s->de.ino, true);
		fs_out_entry(c, d->parent, d->name->data, d->name->len, d->present ? d->de.ino : 0,
			     false);
	}
	touch_dir(c, s->dir);
	touch_dir(c, d->dir);
	if ((rc = fs_inode_store(c->t, s->de.ino, &s->in)) < 0 ||
	    (rc = fs_inode_store(c->t, s->parent, s->dir)) < 0 ||
	    (d->dir != s->dir && (rc = fs_inode_store(c->t, d->parent, d->dir)) < 0))
		goto out;
	result_inode(c, s->de.ino, &s->in);
	fs_out_inode(c, s->de.ino, false, 0, 0);
	fs_out_inode(c, s->parent, true, 0, 0);
	fs_out_inode(c, d->parent, true, 0, 0);
out:
	free(s);
	return rc;
}

/* ---- attributes of namespace inodes ----------------------------------- */

static int op_setattr(struct fs_actx *c, const Paxfs__SetAttr *a)
{
	struct fs_inode in;
	int rc = fs_inode_load(c->fs, c->t, a->ino, &in);

	if (rc < 0)
		return rc;
	if (S_ISREG(in.mode))
		return -EINVAL; /* ordered by the file's own entity */
	if (a->valid & FS_SET_SIZE)
		return S_ISDIR(in.mode) ? -EISDIR : -EINVAL;
	if (a->valid == 0) {
		result_inode(c, a->ino, &in);
		return 0;
	}
	if (a->valid & FS_SET_MODE)
		in.mode = (in.mode & S_IFMT) | (a->mode & 07777);
	if (a->valid & FS_SET_UID)
		in.uid = a->uid;
	if (a->valid & FS_SET_GID)
		in.gid = a->gid;
	if (a->valid & FS_SET_ATIME)
		in.atime_ns = a->atime_ns;
	if (a->valid & FS_SET_MTIME)
		in.mtime_ns = a->mtime_ns;
	in.ctime_ns = (a->valid & FS_SET_CTIME) ? a->ctime_ns : c->now;
	if ((rc = fs_inode_store(c->t, a->ino, &in)) < 0)
		return rc;
	result_inode(c, a->ino, &in);
	fs_out_inode(c, a->ino, false, 0, 0);
	return 0;
}

static int op_xattr(struct fs_actx *c, uint64_t ino, const ProtobufCBinaryData *name,
		    const ProtobufCBinaryData *value, uint32_t flags, bool remove)
{
	struct fs_inode in;
	int rc;

	if ((rc = fs_xattr_check(name, value, flags, remove)) < 0)
		return rc;
	if ((rc = fs_inode_load(c->fs, c->t, ino, &in)) < 0)
		return rc;
	if (S_ISREG(in.mode))
		return -EINVAL;
	if ((rc = fs_xattr_write(c, ino, false, name, value, flags, remove)) < 0)
		return rc;
	in.ctime_ns = c->now;
	if ((rc = fs_inode_store(c->t, ino, &in)) < 0)
		return rc;
	result_inode(c, ino, &in);
	fs_out_inode(c, ino, false, 0, 0);
	return 0;
}

int fs_apply_ns(struct fs_actx *c)
{
	const Paxfs__Command *cmd = c->cmd;

	switch (cmd->op_case) {
	case PAXFS__COMMAND__OP_CREATE:
		return op_create(c, cmd->create->parent, &cmd->create->name, cmd->create->mode,
				 cmd->create->excl);
	case PAXFS__COMMAND__OP_MKDIR:
		return op_mkdir(c, cmd->mkdir);
	case PAXFS__COMMAND__OP_MKNOD:
		return op_mknod(c, cmd->mknod);
	case PAXFS__COMMAND__OP_SYMLINK:
		return op_symlink(c, cmd->symlink);
	case PAXFS__COMMAND__OP_LINK:
		return op_link(c, cmd->link);
	case PAXFS__COMMAND__OP_UNLINK:
		return op_unlink(c, cmd->unlink);
	case PAXFS__COMMAND__OP_RMDIR:
		return op_rmdir(c, cmd->rmdir);
	case PAXFS__COMMAND__OP_RENAME:
		return op_rename(c, cmd->rename);
	case PAXFS__COMMAND__OP_SETATTR:
		return op_setattr(c, cmd->setattr);
	case PAXFS__COMMAND__OP_SETXATTR:
		return op_xattr(c, cmd->setxattr->ino, &cmd->setxattr->name, &cmd->setxattr->value,
				cmd->setxattr->flags, false);
	case PAXFS__COMMAND__OP_REMOVEXATTR:
		return op_xattr(c, cmd->removexattr->ino, &cmd->removexattr->name, NULL, 0, true);
	default:
		return -EINVAL;
	}
}
