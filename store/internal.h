/* store/internal.h — what the files of store/ share: the store and batch
 * structures, access to the leveldb handle, leveldb error mapping.
 *
 * Invariants:
 *   - s->db is used only between store_db_enter() and store_db_leave() (the
 *     read side of s->swap), or with s->wlock held by a writer; it is replaced
 *     only with s->wlock held and the write side of s->swap taken, so no read
 *     ever sees a closed handle.
 *   - after any failed leveldb write the handle is "poisoned": leveldb may have
 *     left a torn record at the end of its log (a failed append does not stop
 *     it from appending after it) or refuses writes after a failed fsync or
 *     compaction. The next write reopens leveldb first, which replays the log
 *     up to the last whole record.
 */
#ifndef PAXFS_STORE_INTERNAL_H
#define PAXFS_STORE_INTERNAL_H

#include <leveldb/c.h>
#include <protobuf-c/protobuf-c.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/dirsync.h"
#include "store/store.h"

#define STORE_DEFAULT_INLINE_MAX 1024
/* The inline limit can be set up to this. A longer value is therefore always
 * separate, and a rewrite of its record (value_stored) needs no copy of it. */
#define STORE_INLINE_MAX_LIMIT ((size_t)64 << 10)

/* Keys and values beyond this are refused: leveldb frames lengths as 32-bit
 * varints, and a batch holds its own copy of every value. */
#define STORE_BATCH_ITEM_MAX ((size_t)1 << 30)

struct store {
	char *dir; /* absolute: the daemon may chdir("/") after opening */
	leveldb_options_t *lopt;
	leveldb_cache_t *cache;
	leveldb_filterpolicy_t *bloom;
	leveldb_readoptions_t *ro;         /* checksums verified; never modified after open */
	leveldb_writeoptions_t *wo_nosync; /* every write; the store syncs itself (dirsync.h) */
	size_t inline_max;                 /* values longer than this go under their own 'V' key */

	pthread_rwlock_t swap; /* read side: any use of db; write side: replacing it */
	pthread_mutex_t wlock; /* one writer (and one reopen) at a time */
	leveldb_t *db;         /* NULL only after a reopen failed */
	bool poisoned;         /* under wlock: reopen before the next write */
	bool sync_failed;      /* under wlock: a sync failed; no more writes, ever */
	struct store_dirsync ds;
};

/* One queued change. Records are encoded only in store_write, because the
 * inline limit belongs to the store, which the batch does not know. */
enum store_op_kind {
	STORE_OP_PUT = 1, /* key, framed value */
	STORE_OP_DEL,     /* key */
	STORE_OP_RECORD,  /* a PLog record; its value bytes follow a frame header */
};

struct store_op {
	enum store_op_kind kind;
	size_t key, klen; /* PUT, DEL: arena offset and length of the key */
	size_t val, vlen; /* PUT: framed value; RECORD: STORE_FRAME_HDR slot, then
			     vlen value bytes (val = offset of the slot), or no
			     bytes at all when value_stored and vlen is over
			     STORE_INLINE_MAX_LIMIT (vlen is still the length) */
	/* RECORD only */
	uint64_t entity, entry, promised, accepted, value_id;
	uint32_t value_crc;
	bool chosen, value_stored, has_value;
};

struct store_batch {
	struct store_op *ops;
	size_t nops, ops_cap;
	uint8_t *arena; /* keys and values of all ops */
	size_t used, cap;
	uint32_t *map; /* open addressing: state key -> index + 1 of its last op */
	size_t map_cap, map_used;
	uint8_t *scratch; /* record encoding in store_write */
	size_t scratch_cap;
	leveldb_writebatch_t *wb; /* built from ops by store_write */
	size_t bytes;
	int err; /* sticky: a put failed (-ENOMEM, -EINVAL); store_write returns it */
};

/* ---- the leveldb handle (open.c) ----------------------------------------- */

/* Takes the read side and returns the open handle in *db (0), or a negative
 * errno when the store has no open handle and reopening failed again. On
 * success the caller must call store_db_leave(). */
int store_db_enter(struct store *s, leveldb_t **db);
void store_db_leave(struct store *s);

/* With s->wlock held: closes and reopens leveldb (after a failed write).
 * Refuses with -ENOSPC, without touching the handle, while the disk clearly
 * lacks the room the reopen needs. */
int store_reopen_locked(struct store *s);

/* ---- damage at open (recover.c) ----------------------------------------- */

/* Subdirectories of a data dir holding the files of a damaged store. */
#define STORE_DAMAGED_PREFIX "damaged-"

