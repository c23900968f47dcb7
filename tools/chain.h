/* tools/chain.h — chained checksums computed from value CRCs alone.
 *
 * An entity's chain is c_i = crc32c(c_{i-1}, value_i) (docs/decisions.md).
 * A node's log record already names each value's own CRC32C and length, so
 * paxfs-verify extends a chain without reading the values:
 *
 *     crc32c(c, v) == verify_crc32c_combine(c, crc32c(0, v), |v|)
 *
 * (zlib's crc32_combine, for the Castagnoli polynomial). An empty value
 * leaves the chain unchanged, as the engine's no-op entries must.
 */
#ifndef PAXFS_TOOLS_CHAIN_H
#define PAXFS_TOOLS_CHAIN_H

#include <stdint.h>

/* The CRC32C of A ‖ B, given crc1 = crc32c(0, A) (or any chain value that
 * stands for A), crc2 = crc32c(0, B) and len2 = |B|. Thread-safe. */
uint32_t verify_crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);

#endif
