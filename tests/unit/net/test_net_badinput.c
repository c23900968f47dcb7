/* tests/unit/net/test_net_badinput.c — bad input, each against a live node.
 *
 * A fixture runs node 1 (under test) and node 2 (a good peer) on a thread of
 * their own; node 2 pings node 1 every 10 ms. The test thread then plays a
 * hostile or broken peer over raw sockets: most cases inside a TLS
 * connection made with the cluster's key (what a peer holding the secret,
 * or a buggy one, can send), the rest before or in the TLS handshake. For
 * each case: the connection is closed within a bounded time, node 1 writes
 * one log line saying why, nothing from the bad peer reaches recv_cb, the
 * counters say what happened, and node 1 goes on serving node 2 without a
 * hiccup. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/ssl.h>

#include "net/frame.h"
#include "net/handshake.h"
#include "net/net.h"
#include "net/tls.h"
#include "tests/unit/net/harness.h"
#include "util/endian.h"

#define HANDSHAKE_TIMEOUT_MS 1500

/* ---- the fixture: node 1 and node 2 on a thread --------------------------- */

struct fixture {
	pthread_t th;
	struct event_base *base;
	struct net_mesh *n1, *n2;
	struct net_config c1, c2;
	uint16_t ports[3]; /* node 3 is in the config but never runs */
	pthread_mutex_t mu;
	/* under mu */
	bool ready, stop;
	uint64_t pongs;
	uint64_t from_others;  /* to node 1 from anyone but node 2 or a client */
	uint64_t from_clients; /* to node 1 from authenticated clients */
	int downs;
	struct net_peer_stats st[4]; /* node 1's counters for peers 0..3 */
};

static struct fixture fx;

static int n1_recv(void *arg, uint32_t from, const Paxfs__Envelope *env)
{
	pthread_mutex_lock(&fx.mu);
	if (from == 2)
		;
	else if (from >= NET_CLIENT_HANDLE_MIN)
		fx.from_clients++;
	else
		fx.from_others++;
	pthread_mutex_unlock(&fx.mu);
	/* answer everyone who may talk: that is what a node does */
	net_send(fx.n1, from, env);
	return 0;
}

static int n2_recv(void *arg, uint32_t from, const Paxfs__Envelope *env)
{
	pthread_mutex_lock(&fx.mu);
	if (from == 1)
		fx.pongs++;
	pthread_mutex_unlock(&fx.mu);
	return 0;
}

static void any_peer(void *arg, uint32_t peer, bool up)
{
	pthread_mutex_lock(&fx.mu);
	if (!up)
		fx.downs++;
	pthread_mutex_unlock(&fx.mu);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct th_msg m;
	bool stop;

	th_msg_init(&m, 1, 2, "ping", 4);
	if (net_peer_up(fx.n2, 1))
		net_send(fx.n2, 1, &m.env);
	pthread_mutex_lock(&fx.mu);
	for (uint32_t p = 0; p <= 3; p++)
		if (p != 1)
			net_peer_stats(fx.n1, p, &fx.st[p]);
	if (net_peer_up(fx.n1, 2) && net_peer_up(fx.n2, 1))
		fx.ready = true;
	stop = fx.stop;
	pthread_mutex_unlock(&fx.mu);
	if (stop)
		event_base_loopbreak(fx.base);
}

static void *fixture_main(void *arg)
{
	struct net_callbacks cb1 = {n1_recv, any_peer, NULL}, cb2 = {n2_recv, any_peer, NULL};
	struct timeval tv = {0, 10000};
	char err[200];
	struct event *tick;

	if (net_mesh_new(fx.base, &fx.c1, &cb1, NULL, &fx.n1, err, sizeof(err)) ||
	    net_mesh_new(fx.base, &fx.c2, &cb2, NULL, &fx.n2, err, sizeof(err))) {
		fprintf(stderr, "fixture: %s\n", err);
		abort();
	}
	tick = event_new(fx.base, -1, EV_PERSIST, tick_cb, NULL);
	event_add(tick, &tv);
	event_base_dispatch(fx.base);
	event_free(tick);
	net_mesh_free(fx.n1);
	net_mesh_free(fx.n2);
	return NULL;
}

static void fixture_start(void)
{
	memset(&fx, 0, sizeof(fx));
	pthread_mutex_init(&fx.mu, NULL);
	th_log_capture();
	th_free_ports(fx.ports, 3);
	th_config(&fx.c1, 3, fx.ports, 1);
	th_config(&fx.c2, 3, fx.ports, 2);
	fx.c1.handshake_timeout_ms = HANDSHAKE_TIMEOUT_MS;
	fx.c1.max_frame = 1 << 20;
	fx.c1.dead_ms = 3000; /* the good link must not die of a busy test machine */
	fx.c2.dead_ms = 3000;
	fx.base = event_base_new();
	pthread_create(&fx.th, NULL, fixture_main, NULL);
	int64_t end = th_now_ms() + 5000;
	for (;;) {
		pthread_mutex_lock(&fx.mu);
		bool ready = fx.ready;
		pthread_mutex_unlock(&fx.mu);
		if (ready)
			break;
		ck_assert_msg(th_now_ms() < end, "the fixture's nodes did not connect");
		usleep(5000);
	}
}

