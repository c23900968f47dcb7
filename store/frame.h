/* store/frame.h — the CRC framing of every stored value.
 *
 *   stored value = [ crc32c(key ‖ payload) : 4 bytes little-endian ][ payload ]
 *
 * Invariant: nothing read from disk reaches a caller before its frame was
 * checked here. The key is part of the checksum, so a value that is intact
 * but sits under the wrong key (a misdirected write, a bad copy) fails too.
 */
#ifndef PAXFS_STORE_FRAME_H
#define PAXFS_STORE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define STORE_FRAME_HDR 4

/* crc32c(key ‖ payload). */
uint32_t store_frame_crc(const void *key, size_t klen, const void *payload, size_t plen);

/* `frame` holds STORE_FRAME_HDR free bytes followed by `plen` payload bytes;
 * writes the checksum into the first four. */
void store_frame_seal(const void *key, size_t klen, uint8_t *frame, size_t plen);

/* Checks a stored value read under `key`. On success returns 0 and points
 * *payload (inside `frame`) and *plen at the payload. A value shorter than
 * the header or whose checksum fails is -EBADMSG, logged with the key named. */
int store_frame_open(const void *key, size_t klen, const void *frame, size_t flen,
		     const uint8_t **payload, size_t *plen);

#endif
