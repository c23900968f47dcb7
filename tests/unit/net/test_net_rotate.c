/* tests/unit/net/test_net_rotate.c — a second node secret accepted beside
 * the first (net_config.next_secret, docs/security.md "Rotating the
 * secret"): a node with (A, next B) takes peers and clients that dial
 * with A and with B, and proves back with the key they used; a node with
 * only A refuses B and says which key ids it takes; the key id on the
 * wire and in the log is never the secret's bytes.
 *
 * Everything runs in this process on loopback, node meshes and client
 * meshes on one event base; the ClientHello capture reads on a thread. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "net/net.h"
#include "net/tls.h"
#include "tests/unit/net/harness.h"

#define KEY_A TH_SECRET /* what th_config gives every side */
#define KEY_B "fedcba9876543210-next-secret"

static int recv_ignore(void *arg, uint32_t from, const Paxfs__Envelope *env)
{
	(void)arg;
	(void)from;
	(void)env;
	return 0;
}

static void with_secret(struct net_config *c, const char *secret)
{
	c->secret = (const uint8_t *)secret;
	c->secret_len = strlen(secret);
}

static void with_next(struct net_config *c, const char *next)
{
	c->next_secret = (const uint8_t *)next;
	c->next_secret_len = strlen(next);
}

static struct net_mesh *open_mesh(struct event_base *base, const struct net_config *c)
{
	struct net_callbacks cb = {recv_ignore, NULL, NULL};
	struct net_mesh *m;
	char err[256];
	ck_assert_msg(net_mesh_new(base, c, &cb, NULL, &m, err, sizeof(err)) == 0, "mesh: %s", err);
	return m;
}

static void key_id(const char *secret, char id[NET_TLS_KEY_ID_LEN + 1])
{
	ck_assert_int_eq(net_tls_key_id(TH_CLUSTER, (const uint8_t *)secret, strlen(secret), id),
			 0);
}

struct three {
	struct net_mesh *n[4]; /* n[1] (A, next B), n[2] (A), n[3] (B); n[0] a client (B) */
};

static bool all_in(void *arg)
{
	struct three *t = arg;
	return net_peer_up(t->n[1], 2) && net_peer_up(t->n[2], 1) && net_peer_up(t->n[1], 3) &&
	       net_peer_up(t->n[3], 1) && net_peer_up(t->n[0], 1);
}

/* Node 1 holds A and next B: node 2 (A only) and node 3 (B only) both
 * link with it, each under the key it dials with, and so does a client
 * holding B; nodes 2 and 3 share no key and never link. */
START_TEST(a_node_with_a_next_secret_accepts_both)
{
	struct net_config c[4];
	struct three t = {0};
	char ida[NET_TLS_KEY_ID_LEN + 1], idb[NET_TLS_KEY_ID_LEN + 1], want[200];
	uint16_t ports[3];

	th_log_capture();
	th_free_ports(ports, 3);
	for (uint32_t i = 0; i < 4; i++)
		th_config(&c[i], 3, ports, i);
	with_next(&c[1], KEY_B);
	with_secret(&c[3], KEY_B);
	with_secret(&c[0], KEY_B);
	key_id(KEY_A, ida);
	key_id(KEY_B, idb);
	struct event_base *base = event_base_new();
	for (int i = 1; i <= 3; i++)
		t.n[i] = open_mesh(base, &c[i]);
	t.n[0] = open_mesh(base, &c[0]);
	ck_assert_msg(th_run_until(base, all_in, &t, 10000), "not linked: %s", th_log_capture());
	th_run_for(base, 200);
	ck_assert(!net_peer_up(t.n[2], 3) && !net_peer_up(t.n[3], 2));
	/* node 1 says what it takes, and which key each link proved */
	snprintf(want, sizeof(want),
		 "accepts node keys %s (secret_file, dialed with) and %s (next_secret_file)", ida,
		 idb);
	ck_assert_msg(th_log_count("net(1): ", want) == 1, "log: %s", th_log_capture());
	snprintf(want, sizeof(want), "link up (they dialed, key %s, our next_secret_file)", idb);
	ck_assert_msg(th_log_count("net(1): node 3", want) == 1, "log: %s", th_log_capture());
	snprintf(want, sizeof(want), "key %s)", ida);
	ck_assert_msg(th_log_count("net(1): node 2", want) == 1, "log: %s", th_log_capture());
	ck_assert_msg(th_log_count("net(1): client", "connected (next node credential)") == 1,
		      "log: %s", th_log_capture());
	/* a node 2 or 3 with only one key says so, with no "and" */
	snprintf(want, sizeof(want), "accepts node keys %s (secret_file, dialed with);", idb);
	ck_assert_int_eq(th_log_count("net(3): ", want), 0);
	snprintf(want, sizeof(want), "accepts node keys %s (secret_file, dialed with)", idb);
	ck_assert_int_eq(th_log_count("net(3): ", want), 1);
	ck_assert_int_eq(th_log_count("net(3): ", "next_secret_file)"), 0);
	for (int i = 0; i <= 3; i++)
		net_mesh_free(t.n[i]);
	event_base_free(base);
}
END_TEST

