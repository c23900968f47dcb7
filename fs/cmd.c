/* fs/cmd.c — building commands: a paxfs.Command per operation, encoded, and
 * the entity that orders it. Builders check what they can without the state
 * (name lengths, flags), to spare a round trip; fs_apply checks everything
 * again, since a peer's command is not trusted. */
#include <errno.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "fs/fs.h"
#include "fs/fs_int.h"
#include "proto/command.pb-c.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* fs.h's bits are the wire's (proto SetAttrValid) for what goes on the wire. */
_Static_assert((int)FS_SET_MODE == (int)PAXFS__SET_ATTR_VALID__SETATTR_MODE, "setattr bits");
_Static_assert((int)FS_SET_UID == (int)PAXFS__SET_ATTR_VALID__SETATTR_UID, "setattr bits");
_Static_assert((int)FS_SET_GID == (int)PAXFS__SET_ATTR_VALID__SETATTR_GID, "setattr bits");
_Static_assert((int)FS_SET_ATIME == (int)PAXFS__SET_ATTR_VALID__SETATTR_ATIME, "setattr bits");
_Static_assert((int)FS_SET_MTIME == (int)PAXFS__SET_ATTR_VALID__SETATTR_MTIME, "setattr bits");
_Static_assert((int)FS_SET_SIZE == (int)PAXFS__SET_ATTR_VALID__SETATTR_SIZE, "setattr bits");
_Static_assert((int)FS_SET_CTIME == (int)PAXFS__SET_ATTR_VALID__SETATTR_CTIME, "setattr bits");

void fs_cmd_close(struct fs_cmd *c)
{
	free(c->body);
	memset(c, 0, sizeof(*c));
}

static void cmd_init(Paxfs__Command *m, const struct fs_caller *c)
{
	paxfs__command__init(m);
	m->version = 1;
	m->time_ns = c->time_ns;
	m->uid = c->uid;
	m->gid = c->gid;
	m->lease_life = c->lease_life;
	m->lease_epoch = c->lease_epoch;
}

static int finish(const Paxfs__Command *m, uint64_t entity, struct fs_cmd *out)
{
	size_t n = paxfs__command__get_packed_size(m);
	out->body = malloc(n ? n : 1);
	if (!out->body)
		return -ENOMEM;
	out->len = paxfs__command__pack(m, out->body);
	out->entity = entity;
	return 0;
}

static int name_arg(const char *name, ProtobufCBinaryData *out)
{
	size_t len = strlen(name);
	if (len == 0 || strchr(name, '/'))
		return -EINVAL;
	if (len > FS_NAME_MAX)
		return -ENAMETOOLONG;
	out->data = (uint8_t *)name;
	out->len = len;
	return 0;
}

int fs_cmd_create(const struct fs_caller *c, uint64_t parent, const char *name, uint32_t mode,
		  bool excl, struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__Create op;
	int rc;

	memset(out, 0, sizeof(*out));
	cmd_init(&m, c);
	paxfs__create__init(&op);
	if ((rc = name_arg(name, &op.name)) < 0)
		return rc;
	op.parent = parent;
	op.mode = mode;
	op.excl = excl;
	m.op_case = PAXFS__COMMAND__OP_CREATE;
	m.create = &op;
	return finish(&m, FS_NAMESPACE, out);
}

int fs_cmd_mknod(const struct fs_caller *c, uint64_t parent, const char *name, uint32_t mode,
		 uint64_t rdev, struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__Mknod op;
	int rc;

	memset(out, 0, sizeof(*out));
	cmd_init(&m, c);
	paxfs__mknod__init(&op);
	if ((rc = name_arg(name, &op.name)) < 0)
		return rc;
	op.parent = parent;
	op.mode = mode;
	op.rdev = rdev;
	m.op_case = PAXFS__COMMAND__OP_MKNOD;
	m.mknod = &op;
	return finish(&m, FS_NAMESPACE, out);
}

