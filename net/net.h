/* net/net.h — the peer mesh: "send this message to node N", and
 * "(node N, message)" back.
 *
 * Every node keeps one authenticated TCP link to every other node, whichever
 * side dialed first; clients (paxfs-verify) dial every node and talk to each
 * over a link of their own. The layers above never see a connection: they
 * send a paxfs.Envelope to a node id and receive envelopes with the id they
 * came from, in the order they were sent on that link.
 *
 *                      +-----------------------------------+
 *    net_send(to, env) |  mesh: peers[1..255], clients     |  recv_cb(from, env)
 *   ─────────────────▶ |   └─ link ─ bufferevent ─ TCP ────┼──▶ other node
 *                      |  listener (accepts, handshakes)   |  peer_cb(id, up/down)
 *                      +-----------------------------------+
 *
 * Promises:
 * - A peer is "up" only after a handshake in which both sides proved the
 *   cluster secret (net/handshake.h); nothing from a peer that has not is
 *   ever handed up. At most one link per pair of nodes is up at a time.
 * - Envelopes handed up arrive intact (CRC32C per frame) and in the order
 *   they were sent on that link, none twice. A link that fails loses what
 *   was queued on it: net_send returning 0 means "queued", not "delivered";
 *   the layers above resend (Paxos messages are idempotent).
 * - Bad input from a peer (bad frame, CRC, body, order, a failed proof)
 *   closes that one link with one log line saying why; every other link and
 *   the process go on.
 * - A dead peer is noticed within dead_ms (+ one heartbeat) and reported
 *   through peer_cb; links are redialed with capped exponential backoff and
 *   jitter, forever.
 * - Memory per peer is bounded: beyond out_limit queued bytes, net_send
 *   fails with -ENOBUFS instead of queueing more.
 *
 * Threading: a mesh belongs to the thread running its event_base; every
 * function here and every callback runs on that thread. The process must not
 * die of SIGPIPE: net_mesh_new sets SIGPIPE to SIG_IGN if it is SIG_DFL. */
#ifndef PAXFS_NET_NET_H
#define PAXFS_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/envelope.pb-c.h"

struct event_base;
struct net_mesh;

#define NET_MAX_NODES         255 /* node ids are 1..255 */
#define NET_CLIENT_HANDLE_MIN 256 /* `from` of client links on a node */

/* Defaults for the zero fields of struct net_config. */
#define NET_DEFAULT_MAX_FRAME            (64u << 20)
#define NET_DEFAULT_CLIENT_MAX_FRAME     (1u << 20)
#define NET_DEFAULT_CLIENT_FRAMES_PER_S  1000
#define NET_DEFAULT_CLIENT_BYTES_PER_S   (8u << 20)
#define NET_DEFAULT_HEARTBEAT_MS         500
#define NET_DEFAULT_DEAD_MS              3000
#define NET_DEFAULT_OUT_LIMIT            (32u << 20)
#define NET_DEFAULT_RECONNECT_MIN_MS     100
#define NET_DEFAULT_RECONNECT_MAX_MS     2000
#define NET_DEFAULT_HANDSHAKE_TIMEOUT_MS 5000
#define NET_DEFAULT_MAX_PENDING          64
#define NET_MAX_CLIENTS                  64

struct net_node {
	uint32_t id;   /* 1..255 */
	char host[64]; /* numeric address or host name (resolved once, at net_mesh_new) */
	uint16_t port;
};

