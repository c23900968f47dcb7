/* tests/unit/store/helpers.h — what every store test program shares: a fresh
 * temporary directory per test case (tests/lib/tmpdir.h), opening a store with
 * asserts, deterministic test values, and raw leveldb access for planting
 * damage.
 *
 * Header-only (static functions): each test program is one translation unit
 * and includes "config.h" first (it defines _GNU_SOURCE). */
#ifndef PAXFS_TESTS_UNIT_STORE_HELPERS_H
#define PAXFS_TESTS_UNIT_STORE_HELPERS_H

#include <check.h>
#include <errno.h>
#include <leveldb/c.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "tests/lib/tmpdir.h"
#include "util/prng.h"

/* The case's own directory (empty at start) and the data dir inside it. */
static char test_dir[PATH_MAX - 400];
static char data_dir[PATH_MAX - 300];

static void tmp_setup(void)
{
	tmpdir_make(test_dir, sizeof(test_dir), "paxfs-store");
	snprintf(data_dir, sizeof(data_dir), "%s/data", test_dir);
}

static void tmp_teardown(void)
{
	rm_rf(test_dir);
}

/* A test case with its own temporary directory and a timeout in seconds. */
#define STORE_TEST(suite, fn, timeout_s) FIXTURE_CASE(suite, fn, timeout_s, tmp_setup, tmp_teardown)

/* Opens (creating) the store in data_dir with `opt` (NULL: create, defaults). */
static inline struct store *open_store(const struct store_options *opt)
{
	struct store_options o = {.create = true};
	struct store *s = NULL;
	char err[512];
	int rc = store_open(data_dir, opt ? opt : &o, &s, err, sizeof(err));
	ck_assert_msg(rc == 0, "store_open(%s): %d %s", data_dir, rc, err);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* Deterministic bytes for (seed, len): what a value "should" be. */
static inline void fill_value(uint8_t *buf, size_t len, uint64_t seed)
{
	struct util_prng p;
	util_prng_seed(&p, seed);
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = util_prng_next(&p);
		for (size_t j = 0; j < 8 && i + j < len; j++)
			buf[i + j] = (uint8_t)(v >> (8 * j));
	}
}

static inline bool value_is(const uint8_t *buf, size_t len, uint64_t seed)
{
	uint8_t *want = malloc(len ? len : 1);
	bool same;
	fill_value(want, len, seed);
	same = !len || (buf && !memcmp(buf, want, len));
	free(want);
	return same;
}

/* Raw leveldb access to the data dir (the store must be closed). */
static inline leveldb_t *raw_open(void)
{
	leveldb_options_t *o = leveldb_options_create();
	char *err = NULL;
	leveldb_t *db = leveldb_open(o, data_dir, &err);
	leveldb_options_destroy(o);
	ck_assert_msg(!err, "raw leveldb_open: %s", err ? err : "");
	return db;
}

/* Reads a raw value: malloc'd copy (free()) or NULL when absent. */
static inline uint8_t *raw_get(leveldb_t *db, const void *key, size_t klen, size_t *vlen)
{
	leveldb_readoptions_t *ro = leveldb_readoptions_create();
	char *err = NULL, *v = leveldb_get(db, ro, key, klen, vlen, &err);
	uint8_t *copy = NULL;
	leveldb_readoptions_destroy(ro);
	ck_assert_msg(!err, "raw get: %s", err ? err : "");
	if (v) {
		copy = malloc(*vlen ? *vlen : 1);
		memcpy(copy, v, *vlen);
		leveldb_free(v);
	}
	return copy;
}

static inline void raw_put(leveldb_t *db, const void *key, size_t klen, const void *val,
			   size_t vlen)
{
	leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
	char *err = NULL;
	leveldb_writeoptions_set_sync(wo, 1);
	leveldb_put(db, wo, key, klen, val, vlen, &err);
	leveldb_writeoptions_destroy(wo);
	ck_assert_msg(!err, "raw put: %s", err ? err : "");
}

/* Number of keys in [lo, hi) (hi NULL: to the end). */
static inline size_t raw_count(leveldb_t *db, const void *lo, size_t lolen, const void *hi,
			       size_t hilen)
{
	leveldb_readoptions_t *ro = leveldb_readoptions_create();
	leveldb_iterator_t *it = leveldb_create_iterator(db, ro);
	size_t n = 0, klen;
	for (leveldb_iter_seek(it, lo, lolen); leveldb_iter_valid(it); leveldb_iter_next(it)) {
		const char *k = leveldb_iter_key(it, &klen);
		if (hi) {
			size_t m = klen < hilen ? klen : hilen;
			int c = memcmp(k, hi, m);
			if (c > 0 || (c == 0 && klen >= hilen))
				break;
		}
		n++;
	}
	leveldb_iter_destroy(it);
	leveldb_readoptions_destroy(ro);
	return n;
}

#endif
