/* net/mesh.c — the set of links of one node: who may connect, which link of
 * a pair survives, redialing, and the public API of net/net.h.
 *
 * One link per pair of nodes, whichever side dials first. Both sides dial;
 * when both dials meet, the rule both sides apply without talking is "the
 * link dialed by the lower node id wins":
 *   - an accepted hello from node P is refused while P already has an up
 *     link, or while our own dial to P is in flight and our id is lower
 *     (P then refuses ours by the same rule, the other way round);
 *   - we do not start a dial to P while an accepted link from P is in its
 *     handshake, and when one comes up we drop our own dial to P;
 *   - whichever link of P proves the secret second, while another is up, is
 *     refused: at most one up link per peer, on each side.
 * A link keyed by the client credential (net/tls.h) may only be a client.
 * Clients (hello id 0) are not nodes: each connection is its own peer,
 * named by a handle >= NET_CLIENT_HANDLE_MIN.
 *
 * Redial backoff: min(max, min << attempts), half of it fixed and half
 * uniform jitter (seeded PRNG), reset when a link comes up. */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "net/internal.h"

#define MIN_SECRET_LEN    16
#define LOG_LINES_PER_SEC 20
#define RELISTEN_MS       100

/* The inner handshake's key in certificate mode: public on purpose (see
 * net_mesh_new). */
static const char cert_mode_key[] = "paxfs-certificate-mode-v1";

/* ---- config ---------------------------------------------------------------- */

