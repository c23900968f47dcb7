/* net/internal.h — the structures mesh.c and link.c share (not for other
 * modules: they see only net/net.h).
 *
 *   struct net_mesh
 *     peers[id] ──▶ struct net_peer (one per configured node but self)
 *                     up  ──▶ the authenticated link, or NULL
 *                     out ──▶ our dial in progress (connecting, handshaking)
 *                     n_in     accepted links claiming this id, in handshake
 *                     redial   backoff timer
 *     links    every live link (any state but DEAD)
 *     pending  accepted links still in handshake, oldest first (eviction)
 *     clients  authenticated client links (handles >= 256)
 *     dead     closed links waiting for the reaper (freed outside callbacks)
 *
 * Invariants: a link is in `links` or in `dead`, never both; a peer's `up`
 * and `out` are distinct links of that peer in states UP and
 * CONNECTING/TLS/HANDSHAKING respectively; a link in state UP is some peer's
 * `up` or in `clients`; n_in counts exactly the links with counted_in set. */
#ifndef PAXFS_NET_INTERNAL_H
#define PAXFS_NET_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "net/frame.h"
#include "net/handshake.h"
#include "net/net.h"
#include "net/tls.h"
#include "util/log.h"
#include "util/prng.h"

struct bufferevent;
struct event;
struct evconnlistener;

enum net_link_state {
	NET_LINK_CONNECTING = 1, /* dialing: TCP connect in flight, nothing sent */
	NET_LINK_TLS,            /* TLS handshake in flight (net/tls.h); no frame yet */
	NET_LINK_HANDSHAKING,    /* preamble + hello sent; waiting for theirs, then auth */
	NET_LINK_UP,             /* authenticated: envelopes and heartbeats flow */
	NET_LINK_CLOSING,        /* refused: flushing a CLOSE frame, reading nothing up */
	NET_LINK_DEAD,           /* closed; freed by the reaper */
};

struct net_link {
	struct net_mesh *mesh;
	struct bufferevent *bev; /* TLS over the socket; NULL while CONNECTING */
	int fd;                  /* the socket while CONNECTING, else -1 (bev owns it) */
	struct event *conn_ev;   /* CONNECTING: the socket became writable */
	struct event *timer;     /* handshake deadline, then heartbeat tick, then linger */
	enum net_link_state state;
	struct net_hs hs;
	bool got_preamble;
	bool client;            /* the peer is a client (hello id 0) */
	enum net_tls_cred cred; /* the credential TLS was keyed by (net/tls.h) */
	uint32_t cert_node;     /* certificate mode: the node the peer's certificate
				   names, 0 for a client certificate */
	bool counted_in;        /* counted in its peer's n_in */
	bool pending;           /* in mesh->pending */
	bool want_writable;
	uint32_t handle; /* `from` of what it hands up: node id or client handle */
	size_t read_wm;  /* the read low watermark set now */
	/* a large frame being read straight from the socket (see link.c) */
	uint8_t *big;
	size_t big_len, big_have;
	struct net_peer_stats *ctr;    /* where its counters add up */
	struct net_peer_stats own;     /* a client link's counters */
	char addr[64];                 /* "127.0.0.1:51234" */
	char name[96];                 /* "node 2 (127.0.0.1:7102)", "client 256 (...)", or addr */
	char tls_why[NET_TLS_WHY_LEN]; /* why our TLS side refused the peer (net/tls.h) */
	/* liveness, checked every heartbeat tick */
	uint64_t frames_in, frames_out;
	uint64_t seen_in, seen_out;
	size_t seen_inlen;
	unsigned silent_ms;
	/* bytes_out = bytes queued minus bytes still queued */
	uint64_t queued, reported_out;
	/* a client link's rate (net_config.client_frames_per_s, _bytes_per_s):
	 * what its token buckets hold, as of rate_ns (util_now_ns) */
	double rate_frames, rate_bytes;
	uint64_t rate_ns;
	/* test seam: envelopes a DELAY verdict holds (net/hold.c); NULL when none */
	struct net_hold *hold;
	TAILQ_ENTRY(net_link) entry;  /* mesh->links or mesh->dead */
	TAILQ_ENTRY(net_link) pentry; /* mesh->pending or mesh->clients */
};

TAILQ_HEAD(net_link_list, net_link);

struct net_peer {
	struct net_mesh *mesh;
	uint32_t id;
	struct sockaddr_storage sa;
	socklen_t salen;
	char name[96]; /* "node 2 (127.0.0.1:7102)" */
	struct net_link *up;
	struct net_link *out;
	unsigned n_in;
	struct event *redial;
	unsigned attempt;      /* failed dials since the last link up */
	bool told_unreachable; /* logged the first failed dial already */
	struct net_peer_stats ctr;
};

