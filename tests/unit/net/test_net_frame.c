/* tests/unit/net/test_net_frame.c — the wire format: preamble checks,
 * header limits, CRC catching every flipped bit, bodies that do not decode. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/frame.h"
#include "tests/unit/net/harness.h"
#include "util/endian.h"

START_TEST(preamble_magic_and_version)
{
	uint8_t p[NET_PREAMBLE_LEN];
	char why[200];

	net_preamble_encode(p);
	ck_assert_int_eq(net_preamble_check(p, why, sizeof(why)), 0);
	p[0] ^= 1;
	ck_assert_int_eq(net_preamble_check(p, why, sizeof(why)), -EPROTO);
	ck_assert(strstr(why, "wrong magic"));
	memcpy(p, "GET / HT", 8);
	ck_assert_int_eq(net_preamble_check(p, why, sizeof(why)), -EPROTO);
	net_preamble_encode(p);
	util_put_be32(p + 4, 2);
	ck_assert_int_eq(net_preamble_check(p, why, sizeof(why)), -EPROTONOSUPPORT);
	ck_assert(strstr(why, "protocol version 2"));
}
END_TEST

static size_t make_frame(uint8_t *buf, const void *payload, size_t len)
{
	struct th_msg m;
	th_msg_init(&m, 42, 7, payload, len);
	return net_frame_pack(NET_FRAME_ENVELOPE, &m.env.base, buf);
}

START_TEST(frame_round_trip)
{
	uint8_t buf[512];
	struct net_frame_hdr h;
	struct net_frame_msg msg = {0};
	char why[200];
	uint64_t seq, tag;
	const uint8_t *pl;
	size_t pl_len, n = make_frame(buf, "hello, world", 12);

	ck_assert_int_eq(net_frame_parse_header(buf, 1024, &h, why, sizeof(why)), 0);
	ck_assert_uint_eq(h.type, NET_FRAME_ENVELOPE);
	ck_assert_uint_eq(h.len + NET_FRAME_HDR_LEN, n);
	ck_assert_int_eq(net_frame_check_crc(&h, buf, buf + NET_FRAME_HDR_LEN, why, sizeof(why)), 0);
	ck_assert_int_eq(net_frame_decode(h.type, buf + NET_FRAME_HDR_LEN, h.len, &msg, why,
					  sizeof(why)),
			 0);
	ck_assert(th_msg_get(msg.u.env, &seq, &tag, &pl, &pl_len));
	ck_assert_uint_eq(seq, 42);
	ck_assert_uint_eq(tag, 7);
	ck_assert_uint_eq(pl_len, 12);
	ck_assert(!memcmp(pl, "hello, world", 12));
	net_frame_msg_free(&msg);
	net_frame_msg_free(&msg); /* idempotent */

	/* An empty heartbeat is a valid frame of length 0. */
	Paxfs__NetHeartbeat hb = PAXFS__NET_HEARTBEAT__INIT;
	ck_assert_uint_eq(net_frame_pack(NET_FRAME_HEARTBEAT, &hb.base, buf), NET_FRAME_HDR_LEN);
	ck_assert_int_eq(net_frame_parse_header(buf, 0, &h, why, sizeof(why)), 0);
	ck_assert_int_eq(net_frame_check_crc(&h, buf, buf + NET_FRAME_HDR_LEN, why, sizeof(why)), 0);
}
END_TEST

