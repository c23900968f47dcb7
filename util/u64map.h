/* util/u64map.h — a hash map from non-zero 64-bit keys to pointers.
 *
 * Open addressing with linear probing; deletion shifts the following
 * entries back (no tombstones), so lookups stay short after churn. The table
 * doubles when 3/4 full. Key 0 is reserved (empty slot). */
#ifndef PAXFS_UTIL_U64MAP_H
#define PAXFS_UTIL_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct util_u64map {
	uint64_t *keys;
	void **vals;
	size_t cap; /* power of two, or 0 */
	size_t len;
};

void util_u64map_init(struct util_u64map *m);
void util_u64map_close(struct util_u64map *m);

/* The value of `key`, or NULL. */
void *util_u64map_get(const struct util_u64map *m, uint64_t key);

/* Sets key → val (replacing). key != 0, val != NULL. 0 or -ENOMEM. */
int util_u64map_put(struct util_u64map *m, uint64_t key, void *val);

/* Removes key; returns its value, or NULL if it was not there. */
void *util_u64map_del(struct util_u64map *m, uint64_t key);

/* Iteration: for (size_t i = 0; util_u64map_next(m, &i, &k, &v);) — do not
 * put or delete while iterating. */
int util_u64map_next(const struct util_u64map *m, size_t *pos, uint64_t *key, void **val);

#endif
