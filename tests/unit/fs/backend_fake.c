/* tests/unit/fs/backend_fake.c — damaging a state record in the THROWAWAY
 * in-memory store (fake_store.c). Goes away with it. */
#include "tests/unit/fs/fake_store.h"
#include "tests/unit/fs/fs_test.h"

void t_corrupt_state(struct tnode *n, const void *key, size_t klen)
{
	ck_assert_int_eq(fake_store_corrupt_state(n->st, key, klen), 0);
}
