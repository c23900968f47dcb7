/* net/link.c — one TCP connection between this node and a peer: the
 * handshake, the frame reader, heartbeats and liveness, closing.
 *
 * States (enum net_link_state):
 *
 *   dial ─▶ CONNECTING ─connected─▶ HANDSHAKING ─proof ok─▶ UP
 *   accept ───────────────────────▶ HANDSHAKING                │
 *                 │ refused / bad input / timeout               │ EOF, error,
 *                 ▼                                             ▼ bad frame, dead
 *              CLOSING (flush a CLOSE frame, ≤ 1 s) ──────────▶ DEAD ─reaper─▶ freed
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
 * arrived) take a shorter road: the part already in the input buffer is
 * moved into one buffer of the frame's size, and the rest is recv(2)'d
 * straight into it. libevent 2.1 reads at most 4 KiB per evbuffer_read and
 * the frame would then need evbuffer_pullup, one more copy of every byte;
 * the direct read costs one syscall per socket-buffer-full and no copy.
 * Order is kept: the input buffer is always emptied into the frame before
 * the socket is read, and never more than the frame is read from it. */
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
#include <event2/event.h>

#include "net/internal.h"

/* Bytes per write(2): libevent's default of 16 KiB costs a syscall per
 * 16 KiB, which caps 1 MiB-message throughput well below 1 GB/s. (Reads:
 * libevent 2.1's evbuffer_read takes at most 4 KiB whatever this says;
 * large frames bypass it, see above.) */
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

static void set_nodelay(struct bufferevent *bev)
{
	int one = 1;
	evutil_socket_t fd = bufferevent_getfd(bev);
	/* Small messages must leave at once: Nagle would add up to 40 ms to a
	 * round trip. A failure only costs latency, so it is not fatal. */
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static struct net_link *link_new(struct net_mesh *m, struct bufferevent *bev, enum net_role role,
				 uint32_t dialed)
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
	l->bev = bev;
	l->ctr = &m->anon;
	bufferevent_setcb(bev, link_read_cb, link_write_cb, link_event_cb, l);
	bufferevent_set_max_single_read(bev, LINK_IO_CHUNK);
	bufferevent_set_max_single_write(bev, LINK_IO_CHUNK);
	l->read_wm = NET_PREAMBLE_LEN;
	bufferevent_setwatermark(bev, EV_READ, l->read_wm, 0);
	TAILQ_INSERT_TAIL(&m->links, l, entry);
	return l;
}

void net_link_free(struct net_link *l)
{
	net_hold_drop(l);
	net_link_flush_counters(l);
	free(l->big);
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

static void link_start_handshake(struct net_link *l)
{
	struct net_mesh *m = l->mesh;
	uint8_t pre[NET_PREAMBLE_LEN];
	Paxfs__NetHello hello;

	net_preamble_encode(pre);
	net_hs_hello(&l->hs, &m->keys, &hello);
	l->state = NET_LINK_HANDSHAKING;
	if (bufferevent_write(l->bev, pre, sizeof(pre)) < 0) {
		net_link_close(l, 0, UTIL_LOG_ERR, "out of memory starting the handshake");
		return;
	}
	l->queued += sizeof(pre);
	if (link_put(l, NET_FRAME_HELLO, &hello.base) < 0)
		net_link_close(l, 0, UTIL_LOG_ERR, "out of memory starting the handshake");
}

int net_link_dial(struct net_mesh *m, struct net_peer *p)
{
	struct bufferevent *bev = bufferevent_socket_new(m->base, -1, BEV_OPT_CLOSE_ON_FREE);
	struct net_link *l;
	int err;

	if (!bev)
		return -ENOMEM;
	errno = 0;
	/* Callbacks are set only after this returns: an immediate failure runs
	 * the (unset) event callback synchronously, and is handled here. */
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&p->sa, (int)p->salen) < 0) {
		err = errno ? errno : EIO;
		bufferevent_free(bev);
		return -err;
	}
	l = link_new(m, bev, NET_ROLE_DIALER, p->id);
	if (!l) {
		bufferevent_free(bev);
		return -ENOMEM;
	}
	l->state = NET_LINK_CONNECTING;
	l->handle = p->id;
	l->ctr = &p->ctr;
	net_addr_format((struct sockaddr *)&p->sa, l->addr, sizeof(l->addr));
	snprintf(l->name, sizeof(l->name), "%s", p->name);
	p->out = l;
	p->ctr.dials++;
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	link_arm(l, m->cfg.handshake_timeout_ms);
	return 0;
}

