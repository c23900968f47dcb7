/* net/tls.c — the TLS context of a mesh: PSK derivation, the TLS 1.3
 * external-PSK callbacks, the channel binding, and words for failures.
 *
 * Every handshake gets an SSL_SESSION of its own carrying the PSK (its
 * "master key"): OpenSSL drops a session older than its timeout (300 s), so
 * one made at the first handshake and shared refused every connection made
 * five minutes later. The PSK never leaves this file except into OpenSSL,
 * and is wiped when the mesh goes. */
#include "net/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static const char psk_salt[] = "paxfs-tls-psk-v1";
static const char client_psk_salt[] = "paxfs-tls-client-psk-v1";
static const char key_id_salt[] = "paxfs-key-id-v1";
static const char id_prefix[] = "paxfs/2 ";
static const char client_id_prefix[] = "paxfs/2-client ";
static const char exporter_label[] = "EXPORTER-paxfs-channel-v2";
/* TLS_AES_128_GCM_SHA256: AES-NI makes it the fastest suite here, and its
 * 128-bit key is as strong as anything else on the path. */
static const unsigned char suite_id[2] = {0x13, 0x01};

/* One credential: its PSK and the identity that names it. */
struct net_cred {
	bool have;
	uint8_t key[NET_TLS_PSK_LEN];
	char *identity; /* id_prefix | cluster | " " | key id, or client_id_prefix | cluster */
	size_t identity_len;
	char id[NET_TLS_KEY_ID_LEN + 1]; /* the key id of a node credential */
};

struct net_tls {
	SSL_CTX *ctx;
	char *cluster;
	struct net_cred node, next, client;
	bool cert_mode;    /* net_tls_new_cert: certificates, no PSK */
	uint32_t own_node; /* the node our certificate names; 0 = the client role */
};

static int why_index = -1;  /* SSL ex_data slot: the `why` buffer of a connection */
static int cred_index = -1; /* SSL ex_data slot: the enum net_tls_cred in use, as a pointer */
/* SSL ex_data slot, certificate mode only: the struct net_tls (PSK mode
 * leaves it NULL, and its SSLs may outlive their net_tls: harness.c) */
static int cert_index = -1;
static int peer_index = -1; /* SSL ex_data slot: 1 + the node the peer's certificate names */
static const char uri_scheme[] = "paxfs://";

static int derive(const char *salt, size_t salt_len, const char *cluster, const uint8_t *secret,
		  size_t secret_len, uint8_t psk[NET_TLS_PSK_LEN])
{
	EVP_PKEY_CTX *k = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t len = NET_TLS_PSK_LEN;
	int ok = k && EVP_PKEY_derive_init(k) > 0 &&
		 EVP_PKEY_CTX_set_hkdf_md(k, EVP_sha256()) > 0 &&
		 EVP_PKEY_CTX_set1_hkdf_salt(k, (const unsigned char *)salt, (int)salt_len) > 0 &&
		 EVP_PKEY_CTX_set1_hkdf_key(k, secret, (int)secret_len) > 0 &&
		 EVP_PKEY_CTX_add1_hkdf_info(k, (const unsigned char *)cluster,
					     (int)strlen(cluster)) > 0 &&
		 EVP_PKEY_derive(k, psk, &len) > 0 && len == NET_TLS_PSK_LEN;
	EVP_PKEY_CTX_free(k);
	return ok ? 0 : -EIO;
}

int net_tls_psk(const char *cluster, const uint8_t *secret, size_t secret_len,
		uint8_t psk[NET_TLS_PSK_LEN])
{
	return derive(psk_salt, sizeof(psk_salt) - 1, cluster, secret, secret_len, psk);
}

int net_tls_client_psk(const char *cluster, const uint8_t *client_secret, size_t len,
		       uint8_t psk[NET_TLS_PSK_LEN])
{
	/* Another salt: the same bytes in both secret files still give two
	 * unrelated keys. */
	return derive(client_psk_salt, sizeof(client_psk_salt) - 1, cluster, client_secret, len,
		      psk);
}