static int bad(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int bad(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Checks `in` and writes it, with defaults filled in, to `c`. */
static int config_check(const struct net_config *in, struct net_config *c, char *err, size_t errlen)
{
	bool seen[NET_MAX_NODES + 1] = {false};
	size_t clen;

	*c = *in;
	if (!c->cluster || !(clen = strlen(c->cluster)) || clen > NET_CLUSTER_MAX)
		return bad(err, errlen, -EINVAL, "cluster name must be 1..%d bytes",
			   NET_CLUSTER_MAX);
	if (!!c->tls_ca + !!c->tls_cert + !!c->tls_key != 0 &&
	    !!c->tls_ca + !!c->tls_cert + !!c->tls_key != 3)
		return bad(err, errlen, -EINVAL,
			   "tls_ca, tls_cert and tls_key: all three or none (given: %s%s%s)",
			   c->tls_ca ? "tls_ca " : "", c->tls_cert ? "tls_cert " : "",
			   c->tls_key ? "tls_key" : "");
	if (c->tls_cert && (c->secret || c->client_secret || c->next_secret))
		return bad(err, errlen, -EINVAL,
			   "certificates (tls_cert) and a %s secret: choose one (certificate mode "
			   "replaces the secrets on the wire)",
			   c->secret          ? "cluster"
			   : c->client_secret ? "client"
					      : "next");
	if (c->tls_cert) {
		if (!c->tls_key_len)
			return bad(err, errlen, -EINVAL, "tls_key is empty");
	} else if (c->self || !c->client_secret) {
		/* A node needs the node credential; a client needs one or the
		 * other. */
		if (!c->secret || c->secret_len < MIN_SECRET_LEN)
			return bad(err, errlen, -EINVAL,
				   "cluster secret is %zu bytes; it must be at least %d",
				   c->secret ? c->secret_len : 0, MIN_SECRET_LEN);
	}
	if (c->client_secret && c->client_secret_len < MIN_SECRET_LEN)
		return bad(err, errlen, -EINVAL,
			   "client secret is %zu bytes; it must be at least %d",
			   c->client_secret_len, MIN_SECRET_LEN);
	if (!c->client_secret)
		c->client_secret_len = 0;
	if (!c->self || !c->next_secret) {
		/* a client dials with `secret` only: the next one is of no use to it */
		c->next_secret = NULL;
		c->next_secret_len = 0;
	} else if (c->next_secret_len < MIN_SECRET_LEN) {
		return bad(err, errlen, -EINVAL, "next secret is %zu bytes; it must be at least %d",
			   c->next_secret_len, MIN_SECRET_LEN);
	} else if (c->next_secret_len == c->secret_len &&
		   !memcmp(c->next_secret, c->secret, c->secret_len)) {
		return bad(err, errlen, -EINVAL, "the next secret is the secret itself");
	}
	if (!c->self && c->client_secret) {
		/* A client with the client credential uses it alone, so that a
		 * config that still names the node secret proves nothing more. */
		c->secret = NULL;
		c->secret_len = 0;
	}
	if (c->n_nodes == 0 || c->n_nodes > NET_MAX_NODES)
		return bad(err, errlen, -EINVAL, "%zu nodes; a cluster has 1..%d", c->n_nodes,
			   NET_MAX_NODES);
	for (size_t i = 0; i < c->n_nodes; i++) {
		const struct net_node *n = &c->nodes[i];
		if (n->id < 1 || n->id > NET_MAX_NODES)
			return bad(err, errlen, -EINVAL, "node id %u: ids are 1..%d", n->id,
				   NET_MAX_NODES);
		if (seen[n->id])
			return bad(err, errlen, -EINVAL, "node %u appears twice", n->id);
		seen[n->id] = true;
		if (!memchr(n->host, '\0', sizeof(n->host)) || !n->host[0])
			return bad(err, errlen, -EINVAL, "node %u: empty or unterminated host",
				   n->id);
		if (!n->port)
			return bad(err, errlen, -EINVAL, "node %u: port 0", n->id);
	}
	if (c->self > NET_MAX_NODES)
		return bad(err, errlen, -EINVAL, "this node's id %u: ids are 1..%d", c->self,
			   NET_MAX_NODES);
	if (c->self && !seen[c->self])
		return bad(err, errlen, -EINVAL, "this node's id %u is not in the node list",
			   c->self);
	if (!c->max_frame)
		c->max_frame = NET_DEFAULT_MAX_FRAME;
	if (c->max_frame < NET_HANDSHAKE_MAX_FRAME || c->max_frame > (1u << 30))
		return bad(err, errlen, -EINVAL, "max_frame %zu: must be %d bytes .. 1 GiB",
			   c->max_frame, NET_HANDSHAKE_MAX_FRAME);
	if (!c->client_max_frame)
		c->client_max_frame = NET_DEFAULT_CLIENT_MAX_FRAME < c->max_frame
					  ? NET_DEFAULT_CLIENT_MAX_FRAME
					  : c->max_frame;
	if (c->client_max_frame < NET_HANDSHAKE_MAX_FRAME || c->client_max_frame > c->max_frame)
		return bad(err, errlen, -EINVAL,
			   "client_max_frame %zu: must be %d bytes .. max_frame (%zu)",
			   c->client_max_frame, NET_HANDSHAKE_MAX_FRAME, c->max_frame);
	if (!c->client_frames_per_s)
		c->client_frames_per_s = NET_DEFAULT_CLIENT_FRAMES_PER_S;
	if (!c->client_bytes_per_s)
		c->client_bytes_per_s = NET_DEFAULT_CLIENT_BYTES_PER_S;
	if (!c->heartbeat_ms)
		c->heartbeat_ms = NET_DEFAULT_HEARTBEAT_MS;
	if (!c->dead_ms)
		c->dead_ms = NET_DEFAULT_DEAD_MS;
	if (c->dead_ms < 2 * c->heartbeat_ms)
		return bad(err, errlen, -EINVAL,
			   "dead_ms %u must be at least twice heartbeat_ms %u", c->dead_ms,
			   c->heartbeat_ms);
	if (!c->out_limit)
		c->out_limit = NET_DEFAULT_OUT_LIMIT;
	if (!c->reconnect_min_ms)
		c->reconnect_min_ms = NET_DEFAULT_RECONNECT_MIN_MS;
	if (!c->reconnect_max_ms)
		c->reconnect_max_ms = NET_DEFAULT_RECONNECT_MAX_MS;
	if (c->reconnect_max_ms < c->reconnect_min_ms)
		return bad(err, errlen, -EINVAL, "reconnect_max_ms %u < reconnect_min_ms %u",
			   c->reconnect_max_ms, c->reconnect_min_ms);
	if (!c->handshake_timeout_ms)
		c->handshake_timeout_ms = NET_DEFAULT_HANDSHAKE_TIMEOUT_MS;
	if (!c->max_pending)
		c->max_pending = NET_DEFAULT_MAX_PENDING;
	return 0;
}

/* Resolves a node's address (the first answer; numeric addresses in the
 * config avoid any doubt about which). Fills *sa and *salen, or returns
 * -ENOENT with err set. */
static int resolve(const struct net_node *n, struct sockaddr_storage *sa, socklen_t *salen,
		   char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res;
	char port[8];
	int rc;

	snprintf(port, sizeof(port), "%u", n->port);
	rc = getaddrinfo(n->host, port, &hints, &res);
	if (rc)
		return bad(err, errlen, -ENOENT, "node %u: cannot resolve '%s': %s", n->id, n->host,
			   gai_strerror(rc));
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*salen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* ---- logging ------------------------------------------------------------- */

bool net_mesh_log_ok(struct net_mesh *m)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ts.tv_sec != m->log_sec) {
		if (m->log_suppressed)
			LOG_WARN("%s: %u more lines about refused connections were suppressed",
				 m->who, m->log_suppressed);
		m->log_sec = ts.tv_sec;
		m->log_count = 0;
		m->log_suppressed = 0;
	}
	if (m->log_count < LOG_LINES_PER_SEC) {
		m->log_count++;
		return true;
	}
	m->log_suppressed++;
	return false;
}

/* ---- dialing --------------------------------------------------------------- */

static unsigned backoff_ms(struct net_mesh *m, struct net_peer *p)
{
	unsigned shift = p->attempt < 16 ? p->attempt : 16;
	uint64_t d = (uint64_t)m->cfg.reconnect_min_ms << shift;
	if (d > m->cfg.reconnect_max_ms)
		d = m->cfg.reconnect_max_ms;
	/* Half fixed, half jitter: two nodes that lost each other at the same
	 * moment do not redial in lockstep. */
	return (unsigned)(d / 2 + util_prng_below(&m->prng, d / 2 + 1));
}

static void schedule_dial(struct net_mesh *m, struct net_peer *p, unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	evtimer_add(p->redial, &tv);
}

static void redial_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_peer *p = arg;
	struct net_mesh *m = p->mesh;
	int rc;

	if (p->up || p->out)
		return;
	if (p->n_in) {
		/* Their dial is in its handshake: let it finish rather than
		 * start a second link that one side would have to refuse. */
		schedule_dial(m, p, backoff_ms(m, p));
		return;
	}
	rc = net_link_dial(m, p);
	if (rc < 0) {
		util_log(p->told_unreachable ? UTIL_LOG_DEBUG : UTIL_LOG_INFO,
			 "%s: %s: cannot connect: %s", m->who, p->name, strerror(-rc));
		p->told_unreachable = true;
		p->attempt++;
		schedule_dial(m, p, backoff_ms(m, p));
	}
}