int fs_cmd_mkdir(const struct fs_caller *c, uint64_t parent, const char *name, uint32_t mode,
		 struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__Mkdir op;
	int rc;

	memset(out, 0, sizeof(*out));
	cmd_init(&m, c);
	paxfs__mkdir__init(&op);
	if ((rc = name_arg(name, &op.name)) < 0)
		return rc;
	op.parent = parent;
	op.mode = mode;
	m.op_case = PAXFS__COMMAND__OP_MKDIR;
	m.mkdir = &op;
	return finish(&m, FS_NAMESPACE, out);
}

int fs_cmd_symlink(const struct fs_caller *c, uint64_t parent, const char *name, const char *target,
		   struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__Symlink op;
	size_t tlen = strlen(target);
	int rc;

	memset(out, 0, sizeof(*out));
	cmd_init(&m, c);
	paxfs__symlink__init(&op);
	if ((rc = name_arg(name, &op.name)) < 0)
		return rc;
	if (tlen > FS_SYMLINK_MAX)
		return -ENAMETOOLONG;
	op.parent = parent;
	op.target.data = (uint8_t *)target;
	op.target.len = tlen;
	m.op_case = PAXFS__COMMAND__OP_SYMLINK;
	m.symlink = &op;
	return finish(&m, FS_NAMESPACE, out);
}

int fs_cmd_link(const struct fs_caller *c, uint64_t ino, uint64_t newparent, const char *newname,
		struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__Link op;
	int rc;

	memset(out, 0, sizeof(*out));
	cmd_init(&m, c);
	paxfs__link__init(&op);
	if ((rc = name_arg(newname, &op.newname)) < 0)
		return rc;
	op.ino = ino;
	op.newparent = newparent;
	m.op_case = PAXFS__COMMAND__OP_LINK;
	m.link = &op;
	return finish(&m, FS_NAMESPACE, out);
}

int fs_cmd_unlink(const struct fs_caller *c, uint64_t parent, const char *name, struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__Unlink op;
	int rc;

	memset(out, 0, sizeof(*out));
	cmd_init(&m, c);
	paxfs__unlink__init(&op);
	if ((rc = name_arg(name, &op.name)) < 0)
		return rc;
	op.parent = parent;
	m.op_case = PAXFS__COMMAND__OP_UNLINK;
	m.unlink = &op;
	return finish(&m, FS_NAMESPACE, out);
}

int fs_cmd_rmdir(const struct fs_caller *c, uint64_t parent, const char *name, struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__Rmdir op;
	int rc;

	memset(out, 0, sizeof(*out));
	cmd_init(&m, c);
	paxfs__rmdir__init(&op);
	if ((rc = name_arg(name, &op.name)) < 0)
		return rc;
	op.parent = parent;
	m.op_case = PAXFS__COMMAND__OP_RMDIR;
	m.rmdir = &op;
	return finish(&m, FS_NAMESPACE, out);
}

int fs_cmd_rename(const struct fs_caller *c, uint64_t parent, const char *name, uint64_t newparent,
		  const char *newname, uint32_t flags, struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__Rename op;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE)) ||
	    flags == (RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	cmd_init(&m, c);
	paxfs__rename__init(&op);
	if ((rc = name_arg(name, &op.name)) < 0 || (rc = name_arg(newname, &op.newname)) < 0)
		return rc;
	op.parent = parent;
	op.newparent = newparent;
	op.flags = flags;
	m.op_case = PAXFS__COMMAND__OP_RENAME;
	m.rename = &op;
	return finish(&m, FS_NAMESPACE, out);
}

int fs_cmd_write(const struct fs_caller *c, uint64_t ino, uint64_t offset, const void *data,
		 size_t len, struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__Write op;

	memset(out, 0, sizeof(*out));
	cmd_init(&m, c);
	paxfs__write__init(&op);
	op.offset = offset;
	op.data.data = (uint8_t *)data;
	op.data.len = len;
	op.kill_suidgid = c->kill_suidgid;
	m.op_case = PAXFS__COMMAND__OP_WRITE;
	m.write = &op;
	return finish(&m, ino, out);
}

