/* store/frame.c — CRC framing of stored values (see frame.h). */
#include "store/frame.h"

#include <errno.h>

#include "store/keys.h"
#include "util/crc32c.h"
#include "util/log.h"

uint32_t store_frame_crc(const void *key, size_t klen, const void *payload, size_t plen)
{
	return util_crc32c(util_crc32c(0, key, klen), payload, plen);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void store_frame_seal(const void *key, size_t klen, uint8_t *frame, size_t plen)
{
	put_le32(frame, store_frame_crc(key, klen, frame + STORE_FRAME_HDR, plen));
}

int store_frame_open(const void *key, size_t klen, const void *frame, size_t flen,
		     const uint8_t **payload, size_t *plen)
{
	const uint8_t *f = frame;
	char name[160];
	uint32_t stored, computed;

	if (flen < STORE_FRAME_HDR) {
		store_key_describe(key, klen, name, sizeof(name));
		LOG_ERR("store: damaged value at %s: %zu bytes, shorter than its checksum", name,
			flen);
		return -EBADMSG;
	}
	stored = get_le32(f);
	computed = store_frame_crc(key, klen, f + STORE_FRAME_HDR, flen - STORE_FRAME_HDR);
	if (stored != computed) {
		store_key_describe(key, klen, name, sizeof(name));
		LOG_ERR("store: checksum mismatch at %s (%zu bytes): stored %08x, computed %08x",
			name, flen, stored, computed);
		return -EBADMSG;
	}
	*payload = f + STORE_FRAME_HDR;
	*plen = flen - STORE_FRAME_HDR;
	return 0;
}
