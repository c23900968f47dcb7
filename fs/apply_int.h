/* fs/apply_int.h — what the apply files share: the context of one command
 * and the reporting of outcomes.
 *
 * fs/apply.c decodes a value and runs each command through fs_apply_ns
 * (namespace entity) or fs_apply_file (a regular file's entity), all into
 * one transaction (fs/txn.h). A command returns its outcome (0 or a negative
 * errno for the caller of the system call); a failure of the node itself
 * (store error, damaged record, no memory) fails the transaction instead,
 * and then nothing of the value is applied.
 */
#ifndef PAXFS_FS_APPLY_INT_H
#define PAXFS_FS_APPLY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/fs.h"
#include "fs/record.h"
#include "proto/command.pb-c.h"

struct fs_actx {
	struct fs *fs;
	struct fs_txn *t;
	uint64_t entity;
	uint64_t cmd_id;
	uint32_t node; /* the proposing node: top 8 bits of the command id */
	const Paxfs__Command *cmd;
	int64_t now; /* cmd->time_ns: every timestamp the command sets */
	struct fs_apply_out *out;
	struct fs_result *res;
	/* regular files created by this value: their ApplyMeta is written */
	uint64_t *born;
	size_t n_born, cap_born;
};

/* Reporting; on -ENOMEM the transaction fails. */
void fs_out_inode(struct fs_actx *c, uint64_t ino, bool data, uint64_t off, uint64_t len);
void fs_out_entry(struct fs_actx *c, uint64_t parent, const void *name, size_t namelen,
		  uint64_t child, bool removed);
void fs_out_unlinked(struct fs_actx *c, uint64_t ino);
void fs_out_born(struct fs_actx *c, uint64_t ino);
bool fs_out_is_born(const struct fs_actx *c, uint64_t ino);

/* Fills c->res's stat. A regular file's attributes come from the transaction
 * when it was created by this value, else from the store; when they cannot
 * be read the result just has no stat (the outcome stands). `ns` may be NULL
 * (a regular file with no link left); `f` may be given to skip the read. */
void fs_result_stat(struct fs_actx *c, uint64_t ino, const struct fs_inode *ns,
		    const struct fs_file *f);

/* A name as POSIX allows it in a directory: 1..FS_NAME_MAX bytes without
 * '/' or NUL, not "." or "..". 0, -EINVAL, -ENAMETOOLONG. */
int fs_name_check(const void *name, size_t len);

/* setxattr / removexattr of inode `ino`, for the namespace entity (a
 * directory's or symlink's xattrs) and a file entity alike:
 * fs_xattr_check checks the arguments (name 1..FS_XATTR_NAME_MAX bytes
 * without NUL: -ERANGE, -EINVAL; value at most FS_XATTR_SIZE_MAX: -E2BIG;
 * flags XATTR_CREATE or XATTR_REPLACE or none: -EINVAL), fs_xattr_write puts
 * or deletes the value in the transaction (-EEXIST, -ENODATA as the flags
 * say). The caller updates the inode's ctime. */
int fs_xattr_check(const ProtobufCBinaryData *name, const ProtobufCBinaryData *value,
		   uint32_t flags, bool remove);
int fs_xattr_write(struct fs_actx *c, uint64_t ino, bool file_entity,
		   const ProtobufCBinaryData *name, const ProtobufCBinaryData *value,
		   uint32_t flags, bool remove);

/* Run one command of the namespace / of a file entity. Return the outcome. */
int fs_apply_ns(struct fs_actx *c);
int fs_apply_file(struct fs_actx *c);
/* Lock and LockRelease on the file entity c->entity (fs/lock.c). */
int fs_apply_lock(struct fs_actx *c);
/* LeaseRenew and LeaseExpire on the namespace (fs/lease.c). */
int fs_apply_lease(struct fs_actx *c);
/* -EIO when the command is stamped with a lease of its node that the file
 * c->entity has fenced (fs/lock.c); 0 otherwise. */
int fs_lease_check_fence(struct fs_actx *c);

#endif