static void fixture_stop(void)
{
	pthread_mutex_lock(&fx.mu);
	fx.stop = true;
	pthread_mutex_unlock(&fx.mu);
	pthread_join(fx.th, NULL);
	event_base_free(fx.base);
}

static struct net_peer_stats stats(uint32_t peer)
{
	struct net_peer_stats s;
	usleep(30000); /* a tick or two for the snapshot */
	pthread_mutex_lock(&fx.mu);
	s = fx.st[peer];
	pthread_mutex_unlock(&fx.mu);
	return s;
}

/* Node 1 still serves node 2: pings keep coming back, the link never
 * dropped, and nothing from the attacker was handed up. */
static void assert_still_serving(void)
{
	uint64_t p0, p1;
	pthread_mutex_lock(&fx.mu);
	p0 = fx.pongs;
	pthread_mutex_unlock(&fx.mu);
	int64_t end = th_now_ms() + 3000;
	do {
		usleep(10000);
		pthread_mutex_lock(&fx.mu);
		p1 = fx.pongs;
		pthread_mutex_unlock(&fx.mu);
	} while (p1 < p0 + 5 && th_now_ms() < end);
	ck_assert_msg(p1 >= p0 + 5, "node 1 stopped answering node 2 (%llu -> %llu)",
		      (unsigned long long)p0, (unsigned long long)p1);
	pthread_mutex_lock(&fx.mu);
	int downs = fx.downs;
	uint64_t others = fx.from_others;
	pthread_mutex_unlock(&fx.mu);
	ck_assert_int_eq(downs, 0);
	ck_assert_uint_eq(others, 0);
}

/* ---- raw sockets ---------------------------------------------------------- */

/* The TLS session on a raw socket, by descriptor; NULL for plain TCP. */
static SSL *tls_of[1 << 14];

/* A TCP connection to node 1, no TLS. */
static int raw_connect_plain(uint16_t *local_port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(fx.ports[0])};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (local_port) {
		getsockname(fd, (struct sockaddr *)&sa, &len);
		*local_port = ntohs(sa.sin_port);
	}
	ck_assert_int_lt(fd, (int)(sizeof(tls_of) / sizeof(tls_of[0])));
	return fd;
}

/* Runs a TLS handshake on `fd` with `cluster` and `secret`; 0 or -1. */
static int raw_tls(int fd, const char *cluster, const char *secret)
{
	tls_of[fd] = th_tls_client(fd, cluster, secret);
	return tls_of[fd] ? 0 : -1;
}

/* A connection to node 1 inside TLS with the cluster's key. */
static int raw_connect(uint16_t *local_port)
{
	int fd = raw_connect_plain(local_port);
	ck_assert_int_eq(raw_tls(fd, TH_CLUSTER, TH_SECRET), 0);
	return fd;
}

static void raw_close(int fd)
{
	SSL_free(tls_of[fd]);
	tls_of[fd] = NULL;
	close(fd);
}

/* The channel binding of `fd`'s TLS session. */
static void raw_channel(int fd, uint8_t channel[NET_CHANNEL_LEN])
{
	char why[200];
	enum net_tls_cred cred;
	ck_assert_int_eq(net_tls_established(tls_of[fd], channel, &cred, why, sizeof(why)), 0);
}

/* One recv(2) or SSL_read: >0 bytes, 0 EOF, <0 error. */
static ssize_t raw_recv(int fd, void *p, size_t n)
{
	if (!tls_of[fd])
		return recv(fd, p, n, 0);
	int r = SSL_read(tls_of[fd], p, (int)n);
	if (r > 0)
		return r;
	return SSL_get_error(tls_of[fd], r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

static bool raw_send(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w =
		    tls_of[fd] ? SSL_write(tls_of[fd], b, (int)n) : send(fd, b, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		b += w;
		n -= (size_t)w;
	}
	return true;
}

/* Reads exactly n bytes within timeout_ms; false on EOF, error or timeout. */
static bool raw_read(int fd, void *p, size_t n, unsigned timeout_ms)
{
	uint8_t *b = p;
	int64_t end = th_now_ms() + timeout_ms;
	while (n) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int64_t left = end - th_now_ms();
		bool pending = tls_of[fd] && SSL_pending(tls_of[fd]) > 0;
		if (!pending && (left <= 0 || poll(&pfd, 1, (int)left) <= 0))
			return false;
		ssize_t r = raw_recv(fd, b, n);
		if (r <= 0)
			return false;
		b += r;
		n -= (size_t)r;
	}
	return true;
}

/* Reads one frame into buf (cap bytes); returns its type or -1. */
static int raw_read_frame(int fd, uint8_t *buf, size_t cap, size_t *body_len, unsigned timeout_ms)
{
	struct net_frame_hdr h;
	if (!raw_read(fd, buf, NET_FRAME_HDR_LEN, timeout_ms) ||
	    net_frame_parse_header(buf, cap - NET_FRAME_HDR_LEN, &h, NULL, 0) ||
	    !raw_read(fd, buf + NET_FRAME_HDR_LEN, h.len, timeout_ms) ||
	    net_frame_check_crc(&h, buf, buf + NET_FRAME_HDR_LEN, NULL, 0))
		return -1;
	*body_len = h.len;
	return h.type;
}

/* Waits until node 1 closes `fd`; returns the ms it took, or -1. If node 1
 * sent a CLOSE frame, its reason goes to `reason`. Reads (and skips) node
 * 1's own preamble and frames on the way. */
static int64_t raw_wait_closed(int fd, bool preamble_pending, char *reason, size_t rlen,
			       unsigned timeout_ms)
{
	int64_t t0 = th_now_ms(), end = t0 + timeout_ms;
	static uint8_t buf[1 << 16];
	size_t have = 0, off = preamble_pending ? NET_PREAMBLE_LEN : 0;

	if (reason)
		reason[0] = 0;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int64_t left = end - th_now_ms();
		bool pending = tls_of[fd] && SSL_pending(tls_of[fd]) > 0;
		if (!pending && (left <= 0 || poll(&pfd, 1, (int)left) <= 0))
			return -1;
		ssize_t r = raw_recv(fd, buf + have, sizeof(buf) - have);
		if (r < 0 && !tls_of[fd] && errno != ECONNRESET)
			return -1;
		if (r <= 0)
			break;
		have += (size_t)r;
		if (have == sizeof(buf))
			have = off = 0; /* a flood: stop parsing, keep draining */
	}
	/* find a CLOSE frame in what came */
	while (reason && off + NET_FRAME_HDR_LEN <= have) {
		struct net_frame_hdr h;
		struct net_frame_msg msg;
		if (net_frame_parse_header(buf + off, have, &h, NULL, 0) ||
		    off + NET_FRAME_HDR_LEN + h.len > have)
			break;
		if (h.type == NET_FRAME_CLOSE &&
		    net_frame_decode(h.type, buf + off + NET_FRAME_HDR_LEN, h.len, &msg, NULL, 0) ==
			0) {
			snprintf(reason, rlen, "%u:%s", msg.u.close->code, msg.u.close->reason);
			net_frame_msg_free(&msg);
		}
		off += NET_FRAME_HDR_LEN + h.len;
	}
	return th_now_ms() - t0;
}

