/* tests/unit/fs/backend_leveldb.c — damaging a state record of the real
 * store: close fs and store, flip a payload byte of the record in leveldb
 * directly (store.h documents the layout: key 'S' ‖ fs key, value
 * [crc32c: 4 bytes][payload]), reopen. The record's checksum then fails. */
#include <leveldb/c.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/fs/fs_test.h"

void t_corrupt_state(struct tnode *n, const void *key, size_t klen)
{
	char *err = NULL;
	size_t vlen;
	uint8_t *k = malloc(klen + 1);

	ck_assert_ptr_nonnull(k);
	k[0] = 'S';
	memcpy(k + 1, key, klen);
	fs_free(n->fs);
	store_free(n->st);
	n->fs = NULL;
	n->st = NULL;

	leveldb_options_t *o = leveldb_options_create();
	leveldb_readoptions_t *ro = leveldb_readoptions_create();
	leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(wo, 1);
	leveldb_t *db = leveldb_open(o, n->dir, &err);
	ck_assert_msg(db != NULL, "leveldb_open %s: %s", n->dir, err ? err : "?");
	char *v = leveldb_get(db, ro, (const char *)k, klen + 1, &vlen, &err);
	ck_assert_msg(v != NULL && vlen >= 4, "no record to damage");
	v[vlen > 4 ? 4 + (vlen - 4) / 2 : 0] ^= 0x40;
	leveldb_put(db, wo, (const char *)k, klen + 1, v, vlen, &err);
	ck_assert_msg(err == NULL, "leveldb_put: %s", err ? err : "");
	leveldb_free(v);
	leveldb_close(db);
	leveldb_options_destroy(o);
	leveldb_readoptions_destroy(ro);
	leveldb_writeoptions_destroy(wo);
	free(k);
	tn_reopen(n);
}