int net_tls_key_id(const char *cluster, const uint8_t *secret, size_t secret_len,
		   char id[NET_TLS_KEY_ID_LEN + 1])
{
	uint8_t h[NET_TLS_PSK_LEN];
	int rc = derive(key_id_salt, sizeof(key_id_salt) - 1, cluster, secret, secret_len, h);

	id[0] = '\0';
	if (rc == 0)
		for (int i = 0; i < NET_TLS_KEY_ID_LEN / 2; i++)
			snprintf(id + 2 * i, 3, "%02x", h[i]);
	OPENSSL_cleanse(h, sizeof(h));
	return rc;
}

/* A new session that carries the PSK, for one handshake (the caller hands
 * its reference to OpenSSL). NULL when OpenSSL fails. */
static SSL_SESSION *psk_session(const struct net_cred *cr, SSL *ssl)
{
	const SSL_CIPHER *c;
	SSL_SESSION *s;

	c = SSL_CIPHER_find(ssl, suite_id);
	s = SSL_SESSION_new();
	if (!c || !s || !SSL_SESSION_set1_master_key(s, cr->key, sizeof(cr->key)) ||
	    !SSL_SESSION_set_cipher(s, c) || !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
		SSL_SESSION_free(s);
		return NULL;
	}
	return s;
}

static struct net_tls *tls_of(SSL *ssl)
{
	return SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
}

/* The credential a dialing side offers: the node's if it has one. */
static const struct net_cred *offered(const struct net_tls *t)
{
	return t->node.have ? &t->node : &t->client;
}

/* Client: offer our PSK. `md` is non-NULL after a HelloRetryRequest: then
 * the PSK must fit the suite chosen, which ours always does, the server
 * having only that one. */
static int use_session_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
			  SSL_SESSION **sess)
{
	const struct net_cred *cr = offered(tls_of(ssl));
	SSL_SESSION *s = psk_session(cr, ssl);

	if (!s)
		return 0;
	if (md && md != SSL_CIPHER_get_handshake_digest(SSL_SESSION_get0_cipher(s))) {
		SSL_SESSION_free(s);
		*sess = NULL;
		return 1;
	}
	*sess = s;
	*id = (const unsigned char *)cr->identity;
	*idlen = cr->identity_len;
	return 1;
}

/* Writes at most `max` bytes of `s` (length `len`) with anything
 * unprintable escaped: the identity comes from an unauthenticated peer. */
static void printable(char *out, size_t outlen, const unsigned char *s, size_t len, size_t max)
{
	size_t o = 0;
	for (size_t i = 0; i < len && i < max && o + 5 < outlen; i++) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	out[o] = '\0';
}

static bool is_identity(const struct net_cred *cr, const unsigned char *id, size_t idlen)
{
	return cr->have && idlen == cr->identity_len && !memcmp(id, cr->identity, idlen);
}

static bool has_prefix(const unsigned char *id, size_t idlen, const char *prefix, size_t plen)
{
	return idlen >= plen && !memcmp(id, prefix, plen);
}

/* The credential of ours whose identity `id` is, or NULL. */
static const struct net_cred *cred_named(const struct net_tls *t, const unsigned char *id,
					 size_t idlen, enum net_tls_cred *which)
{
	const struct net_cred *creds[] = {[NET_TLS_CRED_NODE] = &t->node,
					  [NET_TLS_CRED_NEXT] = &t->next,
					  [NET_TLS_CRED_CLIENT] = &t->client};
	for (size_t i = 0; i < sizeof(creds) / sizeof(creds[0]); i++)
		if (is_identity(creds[i], id, idlen)) {
			*which = (enum net_tls_cred)i;
			return creds[i];
		}
	return NULL;
}

/* Says in `why` (if not NULL) why a node identity ("paxfs/2 " | rest) is
 * not one of ours, and returns whether it names our cluster (then with a
 * key id we do not have, or none). The key ids are no secret: they are on
 * the wire. */
