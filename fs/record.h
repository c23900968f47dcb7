/* fs/record.h — the typed records of the fs state (proto/fs.proto) as plain
 * C structs, and their loads and stores through fs_get / the transaction.
 *
 * A record that passes the store's checksum but does not decode is damage
 * like any other: -EBADMSG, and its entity is marked bad.
 */
#ifndef PAXFS_FS_RECORD_H
#define PAXFS_FS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fs/fs.h"

struct fs;
struct fs_txn;

/* Namespace inode (FsInode). */
struct fs_inode {
	uint32_t mode, uid, gid, nlink;
	int64_t atime_ns, mtime_ns, ctime_ns, birth_ns;
	uint64_t rdev;
	uint64_t parent;  /* directories */
	uint64_t entries; /* directories */
	size_t target_len;
	char target[FS_SYMLINK_MAX + 1]; /* symlinks, NUL-terminated */
};

/* File entity attributes (FsFile). */
struct fs_file {
	uint32_t mode, uid, gid;
	uint64_t size, chunks;
	int64_t atime_ns, mtime_ns, ctime_ns, birth_ns;
};

struct fs_dirent {
	uint64_t ino;
	uint32_t type; /* S_IFMT bits */
};

struct fs_nsmeta {
	uint64_t next_counter;
	uint64_t inodes;
};

/* Loads: t NULL reads the store. 0, -ENOENT, -EBADMSG (entity marked bad),
 * -EIO, -ENOMEM. */
int fs_inode_load(struct fs *fs, struct fs_txn *t, uint64_t ino, struct fs_inode *out);
int fs_file_load(struct fs *fs, struct fs_txn *t, uint64_t ino, struct fs_file *out);
int fs_dirent_load(struct fs *fs, struct fs_txn *t, uint64_t parent, const void *name,
		   size_t namelen, struct fs_dirent *out);
int fs_nsmeta_load(struct fs *fs, struct fs_txn *t, struct fs_nsmeta *out);

/* Decodes a dirent value (for scans). 0 or -EBADMSG. */
int fs_dirent_decode(const void *val, size_t vlen, struct fs_dirent *out);
/* Decodes an inode value (for scans). 0 or -EBADMSG. */
int fs_inode_decode(const void *val, size_t vlen, struct fs_inode *out);

/* Stores into the transaction. 0 or -ENOMEM (the transaction fails). */
int fs_inode_store(struct fs_txn *t, uint64_t ino, const struct fs_inode *in);
int fs_file_store(struct fs_txn *t, uint64_t ino, const struct fs_file *f);
int fs_dirent_store(struct fs_txn *t, uint64_t parent, const void *name, size_t namelen,
		    const struct fs_dirent *d);
int fs_nsmeta_store(struct fs_txn *t, const struct fs_nsmeta *m);

/* Encodings, into a malloc'd buffer (free()): for writes outside a
 * transaction (fs_open, install). -ENOMEM. */
int fs_inode_encode(const struct fs_inode *in, uint8_t **buf, size_t *len);
int fs_file_encode(const struct fs_file *f, uint8_t **buf, size_t *len);
int fs_nsmeta_encode(const struct fs_nsmeta *m, uint8_t **buf, size_t *len);

/* The initial state of a regular file's entity, from its birth record. */
void fs_file_from_birth(const struct fs_inode *birth, struct fs_file *out);

/* struct stat of `ino` from its namespace record and/or its file attributes
 * (either may be NULL, not both): for a regular file nlink comes from the
 * namespace (0 without one), the rest from the file, ctime the later one. */
void fs_stat_fill(struct stat *st, uint64_t ino, const struct fs_inode *ns,
		  const struct fs_file *f);

#endif