int fs_cmd_append(const struct fs_caller *c, uint64_t ino, const void *data, size_t len,
		  struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__Append op;

	memset(out, 0, sizeof(*out));
	cmd_init(&m, c);
	paxfs__append__init(&op);
	op.data.data = (uint8_t *)data;
	op.data.len = len;
	op.kill_suidgid = c->kill_suidgid;
	m.op_case = PAXFS__COMMAND__OP_APPEND;
	m.append = &op;
	return finish(&m, ino, out);
}

int fs_cmd_truncate(const struct fs_caller *c, uint64_t ino, uint64_t size, struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__Truncate op;

	memset(out, 0, sizeof(*out));
	cmd_init(&m, c);
	paxfs__truncate__init(&op);
	op.size = size;
	m.op_case = PAXFS__COMMAND__OP_TRUNCATE;
	m.truncate = &op;
	return finish(&m, ino, out);
}

int fs_cmd_fallocate(const struct fs_caller *c, uint64_t ino, uint32_t mode, uint64_t offset,
		     uint64_t length, struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__Fallocate op;

	memset(out, 0, sizeof(*out));
	cmd_init(&m, c);
	paxfs__fallocate__init(&op);
	op.mode = mode;
	op.offset = offset;
	op.length = length;
	m.op_case = PAXFS__COMMAND__OP_FALLOCATE;
	m.fallocate = &op;
	return finish(&m, ino, out);
}

/* Fills op from a; "now" is the caller's clock, fixed here: every node
 * applies the same instant. */
static void setattr_op(const struct fs_caller *c, uint64_t ino, const struct fs_setattr *a,
		       Paxfs__SetAttr *op)
{
	paxfs__set_attr__init(op);
	op->ino = ino;
	op->valid = a->valid & (FS_SET_MODE | FS_SET_UID | FS_SET_GID | FS_SET_ATIME |
				FS_SET_MTIME | FS_SET_SIZE | FS_SET_CTIME);
	op->mode = a->mode;
	op->uid = a->uid;
	op->gid = a->gid;
	op->atime_ns = a->atime_ns;
	op->mtime_ns = a->mtime_ns;
	op->ctime_ns = a->ctime_ns;
	op->size = a->size;
	if (a->valid & FS_SET_ATIME_NOW) {
		op->valid |= FS_SET_ATIME;
		op->atime_ns = c->time_ns;
	}
	if (a->valid & FS_SET_MTIME_NOW) {
		op->valid |= FS_SET_MTIME;
		op->mtime_ns = c->time_ns;
	}
}

int fs_cmd_setattr(struct fs *fs, const struct fs_caller *c, uint64_t ino,
		   const struct fs_setattr *a, struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__SetAttr op;
	uint64_t entity;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = fs_entity_of(fs, ino, &entity)) < 0)
		return rc;
	cmd_init(&m, c);
	setattr_op(c, ino, a, &op);
	m.op_case = PAXFS__COMMAND__OP_SETATTR;
	m.setattr = &op;
	return finish(&m, entity, out);
}

int fs_cmd_write_setattr(struct fs *fs, const struct fs_caller *c, uint64_t ino,
			 const struct fs_carried_write *w, const struct fs_setattr *a,
			 struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__WriteSetAttr op;
	Paxfs__Write wr;
	Paxfs__SetAttr sa;
	uint64_t entity;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = fs_entity_of(fs, ino, &entity)) < 0)
		return rc;
	if (entity != ino)
		return -EISDIR; /* only a regular file has buffered writes */
	cmd_init(&m, c);
	paxfs__write__init(&wr);
	wr.offset = w->offset;
	wr.data.data = (uint8_t *)w->data;
	wr.data.len = w->len;
	wr.kill_suidgid = w->kill_suidgid;
	setattr_op(c, ino, a, &sa);
	paxfs__write_set_attr__init(&op);
	op.write = &wr;
	op.setattr = &sa;
	m.op_case = PAXFS__COMMAND__OP_WRITE_SETATTR;
	m.write_setattr = &op;
	return finish(&m, entity, out);
}

