/* fs/txn.h — the changes of one applied entry, before they are written.
 *
 * fs_apply runs every command of a value against one transaction: reads see
 * what earlier commands of the value changed (read-your-writes), changes are
 * kept in an overlay and go into one store batch at the end, beside the
 * ApplyMeta of every touched entity, whose digest deltas the transaction
 * keeps:
 *
 *   overlay   key -> { orig: present? hash   cur: present? bytes }
 *   ranges    [start, end) removed by fs_txn_del_range; the stored keys in
 *             them were queued as deletes and hashed out at that moment
 *   deltas    entity -> XOR of (orig hash ^ final hash) of its changed keys
 *
 * A key touched for the first time is looked up in the overlay, then the
 * ranges (removed: absent), then the store: what was there is its "orig".
 * fs_txn_seal queues a put or delete for every changed key after the deletes
 * of the ranges (in a leveldb batch the later operation on a key wins) and
 * folds orig ^ final into the deltas.
 *
 * Invariant: after seal, XORing fs_txn_delta(t, e) into entity e's digest
 * gives the digest of e's state once the batch is written.
 */
#ifndef PAXFS_FS_TXN_H
#define PAXFS_FS_TXN_H

#include <stddef.h>
#include <stdint.h>

struct fs;
struct fs_txn;
struct store_batch;

/* -ENOMEM. */
int fs_txn_new(struct fs *fs, struct fs_txn **out);
void fs_txn_free(struct fs_txn *t);

/* Forgets every change and clears the batch: ready for the next entry. */
void fs_txn_reset(struct fs_txn *t);

/* The value of `key` as the transaction sees it, malloc'd into *val (free()).
 * -ENOENT when absent; -EBADMSG (the key's entity is marked bad), -EIO,
 * -ENOMEM, which also fail the transaction. */
int fs_txn_get(struct fs_txn *t, const void *key, size_t klen, void **val, size_t *vlen);

/* Sets or deletes `key` (copied). Errors fail the transaction, as above. */
int fs_txn_put(struct fs_txn *t, const void *key, size_t klen, const void *val, size_t vlen);
int fs_txn_del(struct fs_txn *t, const void *key, size_t klen);

/* Deletes every key in [start, end) (both within one entity); *removed (may
 * be NULL) is how many keys existed there. Costs a scan of the stored range:
 * the old values are read to take their hashes out of the digest. */
int fs_txn_del_range(struct fs_txn *t, const void *start, size_t slen, const void *end, size_t elen,
		     uint64_t *removed);

/* The first error that failed the transaction (sticky), 0 if none. */
int fs_txn_failed(const struct fs_txn *t);
void fs_txn_fail(struct fs_txn *t, int rc);

/* Queues every change into the batch and computes the deltas. Nothing may
 * be changed after. -ENOMEM. */
int fs_txn_seal(struct fs_txn *t);

/* After seal: the XOR to apply to `entity`'s digest (0 if untouched). */
uint64_t fs_txn_delta(const struct fs_txn *t, uint64_t entity);

/* The batch, for records outside the overlay (ApplyMeta, markers). */
struct store_batch *fs_txn_batch(struct fs_txn *t);

#endif
