/* util/crc32c.h — CRC32C (Castagnoli), the checksum of every frame and record.
 *
 * Hardware (SSE4.2 crc32 instruction) when the CPU has it, a slicing-by-8
 * table otherwise; both give identical results. */
#ifndef PAXFS_UTIL_CRC32C_H
#define PAXFS_UTIL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends `crc` (0 to start) over `len` bytes of `buf` and returns the new
 * value. util_crc32c(util_crc32c(0, a, n), b, m) == util_crc32c(0, ab, n+m).
 * Standard CRC32C: util_crc32c(0, "123456789", 9) == 0xe3069283. */
uint32_t util_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
