/* net/link.c — one TCP connection between this node and a peer: TLS, the
 * handshake, the frame reader, heartbeats and liveness, closing.
 *
 * States (enum net_link_state):
 *
 *   dial ─▶ CONNECTING ─connected─▶ TLS ─TLS done─▶ HANDSHAKING ─proof ok─▶ UP
 *   accept ───────────────────────▶ TLS                  │                  │
 *                                    │ TLS refused       │ refused / bad    │ EOF, error,
 *                                    │ (an alert)        ▼ input / timeout  ▼ bad frame, dead
 *                                    │   CLOSING (flush a CLOSE frame, ≤ 1 s) ─▶ DEAD ─reaper─▶ freed
 *                                    └──────────────────────────────────────────▶ DEAD
 *
 * The TCP connect is ours (a bare socket and a write event), so that "could
 * not connect" and "connected, then TLS failed" stay apart in the counters
 * (dial_failures, auth_failures, refused). From then on the bufferevent is
 * libevent's OpenSSL one on the socket: every byte the reader below sees
 * has been decrypted and authenticated by TLS, and nothing arrives before
 * the TLS handshake is complete.
 *
 * Reading follows libevent's le-proxy: the read low watermark is set to the
 * bytes the next step needs (preamble, header, header + body), the header
 * is copied out (evbuffer_copyout), and only one complete frame at a time is
 * made contiguous (evbuffer_pullup of that frame, never the whole input).
 * The body length is checked against the limit of the state before waiting
 * for it, so an unauthenticated peer can never make us buffer more than
 * NET_HANDSHAKE_MAX_FRAME, and an authenticated one more than max_frame.
 *
 * Large frames (a body of LINK_BIG_FRAME or more that has not fully
 * arrived) take a shorter road: whatever the input buffer holds of it is
 * moved into one buffer of the frame's size as it arrives, never more than
 * the frame. libevent's OpenSSL bufferevent decrypts into small pieces of
 * the input buffer, and evbuffer_pullup of a whole 1 MiB frame would move
 * it again and hold it twice; moving each piece once costs no more than
 * the pullup and keeps memory at one frame. (Before TLS the rest of the
 * frame was recv(2)'d straight into it; under TLS only OpenSSL may read
 * the socket.) */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net/internal.h"
#include "util/clock.h"

/* Bytes handed to SSL_write at a time (libevent's default is 16 KiB).
 * TLS still writes one record (<= 16 KiB) per write(2), and reads a record
 * header and then its body (net/tls.c says why no read-ahead). */
#define LINK_IO_CHUNK (256 * 1024)
/* Bodies at least this large are read straight into their own buffer. */
#define LINK_BIG_FRAME (64 * 1024)
/* How long a refused link may take to flush its CLOSE frame. */
#define LINK_LINGER_MS 1000

static void link_read_cb(struct bufferevent *bev, void *arg);
static void link_write_cb(struct bufferevent *bev, void *arg);
static void link_event_cb(struct bufferevent *bev, short what, void *arg);
static void link_timer_cb(evutil_socket_t fd, short what, void *arg);

void net_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, len, "(family %d)", sa->sa_family);
	}
}

static void link_arm(struct net_link *l, unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	evtimer_add(l->timer, &tv);
}

