/* fs/fs_int.h — what the files of fs/ share and nobody else sees: the
 * struct fs, the bad and installing marks, and reads that mark an entity bad
 * when its state is damaged.
 *
 * Invariant: fs->bad and fs->installing mirror the 0 'B' and 0 'I' markers
 * in the store (fs/keys.h); both are set before the matching store write
 * is queued, so this process never serves an entity the store marks.
 */
#ifndef PAXFS_FS_FS_INT_H
#define PAXFS_FS_FS_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/fs.h"
#include "store/store.h"

struct fs_txn;

/* A small set of entity ids (bad or installing ones: few, if any). */
struct fs_idset {
	uint64_t *ids;
	size_t n, cap;
};

struct fs {
	struct store *st;
	struct fs_options opt;
	struct fs_idset bad;
	struct fs_idset installing;
	struct fs_txn *txn; /* reused by every fs_apply */
};

bool fs_idset_has(const struct fs_idset *s, uint64_t id);
int fs_idset_add(struct fs_idset *s, uint64_t id);
void fs_idset_del(struct fs_idset *s, uint64_t id);
void fs_idset_close(struct fs_idset *s);

/* 0 when the entity may be served; -EIO when it is bad or being installed. */
int fs_serviceable(struct fs *fs, uint64_t entity);

/* Reads a state record into *val (malloc'd, free()), through the apply
 * transaction `t` when not NULL (seeing its pending changes), else from the
 * store. -ENOENT when absent. -EBADMSG when the record fails its checksum:
 * the key's entity is marked bad. -EIO, -ENOMEM. With `t`, every error but
 * -ENOENT also makes the transaction fail (fs_txn_failed). */
int fs_get(struct fs *fs, struct fs_txn *t, const void *key, size_t klen, void **val, size_t *vlen);

/* Maps an internal error to what a read returns: -EBADMSG (damaged record,
 * the entity is now bad) becomes -EIO. */
static inline int fs_read_err(int rc)
{
	return rc == -EBADMSG ? -EIO : rc;
}

/* Helpers over store_scan_state for one key range. */
int fs_scan(struct fs *fs, const void *start, size_t slen, const void *end, size_t elen,
	    store_state_cb cb, void *arg);

/* The smallest entity > after that has any fs state record (0: none). */
int fs_next_state_entity(struct fs *fs, uint64_t after, uint64_t *entity);

/* Deletes every state record of `entity` in bounded unsynced batches
 * (fs/maint.c). 0, -EIO, -ENOSPC, -ENOMEM. */
int fs_sweep_entity(struct fs *fs, uint64_t entity);

#endif