/* ---- links tell the mesh --------------------------------------------------- */

int net_mesh_admit(struct net_mesh *m, struct net_link *l, enum net_close_code *code,
		   enum util_log_level *level, char *why, size_t whylen)
{
	uint32_t id = l->hs.peer;
	struct net_peer *p;

	*level = UTIL_LOG_WARN;
	if (net_tls_cert_mode(m->tls) && l->cred == NET_TLS_CRED_NODE && id != 0 &&
	    id != l->cert_node) {
		/* The binding: a node certificate stands for its node only (or
		 * a client, as the node secret does). */
		*code = NET_CLOSE_IDENTITY;
		return bad(why, whylen, -EACCES, "certificate names node %u, link claims node %u",
			   l->cert_node, id);
	}
	if (l->cred == NET_TLS_CRED_CLIENT && id != 0) {
		/* The read-only credential: whoever holds it may ask questions,
		 * never stand for a node (docs/security.md "Roles"). */
		*code = NET_CLOSE_IDENTITY;
		return bad(why, whylen, -EACCES, "the client credential cannot claim node %u", id);
	}
	if (id == 0) {
		unsigned clients = m->n_clients;
		struct net_link *o;
		TAILQ_FOREACH(o, &m->pending, pentry)
		clients += o->client;
		if (clients >= NET_MAX_CLIENTS) {
			*code = NET_CLOSE_BUSY;
			return bad(why, whylen, -EBUSY, "too many clients (%d)", NET_MAX_CLIENTS);
		}
		l->client = true;
		return 0;
	}
	p = id <= NET_MAX_NODES ? m->peers[id] : NULL;
	if (!p) {
		*code = NET_CLOSE_IDENTITY;
		return bad(why, whylen, -EACCES, "node id %u is not in this node's config", id);
	}
	if (p->up) {
		*code = NET_CLOSE_DUPLICATE;
		return bad(why, whylen, -EEXIST, "node %u is already connected", id);
	}
	if (p->out && m->cfg.self < id) {
		*code = NET_CLOSE_CROSSED;
		*level = UTIL_LOG_DEBUG;
		return bad(why, whylen, -EEXIST,
			   "node %u and this node dialed each other at once; the link node %u "
			   "dialed wins",
			   id, m->cfg.self);
	}
	p->n_in++;
	l->counted_in = true;
	l->handle = id;
	l->ctr = &p->ctr;
	snprintf(l->name, sizeof(l->name), "node %u (%s)", id, l->addr);
	return 0;
}