static void set_nodelay(int fd)
{
	int one = 1;
	/* Small messages must leave at once: Nagle would add up to 40 ms to a
	 * round trip. A failure only costs latency, so it is not fatal. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Puts TLS on the connected socket `fd` (owned from now on, even on
 * failure) and enters state TLS: OpenSSL's handshake starts at once. */
static int link_start_tls(struct net_link *l, int fd)
{
	struct net_mesh *m = l->mesh;
	bool server = l->hs.role == NET_ROLE_ACCEPTOR;
	SSL *ssl = net_tls_conn(m->tls, server, l->tls_why);
	struct bufferevent *bev;

	if (!ssl) {
		close(fd);
		return -ENOMEM;
	}
	set_nodelay(fd);
	/* CLOSE_ON_FREE: freeing the bufferevent frees the SSL and closes fd. */
	bev = bufferevent_openssl_socket_new(
	    m->base, fd, ssl, server ? BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		close(fd);
		return -ENOMEM;
	}
	/* A TCP close without a TLS close_notify is an EOF like any other:
	 * frames are length-prefixed, so a cut inside one is still caught. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	l->bev = bev;
	l->state = NET_LINK_TLS;
	bufferevent_setcb(bev, link_read_cb, link_write_cb, link_event_cb, l);
	bufferevent_set_max_single_read(bev, LINK_IO_CHUNK);
	bufferevent_set_max_single_write(bev, LINK_IO_CHUNK);
	l->read_wm = NET_PREAMBLE_LEN;
	bufferevent_setwatermark(bev, EV_READ, l->read_wm, 0);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return 0;
}

static struct net_link *link_new(struct net_mesh *m, enum net_role role, uint32_t dialed)
{
	struct net_link *l = calloc(1, sizeof(*l));
	int rc;

	if (!l)
		return NULL;
	rc = net_hs_start(&l->hs, role, m->cfg.self, dialed);
	if (rc < 0) {
		LOG_ERR("%s: no random bytes for a handshake nonce: %s", m->who, strerror(-rc));
		free(l);
		return NULL;
	}
	l->timer = evtimer_new(m->base, link_timer_cb, l);
	if (!l->timer) {
		free(l);
		return NULL;
	}
	l->mesh = m;
	l->fd = -1;
	l->ctr = &m->anon;
	TAILQ_INSERT_TAIL(&m->links, l, entry);
	return l;
}

void net_link_free(struct net_link *l)
{
	net_hold_drop(l);
	net_link_flush_counters(l);
	free(l->big);
	if (l->conn_ev)
		event_free(l->conn_ev);
	if (l->fd >= 0)
		close(l->fd);
	if (l->bev)
		bufferevent_free(l->bev);
	if (l->timer)
		event_free(l->timer);
	free(l);
}

void net_link_flush_counters(struct net_link *l)
{
	uint64_t left, written;
	if (!l->bev)
		return;
	left = evbuffer_get_length(bufferevent_get_output(l->bev));
	written = l->queued - left;
	if (written > l->reported_out) {
		l->ctr->bytes_out += written - l->reported_out;
		l->reported_out = written;
	}
}

/* Queues a small control frame (hello, auth, close, heartbeat): never
 * refused for the output limit, which is for envelopes. */
static int link_put(struct net_link *l, enum net_frame_type type, const ProtobufCMessage *msg)
{
	struct evbuffer *out = bufferevent_get_output(l->bev);
	struct evbuffer_iovec v;
	size_t size = net_frame_size(msg);

	if (evbuffer_reserve_space(out, (ev_ssize_t)size, &v, 1) < 1)
		return -ENOMEM;
	v.iov_len = net_frame_pack(type, msg, v.iov_base);
	if (evbuffer_commit_space(out, &v, 1) < 0)
		return -ENOMEM;
	l->queued += size;
	l->frames_out++;
	l->ctr->frames_out++;
	return 0;
}

/* Seals the envelope frame whose body (`body_len` bytes) is in place in `v`,
 * reserved from `out`, and queues it on the link. */
static int commit_frame(struct net_link *l, struct evbuffer *out, struct evbuffer_iovec *v,
			size_t body_len)
{
	size_t size = NET_FRAME_HDR_LEN + body_len;
	net_frame_seal(v->iov_base, NET_FRAME_ENVELOPE, body_len);
	v->iov_len = size;
	if (evbuffer_commit_space(out, v, 1) < 0)
		return -ENOMEM;
	l->queued += size;
	l->frames_out++;
	l->ctr->frames_out++;
	return 0;
}

int net_link_put_envelope(struct net_link *l, const Paxfs__Envelope *env, size_t body_len)
{
	struct evbuffer *out = bufferevent_get_output(l->bev);
	struct evbuffer_iovec v;
	size_t size = NET_FRAME_HDR_LEN + body_len, packed;

	/* One contiguous extent of the output buffer; the envelope is packed
	 * straight into it and the header sealed in front: one copy of the
	 * payload from the caller's message to the socket buffer. */
	if (evbuffer_reserve_space(out, (ev_ssize_t)size, &v, 1) < 1)
		return -ENOMEM;
	packed = paxfs__envelope__pack(env, (uint8_t *)v.iov_base + NET_FRAME_HDR_LEN);
	assert(packed == body_len); /* protobuf-c's size and pack agree */
	return commit_frame(l, out, &v, packed);
}

int net_link_put_packed(struct net_link *l, const uint8_t *body, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(l->bev);
	struct evbuffer_iovec v;
	size_t size = NET_FRAME_HDR_LEN + len;

	if (evbuffer_reserve_space(out, (ev_ssize_t)size, &v, 1) < 1)
		return -ENOMEM;
	memcpy((uint8_t *)v.iov_base + NET_FRAME_HDR_LEN, body, len);
	return commit_frame(l, out, &v, len);
}

const struct net_hs_keys *net_link_keys(const struct net_link *l)
{
	switch (l->cred) {
	case NET_TLS_CRED_CLIENT:
		return &l->mesh->client_keys;
	case NET_TLS_CRED_NEXT:
		return &l->mesh->next_keys;
	default:
		return &l->mesh->keys;
	}
}

static void link_start_handshake(struct net_link *l)
{
	uint8_t pre[NET_PREAMBLE_LEN];
	Paxfs__NetHello hello;

	net_preamble_encode(pre);
	net_hs_hello(&l->hs, net_link_keys(l), &hello);
	l->state = NET_LINK_HANDSHAKING;
	if (bufferevent_write(l->bev, pre, sizeof(pre)) < 0) {
		net_link_close(l, 0, UTIL_LOG_ERR, "out of memory starting the handshake");
		return;
	}
	l->queued += sizeof(pre);
	if (link_put(l, NET_FRAME_HELLO, &hello.base) < 0)
		net_link_close(l, 0, UTIL_LOG_ERR, "out of memory starting the handshake");
}

/* A peer that is down is redialed forever: say so once at info level, then
 * at debug level until a link to it comes up again. */
static enum util_log_level dial_failure_level(struct net_link *l)
{
	struct net_peer *p = l->mesh->peers[l->handle];
	if (!p || p->told_unreachable)
		return UTIL_LOG_DEBUG;
	p->told_unreachable = true;
	return UTIL_LOG_INFO;
}

/* CONNECTING: the socket is writable, so the connect has an outcome. */
static void link_connected_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_link *l = arg;
	int err = 0, rc;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		l->ctr->dial_failures++;
		net_link_close(l, 0, dial_failure_level(l), "cannot connect: %s", strerror(err));
		return;
	}
	event_free(l->conn_ev);
	l->conn_ev = NULL;
	l->fd = -1; /* link_start_tls owns it now */
	rc = link_start_tls(l, (int)fd);
	if (rc < 0)
		net_link_close(l, 0, UTIL_LOG_ERR, "out of memory starting TLS");
}

