/* tests/unit/net/test_net_roles.c — the read-only client credential
 * (net_config.client_secret, docs/security.md "Roles"): a client that
 * proves it gets a client link and nothing more; it can never stand for a
 * node; a wrong one is refused; the node credential still works for nodes
 * and clients; a client's frame over client_max_frame closes its link.
 *
 * Everything runs in this process on loopback: node meshes and client
 * meshes on one event base, and (for the forged hello) a raw TLS client on
 * a thread of its own while the node's loop runs here. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "net/frame.h"
#include "net/handshake.h"
#include "net/net.h"
#include "net/tls.h"
#include "tests/unit/net/harness.h"

#define CLIENT_SECRET "client-credential-0123456789"
#define WRONG_SECRET  "client-credential-9876543210"
#define MSG_SALT      11

struct world {
	struct net_mesh *node, *client;
	uint64_t node_got, client_got, client_bad;
	uint32_t last_from; /* the `from` of the node's last envelope */
};

static int node_recv(void *arg, uint32_t from, const Paxfs__Envelope *env)
{
	struct world *w = arg;
	w->node_got++;
	w->last_from = from;
	net_send(w->node, from, env); /* echo */
	return 0;
}

static int client_recv(void *arg, uint32_t from, const Paxfs__Envelope *env)
{
	struct world *w = arg;
	uint64_t seq, tag;
	const uint8_t *pl;
	size_t len;
	if (from != 1 || !th_msg_get(env, &seq, &tag, &pl, &len) ||
	    memcmp(pl, th_payload(seq, MSG_SALT, len), len))
		w->client_bad++;
	w->client_got++;
	return 0;
}

/* A node config (node 1 of one) that also accepts the client credential. */
static void node_config(struct net_config *c, uint16_t *port)
{
	th_config(c, 1, port, 1);
	c->client_secret = (const uint8_t *)CLIENT_SECRET;
	c->client_secret_len = strlen(CLIENT_SECRET);
}

/* A client config holding only `client_secret` (no node secret). */
static void client_config(struct net_config *c, uint16_t *port, const char *client_secret)
{
	th_config(c, 1, port, 0);
	c->secret = NULL;
	c->secret_len = 0;
	c->client_secret = (const uint8_t *)client_secret;
	c->client_secret_len = strlen(client_secret);
}

static bool client_up(void *arg)
{
	return net_peer_up(((struct world *)arg)->client, 1);
}

static bool echoed(void *arg)
{
	return ((struct world *)arg)->client_got >= 1;
}

/* Opens the node and the client on `base`; both must be accepted. */
static void open_pair(struct event_base *base, struct world *w, const struct net_config *cn,
		      const struct net_config *cc)
{
	struct net_callbacks nb = {node_recv, NULL, NULL}, cb = {client_recv, NULL, NULL};
	char err[256];
	ck_assert_msg(net_mesh_new(base, cn, &nb, w, &w->node, err, sizeof(err)) == 0, "node: %s",
		      err);
	ck_assert_msg(net_mesh_new(base, cc, &cb, w, &w->client, err, sizeof(err)) == 0,
		      "client: %s", err);
}

/* One envelope of `len` bytes from the client to node 1 and back. */
static void exchange(struct event_base *base, struct world *w, size_t len)
{
	struct th_msg m;
	uint64_t before = w->client_got;
	th_msg_init(&m, 5, MSG_SALT, th_payload(5, MSG_SALT, len), len);
	ck_assert_int_eq(net_send(w->client, 1, &m.env), 0);
	ck_assert_msg(th_run_until(base, echoed, w, 5000), "no echo: %s", th_log_capture());
	ck_assert_uint_eq(w->client_got, before + 1);
	ck_assert_uint_eq(w->client_bad, 0);
	ck_assert_uint_ge(w->last_from, NET_CLIENT_HANDLE_MIN); /* a client, never a node */
}

static void close_pair(struct event_base *base, struct world *w)
{
	net_mesh_free(w->client);
	net_mesh_free(w->node);
	event_base_free(base);
}

