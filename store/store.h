/* store/store.h — the leveldb-backed store that every node keeps.
 *
 * One leveldb database per data directory. Key layout (integers big-endian,
 * so leveldb's bytewise order is (entity, entry) order):
 *
 *   "\0format"                              StoreFormat      once per data dir
 *   "\0node"                                NodeMeta         who the dir belongs to
 *   'M' entity:8                            PaxosMeta        engine state of an entity
 *   'A' entity:8                            ApplyMeta        fs apply cursor of an entity
 *   'P' entity:8 entry:8                    PlogRecord       one Paxos entry
 *   'V' entity:8 entry:8 value_id:8         value bytes      a large value, stored once
 *   'S' fs-key...                           fs state         fs/ defines the rest of the key
 *
 * Every stored value is  [crc32c(key ‖ payload): 4 bytes LE][payload],
 * checked on every read: a mismatch is -EBADMSG (with the key named in the
 * log), never data. Payloads are the protobuf messages of proto/record.proto,
 * raw bytes for 'V', and whatever fs/ puts for 'S'.
 *
 * Writes go through one batch API: records of many entities in one leveldb
 * WriteBatch, written atomically; with sync, fsync'd before store_write
 * returns (group commit: one synced batch per event-loop turn).
 *
 * Thread safety: a struct store may be used from several threads (leveldb
 * is); a struct store_batch belongs to one thread at a time. Scan callbacks
 * may read the store; a store_write from inside one works too, except the
 * write that must first reopen leveldb after a failure: it waits for readers
 * for at most 5 s, then fails with -EIO.
 */
#ifndef PAXFS_STORE_STORE_H
#define PAXFS_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_FORMAT_VERSION 1

struct store;
struct store_batch;

struct store_options {
	bool create;               /* create the data dir (mode 0700) and store if missing */
	size_t cache_bytes;        /* leveldb block cache; 0 = default */
	size_t write_buffer_bytes; /* leveldb memtable size; 0 = default */
	size_t inline_value_max;   /* values longer than this are stored separately; 0 = default
				      (1 KiB), at most 64 KiB; fixed when the store is created */
	bool recover;              /* a damaged store is set aside and a new one started
				      (see store_open); the daemon's choice, not a tool's */
};

/* Opens the store in `dir`. On failure returns a negative errno, writes the
 * cause for a person into `err` (may be NULL), and sets *out to NULL:
 *   -ENOENT           dir missing, or has no store, and !opt->create
 *   -EINVAL           dir exists and holds something that is not a paxfs store
 *   -EPERM            dir exists and group or others have any access to it
 *                     (mode & 077): leveldb's files in it would be readable by
 *                     every local user; `err` names the dir, its mode and the
 *                     fix (chmod 700 DIR). Nothing is written.
 *   -EBUSY            another process (or another store_open) holds the dir
 *   -EPROTONOSUPPORT  the store was written in an incompatible format version
 *   -EBADMSG          the store is corrupt (leveldb cannot recover it, or a
 *                     format/node record fails its checksum)
 *   -ENOSPC           the disk is full
 *   -EIO              any other failure
 * `opt` may be NULL (defaults, create = false, recover = false). Open the
 * store after any fork() (daemonizing): leveldb's compaction thread does not
 * survive one.
 *
 * Damage (docs/store.md, "Damage"):
 *   - a torn tail of the newest leveldb log (what a power cut leaves of a
 *     write that was never synced: garbage or zeros after the last whole
 *     record, nothing intact after it) is dropped, with a warning naming the
 *     file, the offset and the bytes dropped, and the store opens normally;
 *   - any other damage (a bad log record with intact ones after it, an older
 *     log, a table, the MANIFEST, CURRENT, the format or node record) may be
 *     data that was synced. Without opt->recover: -EBADMSG as above. With
 *     opt->recover: logged as an error; every file of the damaged store is
 *     moved into DIR/damaged-YYYYmmdd-HHMMSS/ (UTC, 0700; nothing deleted),
 *     and a new, empty store is created in DIR and returned (0; `err` then
 *     says what was found and where it went, and is empty on every other
 *     success). The new store has no node record, exactly as after a wiped
 *     disk: the daemon starts it amnesic and it re-learns from the others
 *     before it votes. Leftover damaged-* subdirectories do not stop later
 *     opens. */
int store_open(const char *dir, const struct store_options *opt, struct store **out, char *err,
	       size_t errlen);

/* Closes the store (the leveldb lock is released) after one last synced
 * write, so that no batch written without sync is left only in the page
 * cache. store_free(NULL) is a no-op. */
