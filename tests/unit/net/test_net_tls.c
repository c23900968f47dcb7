/* tests/unit/net/test_net_tls.c — what TLS adds against someone on the
 * path: a bit flipped in the middle of the stream (by a forwarding proxy
 * between a client and node 1) drops the link, nothing altered is handed
 * up, and the link comes back through the same proxy and carries traffic
 * again. And links still come up hours after the mesh started (the PSK's
 * session must not age: OpenSSL's clock is moved by interposing time()).
 *
 * The proxy runs on a thread of its own with blocking sockets, one
 * connection at a time (a client has one link to a node at a time); it
 * flips one bit, once, FLIP_AT bytes into the client-to-node direction. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "net/net.h"
#include "tests/unit/net/harness.h"

/* OpenSSL (libssl, a shared library) reads the clock through time(): this
 * definition takes its place, skewed by `time_skew` seconds. */
static volatile long time_skew;
time_t time(time_t *out)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	time_t t = ts.tv_sec + time_skew;
	if (out)
		*out = t;
	return t;
}

#define FLIP_AT  20000 /* well past the handshakes */
#define MSG_LEN  4096
#define MSG_SALT 7

struct proxy {
	pthread_t th;
	uint16_t listen_port, to_port;
	int lfd;
	volatile bool stop;
	volatile int flips;       /* bits flipped so far (at most one) */
	volatile int connections; /* accepted so far */
};

static int tcp_to(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Forwards between `a` (the client) and `b` (node 1) until either closes. */
static void forward(struct proxy *p, int a, int b)
{
	static uint8_t buf[1 << 16];
	uint64_t a_to_b = 0;

	while (!p->stop) {
		struct pollfd pfd[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
		if (poll(pfd, 2, 50) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = recv(pfd[i].fd, buf, sizeof(buf), 0);
			if (r <= 0)
				return;
			if (i == 0 && !p->flips && a_to_b + (uint64_t)r > FLIP_AT) {
				buf[FLIP_AT - a_to_b] ^= 0x04;
				p->flips++;
			}
			if (i == 0)
				a_to_b += (uint64_t)r;
			if (send(pfd[1 - i].fd, buf, (size_t)r, MSG_NOSIGNAL) != r)
				return;
		}
	}
}

static void *proxy_main(void *arg)
{
	struct proxy *p = arg;
	while (!p->stop) {
		struct pollfd pfd = {.fd = p->lfd, .events = POLLIN};
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		int a = accept(p->lfd, NULL, NULL);
		if (a < 0)
			continue;
		p->connections++;
		int b = tcp_to(p->to_port);
		if (b >= 0) {
			forward(p, a, b);
			close(b);
		}
		close(a);
	}
	return NULL;
}

static void proxy_start(struct proxy *p)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(p->listen_port)};
	int one = 1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(p->lfd, 0);
	setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert_int_eq(bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(p->lfd, 8), 0);
	ck_assert_int_eq(pthread_create(&p->th, NULL, proxy_main, p), 0);
}

static void proxy_stop(struct proxy *p)
{
	p->stop = true;
	pthread_join(p->th, NULL);
	close(p->lfd);
}

/* ---- the two sides ---------------------------------------------------------- */

struct world {
	struct net_mesh *node, *client;
	int ups, downs;
	uint64_t sent, echoed, bad, echoed_after_reup;
};

static int node_recv(void *arg, uint32_t from, const Paxfs__Envelope *env)
{
	struct world *w = arg;
	net_send(w->node, from, env); /* echo */
	return 0;
}

static int client_recv(void *arg, uint32_t from, const Paxfs__Envelope *env)
{
	struct world *w = arg;
	uint64_t seq, tag;
	const uint8_t *pl;
	size_t len;
	if (!th_msg_get(env, &seq, &tag, &pl, &len) || len != MSG_LEN ||
	    memcmp(pl, th_payload(seq, MSG_SALT, len), len))
		w->bad++;
	w->echoed++;
	if (w->ups >= 2)
		w->echoed_after_reup++;
	return 0;
}

static void client_peer(void *arg, uint32_t peer, bool up)
{
	struct world *w = arg;
	if (up)
		w->ups++;
	else
		w->downs++;
}

/* Sends one message per call while the link is up; true once the link
 * has come back after the flip and carried traffic again. */