START_TEST(client_secret_alone_connects_as_a_client)
{
	struct net_config cn, cc;
	struct world w = {0};
	uint16_t port;

	th_log_capture();
	th_free_ports(&port, 1);
	node_config(&cn, &port);
	client_config(&cc, &port, CLIENT_SECRET);
	struct event_base *base = event_base_new();
	open_pair(base, &w, &cn, &cc);
	ck_assert_msg(th_run_until(base, client_up, &w, 5000), "client not up: %s",
		      th_log_capture());
	exchange(base, &w, 100);
	/* the node says which credential the client proved */
	ck_assert(th_log_wait("net(1): client 256", "client credential", 1000));
	close_pair(base, &w);
}
END_TEST

/* Polls the counters of node 1's peer 0 until `auth_failures` moved. */
struct refusal {
	struct world *w;
	struct net_peer_stats st;
};

static bool node_refused(void *arg)
{
	struct refusal *r = arg;
	net_peer_stats(r->w->node, 0, &r->st);
	return r->st.auth_failures + r->st.refused >= 1;
}

START_TEST(a_wrong_client_secret_is_refused)
{
	struct net_config cn, cc;
	struct world w = {0};
	struct refusal r = {.w = &w};
	struct net_peer_stats cs;
	uint16_t port;

	th_log_capture();
	th_free_ports(&port, 1);
	node_config(&cn, &port);
	client_config(&cc, &port, WRONG_SECRET);
	struct event_base *base = event_base_new();
	open_pair(base, &w, &cn, &cc);
	ck_assert(th_run_until(base, node_refused, &r, 5000));
	th_run_for(base, 300);
	ck_assert(!net_peer_up(w.client, 1));
	ck_assert_uint_ge(r.st.auth_failures, 1);
	ck_assert_int_eq(net_peer_stats(w.client, 1, &cs), 0);
	ck_assert_uint_ge(cs.auth_failures, 1);
	ck_assert(th_log_wait("net(1)", "authentication failed", 1000));
	ck_assert_uint_eq(w.node_got, 0);
	close_pair(base, &w);
}
END_TEST

/* A node without client_secret refuses the client credential, saying so. */
START_TEST(a_node_without_client_secret_refuses_the_client_credential)
{
	struct net_config cn, cc;
	struct world w = {0};
	struct refusal r = {.w = &w};
	uint16_t port;

	th_log_capture();
	th_free_ports(&port, 1);
	th_config(&cn, 1, &port, 1);
	client_config(&cc, &port, CLIENT_SECRET);
	struct event_base *base = event_base_new();
	open_pair(base, &w, &cn, &cc);
	ck_assert(th_run_until(base, node_refused, &r, 5000));
	th_run_for(base, 300);
	ck_assert(!net_peer_up(w.client, 1));
	ck_assert_msg(th_log_wait("net(1)", "no client_secret", 1000), "log: %s", th_log_capture());
	close_pair(base, &w);
}
END_TEST

static bool nodes_up(void *arg)
{
	struct net_mesh **n = arg;
	return net_peer_up(n[0], 2) && net_peer_up(n[1], 1);
}

/* Nodes that accept the client credential still link with the node
 * credential, and a client holding the node secret still gets in. */
