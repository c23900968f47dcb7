/* tests/unit/fs/fake_store.h — test hooks of the THROWAWAY in-memory store
 * (fake_store.c) the fs/ tests link until the real store/ is merged. */
#ifndef PAXFS_TESTS_UNIT_FS_FAKE_STORE_H
#define PAXFS_TESTS_UNIT_FS_FAKE_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Non-zero: every store_write fails with it (negative errno) or -EIO. */
extern int fake_store_fail_writes;
/* store_write calls that succeeded. */
extern size_t fake_store_writes;

/* Damages the stored state record `key`: its next read fails its checksum.
 * -ENOENT when absent. */
int fake_store_corrupt_state(struct store *s, const void *key, size_t klen);
/* Number of state records. */
size_t fake_store_count_state(struct store *s);
/* Gives `entity` a PaxosMeta, as the engine would. */
void fake_store_put_paxos_meta(struct store *s, uint64_t entity);

#endif