static bool pump(void *arg)
{
	struct world *w = arg;
	struct th_msg m;
	if (net_peer_up(w->client, 1)) {
		th_msg_init(&m, w->sent, MSG_SALT, th_payload(w->sent, MSG_SALT, MSG_LEN), MSG_LEN);
		if (net_send(w->client, 1, &m.env) == 0)
			w->sent++;
	}
	return w->echoed_after_reup >= 10;
}

START_TEST(flipped_bit_drops_the_link_and_it_comes_back)
{
	struct net_config cn, cc;
	struct net_callbacks nb = {node_recv, NULL, NULL}, cb = {client_recv, client_peer, NULL};
	struct world w = {0};
	struct proxy p = {0};
	struct net_peer_stats st;
	uint16_t ports[2];
	char err[256];

	th_log_capture();
	th_free_ports(ports, 2);
	p.listen_port = ports[1];
	p.to_port = ports[0];
	proxy_start(&p);
	th_config(&cn, 1, &ports[0], 1);
	th_config(&cc, 1, &ports[1], 0); /* the client reaches node 1 through the proxy */
	struct event_base *base = event_base_new();
	ck_assert_int_eq(net_mesh_new(base, &cn, &nb, &w, &w.node, err, sizeof(err)), 0);
	ck_assert_int_eq(net_mesh_new(base, &cc, &cb, &w, &w.client, err, sizeof(err)), 0);

	ck_assert_msg(th_run_until(base, pump, &w, 15000),
		      "flips %d, ups %d, downs %d, sent %llu, echoed %llu", p.flips, w.ups, w.downs,
		      (unsigned long long)w.sent, (unsigned long long)w.echoed);
	ck_assert_int_eq(p.flips, 1);
	ck_assert_int_ge(p.connections, 2);
	ck_assert_int_ge(w.downs, 1);
	ck_assert_uint_eq(w.bad, 0); /* nothing altered was handed up */
	/* node 1 saw a record that does not authenticate, and said so */
	ck_assert(th_log_wait("net(1)", "TLS error", 1000));
	ck_assert_int_eq(net_peer_stats(w.node, 0, &st), 0);
	ck_assert_uint_ge(st.decode_errors, 1);

	net_mesh_free(w.client);
	net_mesh_free(w.node);
	event_base_free(base);
	proxy_stop(&p);
}
END_TEST

static bool client_up(void *arg)
{
	return net_peer_up(arg, 1);
}

/* A node keeps the mesh for months: a client (or a restarted peer) that
 * connects an hour after the node's first handshake still gets in. The PSK
 * rode on one SSL_SESSION made at the first handshake, and OpenSSL drops a
 * session older than its timeout (300 s): every handshake after that fell
 * back to certificates and failed ("no suitable signature algorithm"). */
START_TEST(a_link_an_hour_later_still_comes_up)
{
	struct net_config cn, cc;
	struct net_callbacks nb = {node_recv, NULL, NULL}, cb = {client_recv, client_peer, NULL};
	struct world w = {0};
	struct net_mesh *client;
	uint16_t port;
	char err[256];

	th_log_capture();
	th_free_ports(&port, 1);
	th_config(&cn, 1, &port, 1);
	th_config(&cc, 1, &port, 0);
	struct event_base *base = event_base_new();
	ck_assert_int_eq(net_mesh_new(base, &cn, &nb, &w, &w.node, err, sizeof(err)), 0);
	ck_assert_int_eq(net_mesh_new(base, &cc, &cb, &w, &client, err, sizeof(err)), 0);
	ck_assert(th_run_until(base, client_up, client, 5000));
	net_mesh_free(client);

	time_skew = 3600;
	ck_assert_int_eq(net_mesh_new(base, &cc, &cb, &w, &client, err, sizeof(err)), 0);
	ck_assert_msg(th_run_until(base, client_up, client, 5000), "no link an hour later: %s",
		      th_log_capture());
	net_mesh_free(client);
	time_skew = 0;
	net_mesh_free(w.node);
	event_base_free(base);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("net_tls");
	TEST_CASE(s, flipped_bit_drops_the_link_and_it_comes_back, 30);
	TEST_CASE(s, a_link_an_hour_later_still_comes_up, 30);
	return s;
}