static void stats_add(struct net_peer_stats *to, const struct net_peer_stats *from)
{
	to->bytes_in += from->bytes_in;
	to->bytes_out += from->bytes_out;
	to->frames_in += from->frames_in;
	to->frames_out += from->frames_out;
	to->links_up += from->links_up;
	to->auth_failures += from->auth_failures;
	to->dial_failures += from->dial_failures;
	to->refused += from->refused;
	to->decode_errors += from->decode_errors;
	to->send_nobufs += from->send_nobufs;
	to->filtered += from->filtered;
}

static struct net_link *find_client(struct net_mesh *m, uint32_t handle)
{
	struct net_link *l;
	TAILQ_FOREACH(l, &m->clients, pentry)
	if (l->handle == handle)
		return l;
	return NULL;
}

static void unpend(struct net_mesh *m, struct net_link *l)
{
	if (l->pending) {
		TAILQ_REMOVE(&m->pending, l, pentry);
		l->pending = false;
		m->n_pending--;
	}
}

int net_mesh_link_up(struct net_mesh *m, struct net_link *l, enum net_close_code *code, char *why,
		     size_t whylen)
{
	struct net_peer *p;

	if (l->client) {
		uint32_t h = m->next_handle;
		/* Unique among connected clients even after the counter wraps. */
		while (h < NET_CLIENT_HANDLE_MIN || find_client(m, h))
			h = h + 1 < NET_CLIENT_HANDLE_MIN ? NET_CLIENT_HANDLE_MIN : h + 1;
		m->next_handle = h + 1;
		unpend(m, l);
		l->handle = h;
		l->ctr = &l->own;
		l->own.links_up = 1;
		net_link_rate_start(l);
		TAILQ_INSERT_TAIL(&m->clients, l, pentry);
		m->n_clients++;
		l->state = NET_LINK_UP;
		snprintf(l->name, sizeof(l->name), "client %u (%s)", h, l->addr);
		if (net_tls_cert_mode(m->tls) && l->cred == NET_TLS_CRED_CLIENT)
			LOG_INFO("%s: %s: connected (client certificate)", m->who, l->name);
		else if (net_tls_cert_mode(m->tls))
			LOG_INFO("%s: %s: connected (certificate of node %u)", m->who, l->name,
				 l->cert_node);
		else
			LOG_INFO("%s: %s: connected (%s credential)", m->who, l->name,
				 l->cred == NET_TLS_CRED_CLIENT ? "client"
				 : l->cred == NET_TLS_CRED_NEXT ? "next node"
								: "node");
		return 0;
	}
	p = m->peers[l->hs.peer];
	if (p->up) {
		*code = NET_CLOSE_DUPLICATE;
		return bad(why, whylen, -EEXIST, "node %u is already connected", p->id);
	}
	if (p->out == l)
		p->out = NULL;
	if (l->counted_in) {
		p->n_in--;
		l->counted_in = false;
	}
	unpend(m, l);
	p->up = l;
	l->state = NET_LINK_UP;
	p->attempt = 0;
	p->told_unreachable = false;
	evtimer_del(p->redial);
	p->ctr.links_up++;
	if (p->ctr.links_up > 1)
		p->ctr.reconnects++;
	/* P's dial won: ours, if any, would be refused by P anyway. */
	if (p->out)
		net_link_close(p->out, NET_CLOSE_CROSSED, UTIL_LOG_DEBUG,
			       "dropping our dial: the link node %u dialed is up", p->id);
	/* the key id says which secret a rotation has reached (a tool on
	 * the client credential has none) */
	if (net_tls_cert_mode(m->tls))
		LOG_INFO("%s: %s: link up (%s, certificate of node %u)", m->who, l->name,
			 l->hs.role == NET_ROLE_DIALER ? "we dialed" : "they dialed", l->cert_node);
	else
		LOG_INFO("%s: %s: link up (%s, %s%s%s)", m->who, l->name,
			 l->hs.role == NET_ROLE_DIALER ? "we dialed" : "they dialed",
			 net_tls_cred_id(m->tls, l->cred) ? "key " : "client credential",
			 net_tls_cred_id(m->tls, l->cred) ? net_tls_cred_id(m->tls, l->cred) : "",
			 l->cred == NET_TLS_CRED_NEXT ? ", our next_secret_file" : "");
	return 0;
}

