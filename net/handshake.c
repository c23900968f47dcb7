/* net/handshake.c — the checks of each handshake step and the proof.
 *
 * Every refusal says what was wrong in words an operator can act on
 * ("wrong cluster name 'prod' (this node is in 'demo')"); the one exception
 * is a failed proof, which says only that: telling a prober more would help
 * it, telling the operator more would not (both sides log it). */
#include "net/handshake.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "net/frame.h"
#include "util/endian.h"

static const char auth_label[] = "paxfs-net-auth-v2";
static const char client_auth_label[] = "paxfs-net-client-auth-v2";

static int refuse(enum net_close_code *code, enum net_close_code c, int rc, char *why,
		  size_t whylen, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int refuse(enum net_close_code *code, enum net_close_code c, int rc, char *why,
		  size_t whylen, const char *fmt, ...)
{
	va_list ap;
	*code = c;
	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int net_nonce_fill(uint8_t nonce[NET_NONCE_LEN])
{
	size_t got = 0;
	while (got < NET_NONCE_LEN) {
		ssize_t n = getrandom(nonce + got, NET_NONCE_LEN - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	return 0;
}

int net_hs_start(struct net_hs *hs, enum net_role role, uint32_t self, uint32_t dialed)
{
	memset(hs, 0, sizeof(*hs));
	hs->role = role;
	hs->self = self;
	hs->peer = role == NET_ROLE_DIALER ? dialed : 0;
	return net_nonce_fill(hs->mine);
}

void net_hs_hello(const struct net_hs *hs, const struct net_hs_keys *keys, Paxfs__NetHello *out)
{
	paxfs__net_hello__init(out);
	out->cluster = (char *)keys->cluster;
	out->node_id = hs->self;
	out->to_id = hs->role == NET_ROLE_DIALER ? hs->peer : 0;
	out->nonce.data = (uint8_t *)hs->mine;
	out->nonce.len = NET_NONCE_LEN;
}

/* Writes at most `max` bytes of `s` with anything unprintable escaped, so a
 * hostile peer cannot put control characters into our log. */
static void printable(char *out, size_t outlen, const char *s, size_t max)
{
	size_t o = 0;
	for (size_t i = 0; s[i] && i < max && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	out[o] = '\0';
}

int net_hs_on_hello(struct net_hs *hs, const struct net_hs_keys *keys, const Paxfs__NetHello *hello,
		    enum net_close_code *code, char *why, size_t whylen)
{
	char name[80];

	if (hs->got_hello)
		return refuse(code, NET_CLOSE_PROTOCOL, -EPROTO, why, whylen, "a second hello");
	if (hello->nonce.len != NET_NONCE_LEN)
		return refuse(code, NET_CLOSE_PROTOCOL, -EBADMSG, why, whylen,
			      "hello with a %zu-byte nonce (want %d)", hello->nonce.len,
			      NET_NONCE_LEN);
	if (!memcmp(hello->nonce.data, hs->mine, NET_NONCE_LEN))
		return refuse(code, NET_CLOSE_PROTOCOL, -EPROTO, why, whylen,
			      "hello carries our own nonce back (a reflection)");
	if (strlen(hello->cluster) > NET_CLUSTER_MAX || strcmp(hello->cluster, keys->cluster)) {
		printable(name, sizeof(name), hello->cluster, 40);
		return refuse(code, NET_CLOSE_CLUSTER, -EACCES, why, whylen,
			      "wrong cluster name '%s' (this node is in '%s')", name,
			      keys->cluster);
	}
	if (hs->role == NET_ROLE_DIALER) {
		if (hello->node_id != hs->peer)
			return refuse(code, NET_CLOSE_IDENTITY, -EACCES, why, whylen,
				      "dialed node %u but node %u answered (check the addresses "
				      "in the config)",
				      hs->peer, hello->node_id);
	} else {
		if (hello->to_id != hs->self)
			return refuse(code, NET_CLOSE_IDENTITY, -EACCES, why, whylen,
				      "peer meant to dial node %u, this is node %u (check the "
				      "addresses in the config)",
				      hello->to_id, hs->self);
		if (hello->node_id != 0 && hello->node_id == hs->self)
			return refuse(code, NET_CLOSE_IDENTITY, -EACCES, why, whylen,
				      "peer claims this node's own id %u", hs->self);
		hs->peer = hello->node_id;
	}
	memcpy(hs->theirs, hello->nonce.data, NET_NONCE_LEN);
	hs->got_hello = true;
	return 0;
}

bool net_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void net_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

void net_hs_bind(struct net_hs *hs, const uint8_t channel[NET_CHANNEL_LEN])
{
	memcpy(hs->channel, channel, NET_CHANNEL_LEN);
	hs->bound = true;
}

void net_hs_proof(const struct net_hs_keys *keys, enum net_role sender_role, uint32_t sender,
		  uint32_t receiver, const uint8_t sender_nonce[NET_NONCE_LEN],
		  const uint8_t receiver_nonce[NET_NONCE_LEN],
		  const uint8_t channel[NET_CHANNEL_LEN], uint8_t out[NET_PROOF_LEN])
{
	uint8_t msg[sizeof(client_auth_label) - 1 + 6 + NET_CLUSTER_MAX + 8 + 2 * NET_NONCE_LEN +
		    NET_CHANNEL_LEN];
	const char *label = keys->client ? client_auth_label : auth_label;
	size_t clen = strlen(keys->cluster), llen = strlen(label), n = 0;
	unsigned outlen = NET_PROOF_LEN;

	if (clen > NET_CLUSTER_MAX)
		clen = NET_CLUSTER_MAX;
	/* The transcript is a few hundred bytes: build it, then one HMAC. */
	memcpy(msg + n, label, llen);
	n += llen;
	msg[n++] = (uint8_t)sender_role;
	util_put_be32(msg + n, NET_PROTOCOL_VERSION);
	n += 4;
	msg[n++] = (uint8_t)clen;
	memcpy(msg + n, keys->cluster, clen);
	n += clen;
	util_put_be32(msg + n, sender);
	util_put_be32(msg + n + 4, receiver);
	n += 8;
	memcpy(msg + n, sender_nonce, NET_NONCE_LEN);
	n += NET_NONCE_LEN;
	memcpy(msg + n, receiver_nonce, NET_NONCE_LEN);
	n += NET_NONCE_LEN;
	memcpy(msg + n, channel, NET_CHANNEL_LEN);
	n += NET_CHANNEL_LEN;
	if (!HMAC(EVP_sha256(), keys->secret, (int)keys->secret_len, msg, n, out, &outlen) ||
	    outlen != NET_PROOF_LEN)
		/* Only when libcrypto itself is broken: a proof nobody can
		 * match, never a predictable one. */
		RAND_bytes(out, NET_PROOF_LEN);
}

void net_hs_auth(struct net_hs *hs, const struct net_hs_keys *keys, uint8_t proof[NET_PROOF_LEN])
{
	assert(hs->bound);
	net_hs_proof(keys, hs->role, hs->self, hs->peer, hs->mine, hs->theirs, hs->channel, proof);
	hs->sent_auth = true;
}

int net_hs_on_auth(struct net_hs *hs, const struct net_hs_keys *keys, const Paxfs__NetAuth *auth,
		   enum net_close_code *code, char *why, size_t whylen)
{
	uint8_t want[NET_PROOF_LEN];
	enum net_role peer_role = hs->role == NET_ROLE_DIALER ? NET_ROLE_ACCEPTOR : NET_ROLE_DIALER;
	bool ok;

	if (!hs->got_hello || !hs->sent_auth || hs->verified)
		return refuse(code, NET_CLOSE_PROTOCOL, -EPROTO, why, whylen,
			      "auth out of order (%s)",
			      !hs->got_hello ? "before hello"
			      : hs->verified ? "a second auth"
					     : "before ours");
	if (auth->proof.len != NET_PROOF_LEN)
		return refuse(code, NET_CLOSE_AUTH, -EACCES, why, whylen,
			      "authentication failed: a %zu-byte proof (want %d)", auth->proof.len,
			      NET_PROOF_LEN);
	net_hs_proof(keys, peer_role, hs->peer, hs->self, hs->theirs, hs->mine, hs->channel, want);
	ok = net_ct_equal(want, auth->proof.data, NET_PROOF_LEN);
	net_wipe(want, sizeof(want));
	if (!ok)
		return refuse(code, NET_CLOSE_AUTH, -EACCES, why, whylen,
			      "authentication failed: the peer does not prove the %s",
			      keys->client ? "client secret" : "cluster secret");
	hs->verified = true;
	return 0;
}
