/* store/compact.c — giving back the room of deleted and overwritten keys.
 *
 * leveldb keeps an overwritten or deleted key's old bytes until a compaction
 * happens to merge the files that hold them, and with leveled compaction the
 * deepest level is rewritten rarely: a store whose files are rewritten over
 * and over (trimmed log values, file chunks written again) can hold several
 * times its live data in dead versions. store_compact() merges everything
 * now, which leaves about the live data. It is slow (it rewrites the store)
 * and blocks its caller, so the daemon calls it from a thread of its own
 * (mount/compact.c), when enough was written since the last time. */
#include <errno.h>
#include <stdint.h>

#include "store/internal.h"

int store_compact(struct store *s)
{
	leveldb_t *db;
	int rc = store_db_enter(s, &db);
	if (rc < 0)
		return rc;
	/* NULL bounds: the whole key space. leveldb reports no error here: a
	 * failed compaction leaves the old files, and the next write reports
	 * the background error. */
	leveldb_compact_range(db, NULL, 0, NULL, 0);
	store_db_leave(s);
	return 0;
}

int store_approximate_bytes(struct store *s, uint64_t *out)
{
	static const char lo[1] = {0};
	static const char hi[9] = {'\xff', '\xff', '\xff', '\xff', '\xff',
				   '\xff', '\xff', '\xff', '\xff'};
	const char *start = lo, *limit = hi;
	size_t start_len = sizeof(lo), limit_len = sizeof(hi);
	uint64_t size = 0;
	leveldb_t *db;
	int rc = store_db_enter(s, &db);

	*out = 0;
	if (rc < 0)
		return rc;
	leveldb_approximate_sizes(db, 1, &start, &start_len, &limit, &limit_len, &size);
	store_db_leave(s);
	*out = size;
	return 0;
}
