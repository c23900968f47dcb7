/* util/clock.h — the monotonic clock in milliseconds, for tools and the
 * daemon (never for paxos/, node/ or fs/, which get their time from their
 * driver: tests/lint_includes.sh). */
#ifndef PAXFS_UTIL_CLOCK_H
#define PAXFS_UTIL_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ms: for deadlines and elapsed times only. */
uint64_t util_now_ms(void);

/* The same clock in ns: for latencies (mount/hist.h). */
uint64_t util_now_ns(void);

#endif