struct net_config {
	const char *cluster;   /* cluster name, 1..255 bytes; both sides must match */
	const uint8_t *secret; /* shared cluster secret (the node credential), at least
				  16 bytes; a client that has client_secret may leave it NULL */
	size_t secret_len;
	/* The read-only client credential (docs/security.md "Roles"), at least 16
	 * bytes, or NULL for none. A node accepts it from clients only (hello id
	 * 0), never for a node id; a client (self 0) that has it proves it
	 * instead of `secret`. Its TLS key and proofs are derived apart from the
	 * node credential's, so neither can pass for the other. */
	const uint8_t *client_secret;
	size_t client_secret_len;
	/* A second node secret a node accepts from peers and clients beside
	 * `secret` (next_secret_file, for a rolling rotation: docs/security.md
	 * "Rotating the secret"), at least 16 bytes and not `secret`, or NULL.
	 * It is never dialed with, and a client (self 0) ignores it. */
	const uint8_t *next_secret;
	size_t next_secret_len;
	/* Certificate mode (docs/security.md "Certificates"), instead of the
	 * secrets above: all three or none, and with them `secret`,
	 * `client_secret` and `next_secret` must be NULL. TLS then authenticates
	 * both ends with X.509 certificates verified against tls_ca alone
	 * (expiry included, no system store), and a certificate names its role
	 * with a URI SAN: "paxfs://CLUSTER/node/N" (node N) or
	 * "paxfs://CLUSTER/client" (the read-only client role). A node's own
	 * certificate must name it; a peer may claim in its hello only the node
	 * its certificate names (or 0, a client). */
	const char *tls_ca;     /* CA bundle, PEM file */
	const char *tls_cert;   /* this side's certificate chain, PEM file */
	const uint8_t *tls_key; /* its private key, PEM bytes (copied, wiped at free) */
	size_t tls_key_len;
	uint32_t self;                        /* this node's id; 0 = a client: dials every node,
				  never listens, proves the secret like a node
				  (or the client credential: see below) */
	struct net_node nodes[NET_MAX_NODES]; /* every node, self included */
	size_t n_nodes;
	size_t max_frame;        /* largest frame body accepted or sent; 0 = 64 MiB */
	size_t client_max_frame; /* largest frame body a node accepts from a client
				    (whichever credential it proved): a larger one
				    closes the link; 0 = 1 MiB; at most max_frame */
	/* The rate a node accepts from each client link (the client role,
	 * whichever credential it proved): token buckets of frames and of
	 * bytes, each holding 2 s of its rate (the bytes one at least a frame of
	 * client_max_frame) and full when the link comes up. A frame the
	 * buckets cannot pay for closes the link with a log line. Node links
	 * have no rate limit. 0 = 1000 frames/s, 8 MiB/s. */
	unsigned client_frames_per_s;
	size_t client_bytes_per_s;
	unsigned heartbeat_ms; /* idle links send a heartbeat this often; 0 = 500 */
	unsigned dead_ms;      /* silence that declares a peer dead; 0 = 3000;
				  at least 2 x heartbeat_ms */
	size_t out_limit;      /* per-link queued output beyond which net_send
				  fails with -ENOBUFS; 0 = 32 MiB */
	unsigned reconnect_min_ms, reconnect_max_ms; /* redial backoff; 0 = 100, 2000 */
	unsigned handshake_timeout_ms;               /* connect + handshake deadline; 0 = 5000 */
	unsigned max_pending; /* accepted connections still in handshake; beyond,
				  the oldest is dropped; 0 = 64 */
	uint64_t seed;        /* seeds the backoff jitter; 0 = from getrandom.
				  (Nonces always come from getrandom.) */
};

struct net_callbacks {
	/* A decoded envelope from an authenticated peer (node id) or client
	 * (handle >= NET_CLIENT_HANDLE_MIN), in link order. `env` is borrowed
	 * for the call. Return 0, or a negative errno to say the message is bad:
	 * net then closes that link with a log line (a node link is redialed). */
	int (*recv_cb)(void *arg, uint32_t from, const Paxfs__Envelope *env);
	/* A node link came up or went down (nodes only, never clients; on a
	 * client mesh, the links to the nodes). May be NULL. */
	void (*peer_cb)(void *arg, uint32_t peer, bool up);
	/* After net_send returned -ENOBUFS for `peer`, its queue drained below
	 * half of out_limit: sending may resume. Once per -ENOBUFS episode.
	 * May be NULL. */
	void (*writable_cb)(void *arg, uint32_t peer);
};

/* Per-peer counters. For a node id they add up over every link to that node
 * since net_mesh_new; for a client handle, over that one link while it is
 * connected. Peer 0 holds everything else: connections that never named a
 * configured node (garbage, refused or failed handshakes) and clients that
 * have disconnected. */
