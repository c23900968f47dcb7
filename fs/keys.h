/* fs/keys.h — the layout of fs/ keys in the store's 'S' keyspace.
 *
 * Every key starts with the entity it belongs to (big-endian), so the state
 * of one entity is one contiguous key range [entity, entity + 1): that range
 * is what a snapshot exports and what the state digest covers.
 *
 *   key = entity:8 tag:1 rest...
 *
 *   namespace (entity 1)
 *     1 'C'                  FsNamespace   inode counter, inode count
 *     1 'D' parent:8 name    FsDirent      one directory entry
 *     1 'I' ino:8            FsInode       one inode (root: ino 1)
 *     1 'X' ino:8 name       bytes         an xattr of an inode that is not a regular file
 *     1 'L' node:8           FsLease       the lock lease of a node (fs/lease.c)
 *   regular file (entity = ino)
 *     ino 'a'                FsFile        attributes
 *     ino 'c' index:8        bytes         data chunk `index`: bytes [index*4096, ...);
 *                                          at most 4096; bytes past its length read as
 *                                          zeros; never extends past the file size
 *     ino 'l'                FsLocks       the lock table (absent when empty)
 *     ino 'x' name           bytes         an xattr
 *   outside every entity (entity 0 is never an entity: not state, no digest)
 *     0 'B' entity:8         FsBadMark     the entity refuses service
 *     0 'I' entity:8         (empty)       a snapshot install of the entity is under way
 *     0 'R' entity:8         (empty)       file entity reclaimed or gone on this node
 *
 * Directory entries of one directory are contiguous and in bytewise name
 * order, which is the readdir order; chunks of a file are in offset order.
 */
#ifndef PAXFS_FS_KEYS_H
#define PAXFS_FS_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fs/fs.h"
#include "util/endian.h"

enum {
	FS_TAG_NSMETA = 'C',
	FS_TAG_DIRENT = 'D',
	FS_TAG_INODE = 'I',
	FS_TAG_NSXATTR = 'X',
	FS_TAG_LEASE = 'L',
	FS_TAG_ATTR = 'a',
	FS_TAG_CHUNK = 'c',
	FS_TAG_LOCKS = 'l',
	FS_TAG_XATTR = 'x',
	FS_TAG_BAD = 'B',
	FS_TAG_INSTALL = 'I',
	FS_TAG_DEAD = 'R',
};

#define FS_KEY_MAX (8 + 1 + 8 + FS_NAME_MAX + 1)

struct fs_key {
	size_t len;
	uint8_t b[FS_KEY_MAX];
};

/* entity:8 tag:1 [id:8] [name]; a name longer than FS_NAME_MAX must have
 * been refused before (callers check), it is cut here to keep the bound. */
static inline void fs_key_make(struct fs_key *k, uint64_t entity, uint8_t tag, const uint64_t *id,
			       const void *name, size_t namelen)
{
	util_put_be64(k->b, entity);
	k->b[8] = tag;
	k->len = 9;
	if (id) {
		util_put_be64(k->b + 9, *id);
		k->len = 17;
	}
	if (namelen > FS_NAME_MAX)
		namelen = FS_NAME_MAX;
	if (namelen) {
		memcpy(k->b + k->len, name, namelen);
		k->len += namelen;
	}
}

static inline void fs_key_nsmeta(struct fs_key *k)
{
	fs_key_make(k, FS_NAMESPACE, FS_TAG_NSMETA, NULL, NULL, 0);
}

static inline void fs_key_inode(struct fs_key *k, uint64_t ino)
{
	fs_key_make(k, FS_NAMESPACE, FS_TAG_INODE, &ino, NULL, 0);
}

static inline void fs_key_dirent(struct fs_key *k, uint64_t parent, const void *name, size_t len)
{
	fs_key_make(k, FS_NAMESPACE, FS_TAG_DIRENT, &parent, name, len);
}

/* xattr of any inode: in the namespace unless the inode is a regular file. */
static inline void fs_key_xattr(struct fs_key *k, uint64_t ino, bool regular, const void *name,
				size_t len)
{
	if (regular)
		fs_key_make(k, ino, FS_TAG_XATTR, NULL, name, len);
	else
		fs_key_make(k, FS_NAMESPACE, FS_TAG_NSXATTR, &ino, name, len);
}

static inline void fs_key_attr(struct fs_key *k, uint64_t ino)
{
	fs_key_make(k, ino, FS_TAG_ATTR, NULL, NULL, 0);
}

static inline void fs_key_chunk(struct fs_key *k, uint64_t ino, uint64_t index)
{
	fs_key_make(k, ino, FS_TAG_CHUNK, &index, NULL, 0);
}

/* The first key after every key that starts with k (k must not be all 0xff). */
static inline void fs_key_prefix_end(struct fs_key *k)
{
	size_t i = k->len;
	while (i > 0 && k->b[i - 1] == 0xff)
		i--;
	k->len = i;
	k->b[i - 1]++;
}

/* The entity a key belongs to (0 for the keys outside every entity). */
static inline uint64_t fs_key_entity(const void *key, size_t len)
{
	return len >= 8 ? util_get_be64(key) : 0;
}

/* A marker outside every entity. */
static inline void fs_key_mark(struct fs_key *k, uint8_t tag, uint64_t entity)
{
	fs_key_make(k, 0, tag, &entity, NULL, 0);
}

#endif