static const struct net_hs_keys good_keys = {TH_CLUSTER, (const uint8_t *)TH_SECRET,
					     sizeof(TH_SECRET) - 1, false};

struct recording {
	uint8_t bytes[1024];
	size_t len;
};

static bool send_frame(int fd, enum net_frame_type type, const ProtobufCMessage *msg,
		       struct recording *rec)
{
	uint8_t buf[1024];
	size_t n = net_frame_pack(type, msg, buf);
	if (rec && rec->len + n <= sizeof(rec->bytes)) {
		memcpy(rec->bytes + rec->len, buf, n);
		rec->len += n;
	}
	return raw_send(fd, buf, n);
}

static bool send_preamble_hello(int fd, struct net_hs *hs, const struct net_hs_keys *keys,
				uint32_t id, struct recording *rec)
{
	uint8_t pre[NET_PREAMBLE_LEN];
	Paxfs__NetHello hello;
	net_preamble_encode(pre);
	if (rec) {
		memcpy(rec->bytes, pre, sizeof(pre));
		rec->len = sizeof(pre);
	}
	ck_assert_int_eq(net_hs_start(hs, NET_ROLE_DIALER, id, 1), 0);
	uint8_t channel[NET_CHANNEL_LEN];
	raw_channel(fd, channel);
	net_hs_bind(hs, channel);
	net_hs_hello(hs, keys, &hello);
	return raw_send(fd, pre, sizeof(pre)) && send_frame(fd, NET_FRAME_HELLO, &hello.base, rec);
}

/* Plays the dialing side of a handshake as `id` with `keys`. Returns 0 when
 * node 1's proof checked (and ours was sent), or -1. */
static int raw_handshake(int fd, uint32_t id, const struct net_hs_keys *keys, struct recording *rec)
{
	struct net_hs hs;
	uint8_t buf[4096], proof[NET_PROOF_LEN];
	size_t blen;
	struct net_frame_msg msg;
	enum net_close_code code;
	Paxfs__NetAuth auth = PAXFS__NET_AUTH__INIT;
	char why[200];
	int type;

	if (!send_preamble_hello(fd, &hs, keys, id, rec) ||
	    !raw_read(fd, buf, NET_PREAMBLE_LEN, 2000) || net_preamble_check(buf, NULL, 0))
		return -1;
	type = raw_read_frame(fd, buf, sizeof(buf), &blen, 2000);
	if (type != NET_FRAME_HELLO ||
	    net_frame_decode((uint8_t)type, buf + NET_FRAME_HDR_LEN, blen, &msg, NULL, 0))
		return -1;
	int rc = net_hs_on_hello(&hs, keys, msg.u.hello, &code, why, sizeof(why));
	net_frame_msg_free(&msg);
	if (rc)
		return -1;
	net_hs_auth(&hs, keys, proof);
	auth.proof.data = proof;
	auth.proof.len = sizeof(proof);
	if (!send_frame(fd, NET_FRAME_AUTH, &auth.base, rec))
		return -1;
	type = raw_read_frame(fd, buf, sizeof(buf), &blen, 2000);
	if (type != NET_FRAME_AUTH ||
	    net_frame_decode((uint8_t)type, buf + NET_FRAME_HDR_LEN, blen, &msg, NULL, 0))
		return -1;
	rc = net_hs_on_auth(&hs, keys, msg.u.auth, &code, why, sizeof(why));
	net_frame_msg_free(&msg);
	return rc ? -1 : 0;
}

