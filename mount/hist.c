/* mount/hist.c — latency histograms (mount/hist.h). */
#include "mount/hist.h"

const double mount_hist_le[MOUNT_HIST_BOUNDS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

/* The same bounds in nanoseconds: an observation is compared exactly. */
static const uint64_t le_ns[MOUNT_HIST_BOUNDS] = {
    500000,    1000000,   2500000,   5000000,    10000000,   25000000,   50000000,
    100000000, 250000000, 500000000, 1000000000, 2500000000, 5000000000, 10000000000,
};

void mount_hist_observe(struct mount_hist *h, uint64_t ns)
{
	size_t i = 0;
	while (i < MOUNT_HIST_BOUNDS && ns > le_ns[i])
		i++;
	atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

void mount_hist_read(const struct mount_hist *h, uint64_t *counts, double *sum_s)
{
	for (size_t i = 0; i <= MOUNT_HIST_BOUNDS; i++)
		counts[i] = atomic_load_explicit(&h->counts[i], memory_order_relaxed);
	*sum_s = (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9;
}
