/* net/sha256.h — SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for the
 * handshake's proof of the cluster secret.
 *
 * Plain portable C, no OpenSSL: the handshake hashes a few hundred bytes per
 * connection, so speed does not matter here; correctness is checked against
 * the FIPS 180-2 and RFC 4231 vectors (tests/unit/net/test_net_crypto.c).
 * Invariant of struct net_sha256: `buf` holds `len % 64` bytes not yet
 * compressed into `h`. */
#ifndef PAXFS_NET_SHA256_H
#define PAXFS_NET_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_SHA256_LEN   32
#define NET_SHA256_BLOCK 64

struct net_sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed so far */
	uint8_t buf[NET_SHA256_BLOCK];
};

/* Starts a new hash. */
void net_sha256_init(struct net_sha256 *s);

/* Hashes `len` more bytes of `data` (borrowed; NULL allowed when len == 0). */
void net_sha256_update(struct net_sha256 *s, const void *data, size_t len);

/* Writes the digest of everything hashed to `out` and wipes `s`. */
void net_sha256_final(struct net_sha256 *s, uint8_t out[NET_SHA256_LEN]);

/* One-shot SHA-256 of `len` bytes. */
void net_sha256(const void *data, size_t len, uint8_t out[NET_SHA256_LEN]);

/* HMAC-SHA256 keyed by `key`, over the concatenation of `n` parts
 * (parts[i], lens[i]) — so a caller can MAC a transcript without first
 * copying it into one buffer. Keys longer than a block are hashed first, as
 * RFC 2104 says. Intermediate key material is wiped before return. */
void net_hmac_sha256(const uint8_t *key, size_t key_len, size_t n, const void *const parts[],
		     const size_t lens[], uint8_t out[NET_SHA256_LEN]);

/* Compares `len` bytes in time independent of where they differ, so a peer
 * cannot learn how much of a forged proof was right. True when equal. */
bool net_ct_equal(const void *a, const void *b, size_t len);

/* Overwrites `len` bytes with zeros in a way the compiler may not drop. */
void net_wipe(void *p, size_t len);

#endif