/* The common ending of every case: closed in time, exactly one log line
 * about this connection with the expected words, the fixture still fine. */
static void expect_refused(int fd, uint16_t port, bool preamble_pending, const char *words,
			   int close_code)
{
	char reason[300], portstr[16];
	int64_t took = raw_wait_closed(fd, preamble_pending, reason, sizeof(reason), 3000);
	raw_close(fd);
	ck_assert_msg(took >= 0, "node 1 did not close the connection");
	/* the line names the connection "127.0.0.1:PORT:" before it said who
	 * it is, "node N (127.0.0.1:PORT):" or "client H (...):" after */
	char named[16];
	snprintf(portstr, sizeof(portstr), ":%u:", port);
	snprintf(named, sizeof(named), ":%u)", port);
	int64_t end = th_now_ms() + 2000;
	while (th_log_count(portstr, words) + th_log_count(named, words) == 0 && th_now_ms() < end)
		usleep(5000);
	ck_assert_msg(th_log_count(portstr, words) + th_log_count(named, words) == 1,
		      "want one log line with '%s' about port %u", words, port);
	if (close_code) {
		char want[16];
		snprintf(want, sizeof(want), "%d:", close_code);
		ck_assert_msg(!strncmp(reason, want, strlen(want)),
			      "CLOSE frame '%s', want code %d", reason, close_code);
	}
	assert_still_serving();
}

/* ---- the cases ------------------------------------------------------------ */

START_TEST(garbage_is_refused)
{
	uint16_t port;
	uint8_t junk[4096];
	fixture_start();
	int fd = raw_connect(&port);
	memcpy(junk, th_payload(5, 5, sizeof(junk)), sizeof(junk));
	raw_send(fd, junk, sizeof(junk));
	expect_refused(fd, port, true, "not a paxfs peer", NET_CLOSE_PROTOCOL);
	ck_assert_uint_ge(stats(0).refused, 1);
	fixture_stop();
}
END_TEST

