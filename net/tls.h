/* net/tls.h — TLS 1.3 under every link, keyed by the cluster secret.
 *
 * Every connection (node to node, client to node) is TLS 1.3 with an
 * external pre-shared key and no certificates:
 *
 *   psk      = HKDF-SHA256(ikm = cluster secret, salt = "paxfs-tls-psk-v1",
 *                          info = cluster name)               (32 bytes)
 *   identity = "paxfs/2 " | cluster name        (sent in the clear)
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
 * The TLS credential is the cluster's, not a node's: which node is on the
 * other end is proven inside the channel by the handshake of
 * net/handshake.h, whose proof covers net_tls_established's `channel`
 * (an RFC 8446 exporter value), so it cannot be lifted into another
 * connection. docs/security.md says why that is sound and what it is not.
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
#define NET_TLS_WHY_LEN     160

struct net_tls;

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

/* Creates the TLS context of a mesh: TLS 1.3 only, the one suite, the PSK
 * callbacks, no session tickets. `secret` (the node credential) and
 * `client_secret` may each be NULL, not both: a server accepts the ones it
 * has; a dialing side offers `secret` if set, else `client_secret`.
 * Returns 0 and sets *out, or a negative errno with err saying why. */
int net_tls_new(const char *cluster, const uint8_t *secret, size_t secret_len,
		const uint8_t *client_secret, size_t client_secret_len, struct net_tls **out,
		char *err, size_t errlen);

/* Wipes the PSK and frees. NULL is a no-op. */
void net_tls_free(struct net_tls *t);

/* A new SSL for one connection, as the server (accepting side) or the
 * client (dialing side). `why` (NET_TLS_WHY_LEN bytes, borrowed for the
 * SSL's life) receives the reason when this side refuses the peer's PSK
 * identity during the handshake. Returns NULL when out of memory. */
SSL *net_tls_conn(struct net_tls *t, bool server, char *why);

/* After the handshake completed: checks that it was authenticated by one
 * of our PSKs, sets *client to whether it was the client credential, and
 * fills `channel` with the exporter value both ends share (label
 * "EXPORTER-paxfs-channel-v2"). Returns 0, or -EACCES (no PSK) / -EIO with
 * `why` set. */
int net_tls_established(SSL *ssl, uint8_t channel[NET_TLS_CHANNEL_LEN], bool *client, char *why,
			size_t whylen);

/* Explains a failed handshake from `err` (the first OpenSSL error code the
 * connection saw; 0 when there was none: the socket failed or closed, with
 * `sys_errno` if known). `own_why` is what net_tls_conn's `why` holds.
 * Writes a line for the log to `why` and returns the kind. */
enum net_tls_fail net_tls_explain(unsigned long err, int sys_errno, bool server,
				  const char *own_why, char *why, size_t whylen);

#endif