START_TEST(header_limits_and_reserved_bits)
{
	uint8_t buf[512];
	struct net_frame_hdr h;
	char why[200];
	size_t n = make_frame(buf, "x", 1);

	/* exactly at the limit passes, one below fails */
	ck_assert_int_eq(net_frame_parse_header(buf, n - NET_FRAME_HDR_LEN, &h, why, sizeof(why)), 0);
	ck_assert_int_eq(
		net_frame_parse_header(buf, n - NET_FRAME_HDR_LEN - 1, &h, why, sizeof(why)),
		-EMSGSIZE);
	ck_assert(strstr(why, "exceeds the limit"));
	util_put_be32(buf, 0xffffffffu);
	ck_assert_int_eq(net_frame_parse_header(buf, 64u << 20, &h, why, sizeof(why)), -EMSGSIZE);
	make_frame(buf, "x", 1);
	buf[6] = 1;
	ck_assert_int_eq(net_frame_parse_header(buf, 1024, &h, why, sizeof(why)), -EBADMSG);
	ck_assert(strstr(why, "reserved"));
	make_frame(buf, "x", 1);
	buf[4] = 0;
	ck_assert_int_eq(net_frame_parse_header(buf, 1024, &h, why, sizeof(why)), -EBADMSG);
	buf[4] = NET_FRAME_TYPE_MAX + 1;
	ck_assert_int_eq(net_frame_parse_header(buf, 1024, &h, why, sizeof(why)), -EBADMSG);
	ck_assert(strstr(why, "unknown frame type"));
}
END_TEST

/* Every single-bit error anywhere in a frame is caught by the header check
 * or the CRC: none reaches the decoder unnoticed. */
START_TEST(crc_catches_every_bit_flip)
{
	uint8_t buf[512], orig[512];
	struct net_frame_hdr h;
	char why[200];
	size_t n = make_frame(orig, th_payload(1, 2, 200), 200);

	for (size_t bit = 0; bit < n * 8; bit++) {
		memcpy(buf, orig, n);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int rc = net_frame_parse_header(buf, 4096, &h, why, sizeof(why));
		if (rc == 0) {
			if (h.len + NET_FRAME_HDR_LEN > n)
				continue; /* a longer length: the reader would wait for more */
			rc = net_frame_check_crc(&h, buf, buf + NET_FRAME_HDR_LEN, why,
						 sizeof(why));
		}
		ck_assert_msg(rc < 0, "bit %zu flipped went unnoticed", bit);
	}
}
END_TEST

START_TEST(bodies_that_do_not_decode)
{
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	static const uint8_t truncated_bytes_field[] = {0x22, 0x20, 1, 2, 3}; /* nonce: 32 announced */
	struct net_frame_msg msg = {0};
	char why[200];
	uint8_t buf[512];
	size_t n;

	for (unsigned t = NET_FRAME_HELLO; t <= NET_FRAME_TYPE_MAX; t++) {
		ck_assert_int_eq(net_frame_decode((uint8_t)t, junk, sizeof(junk), &msg, why,
						  sizeof(why)),
				 -EBADMSG);
		ck_assert(strstr(why, "does not decode"));
		ck_assert_ptr_null(msg.u.any);
	}
	ck_assert_int_eq(net_frame_decode(NET_FRAME_HELLO, truncated_bytes_field,
					  sizeof(truncated_bytes_field), &msg, why, sizeof(why)),
			 -EBADMSG);
	ck_assert_int_eq(net_frame_decode(0, junk, 1, &msg, why, sizeof(why)), -EBADMSG);

	/* every proper prefix of a valid envelope body either fails or decodes:
	 * never reads past the length it is given (ASan watches) */
	n = make_frame(buf, th_payload(3, 4, 100), 100);
	for (size_t len = 0; len < n - NET_FRAME_HDR_LEN; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, buf + NET_FRAME_HDR_LEN, len);
		if (net_frame_decode(NET_FRAME_ENVELOPE, copy, len, &msg, why, sizeof(why)) == 0)
			net_frame_msg_free(&msg);
		free(copy);
	}
}
END_TEST

START_TEST(type_names)
{
	ck_assert_str_eq(net_frame_type_name(NET_FRAME_ENVELOPE), "envelope");
	ck_assert_str_eq(net_frame_type_name(NET_FRAME_HELLO), "hello");
	ck_assert_str_eq(net_frame_type_name(77), "type 77");
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("net_frame");
	TEST_CASE(s, preamble_magic_and_version, 10);
	TEST_CASE(s, frame_round_trip, 10);
	TEST_CASE(s, header_limits_and_reserved_bits, 10);
	TEST_CASE(s, crc_catches_every_bit_flip, 30);
	TEST_CASE(s, bodies_that_do_not_decode, 10);
	TEST_CASE(s, type_names, 10);
	return s;
}