void store_free(struct store *s);

/* ---- batches ----------------------------------------------------------- */

/* NULL when out of memory. A put that cannot be queued (out of memory, a key
 * or value over 1 GiB) marks the batch failed: store_write then returns that
 * error (-ENOMEM, -EINVAL) and writes nothing; store_batch_clear resets it. */
struct store_batch *store_batch_new(void);
void store_batch_free(struct store_batch *b);
void store_batch_clear(struct store_batch *b);
bool store_batch_empty(const struct store_batch *b);
/* Bytes of keys and values queued in the batch. */
size_t store_batch_bytes(const struct store_batch *b);

/* Writes the batch atomically: after a crash either all of it or none of it
 * is there. With `sync`, it is on disk (fsync) when this returns 0, and so is
 * every batch written before it. On success the batch is cleared; on failure
 * it is left as it was and nothing of it was applied:
 *   -ENOSPC  the disk is full (the store stays readable; once space is
 *            freed, later writes work again and nothing acknowledged is lost)
 *   -EIO     any other failure
 * With `sync`, a failed sync (the fsync itself: after it nobody knows what
 * of the page cache reached the disk, "fsyncgate") returns -EIO, and from
 * then on every write fails with -EIO: the process must stop, and a restart
 * recovers from what the disk holds. The batch is then in the log and may be
 * read, durable or not; still all of it or none after a crash.
 * A synced write reaches the disk only after every write before it: after a
 * power cut the store holds the batches written up to some point, never a
 * later one without an earlier one (docs/store.md, "Writes"). */
int store_write(struct store *s, struct store_batch *b, bool sync);

/* A sync point: every batch written before the call is on disk when it
 * returns 0 (store_write of an empty batch with sync, and the same errors:
 * a failed sync returns -EIO and the store takes no more writes). Safe to
 * call from another thread while this one goes on writing: the fdatasync
 * itself runs without the store's write lock, so writes made meanwhile do
 * not wait for it (and are not covered by it). Only after a log switch, which
 * needs the older logs and the directory synced first, is the lock held
 * throughout. */
int store_sync(struct store *s);

/* ---- room ------------------------------------------------------------ */

/* Merges every file of the store now, so that deleted and overwritten keys
 * give their room back (store/compact.c says why this is needed). Slow: it
 * rewrites the store and blocks the caller (call it from a thread of its
 * own; other threads may read and write meanwhile, but a write that must
 * reopen leveldb after a failure waits for it at most 5 s, then fails with
 * -EIO, as in "Thread safety" above). Returns 0, or the error of
 * a store that has no open handle. */
int store_compact(struct store *s);

/* leveldb's estimate of the bytes its files use for all keys (0 for a new
 * store); *out is 0 on error. Returns 0 or a negative errno. */
int store_approximate_bytes(struct store *s, uint64_t *out);

/* ---- node meta -------------------------------------------------------- */

struct store_node {
	char cluster[64]; /* cluster name, NUL-terminated */
	uint32_t node_id;
	uint64_t boot_count; /* incremented by the daemon at every start */
	uint64_t id_base;    /* the last start's id base (node_id_base_next); 0: none
			      * (a record written before ids had a base) */
	bool amnesia;        /* log lost or damaged: must re-learn before voting */
};

/* -ENOENT when never written. */
int store_get_node(struct store *s, struct store_node *out);
void store_batch_put_node(struct store_batch *b, const struct store_node *n);
/* Writes the node record alone, with sync (store_write's errors). */
int store_put_node(struct store *s, const struct store_node *n);

/* ---- Paxos log (PLog) -------------------------------------------------- */

/* One entry of one entity, as this node's acceptor holds it. */
struct store_record {
	uint64_t promised; /* highest ballot promised; 0 = none */
	uint64_t accepted; /* ballot of the accepted value; 0 = none */
	uint64_t value_id; /* id of the accepted value; 0 = none */
	bool chosen;       /* the accepted value is known chosen */
	uint8_t *value;    /* accepted value bytes (put: borrowed; get: malloc'd, free()) */
	size_t value_len;
	uint32_t value_crc; /* get/scan: CRC32C of the value as the record names it (also
			       when the value is not loaded); put: ignored (computed) */
};

/* Queues the record of (entity, entry). A value longer than the inline limit
 * is kept once under its own 'V' key; `value_stored` says that this exact
 * value (same entity, entry, value_id) was already queued or written before,
 * so only the small record is written again (promise / chosen updates), not
 * the value. rec->value must still be given when rec->accepted != 0: small
 * values are inline and rewritten with the record. */