void net_link_accept(struct net_mesh *m, int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct bufferevent *bev = bufferevent_socket_new(m->base, fd, BEV_OPT_CLOSE_ON_FREE);
	struct net_link *l;

	(void)salen;
	if (!bev) {
		close(fd);
		LOG_ERR("%s: out of memory accepting a connection", m->who);
		return;
	}
	l = link_new(m, bev, NET_ROLE_ACCEPTOR, 0);
	if (!l) {
		bufferevent_free(bev);
		return;
	}
	net_addr_format(sa, l->addr, sizeof(l->addr));
	snprintf(l->name, sizeof(l->name), "%s", l->addr);
	set_nodelay(bev);
	l->pending = true;
	TAILQ_INSERT_TAIL(&m->pending, l, pentry);
	m->n_pending++;
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	link_arm(l, m->cfg.handshake_timeout_ms);
	link_start_handshake(l);
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

	if (net_hs_on_hello(&l->hs, &m->keys, hello, &code, why, sizeof(why)) < 0) {
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
	net_hs_auth(&l->hs, &m->keys, proof);
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

	if (net_hs_on_auth(&l->hs, &m->keys, auth, &code, why, sizeof(why)) < 0) {
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

/* Moves on with the large frame in l->big: first what the bufferevent has
 * read, then straight from the socket, never past the frame's end. Returns
 * 1 when the frame was complete and handled, 0 to wait for more, -1 when
 * the link was closed. */
static int read_big(struct net_link *l, struct evbuffer *in)
{
	evutil_socket_t fd = bufferevent_getfd(l->bev);
	struct net_frame_hdr h;
	struct net_frame_msg msg;
	uint8_t *frame;
	bool ok;

	l->big_have += (size_t)evbuffer_remove(in, l->big + l->big_have, l->big_len - l->big_have);
	while (l->big_have < l->big_len) {
		ssize_t r = recv(fd, l->big + l->big_have, l->big_len - l->big_have, MSG_DONTWAIT);
		if (r > 0) {
			l->big_have += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		l->ctr->decode_errors++;
		net_link_close(l, 0, UTIL_LOG_WARN,
			       "connection %s in the middle of a frame (%zu of %zu bytes)",
			       r == 0 ? "closed" : "failed", l->big_have, l->big_len);
		return -1;
	}
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
		limit = l->state == NET_LINK_UP ? m->cfg.max_frame : NET_HANDSHAKE_MAX_FRAME;
		rc = net_frame_parse_header(hdr, limit, &h, why, sizeof(why));
		if (rc < 0) {
			l->ctr->decode_errors++;
			net_link_close(l, NET_CLOSE_PROTOCOL, UTIL_LOG_WARN, "%s: %s",
				       l->state == NET_LINK_UP ? "closing" : "refused", why);
			return;
		}
		total = NET_FRAME_HDR_LEN + (size_t)h.len;
		if (avail < total && h.len >= LINK_BIG_FRAME) {
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

static void link_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct net_link *l = arg;
	int err = EVUTIL_SOCKET_ERROR();
	size_t partial;

	if (what & BEV_EVENT_CONNECTED) {
		set_nodelay(bev);
		link_start_handshake(l);
		return;
	}
	if (l->state == NET_LINK_CONNECTING) {
		l->ctr->dial_failures++;
		net_link_close(l, 0, dial_failure_level(l), "cannot connect: %s",
			       err ? strerror(err) : "connection failed");
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