void net_mesh_announce_up(struct net_mesh *m, struct net_link *l)
{
	if (!l->client && m->cb.peer_cb)
		m->cb.peer_cb(m->arg, l->handle, true);
}

void net_mesh_link_gone(struct net_mesh *m, struct net_link *l)
{
	struct net_peer *p = NULL;

	unpend(m, l);
	if (l->client) {
		if (l->state == NET_LINK_UP) {
			TAILQ_REMOVE(&m->clients, l, pentry);
			m->n_clients--;
			/* A client's handle dies with its link: its counters go
			 * to peer 0 so that what it did stays counted. */
			net_link_flush_counters(l);
			stats_add(&m->anon, &l->own);
			l->ctr = &m->anon;
		}
		return;
	}
	if (l->hs.peer && l->hs.peer <= NET_MAX_NODES)
		p = m->peers[l->hs.peer];
	if (!p)
		return;
	if (p->up == l) {
		p->up = NULL;
		net_link_flush_counters(l);
		schedule_dial(m, p, backoff_ms(m, p));
		if (m->cb.peer_cb)
			m->cb.peer_cb(m->arg, p->id, false);
	} else if (p->out == l) {
		p->out = NULL;
		if (!p->up) {
			p->attempt++;
			schedule_dial(m, p, backoff_ms(m, p));
		}
	} else if (l->counted_in) {
		p->n_in--;
		l->counted_in = false;
		if (!p->up && !p->out && !evtimer_pending(p->redial, NULL))
			schedule_dial(m, p, backoff_ms(m, p));
	}
}

/* The test filter's verdict on `env`: PASS, DROP (counted), or DELAY with
 * *delay_ms set. */
static enum net_filter_verdict filter(struct net_mesh *m, struct net_link *l, uint32_t from,
				      uint32_t to, const Paxfs__Envelope *env, unsigned *delay_ms)
{
	enum net_filter_verdict v;
	*delay_ms = 0;
	if (!m->filter)
		return NET_FILTER_PASS;
	v = m->filter(m->filter_arg, from, to, env, delay_ms);
	if (v == NET_FILTER_DROP) {
		l->ctr->filtered++;
		return v;
	}
	if (v != NET_FILTER_DELAY)
		*delay_ms = 0;
	return v == NET_FILTER_DELAY ? v : NET_FILTER_PASS;
}

int net_mesh_deliver(struct net_mesh *m, struct net_link *l, const Paxfs__Envelope *env)
{
	unsigned delay_ms;
	if (filter(m, l, l->handle, m->cfg.self, env, &delay_ms) == NET_FILTER_DROP)
		return 0;
	if (delay_ms || net_hold_busy(l, false))
		return net_hold_put(l, false, env, delay_ms);
	return m->cb.recv_cb(m->arg, l->handle, env);
}

void net_mesh_writable(struct net_mesh *m, struct net_link *l)
{
	if (m->cb.writable_cb)
		m->cb.writable_cb(m->arg, l->handle);
}

static void reaper_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_mesh *m = arg;
	struct net_link *l;
	while ((l = TAILQ_FIRST(&m->dead))) {
		TAILQ_REMOVE(&m->dead, l, entry);
		net_link_free(l);
	}
}

void net_mesh_bury(struct net_mesh *m, struct net_link *l)
{
	if (l->state == NET_LINK_DEAD)
		return;
	l->state = NET_LINK_DEAD;
	evtimer_del(l->timer);
	net_hold_drop(l);
	if (l->bev) {
		bufferevent_setcb(l->bev, NULL, NULL, NULL, NULL);
		bufferevent_disable(l->bev, EV_READ | EV_WRITE);
	}
	TAILQ_REMOVE(&m->links, l, entry);
	TAILQ_INSERT_TAIL(&m->dead, l, entry);
	event_active(m->reaper, EV_TIMEOUT, 0);
}

/* ---- listening ------------------------------------------------------------- */

static void accept_cb(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct net_mesh *m = arg;

	if (m->n_pending >= m->cfg.max_pending) {
		/* Drop the oldest handshake, not the newest: a real peer finishes
		 * its handshake in a round trip, so a flood of idle connections
		 * cannot keep it out unless it outpaces max_pending per RTT. */
		struct net_link *old = TAILQ_FIRST(&m->pending);
		old->ctr->refused++;
		net_link_close(old, 0, UTIL_LOG_WARN,
			       "dropped: %u connections in handshake, this one is the oldest",
			       m->cfg.max_pending);
	}
	net_link_accept(m, fd, sa, (socklen_t)salen);
}