struct pair {
	struct net_mesh *n1, *n2;
	struct net_peer_stats st;
};

static bool refused_twice(void *arg)
{
	struct pair *p = arg;
	net_peer_stats(p->n1, 0, &p->st);
	return p->st.auth_failures + p->st.refused >= 2;
}

/* A node with only A refuses a peer that dials with B, and its log names
 * both key ids: the operator sees which node lacks which key. */
START_TEST(a_node_without_the_next_secret_refuses_it)
{
	struct net_config c1, c2;
	struct pair p = {0};
	char ida[NET_TLS_KEY_ID_LEN + 1], idb[NET_TLS_KEY_ID_LEN + 1], want[200];
	uint16_t ports[2];

	th_log_capture();
	th_free_ports(ports, 2);
	th_config(&c1, 2, ports, 1);
	th_config(&c2, 2, ports, 2);
	with_secret(&c2, KEY_B);
	key_id(KEY_A, ida);
	key_id(KEY_B, idb);
	struct event_base *base = event_base_new();
	p.n1 = open_mesh(base, &c1);
	p.n2 = open_mesh(base, &c2);
	ck_assert_msg(th_run_until(base, refused_twice, &p, 10000), "log: %s", th_log_capture());
	ck_assert(!net_peer_up(p.n1, 2) && !net_peer_up(p.n2, 1));
	snprintf(want, sizeof(want),
		 "the peer dials with secret key id %s; this node accepts %s (secret_file)", idb,
		 ida);
	ck_assert_msg(th_log_wait("net(1): ", want, 2000), "log: %s", th_log_capture());
	net_mesh_free(p.n2);
	net_mesh_free(p.n1);
	event_base_free(base);
}
END_TEST

/* A config whose next secret is the secret, or too short, is refused. */
START_TEST(a_bad_next_secret_is_refused)
{
	struct net_config c;
	struct net_callbacks cb = {recv_ignore, NULL, NULL};
	struct net_mesh *m = NULL;
	struct event_base *base = event_base_new();
	uint16_t port;
	char err[256];

	th_free_ports(&port, 1);
	th_config(&c, 1, &port, 1);
	with_next(&c, KEY_A);
	ck_assert_int_eq(net_mesh_new(base, &c, &cb, NULL, &m, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "the next secret is the secret itself"), "%s", err);
	with_next(&c, "short");
	ck_assert_int_eq(net_mesh_new(base, &c, &cb, NULL, &m, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "next secret is 5 bytes"), "%s", err);
	ck_assert_ptr_null(m);
	event_base_free(base);
}
END_TEST

/* ---- what the key id gives away ---------------------------------------- */

struct capture {
	pthread_t th;
	int lfd;
	uint8_t buf[4096];
	size_t len;
};

/* Accepts one connection and reads what the dialer sends first: its
 * preamble-less TLS ClientHello, which carries the PSK identity. */
