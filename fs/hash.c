/* fs/hash.c — a 64-bit non-linear hash (four multiply-rotate lanes over
 * 32-byte stripes, a final avalanche); see fs/hash.h for why. */
#include "fs/hash.h"

#define K1 0x9e3779b97f4a7c15ull /* odd constants with well-mixed bits */
#define K2 0xc2b2ae3d27d4eb4full
#define K3 0x165667b19e3779f9ull
#define K4 0xff51afd7ed558ccdull

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* Little-endian whatever the host: every node must compute the same hash. */
static inline uint64_t le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	       (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
}

static inline uint64_t lane(uint64_t acc, uint64_t w)
{
	acc += w * K2;
	acc = rotl(acc, 31);
	return acc * K1;
}

/* murmur3's finaliser: every input bit affects every output bit. */
static inline uint64_t avalanche(uint64_t h)
{
	h ^= h >> 33;
	h *= K4;
	h ^= h >> 33;
	h *= K2;
	h ^= h >> 33;
	return h;
}

uint64_t fs_hash64(const void *data, size_t n, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t h;
	size_t left = n;

	if (n >= 32) {
		uint64_t a = seed + K1 + K2, b = seed + K2, c = seed, d = seed - K1;
		while (left >= 32) {
			a = lane(a, le64(p));
			b = lane(b, le64(p + 8));
			c = lane(c, le64(p + 16));
			d = lane(d, le64(p + 24));
			p += 32;
			left -= 32;
		}
		h = rotl(a, 1) + rotl(b, 7) + rotl(c, 12) + rotl(d, 18);
		h = (h ^ lane(0, a)) * K1 + K3;
		h = (h ^ lane(0, b)) * K1 + K3;
		h = (h ^ lane(0, c)) * K1 + K3;
		h = (h ^ lane(0, d)) * K1 + K3;
	} else {
		h = seed + K3;
	}
	h += (uint64_t)n;
	while (left >= 8) {
		h ^= lane(0, le64(p));
		h = rotl(h, 27) * K1 + K3;
		p += 8;
		left -= 8;
	}
	while (left > 0) {
		h ^= (uint64_t)*p * K3;
		h = rotl(h, 11) * K1;
		p++;
		left--;
	}
	return avalanche(h);
}

uint64_t fs_hash_kv(const void *key, size_t klen, const void *val, size_t vlen)
{
	/* The key's hash seeds the value's; both lengths are mixed in by
	 * fs_hash64, so ("ab", "c") and ("a", "bc") differ. */
	return fs_hash64(val, vlen, fs_hash64(key, klen, 0x70617866735f6b76ull));
}