static void accept_error_cb(struct evconnlistener *lis, void *arg)
{
	struct net_mesh *m = arg;
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv = {.tv_sec = 0, .tv_usec = RELISTEN_MS * 1000};

	/* Out of descriptors or memory: the listening socket stays readable,
	 * so keep listening and we would spin. Pause, then try again. */
	if (net_mesh_log_ok(m))
		LOG_WARN("%s: accept failed: %s; pausing the listener for %d ms", m->who,
			 strerror(err), RELISTEN_MS);
	evconnlistener_disable(lis);
	evtimer_add(m->relisten, &tv);
}

static void relisten_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_mesh *m = arg;
	evconnlistener_enable(m->listener);
}

static int listen_on(struct net_mesh *m, const struct net_node *n, char *err, size_t errlen)
{
	struct sockaddr_storage sa = {0};
	socklen_t salen = 0;
	int fd, one = 1, rc;

	rc = resolve(n, &sa, &salen, err, errlen);
	if (rc < 0)
		return rc;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		return bad(err, errlen, rc, "cannot listen on %s:%u: socket: %s", n->host, n->port,
			   strerror(-rc));
	}
	/* Lets a restarted node bind while its old connections sit in
	 * TIME_WAIT; Linux still refuses a second listener on the port. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, salen) < 0 || listen(fd, SOMAXCONN) < 0) {
		rc = -errno;
		close(fd);
		return bad(err, errlen, rc, "cannot listen on %s:%u: %s", n->host, n->port,
			   strerror(-rc));
	}
	m->listener = evconnlistener_new(m->base, accept_cb, m,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!m->listener) {
		close(fd);
		return bad(err, errlen, -ENOMEM, "cannot listen on %s:%u: out of memory", n->host,
			   n->port);
	}
	evconnlistener_set_error_cb(m->listener, accept_error_cb);
	return 0;
}

/* ---- the API ------------------------------------------------------------- */

static uint64_t random_seed(void)
{
	uint64_t s = 0;
	if (getrandom(&s, sizeof(s), 0) != (ssize_t)sizeof(s))
		s = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return s;
}