static bool why_node_identity(const struct net_tls *t, const unsigned char *rest, size_t len,
			      char *why)
{
	const unsigned char *sp = NULL;
	size_t clen = strlen(t->cluster), namelen;
	char name[80], peer_id[80];

	for (size_t i = 0; i < len; i++)
		if (rest[i] == ' ')
			sp = rest + i; /* the last one: a key id has no blank */
	namelen = sp ? (size_t)(sp - rest) : len;

	if (!why)
		return namelen == clen && !memcmp(rest, t->cluster, clen);
	if (namelen != clen || memcmp(rest, t->cluster, clen)) {
		printable(name, sizeof(name), rest, namelen, 40);
		snprintf(why, NET_TLS_WHY_LEN, "wrong cluster name '%s' (this node is in '%s')",
			 name, t->cluster);
		return false;
	} else if (!sp) {
		snprintf(why, NET_TLS_WHY_LEN,
			 "the peer names no key id (a paxfs older than key rotation?)");
	} else {
		printable(peer_id, sizeof(peer_id), sp + 1, len - namelen - 1, 20);
		snprintf(why, NET_TLS_WHY_LEN,
			 "the peer dials with secret key id %s; this node accepts %s "
			 "(secret_file)%s%s%s",
			 peer_id, t->node.id, t->next.have ? " and " : "", t->next.id,
			 t->next.have ? " (next_secret_file)" : "");
	}
	return namelen == clen && !memcmp(rest, t->cluster, clen);
}

/* Server: the client's identity must be one of ours. An unknown one is
 * not an error here: the handshake goes on without a PSK and fails for
 * want of a certificate (the client hears "handshake failure"); `why`
 * keeps the reason for our own log. Whether the client holds the key is
 * checked by OpenSSL (the binder) after this returns. OpenSSL stops at the
 * first identity that yields a session, so the credential marked here is
 * the one whose binder it then checks, and the one the inner handshake
 * (net/handshake.h) then proves again. */
static int find_session_cb(SSL *ssl, const unsigned char *id, size_t idlen, SSL_SESSION **sess)
{
	struct net_tls *t = tls_of(ssl);
	char *why = SSL_get_ex_data(ssl, why_index);
	const char *cluster = t->cluster;
	size_t plen = sizeof(id_prefix) - 1, cplen = sizeof(client_id_prefix) - 1;
	const struct net_cred *cr;
	enum net_tls_cred which;
	char name[80];

	*sess = NULL;
	cr = cred_named(t, id, idlen, &which);
	if (cr) {
		SSL_SESSION *s = psk_session(cr, ssl);
		if (!s)
			return 0;
		SSL_set_ex_data(ssl, cred_index, (void *)(uintptr_t)which);
		*sess = s;
		return 1;
	}
	if (has_prefix(id, idlen, id_prefix, plen) &&
	    why_node_identity(t, id + plen, idlen - plen, why)) {
		/* Our cluster, a node key we do not hold: go on with our node
		 * key, so that the binder fails as it did before key ids, and
		 * both sides call it what it is, an authentication failure
		 * (`why` adds the key ids). A paxfs that sends no key id
		 * derives the same PSK, and gets in if it holds the secret. */
		SSL_SESSION *s = psk_session(&t->node, ssl);
		if (!t->node.have || !s) {
			SSL_SESSION_free(s);
			return t->node.have ? 0 : 1;
		}
		SSL_set_ex_data(ssl, cred_index, (void *)(uintptr_t)NET_TLS_CRED_NODE);
		*sess = s;
		return 1;
	}
	if (!why)
		return 1;
	if (has_prefix(id, idlen, client_id_prefix, cplen) && !t->client.have &&
	    idlen - cplen == strlen(cluster) && !memcmp(id + cplen, cluster, idlen - cplen)) {
		snprintf(why, NET_TLS_WHY_LEN,
			 "a client offers the client credential, which this node does not "
			 "accept (its config has no client_secret_file)");
	} else if (has_prefix(id, idlen, client_id_prefix, cplen)) {
		printable(name, sizeof(name), id + cplen, idlen - cplen, 40);
		snprintf(why, NET_TLS_WHY_LEN,
			 "wrong cluster name '%s' (client credential; this node is in '%s')", name,
			 cluster);
	} else if (has_prefix(id, idlen, id_prefix, plen)) {
		/* another cluster's: `why` says so */
	} else {
		printable(name, sizeof(name), id, idlen, 40);
		snprintf(why, NET_TLS_WHY_LEN,
			 "unknown TLS PSK identity '%s' (not a paxfs peer, or another version)",
			 name);
	}
	return 1;
}