START_TEST(the_node_secret_still_works)
{
	struct net_config c1, c2, cc;
	struct net_callbacks nb = {node_recv, NULL, NULL}, cb = {client_recv, NULL, NULL};
	struct world w = {0};
	struct net_mesh *n[2];
	uint16_t ports[2];
	char err[256];

	th_log_capture();
	th_free_ports(ports, 2);
	th_config(&c1, 2, ports, 1);
	th_config(&c2, 2, ports, 2);
	c1.client_secret = c2.client_secret = (const uint8_t *)CLIENT_SECRET;
	c1.client_secret_len = c2.client_secret_len = strlen(CLIENT_SECRET);
	th_config(&cc, 2, ports, 0); /* the node secret, no client secret: as before */
	struct event_base *base = event_base_new();
	ck_assert_int_eq(net_mesh_new(base, &c1, &nb, &w, &n[0], err, sizeof(err)), 0);
	ck_assert_int_eq(net_mesh_new(base, &c2, &nb, &w, &n[1], err, sizeof(err)), 0);
	w.node = n[0];
	ck_assert_int_eq(net_mesh_new(base, &cc, &cb, &w, &w.client, err, sizeof(err)), 0);
	ck_assert_msg(th_run_until(base, nodes_up, n, 5000), "nodes not linked: %s",
		      th_log_capture());
	ck_assert(th_run_until(base, client_up, &w, 5000));
	exchange(base, &w, 100);
	ck_assert(th_log_wait("net(1): client 256", "node credential", 1000));
	net_mesh_free(w.client);
	net_mesh_free(n[1]);
	net_mesh_free(n[0]);
	event_base_free(base);
}
END_TEST

static bool client_down(void *arg)
{
	return !net_peer_up(((struct world *)arg)->client, 1);
}

/* A client's frame up to client_max_frame is served; one over it closes
 * the link with a line that says so. */
START_TEST(an_oversize_client_frame_closes_the_link)
{
	struct net_config cn, cc;
	struct world w = {0};
	struct th_msg m;
	struct net_peer_stats st;
	uint16_t port;
	size_t big = NET_DEFAULT_CLIENT_MAX_FRAME + 1000;

	th_log_capture();
	th_free_ports(&port, 1);
	node_config(&cn, &port);
	client_config(&cc, &port, CLIENT_SECRET);
	struct event_base *base = event_base_new();
	open_pair(base, &w, &cn, &cc);
	ck_assert(th_run_until(base, client_up, &w, 5000));
	exchange(base, &w, NET_DEFAULT_CLIENT_MAX_FRAME - 1000); /* under the limit: fine */

	th_msg_init(&m, 6, MSG_SALT, th_payload(6, MSG_SALT, big), big);
	ck_assert_int_eq(net_send(w.client, 1, &m.env), 0); /* the client's own limit is larger */
	ck_assert_msg(th_run_until(base, client_down, &w, 5000), "link still up: %s",
		      th_log_capture());
	ck_assert_msg(th_log_wait("net(1): client 256", "exceeds the limit of 1048576", 1000),
		      "log: %s", th_log_capture());
	ck_assert_uint_eq(w.node_got, 1); /* only the first one was handed up */
	ck_assert_int_eq(net_peer_stats(w.node, 0, &st), 0);
	ck_assert_uint_ge(st.decode_errors, 1);
	close_pair(base, &w);
}
END_TEST

/* ---- the client role's rate ---------------------------------------------- */

/* Sends `n` envelopes of `len` bytes from the client, `gap_ms` apart
 * (0: all at once). */
static void client_sends(struct event_base *base, struct world *w, int n, size_t len,
			 unsigned gap_ms)
{
	struct th_msg m;
	for (int i = 0; i < n; i++) {
		th_msg_init(&m, 100 + (uint64_t)i, MSG_SALT,
			    th_payload(100 + (uint64_t)i, MSG_SALT, len), len);
		ck_assert_int_eq(net_send(w->client, 1, &m.env), 0);
		if (gap_ms)
			th_run_for(base, gap_ms);
	}
}

/* A client within its frame rate is served; a burst beyond it closes its
 * link, saying so. */