/* Looks at the newest write-ahead log of `dir` after leveldb reported
 * corruption. When its only damage is a torn tail (nothing intact after the
 * first bad byte), truncates it at the end of its last whole batch (fsync'd),
 * logs a warning with the file, offset and bytes dropped, and returns 1.
 * Otherwise returns 0 and leaves the file alone; either way `what` says what
 * was found. A negative errno when the log cannot be read or truncated. */
int store_log_repair_tail(const char *dir, char *what, size_t wlen);

/* Before leveldb opens `dir` (and only if no other process holds its lock):
 * if the newest log has zeros where a record should start and intact
 * records after them (a page a power cut left unwritten), truncates it at
 * the end of the last whole batch before the zeros, fsync'd, with a warning;
 * a torn tail is dropped likewise. Other damage is left for leveldb_open to
 * report. Returns 0, or a negative errno when the log cannot be read or
 * truncated. */
int store_log_drop_hole(const char *dir);

/* Moves every regular file of `dir` but LOCK into a new subdirectory
 * "damaged-YYYYmmdd-HHMMSS" (UTC; mode 0700) and fsyncs both directories.
 * Nothing is deleted. Writes the subdirectory's path into `aside` (also on
 * failure, once it exists). Returns 0 or a negative errno. */
int store_set_aside(const char *dir, char *aside, size_t alen);

/* ---- leveldb access helpers (db.c) ------------------------------------ */

/* Maps a leveldb error message to a negative errno, logs it with `what`
 * (e.g. "write", "read record entity=5 entry=7") and frees it. */
int store_ldb_error(char *msg, const char *what);

/* Maps without logging or freeing. */
int store_ldb_errno(const char *msg);

/* Reads `key` and checks its frame: 0 with *raw (free with leveldb_free)
 * holding the value and *payload, *plen inside it; -ENOENT when absent;
 * -EBADMSG on a checksum failure; -EIO (or -EBADMSG for leveldb corruption). */
int store_db_get(leveldb_t *db, const leveldb_readoptions_t *ro, const void *key, size_t klen,
		 char **raw, const uint8_t **payload, size_t *plen);

/* Calls fn for each key in [lo, hi) in order; hi NULL: to the end. A non-zero
 * return from fn stops and is returned; a leveldb error is mapped. */
typedef int (*store_range_fn)(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
			      size_t vlen);
int store_db_range(leveldb_t *db, const leveldb_readoptions_t *ro, const void *lo, size_t lolen,
		   const void *hi, size_t hilen, store_range_fn fn, void *arg);

/* Reads `key` and decodes its payload as a `desc` message: 0 with *out
 * (free with protobuf_c_message_free_unpacked), -ENOENT, -EBADMSG (frame or
 * decoding, logged with the key), -EIO. */
int store_db_get_msg(leveldb_t *db, const leveldb_readoptions_t *ro, const void *key, size_t klen,
		     const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out);

/* Queues key -> framed packed message. */
void store_batch_put_msg(struct store_batch *b, const void *key, size_t klen,
			 const ProtobufCMessage *m);

/* Increments key, read as a big-endian number of len bytes: for keys of the
 * same length, k <= key exactly when k < the result, which turns an inclusive
 * upper bound into the exclusive one store_db_range takes. False when key was
 * all 0xff (no such bound: scan to the end). */
bool store_key_increment(uint8_t *key, size_t len);

/* ---- batch internals (batch.c) ---------------------------------------- */

/* Reserves n arena bytes and returns their offset, or SIZE_MAX (b->err set).
 * Pointers into the arena are invalidated by the next reservation. */
size_t store_batch_alloc(struct store_batch *b, size_t n);

/* Appends an op, zeroed but for its kind, and returns it (valid until the
 * next op is added), or NULL (b->err set). */
struct store_op *store_batch_op(struct store_batch *b, enum store_op_kind kind);

/* Queues a put of key -> [frame header][payload of plen bytes] and returns
 * a pointer to the payload space (valid until the next batch call), or NULL
 * when the batch has failed (b->err set). */
uint8_t *store_batch_put_begin(struct store_batch *b, const void *key, size_t klen, size_t plen);
/* Seals the frame of the put begun last (computes its checksum). */
void store_batch_put_end(struct store_batch *b);
void store_batch_del(struct store_batch *b, const void *key, size_t klen);

/* Encodes one RECORD op into b->wb (record.c). */
int store_record_encode(struct store *s, struct store_batch *b, const struct store_op *op);

/* Marks the batch failed with err (the first error wins). */
void store_batch_fail(struct store_batch *b, int err);

#endif