/* Fills `cr` from `secret`: its identity and PSK. 0, -ENOMEM or -EIO. */
static int cred_init(struct net_cred *cr, bool client, const char *cluster, const uint8_t *secret,
		     size_t secret_len)
{
	const char *prefix = client ? client_id_prefix : id_prefix;

	if (!client && net_tls_key_id(cluster, secret, secret_len, cr->id) < 0)
		return -EIO;
	/* prefix | cluster, and for a node key " " | key id */
	cr->identity_len = strlen(prefix) + strlen(cluster) + (client ? 0 : 1 + strlen(cr->id));
	cr->identity = malloc(cr->identity_len + 1);
	if (!cr->identity)
		return -ENOMEM;
	snprintf(cr->identity, cr->identity_len + 1, "%s%s%s%s", prefix, cluster, client ? "" : " ",
		 client ? "" : cr->id);
	if ((client ? net_tls_client_psk : net_tls_psk)(cluster, secret, secret_len, cr->key) < 0)
		return -EIO;
	cr->have = true;
	return 0;
}

/* Wipes `cr`'s key and frees its identity: an empty credential again. */
static void cred_wipe(struct net_cred *cr)
{
	OPENSSL_cleanse(cr->key, sizeof(cr->key));
	free(cr->identity);
	memset(cr, 0, sizeof(*cr));
}

/* Allocates the SSL ex_data slots once. False when OpenSSL cannot. */
static bool ex_indexes(void)
{
	int *slots[] = {&why_index, &cred_index, &cert_index, &peer_index};
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		if (*slots[i] < 0)
			*slots[i] = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	return why_index >= 0 && cred_index >= 0 && cert_index >= 0 && peer_index >= 0;
}

/* The TLS 1.3 settings both modes share. False when OpenSSL refuses them. */
static bool ctx_common(SSL_CTX *ctx)
{
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") ||
	    !SSL_CTX_set_num_tickets(ctx, 0))
		return false;
	/* No resumption (a ticket would be a second credential to guard), no
	 * renegotiation in TLS 1.3, no compression. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* No read-ahead: libevent 2.1 only drains SSL_pending() after a read,
	 * not records OpenSSL has read ahead but not yet decrypted, so those
	 * would sit until more bytes arrive (a handshake stalled in the tests).
	 * It costs a second recv per record on the receiving side. */
	return true;
}

int net_tls_new(const char *cluster, const uint8_t *secret, size_t secret_len,
		const uint8_t *client_secret, size_t client_secret_len, struct net_tls **out,
		char *err, size_t errlen)
{
	struct net_tls *t = calloc(1, sizeof(*t));
	int rc = 0;

	*out = NULL;
	if (!t || !ex_indexes() || !(t->cluster = strdup(cluster)))
		goto nomem;
	if (!secret && !client_secret) {
		snprintf(err, errlen, "net: neither a node secret nor a client secret");
		net_tls_free(t);
		return -EINVAL;
	}
	if (secret)
		rc = cred_init(&t->node, false, cluster, secret, secret_len);
	if (rc == 0 && client_secret)
		rc = cred_init(&t->client, true, cluster, client_secret, client_secret_len);
	if (rc == -ENOMEM)
		goto nomem;
	if (rc < 0) {
		snprintf(err, errlen, "net: cannot derive the TLS key (OpenSSL HKDF failed)");
		net_tls_free(t);
		return -EIO;
	}
	t->ctx = SSL_CTX_new(TLS_method());
	if (!t->ctx)
		goto nomem;
	SSL_CTX_set_app_data(t->ctx, t);
	if (!ctx_common(t->ctx)) {
		snprintf(err, errlen, "net: OpenSSL refuses the TLS 1.3 settings");
		net_tls_free(t);
		return -EIO;
	}
	SSL_CTX_set_psk_use_session_callback(t->ctx, use_session_cb);
	SSL_CTX_set_psk_find_session_callback(t->ctx, find_session_cb);
	*out = t;
	return 0;
nomem:
	net_tls_free(t);
	snprintf(err, errlen, "net: out of memory");
	return -ENOMEM;
}

