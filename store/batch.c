/* store/batch.c — the one write path: queue changes, then store_write.
 *
 * A batch is a list of operations over one byte arena:
 *
 *   ops:   [PUT k0 v0][DEL k1][RECORD e,i,...][PUT k2 v2] ...
 *   arena: |k0|crc v0...|k1|crc value bytes....|k2|crc v2|
 *   map:   state key -> index of its last op (read-your-writes)
 *
 * store_write turns the list, in order, into one leveldb WriteBatch and
 * writes it (synced: see write_locked for the order of the syncs, and
 * dirsync.h for the log files leveldb leaves unsynced). leveldb applies a WriteBatch atomically: its log record is
 * checksummed as a whole, so after a crash it is replayed whole or not at all.
 *
 * Invariant: ops are applied in the order they were queued (a later op on a
 * key wins), and a failed store_write leaves the batch as it was.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/frame.h"
#include "store/internal.h"
#include "store/keys.h"
#include "util/crc32c.h"
#include "util/log.h"

/* A batch that once held a huge value gives its arena back at clear. */
#define BATCH_KEEP_ARENA ((size_t)8 << 20)

struct store_batch *store_batch_new(void)
{
	struct store_batch *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->wb = leveldb_writebatch_create();
	return b;
}

void store_batch_free(struct store_batch *b)
{
	if (!b)
		return;
	leveldb_writebatch_destroy(b->wb);
	free(b->ops);
	free(b->arena);
	free(b->map);
	free(b->scratch);
	free(b);
}

void store_batch_clear(struct store_batch *b)
{
	b->nops = 0;
	b->used = 0;
	b->bytes = 0;
	b->err = 0;
	if (b->map_used) {
		memset(b->map, 0, b->map_cap * sizeof(*b->map));
		b->map_used = 0;
	}
	if (b->cap > BATCH_KEEP_ARENA) {
		free(b->arena);
		b->arena = NULL;
		b->cap = 0;
	}
	if (b->scratch_cap > BATCH_KEEP_ARENA) {
		free(b->scratch);
		b->scratch = NULL;
		b->scratch_cap = 0;
	}
	leveldb_writebatch_clear(b->wb);
}

bool store_batch_empty(const struct store_batch *b)
{
	return b->nops == 0 && b->err == 0;
}

size_t store_batch_bytes(const struct store_batch *b)
{
	return b->bytes;
}

void store_batch_fail(struct store_batch *b, int err)
{
	if (!b->err) {
		b->err = err;
		LOG_ERR("store: batch refused a change (%s); store_write will fail",
			strerror(-err));
	}
}

size_t store_batch_alloc(struct store_batch *b, size_t n)
{
	size_t off = b->used;
	if (n > b->cap - b->used) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->used < n)
			cap *= 2;
		uint8_t *a = realloc(b->arena, cap);
		if (!a) {
			store_batch_fail(b, -ENOMEM);
			return SIZE_MAX;
		}
		b->arena = a;
		b->cap = cap;
	}
	b->used += n;
	return off;
}