struct net_mesh {
	struct event_base *base;
	struct net_config cfg; /* defaults filled in; cluster and secret point below */
	char cluster[NET_CLUSTER_MAX + 1];
	uint8_t *secret;        /* the node credential; NULL on a client that has the other */
	uint8_t *client_secret; /* the client credential, or NULL */
	uint8_t *next_secret; /* the node secret accepted beside `secret` (a node only), or NULL */
	struct net_hs_keys keys, client_keys, next_keys;
	struct net_tls *tls; /* the TLS context every link uses */
	struct net_callbacks cb;
	void *arg;
	struct evconnlistener *listener;
	struct event *relisten; /* re-enables the listener after EMFILE */
	struct net_peer *peers[NET_MAX_NODES + 1];
	struct net_link_list links, dead, pending, clients;
	unsigned n_pending, n_clients;
	struct event *reaper;
	uint32_t next_handle;
	struct util_prng prng;
	struct net_peer_stats anon;
	net_filter_fn filter;
	void *filter_arg;
	char who[16]; /* "net(1)" or "net(client)": the start of every log line */
	/* rate limit for lines anyone on the network can cause */
	long log_sec;
	unsigned log_count, log_suppressed;
};

/* ---- link.c ---------------------------------------------------------- */

/* The keys of the credential `l`'s TLS proved (node, next or client). */
const struct net_hs_keys *net_link_keys(const struct net_link *l);

/* Dials peer `p`: creates a link in state CONNECTING and sets p->out.
 * Returns 0, or a negative errno when the connect could not even start. */
int net_link_dial(struct net_mesh *m, struct net_peer *p);

/* Takes an accepted socket `fd` (owned from now on) from `sa`: creates a
 * link, sends our preamble and hello, adds it to mesh->pending. */
void net_link_accept(struct net_mesh *m, int fd, const struct sockaddr *sa, socklen_t salen);

/* Closes `l` with a log line at `level` saying why. When `code` is non-zero
 * and the link can still write, a CLOSE frame tells the peer why first
 * (bounded linger). Detaches the link from the mesh at once (peer_cb(down)
 * runs from here for an up node link); the memory is freed later by the
 * reaper, so a caller inside one of the link's callbacks may still read
 * l->state. No-op on a link already CLOSING or DEAD. */
void net_link_close(struct net_link *l, enum net_close_code code, enum util_log_level level,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Frees a DEAD link (or, from net_mesh_free, any link) without callbacks. */
void net_link_free(struct net_link *l);

/* Fills the rate buckets of client link `l` (it just came up). */
void net_link_rate_start(struct net_link *l);

/* Adds the bytes the kernel took since the last call to l->ctr->bytes_out. */
void net_link_flush_counters(struct net_link *l);

/* Queues an envelope frame on an UP link (limits already checked). Returns
 * 0 or -ENOMEM. */
int net_link_put_envelope(struct net_link *l, const Paxfs__Envelope *env, size_t body_len);

/* Queues an already packed envelope body as a frame on an UP link. Returns
 * 0 or -ENOMEM. */
int net_link_put_packed(struct net_link *l, const uint8_t *body, size_t len);

/* Formats "host:port" of `sa` into buf. */
void net_addr_format(const struct sockaddr *sa, char *buf, size_t len);

/* ---- mesh.c: what links tell the mesh ---------------------------------- */

/* The hello of accepted link `l` checked out (l->hs.peer is the claimed id):
 * may this id connect now? Returns 0 (the link is attached to its peer or
 * marked a client) or a negative errno with *code, *level and why set. */
int net_mesh_admit(struct net_mesh *m, struct net_link *l, enum net_close_code *code,
		   enum util_log_level *level, char *why, size_t whylen);

/* `l` proved the secret: make it the peer's up link (or a client's), in
 * state UP. Returns 0, or a negative errno (duplicate) with *code and why
 * set. Runs no callback: the caller announces with net_mesh_announce_up. */
int net_mesh_link_up(struct net_mesh *m, struct net_link *l, enum net_close_code *code, char *why,
		     size_t whylen);

/* Tells the layer above that up link `l` is up (peer_cb; nodes only).
 * Called once the link is ready to carry envelopes. */
void net_mesh_announce_up(struct net_mesh *m, struct net_link *l);

/* `l` is closing: detach it from its peer, pending list or client list;
 * report peer down; schedule a redial. */
void net_mesh_link_gone(struct net_mesh *m, struct net_link *l);

/* Hands an envelope from up link `l` to the layer above (through the test
 * filter). Returns recv_cb's result. */
int net_mesh_deliver(struct net_mesh *m, struct net_link *l, const Paxfs__Envelope *env);

/* Output of up link `l` drained after an -ENOBUFS. */
void net_mesh_writable(struct net_mesh *m, struct net_link *l);

/* Moves `l` to mesh->dead and wakes the reaper. */
void net_mesh_bury(struct net_mesh *m, struct net_link *l);

/* ---- hold.c: the test filter's DELAY (net.h) ----------------------------- */

/* Holds `env` (packed now) on up link `l` in direction `out` until delay_ms
 * from now, and behind whatever is held there already. When due it is sent
 * (out) or handed to recv_cb (in; a refusal closes the link, as for a
 * message that was not held). Returns 0 or -ENOMEM. */
int net_hold_put(struct net_link *l, bool out, const Paxfs__Envelope *env, unsigned delay_ms);

/* True when something is held on `l` in that direction: later envelopes
 * must queue behind it to keep link order. */
bool net_hold_busy(const struct net_link *l, bool out);

/* Drops everything held on `l` (the link is closing or being freed). */
void net_hold_drop(struct net_link *l);

/* True when a log line caused by an unauthenticated connection may be
 * written now (at most 20 a second; the rest are counted and summed up). */
bool net_mesh_log_ok(struct net_mesh *m);

#endif