START_TEST(a_client_over_its_frame_rate_is_dropped)
{
	struct net_config cn, cc;
	struct world w = {0};
	struct net_peer_stats st;
	uint16_t port;

	th_log_capture();
	th_free_ports(&port, 1);
	node_config(&cn, &port);
	cn.client_frames_per_s = 50; /* a bucket of 100 frames */
	client_config(&cc, &port, CLIENT_SECRET);
	struct event_base *base = event_base_new();
	open_pair(base, &w, &cn, &cc);
	ck_assert(th_run_until(base, client_up, &w, 5000));
	client_sends(base, &w, 120, 100, 40); /* 25 a second for 4.8 s: fine */
	th_run_for(base, 200);
	ck_assert_msg(net_peer_up(w.client, 1), "dropped at 25 frames/s: %s", th_log_capture());
	ck_assert_uint_eq(w.node_got, 120);
	client_sends(base, &w, 400, 100, 0); /* 400 at once */
	ck_assert_msg(th_run_until(base, client_down, &w, 5000), "link still up: %s",
		      th_log_capture());
	ck_assert_msg(
	    th_log_wait("net(1): client 256", "exceeds the client rate of 50 frames/s", 1000),
	    "log: %s", th_log_capture());
	ck_assert_uint_lt(w.node_got, 120 + 400);
	ck_assert_int_eq(net_peer_stats(w.node, 0, &st), 0);
	ck_assert_uint_ge(st.refused, 1);
	close_pair(base, &w);
}
END_TEST

/* The same for bytes: a bucket of 2 s of client_bytes_per_s. */
START_TEST(a_client_over_its_byte_rate_is_dropped)
{
	struct net_config cn, cc;
	struct world w = {0};
	uint16_t port;

	th_log_capture();
	th_free_ports(&port, 1);
	node_config(&cn, &port);
	cn.client_max_frame = 64 << 10;
	cn.client_bytes_per_s = 64 << 10; /* a bucket of 128 KiB */
	client_config(&cc, &port, CLIENT_SECRET);
	struct event_base *base = event_base_new();
	open_pair(base, &w, &cn, &cc);
	ck_assert(th_run_until(base, client_up, &w, 5000));
	client_sends(base, &w, 2, 60 << 10, 0); /* 120 KiB: within the bucket */
	th_run_for(base, 300);
	ck_assert_msg(net_peer_up(w.client, 1), "dropped within the burst: %s", th_log_capture());
	ck_assert_uint_eq(w.node_got, 2);
	client_sends(base, &w, 6, 60 << 10, 0); /* 360 KiB more at once */
	ck_assert_msg(th_run_until(base, client_down, &w, 5000), "link still up: %s",
		      th_log_capture());
	ck_assert_msg(
	    th_log_wait("net(1): client 256", "exceeds the client rate of 65536 bytes/s", 1000),
	    "log: %s", th_log_capture());
	ck_assert_uint_lt(w.node_got, 8);
	close_pair(base, &w);
}
END_TEST

/* ---- a client credential that claims a node id ------------------------ */

struct forger {
	pthread_t th;
	uint16_t port;
	uint32_t claim;
	volatile bool done;
	bool tls_ok;
	char close_reason[300]; /* "code:reason" of node 1's CLOSE frame */
};

/* Plays a client that holds the client secret and sends a hello claiming
 * node `claim`, with a valid proof: then reads until node 1 hangs up. */
static void *forger_main(void *arg)
{
	struct forger *f = arg;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(f->port)};
	const struct net_hs_keys keys = {TH_CLUSTER, (const uint8_t *)CLIENT_SECRET,
					 strlen(CLIENT_SECRET), true};
	static uint8_t buf[1 << 16];
	uint8_t channel[NET_CHANNEL_LEN];
	Paxfs__NetHello hello;
	struct net_hs hs;
	size_t have = 0, off = NET_PREAMBLE_LEN, n;
	char why[200];
	enum net_tls_cred cred;
	SSL *ssl;
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	ssl = th_tls_client_as(fd, TH_CLUSTER, CLIENT_SECRET, true);
	if (!ssl || net_tls_established(ssl, channel, &cred, why, sizeof(why)) ||
	    cred != NET_TLS_CRED_CLIENT)
		goto out;
	f->tls_ok = true;
	/* preamble and hello, then nothing: the claim alone must be refused */
	net_preamble_encode(buf);
	if (net_hs_start(&hs, NET_ROLE_DIALER, f->claim, 1))
		goto out_ssl;
	net_hs_bind(&hs, channel);
	net_hs_hello(&hs, &keys, &hello);
	n = NET_PREAMBLE_LEN + net_frame_pack(NET_FRAME_HELLO, &hello.base, buf + NET_PREAMBLE_LEN);
	if (SSL_write(ssl, buf, (int)n) != (int)n)
		goto out_ssl;
	/* read everything node 1 sends until it closes (5 s receive timeout) */
	for (;;) {
		int r = SSL_read(ssl, buf + have, (int)(sizeof(buf) - have));
		if (r <= 0)
			break;
		have += (size_t)r;
		if (have == sizeof(buf))
			break;
	}
	/* node 1 must refuse the hello itself; had it accepted the claim, it
	 * would wait for our proof and time the handshake out instead */
	while (off + NET_FRAME_HDR_LEN <= have) {
		struct net_frame_hdr h;
		struct net_frame_msg msg;
		if (net_frame_parse_header(buf + off, have, &h, NULL, 0) ||
		    off + NET_FRAME_HDR_LEN + h.len > have)
			break;
		if (h.type == NET_FRAME_CLOSE &&
		    !net_frame_decode(h.type, buf + off + NET_FRAME_HDR_LEN, h.len, &msg, NULL,
				      0)) {
			snprintf(f->close_reason, sizeof(f->close_reason), "%u:%s",
				 msg.u.close->code, msg.u.close->reason);
			net_frame_msg_free(&msg);
		}
		off += NET_FRAME_HDR_LEN + h.len;
	}