/* ---- certificate mode ------------------------------------------------------ */

/* The role certificate `x` names in `cluster`: returns 0 with *node (0 =
 * the client role), or -EACCES with `why` saying what is wrong. Exactly
 * one URI SAN "paxfs://CLUSTER/node/N" (N = 1..255, no leading zero) or
 * "paxfs://CLUSTER/client"; URIs of other clusters or schemes are ignored. */
static int cert_role(X509 *x, const char *cluster, uint32_t *node, char *why, size_t whylen)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t slen = sizeof(uri_scheme) - 1, clen = strlen(cluster);
	int found = 0, rc = 0;
	char shown[80];

	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const unsigned char *u, *rest;
		size_t len, rlen;
		uint32_t id = 0;

		if (g->type != GEN_URI)
			continue;
		u = ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
		len = (size_t)ASN1_STRING_length(g->d.uniformResourceIdentifier);
		if (len < slen + clen + 1 || memcmp(u, uri_scheme, slen) ||
		    memcmp(u + slen, cluster, clen) || u[slen + clen] != '/')
			continue;
		rest = u + slen + clen + 1;
		rlen = len - slen - clen - 1;
		if (rlen == 6 && !memcmp(rest, "client", 6)) {
			id = 0;
		} else if (rlen > 5 && rlen <= 8 && !memcmp(rest, "node/", 5) && rest[5] != '0') {
			for (size_t j = 5; j < rlen; j++)
				id = rest[j] >= '0' && rest[j] <= '9' ? id * 10 + (rest[j] - '0')
								      : 1000;
			if (id < 1 || id > 255)
				id = UINT32_MAX;
		} else {
			id = UINT32_MAX;
		}
		if (id == UINT32_MAX) {
			printable(shown, sizeof(shown), u, len, 60);
			snprintf(why, whylen,
				 "the certificate's URI '%s' is no role (want paxfs://%s/node/N, "
				 "N = 1..255, or paxfs://%s/client)",
				 shown, cluster, cluster);
			rc = -EACCES;
			break;
		}
		if (found++ && id != *node) {
			snprintf(
			    why, whylen,
			    "the certificate names two roles in cluster '%s' (node %u and %s%u)",
			    cluster, *node, id ? "node " : "client ", id);
			rc = -EACCES;
			break;
		}
		*node = id;
	}
	GENERAL_NAMES_free(names);
	if (rc == 0 && !found) {
		snprintf(why, whylen,
			 "the certificate names no role in cluster '%s' (it needs a URI SAN "
			 "paxfs://%s/node/N or paxfs://%s/client)",
			 cluster, cluster, cluster);
		rc = -EACCES;
	}
	return rc;
}

/* Notes why a certificate chain failed OpenSSL's verification, in the
 * connection's `why` (the first reason only: the one that matters). */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	char *why = ssl ? SSL_get_ex_data(ssl, why_index) : NULL;
	X509 *c = X509_STORE_CTX_get_current_cert(x);
	char subject[160] = "?";

	if (ok || !why || why[0])
		return ok;
	/* X509_NAME_oneline escapes what is not printable */
	if (c)
		X509_NAME_oneline(X509_get_subject_name(c), subject, sizeof(subject));
	snprintf(why, NET_TLS_WHY_LEN,
		 "authentication failed: the peer's certificate does not verify against "
		 "tls_ca: %s (certificate %s)",
		 X509_verify_cert_error_string(X509_STORE_CTX_get_error(x)), subject);
	return ok;
}

/* The reason of the first OpenSSL error queued (drained), for messages. */
static const char *ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	snprintf(buf, len, "%s", r ? r : e ? "OpenSSL error" : "unknown error");
	return buf;
}

/* No passphrase: an encrypted key is refused, never prompted for. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

/* Checks that our own chain verifies against the CA bundle now: a node
 * whose certificate has expired or comes from another CA would only be
 * refused by every peer; better said once, at start. 0 or -EINVAL. */
