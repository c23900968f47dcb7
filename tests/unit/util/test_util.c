/* tests/unit/util/test_util.c — crc32c (both paths), PRNG determinism, the
 * decode budget. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/budget.h"
#include "util/crc32c.h"
#include "util/endian.h"
#include "util/prng.h"
#include "util/u64map.h"

uint32_t util_crc32c_sw(uint32_t crc, const void *buf, size_t len);

START_TEST(crc32c_known_vectors)
{
	uint8_t zeros[32] = {0}, ones[32], inc[32];
	memset(ones, 0xff, sizeof(ones));
	for (int i = 0; i < 32; i++)
		inc[i] = (uint8_t)i;
	/* RFC 3720 B.4 test vectors. */
	ck_assert_uint_eq(util_crc32c(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(util_crc32c(0, zeros, 32), 0x8a9136aau);
	ck_assert_uint_eq(util_crc32c(0, ones, 32), 0x62a8ab43u);
	ck_assert_uint_eq(util_crc32c(0, inc, 32), 0x46dd794eu);
	ck_assert_uint_eq(util_crc32c_sw(0, "123456789", 9), 0xe3069283u);
}
END_TEST

START_TEST(crc32c_hw_matches_sw_and_chains)
{
	struct util_prng p;
	uint8_t buf[4099];
	util_prng_seed(&p, 7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)util_prng_next(&p);
	for (size_t off = 0; off < 9; off++)
		for (size_t len = 0; len < sizeof(buf) - off; len += 1 + len / 3) {
			uint32_t a = util_crc32c(0, buf + off, len);
			ck_assert_uint_eq(a, util_crc32c_sw(0, buf + off, len));
			size_t half = len / 2;
			ck_assert_uint_eq(a, util_crc32c(util_crc32c(0, buf + off, half),
							 buf + off + half, len - half));
		}
}
END_TEST

START_TEST(prng_is_deterministic_and_bounded)
{
	struct util_prng a, b;
	util_prng_seed(&a, 42);
	util_prng_seed(&b, 42);
	for (int i = 0; i < 1000; i++)
		ck_assert_uint_eq(util_prng_next(&a), util_prng_next(&b));
	int hist[10] = {0};
	for (int i = 0; i < 100000; i++) {
		uint64_t v = util_prng_below(&a, 10);
		ck_assert_uint_lt(v, 10);
		hist[v]++;
	}
	for (int i = 0; i < 10; i++)
		ck_assert_int_gt(hist[i], 9000);
}
END_TEST

START_TEST(big_endian_round_trip_and_order)
{
	uint8_t a[8], b[8];
	util_put_be64(a, 0x0102030405060708ull);
	ck_assert_uint_eq(a[0], 1);
	ck_assert_uint_eq(util_get_be64(a), 0x0102030405060708ull);
	util_put_be64(a, 255);
	util_put_be64(b, 256);
	ck_assert_int_lt(memcmp(a, b, 8), 0);
	util_put_be32(a, 0xdeadbeef);
	ck_assert_uint_eq(util_get_be32(a), 0xdeadbeef);
}
END_TEST

START_TEST(u64map_matches_a_model_under_churn)
{
	enum { N = 4096 };
	static void *model[N];
	struct util_u64map m;
	struct util_prng p;
	util_u64map_init(&m);
	util_prng_seed(&p, 11);
	for (int step = 0; step < 200000; step++) {
		uint64_t k = 1 + util_prng_below(&p, N - 1);
		if (util_prng_below(&p, 3) == 0) {
			ck_assert_ptr_eq(util_u64map_del(&m, k), model[k]);
			model[k] = NULL;
		} else {
			void *v = (void *)(uintptr_t)(step + 1);
			ck_assert_int_eq(util_u64map_put(&m, k, v), 0);
			model[k] = v;
		}
		uint64_t q = 1 + util_prng_below(&p, N - 1);
		ck_assert_ptr_eq(util_u64map_get(&m, q), model[q]);
	}
	size_t live = 0, pos = 0, seen = 0;
	uint64_t k;
	void *v;
	for (int i = 1; i < N; i++)
		live += model[i] != NULL;
	ck_assert_uint_eq(m.len, live);
	while (util_u64map_next(&m, &pos, &k, &v)) {
		ck_assert_ptr_eq(v, model[k]);
		seen++;
	}
	ck_assert_uint_eq(seen, live);
	util_u64map_close(&m);
}
END_TEST

/* The budget hands out blocks until the next would pass the limit, never
 * more; what is freed is not refunded; no budget hands out nothing. */
START_TEST(budget_stops_at_its_limit)
{
	struct util_budget b;
	void *p[64];
	size_t n = 0;

	ck_assert_uint_eq(util_budget_cost(0), 32);
	ck_assert_uint_eq(util_budget_cost(24), 32);
	ck_assert_uint_eq(util_budget_cost(25), 48);
	ck_assert_uint_eq(util_budget_cost(176), 192);
	ck_assert_uint_eq(util_budget_cost(SIZE_MAX), SIZE_MAX);
	ck_assert_uint_eq(util_decode_limit(0), UTIL_DECODE_SLACK);
	ck_assert_uint_eq(util_decode_limit(1000), UTIL_DECODE_FACTOR * 1000 + UTIL_DECODE_SLACK);
	ck_assert_uint_eq(util_decode_limit(SIZE_MAX / 2), UTIL_DECODE_MAX);
	ck_assert_uint_eq(util_decode_limit(64u << 20), UTIL_DECODE_MAX); /* a 64 MiB frame */
	ck_assert_uint_eq(util_decode_limit(4u << 20),
			  UTIL_DECODE_FACTOR * (4u << 20) + UTIL_DECODE_SLACK);

	util_budget_init(&b, 1000);
	while ((p[n] = util_budget_alloc(&b, 100)) != NULL) {
		memset(p[n], 0xa5, 100);
		n++;
		ck_assert_uint_lt(n, 64);
	}
	ck_assert_uint_eq(n, 1000 / util_budget_cost(100));
	ck_assert_uint_eq(b.spent, n * util_budget_cost(100));
	ck_assert(b.over);
	ck_assert_uint_eq(1000 - b.spent, 104);
	p[n++] = util_budget_alloc(&b, 80); /* 96 bytes: what is left still serves */
	ck_assert_ptr_nonnull(p[n - 1]);
	ck_assert_uint_eq(b.spent, 992);
	p[n++] = NULL;
	for (size_t i = 0; i < n; i++)
		util_budget_free(&b, p[i]);           /* NULL is fine, as with free() */
	ck_assert_ptr_null(util_budget_alloc(&b, 1)); /* not refunded */
	ck_assert_ptr_null(util_budget_alloc(NULL, 1));
	util_budget_free(NULL, util_budget_alloc(&(struct util_budget){.limit = 64}, 8));
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("util");
	TEST_CASE(s, crc32c_known_vectors, 10);
	TEST_CASE(s, crc32c_hw_matches_sw_and_chains, 30);
	TEST_CASE(s, prng_is_deterministic_and_bounded, 10);
	TEST_CASE(s, big_endian_round_trip_and_order, 10);
	TEST_CASE(s, u64map_matches_a_model_under_churn, 30);
	TEST_CASE(s, budget_stops_at_its_limit, 10);
	return s;
}