int net_link_dial(struct net_mesh *m, struct net_peer *p)
{
	int fd = socket(p->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct net_link *l;
	int err;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&p->sa, p->salen) < 0 && errno != EINPROGRESS) {
		err = errno;
		close(fd);
		return -err;
	}
	l = link_new(m, NET_ROLE_DIALER, p->id);
	if (l)
		l->conn_ev = event_new(m->base, fd, EV_WRITE, link_connected_cb, l);
	if (!l || !l->conn_ev) {
		if (l) {
			TAILQ_REMOVE(&m->links, l, entry);
			net_link_free(l);
		}
		close(fd);
		return -ENOMEM;
	}
	l->fd = fd;
	l->state = NET_LINK_CONNECTING;
	l->handle = p->id;
	l->ctr = &p->ctr;
	net_addr_format((struct sockaddr *)&p->sa, l->addr, sizeof(l->addr));
	snprintf(l->name, sizeof(l->name), "%s", p->name);
	p->out = l;
	p->ctr.dials++;
	event_add(l->conn_ev, NULL);
	link_arm(l, m->cfg.handshake_timeout_ms);
	return 0;
}

void net_link_accept(struct net_mesh *m, int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct net_link *l = link_new(m, NET_ROLE_ACCEPTOR, 0);

	(void)salen;
	if (!l) {
		close(fd);
		LOG_ERR("%s: out of memory accepting a connection", m->who);
		return;
	}
	net_addr_format(sa, l->addr, sizeof(l->addr));
	snprintf(l->name, sizeof(l->name), "%s", l->addr);
	l->pending = true;
	TAILQ_INSERT_TAIL(&m->pending, l, pentry);
	m->n_pending++;
	link_arm(l, m->cfg.handshake_timeout_ms);
	if (link_start_tls(l, fd) < 0)
		net_link_close(l, 0, UTIL_LOG_ERR, "out of memory accepting a connection");
}

/* ---- closing ------------------------------------------------------------ */