START_TEST(wrong_magic_is_refused)
{
	uint16_t port;
	fixture_start();
	int fd = raw_connect(&port);
	raw_send(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
	expect_refused(fd, port, true, "wrong magic 0x47455420", NET_CLOSE_PROTOCOL);
	fixture_stop();
}
END_TEST

START_TEST(wrong_version_is_refused)
{
	uint16_t port;
	uint8_t pre[NET_PREAMBLE_LEN];
	fixture_start();
	int fd = raw_connect(&port);
	net_preamble_encode(pre);
	util_put_be32(pre + 4, 1); /* before TLS: could not get this far anyway */
	raw_send(fd, pre, sizeof(pre));
	expect_refused(fd, port, true, "protocol version 1", NET_CLOSE_PROTOCOL);
	fixture_stop();
}
END_TEST

/* A peer that does not speak TLS at all: refused in the TLS handshake. */
START_TEST(plaintext_peer_is_refused)
{
	uint16_t port;
	uint8_t pre[NET_PREAMBLE_LEN];
	fixture_start();
	int fd = raw_connect_plain(&port);
	net_preamble_encode(pre); /* what a node before TLS would send */
	raw_send(fd, pre, sizeof(pre));
	expect_refused(fd, port, false, "TLS handshake failed", 0);
	ck_assert_uint_ge(stats(0).refused, 1);
	ck_assert_uint_eq(stats(0).auth_failures, 0);
	fixture_stop();
}
END_TEST

START_TEST(wrong_cluster_is_refused)
{
	uint16_t port;
	struct net_hs hs;
	struct net_hs_keys keys = good_keys;
	fixture_start();
	/* in the TLS handshake: the PSK identity names another cluster */
	int fd = raw_connect_plain(&port);
	ck_assert_int_eq(raw_tls(fd, "other-cluster", TH_SECRET), -1);
	expect_refused(fd, port, false, "wrong cluster name 'other-cluster'", 0);
	ck_assert_uint_ge(stats(0).refused, 1);
	/* inside TLS, a hello that names another cluster */
	fd = raw_connect(&port);
	keys.cluster = "other-cluster";
	send_preamble_hello(fd, &hs, &keys, 3, NULL);
	expect_refused(fd, port, true, "wrong cluster name 'other-cluster'", NET_CLOSE_CLUSTER);
	ck_assert_uint_ge(stats(0).refused, 2);
	fixture_stop();
}
END_TEST

START_TEST(wrong_secret_is_refused)
{
	uint16_t port;
	struct net_hs_keys keys = good_keys;
	fixture_start();
	/* The TLS handshake itself fails: the PSK binder does not verify.
	 * Who the peer claims to be is never heard (peer 0 counts it). */
	int fd = raw_connect_plain(&port);
	ck_assert_int_eq(raw_tls(fd, TH_CLUSTER, "not-the-secret-at-all"), -1);
	expect_refused(fd, port, false, "authentication failed", 0);
	ck_assert_uint_eq(stats(0).auth_failures, 1);
	/* Inside TLS (a peer that has the TLS key but proves its id with
	 * another secret): the inner proof fails. */
	keys.secret = (const uint8_t *)"not-the-secret-at-all";
	keys.secret_len = 21;
	fd = raw_connect(&port);
	ck_assert_int_eq(raw_handshake(fd, 3, &keys, NULL), -1);
	expect_refused(fd, port, false, "authentication failed", NET_CLOSE_AUTH);
	ck_assert_uint_eq(stats(3).auth_failures, 1);
	pthread_mutex_lock(&fx.mu);
	ck_assert_uint_eq(fx.from_clients, 0);
	pthread_mutex_unlock(&fx.mu);
	fixture_stop();
}
END_TEST

/* A peer that proves node 2's id but claims node 3's in its hello: the
 * proof names the id it was made for, so it does not check. */
START_TEST(peer_claiming_another_nodes_id_is_refused)
{
	uint16_t port;
	struct net_hs hs;
	uint8_t buf[4096], proof[NET_PROOF_LEN];
	size_t blen;
	struct net_frame_msg msg;
	enum net_close_code code;
	Paxfs__NetAuth auth = PAXFS__NET_AUTH__INIT;
	char why[200];

	fixture_start();
	int fd = raw_connect(&port);
	ck_assert(send_preamble_hello(fd, &hs, &good_keys, 3, NULL));
	ck_assert(raw_read(fd, buf, NET_PREAMBLE_LEN, 2000));
	int type = raw_read_frame(fd, buf, sizeof(buf), &blen, 2000);
	ck_assert_int_eq(type, NET_FRAME_HELLO);
	ck_assert_int_eq(
	    net_frame_decode((uint8_t)type, buf + NET_FRAME_HDR_LEN, blen, &msg, NULL, 0), 0);
	ck_assert_int_eq(net_hs_on_hello(&hs, &good_keys, msg.u.hello, &code, why, sizeof(why)), 0);
	net_frame_msg_free(&msg);
	/* the proof node 2 would send on this very connection */
	net_hs_proof(&good_keys, NET_ROLE_DIALER, 2, 1, hs.mine, hs.theirs, hs.channel, proof);
	auth.proof.data = proof;
	auth.proof.len = sizeof(proof);
	ck_assert(send_frame(fd, NET_FRAME_AUTH, &auth.base, NULL));
	expect_refused(fd, port, false, "authentication failed", NET_CLOSE_AUTH);
	ck_assert_uint_eq(stats(3).auth_failures, 1);
	ck_assert_uint_eq(stats(3).links_up, 0);
	fixture_stop();
}
END_TEST

START_TEST(replayed_handshake_is_refused)
{
	uint16_t port;
	struct recording rec = {.len = 0};
	fixture_start();
	/* an honest client's handshake, recorded */
	int fd = raw_connect(&port);
	ck_assert_int_eq(raw_handshake(fd, 0, &good_keys, &rec), 0);
	raw_close(fd);
	/* replayed word for word on a new connection */
	fd = raw_connect(&port);
	raw_send(fd, rec.bytes, rec.len);
	expect_refused(fd, port, true, "authentication failed", NET_CLOSE_AUTH);
	fixture_stop();
}
END_TEST

START_TEST(unknown_node_id_is_refused)
{
	uint16_t port;
	struct net_hs hs;
	fixture_start();
	int fd = raw_connect(&port);
	send_preamble_hello(fd, &hs, &good_keys, 7, NULL);
	expect_refused(fd, port, true, "node id 7 is not in this node's config",
		       NET_CLOSE_IDENTITY);
	fixture_stop();
}
END_TEST

START_TEST(second_connection_for_a_connected_id_is_refused)
{
	uint16_t port;
	struct net_hs hs;
	fixture_start();
	int fd = raw_connect(&port);
	send_preamble_hello(fd, &hs, &good_keys, 2, NULL);
	expect_refused(fd, port, true, "node 2 is already connected", NET_CLOSE_DUPLICATE);
	ck_assert(net_peer_up(fx.n1, 2) || true);
	fixture_stop();
}
END_TEST

START_TEST(oversized_length_is_refused)
{
	uint16_t port;
	uint8_t pre[NET_PREAMBLE_LEN], hdr[NET_FRAME_HDR_LEN] = {0};
	fixture_start();
	/* before authentication the limit is NET_HANDSHAKE_MAX_FRAME */
	int fd = raw_connect(&port);
	net_preamble_encode(pre);
	raw_send(fd, pre, sizeof(pre));
	util_put_be32(hdr, 1u << 30);
	hdr[4] = NET_FRAME_HELLO;
	raw_send(fd, hdr, sizeof(hdr));
	expect_refused(fd, port, true, "exceeds the limit of 4096 bytes", NET_CLOSE_PROTOCOL);
	/* after it, max_frame (1 MiB here) */
	fd = raw_connect(&port);
	ck_assert_int_eq(raw_handshake(fd, 0, &good_keys, NULL), 0);
	util_put_be32(hdr, (1u << 20) + 1);
	hdr[4] = NET_FRAME_ENVELOPE;
	raw_send(fd, hdr, sizeof(hdr));
	expect_refused(fd, port, false, "exceeds the limit of 1048576 bytes", NET_CLOSE_PROTOCOL);
	ck_assert_uint_ge(stats(0).decode_errors, 2);
	fixture_stop();
}
END_TEST

START_TEST(truncated_frame_closes_the_link)
{
	uint16_t port;
	uint8_t frame[256];
	struct th_msg m;
	fixture_start();
	int fd = raw_connect(&port);
	ck_assert_int_eq(raw_handshake(fd, 0, &good_keys, NULL), 0);
	th_msg_init(&m, 1, 1, th_payload(1, 1, 100), 100);
	size_t n = net_frame_pack(NET_FRAME_ENVELOPE, &m.env.base, frame);
	raw_send(fd, frame, n / 2);
	shutdown(fd, SHUT_WR);
	expect_refused(fd, port, false, "closed in the middle of a frame", 0);
	pthread_mutex_lock(&fx.mu);
	ck_assert_uint_eq(fx.from_clients, 0);
	pthread_mutex_unlock(&fx.mu);
	ck_assert_uint_eq(stats(0).decode_errors, 1);
	fixture_stop();
}
END_TEST

START_TEST(bad_crc_closes_the_link)
{
	uint16_t port;
	uint8_t frame[256];
	struct th_msg m;
	fixture_start();
	int fd = raw_connect(&port);
	ck_assert_int_eq(raw_handshake(fd, 0, &good_keys, NULL), 0);
	th_msg_init(&m, 1, 1, th_payload(1, 1, 100), 100);
	size_t n = net_frame_pack(NET_FRAME_ENVELOPE, &m.env.base, frame);
	raw_send(fd, frame, n);                /* a good one first: it is delivered */
	frame[NET_FRAME_HDR_LEN + 60] ^= 0x10; /* then the same with one bit flipped in the body */
	raw_send(fd, frame, n);
	expect_refused(fd, port, false, "bad CRC", NET_CLOSE_PROTOCOL);
	pthread_mutex_lock(&fx.mu);
	ck_assert_uint_eq(fx.from_clients, 1);
	pthread_mutex_unlock(&fx.mu);
	fixture_stop();
}
END_TEST

START_TEST(undecodable_body_closes_the_link)
{
	uint16_t port;
	uint8_t frame[NET_FRAME_HDR_LEN + 11];
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				       0xff, 0xff, 0xff, 0xff, 0x01};
	fixture_start();
	int fd = raw_connect(&port);
	ck_assert_int_eq(raw_handshake(fd, 0, &good_keys, NULL), 0);
	memcpy(frame + NET_FRAME_HDR_LEN, junk, sizeof(junk));
	net_frame_seal(frame, NET_FRAME_ENVELOPE, sizeof(junk)); /* a valid CRC */
	raw_send(fd, frame, sizeof(frame));
	expect_refused(fd, port, false, "does not decode", NET_CLOSE_PROTOCOL);
	pthread_mutex_lock(&fx.mu);
	ck_assert_uint_eq(fx.from_clients, 0);
	pthread_mutex_unlock(&fx.mu);
	fixture_stop();
}
END_TEST

