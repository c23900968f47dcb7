/* net/handshake.h — who is on the other end, and do they hold the secret.
 *
 * It runs inside TLS (net/tls.h), once the TLS handshake has completed:
 * everything below is encrypted and integrity-protected, and only a holder
 * of the cluster secret can have got this far. What it adds is the node
 * id: TLS proved "someone in the cluster", this proves "node N, on this
 * very connection". The exchange, symmetric and pipelined (both sides send
 * as soon as they can):
 *
 *   dialer D                                          acceptor A
 *   preamble, HELLO{cluster, id D, to A, nonce Nd} ─▶
 *                    ◀─ preamble, HELLO{cluster, id A, to 0, nonce Na}
 *   (D checks A's hello)                              (A checks D's hello)
 *   AUTH{proof_D} ─▶                               ◀─ AUTH{proof_A}
 *   D verifies proof_A: link up                       A verifies proof_D: link up
 *
 *   proof_X = HMAC-SHA256(secret, label | role of X | version |
 *                         len(cluster) | cluster | id X | id of the other |
 *                         nonce of X | nonce of the other | channel)
 *
 * `label` is "paxfs-net-auth-v2" with the node credential and
 * "paxfs-net-client-auth-v2" with the client credential (net/tls.h): a link
 * runs its handshake with the keys of the credential its TLS proved.
 *
 * `channel` is the TLS exporter value of this connection (both ends compute
 * the same, nobody else can): a proof is bound to the TLS session it was
 * made in and cannot be relayed into another. Each proof also covers the
 * verifier's fresh nonce, so a recorded handshake replayed later fails; it
 * names the sender's role and both ids, so a proof cannot be reflected back
 * or moved to another pair of nodes; the secret itself never crosses the
 * wire. A side sends its AUTH only after accepting the other's HELLO, and
 * nothing but HELLO, AUTH and CLOSE is accepted before the peer's proof
 * checks, so a peer that has not proven its id cannot get a single message
 * handed up.
 *
 * With one cluster secret, whoever holds it can prove any id: the binding
 * is as strong as the credential (docs/security.md). The client credential
 * proves id 0 only: the mesh refuses it for a node id (net_mesh_admit).
 *
 * Pure: no I/O except getrandom(2) in net_hs_start (HMAC from OpenSSL's
 * libcrypto). Invariant of struct net_hs: `verified` implies `bound`,
 * `got_hello` and `sent_auth`. */
#ifndef PAXFS_NET_HANDSHAKE_H
#define PAXFS_NET_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/net.pb-c.h"

#define NET_NONCE_LEN   32
#define NET_PROOF_LEN   32
#define NET_CLUSTER_MAX 255
#define NET_CHANNEL_LEN 32 /* = NET_TLS_CHANNEL_LEN */

enum net_role {
	NET_ROLE_DIALER = 1,
	NET_ROLE_ACCEPTOR,
};

/* NetClose.code: why a side closes a link. */
enum net_close_code {
	NET_CLOSE_PROTOCOL = 1, /* bad preamble, frame, body or message order */
	NET_CLOSE_CLUSTER,      /* wrong cluster name */
	NET_CLOSE_IDENTITY,     /* unknown node id, our own id, or not the node dialed */
	NET_CLOSE_AUTH,         /* the proof of the secret did not check */
	NET_CLOSE_DUPLICATE,    /* a link with that node exists, or the other dial wins */
	NET_CLOSE_BUSY,         /* too many connections in handshake, or clients */
	NET_CLOSE_TIMEOUT,      /* handshake or liveness deadline passed */
	NET_CLOSE_REJECTED,     /* the layer above refused a message */
	NET_CLOSE_SHUTDOWN,     /* the node is stopping */
	NET_CLOSE_CROSSED,      /* both sides dialed at once; the other link wins */
};

/* What both sides must share. Borrowed. */
struct net_hs_keys {
	const char *cluster; /* NUL-terminated, 1..NET_CLUSTER_MAX bytes */
	const uint8_t *secret;
	size_t secret_len;
	bool client; /* `secret` is the client credential's (the proof's label says so) */
};

/* One side of one handshake. */
struct net_hs {
	enum net_role role;
	uint32_t self; /* this side's id; 0 = client */
	uint32_t peer; /* the node dialed, or (acceptor) the id the peer claimed */
	uint8_t mine[NET_NONCE_LEN];
	uint8_t theirs[NET_NONCE_LEN];
	uint8_t channel[NET_CHANNEL_LEN]; /* the TLS exporter value of the connection */
	bool bound;                       /* channel is set */
	bool got_hello;
	bool sent_auth;
	bool verified;
};

/* Fills `nonce` from getrandom(2). Returns 0 or a negative errno (then the
 * connection must not proceed: there is no safe fallback). */
int net_nonce_fill(uint8_t nonce[NET_NONCE_LEN]);

/* Starts a handshake: `dialed` is the node a dialer means to reach (0 for an
 * acceptor). Draws this side's nonce. Returns 0 or a negative errno from
 * net_nonce_fill. */
int net_hs_start(struct net_hs *hs, enum net_role role, uint32_t self, uint32_t dialed);

/* Binds the handshake to the TLS connection it runs in: `channel` is
 * net_tls_established's exporter value. Must precede net_hs_auth. */
void net_hs_bind(struct net_hs *hs, const uint8_t channel[NET_CHANNEL_LEN]);

/* Fills `out` with this side's HELLO. `out` points into `hs` and `keys`
 * (borrowed): keep both alive while `out` is used. */
void net_hs_hello(const struct net_hs *hs, const struct net_hs_keys *keys, Paxfs__NetHello *out);

/* Checks the peer's HELLO: well formed, same cluster, the ids make sense for
 * our role (a dialer must hear the node it dialed; an acceptor must be the
 * node the dialer meant, and the peer must not claim our id), a fresh nonce
 * that is not ours. On success records the peer's id and nonce and returns
 * 0; otherwise returns a negative errno, sets *code and writes why. Whether
 * the claimed id is a configured node is the mesh's check, not this one. */
int net_hs_on_hello(struct net_hs *hs, const struct net_hs_keys *keys, const Paxfs__NetHello *hello,
		    enum net_close_code *code, char *why, size_t whylen);

/* Computes this side's proof (after net_hs_bind and a successful
 * net_hs_on_hello) into `proof` and marks the AUTH as sent. */
void net_hs_auth(struct net_hs *hs, const struct net_hs_keys *keys, uint8_t proof[NET_PROOF_LEN]);

/* Checks the peer's AUTH. Returns 0 and marks the handshake verified, or a
 * negative errno (-EPROTO out of order, -EACCES wrong proof) with *code and
 * why set. Compares in constant time. */
int net_hs_on_auth(struct net_hs *hs, const struct net_hs_keys *keys, const Paxfs__NetAuth *auth,
		   enum net_close_code *code, char *why, size_t whylen);

/* The proof function itself (exposed for tests): what `sender`, acting as
 * `sender_role`, sends to `receiver` on the connection `channel`. */
void net_hs_proof(const struct net_hs_keys *keys, enum net_role sender_role, uint32_t sender,
		  uint32_t receiver, const uint8_t sender_nonce[NET_NONCE_LEN],
		  const uint8_t receiver_nonce[NET_NONCE_LEN],
		  const uint8_t channel[NET_CHANNEL_LEN], uint8_t out[NET_PROOF_LEN]);

/* Compares `len` bytes in time independent of where they differ. */
bool net_ct_equal(const void *a, const void *b, size_t len);

/* Overwrites `len` bytes with zeros in a way the compiler may not drop. */
void net_wipe(void *p, size_t len);

#endif