static void linger_read_cb(struct bufferevent *bev, void *arg)
{
	/* The peer may still be sending: read and discard, so that our close
	 * does not turn into a reset that destroys the CLOSE frame in flight. */
	struct evbuffer *in = bufferevent_get_input(bev);
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void linger_write_cb(struct bufferevent *bev, void *arg)
{
	struct net_link *l = arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		net_mesh_bury(l->mesh, l);
}

static void linger_event_cb(struct bufferevent *bev, short what, void *arg)
{
	net_mesh_bury(((struct net_link *)arg)->mesh, arg);
}

void net_link_close(struct net_link *l, enum net_close_code code, enum util_log_level level,
		    const char *fmt, ...)
{
	struct net_mesh *m = l->mesh;
	enum net_link_state was = l->state;
	char reason[256];
	va_list ap;

	if (was == NET_LINK_CLOSING || was == NET_LINK_DEAD)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);

	/* Anyone who can reach the port can make us log: those lines are rate
	 * limited; lines about links that were authenticated, or that we
	 * dialed, are not. */
	if (was == NET_LINK_UP || l->hs.role == NET_ROLE_DIALER || net_mesh_log_ok(m))
		util_log(level, "%s: %s: %s", m->who, l->name, reason);
	memcpy(l->ctr->last_error, reason, sizeof(l->ctr->last_error) - 1); /* cut is fine */
	l->ctr->last_error[sizeof(l->ctr->last_error) - 1] = '\0';

	/* what arrived of a frame that will never complete counts as read */
	if (l->bev)
		l->ctr->bytes_in += evbuffer_get_length(bufferevent_get_input(l->bev));
	if (l->big)
		l->ctr->bytes_in += l->big_have;
	net_mesh_link_gone(m, l);
	evtimer_del(l->timer);
	if (l->conn_ev)
		event_del(l->conn_ev);
	net_hold_drop(l); /* what a failed link held is lost with it */

	if (code && (was == NET_LINK_HANDSHAKING || was == NET_LINK_UP)) {
		Paxfs__NetClose c = PAXFS__NET_CLOSE__INIT;
		c.code = code;
		c.reason = reason;
		if (link_put(l, NET_FRAME_CLOSE, &c.base) == 0) {
			l->state = NET_LINK_CLOSING;
			bufferevent_setcb(l->bev, linger_read_cb, linger_write_cb, linger_event_cb,
					  l);
			bufferevent_setwatermark(l->bev, EV_READ, 0, 0);
			bufferevent_setwatermark(l->bev, EV_WRITE, 0, 0);
			bufferevent_enable(l->bev, EV_READ | EV_WRITE);
			link_arm(l, LINK_LINGER_MS);
			return;
		}
	}
	net_mesh_bury(m, l);
}

/* ---- the handshake -------------------------------------------------------- */

static void on_hello(struct net_link *l, const Paxfs__NetHello *hello)
{
	struct net_mesh *m = l->mesh;
	enum net_close_code code;
	enum util_log_level level = UTIL_LOG_WARN;
	uint8_t proof[NET_PROOF_LEN];
	Paxfs__NetAuth auth = PAXFS__NET_AUTH__INIT;
	char why[200];

	if (net_hs_on_hello(&l->hs, net_link_keys(l), hello, &code, why, sizeof(why)) < 0) {
		l->ctr->refused++;
		net_link_close(l, code, UTIL_LOG_WARN, "refused: %s", why);
		return;
	}
	if (l->hs.role == NET_ROLE_ACCEPTOR &&
	    net_mesh_admit(m, l, &code, &level, why, sizeof(why)) < 0) {
		l->ctr->refused++;
		net_link_close(l, code, level, "refused: %s", why);
		return;
	}
	net_hs_auth(&l->hs, net_link_keys(l), proof);
	auth.proof.data = proof;
	auth.proof.len = sizeof(proof);
	if (link_put(l, NET_FRAME_AUTH, &auth.base) < 0)
		net_link_close(l, 0, UTIL_LOG_ERR, "out of memory in the handshake");
}

static void on_auth(struct net_link *l, const Paxfs__NetAuth *auth)
{
	struct net_mesh *m = l->mesh;
	enum net_close_code code;
	char why[200];

	if (net_hs_on_auth(&l->hs, net_link_keys(l), auth, &code, why, sizeof(why)) < 0) {
		if (code == NET_CLOSE_AUTH)
			l->ctr->auth_failures++;
		else
			l->ctr->decode_errors++;
		net_link_close(l, code, UTIL_LOG_WARN, "refused: %s", why);
		return;
	}
	if (net_mesh_link_up(m, l, &code, why, sizeof(why)) < 0) {
		l->ctr->refused++;
		net_link_close(l, code, UTIL_LOG_INFO, "refused: %s", why);
		return;
	}
	/* Up: from now on frames may be as large as the config allows, and the
	 * timer beats the heart. Ready before the layer above hears of it, as
	 * it may start sending from peer_cb. */
	bufferevent_setwatermark(l->bev, EV_WRITE, m->cfg.out_limit / 2, 0);
	l->seen_in = l->frames_in;
	l->seen_out = l->frames_out;
	l->silent_ms = 0;
	evtimer_del(l->timer);
	link_arm(l, m->cfg.heartbeat_ms);
	net_mesh_announce_up(m, l);
}