/* 256 KiB of empty PaxosMsgs: 2 bytes each on the wire, ~260 in memory.
 * Refused before it is built, like a body that does not decode. */
START_TEST(amplifying_body_closes_the_link)
{
	uint16_t port;
	struct th_body b = {0}, frame = {0};
	uint8_t hdr[NET_FRAME_HDR_LEN] = {0};
	fixture_start();
	int fd = raw_connect(&port);
	ck_assert_int_eq(raw_handshake(fd, 0, &good_keys, NULL), 0);
	th_body_empties(&b, 1, 128 * 1024);
	th_body_envelope(&b, 10);
	th_body_raw(&frame, hdr, sizeof(hdr));
	th_body_raw(&frame, b.p, b.len);
	net_frame_seal(frame.p, NET_FRAME_ENVELOPE, b.len);
	raw_send(fd, frame.p, frame.len);
	expect_refused(fd, port, false, "bytes of memory to decode", NET_CLOSE_PROTOCOL);
	pthread_mutex_lock(&fx.mu);
	ck_assert_uint_eq(fx.from_clients, 0);
	pthread_mutex_unlock(&fx.mu);
	ck_assert_uint_eq(stats(0).decode_errors, 1);
	th_body_free(&b);
	th_body_free(&frame);
	fixture_stop();
}
END_TEST

START_TEST(message_before_authentication_is_refused)
{
	uint16_t port;
	struct net_hs hs;
	struct th_msg m;
	fixture_start();
	int fd = raw_connect(&port);
	send_preamble_hello(fd, &hs, &good_keys, 0, NULL);
	th_msg_init(&m, 1, 1, "sneaky", 6);
	send_frame(fd, NET_FRAME_ENVELOPE, &m.env.base, NULL);
	expect_refused(fd, port, true, "before the handshake finished", NET_CLOSE_PROTOCOL);
	pthread_mutex_lock(&fx.mu);
	ck_assert_uint_eq(fx.from_clients, 0);
	pthread_mutex_unlock(&fx.mu);
	fixture_stop();
}
END_TEST

