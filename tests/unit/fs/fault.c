/* tests/unit/fs/fault.c — a fault-injecting decorator of store_write for the
 * fs/ tests, linked with -Wl,--wrap=store_write: while t_fail_writes is a
 * negative errno, every store_write fails with it and writes nothing (what
 * a full or failing disk does to the real store). */
#include "store/store.h"
#include "tests/unit/fs/fs_test.h"

int t_fail_writes;

int __real_store_write(struct store *s, struct store_batch *b, bool sync);
int __wrap_store_write(struct store *s, struct store_batch *b, bool sync);

int __wrap_store_write(struct store *s, struct store_batch *b, bool sync)
{
	if (t_fail_writes < 0)
		return t_fail_writes;
	return __real_store_write(s, b, sync);
}