struct store_op *store_batch_op(struct store_batch *b, enum store_op_kind kind)
{
	if (b->nops == b->ops_cap) {
		size_t cap = b->ops_cap ? 2 * b->ops_cap : 64;
		struct store_op *o = realloc(b->ops, cap * sizeof(*o));
		if (!o) {
			store_batch_fail(b, -ENOMEM);
			return NULL;
		}
		b->ops = o;
		b->ops_cap = cap;
	}
	struct store_op *op = &b->ops[b->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	return op;
}

uint8_t *store_batch_put_begin(struct store_batch *b, const void *key, size_t klen, size_t plen)
{
	size_t koff, voff;
	struct store_op *op;

	if (b->err)
		return NULL;
	if (klen > STORE_BATCH_ITEM_MAX || plen > STORE_BATCH_ITEM_MAX) {
		store_batch_fail(b, -EINVAL);
		return NULL;
	}
	koff = store_batch_alloc(b, klen + STORE_FRAME_HDR + plen);
	if (koff == SIZE_MAX)
		return NULL;
	voff = koff + klen;
	op = store_batch_op(b, STORE_OP_PUT);
	if (!op) {
		b->used = koff;
		return NULL;
	}
	memcpy(b->arena + koff, key, klen);
	op->key = koff;
	op->klen = klen;
	op->val = voff;
	op->vlen = STORE_FRAME_HDR + plen;
	b->bytes += klen + op->vlen;
	return b->arena + voff + STORE_FRAME_HDR;
}

void store_batch_put_end(struct store_batch *b)
{
	const struct store_op *op;

	if (b->err || !b->nops)
		return;
	op = &b->ops[b->nops - 1];
	store_frame_seal(b->arena + op->key, op->klen, b->arena + op->val,
			 op->vlen - STORE_FRAME_HDR);
}

void store_batch_del(struct store_batch *b, const void *key, size_t klen)
{
	size_t koff;
	struct store_op *op;

	if (b->err)
		return;
	if (klen > STORE_BATCH_ITEM_MAX) {
		store_batch_fail(b, -EINVAL);
		return;
	}
	koff = store_batch_alloc(b, klen);
	if (koff == SIZE_MAX)
		return;
	op = store_batch_op(b, STORE_OP_DEL);
	if (!op) {
		b->used = koff;
		return;
	}
	memcpy(b->arena + koff, key, klen);
	op->key = koff;
	op->klen = klen;
	b->bytes += klen;
}

/* ---- writing ---------------------------------------------------------- */

static int build_writebatch(struct store *s, struct store_batch *b)
{
	int rc;

	leveldb_writebatch_clear(b->wb);
	for (size_t i = 0; i < b->nops; i++) {
		const struct store_op *op = &b->ops[i];
		switch (op->kind) {
		case STORE_OP_PUT:
			leveldb_writebatch_put(b->wb, (const char *)b->arena + op->key, op->klen,
					       (const char *)b->arena + op->val, op->vlen);
			break;
		case STORE_OP_DEL:
			leveldb_writebatch_delete(b->wb, (const char *)b->arena + op->key,
						  op->klen);
			break;
		case STORE_OP_RECORD:
			rc = store_record_encode(s, b, op);
			if (rc)
				return rc;
			break;
		}
	}
	return 0;
}

/* One attempt, with s->wlock held.
 *
 * A synced write must not reach the disk before anything written earlier:
 * leveldb's synced write fsyncs only the newest log, and when its own write
 * starts a new log (the memtable is full) the batch lands there, synced
 * while the old log's unsynced tail is not. So a synced batch is written in
 * two steps (docs/store.md, "Writes"):
 *
 *   1. the batch, unsynced (it may start a new log); leveldb has handed it
 *      to the kernel when the write returns;
 *   2. the sync point (dirsync.h): if a new log appeared, fdatasync the
 *      older logs and fsync the directory; then fdatasync the newest log.
 *
 * Without a new log that is one fdatasync, as a plain synced write. A failed
 * step 1 is a write that did not happen (a full disk): the store reopens and
 * may retry. A failed step 2 is a failed sync: after it nobody knows what of
 * the page cache reached the disk or ever will ("fsyncgate"), so the store
 * takes no more writes (store.h). */
/* Syncs the logs and the directory in order (dirsync.c); a failure is for
 * good. Called with wlock held. */
static int dirsync_locked(struct store *s)
{
	int rc = store_dirsync_sync(&s->ds);
	if (rc) {
		LOG_ERR("store: a sync of %s failed (%s): this store takes no more writes", s->dir,
			strerror(-rc));
		s->sync_failed = true;
		s->poisoned = true;
		return -EIO;
	}
	return 0;
}

static int write_locked(struct store *s, struct store_batch *b, bool sync)
{
	char *err = NULL;
	int rc;

	if (s->sync_failed)
		return -EIO;
	if (s->poisoned || !s->db) {
		rc = store_reopen_locked(s);
		if (rc)
			return rc;
	}
	rc = build_writebatch(s, b);
	if (rc)
		return rc;
	if (b->nops) {
		leveldb_write(s->db, s->wo_nosync, b->wb, &err);
		if (err) {
			s->poisoned = true;
			return store_ldb_error(err, "write");
		}
	}
	if (!sync) {
		store_dirsync_poll(&s->ds);
		return 0;
	}
	return dirsync_locked(s);
}

int store_write(struct store *s, struct store_batch *b, bool sync)
{
	int rc;

	if (b->err)
		return b->err;
	if (!b->nops && !sync)
		return 0;
	pthread_mutex_lock(&s->wlock);
	rc = write_locked(s, b, sync);
	if (rc && rc != -ENOMEM && s->poisoned && s->db && !s->sync_failed) {
		/* leveldb refuses every write after any earlier failure, also one of
		 * a background compaction while we were idle. If the room is back, a
		 * reopen clears that; retrying is safe because a batch of puts and
		 * deletes applied twice is the same as applied once. */
		if (store_reopen_locked(s) == 0)
			rc = write_locked(s, b, sync);
	}
	pthread_mutex_unlock(&s->wlock);
	if (!rc)
		store_batch_clear(b);
	return rc;
}

void store_batch_put_msg(struct store_batch *b, const void *key, size_t klen,
			 const ProtobufCMessage *m)
{
	size_t size = protobuf_c_message_get_packed_size(m);
	uint8_t *p = store_batch_put_begin(b, key, klen, size);
	if (!p)
		return;
	protobuf_c_message_pack(m, p);
	store_batch_put_end(b);
}

int store_sync(struct store *s)
{
	int rc = 0, fd = -1;

	pthread_mutex_lock(&s->wlock);
	if (s->sync_failed) {
		rc = -EIO;
	} else {
		store_dirsync_poll(&s->ds);
		if (s->ds.pending || s->ds.newest_fd < 0)
			rc = dirsync_locked(s);
		else if ((fd = dup(s->ds.newest_fd)) < 0)
			rc = -errno;
	}
	pthread_mutex_unlock(&s->wlock);
	if (fd < 0)
		return rc;
	/* Every write before this call is in the newest log (no switch since
	 * the older ones were synced): its fdatasync covers them. */
	if (fdatasync(fd) < 0) {
		rc = -errno;
		pthread_mutex_lock(&s->wlock);
		LOG_ERR("store: a sync of %s failed (fdatasync of the newest log: %s): this store "
			"takes no more writes",
			s->dir, strerror(-rc));
		s->sync_failed = true;
		s->poisoned = true;
		pthread_mutex_unlock(&s->wlock);
		rc = -EIO;
	}
	close(fd);
	return rc;
}
