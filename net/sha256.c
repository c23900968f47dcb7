/* net/sha256.c — SHA-256 and HMAC-SHA256, written from FIPS 180-4 §6.2 and
 * RFC 2104 §2. The message schedule is computed in place (16 words), as the
 * standard's "alternative method" (§6.2.2 note) allows. */
#include "net/sha256.h"

#include <string.h>

#include "util/endian.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void compress(uint32_t h[8], const uint8_t block[NET_SHA256_BLOCK])
{
	uint32_t w[16], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6],
			hh = h[7];

	for (int t = 0; t < 64; t++) {
		uint32_t wt;
		if (t < 16) {
			wt = w[t] = util_get_be32(block + 4 * t);
		} else {
			uint32_t w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
			uint32_t s0 = ror(w15, 7) ^ ror(w15, 18) ^ (w15 >> 3);
			uint32_t s1 = ror(w2, 17) ^ ror(w2, 19) ^ (w2 >> 10);
			wt = w[t & 15] = w[t & 15] + s0 + w[(t - 7) & 15] + s1;
		}
		uint32_t t1 =
		    hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + wt;
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += hh;
	net_wipe(w, sizeof(w));
}

void net_sha256_init(struct net_sha256 *s)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
}

void net_sha256_update(struct net_sha256 *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t fill = (size_t)(s->len % NET_SHA256_BLOCK);

	s->len += len;
	if (fill) {
		size_t take = NET_SHA256_BLOCK - fill;
		if (take > len)
			take = len;
		memcpy(s->buf + fill, p, take);
		p += take;
		len -= take;
		if (fill + take < NET_SHA256_BLOCK)
			return;
		compress(s->h, s->buf);
	}
	for (; len >= NET_SHA256_BLOCK; p += NET_SHA256_BLOCK, len -= NET_SHA256_BLOCK)
		compress(s->h, p);
	if (len)
		memcpy(s->buf, p, len);
}

void net_sha256_final(struct net_sha256 *s, uint8_t out[NET_SHA256_LEN])
{
	uint64_t bits = s->len * 8;
	size_t fill = (size_t)(s->len % NET_SHA256_BLOCK);
	uint8_t pad[NET_SHA256_BLOCK * 2] = {0x80};
	/* 0x80, zeros, then the 64-bit length, ending on a block boundary. */
	size_t padlen = (fill < 56 ? 56 : 120) - fill;

	util_put_be64(pad + padlen, bits);
	net_sha256_update(s, pad, padlen + 8);
	for (int i = 0; i < 8; i++)
		util_put_be32(out + 4 * i, s->h[i]);
	net_wipe(s, sizeof(*s));
}

void net_sha256(const void *data, size_t len, uint8_t out[NET_SHA256_LEN])
{
	struct net_sha256 s;
	net_sha256_init(&s);
	net_sha256_update(&s, data, len);
	net_sha256_final(&s, out);
}

void net_hmac_sha256(const uint8_t *key, size_t key_len, size_t n, const void *const parts[],
		     const size_t lens[], uint8_t out[NET_SHA256_LEN])
{
	uint8_t k[NET_SHA256_BLOCK] = {0}, pad[NET_SHA256_BLOCK], inner[NET_SHA256_LEN];
	struct net_sha256 s;

	if (key_len > NET_SHA256_BLOCK)
		net_sha256(key, key_len, k);
	else if (key_len)
		memcpy(k, key, key_len);

	for (int i = 0; i < NET_SHA256_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	net_sha256_init(&s);
	net_sha256_update(&s, pad, sizeof(pad));
	for (size_t i = 0; i < n; i++)
		net_sha256_update(&s, parts[i], lens[i]);
	net_sha256_final(&s, inner);

	for (int i = 0; i < NET_SHA256_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	net_sha256_init(&s);
	net_sha256_update(&s, pad, sizeof(pad));
	net_sha256_update(&s, inner, sizeof(inner));
	net_sha256_final(&s, out);

	net_wipe(k, sizeof(k));
	net_wipe(pad, sizeof(pad));
	net_wipe(inner, sizeof(inner));
}

bool net_ct_equal(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t diff = 0;
	for (size_t i = 0; i < len; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

void net_wipe(void *p, size_t len)
{
	volatile uint8_t *v = p;
	while (len--)
		*v++ = 0;
}
