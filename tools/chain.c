/* tools/chain.c — CRC32C combination (see tools/chain.h).
 *
 * Appending n zero bits to a message is a linear map on the 32-bit CRC
 * register (a 32x32 matrix over GF(2)). For B appended to A:
 *
 *     crc(A ‖ B) = Z(|B|)·crc(A) ^ crc(B)
 *
 * where Z(n) appends n zero bytes, thanks to the pre- and post-inversion
 * cancelling out. Z(2^k bytes) for k = 0..63 is computed once by squaring,
 * so a combine costs one matrix-vector product per set bit of |B|.
 */
#include "tools/chain.h"

#include <pthread.h>

#define POLY 0x82f63b78u /* CRC32C, reflected */

/* zeros[k]: the operator that appends 2^k zero bytes. */
static uint32_t zeros[64][32];
static pthread_once_t zeros_once = PTHREAD_ONCE_INIT;

static uint32_t times(const uint32_t *mat, uint32_t vec)
{
	uint32_t sum = 0;
	for (int i = 0; vec; i++, vec >>= 1)
		if (vec & 1)
			sum ^= mat[i];
	return sum;
}

static void square(uint32_t *out, const uint32_t *mat)
{
	for (int i = 0; i < 32; i++)
		out[i] = times(mat, mat[i]);
}

static void zeros_init(void)
{
	uint32_t one_bit[32], two[32], four[32];
	/* One zero bit: shift right, xor in the polynomial when a 1 falls out. */
	one_bit[0] = POLY;
	for (int i = 1; i < 32; i++)
		one_bit[i] = 1u << (i - 1);
	square(two, one_bit);   /* 2 bits */
	square(four, two);      /* 4 bits */
	square(zeros[0], four); /* 8 bits: one byte */
	for (int k = 1; k < 64; k++)
		square(zeros[k], zeros[k - 1]);
}

uint32_t verify_crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2)
{
	if (len2 == 0)
		return crc1;
	pthread_once(&zeros_once, zeros_init);
	for (int k = 0; len2; k++, len2 >>= 1)
		if (len2 & 1)
			crc1 = times(zeros[k], crc1);
	return crc1 ^ crc2;
}
