/* net/tls.h — TLS 1.3 under every link, keyed by the cluster secret or
 * by certificates.
 *
 * Every connection (node to node, client to node) is TLS 1.3 with an
 * external pre-shared key and no certificates:
 *
 *   psk      = HKDF-SHA256(ikm = cluster secret, salt = "paxfs-tls-psk-v1",
 *                          info = cluster name)               (32 bytes)
 *   key id   = hex of the first 8 bytes of HKDF-SHA256(ikm = cluster secret,
 *                          salt = "paxfs-key-id-v1", info = cluster name)
 *   identity = "paxfs/2 " | cluster name | " " | key id   (sent in the clear)
 *   suite    = TLS_AES_128_GCM_SHA256, key exchange psk_dhe_ke (ECDHE
 *              mixed into the key schedule: forward secrecy)
 *
 * Both sides prove the PSK inside the TLS handshake (the client with the
 * binder of its ClientHello, the server with its Finished), so a peer that
 * does not hold the secret never completes it, and nothing it sends is ever
 * decrypted into a frame. A server that would rather show a certificate is
 * refused (no trust anchors: every certificate fails), and once the
 * handshake is done net_tls_established checks that the PSK was used.
 *
 * The read-only client credential (docs/security.md "Roles") is a second
 * PSK with its own identity and its own derivation, so the two can never
 * be taken for each other:
 *
 *   client psk = HKDF-SHA256(ikm = client secret,
 *                            salt = "paxfs-tls-client-psk-v1", info = cluster name)
 *   identity   = "paxfs/2-client " | cluster name
 *
 * A node's server side accepts either (the client one only when it has the
 * client secret) and net_tls_established says which one the peer proved; a
 * dialing side offers the node credential if it has one, else the client's.
 *
 * The key id names which node secret the PSK comes from, so that a server
 * holding two (secret_file and next_secret_file, during a rotation:
 * docs/security.md "Rotating the secret") picks the right PSK. It is a
 * one-way function of the secret, never its bytes, and tells an observer
 * nothing the binder beside it does not. A server accepts the node key,
 * the next node key when it has one, and the client key when it has one;
 * a dialing side only ever offers the node key (or, without it, the
 * client's): next_secret_file is accepted, never dialed with.
 *
 * An identity of our cluster with a key id we do not hold (or none, from
 * a paxfs before key ids) is tried with the node key: a wrong secret is an
 * authentication failure on both sides, as it always was, and the
 * server's log adds both key ids.
 *
 * The TLS credential is the cluster's, not a node's: which node is on the
 * other end is proven inside the channel by the handshake of
 * net/handshake.h, whose proof covers net_tls_established's `channel`
 * (an RFC 8446 exporter value), so it cannot be lifted into another
 * connection. docs/security.md says why that is sound and what it is not.
 *
 * Certificate mode (net_tls_new_cert) replaces all of the above on the
 * wire: both ends show an X.509 chain and verify the other's against the
 * CA bundle; a certificate names its role with a URI SAN
 * "paxfs://CLUSTER/node/N" or "paxfs://CLUSTER/client" (exactly one for
 * our cluster), so the node id is bound to a credential only that node
 * holds; the mesh checks the hello's id against it (net/mesh.c).
 *
 * Borrowed strings are copied; a struct net_tls belongs to one mesh (one
 * thread). */
#ifndef PAXFS_NET_TLS_H
#define PAXFS_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define NET_TLS_PSK_LEN     32
#define NET_TLS_CHANNEL_LEN 32
#define NET_TLS_WHY_LEN     256
#define NET_TLS_KEY_ID_LEN  16 /* hex digits, without the NUL */

struct net_tls;

/* Which of a mesh's credentials a connection's TLS was keyed by. */
enum net_tls_cred {
	NET_TLS_CRED_NODE = 0, /* secret_file: what nodes dial with */
	NET_TLS_CRED_NEXT,     /* next_secret_file: accepted from peers during a rotation */
	NET_TLS_CRED_CLIENT,   /* client_secret_file: the read-only client credential */
};

/* Why a TLS handshake failed, as far as this side can tell. */
enum net_tls_fail {
	NET_TLS_FAIL_AUTH = 1, /* the other side does not hold the secret it claims (or we don't) */
	NET_TLS_FAIL_REFUSED,  /* a PSK identity for another cluster, or none */
	NET_TLS_FAIL_PROTOCOL, /* not TLS 1.3 with our suite: not a paxfs peer, or an old one */
	NET_TLS_FAIL_IO,       /* the connection failed or closed mid-handshake */
};

/* Derives the cluster's PSK (see above) into `psk`. Returns 0 or -EIO
 * (OpenSSL failed). Exposed for tests. */
int net_tls_psk(const char *cluster, const uint8_t *secret, size_t secret_len,
		uint8_t psk[NET_TLS_PSK_LEN]);