bool fs_xattr_is_acl(const char *name, size_t len)
{
	static const char access[] = "system.posix_acl_access";
	static const char dflt[] = "system.posix_acl_default";
	return (len == sizeof(access) - 1 && !memcmp(name, access, len)) ||
	       (len == sizeof(dflt) - 1 && !memcmp(name, dflt, len));
}

static int xattr_name_arg(const char *name, ProtobufCBinaryData *out)
{
	size_t len = strlen(name);
	if (len == 0 || len > FS_XATTR_NAME_MAX)
		return -ERANGE;
	if (fs_xattr_is_acl(name, len))
		return -EOPNOTSUPP;
	out->data = (uint8_t *)name;
	out->len = len;
	return 0;
}

int fs_cmd_setxattr(struct fs *fs, const struct fs_caller *c, uint64_t ino, const char *name,
		    const void *value, size_t size, uint32_t flags, struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__SetXattr op;
	uint64_t entity;
	int rc;

	memset(out, 0, sizeof(*out));
	cmd_init(&m, c);
	paxfs__set_xattr__init(&op);
	if ((rc = xattr_name_arg(name, &op.name)) < 0)
		return rc;
	if (size > FS_XATTR_SIZE_MAX)
		return -E2BIG;
	if ((flags & ~(uint32_t)(XATTR_CREATE | XATTR_REPLACE)) ||
	    flags == (XATTR_CREATE | XATTR_REPLACE))
		return -EINVAL;
	if ((rc = fs_entity_of(fs, ino, &entity)) < 0)
		return rc;
	op.ino = ino;
	op.value.data = (uint8_t *)value;
	op.value.len = size;
	op.flags = flags;
	m.op_case = PAXFS__COMMAND__OP_SETXATTR;
	m.setxattr = &op;
	return finish(&m, entity, out);
}

int fs_cmd_removexattr(struct fs *fs, const struct fs_caller *c, uint64_t ino, const char *name,
		       struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__RemoveXattr op;
	uint64_t entity;
	int rc;

	memset(out, 0, sizeof(*out));
	cmd_init(&m, c);
	paxfs__remove_xattr__init(&op);
	if ((rc = xattr_name_arg(name, &op.name)) < 0)
		return rc;
	if ((rc = fs_entity_of(fs, ino, &entity)) < 0)
		return rc;
	op.ino = ino;
	m.op_case = PAXFS__COMMAND__OP_REMOVEXATTR;
	m.removexattr = &op;
	return finish(&m, entity, out);
}

int fs_value_encode(const uint64_t *ids, const struct fs_cmd *cmds, size_t n, uint8_t **buf,
		    size_t *len)
{
	Paxfs__Value v;
	Paxfs__ValueCmd *vc = calloc(n ? n : 1, sizeof(*vc));
	Paxfs__ValueCmd **pp = calloc(n ? n : 1, sizeof(*pp));
	int rc = 0;

	*buf = NULL;
	if (!vc || !pp) {
		rc = -ENOMEM;
		goto out;
	}
	paxfs__value__init(&v);
	for (size_t i = 0; i < n; i++) {
		paxfs__value_cmd__init(&vc[i]);
		vc[i].id = ids[i];
		vc[i].body.data = cmds[i].body;
		vc[i].body.len = cmds[i].len;
		pp[i] = &vc[i];
	}
	v.n_cmds = n;
	v.cmds = pp;
	size_t sz = paxfs__value__get_packed_size(&v);
	*buf = malloc(sz ? sz : 1);
	if (!*buf) {
		rc = -ENOMEM;
		goto out;
	}
	*len = paxfs__value__pack(&v, *buf);
out:
	free(vc);
	free(pp);
	return rc;
}