int net_mesh_new(struct event_base *base, const struct net_config *cfg,
		 const struct net_callbacks *cb, void *arg, struct net_mesh **out, char *err,
		 size_t errlen)
{
	struct net_mesh *m;
	struct sigaction sa;
	int rc;

	*out = NULL;
	if (!base || !cfg || !cb || !cb->recv_cb)
		return bad(err, errlen, -EINVAL, "net: missing event base, config or recv_cb");
	m = calloc(1, sizeof(*m));
	if (!m)
		return bad(err, errlen, -ENOMEM, "net: out of memory");
	TAILQ_INIT(&m->links);
	TAILQ_INIT(&m->dead);
	TAILQ_INIT(&m->pending);
	TAILQ_INIT(&m->clients);
	m->base = base;
	rc = config_check(cfg, &m->cfg, err, errlen);
	if (rc < 0)
		goto fail;
	snprintf(m->cluster, sizeof(m->cluster), "%s", cfg->cluster);
	if (m->cfg.secret)
		m->secret = malloc(m->cfg.secret_len);
	if (m->cfg.client_secret)
		m->client_secret = malloc(m->cfg.client_secret_len);
	if (m->cfg.next_secret)
		m->next_secret = malloc(m->cfg.next_secret_len);
	m->reaper = event_new(base, -1, 0, reaper_cb, m);
	m->relisten = evtimer_new(base, relisten_cb, m);
	if ((m->cfg.secret && !m->secret) || (m->cfg.client_secret && !m->client_secret) ||
	    (m->cfg.next_secret && !m->next_secret) || !m->reaper || !m->relisten) {
		rc = bad(err, errlen, -ENOMEM, "net: out of memory");
		goto fail;
	}
	if (m->secret)
		memcpy(m->secret, m->cfg.secret, m->cfg.secret_len);
	if (m->client_secret)
		memcpy(m->client_secret, m->cfg.client_secret, m->cfg.client_secret_len);
	if (m->next_secret)
		memcpy(m->next_secret, m->cfg.next_secret, m->cfg.next_secret_len);
	m->cfg.cluster = m->cluster;
	m->cfg.secret = m->secret;
	m->cfg.client_secret = m->client_secret;
	m->cfg.next_secret = m->next_secret;
	m->keys.cluster = m->cluster;
	m->keys.secret = m->secret;
	m->keys.secret_len = m->cfg.secret_len;
	m->client_keys.cluster = m->cluster;
	m->client_keys.secret = m->client_secret;
	m->client_keys.secret_len = m->cfg.client_secret_len;
	m->client_keys.client = true;
	m->next_keys.cluster = m->cluster;
	m->next_keys.secret = m->next_secret;
	m->next_keys.secret_len = m->cfg.next_secret_len;
	if (m->cfg.tls_cert) {
		/* The inner handshake (net/handshake.h) still runs, keyed by a
		 * public constant: the certificates authenticated TLS, and the
		 * hello's id is checked against them (net_mesh_admit, link.c). */
		m->keys.secret = m->client_keys.secret = (const uint8_t *)cert_mode_key;
		m->keys.secret_len = m->client_keys.secret_len = sizeof(cert_mode_key) - 1;
		rc = net_tls_new_cert(m->cluster, cfg->tls_ca, cfg->tls_cert, cfg->tls_key,
				      cfg->tls_key_len, &m->tls, err, errlen);
		/* only read here: the key was parsed, not kept */
		m->cfg.tls_ca = m->cfg.tls_cert = NULL;
		m->cfg.tls_key = NULL;
		if (rc == 0 && cfg->self && net_tls_own_node(m->tls) != cfg->self) {
			uint32_t own = net_tls_own_node(m->tls);
			rc = own ? bad(err, errlen, -EINVAL,
				       "net: tls_cert %s names node %u, this is node %u",
				       cfg->tls_cert, own, cfg->self)
				 : bad(err, errlen, -EINVAL,
				       "net: tls_cert %s names the client role; node %u needs a "
				       "certificate naming paxfs://%s/node/%u",
				       cfg->tls_cert, cfg->self, m->cluster, cfg->self);
		}
	} else {
		rc = net_tls_new(m->cluster, m->secret, m->cfg.secret_len, m->client_secret,
				 m->cfg.client_secret_len, &m->tls, err, errlen);
	}
	if (rc == 0 && m->next_secret)
		rc = net_tls_accept_next(m->tls, m->next_secret, m->cfg.next_secret_len, err,
					 errlen);
	if (rc < 0)
		goto fail;
	m->cb = *cb;
	m->arg = arg;
	m->next_handle = NET_CLIENT_HANDLE_MIN;
	util_prng_seed(&m->prng, cfg->seed ? cfg->seed : random_seed());
	if (cfg->self)
		snprintf(m->who, sizeof(m->who), "net(%u)", cfg->self);
	else
		snprintf(m->who, sizeof(m->who), "net(client)");

	/* A write to a socket the peer closed raises SIGPIPE, which would kill
	 * the node for a peer's crash; the error is handled per link instead. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);

	for (size_t i = 0; i < m->cfg.n_nodes; i++) {
		const struct net_node *n = &m->cfg.nodes[i];
		struct net_peer *p;
		if (n->id == m->cfg.self)
			continue;
		p = calloc(1, sizeof(*p));
		if (!p) {
			rc = bad(err, errlen, -ENOMEM, "net: out of memory");
			goto fail;
		}
		m->peers[n->id] = p;
		p->mesh = m;
		p->id = n->id;
		p->redial = evtimer_new(base, redial_cb, p);
		if (!p->redial) {
			rc = bad(err, errlen, -ENOMEM, "net: out of memory");
			goto fail;
		}
		rc = resolve(n, &p->sa, &p->salen, err, errlen);
		if (rc < 0)
			goto fail;
		char addr[64];
		net_addr_format((struct sockaddr *)&p->sa, addr, sizeof(addr));
		snprintf(p->name, sizeof(p->name), "node %u (%s)", n->id, addr);
	}
	if (m->cfg.self) {
		/* Which keys this node takes, by key id (on the wire anyway),
		 * never the bytes: during a rotation the operator checks here
		 * that every node has the one the others dial with. */
		const char *next = net_tls_cred_id(m->tls, NET_TLS_CRED_NEXT);
		if (net_tls_cert_mode(m->tls))
			LOG_INFO("%s: authenticates with certificates (tls_cert %s, naming node "
				 "%u; peers verified against tls_ca %s)",
				 m->who, cfg->tls_cert, m->cfg.self, cfg->tls_ca);
		else
			LOG_INFO(
			    "%s: accepts node keys %s (secret_file, dialed with)%s%s%s%s", m->who,
			    net_tls_cred_id(m->tls, NET_TLS_CRED_NODE), next ? " and " : "",
			    next ? next : "", next ? " (next_secret_file)" : "",
			    m->client_secret ? "; and the client credential (client_secret_file)"
					     : "");
		rc = -EINVAL; /* config_check made sure self is in the list */
		for (size_t i = 0; i < m->cfg.n_nodes; i++)
			if (m->cfg.nodes[i].id == m->cfg.self)
				rc = listen_on(m, &m->cfg.nodes[i], err, errlen);
		if (rc < 0)
			goto fail;
	}
	for (uint32_t id = 1; id <= NET_MAX_NODES; id++)
		if (m->peers[id])
			schedule_dial(m, m->peers[id], 0);
	*out = m;
	return 0;
