/* util/u64map.c — linear probing, backward-shift deletion. */
#include "util/u64map.h"

#include <errno.h>
#include <stdlib.h>

static size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

void util_u64map_init(struct util_u64map *m)
{
	m->keys = NULL;
	m->vals = NULL;
	m->cap = m->len = 0;
}

void util_u64map_close(struct util_u64map *m)
{
	free(m->keys);
	free(m->vals);
	util_u64map_init(m);
}

void *util_u64map_get(const struct util_u64map *m, uint64_t key)
{
	if (!m->cap || !key)
		return NULL;
	for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key)
			return m->vals[i];
		if (!m->keys[i])
			return NULL;
	}
}

static int grow(struct util_u64map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	uint64_t *keys = calloc(cap, sizeof(*keys));
	void **vals = calloc(cap, sizeof(*vals));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (size_t j = 0; j < m->cap; j++) {
		size_t i;
		if (!m->keys[j])
			continue;
		for (i = slot_of(m->keys[j], cap); keys[i]; i = (i + 1) & (cap - 1))
			;
		keys[i] = m->keys[j];
		vals[i] = m->vals[j];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	return 0;
}

int util_u64map_put(struct util_u64map *m, uint64_t key, void *val)
{
	size_t i;
	if ((m->len + 1) * 4 > m->cap * 3 && grow(m) < 0)
		return -ENOMEM;
	for (i = slot_of(key, m->cap); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return 0;
		}
	m->keys[i] = key;
	m->vals[i] = val;
	m->len++;
	return 0;
}

void *util_u64map_del(struct util_u64map *m, uint64_t key)
{
	size_t i, j, mask = m->cap - 1;
	void *val;
	if (!m->cap || !key)
		return NULL;
	for (i = slot_of(key, m->cap); m->keys[i] != key; i = (i + 1) & mask)
		if (!m->keys[i])
			return NULL;
	val = m->vals[i];
	/* Shift back every following entry whose home slot is at or before the hole. */
	for (j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
		size_t home = slot_of(m->keys[j], m->cap);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			i = j;
		}
	}
	m->keys[i] = 0;
	m->vals[i] = NULL;
	m->len--;
	return val;
}

int util_u64map_next(const struct util_u64map *m, size_t *pos, uint64_t *key, void **val)
{
	for (; *pos < m->cap; (*pos)++)
		if (m->keys[*pos]) {
			*key = m->keys[*pos];
			*val = m->vals[*pos];
			(*pos)++;
			return 1;
		}
	return 0;
}