struct net_peer_stats {
	bool up;                /* a link is up now */
	uint64_t bytes_in;      /* bytes received and consumed */
	uint64_t bytes_out;     /* bytes handed to the kernel */
	uint64_t frames_in;     /* frames received (heartbeats included) */
	uint64_t frames_out;    /* frames queued (heartbeats included) */
	uint64_t links_up;      /* times a link came up */
	uint64_t reconnects;    /* times it came up again after the first */
	uint64_t dials;         /* outgoing connection attempts */
	uint64_t dial_failures; /* ...that could not connect (refused, unreachable, timed out) */
	uint64_t auth_failures; /* handshakes where a proof failed (either side) */
	uint64_t refused;       /* connections refused for any other handshake reason */
	uint64_t decode_errors; /* bad length, CRC, body or frame order (link closed) */
	uint64_t send_nobufs;   /* net_send calls refused with -ENOBUFS */
	uint64_t filtered;      /* envelopes dropped by the test filter */
	uint64_t queue_bytes;   /* output queued on the up link now */
	char last_error[128];   /* why the last link (or dial) to it ended; "" if none did */
};

/* Creates a mesh on `base` and starts it: binds and listens now (unless
 * self == 0), then dials every other node. `cfg` and `cb` are copied; `arg`
 * is passed to every callback. Returns 0 and sets *out; or a negative errno
 * with `err` (errlen > 0) saying why:
 *   -EINVAL     a bad config field (which one, and why)
 *   -EADDRINUSE / -EADDRNOTAVAIL / -EACCES  the listen address, named in err
 *   -ENOENT     a host name that does not resolve
 *   -ENOMEM
 * The caller frees with net_mesh_free. */
int net_mesh_new(struct event_base *base, const struct net_config *cfg,
		 const struct net_callbacks *cb, void *arg, struct net_mesh **out, char *err,
		 size_t errlen);

/* Closes every link and the listener and frees the mesh; queued output is
 * dropped. No callback runs during or after it. Must not be called from
 * inside one of the mesh's own callbacks (stop the loop first). NULL is a
 * no-op. */
void net_mesh_free(struct net_mesh *m);

/* Queues `env` (borrowed) to `to`: a node id, or a client handle seen in
 * recv_cb. Packs straight into the link's output buffer. Returns
 *   0          queued (not a promise of delivery: see above)
 *   -ENOTCONN  no authenticated link to `to` now
 *   -ENOBUFS   the link's queue is over out_limit (writable_cb says when to retry)
 *   -EMSGSIZE  the encoded envelope is larger than max_frame
 *   -EINVAL    `to` can never be a peer (0, self, an id not in the config)
 * A frame never waits for room: when the queue is empty, any frame up to
 * max_frame is accepted, so the queue holds at most out_limit + max_frame. */
int net_send(struct net_mesh *m, uint32_t to, const Paxfs__Envelope *env);

/* True when an authenticated link to `peer` (node id or client handle) is up. */
bool net_peer_up(struct net_mesh *m, uint32_t peer);

/* Copies the counters of `peer` (a node id, a connected client's handle, or
 * 0) into *out. Returns 0, or -ENOENT for an id that is not a peer. */
int net_peer_stats(struct net_mesh *m, uint32_t peer, struct net_peer_stats *out);

/* ---- test seam: faults between nodes (issue 7) --------------------------
 * A filter sees every envelope this mesh is about to send (from == self) or
 * hand up (to == self) and says what happens to it:
 *   PASS   as usual;
 *   DROP   lost as the network would lose it (net_send still returns 0; the
 *          receiver never sees it);
 *   DELAY  held for *delay_ms (which the filter sets) and then sent or handed
 *          up. Link order is kept: while anything is held on a link in that
 *          direction, every later envelope waits behind it (a delay never
 *          reorders, as TCP would not). Held envelopes belong to their link:
 *          if it fails they are lost with it. Held outgoing bytes do not
 *          count against out_limit. Heartbeats are never delayed, so a slow
 *          link is not a dead one.
 * Only for tests: the daemon exposes it behind -o test_faults (mount/faults.h). */
enum net_filter_verdict {
	NET_FILTER_PASS = 1,
	NET_FILTER_DROP,
	NET_FILTER_DELAY,
};
typedef enum net_filter_verdict (*net_filter_fn)(void *arg, uint32_t from, uint32_t to,
						 const Paxfs__Envelope *env, unsigned *delay_ms);

/* Installs `fn` (NULL removes it); `arg` is passed to it. */
void net_set_filter(struct net_mesh *m, net_filter_fn fn, void *arg);

#endif