out_ssl:
	SSL_free(ssl);
out:
	if (fd >= 0)
		close(fd);
	f->done = true;
	return NULL;
}

static bool forger_done(void *arg)
{
	return ((struct forger *)arg)->done;
}

START_TEST(the_client_credential_cannot_claim_a_node_id)
{
	struct net_config cn;
	struct net_callbacks nb = {node_recv, NULL, NULL};
	struct world w = {0};
	struct forger f = {0};
	struct net_peer_stats st;
	uint16_t ports[2];
	char err[256];

	th_log_capture();
	th_free_ports(ports, 2);
	th_config(&cn, 2, ports, 1); /* node 2 is configured, never runs */
	cn.client_secret = (const uint8_t *)CLIENT_SECRET;
	cn.client_secret_len = strlen(CLIENT_SECRET);
	struct event_base *base = event_base_new();
	ck_assert_int_eq(net_mesh_new(base, &cn, &nb, &w, &w.node, err, sizeof(err)), 0);
	f.port = ports[0];
	f.claim = 2;
	ck_assert_int_eq(pthread_create(&f.th, NULL, forger_main, &f), 0);
	ck_assert(th_run_until(base, forger_done, &f, 10000));
	pthread_join(f.th, NULL);
	ck_assert_msg(f.tls_ok, "TLS with the client credential failed: %s", th_log_capture());
	ck_assert_msg(strstr(f.close_reason, "the client credential cannot claim node 2"),
		      "CLOSE frame '%s'", f.close_reason);
	ck_assert_msg(th_log_count("refused: the client credential cannot claim node 2", NULL) == 1,
		      "log: %s", th_log_capture());
	ck_assert_int_eq(net_peer_stats(w.node, 0, &st), 0);
	ck_assert_uint_eq(st.refused, 1);
	ck_assert_int_eq(net_peer_stats(w.node, 2, &st), 0);
	ck_assert(!st.up);
	ck_assert_uint_eq(w.node_got, 0);
	net_mesh_free(w.node);
	event_base_free(base);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("net_roles");
	TEST_CASE(s, client_secret_alone_connects_as_a_client, 30);
	TEST_CASE(s, a_wrong_client_secret_is_refused, 30);
	TEST_CASE(s, the_client_credential_cannot_claim_a_node_id, 30);
	TEST_CASE(s, a_node_without_client_secret_refuses_the_client_credential, 30);
	TEST_CASE(s, the_node_secret_still_works, 30);
	TEST_CASE(s, an_oversize_client_frame_closes_the_link, 30);
	TEST_CASE(s, a_client_over_its_frame_rate_is_dropped, 30);
	TEST_CASE(s, a_client_over_its_byte_rate_is_dropped, 30);
	return s;
}