START_TEST(slow_loris_is_cut_off)
{
	uint16_t port;
	uint8_t pre[NET_PREAMBLE_LEN];
	char portstr[16];
	int64_t closed = -1;
	fixture_start();
	int fd = raw_connect(&port);
	net_preamble_encode(pre);
	int64_t t0 = th_now_ms();
	/* One byte a second of a perfectly valid preamble, reading (and
	 * discarding) whatever node 1 says, until it hangs up. */
	for (int i = 0; i < NET_PREAMBLE_LEN && closed < 0; i++) {
		raw_send(fd, pre + i, 1);
		int64_t next = th_now_ms() + 1000;
		while (closed < 0 && th_now_ms() < next) {
			uint8_t buf[512];
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			if (poll(&pfd, 1, (int)(next - th_now_ms())) > 0 &&
			    recv(fd, buf, sizeof(buf), 0) <= 0)
				closed = th_now_ms() - t0;
		}
	}
	raw_close(fd);
	ck_assert_msg(closed >= HANDSHAKE_TIMEOUT_MS - 100 && closed <= HANDSHAKE_TIMEOUT_MS + 1000,
		      "cut off after %lld ms", (long long)closed);
	snprintf(portstr, sizeof(portstr), ":%u:", port);
	ck_assert(th_log_wait(portstr, "handshake not finished after 1500 ms", 1000));
	ck_assert_int_eq(th_log_count(portstr, NULL), 1);
	assert_still_serving();
	fixture_stop();
}
END_TEST