static void on_peer_close(struct net_link *l, const Paxfs__NetClose *c)
{
	enum util_log_level level = UTIL_LOG_WARN;
	char reason[160];
	size_t o = 0;
	/* The peer's words go into our log: keep them printable and short. */
	for (const char *s = c->reason; *s && o + 1 < sizeof(reason); s++)
		reason[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	reason[o] = '\0';
	if (c->code == NET_CLOSE_AUTH)
		l->ctr->auth_failures++;
	/* crossed dials are routine; a duplicate or a shutdown is news; the
	 * rest means something is wrong on one side */
	if (c->code == NET_CLOSE_CROSSED)
		level = UTIL_LOG_DEBUG;
	else if (c->code == NET_CLOSE_DUPLICATE || c->code == NET_CLOSE_SHUTDOWN)
		level = UTIL_LOG_INFO;
	net_link_close(l, 0, level, "closed by the peer: %s", reason);
}

/* ---- reading -------------------------------------------------------------- */

static void want_bytes(struct net_link *l, size_t n)
{
	if (l->read_wm != n) {
		l->read_wm = n;
		bufferevent_setwatermark(l->bev, EV_READ, n, 0);
	}
}

/* Acts on one decoded frame. The link may be closed on return. */
static void dispatch(struct net_link *l, struct net_frame_msg *msg)
{
	struct net_mesh *m = l->mesh;
	int rc;

	if (l->state == NET_LINK_HANDSHAKING) {
		switch (msg->type) {
		case NET_FRAME_HELLO:
			on_hello(l, msg->u.hello);
			return;
		case NET_FRAME_AUTH:
			on_auth(l, msg->u.auth);
			return;
		case NET_FRAME_CLOSE:
			on_peer_close(l, msg->u.close);
			return;
		default:
			l->ctr->decode_errors++;
			net_link_close(l, NET_CLOSE_PROTOCOL, UTIL_LOG_WARN,
				       "refused: a frame of type %s before the handshake finished",
				       net_frame_type_name(msg->type));
			return;
		}
	}
	switch (msg->type) {
	case NET_FRAME_ENVELOPE:
		rc = net_mesh_deliver(m, l, msg->u.env);
		if (rc < 0)
			net_link_close(l, NET_CLOSE_REJECTED, UTIL_LOG_WARN,
				       "closing: the receiver refused a message (%s)",
				       strerror(-rc));
		return;
	case NET_FRAME_HEARTBEAT:
		return;
	case NET_FRAME_CLOSE:
		on_peer_close(l, msg->u.close);
		return;
	default:
		l->ctr->decode_errors++;
		net_link_close(l, NET_CLOSE_PROTOCOL, UTIL_LOG_WARN,
			       "closing: a frame of type %s on an authenticated link",
			       net_frame_type_name(msg->type));
		return;
	}
}

/* Checks and decodes a complete frame (header at `frame`) into *msg.
 * Returns false when it is bad: the link is closed then. */
static bool decode_frame(struct net_link *l, const struct net_frame_hdr *h, const uint8_t *frame,
			 struct net_frame_msg *msg)
{
	char why[200];
	int rc = net_frame_check_crc(h, frame, frame + NET_FRAME_HDR_LEN, why, sizeof(why));

	if (rc == 0)
		rc = net_frame_decode(h->type, frame + NET_FRAME_HDR_LEN, h->len, msg, why,
				      sizeof(why));
	l->ctr->bytes_in += NET_FRAME_HDR_LEN + (size_t)h->len;
	if (rc < 0) {
		l->ctr->decode_errors++;
		net_link_close(l, NET_CLOSE_PROTOCOL, UTIL_LOG_WARN, "%s: %s",
			       l->state == NET_LINK_UP ? "closing" : "refused", why);
		return false;
	}
	l->frames_in++;
	l->ctr->frames_in++;
	return true;
}

/* Acts on a decoded frame and frees it. Returns false when the link was
 * closed meanwhile. */
static bool hand_frame(struct net_link *l, struct net_frame_msg *msg)
{
	dispatch(l, msg);
	net_frame_msg_free(msg);
	return l->state == NET_LINK_HANDSHAKING || l->state == NET_LINK_UP;
}

/* ---- the client role's rate ------------------------------------------------ */

/* The buckets hold 2 s of the rate; the bytes one at least a largest
 * client frame, so that one such frame always passes on a fresh link. */
static double burst_frames(const struct net_mesh *m)
{
	return 2.0 * m->cfg.client_frames_per_s;
}

static double burst_bytes(const struct net_mesh *m)
{
	double b = 2.0 * (double)m->cfg.client_bytes_per_s;
	double frame = (double)(NET_FRAME_HDR_LEN + m->cfg.client_max_frame);
	return b > frame ? b : frame;
}

void net_link_rate_start(struct net_link *l)
{
	l->rate_frames = burst_frames(l->mesh);
	l->rate_bytes = burst_bytes(l->mesh);
	l->rate_ns = util_now_ns();
}

/* Pays for one frame of `total` bytes from client link `l` before it is
 * read in: refills the buckets for the time since the last frame, then
 * takes one frame and `total` bytes. Returns false (the link closed, with
 * a line saying which rate) when a bucket cannot pay: a client asks
 * questions, and one that floods a node is dropped rather than queued. */
static bool client_pay(struct net_link *l, size_t total)
{
	struct net_mesh *m = l->mesh;
	uint64_t now = util_now_ns();
	double s = (double)(now - l->rate_ns) / 1e9;

	l->rate_ns = now;
	l->rate_frames += s * m->cfg.client_frames_per_s;
	l->rate_bytes += s * (double)m->cfg.client_bytes_per_s;
	if (l->rate_frames > burst_frames(m))
		l->rate_frames = burst_frames(m);
	if (l->rate_bytes > burst_bytes(m))
		l->rate_bytes = burst_bytes(m);
	if (l->rate_frames >= 1.0 && l->rate_bytes >= (double)total) {
		l->rate_frames -= 1.0;
		l->rate_bytes -= (double)total;
		return true;
	}
	l->ctr->refused++;
	if (l->rate_frames < 1.0)
		net_link_close(l, NET_CLOSE_BUSY, UTIL_LOG_WARN,
			       "closing: exceeds the client rate of %u frames/s (a burst of %.0f)",
			       m->cfg.client_frames_per_s, burst_frames(m));
	else
		net_link_close(l, NET_CLOSE_BUSY, UTIL_LOG_WARN,
			       "closing: exceeds the client rate of %zu bytes/s (a burst of %.0f)",
			       m->cfg.client_bytes_per_s, burst_bytes(m));
	return false;
}

/* Moves on with the large frame in l->big: takes what the input buffer
 * holds of it, never past the frame's end. Returns 1 when the frame was
 * complete and handled, 0 to wait for more, -1 when the link was closed. */
static int read_big(struct net_link *l, struct evbuffer *in)
{
	struct net_frame_hdr h;
	struct net_frame_msg msg;
	uint8_t *frame;
	bool ok;

	l->big_have += (size_t)evbuffer_remove(in, l->big + l->big_have, l->big_len - l->big_have);
	if (l->big_have < l->big_len)
		return 0;
	frame = l->big;
	l->big = NULL;
	/* the header was parsed (and its limit checked) before l->big existed */
	net_frame_parse_header(frame, l->big_len - NET_FRAME_HDR_LEN, &h, NULL, 0);
	ok = decode_frame(l, &h, frame, &msg);
	free(frame);
	return ok && hand_frame(l, &msg) ? 1 : -1;
}

static void link_read_cb(struct bufferevent *bev, void *arg)
{
	struct net_link *l = arg;
	struct net_mesh *m = l->mesh;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t hdr[NET_FRAME_HDR_LEN];
	struct net_frame_hdr h;
	struct net_frame_msg msg;
	char why[200];
	bool ok;
	int rc;

	while (l->state == NET_LINK_HANDSHAKING || l->state == NET_LINK_UP) {
		size_t avail = evbuffer_get_length(in), limit, total;
		const uint8_t *frame;

		if (l->big) {
			if (read_big(l, in) <= 0)
				return;
			continue;
		}
		if (!l->got_preamble) {
			uint8_t pre[NET_PREAMBLE_LEN];
			if (avail < NET_PREAMBLE_LEN) {
				want_bytes(l, NET_PREAMBLE_LEN);
				return;
			}
			evbuffer_remove(in, pre, sizeof(pre));
			l->ctr->bytes_in += sizeof(pre);
			if (net_preamble_check(pre, why, sizeof(why)) < 0) {
				l->ctr->refused++;
				net_link_close(l, NET_CLOSE_PROTOCOL, UTIL_LOG_WARN, "refused: %s",
					       why);
				return;
			}
			l->got_preamble = true;
			continue;
		}
		if (avail < NET_FRAME_HDR_LEN) {
			want_bytes(l, NET_FRAME_HDR_LEN);
			return;
		}
		evbuffer_copyout(in, hdr, sizeof(hdr));
		/* A client asks questions: its frames are small, and a larger
		 * limit would only let it make a node buffer more. */
		limit = l->state != NET_LINK_UP ? NET_HANDSHAKE_MAX_FRAME
			: l->client             ? m->cfg.client_max_frame
						: m->cfg.max_frame;
		rc = net_frame_parse_header(hdr, limit, &h, why, sizeof(why));
		if (rc < 0) {
			l->ctr->decode_errors++;
			net_link_close(l, NET_CLOSE_PROTOCOL, UTIL_LOG_WARN, "%s: %s%s",
				       l->state == NET_LINK_UP ? "closing" : "refused", why,
				       l->state == NET_LINK_UP && l->client ? " for a client" : "");
			return;
		}
		total = NET_FRAME_HDR_LEN + (size_t)h.len;
		/* a client's frame is paid for once, when we commit to reading
		 * it (straight into l->big, or whole from the buffer) */
		if (avail < total && h.len >= LINK_BIG_FRAME) {
			if (l->state == NET_LINK_UP && l->client && !client_pay(l, total))
				return;
			l->big = malloc(total);
			if (!l->big) {
				net_link_close(l, 0, UTIL_LOG_ERR,
					       "closing: out of memory for a frame of %zu bytes",
					       total);
				return;
			}
			l->big_len = total;
			l->big_have = 0;
			want_bytes(l, 1); /* wake on any byte: read_big takes it from there */
			continue;
		}
		if (avail < total) {
			want_bytes(l, total);
			return;
		}
		if (l->state == NET_LINK_UP && l->client && !client_pay(l, total))
			return;
		frame = evbuffer_pullup(in, (ev_ssize_t)total);
		if (!frame) {
			net_link_close(l, 0, UTIL_LOG_ERR,
				       "closing: out of memory reading a frame");
			return;
		}
		/* decode (a copy), drain, then hand up: whatever the layer above
		 * does, the input buffer already reflects this frame */
		ok = decode_frame(l, &h, frame, &msg);
		evbuffer_drain(in, total);
		if (!ok || !hand_frame(l, &msg))
			return;
	}
}

static void link_write_cb(struct bufferevent *bev, void *arg)
{
	struct net_link *l = arg;
	if (l->want_writable && l->state == NET_LINK_UP) {
		l->want_writable = false;
		net_mesh_writable(l->mesh, l);
	}
}

/* TLS is up: bind the handshake to this connection and start it. */
static void tls_up(struct net_link *l)
{
	uint8_t channel[NET_TLS_CHANNEL_LEN];
	char why[200];

	if (net_tls_established(bufferevent_openssl_get_ssl(l->bev), channel, &l->cred, why,
				sizeof(why)) < 0) {
		l->ctr->auth_failures++;
		net_link_close(l, 0, UTIL_LOG_WARN, "refused: %s", why);
		return;
	}
	l->cert_node = net_tls_peer_node(bufferevent_openssl_get_ssl(l->bev));
	if (net_tls_cert_mode(l->mesh->tls) && l->hs.role == NET_ROLE_DIALER &&
	    l->cert_node != l->hs.peer) {
		/* the node we dialed must show its own certificate */
		net_wipe(channel, sizeof(channel));
		l->ctr->auth_failures++;
		if (l->cert_node)
			net_link_close(l, 0, UTIL_LOG_WARN,
				       "refused: certificate names node %u, we dialed node %u",
				       l->cert_node, l->hs.peer);
		else
			net_link_close(l, 0, UTIL_LOG_WARN,
				       "refused: a client certificate answers for node %u",
				       l->hs.peer);
		return;
	}
	net_hs_bind(&l->hs, channel);
	net_wipe(channel, sizeof(channel));
	link_start_handshake(l);
}

/* The first OpenSSL error the bufferevent saw (0 if none); drains them. */
static unsigned long ssl_error(struct bufferevent *bev)
{
	unsigned long e, first = 0;
	while ((e = bufferevent_get_openssl_error(bev)))
		if (!first)
			first = e;
	return first;
}

/* The TLS handshake failed (`ssl_err`, the first OpenSSL error): say
 * why, and count it where it belongs. */
static void tls_failed(struct net_link *l, short what, int sys_err, unsigned long ssl_err)
{
	bool dialer = l->hs.role == NET_ROLE_DIALER;
	enum net_tls_fail kind;
	char why[200];

	kind = net_tls_explain(ssl_err, (what & BEV_EVENT_EOF) ? 0 : sys_err, !dialer, l->tls_why,
			       why, sizeof(why));
	/* A connection that merely ended mid-handshake (a peer restarting)
	 * is nobody's refusal: like a plain EOF, it counts nowhere. */
	if (kind == NET_TLS_FAIL_AUTH)
		l->ctr->auth_failures++;
	else if (kind != NET_TLS_FAIL_IO)
		l->ctr->refused++;
	net_link_close(l, 0, UTIL_LOG_WARN, "refused: %s", why);
}

static void link_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct net_link *l = arg;
	int err = EVUTIL_SOCKET_ERROR();
	unsigned long ssl_err;
	size_t partial;

	if (l->state == NET_LINK_TLS) {
		if (what & BEV_EVENT_CONNECTED)
			tls_up(l);
		else
			tls_failed(l, what, err, ssl_error(bev));
		return;
	}
	if (what & BEV_EVENT_CONNECTED)
		return;
	ssl_err = (what & BEV_EVENT_ERROR) ? ssl_error(bev) : 0;
	if (ERR_GET_REASON(ssl_err) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		/* OpenSSL 3's word for a TCP close without close_notify: an EOF
		 * like any other here (a cut inside a frame is caught below). */
		what |= BEV_EVENT_EOF;
		ssl_err = 0;
	}
	if (ssl_err && l->state == NET_LINK_HANDSHAKING && !l->hs.verified &&
	    net_tls_cert_mode(l->mesh->tls)) {
		/* TLS 1.3: a dialing side finishes its TLS handshake before the
		 * server has checked its certificate, so a refusal of it (an
		 * alert) arrives here, during our handshake. */
		tls_failed(l, what, err, ssl_err);
		return;
	}
	if (ssl_err) {
		/* After the handshake, an OpenSSL error is a record that does
		 * not authenticate (altered on the way) or a broken peer. */
		char s[128];
		ERR_error_string_n(ssl_err, s, sizeof(s));
		l->ctr->decode_errors++;
		net_link_close(l, 0, UTIL_LOG_WARN, "closing: TLS error: %s",
			       ERR_reason_error_string(ssl_err) ? ERR_reason_error_string(ssl_err)
								: s);
		return;
	}
	partial = evbuffer_get_length(bufferevent_get_input(bev)) + (l->big ? l->big_have : 0);
	if (partial && (l->state == NET_LINK_UP || l->got_preamble)) {
		/* The stream ended inside a frame: part of a message was lost. */
		l->ctr->decode_errors++;
		net_link_close(l, 0, UTIL_LOG_WARN,
			       "connection %s in the middle of a frame (%zu of %zu bytes)",
			       (what & BEV_EVENT_EOF) ? "closed" : "failed", partial,
			       l->big                 ? l->big_len
			       : partial > l->read_wm ? partial
						      : l->read_wm);
		return;
	}
	if ((what & BEV_EVENT_EOF) && l->state == NET_LINK_UP)
		net_link_close(l, 0, UTIL_LOG_INFO, "closed by the peer");
	else if (what & BEV_EVENT_EOF)
		net_link_close(l, 0, UTIL_LOG_WARN, "closed by the peer during the handshake");
	else
		net_link_close(l, 0, UTIL_LOG_WARN, "connection error: %s",
			       err ? strerror(err) : "unknown");
}