static int own_chain_ok(SSL_CTX *ctx, const char *cert, char *err, size_t errlen)
{
	X509_STORE_CTX *v = X509_STORE_CTX_new();
	STACK_OF(X509) *chain = NULL;
	int rc = -EINVAL;

	SSL_CTX_get0_chain_certs(ctx, &chain);
	if (!v || !X509_STORE_CTX_init(v, SSL_CTX_get_cert_store(ctx),
				       SSL_CTX_get0_certificate(ctx), chain)) {
		snprintf(err, errlen, "net: out of memory");
		rc = -ENOMEM;
	} else if (X509_verify_cert(v) != 1) {
		snprintf(err, errlen, "net: tls_cert %s does not verify against tls_ca: %s", cert,
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(v)));
	} else {
		rc = 0;
	}
	X509_STORE_CTX_free(v);
	return rc;
}

int net_tls_new_cert(const char *cluster, const char *ca, const char *cert, const uint8_t *key,
		     size_t key_len, struct net_tls **out, char *err, size_t errlen)
{
	struct net_tls *t = calloc(1, sizeof(*t));
	EVP_PKEY *pk = NULL;
	BIO *b = NULL;
	char r[160], why[NET_TLS_WHY_LEN];
	int rc = -EINVAL;

	*out = NULL;
	ERR_clear_error();
	if (!t || !ex_indexes() || !(t->cluster = strdup(cluster)) ||
	    !(t->ctx = SSL_CTX_new(TLS_method()))) {
		rc = -ENOMEM;
		snprintf(err, errlen, "net: out of memory");
		goto fail;
	}
	t->cert_mode = true;
	SSL_CTX_set_app_data(t->ctx, t);
	if (!ctx_common(t->ctx)) {
		snprintf(err, errlen, "net: OpenSSL refuses the TLS 1.3 settings");
		goto fail;
	}
	/* The CA bundle alone: SSL_CTX_set_default_verify_paths is never
	 * called, so the system store plays no part. */
	if (SSL_CTX_load_verify_locations(t->ctx, ca, NULL) != 1) {
		snprintf(err, errlen, "net: tls_ca %s: cannot load a PEM CA bundle from it (%s)",
			 ca, ssl_reason(r, sizeof(r)));
		goto fail;
	}
	/* The chain is what tls_cert holds (the certificate, then any
	 * intermediates), never completed from the CA bundle: a peer of
	 * another CA then hears "unable to get local issuer certificate". */
	SSL_CTX_set_mode(t->ctx, SSL_MODE_NO_AUTO_CHAIN);
	if (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1) {
		snprintf(err, errlen,
			 "net: tls_cert %s: cannot load a PEM certificate from it (%s)", cert,
			 ssl_reason(r, sizeof(r)));
		goto fail;
	}
	b = BIO_new_mem_buf(key, (int)key_len);
	pk = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
	if (!pk) {
		/* the reason only: never a byte of the key */
		snprintf(err, errlen,
			 "net: tls_key: not an unencrypted PEM private key (%s) for tls_cert %s",
			 ssl_reason(r, sizeof(r)), cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey(t->ctx, pk) != 1 || SSL_CTX_check_private_key(t->ctx) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "net: tls_key does not match the certificate of tls_cert %s",
			 cert);
		goto fail;
	}
	rc = own_chain_ok(t->ctx, cert, err, errlen);
	if (rc < 0)
		goto fail;
	rc = -EINVAL;
	if (cert_role(SSL_CTX_get0_certificate(t->ctx), cluster, &t->own_node, why, sizeof(why)) <
	    0) {
		snprintf(err, errlen, "net: tls_cert %s: %s", cert, why + strlen("the "));
		goto fail;
	}
	/* Both sides demand a certificate; verify_cb only says why one fails
	 * (OpenSSL's verdict stands). */
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	EVP_PKEY_free(pk);
	BIO_free(b);
	*out = t;
	return 0;
fail:
	EVP_PKEY_free(pk);
	BIO_free(b);
	net_tls_free(t);
	ERR_clear_error();
	return rc;
}

bool net_tls_cert_mode(const struct net_tls *t)
{
	return t->cert_mode;
}

uint32_t net_tls_own_node(const struct net_tls *t)
{
	return t->own_node;
}