int fs_cmd_lock(const struct fs_caller *c, uint64_t ino, const struct fs_lock *l, bool test,
		struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__Lock op;

	memset(out, 0, sizeof(*out));
	if ((l->kind != FS_LOCK_POSIX && l->kind != FS_LOCK_FLOCK) ||
	    (l->type != FS_LOCK_READ && l->type != FS_LOCK_WRITE &&
	     (test || l->type != FS_LOCK_UNLOCK)) ||
	    l->start > l->end)
		return -EINVAL;
	cmd_init(&m, c);
	paxfs__lock__init(&op);
	op.kind = l->kind;
	op.type = l->type;
	op.start = l->kind == FS_LOCK_FLOCK ? 0 : l->start;
	op.end = l->kind == FS_LOCK_FLOCK ? FS_LOCK_END : l->end;
	op.owner = l->owner;
	op.pid = l->pid;
	op.test = test;
	op.life = l->life;
	m.op_case = PAXFS__COMMAND__OP_LOCK;
	m.lock = &op;
	return finish(&m, ino, out);
}

int fs_cmd_lock_release(const struct fs_caller *c, uint64_t ino, uint64_t life,
			const uint64_t *owners, size_t n, uint32_t kinds, struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__LockRelease op;

	memset(out, 0, sizeof(*out));
	cmd_init(&m, c);
	paxfs__lock_release__init(&op);
	op.owners = (uint64_t *)owners;
	op.n_owners = n;
	op.kinds = kinds;
	op.life = life;
	m.op_case = PAXFS__COMMAND__OP_LOCK_RELEASE;
	m.lock_release = &op;
	return finish(&m, ino, out);
}

int fs_cmd_lock_release_stale(const struct fs_caller *c, uint64_t ino, uint64_t life,
			      struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__LockRelease op;

	memset(out, 0, sizeof(*out));
	cmd_init(&m, c);
	paxfs__lock_release__init(&op);
	op.life = life;
	op.stale = true;
	m.op_case = PAXFS__COMMAND__OP_LOCK_RELEASE;
	m.lock_release = &op;
	return finish(&m, ino, out);
}

int fs_cmd_lock_release_expired(const struct fs_caller *c, uint64_t ino, uint32_t node,
				uint64_t life, uint64_t epoch, struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__LockRelease op;

	memset(out, 0, sizeof(*out));
	if (node > 255 || epoch == 0)
		return -EINVAL;
	cmd_init(&m, c);
	paxfs__lock_release__init(&op);
	op.expire = true;
	op.expire_node = node;
	op.life = life;
	op.expire_epoch = epoch;
	m.op_case = PAXFS__COMMAND__OP_LOCK_RELEASE;
	m.lock_release = &op;
	return finish(&m, ino, out);
}

int fs_cmd_lease_renew(const struct fs_caller *c, uint64_t life, uint64_t epoch, uint64_t seq,
		       uint64_t lease_ms, struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__LeaseRenew op;

	memset(out, 0, sizeof(*out));
	if (epoch == 0)
		return -EINVAL;
	cmd_init(&m, c);
	paxfs__lease_renew__init(&op);
	op.life = life;
	op.epoch = epoch;
	op.seq = seq;
	op.lease_ms = lease_ms;
	m.op_case = PAXFS__COMMAND__OP_LEASE_RENEW;
	m.lease_renew = &op;
	return finish(&m, FS_NAMESPACE, out);
}

int fs_cmd_lease_expire(const struct fs_caller *c, uint32_t node, const struct fs_lease *rec,
			struct fs_cmd *out)
{
	Paxfs__Command m;
	Paxfs__LeaseExpire op;

	memset(out, 0, sizeof(*out));
	if (node > 255)
		return -EINVAL;
	cmd_init(&m, c);
	paxfs__lease_expire__init(&op);
	op.node = node;
	op.life = rec->life;
	op.epoch = rec->epoch;
	op.seq = rec->seq;
	m.op_case = PAXFS__COMMAND__OP_LEASE_EXPIRE;
	m.lease_expire = &op;
	return finish(&m, FS_NAMESPACE, out);
}