void store_batch_put_record(struct store_batch *b, uint64_t entity, uint64_t entry,
			    const struct store_record *rec, bool value_stored);

/* Reads a record with its value. -ENOENT: no record; -EBADMSG: a checksum
 * failed (record or value), logged with the key. On success the caller owns
 * out->value (NULL when no value) and frees it with free(). */
int store_get_record(struct store *s, uint64_t entity, uint64_t entry, struct store_record *out);

/* Calls cb for each record of `entity` with from <= entry <= to, in entry
 * order. `rec` (and rec->value, loaded only when `with_values`) is valid
 * during the call only; rec->value_len is the value's length either way. A
 * non-zero return from cb stops the scan and is returned. -EBADMSG when a
 * record fails its checksum. */
typedef int (*store_record_cb)(void *arg, uint64_t entry, const struct store_record *rec);
int store_scan_records(struct store *s, uint64_t entity, uint64_t from, uint64_t to,
		       bool with_values, store_record_cb cb, void *arg);

/* Queues deletion of every record (and separate value) of `entity` with
 * entry <= upto: those in the store and those queued earlier in `b`. Reads
 * the store to find them: returns 0 or a negative errno (-EIO, -EBADMSG). */
int store_batch_trim(struct store *s, struct store_batch *b, uint64_t entity, uint64_t upto);

/* Queues deletion of everything the store keeps for `entity` outside the fs
 * keyspace: its metas, records and values. */
int store_batch_drop_entity(struct store *s, struct store_batch *b, uint64_t entity);

/* ---- entity metas ------------------------------------------------------ */

struct store_paxos_meta {
	uint64_t chosen_entry;    /* highest entry known chosen (all below too) */
	uint32_t chosen_proposer; /* node whose value was chosen at chosen_entry */
	uint64_t trimmed_entry;   /* entries <= this are gone from the log */
	uint32_t trimmed_crc;     /* chained checksum at trimmed_entry */
	uint64_t vote_after;      /* amnesia fence: vote only at entries above this */
	uint64_t born;            /* id base of the life whose create made it (0: none) */
};

struct store_apply_meta {
	uint64_t applied_entry; /* entries <= this are applied to the fs state */
	uint32_t chain_crc;     /* c_i = crc32c(c_{i-1}, value_i) at applied_entry */
	uint64_t state_digest;  /* fs/'s digest of the materialised state */
};

/* Both return -ENOENT (and zero *out) for an entity the store has no meta for. */
int store_get_paxos_meta(struct store *s, uint64_t entity, struct store_paxos_meta *out);
int store_get_apply_meta(struct store *s, uint64_t entity, struct store_apply_meta *out);
void store_batch_put_paxos_meta(struct store_batch *b, uint64_t entity,
				const struct store_paxos_meta *m);
void store_batch_put_apply_meta(struct store_batch *b, uint64_t entity,
				const struct store_apply_meta *m);

/* Calls cb for every entity with a PaxosMeta, in entity order, starting
 * after `after` (0 = from the start). Non-zero from cb stops and is returned. */
typedef int (*store_entity_cb)(void *arg, uint64_t entity, const struct store_paxos_meta *m);
int store_scan_entities(struct store *s, uint64_t after, store_entity_cb cb, void *arg);

/* ---- file-system state ('S' keyspace; fs/ owns the key layout) ---------- */

void store_batch_put_state(struct store_batch *b, const void *key, size_t klen, const void *val,
			   size_t vlen);
void store_batch_del_state(struct store_batch *b, const void *key, size_t klen);

/* Point read: -ENOENT when absent, -EBADMSG on a checksum failure. On success
 * *val is malloc'd (free()) and *vlen its length. */
int store_get_state(struct store *s, const void *key, size_t klen, void **val, size_t *vlen);

/* The same, but seeing the puts and deletes already queued in `b` first
 * (read-your-writes while one entry's commands are applied into one batch). */
int store_batch_get_state(struct store *s, const struct store_batch *b, const void *key,
			  size_t klen, void **val, size_t *vlen);

/* Calls cb for every state key in [start, end) in key order (end NULL: to
 * the end of the keyspace). key/val are valid during the call only. Does not
 * see uncommitted batches. Non-zero from cb stops and is returned. */
typedef int (*store_state_cb)(void *arg, const void *key, size_t klen, const void *val,
			      size_t vlen);
int store_scan_state(struct store *s, const void *start, size_t slen, const void *end, size_t elen,
		     store_state_cb cb, void *arg);

#endif