/* The same for the client credential (its own salt, see above). */
int net_tls_client_psk(const char *cluster, const uint8_t *client_secret, size_t len,
		       uint8_t psk[NET_TLS_PSK_LEN]);

/* Writes the key id of the node secret `secret` (see above) to `id`, NUL
 * terminated. Returns 0 or -EIO (OpenSSL failed). */
int net_tls_key_id(const char *cluster, const uint8_t *secret, size_t secret_len,
		   char id[NET_TLS_KEY_ID_LEN + 1]);

/* Creates the TLS context of a mesh: TLS 1.3 only, the one suite, the PSK
 * callbacks, no session tickets. `secret` (the node credential) and
 * `client_secret` may each be NULL, not both: a server accepts the ones it
 * has; a dialing side offers `secret` if set, else `client_secret`.
 * Returns 0 and sets *out, or a negative errno with err saying why. */
int net_tls_new(const char *cluster, const uint8_t *secret, size_t secret_len,
		const uint8_t *client_secret, size_t client_secret_len, struct net_tls **out,
		char *err, size_t errlen);

/* Creates the TLS context of a mesh in certificate mode (net/net.h,
 * docs/security.md "Certificates"): TLS 1.3 only, the one suite, no PSK,
 * no tickets; this side shows the chain of PEM file `cert` with the
 * private key `key` (PEM bytes: parsed now, never kept or printed; an
 * encrypted key is refused), and requires and verifies the peer's
 * certificate against the PEM bundle `ca` alone (OpenSSL's verification,
 * expiry included; no system store). Our own certificate must verify
 * against `ca` too and name a role in `cluster` (net_tls_own_node).
 * Returns 0 and sets *out, or -EINVAL (a file that does not load, a key
 * that is not the certificate's, a certificate that does not verify or
 * names no role) or -ENOMEM, with err naming the file and the reason. */
int net_tls_new_cert(const char *cluster, const char *ca, const char *cert, const uint8_t *key,
		     size_t key_len, struct net_tls **out, char *err, size_t errlen);

/* True when `t` authenticates with certificates (net_tls_new_cert). */
bool net_tls_cert_mode(const struct net_tls *t);

/* The node our own certificate names, 0 for the client role (certificate
 * mode only; 0 in PSK mode). */
uint32_t net_tls_own_node(const struct net_tls *t);

/* After net_tls_established succeeded in certificate mode: the node the
 * peer's certificate names, 0 for the client role (and 0 in PSK mode). */
uint32_t net_tls_peer_node(SSL *ssl);

/* Makes the server side of `t` (which has a node secret) also accept the
 * node secret `next`, under its own key id. Returns 0, -EINVAL (no node
 * secret, or `next` gives the same key id) or -EIO, with err saying why. */
int net_tls_accept_next(struct net_tls *t, const uint8_t *next, size_t next_len, char *err,
			size_t errlen);

/* The key id of the node credential (NET_TLS_CRED_NODE) or the next one
 * (NET_TLS_CRED_NEXT), or NULL when `t` has none. */
const char *net_tls_cred_id(const struct net_tls *t, enum net_tls_cred which);

/* Wipes the PSK and frees. NULL is a no-op. */
void net_tls_free(struct net_tls *t);

/* A new SSL for one connection, as the server (accepting side) or the
 * client (dialing side). `why` (NET_TLS_WHY_LEN bytes, borrowed for the
 * SSL's life) receives the reason when this side refuses the peer's PSK
 * identity during the handshake. Returns NULL when out of memory. */
SSL *net_tls_conn(struct net_tls *t, bool server, char *why);

/* After the handshake completed: checks that it was authenticated by one
 * of our PSKs, sets *cred to the credential it was (on a dialing side:
 * the one offered; on a server: the one the peer's identity named), and
 * in certificate mode that the peer showed a certificate that verified
 * and names a role in our cluster (-EACCES and `why` otherwise), *cred
 * being the dialing side's role (NODE for a node certificate, CLIENT for
 * a client one, so that both ends key the inner handshake alike); then
 * fills `channel` with the exporter value both ends share (label
 * "EXPORTER-paxfs-channel-v2"). Returns 0, or -EACCES (no PSK) / -EIO with
 * `why` set. */
int net_tls_established(SSL *ssl, uint8_t channel[NET_TLS_CHANNEL_LEN], enum net_tls_cred *cred,
			char *why, size_t whylen);

/* Explains a failed handshake from `err` (the first OpenSSL error code the
 * connection saw; 0 when there was none: the socket failed or closed, with
 * `sys_errno` if known). `own_why` is what net_tls_conn's `why` holds.
 * Writes a line for the log to `why` and returns the kind. */
enum net_tls_fail net_tls_explain(unsigned long err, int sys_errno, bool server,
				  const char *own_why, char *why, size_t whylen);

#endif
