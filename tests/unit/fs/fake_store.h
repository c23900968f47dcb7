/* tests/unit/fs/fake_store.h — test hooks of the THROWAWAY in-memory store
 * (fake_store.c) the fs/ tests link until the real store/ is merged. */
#ifndef PAXFS_TESTS_UNIT_FS_FAKE_STORE_H
#define PAXFS_TESTS_UNIT_FS_FAKE_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Damages the stored state record `key`: its next read fails its checksum.
 * -ENOENT when absent. */
int fake_store_corrupt_state(struct store *s, const void *key, size_t klen);

#endif
