/* util/prng.h — a small seeded PRNG (xoshiro256**), for jitter and tests.
 *
 * Deterministic: the same seed gives the same sequence on every machine, so
 * a simulated run replays from its seed. Not for cryptography. */
#ifndef PAXFS_UTIL_PRNG_H
#define PAXFS_UTIL_PRNG_H

#include <stdint.h>

struct util_prng {
	uint64_t s[4];
};

/* Seeds the generator (any seed, 0 included, gives a valid state). */
void util_prng_seed(struct util_prng *p, uint64_t seed);

/* The next 64 random bits. */
uint64_t util_prng_next(struct util_prng *p);

/* A uniform integer in [0, n); n > 0. */
uint64_t util_prng_below(struct util_prng *p, uint64_t n);

#endif