uint32_t net_tls_peer_node(SSL *ssl)
{
	uintptr_t v = peer_index >= 0 ? (uintptr_t)SSL_get_ex_data(ssl, peer_index) : 0;
	return v ? (uint32_t)(v - 1) : 0;
}

int net_tls_accept_next(struct net_tls *t, const uint8_t *next, size_t next_len, char *err,
			size_t errlen)
{
	int rc;

	if (!t->node.have || t->next.have) {
		snprintf(err, errlen, "net: a next secret needs a node secret, and only one");
		return -EINVAL;
	}
	rc = cred_init(&t->next, false, t->cluster, next, next_len);
	if (rc == 0 && !strcmp(t->next.id, t->node.id))
		rc = -EINVAL;
	if (rc < 0) {
		snprintf(err, errlen,
			 rc == -EINVAL   ? "net: the next secret is the secret itself (key id %s)"
			 : rc == -ENOMEM ? "net: out of memory"
					 : "net: cannot derive the TLS key (OpenSSL HKDF failed)",
			 t->node.id);
		cred_wipe(&t->next);
	}
	return rc;
}

const char *net_tls_cred_id(const struct net_tls *t, enum net_tls_cred which)
{
	const struct net_cred *cr = which == NET_TLS_CRED_NODE   ? &t->node
				    : which == NET_TLS_CRED_NEXT ? &t->next
								 : NULL;
	return cr && cr->have ? cr->id : NULL;
}

void net_tls_free(struct net_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	cred_wipe(&t->node);
	cred_wipe(&t->next);
	cred_wipe(&t->client);
	free(t->cluster);
	free(t);
}

SSL *net_tls_conn(struct net_tls *t, bool server, char *why)
{
	SSL *ssl = SSL_new(t->ctx);
	if (!ssl)
		return NULL;
	why[0] = '\0';
	SSL_set_ex_data(ssl, why_index, why);
	if (t->cert_mode) {
		/* the context verifies certificates both ways (net_tls_new_cert);
		 * the inner handshake is keyed by the dialing side's role */
		SSL_set_ex_data(ssl, cert_index, t);
		if (!server)
			SSL_set_ex_data(ssl, cred_index,
					(void *)(uintptr_t)(t->own_node ? NET_TLS_CRED_NODE
									: NET_TLS_CRED_CLIENT));
		if (server)
			SSL_set_accept_state(ssl);
		else
			SSL_set_connect_state(ssl);
		return ssl;
	}
	/* a dialing side knows now which credential it will offer; a server
	 * learns it in find_session_cb */
	SSL_set_ex_data(ssl, cred_index,
			(void *)(uintptr_t)(!server && offered(t) == &t->client
						? NET_TLS_CRED_CLIENT
						: NET_TLS_CRED_NODE));
	if (server) {
		SSL_set_accept_state(ssl);
	} else {
		/* No trust anchors and verification on: a certificate, the only
		 * other way a TLS 1.3 server can authenticate, always fails. */
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
		SSL_set_connect_state(ssl);
	}
	return ssl;
}

int net_tls_established(SSL *ssl, uint8_t channel[NET_TLS_CHANNEL_LEN], enum net_tls_cred *cred,
			char *why, size_t whylen)
{
	struct net_tls *t = cert_index >= 0 ? SSL_get_ex_data(ssl, cert_index) : NULL;

	if (t) {
		/* Certificate mode: OpenSSL verified the chain (or the handshake
		 * would have failed); checked again, then the role. */
		X509 *peer = SSL_get0_peer_certificate(ssl);
		uint32_t node = 0;

		if (SSL_version(ssl) != TLS1_3_VERSION || !peer ||
		    SSL_get_verify_result(ssl) != X509_V_OK) {
			snprintf(why, whylen, "TLS handshake without a verified certificate");
			return -EACCES;
		}
		if (cert_role(peer, t->cluster, &node, why, whylen) < 0) {
			char role[NET_TLS_WHY_LEN];
			snprintf(role, sizeof(role), "%s", why);
			snprintf(why, whylen, "authentication failed: %s", role + strlen("the "));
			return -EACCES;
		}
		SSL_set_ex_data(ssl, peer_index, (void *)(uintptr_t)(node + 1));
		if (SSL_is_server(ssl))
			SSL_set_ex_data(
			    ssl, cred_index,
			    (void *)(uintptr_t)(node ? NET_TLS_CRED_NODE : NET_TLS_CRED_CLIENT));
	} else if (SSL_version(ssl) != TLS1_3_VERSION || !SSL_session_reused(ssl)) {
		/* For TLS 1.3, "reused" means a PSK authenticated the handshake:
		 * ours is the only one either side knows. */
		snprintf(why, whylen, "TLS handshake without the cluster's key");
		return -EACCES;
	}
	if (SSL_export_keying_material(ssl, channel, NET_TLS_CHANNEL_LEN, exporter_label,
				       sizeof(exporter_label) - 1, NULL, 0, 0) != 1) {
		snprintf(why, whylen, "TLS exporter failed");
		return -EIO;
	}
	*cred = (enum net_tls_cred)(uintptr_t)SSL_get_ex_data(ssl, cred_index);
	return 0;
}