/* ---- timers --------------------------------------------------------------- */

static void heartbeat(struct net_link *l)
{
	struct net_mesh *m = l->mesh;
	size_t inlen = evbuffer_get_length(bufferevent_get_input(l->bev)) + l->big_have;

	/* Any progress counts as life: a whole frame, or more bytes of a large
	 * one that is still arriving. */
	if (l->frames_in != l->seen_in || inlen != l->seen_inlen) {
		l->seen_in = l->frames_in;
		l->seen_inlen = inlen;
		l->silent_ms = 0;
	} else {
		l->silent_ms += m->cfg.heartbeat_ms;
	}
	if (l->silent_ms >= m->cfg.dead_ms) {
		net_link_close(l, NET_CLOSE_TIMEOUT, UTIL_LOG_WARN,
			       "nothing received for %u ms: peer presumed dead", l->silent_ms);
		return;
	}
	/* Beat only when idle: any frame we send proves life as well, and when
	 * output is queued a heartbeat behind it would not arrive sooner. */
	if (l->frames_out == l->seen_out &&
	    evbuffer_get_length(bufferevent_get_output(l->bev)) == 0) {
		Paxfs__NetHeartbeat hb = PAXFS__NET_HEARTBEAT__INIT;
		if (link_put(l, NET_FRAME_HEARTBEAT, &hb.base) < 0) {
			net_link_close(l, 0, UTIL_LOG_ERR, "closing: out of memory");
			return;
		}
	}
	l->seen_out = l->frames_out;
	link_arm(l, m->cfg.heartbeat_ms);
}

static void link_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_link *l = arg;
	struct net_mesh *m = l->mesh;

	switch (l->state) {
	case NET_LINK_CONNECTING:
		l->ctr->dial_failures++;
		net_link_close(l, 0, dial_failure_level(l), "cannot connect: no answer after %u ms",
			       m->cfg.handshake_timeout_ms);
		return;
	case NET_LINK_TLS:
		l->ctr->refused++;
		net_link_close(l, 0, UTIL_LOG_WARN,
			       "refused: TLS handshake not finished after %u ms",
			       m->cfg.handshake_timeout_ms);
		return;
	case NET_LINK_HANDSHAKING:
		l->ctr->refused++;
		net_link_close(l, NET_CLOSE_TIMEOUT, UTIL_LOG_WARN,
			       "refused: handshake not finished after %u ms",
			       m->cfg.handshake_timeout_ms);
		return;
	case NET_LINK_UP:
		heartbeat(l);
		return;
	case NET_LINK_CLOSING:
		net_mesh_bury(m, l);
		return;
	case NET_LINK_DEAD:
		return;
	}
}
