/* mount/compact.h — the store's compactions (store_compact), from a thread
 * of their own, when enough was written since the last one.
 *
 * The log is trimmed as files are rewritten (mount/retain.h), and fs/
 * overwrites a file's chunks in place, but leveldb gives the room of dead
 * versions back only when a compaction merges the files that hold them.
 * Left to itself it kept up to four times the live data on disk
 * (tests/faults, "retention"). So once the value bytes applied since the
 * last compaction reach the store's size after that compaction (at least
 * COMPACT_MIN_BYTES), the thread compacts: as soon as the node has applied
 * nothing for COMPACT_IDLE_MS, or at once when four times that much was
 * applied (a node that never rests). Each compaction logs one line:
 *
 *   compacted the store: 379.2 MiB -> 201.5 MiB in 3.1 s
 *
 * A compaction writes the new tables before it deletes the old ones, so it
 * waits while the data dir's file system has less room than the store holds:
 * it would fill a nearly full disk, and while it runs a write that must
 * reopen the store after a failure (a full disk) waits for it (store.h).
 *
 * The thread only ever calls store_compact and store_approximate_bytes. */
#ifndef PAXFS_MOUNT_COMPACT_H
#define PAXFS_MOUNT_COMPACT_H

#include <stddef.h>
#include <stdint.h>

#define COMPACT_MIN_BYTES (64ull << 20)
#define COMPACT_IDLE_MS   2000

struct store;
struct mount_compact;

/* Starts the thread for store `s` (borrowed: it must outlive the thread),
 * kept in directory `dir` (copied). Returns 0, or -errno. */
int mount_compact_start(struct store *s, const char *dir, struct mount_compact **out);

/* From the loop thread: `bytes` of values were applied just now. */
void mount_compact_note(struct mount_compact *c, size_t bytes);

/* Stops the thread (waits for a compaction under way) and frees. NULL: no-op. */
void mount_compact_free(struct mount_compact *c);

#endif