enum net_tls_fail net_tls_explain(unsigned long err, int sys_errno, bool server,
				  const char *own_why, char *why, size_t whylen)
{
	int reason = ERR_GET_REASON(err);
	char what[128];

	if (own_why && own_why[0] && reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
		/* certificate mode: verify_cb said why the peer's chain failed */
		snprintf(why, whylen, "%s", own_why);
		return NET_TLS_FAIL_AUTH;
	}
	if (own_why && own_why[0] && reason != SSL_R_BINDER_DOES_NOT_VERIFY) {
		snprintf(why, whylen, "%s", own_why);
		return NET_TLS_FAIL_REFUSED;
	}
	if (!err || reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		if (sys_errno && !err)
			snprintf(why, whylen, "connection failed during the TLS handshake: %s",
				 strerror(sys_errno));
		else
			snprintf(why, whylen, "closed by the peer during the TLS handshake");
		return NET_TLS_FAIL_IO;
	}
	switch (reason) {
	case SSL_R_BINDER_DOES_NOT_VERIFY:
		/* The server side: the client's ClientHello binder was made
		 * with another key. */
		snprintf(why, whylen,
			 "authentication failed: the peer does not prove the cluster secret%s%s%s",
			 own_why && own_why[0] ? " (" : "", own_why ? own_why : "",
			 own_why && own_why[0] ? ")" : "");
		return NET_TLS_FAIL_AUTH;
	case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
	case SSL_R_SSLV3_ALERT_ILLEGAL_PARAMETER:
		/* The client side: the server could not verify our binder
		 * (OpenSSL 3.0 answers illegal_parameter, RFC 8446 says
		 * decrypt_error). */
		if (server)
			break;
		snprintf(why, whylen,
			 "authentication failed: the peer refuses this node's proof of the cluster "
			 "secret");
		return NET_TLS_FAIL_AUTH;
	case SSL_R_CERTIFICATE_VERIFY_FAILED:
		snprintf(why, whylen,
			 "authentication failed: the peer showed a certificate instead of proving "
			 "the cluster secret");
		return NET_TLS_FAIL_AUTH;
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
		/* certificate mode: the peer's verification refused ours */
		snprintf(why, whylen,
			 "authentication failed: the peer refuses this side's certificate (%s; its "
			 "log says why)",
			 ERR_reason_error_string(err) ? ERR_reason_error_string(err) : "alert");
		return NET_TLS_FAIL_AUTH;
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
		snprintf(why, whylen,
			 "authentication failed: the peer shows no certificate (is it set up with "
			 "the cluster secret instead of tls_cert?)");
		return NET_TLS_FAIL_AUTH;
	case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
		if (!server) {
			snprintf(why, whylen,
				 "refused by the peer in the TLS handshake (another cluster "
				 "name?)");
			return NET_TLS_FAIL_REFUSED;
		}
		break;
	default:
		break;
	}
	ERR_error_string_n(err, what, sizeof(what));
	snprintf(why, whylen, "TLS handshake failed: %s (not a paxfs %s?)",
		 ERR_reason_error_string(err) ? ERR_reason_error_string(err) : what,
		 server ? "peer" : "node");
	return NET_TLS_FAIL_PROTOCOL;
}
