/* tests/unit/net/test_net_crypto.c — SHA-256 and HMAC-SHA256 against the
 * published vectors, and the handshake's proof: two honest sides agree; a
 * wrong secret, a replayed or reflected proof, a wrong cluster or node id is
 * refused. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/handshake.h"
#include "net/sha256.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void check_sha(const void *msg, size_t len, const char *want)
{
	uint8_t d[32];
	char h[65];
	net_sha256(msg, len, d);
	hex(d, 32, h);
	ck_assert_str_eq(h, want);
}

/* FIPS 180-2 appendix B, plus the million-'a' vector fed in odd pieces so
 * the buffering across blocks is exercised. */
START_TEST(sha256_fips_vectors)
{
	static char million[1000000];
	struct net_sha256 s;
	uint8_t d[32];
	char h[65];

	check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(million, 'a', sizeof(million));
	check_sha(million, sizeof(million),
		  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	net_sha256_init(&s);
	for (size_t off = 0, step = 1; off < sizeof(million); step = step * 3 % 257 + 1) {
		size_t n = off + step > sizeof(million) ? sizeof(million) - off : step;
		net_sha256_update(&s, million + off, n);
		off += n;
	}
	net_sha256_final(&s, d);
	hex(d, 32, h);
	ck_assert_str_eq(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

static void check_hmac(const void *key, size_t klen, const void *data, size_t dlen,
		       const char *want)
{
	uint8_t d[32];
	char h[65];
	const void *parts[] = {data};
	size_t lens[] = {dlen};
	net_hmac_sha256(key, klen, 1, parts, lens, d);
	hex(d, 32, h);
	ck_assert_msg(!strncmp(h, want, strlen(want)), "hmac %s, want %s", h, want);

	/* The same MAC over the data split in three parts. */
	if (dlen >= 3) {
		const uint8_t *p = data;
		const void *parts3[] = {p, p + 1, p + 2};
		size_t lens3[] = {1, 1, dlen - 2};
		net_hmac_sha256(key, klen, 3, parts3, lens3, d);
		hex(d, 32, h);
		ck_assert(!strncmp(h, want, strlen(want)));
	}
}

/* RFC 4231 section 4, test cases 1-7 (case 5 is truncated to 128 bits). */
START_TEST(hmac_sha256_rfc4231)
{
	uint8_t k[131], d[50];

	memset(k, 0x0b, 20);
	check_hmac(k, 20, "Hi There", 8,
		   "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	check_hmac("Jefe", 4, "what do ya want for nothing?", 28,
		   "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(k, 0xaa, 20);
	memset(d, 0xdd, 50);
	check_hmac(k, 20, d, 50,
		   "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	for (int i = 0; i < 25; i++)
		k[i] = (uint8_t)(i + 1);
	memset(d, 0xcd, 50);
	check_hmac(k, 25, d, 50,
		   "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
	memset(k, 0x0c, 20);
	check_hmac(k, 20, "Test With Truncation", 20, "a3b6167473100ee06e0c796c2955552b");
	memset(k, 0xaa, 131);
	check_hmac(k, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
		   "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	const char *t7 = "This is a test using a larger than block-size key and a larger than "
			 "block-size data. The key needs to be hashed before being used by the "
			 "HMAC algorithm.";
	check_hmac(k, 131, t7, strlen(t7),
		   "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}
END_TEST

START_TEST(ct_equal_compares_every_byte)
{
	uint8_t a[32], b[32];
	memset(a, 7, sizeof(a));
	memcpy(b, a, sizeof(b));
	ck_assert(net_ct_equal(a, b, 32));
	for (int i = 0; i < 32; i++) {
		b[i] ^= 0x80;
		ck_assert(!net_ct_equal(a, b, 32));
		b[i] ^= 0x80;
	}
}
END_TEST

/* ---- the handshake ------------------------------------------------------ */

static const struct net_hs_keys keys = {"demo", (const uint8_t *)"sixteen-byte-key!", 17};
static const struct net_hs_keys wrong_secret = {"demo", (const uint8_t *)"sixteen-byte-kex!", 17};

struct pair {
	struct net_hs d, a; /* dialer node 1 -> acceptor node 2 */
	Paxfs__NetHello hd, ha;
	Paxfs__NetAuth ad, aa;
	uint8_t pd[NET_PROOF_LEN], pa[NET_PROOF_LEN];
};

static void pair_hellos(struct pair *p, uint32_t dialer_id)
{
	enum net_close_code code;
	char why[200];
	ck_assert_int_eq(net_hs_start(&p->d, NET_ROLE_DIALER, dialer_id, 2), 0);
	ck_assert_int_eq(net_hs_start(&p->a, NET_ROLE_ACCEPTOR, 2, 0), 0);
	ck_assert(memcmp(p->d.mine, p->a.mine, NET_NONCE_LEN)); /* getrandom nonces differ */
	net_hs_hello(&p->d, &keys, &p->hd);
	net_hs_hello(&p->a, &keys, &p->ha);
	ck_assert_int_eq(net_hs_on_hello(&p->a, &keys, &p->hd, &code, why, sizeof(why)), 0);
	ck_assert_int_eq(net_hs_on_hello(&p->d, &keys, &p->ha, &code, why, sizeof(why)), 0);
	ck_assert_uint_eq(p->a.peer, dialer_id);
	paxfs__net_auth__init(&p->ad);
	paxfs__net_auth__init(&p->aa);
	p->ad.proof.data = p->pd;
	p->ad.proof.len = NET_PROOF_LEN;
	p->aa.proof.data = p->pa;
	p->aa.proof.len = NET_PROOF_LEN;
}

START_TEST(handshake_honest_sides_agree)
{
	struct pair p;
	enum net_close_code code;
	char why[200];

	pair_hellos(&p, 1);
	net_hs_auth(&p.d, &keys, p.pd);
	net_hs_auth(&p.a, &keys, p.pa);
	ck_assert(memcmp(p.pd, p.pa, NET_PROOF_LEN)); /* roles differ: proofs differ */
	ck_assert_int_eq(net_hs_on_auth(&p.a, &keys, &p.ad, &code, why, sizeof(why)), 0);
	ck_assert_int_eq(net_hs_on_auth(&p.d, &keys, &p.aa, &code, why, sizeof(why)), 0);
	ck_assert(p.a.verified && p.d.verified);
	/* a second auth is out of order */
	ck_assert_int_eq(net_hs_on_auth(&p.a, &keys, &p.ad, &code, why, sizeof(why)), -EPROTO);

	/* a client (id 0) works the same way */
	pair_hellos(&p, 0);
	net_hs_auth(&p.d, &keys, p.pd);
	net_hs_auth(&p.a, &keys, p.pa);
	ck_assert_int_eq(net_hs_on_auth(&p.a, &keys, &p.ad, &code, why, sizeof(why)), 0);
	ck_assert_int_eq(net_hs_on_auth(&p.d, &keys, &p.aa, &code, why, sizeof(why)), 0);
}
END_TEST

START_TEST(handshake_wrong_secret_refused_both_ways)
{
	struct pair p;
	enum net_close_code code;
	char why[200];

	pair_hellos(&p, 1);
	net_hs_auth(&p.d, &wrong_secret, p.pd);
	net_hs_auth(&p.a, &keys, p.pa);
	ck_assert_int_eq(net_hs_on_auth(&p.a, &keys, &p.ad, &code, why, sizeof(why)), -EACCES);
	ck_assert_int_eq(code, NET_CLOSE_AUTH);
	ck_assert(strstr(why, "authentication failed"));
	ck_assert(!p.a.verified);
	/* and the side with the wrong secret cannot verify the honest one */
	ck_assert_int_eq(net_hs_on_auth(&p.d, &wrong_secret, &p.aa, &code, why, sizeof(why)),
			 -EACCES);
	/* a proof of the wrong length */
	pair_hellos(&p, 1);
	net_hs_auth(&p.a, &keys, p.pa);
	p.ad.proof.len = 31;
	ck_assert_int_eq(net_hs_on_auth(&p.a, &keys, &p.ad, &code, why, sizeof(why)), -EACCES);
}
END_TEST

START_TEST(handshake_replayed_proof_refused)
{
	struct pair old, now;
	enum net_close_code code;
	char why[200];
	uint8_t recorded[NET_PROOF_LEN];

	/* Record an honest dialer's hello and proof... */
	pair_hellos(&old, 1);
	net_hs_auth(&old.d, &keys, old.pd);
	memcpy(recorded, old.pd, sizeof(recorded));
	/* ...and replay both to a new acceptor, which draws a new nonce. */
	ck_assert_int_eq(net_hs_start(&now.a, NET_ROLE_ACCEPTOR, 2, 0), 0);
	ck_assert_int_eq(net_hs_on_hello(&now.a, &keys, &old.hd, &code, why, sizeof(why)), 0);
	net_hs_auth(&now.a, &keys, now.pa);
	paxfs__net_auth__init(&now.ad);
	now.ad.proof.data = recorded;
	now.ad.proof.len = NET_PROOF_LEN;
	ck_assert_int_eq(net_hs_on_auth(&now.a, &keys, &now.ad, &code, why, sizeof(why)), -EACCES);
	ck_assert_int_eq(code, NET_CLOSE_AUTH);
}
END_TEST

START_TEST(handshake_reflected_proof_refused)
{
	struct pair p;
	enum net_close_code code;
	char why[200];
	Paxfs__NetAuth back = PAXFS__NET_AUTH__INIT;

	/* A dialer that echoes the acceptor's own proof (and nonce) back. */
	pair_hellos(&p, 1);
	net_hs_auth(&p.a, &keys, p.pa);
	back.proof.data = p.pa;
	back.proof.len = NET_PROOF_LEN;
	ck_assert_int_eq(net_hs_on_auth(&p.a, &keys, &back, &code, why, sizeof(why)), -EACCES);

	/* A hello that carries the receiver's own nonce. */
	struct net_hs a;
	Paxfs__NetHello h;
	ck_assert_int_eq(net_hs_start(&a, NET_ROLE_ACCEPTOR, 2, 0), 0);
	net_hs_hello(&a, &keys, &h);
	h.node_id = 1;
	h.to_id = 2;
	ck_assert_int_eq(net_hs_on_hello(&a, &keys, &h, &code, why, sizeof(why)), -EPROTO);
	ck_assert(strstr(why, "reflection"));
}
END_TEST

START_TEST(handshake_hello_checks)
{
	struct net_hs hs;
	Paxfs__NetHello h;
	enum net_close_code code;
	char why[200];
	uint8_t nonce[NET_NONCE_LEN];

	memset(nonce, 9, sizeof(nonce));
	paxfs__net_hello__init(&h);
	h.cluster = "demo";
	h.node_id = 3;
	h.to_id = 2;
	h.nonce.data = nonce;
	h.nonce.len = NET_NONCE_LEN;

	ck_assert_int_eq(net_hs_start(&hs, NET_ROLE_ACCEPTOR, 2, 0), 0);
	h.cluster = "prod\n";
	ck_assert_int_eq(net_hs_on_hello(&hs, &keys, &h, &code, why, sizeof(why)), -EACCES);
	ck_assert_int_eq(code, NET_CLOSE_CLUSTER);
	ck_assert_msg(strstr(why, "wrong cluster name 'prod\\x0a'"), "%s", why);
	h.cluster = "demo";

	h.to_id = 4;
	ck_assert_int_eq(net_hs_on_hello(&hs, &keys, &h, &code, why, sizeof(why)), -EACCES);
	ck_assert_int_eq(code, NET_CLOSE_IDENTITY);
	h.to_id = 2;

	h.node_id = 2;
	ck_assert_int_eq(net_hs_on_hello(&hs, &keys, &h, &code, why, sizeof(why)), -EACCES);
	ck_assert(strstr(why, "own id"));
	h.node_id = 3;

	h.nonce.len = 8;
	ck_assert_int_eq(net_hs_on_hello(&hs, &keys, &h, &code, why, sizeof(why)), -EBADMSG);
	h.nonce.len = NET_NONCE_LEN;

	ck_assert_int_eq(net_hs_on_hello(&hs, &keys, &h, &code, why, sizeof(why)), 0);
	ck_assert_uint_eq(hs.peer, 3);
	ck_assert_int_eq(net_hs_on_hello(&hs, &keys, &h, &code, why, sizeof(why)), -EPROTO);

	/* A dialer must hear the node it dialed. */
	ck_assert_int_eq(net_hs_start(&hs, NET_ROLE_DIALER, 1, 2), 0);
	ck_assert_int_eq(net_hs_on_hello(&hs, &keys, &h, &code, why, sizeof(why)), -EACCES);
	ck_assert(strstr(why, "dialed node 2 but node 3 answered"));

	/* Auth before hello is out of order. */
	Paxfs__NetAuth a = PAXFS__NET_AUTH__INIT;
	ck_assert_int_eq(net_hs_start(&hs, NET_ROLE_ACCEPTOR, 2, 0), 0);
	ck_assert_int_eq(net_hs_on_auth(&hs, &keys, &a, &code, why, sizeof(why)), -EPROTO);
}
END_TEST

START_TEST(proof_binds_every_field)
{
	uint8_t n1[NET_NONCE_LEN], n2[NET_NONCE_LEN], base[32], p[32];
	struct net_hs_keys other = keys;

	memset(n1, 1, sizeof(n1));
	memset(n2, 2, sizeof(n2));
	net_hs_proof(&keys, NET_ROLE_DIALER, 1, 2, n1, n2, base);
	net_hs_proof(&keys, NET_ROLE_ACCEPTOR, 1, 2, n1, n2, p);
	ck_assert(memcmp(base, p, 32));
	net_hs_proof(&keys, NET_ROLE_DIALER, 2, 1, n1, n2, p);
	ck_assert(memcmp(base, p, 32));
	net_hs_proof(&keys, NET_ROLE_DIALER, 1, 3, n1, n2, p);
	ck_assert(memcmp(base, p, 32));
	net_hs_proof(&keys, NET_ROLE_DIALER, 1, 2, n2, n1, p);
	ck_assert(memcmp(base, p, 32));
	other.cluster = "demo2";
	net_hs_proof(&other, NET_ROLE_DIALER, 1, 2, n1, n2, p);
	ck_assert(memcmp(base, p, 32));
	net_hs_proof(&keys, NET_ROLE_DIALER, 1, 2, n1, n2, p);
	ck_assert(!memcmp(base, p, 32));
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("net_crypto");
	TEST_CASE(s, sha256_fips_vectors, 30);
	TEST_CASE(s, hmac_sha256_rfc4231, 10);
	TEST_CASE(s, ct_equal_compares_every_byte, 10);
	TEST_CASE(s, handshake_honest_sides_agree, 10);
	TEST_CASE(s, handshake_wrong_secret_refused_both_ways, 10);
	TEST_CASE(s, handshake_replayed_proof_refused, 10);
	TEST_CASE(s, handshake_reflected_proof_refused, 10);
	TEST_CASE(s, handshake_hello_checks, 10);
	TEST_CASE(s, proof_binds_every_field, 10);
	return s;
}