fail:
	net_mesh_free(m);
	return rc;
}

void net_mesh_free(struct net_mesh *m)
{
	struct net_link *l;

	if (!m)
		return;
	while ((l = TAILQ_FIRST(&m->links))) {
		TAILQ_REMOVE(&m->links, l, entry);
		net_link_free(l);
	}
	while ((l = TAILQ_FIRST(&m->dead))) {
		TAILQ_REMOVE(&m->dead, l, entry);
		net_link_free(l);
	}
	if (m->listener)
		evconnlistener_free(m->listener);
	if (m->relisten)
		event_free(m->relisten);
	if (m->reaper)
		event_free(m->reaper);
	for (uint32_t id = 1; id <= NET_MAX_NODES; id++) {
		struct net_peer *p = m->peers[id];
		if (!p)
			continue;
		if (p->redial)
			event_free(p->redial);
		free(p);
	}
	net_tls_free(m->tls);
	if (m->secret) {
		net_wipe(m->secret, m->keys.secret_len);
		free(m->secret);
	}
	if (m->client_secret) {
		net_wipe(m->client_secret, m->client_keys.secret_len);
		free(m->client_secret);
	}
	if (m->next_secret) {
		net_wipe(m->next_secret, m->next_keys.secret_len);
		free(m->next_secret);
	}
	free(m);
}

/* The up link to `to`, or the error net_send returns for it. */
static int up_link(struct net_mesh *m, uint32_t to, struct net_link **out)
{
	struct net_link *l;

	if (to == 0)
		return -EINVAL;
	if (to <= NET_MAX_NODES) {
		if (!m->peers[to])
			return -EINVAL;
		l = m->peers[to]->up;
	} else {
		l = find_client(m, to);
	}
	if (!l)
		return -ENOTCONN;
	*out = l;
	return 0;
}

int net_send(struct net_mesh *m, uint32_t to, const Paxfs__Envelope *env)
{
	struct net_link *l;
	size_t body, queued;
	unsigned delay_ms;
	int rc = up_link(m, to, &l);

	if (rc < 0)
		return rc;
	body = paxfs__envelope__get_packed_size(env);
	if (body > m->cfg.max_frame)
		return -EMSGSIZE;
	queued = evbuffer_get_length(bufferevent_get_output(l->bev));
	if (queued && queued + NET_FRAME_HDR_LEN + body > m->cfg.out_limit) {
		l->want_writable = true;
		l->ctr->send_nobufs++;
		return -ENOBUFS;
	}
	if (filter(m, l, m->cfg.self, to, env, &delay_ms) == NET_FILTER_DROP)
		return 0;
	if (delay_ms || net_hold_busy(l, true))
		return net_hold_put(l, true, env, delay_ms);
	return net_link_put_envelope(l, env, body);
}

bool net_peer_up(struct net_mesh *m, uint32_t peer)
{
	struct net_link *l;
	return up_link(m, peer, &l) == 0;
}

int net_peer_stats(struct net_mesh *m, uint32_t peer, struct net_peer_stats *out)
{
	struct net_link *l = NULL;

	if (peer == 0) {
		*out = m->anon;
		out->up = false;
		out->queue_bytes = 0;
		return 0;
	}
	if (peer <= NET_MAX_NODES) {
		struct net_peer *p = m->peers[peer];
		if (!p)
			return -ENOENT;
		l = p->up;
		if (l)
			net_link_flush_counters(l);
		*out = p->ctr;
	} else {
		l = find_client(m, peer);
		if (!l)
			return -ENOENT;
		net_link_flush_counters(l);
		*out = l->own;
	}
	out->up = l != NULL;
	out->queue_bytes = l ? evbuffer_get_length(bufferevent_get_output(l->bev)) : 0;
	return 0;
}

void net_set_filter(struct net_mesh *m, net_filter_fn fn, void *arg)
{
	m->filter = fn;
	m->filter_arg = arg;
}
