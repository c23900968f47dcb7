/* fs/hash.h — the 64-bit hash behind the state digests.
 *
 * The digest of an entity is the XOR of fs_hash_kv(key, value) over every
 * record of its state, so it is updated in O(1) per change (XOR out the old
 * record's hash, XOR in the new one) and recomputed from scratch by a scan.
 * The hash is non-linear (multiply-rotate lanes and a final avalanche): with
 * a linear one such as a CRC, the same damage in two records could cancel
 * out in the XOR. It reads bytes in little-endian order explicitly, so every
 * node computes the same value whatever its CPU. Not cryptographic: it
 * detects divergence, it does not resist an adversary.
 */
#ifndef PAXFS_FS_HASH_H
#define PAXFS_FS_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Hash of n bytes at p, under a seed. */
uint64_t fs_hash64(const void *p, size_t n, uint64_t seed);

/* Hash of one record: the key and the value, each length-delimited. */
uint64_t fs_hash_kv(const void *key, size_t klen, const void *val, size_t vlen);

#endif
