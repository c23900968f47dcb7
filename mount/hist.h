/* mount/hist.h — a latency histogram that any thread may feed and the loop
 * reads: the FUSE requests (mount/metrics.c) and the store's syncs
 * (mount/syncer.c), exported in Prometheus text by mount/metrics.c.
 *
 *   bound (s)  0.0005 0.001 0.0025 0.005 0.01 ... 2.5  5  10  (+Inf)
 *   counts[]   [0]    [1]   [2]    [3]   [4]  ... [11] [12] [13] [14]
 *
 * counts[i] holds the observations in (bound[i-1], bound[i]], not cumulated,
 * the last one those above 10 s. Every field is atomic (relaxed): a reader
 * may see one observation in a bucket and not yet in sum_ns, never a torn
 * number; the exporter takes _count as the sum of the buckets it read, so
 * the +Inf bucket and _count always agree. */
#ifndef PAXFS_MOUNT_HIST_H
#define PAXFS_MOUNT_HIST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define MOUNT_HIST_BOUNDS 14

/* The upper bounds of the buckets, in seconds, ascending. */
extern const double mount_hist_le[MOUNT_HIST_BOUNDS];

struct mount_hist {
	_Atomic uint64_t counts[MOUNT_HIST_BOUNDS + 1];
	_Atomic uint64_t sum_ns;
};

/* Counts one observation of `ns` nanoseconds. Thread-safe, lock-free. A
 * zeroed struct is an empty histogram. */
void mount_hist_observe(struct mount_hist *h, uint64_t ns);

/* Copies the buckets (counts[MOUNT_HIST_BOUNDS + 1]) and the sum in seconds. */
void mount_hist_read(const struct mount_hist *h, uint64_t *counts, double *sum_s);

#endif