START_TEST(a_thousand_connections_at_once)
{
	enum { CONNS = 1000 };
	static int fds[CONNS];
	struct rlimit rl;
	uint8_t junk[64];

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 2 * CONNS + 200) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	ck_assert_msg(rl.rlim_cur >= 2 * CONNS + 200,
		      "need %d file descriptors (both ends live in this process)", 2 * CONNS + 200);
	fixture_start();
	memcpy(junk, th_payload(9, 9, sizeof(junk)), sizeof(junk));
	for (int i = 0; i < CONNS; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(fx.ports[0])};
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		ck_assert_int_ge(fds[i], 0);
		connect(fds[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	/* a third of them send garbage, the rest sit idle */
	usleep(50000);
	for (int i = 0; i < CONNS; i += 3)
		send(fds[i], junk, sizeof(junk), MSG_NOSIGNAL);
	/* the good link stays up and busy all the while */
	assert_still_serving();
	/* an honest client gets in while the flood is still connected */
	uint16_t port;
	int fd = raw_connect(&port);
	ck_assert_int_eq(raw_handshake(fd, 0, &good_keys, NULL), 0);
	raw_close(fd);
	for (int i = 0; i < CONNS; i++)
		close(fds[i]);
	assert_still_serving();
	/* and after it, too */
	fd = raw_connect(&port);
	ck_assert_int_eq(raw_handshake(fd, 0, &good_keys, NULL), 0);
	raw_close(fd);
	/* the log was not flooded: refusals are rate limited */
	ck_assert_int_le(th_log_count("net(1)", NULL), 200);
	ck_assert_uint_ge(stats(0).refused, 300);
	fixture_stop();
}
END_TEST

START_TEST(authenticated_client_is_served)
{
	uint16_t port;
	uint8_t frame[512];
	struct th_msg m;
	size_t blen;
	struct net_frame_msg msg;
	uint64_t seq, tag;
	const uint8_t *pl;
	size_t len;

	fixture_start();
	int fd = raw_connect(&port);
	ck_assert_int_eq(raw_handshake(fd, 0, &good_keys, NULL), 0);
	th_msg_init(&m, 42, 4, "hello", 5);
	size_t n = net_frame_pack(NET_FRAME_ENVELOPE, &m.env.base, frame);
	raw_send(fd, frame, n);
	/* node 1 answers the client through its handle; skip heartbeats */
	int type;
	do
		type = raw_read_frame(fd, frame, sizeof(frame), &blen, 2000);
	while (type == NET_FRAME_HEARTBEAT);
	ck_assert_int_eq(type, NET_FRAME_ENVELOPE);
	ck_assert_int_eq(
	    net_frame_decode((uint8_t)type, frame + NET_FRAME_HDR_LEN, blen, &msg, NULL, 0), 0);
	ck_assert(th_msg_get(msg.u.env, &seq, &tag, &pl, &len));
	ck_assert_uint_eq(seq, 42);
	ck_assert(len == 5 && !memcmp(pl, "hello", 5));
	net_frame_msg_free(&msg);
	pthread_mutex_lock(&fx.mu);
	ck_assert_uint_eq(fx.from_clients, 1);
	pthread_mutex_unlock(&fx.mu);
	raw_close(fd);
	assert_still_serving();
	fixture_stop();
}
END_TEST

/* A large frame (read by net straight from the socket) that ends early. */
START_TEST(truncated_large_frame_closes_the_link)
{
	enum { LEN = 200 * 1024 };
	static uint8_t frame[LEN + 64];
	uint16_t port;
	struct th_msg m;
	fixture_start();
	int fd = raw_connect(&port);
	ck_assert_int_eq(raw_handshake(fd, 0, &good_keys, NULL), 0);
	th_msg_init(&m, 1, 1, th_payload(1, 1, LEN), LEN);
	size_t n = net_frame_pack(NET_FRAME_ENVELOPE, &m.env.base, frame);
	raw_send(fd, frame, n / 2);
	usleep(50000);
	shutdown(fd, SHUT_WR);
	expect_refused(fd, port, false, "closed in the middle of a frame", 0);
	pthread_mutex_lock(&fx.mu);
	ck_assert_uint_eq(fx.from_clients, 0);
	pthread_mutex_unlock(&fx.mu);
	fixture_stop();
}
END_TEST

START_TEST(bad_crc_in_a_large_frame_closes_the_link)
{
	enum { LEN = 300 * 1024 };
	static uint8_t frame[LEN + 64];
	uint16_t port;
	struct th_msg m;
	fixture_start();
	int fd = raw_connect(&port);
	ck_assert_int_eq(raw_handshake(fd, 0, &good_keys, NULL), 0);
	th_msg_init(&m, 1, 1, th_payload(1, 1, LEN), LEN);
	size_t n = net_frame_pack(NET_FRAME_ENVELOPE, &m.env.base, frame);
	frame[n - 1000] ^= 0x01;
	raw_send(fd, frame, n);
	expect_refused(fd, port, false, "bad CRC", NET_CLOSE_PROTOCOL);
	pthread_mutex_lock(&fx.mu);
	ck_assert_uint_eq(fx.from_clients, 0);
	pthread_mutex_unlock(&fx.mu);
	fixture_stop();
}
END_TEST

/* small, large (arriving in slow pieces), small: handed up in that order,
 * intact, and nothing of the third is swallowed by the second. */
START_TEST(large_frame_in_pieces_keeps_link_order)
{
	enum { BIG = 300 * 1024 };
	static uint8_t buf[3 * (BIG + 64)], in[BIG + 64];
	uint16_t port;
	size_t n = 0, blen;
	struct th_msg m;

	fixture_start();
	int fd = raw_connect(&port);
	ck_assert_int_eq(raw_handshake(fd, 0, &good_keys, NULL), 0);
	th_msg_init(&m, 1, 3, th_payload(3, 1, 10), 10);
	n += net_frame_pack(NET_FRAME_ENVELOPE, &m.env.base, buf + n);
	th_msg_init(&m, 2, 3, th_payload(3, 2, BIG), BIG);
	n += net_frame_pack(NET_FRAME_ENVELOPE, &m.env.base, buf + n);
	th_msg_init(&m, 3, 3, th_payload(3, 3, 20), 20);
	n += net_frame_pack(NET_FRAME_ENVELOPE, &m.env.base, buf + n);
	/* odd-sized pieces, so frame edges fall anywhere */
	for (size_t off = 0, piece = 1; off < n; off += piece, piece = piece * 7 % 65521 + 1) {
		if (piece > n - off)
			piece = n - off;
		ck_assert(raw_send(fd, buf + off, piece));
		if (off % 5 == 0)
			usleep(1000);
	}
	for (uint64_t want = 1; want <= 3;) {
		struct net_frame_msg msg;
		uint64_t seq, tag;
		const uint8_t *pl;
		size_t len;
		int type = raw_read_frame(fd, in, sizeof(in), &blen, 3000);
		ck_assert_int_ge(type, 0);
		if (type == NET_FRAME_HEARTBEAT)
			continue;
		ck_assert_int_eq(type, NET_FRAME_ENVELOPE);
		ck_assert_int_eq(
		    net_frame_decode((uint8_t)type, in + NET_FRAME_HDR_LEN, blen, &msg, NULL, 0),
		    0);
		ck_assert(th_msg_get(msg.u.env, &seq, &tag, &pl, &len));
		ck_assert_uint_eq(seq, want);
		ck_assert_uint_eq(len, want == 1 ? 10 : want == 2 ? BIG : 20);
		ck_assert(!memcmp(pl, th_payload(3, seq, len), len));
		net_frame_msg_free(&msg);
		want++;
	}
	pthread_mutex_lock(&fx.mu);
	ck_assert_uint_eq(fx.from_clients, 3);
	pthread_mutex_unlock(&fx.mu);
	raw_close(fd);
	assert_still_serving();
	fixture_stop();
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("net_badinput");
	TEST_CASE(s, authenticated_client_is_served, 20);
	TEST_CASE(s, garbage_is_refused, 20);
	TEST_CASE(s, wrong_magic_is_refused, 20);
	TEST_CASE(s, wrong_version_is_refused, 20);
	TEST_CASE(s, wrong_cluster_is_refused, 20);
	TEST_CASE(s, wrong_secret_is_refused, 20);
	TEST_CASE(s, plaintext_peer_is_refused, 20);
	TEST_CASE(s, peer_claiming_another_nodes_id_is_refused, 20);
	TEST_CASE(s, replayed_handshake_is_refused, 20);
	TEST_CASE(s, unknown_node_id_is_refused, 20);
	TEST_CASE(s, second_connection_for_a_connected_id_is_refused, 20);
	TEST_CASE(s, oversized_length_is_refused, 20);
	TEST_CASE(s, truncated_frame_closes_the_link, 20);
	TEST_CASE(s, bad_crc_closes_the_link, 20);
	TEST_CASE(s, amplifying_body_closes_the_link, 20);
	TEST_CASE(s, undecodable_body_closes_the_link, 20);
	TEST_CASE(s, message_before_authentication_is_refused, 20);
	TEST_CASE(s, slow_loris_is_cut_off, 20);
	TEST_CASE(s, a_thousand_connections_at_once, 60);
	TEST_CASE(s, truncated_large_frame_closes_the_link, 20);
	TEST_CASE(s, bad_crc_in_a_large_frame_closes_the_link, 20);
	TEST_CASE(s, large_frame_in_pieces_keeps_link_order, 30);
	return s;
}
