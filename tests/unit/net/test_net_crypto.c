/* tests/unit/net/test_net_crypto.c — the TLS key is the documented HKDF of
 * the secret, and the handshake's proof: two honest sides agree; a wrong
 * secret, a replayed, reflected or relayed (other TLS connection) proof, a
 * wrong cluster or node id is refused. (SHA-256 and HMAC are OpenSSL's.) */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "net/handshake.h"
#include "net/tls.h"

/* RFC 5869 by hand (HMAC from OpenSSL): PRK = HMAC(salt, secret),
 * OKM = HMAC(PRK, info | 0x01) for one block: what net/tls.h documents. */
static void hkdf_by_hand(const char *cluster, const char *secret, uint8_t out[32])
{
	uint8_t prk[32], msg[300];
	unsigned len = 32;
	size_t n = strlen(cluster);
	ck_assert(HMAC(EVP_sha256(), "paxfs-tls-psk-v1", 16, (const uint8_t *)secret,
		       strlen(secret), prk, &len));
	memcpy(msg, cluster, n);
	msg[n] = 1;
	ck_assert(HMAC(EVP_sha256(), prk, 32, msg, n + 1, out, &len));
}

START_TEST(tls_psk_is_the_documented_hkdf)
{
	uint8_t got[NET_TLS_PSK_LEN], want[32], other[NET_TLS_PSK_LEN];
	const char *secret = "sixteen-byte-key!";

	ck_assert_int_eq(net_tls_psk("demo", (const uint8_t *)secret, 17, got), 0);
	hkdf_by_hand("demo", secret, want);
	ck_assert(!memcmp(got, want, 32));
	/* another cluster name or secret: another key */
	ck_assert_int_eq(net_tls_psk("demo2", (const uint8_t *)secret, 17, other), 0);
	ck_assert(memcmp(got, other, 32));
	ck_assert_int_eq(net_tls_psk("demo", (const uint8_t *)"sixteen-byte-kex!", 17, other), 0);
	ck_assert(memcmp(got, other, 32));
	/* the client credential's key from the same bytes: another key */
	ck_assert_int_eq(net_tls_client_psk("demo", (const uint8_t *)secret, 17, other), 0);
	ck_assert(memcmp(got, other, 32));
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

static const struct net_hs_keys keys = {"demo", (const uint8_t *)"sixteen-byte-key!", 17, false};
static const struct net_hs_keys wrong_secret = {"demo", (const uint8_t *)"sixteen-byte-kex!", 17,
						false};

struct pair {
	struct net_hs d, a; /* dialer node 1 -> acceptor node 2 */
	Paxfs__NetHello hd, ha;
	Paxfs__NetAuth ad, aa;
	uint8_t pd[NET_PROOF_LEN], pa[NET_PROOF_LEN];
};

/* Both sides' TLS exporter values: equal on one connection. */
static void pair_bind(struct pair *p, uint8_t dialer_channel, uint8_t acceptor_channel)
{
	uint8_t c[NET_CHANNEL_LEN];
	memset(c, dialer_channel, sizeof(c));
	net_hs_bind(&p->d, c);
	memset(c, acceptor_channel, sizeof(c));
	net_hs_bind(&p->a, c);
}

static void pair_hellos(struct pair *p, uint32_t dialer_id)
{
	enum net_close_code code;
	char why[200];
	ck_assert_int_eq(net_hs_start(&p->d, NET_ROLE_DIALER, dialer_id, 2), 0);
	ck_assert_int_eq(net_hs_start(&p->a, NET_ROLE_ACCEPTOR, 2, 0), 0);
	ck_assert(memcmp(p->d.mine, p->a.mine, NET_NONCE_LEN)); /* getrandom nonces differ */
	pair_bind(p, 0x33, 0x33);
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
	memset(now.pa, 0x33, NET_CHANNEL_LEN); /* even on the same channel */
	net_hs_bind(&now.a, now.pa);
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

/* Someone who can see inside one TLS connection (say, a holder of the
 * secret in the middle of two) forwards an honest dialer's hello and proof
 * into another connection: same nonces, but another TLS channel. */
START_TEST(handshake_proof_from_another_tls_connection_refused)
{
	struct pair p;
	enum net_close_code code;
	char why[200];

	pair_hellos(&p, 1);
	pair_bind(&p, 0x33, 0x44);
	net_hs_auth(&p.d, &keys, p.pd);
	net_hs_auth(&p.a, &keys, p.pa);
	ck_assert_int_eq(net_hs_on_auth(&p.a, &keys, &p.ad, &code, why, sizeof(why)), -EACCES);
	ck_assert_int_eq(code, NET_CLOSE_AUTH);
	ck_assert_int_eq(net_hs_on_auth(&p.d, &keys, &p.aa, &code, why, sizeof(why)), -EACCES);
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
	uint8_t n1[NET_NONCE_LEN], n2[NET_NONCE_LEN], base[32], p[32], ch[NET_CHANNEL_LEN];
	uint8_t ch2[NET_CHANNEL_LEN];
	struct net_hs_keys other = keys;

	memset(n1, 1, sizeof(n1));
	memset(n2, 2, sizeof(n2));
	memset(ch, 3, sizeof(ch));
	memcpy(ch2, ch, sizeof(ch));
	ch2[NET_CHANNEL_LEN - 1] ^= 1;
	net_hs_proof(&keys, NET_ROLE_DIALER, 1, 2, n1, n2, ch, base);
	net_hs_proof(&keys, NET_ROLE_ACCEPTOR, 1, 2, n1, n2, ch, p);
	ck_assert(memcmp(base, p, 32));
	net_hs_proof(&keys, NET_ROLE_DIALER, 2, 1, n1, n2, ch, p);
	ck_assert(memcmp(base, p, 32));
	net_hs_proof(&keys, NET_ROLE_DIALER, 1, 3, n1, n2, ch, p);
	ck_assert(memcmp(base, p, 32));
	net_hs_proof(&keys, NET_ROLE_DIALER, 1, 2, n2, n1, ch, p);
	ck_assert(memcmp(base, p, 32));
	other.cluster = "demo2";
	net_hs_proof(&other, NET_ROLE_DIALER, 1, 2, n1, n2, ch, p);
	ck_assert(memcmp(base, p, 32));
	net_hs_proof(&keys, NET_ROLE_DIALER, 1, 2, n1, n2, ch2, p);
	ck_assert(memcmp(base, p, 32));
	other = keys;
	other.client = true; /* the same secret as the client credential */
	net_hs_proof(&other, NET_ROLE_DIALER, 1, 2, n1, n2, ch, p);
	ck_assert(memcmp(base, p, 32));
	net_hs_proof(&keys, NET_ROLE_DIALER, 1, 2, n1, n2, ch, p);
	ck_assert(!memcmp(base, p, 32));
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("net_crypto");
	TEST_CASE(s, tls_psk_is_the_documented_hkdf, 10);
	TEST_CASE(s, ct_equal_compares_every_byte, 10);
	TEST_CASE(s, handshake_honest_sides_agree, 10);
	TEST_CASE(s, handshake_wrong_secret_refused_both_ways, 10);
	TEST_CASE(s, handshake_replayed_proof_refused, 10);
	TEST_CASE(s, handshake_reflected_proof_refused, 10);
	TEST_CASE(s, handshake_proof_from_another_tls_connection_refused, 10);
	TEST_CASE(s, handshake_hello_checks, 10);
	TEST_CASE(s, proof_binds_every_field, 10);
	return s;
}