static void *capture_main(void *arg)
{
	struct capture *c = arg;
	struct timeval tv = {.tv_sec = 5};
	int fd = accept(c->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (c->len < sizeof(c->buf)) {
		ssize_t n = recv(fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n <= 0)
			break;
		c->len += (size_t)n;
		if (c->len > 5 && c->len >= 5 + (size_t)(c->buf[3] << 8 | c->buf[4]))
			break; /* one whole TLS record */
	}
	close(fd);
	return NULL;
}

static bool captured(void *arg)
{
	return ((struct capture *)arg)->len > 0;
}

/* The key id is 16 hex digits of a one-way function of (cluster,
 * secret): not the secret, not its start, different per secret and per
 * cluster; the ClientHello names it and holds no byte run of the secret;
 * the node's log names it and never the secret. */
START_TEST(the_key_id_never_holds_the_secret)
{
	/* hex-looking secrets, so an id made of their bytes would pass for one */
	static const char *const secrets[] = {"0123456789abcdef0123456789abcdef",
					      "abcdefabcdefabcdefabcdef", KEY_A, KEY_B};
	char id[NET_TLS_KEY_ID_LEN + 1], other[NET_TLS_KEY_ID_LEN + 1], hexstart[17];
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t salen = sizeof(sa);
	struct capture cap = {0};
	struct net_config c;
	struct net_mesh *m;
	uint16_t ports[2];

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		const char *s = secrets[i];
		key_id(s, id);
		ck_assert_uint_eq(strlen(id), NET_TLS_KEY_ID_LEN);
		for (const char *p = id; *p; p++)
			ck_assert(isxdigit((unsigned char)*p) && !isupper((unsigned char)*p));
		for (int j = 0; j < 8; j++)
			snprintf(hexstart + 2 * j, 3, "%02x", (unsigned char)s[j]);
		ck_assert_msg(!strstr(s, id) && strcmp(id, hexstart), "id %s of '%s'", id, s);
		/* no 6-byte run of the secret in the id */
		for (size_t j = 0; j + 6 <= strlen(s); j++)
			ck_assert_msg(!memmem(id, strlen(id), s + j, 6), "id %s of '%s'", id, s);
		key_id(s, other);
		ck_assert_str_eq(id, other);
		ck_assert_int_eq(net_tls_key_id("another", (const uint8_t *)s, strlen(s), other),
				 0);
		ck_assert_str_ne(id, other);
		if (i)
			ck_assert_str_ne(id, secrets[i - 1]);
	}
	key_id(KEY_A, id);
	key_id(KEY_B, other);
	ck_assert_str_ne(id, other);

	/* on the wire: node 1 (A, next B) dials "node 2", a bare listener */
	th_log_capture();
	th_free_ports(ports, 2);
	cap.lfd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(ports[1]);
	ck_assert_int_eq(setsockopt(cap.lfd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int)), 0);
	ck_assert_int_eq(bind(cap.lfd, (struct sockaddr *)&sa, salen), 0);
	ck_assert_int_eq(listen(cap.lfd, 4), 0);
	ck_assert_int_eq(pthread_create(&cap.th, NULL, capture_main, &cap), 0);
	th_config(&c, 2, ports, 1);
	with_next(&c, KEY_B);
	struct event_base *base = event_base_new();
	m = open_mesh(base, &c);
	ck_assert(th_run_until(base, captured, &cap, 5000));
	pthread_join(cap.th, NULL);
	close(cap.lfd);
	ck_assert_msg(memmem(cap.buf, cap.len, id, strlen(id)), "the ClientHello does not name %s",
		      id);
	ck_assert(!memmem(cap.buf, cap.len, other, strlen(other))); /* next: never dialed with */
	for (size_t j = 0; j + 6 <= strlen(KEY_A); j++)
		ck_assert(!memmem(cap.buf, cap.len, KEY_A + j, 6));
	for (size_t j = 0; j + 6 <= strlen(KEY_B); j++)
		ck_assert(!memmem(cap.buf, cap.len, KEY_B + j, 6));
	/* in the log: the ids, never the secrets */
	ck_assert(th_log_count("net(1): accepts node keys", id) == 1);
	ck_assert(th_log_count("net(1): accepts node keys", other) == 1);
	ck_assert_int_eq(th_log_count(KEY_A, NULL), 0);
	ck_assert_int_eq(th_log_count(KEY_B, NULL), 0);
	net_mesh_free(m);
	event_base_free(base);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("net_rotate");
	TEST_CASE(s, a_node_with_a_next_secret_accepts_both, 30);
	TEST_CASE(s, a_node_without_the_next_secret_refuses_it, 30);
	TEST_CASE(s, a_bad_next_secret_is_refused, 30);
	TEST_CASE(s, the_key_id_never_holds_the_secret, 30);
	return s;
}
