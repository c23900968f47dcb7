/* tests/unit/net/test_net_mesh.c — meshes in one process, one event loop:
 * everyone reaches everyone, send errors say what happened, back-pressure
 * bounds memory, simultaneous dials leave one link, clients get handles,
 * a wrong secret or cluster never comes up, the test filter drops and
 * delays (in order; held messages die with their link). */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "net/net.h"
#include "tests/unit/net/harness.h"

#define MAXN 4

struct node {
	struct net_mesh *m;
	uint32_t id;
	int ups[NET_MAX_NODES + 1], downs[NET_MAX_NODES + 1], writable[NET_MAX_NODES + 1];
	uint64_t recv[NET_MAX_NODES + 1]; /* per node sender */
	uint64_t next_seq[NET_MAX_NODES + 1];
	uint64_t client_recv;
	uint32_t last_client;
	int64_t first_recv_ms[NET_MAX_NODES + 1]; /* when the first message from each came */
	bool echo;                                /* answer every message back to its sender */
	int reject_after; /* recv_cb returns -EBADMSG after this many messages (0 = never) */
	int errors;
	char error[200];
};

#define FAIL(n, ...)                                                                               \
	do {                                                                                       \
		if (!(n)->errors++)                                                                \
			snprintf((n)->error, sizeof((n)->error), __VA_ARGS__);                     \
	} while (0)

static int recv_cb(void *arg, uint32_t from, const Paxfs__Envelope *env)
{
	struct node *n = arg;
	uint64_t seq, tag;
	const uint8_t *pl;
	size_t len;

	if (!th_msg_get(env, &seq, &tag, &pl, &len)) {
		FAIL(n, "bad envelope from %u", from);
		return 0;
	}
	if (len > TH_PAYLOAD_MAX || (len && memcmp(pl, th_payload(tag, seq, len), len)))
		FAIL(n, "corrupt payload from %u seq %llu", from, (unsigned long long)seq);
	if (from >= NET_CLIENT_HANDLE_MIN) {
		n->client_recv++;
		n->last_client = from;
	} else {
		if (seq != n->next_seq[from])
			FAIL(n, "seq %llu from %u, expected %llu", (unsigned long long)seq, from,
			     (unsigned long long)n->next_seq[from]);
		n->next_seq[from] = seq + 1;
		if (!n->recv[from]++)
			n->first_recv_ms[from] = th_now_ms();
	}
	if (n->echo) {
		struct th_msg m;
		th_msg_init(&m, seq, tag, pl, len);
		int rc = net_send(n->m, from, &m.env);
		if (rc)
			FAIL(n, "echo to %u failed: %s", from, strerror(-rc));
	}
	if (n->reject_after && (int)(n->recv[from]) >= n->reject_after)
		return -EBADMSG;
	return 0;
}

static void peer_cb(void *arg, uint32_t peer, bool up)
{
	struct node *n = arg;
	if (up)
		n->ups[peer]++;
	else
		n->downs[peer]++;
}

static void writable_cb(void *arg, uint32_t peer)
{
	struct node *n = arg;
	n->writable[peer < NET_CLIENT_HANDLE_MIN ? peer : 0]++;
}

static const struct net_callbacks cbs = {recv_cb, peer_cb, writable_cb};

struct world {
	struct event_base *base;
	uint16_t ports[MAXN];
	size_t n;
	struct node nodes[MAXN + 1];
	struct net_config cfg[MAXN + 1];
};

static void world_start(struct world *w, size_t n)
{
	char err[256];
	memset(w, 0, sizeof(*w));
	w->base = event_base_new();
	w->n = n;
	th_free_ports(w->ports, n);
	for (uint32_t i = 1; i <= n; i++) {
		th_config(&w->cfg[i], n, w->ports, i);
		w->nodes[i].id = i;
		ck_assert_msg(net_mesh_new(w->base, &w->cfg[i], &cbs, &w->nodes[i], &w->nodes[i].m,
					   err, sizeof(err)) == 0,
			      "%s", err);
	}
}

static void world_stop(struct world *w)
{
	for (size_t i = 0; i <= MAXN; i++)
		net_mesh_free(w->nodes[i].m);
	event_base_free(w->base);
}

static bool all_up(void *arg)
{
	struct world *w = arg;
	for (uint32_t i = 1; i <= w->n; i++)
		for (uint32_t j = 1; j <= w->n; j++)
			if (i != j && !net_peer_up(w->nodes[i].m, j))
				return false;
	return true;
}

static void send_seq(struct node *from, uint32_t to, uint64_t seq, size_t len)
{
	struct th_msg m;
	th_msg_init(&m, seq, from->id, th_payload(from->id, seq, len), len);
	int rc = net_send(from->m, to, &m.env);
	ck_assert_msg(rc == 0, "send %u -> %u seq %llu: %s", from->id, to, (unsigned long long)seq,
		      strerror(-rc));
}

START_TEST(three_nodes_reach_each_other)
{
	struct world w;
	world_start(&w, 3);
	ck_assert(th_run_until(w.base, all_up, &w, 5000));
	for (uint32_t i = 1; i <= 3; i++)
		for (uint32_t j = 1; j <= 3; j++)
			if (i != j)
				for (uint64_t s = 0; s < 100; s++)
					send_seq(&w.nodes[i], j, s, (size_t)(s * 37 % 3000));
	th_run_for(w.base, 300);
	for (uint32_t i = 1; i <= 3; i++) {
		ck_assert_msg(!w.nodes[i].errors, "node %u: %s", i, w.nodes[i].error);
		for (uint32_t j = 1; j <= 3; j++) {
			if (i == j)
				continue;
			ck_assert_uint_eq(w.nodes[i].recv[j], 100);
			ck_assert_int_eq(w.nodes[i].ups[j], 1);
			ck_assert_int_eq(w.nodes[i].downs[j], 0);
			struct net_peer_stats st;
			ck_assert_int_eq(net_peer_stats(w.nodes[i].m, j, &st), 0);
			ck_assert(st.up);
			ck_assert_uint_eq(st.links_up, 1);
			ck_assert_uint_eq(st.reconnects, 0);
			ck_assert_uint_ge(st.frames_in, 100);
			ck_assert_uint_ge(st.frames_out, 100);
			ck_assert_uint_gt(st.bytes_in, 100 * 1000);
			ck_assert_uint_gt(st.bytes_out, 100 * 1000);
			ck_assert_uint_eq(st.auth_failures, 0);
			ck_assert_uint_eq(st.decode_errors, 0);
			ck_assert_uint_eq(st.queue_bytes, 0);
		}
	}
	world_stop(&w);
}
END_TEST

START_TEST(send_errors_say_why)
{
	struct world w;
	struct th_msg m;
	char big[8192];
	world_start(&w, 2);
	th_msg_init(&m, 0, 1, "x", 1);
	/* before the loop ran nothing is up */
	ck_assert_int_eq(net_send(w.nodes[1].m, 2, &m.env), -ENOTCONN);
	ck_assert_int_eq(net_send(w.nodes[1].m, 1, &m.env), -EINVAL); /* self */
	ck_assert_int_eq(net_send(w.nodes[1].m, 0, &m.env), -EINVAL);
	ck_assert_int_eq(net_send(w.nodes[1].m, 9, &m.env), -EINVAL);     /* not configured */
	ck_assert_int_eq(net_send(w.nodes[1].m, 300, &m.env), -ENOTCONN); /* no such client */
	ck_assert(!net_peer_up(w.nodes[1].m, 2));
	ck_assert(th_run_until(w.base, all_up, &w, 5000));
	ck_assert_int_eq(net_send(w.nodes[1].m, 2, &m.env), 0);
	struct net_peer_stats st;
	ck_assert_int_eq(net_peer_stats(w.nodes[1].m, 7, &st), -ENOENT);
	ck_assert_int_eq(net_peer_stats(w.nodes[1].m, 1, &st), -ENOENT);
	ck_assert_int_eq(net_peer_stats(w.nodes[1].m, 0, &st), 0);

	/* larger than max_frame */
	net_mesh_free(w.nodes[1].m);
	w.cfg[1].max_frame = 4096;
	char err[256];
	ck_assert_int_eq(
	    net_mesh_new(w.base, &w.cfg[1], &cbs, &w.nodes[1], &w.nodes[1].m, err, sizeof(err)), 0);
	ck_assert(th_run_until(w.base, all_up, &w, 5000));
	memset(big, 'x', sizeof(big));
	th_msg_init(&m, 0, 1, big, 4000);
	ck_assert_int_eq(net_send(w.nodes[1].m, 2, &m.env), 0);
	th_msg_init(&m, 0, 1, big, 4100);
	ck_assert_int_eq(net_send(w.nodes[1].m, 2, &m.env), -EMSGSIZE);
	world_stop(&w);
}
END_TEST

START_TEST(back_pressure_bounds_the_queue)
{
	struct world w;
	struct net_peer_stats st;
	uint64_t seq = 0;
	int rc;
	const size_t len = 100000;

	memset(&w, 0, sizeof(w));
	world_start(&w, 2);
	ck_assert(th_run_until(w.base, all_up, &w, 5000));
	/* The loop does not run while we send, so nothing drains: the queue
	 * must stop at out_limit (+ one frame), with -ENOBUFS. */
	net_mesh_free(w.nodes[1].m);
	w.cfg[1].out_limit = 1 << 20;
	char err[256];
	ck_assert_int_eq(
	    net_mesh_new(w.base, &w.cfg[1], &cbs, &w.nodes[1], &w.nodes[1].m, err, sizeof(err)), 0);
	ck_assert(th_run_until(w.base, all_up, &w, 5000));
	w.nodes[2].next_seq[1] = 0;
	for (;;) {
		struct th_msg m;
		th_msg_init(&m, seq, 1, th_payload(1, seq, len), len);
		rc = net_send(w.nodes[1].m, 2, &m.env);
		if (rc)
			break;
		seq++;
		ck_assert_uint_lt(seq, 1000);
	}
	ck_assert_int_eq(rc, -ENOBUFS);
	ck_assert_int_eq(net_peer_stats(w.nodes[1].m, 2, &st), 0);
	ck_assert_uint_le(st.queue_bytes, (1 << 20));
	ck_assert_uint_ge(st.queue_bytes, (1 << 20) - len - 200);
	ck_assert_uint_eq(st.send_nobufs, 1);
	ck_assert_int_eq(w.nodes[1].writable[2], 0);
	/* Let it drain: writable_cb says so once, and sending works again. */
	int64_t end = th_now_ms() + 5000;
	while (w.nodes[1].writable[2] == 0 && th_now_ms() < end)
		th_run_for(w.base, 10);
	ck_assert_int_eq(w.nodes[1].writable[2], 1);
	struct th_msg m;
	th_msg_init(&m, seq, 1, th_payload(1, seq, len), len);
	ck_assert_int_eq(net_send(w.nodes[1].m, 2, &m.env), 0);
	seq++;
	while (w.nodes[2].recv[1] < seq && th_now_ms() < end)
		th_run_for(w.base, 10);
	ck_assert_uint_eq(w.nodes[2].recv[1], seq);
	ck_assert_msg(!w.nodes[2].errors, "%s", w.nodes[2].error);
	world_stop(&w);
}
END_TEST

START_TEST(busy_port_is_reported)
{
	struct world w;
	struct node extra = {0};
	struct net_mesh *m = NULL;
	char err[256] = "";
	char want[64];

	world_start(&w, 2);
	/* a second node 1 on the same address */
	int rc = net_mesh_new(w.base, &w.cfg[1], &cbs, &extra, &m, err, sizeof(err));
	ck_assert_int_eq(rc, -EADDRINUSE);
	ck_assert_ptr_null(m);
	snprintf(want, sizeof(want), "127.0.0.1:%u", w.ports[0]);
	ck_assert_msg(strstr(err, want) && strstr(err, "in use"), "%s", err);
	world_stop(&w);
}
END_TEST

START_TEST(bad_configs_are_refused)
{
	struct event_base *base = event_base_new();
	struct net_config c;
	struct net_mesh *m = NULL;
	struct node n = {0};
	uint16_t ports[3] = {1, 2, 3};
	char err[256];
	static const char *const want[] = {
	    "cluster name",   "at least 16", "appears twice",        "ids are 1..255",
	    "port 0",         "empty",       "not in the node list", "0 nodes",
	    "at least twice", "max_frame",   "reconnect_max_ms",     "cannot resolve",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		th_config(&c, 3, ports, 1);
		switch (i) {
		case 0:
			c.cluster = "";
			break;
		case 1:
			c.secret_len = 8;
			break;
		case 2:
			c.nodes[1].id = 1;
			break;
		case 3:
			c.nodes[1].id = 256;
			break;
		case 4:
			c.nodes[2].port = 0;
			break;
		case 5:
			c.nodes[2].host[0] = 0;
			break;
		case 6:
			c.self = 9;
			break;
		case 7:
			c.n_nodes = 0;
			break;
		case 8:
			c.heartbeat_ms = 500;
			c.dead_ms = 600;
			break;
		case 9:
			c.max_frame = 100;
			break;
		case 10:
			c.reconnect_min_ms = 500;
			c.reconnect_max_ms = 100;
			break;
		case 11:
			strcpy(c.nodes[2].host, "no-such-host.invalid");
			break;
		}
		err[0] = 0;
		int rc = net_mesh_new(base, &c, &cbs, &n, &m, err, sizeof(err));
		ck_assert_msg(rc < 0, "case %zu accepted", i);
		ck_assert_ptr_null(m);
		ck_assert_msg(strstr(err, want[i]), "case %zu: '%s' lacks '%s'", i, err, want[i]);
	}
	event_base_free(base);
}
END_TEST

/* Both sides dial at the same moment, many times over: each ends with one
 * up link, the same one, that stays up. */
START_TEST(simultaneous_dials_leave_one_link)
{
	for (int round = 0; round < 15; round++) {
		struct world w;
		world_start(&w, 2);
		ck_assert(th_run_until(w.base, all_up, &w, 5000));
		th_run_for(w.base, 150);
		for (uint32_t i = 1; i <= 2; i++) {
			struct net_peer_stats st;
			uint32_t j = 3 - i;
			ck_assert_int_eq(net_peer_stats(w.nodes[i].m, j, &st), 0);
			ck_assert_msg(st.links_up == 1 && w.nodes[i].ups[j] == 1 &&
					  w.nodes[i].downs[j] == 0,
				      "round %d node %u: %llu links up, %d downs", round, i,
				      (unsigned long long)st.links_up, w.nodes[i].downs[j]);
			ck_assert_uint_eq(st.auth_failures, 0);
		}
		/* and the one link carries traffic both ways */
		send_seq(&w.nodes[1], 2, 0, 10);
		send_seq(&w.nodes[2], 1, 0, 10);
		th_run_for(w.base, 50);
		ck_assert_uint_eq(w.nodes[1].recv[2], 1);
		ck_assert_uint_eq(w.nodes[2].recv[1], 1);
		world_stop(&w);
	}
}
END_TEST

START_TEST(a_node_that_goes_away_is_reported_and_redialed)
{
	struct world w;
	char err[256];
	world_start(&w, 3);
	ck_assert(th_run_until(w.base, all_up, &w, 5000));
	net_mesh_free(w.nodes[3].m);
	w.nodes[3].m = NULL;
	th_run_for(w.base, 200);
	ck_assert_int_eq(w.nodes[1].downs[3], 1);
	ck_assert_int_eq(w.nodes[2].downs[3], 1);
	ck_assert(!net_peer_up(w.nodes[1].m, 3));
	struct th_msg m;
	th_msg_init(&m, 0, 1, "x", 1);
	ck_assert_int_eq(net_send(w.nodes[1].m, 3, &m.env), -ENOTCONN);
	/* 1 and 2 did not notice anything */
	ck_assert_int_eq(w.nodes[1].downs[2], 0);
	/* node 3 comes back: everyone redials by themselves */
	memset(&w.nodes[3], 0, sizeof(w.nodes[3]));
	w.nodes[3].id = 3;
	ck_assert_int_eq(
	    net_mesh_new(w.base, &w.cfg[3], &cbs, &w.nodes[3], &w.nodes[3].m, err, sizeof(err)), 0);
	ck_assert(th_run_until(w.base, all_up, &w, 5000));
	struct net_peer_stats st;
	ck_assert_int_eq(net_peer_stats(w.nodes[1].m, 3, &st), 0);
	ck_assert_uint_eq(st.links_up, 2);
	ck_assert_uint_eq(st.reconnects, 1);
	world_stop(&w);
}
END_TEST

START_TEST(receiver_refusal_closes_only_that_link)
{
	struct world w;
	world_start(&w, 3);
	ck_assert(th_run_until(w.base, all_up, &w, 5000));
	const char *log = th_log_capture();
	(void)log;
	w.nodes[2].reject_after = 3;
	for (uint64_t s = 0; s < 5; s++) {
		send_seq(&w.nodes[1], 2, s, 10);
		send_seq(&w.nodes[3], 2, s, 10);
	}
	th_run_for(w.base, 100);
	ck_assert(th_log_wait("net(2)", "the receiver refused a message", 1000));
	ck_assert_uint_eq(w.nodes[2].recv[1], 3); /* nothing after the refused one */
	ck_assert_int_ge(w.nodes[2].downs[1], 1);
	ck_assert_int_ge(w.nodes[2].downs[3], 1);
	w.nodes[2].reject_after = 0;
	/* the links are redialed */
	ck_assert(th_run_until(w.base, all_up, &w, 5000));
	world_stop(&w);
}
END_TEST

static struct world *wrong_world;
static bool third_refused(void *arg)
{
	struct net_peer_stats a, b;
	net_peer_stats(wrong_world->nodes[1].m, 3, &a);
	net_peer_stats(wrong_world->nodes[3].m, 1, &b);
	return a.auth_failures >= 2 && b.auth_failures >= 2;
}

START_TEST(wrong_secret_never_comes_up)
{
	struct world w;
	char err[256];
	const char *log = th_log_capture();
	(void)log;
	world_start(&w, 3);
	net_mesh_free(w.nodes[3].m);
	w.nodes[3].m = NULL;
	w.cfg[3].secret = (const uint8_t *)"another-secret-of-16+";
	w.cfg[3].secret_len = 21;
	ck_assert_int_eq(
	    net_mesh_new(w.base, &w.cfg[3], &cbs, &w.nodes[3], &w.nodes[3].m, err, sizeof(err)), 0);
	wrong_world = &w;
	ck_assert(th_run_until(w.base, third_refused, NULL, 5000));
	for (uint32_t i = 1; i <= 2; i++) {
		ck_assert_int_eq(w.nodes[i].ups[3], 0);
		ck_assert_int_eq(w.nodes[3].ups[i], 0);
		ck_assert(!net_peer_up(w.nodes[i].m, 3));
	}
	ck_assert(net_peer_up(w.nodes[1].m, 2));
	ck_assert(th_log_count("net(1)", "authentication failed") >= 1);
	world_stop(&w);
}
END_TEST

START_TEST(wrong_cluster_never_comes_up)
{
	struct world w;
	char err[256];
	th_log_capture();
	world_start(&w, 2);
	net_mesh_free(w.nodes[2].m);
	w.cfg[2].cluster = "other";
	ck_assert_int_eq(
	    net_mesh_new(w.base, &w.cfg[2], &cbs, &w.nodes[2], &w.nodes[2].m, err, sizeof(err)), 0);
	th_run_for(w.base, 500);
	ck_assert(!net_peer_up(w.nodes[1].m, 2));
	ck_assert(!net_peer_up(w.nodes[2].m, 1));
	ck_assert_int_eq(w.nodes[1].ups[2], 0);
	ck_assert(th_log_count("net(1)", "wrong cluster name 'other'") >= 1);
	ck_assert(th_log_count("net(2)", "wrong cluster name 'test-cluster'") >= 1);
	world_stop(&w);
}
END_TEST

START_TEST(clients_get_handles_and_answers)
{
	struct world w;
	struct node client = {0};
	struct net_config cc;
	char err[256];

	world_start(&w, 3);
	for (uint32_t i = 1; i <= 3; i++)
		w.nodes[i].echo = true;
	th_config(&cc, 3, w.ports, 0);
	ck_assert_msg(net_mesh_new(w.base, &cc, &cbs, &client, &client.m, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert(th_run_until(w.base, all_up, &w, 5000));
	int64_t end = th_now_ms() + 5000;
	while (
	    !(net_peer_up(client.m, 1) && net_peer_up(client.m, 2) && net_peer_up(client.m, 3)) &&
	    th_now_ms() < end)
		th_run_for(w.base, 10);
	for (uint32_t i = 1; i <= 3; i++) {
		ck_assert(net_peer_up(client.m, i));
		ck_assert_int_eq(client.ups[i], 1);
		for (uint64_t s = 0; s < 10; s++) {
			struct th_msg m;
			th_msg_init(&m, s, 9, th_payload(9, s, 50), 50);
			ck_assert_int_eq(net_send(client.m, i, &m.env), 0);
		}
	}
	th_run_for(w.base, 200);
	for (uint32_t i = 1; i <= 3; i++) {
		ck_assert_uint_eq(w.nodes[i].client_recv, 10);
		ck_assert_uint_ge(w.nodes[i].last_client, NET_CLIENT_HANDLE_MIN);
		ck_assert(net_peer_up(w.nodes[i].m, w.nodes[i].last_client));
		struct net_peer_stats st;
		ck_assert_int_eq(net_peer_stats(w.nodes[i].m, w.nodes[i].last_client, &st), 0);
		ck_assert_uint_eq(st.frames_in >= 10, 1);
		/* clients are not nodes: no peer_cb for them */
		ck_assert_int_eq(w.nodes[i].ups[0], 0);
		ck_assert_uint_eq(client.recv[i], 10); /* the echoes came back from node i */
	}
	ck_assert_msg(!client.errors, "%s", client.error);
	/* the client leaves: its handle is gone */
	uint32_t h = w.nodes[1].last_client;
	net_mesh_free(client.m);
	th_run_for(w.base, 100);
	ck_assert(!net_peer_up(w.nodes[1].m, h));
	struct th_msg m;
	th_msg_init(&m, 0, 9, "x", 1);
	ck_assert_int_eq(net_send(w.nodes[1].m, h, &m.env), -ENOTCONN);
	world_stop(&w);
}
END_TEST

static enum net_filter_verdict drop_odd(void *arg, uint32_t from, uint32_t to,
					const Paxfs__Envelope *env, unsigned *delay_ms)
{
	(void)from;
	(void)to;
	(void)delay_ms;
	int *calls = arg;
	(*calls)++;
	return env->paxos->msgs[0]->entity % 2 ? NET_FILTER_DROP : NET_FILTER_PASS;
}

START_TEST(filter_drops_as_the_network_would)
{
	struct world w;
	int calls = 0;
	world_start(&w, 2);
	ck_assert(th_run_until(w.base, all_up, &w, 5000));
	net_set_filter(w.nodes[1].m, drop_odd, &calls);
	w.nodes[2].next_seq[1] = 0;
	for (uint64_t s = 0; s < 20; s += 2)
		send_seq(&w.nodes[1], 2, s, 5); /* even: pass */
	struct th_msg m;
	th_msg_init(&m, 1, 1, th_payload(1, 1, 5), 5);
	ck_assert_int_eq(net_send(w.nodes[1].m, 2, &m.env), 0); /* dropped, still 0 */
	th_run_for(w.base, 100);
	ck_assert_uint_eq(w.nodes[2].recv[1], 10);
	ck_assert_int_eq(calls, 11);
	struct net_peer_stats st;
	net_peer_stats(w.nodes[1].m, 2, &st);
	ck_assert_uint_eq(st.filtered, 1);
	world_stop(&w);
}
END_TEST

/* DELAY: even messages are held 150 ms, odd ones not; on the receiving
 * side (node 2, from node 1) and on the sending side (node 3, to node 2).
 * Everything arrives, in order (recv_cb checks the sequence), and nothing
 * before its delay. */
static enum net_filter_verdict delay_even(void *arg, uint32_t from, uint32_t to,
					  const Paxfs__Envelope *env, unsigned *delay_ms)
{
	uint32_t *peer = arg; /* the other end of the link to delay */
	if ((from != *peer && to != *peer) || env->paxos->msgs[0]->entity % 2)
		return NET_FILTER_PASS;
	*delay_ms = 150;
	return NET_FILTER_DELAY;
}

static bool got_20_from_1_and_3(void *arg)
{
	struct world *w = arg;
	return w->nodes[2].recv[1] >= 20 && w->nodes[2].recv[3] >= 20;
}

START_TEST(filter_delays_without_reordering)
{
	struct world w;
	uint32_t from1 = 1, to2 = 2;
	world_start(&w, 3);
	ck_assert(th_run_until(w.base, all_up, &w, 5000));
	net_set_filter(w.nodes[2].m, delay_even, &from1); /* inbound, from node 1 */
	net_set_filter(w.nodes[3].m, delay_even, &to2);   /* outbound, to node 2 */
	int64_t t0 = th_now_ms();
	for (uint64_t s = 0; s < 20; s++) {
		send_seq(&w.nodes[1], 2, s, 100 + s);
		send_seq(&w.nodes[3], 2, s, 100 + s);
	}
	ck_assert(th_run_until(w.base, got_20_from_1_and_3, &w, 5000));
	ck_assert_msg(!w.nodes[2].errors, "%s", w.nodes[2].error);
	ck_assert_int_ge(w.nodes[2].first_recv_ms[1] - t0, 140);
	ck_assert_int_ge(w.nodes[2].first_recv_ms[3] - t0, 140);
	ck_assert_uint_eq(w.nodes[2].recv[1], 20);
	ck_assert_uint_eq(w.nodes[2].recv[3], 20);
	world_stop(&w);
}
END_TEST

/* What a link holds is lost with it, as anything queued on a failed link. */
static enum net_filter_verdict delay_all(void *arg, uint32_t from, uint32_t to,
					 const Paxfs__Envelope *env, unsigned *delay_ms)
{
	(void)arg;
	(void)from;
	(void)to;
	(void)env;
	*delay_ms = 400;
	return NET_FILTER_DELAY;
}

START_TEST(held_messages_die_with_their_link)
{
	struct world w;
	world_start(&w, 2);
	ck_assert(th_run_until(w.base, all_up, &w, 5000));
	net_set_filter(w.nodes[2].m, delay_all, NULL);
	for (uint64_t s = 0; s < 5; s++)
		send_seq(&w.nodes[1], 2, s, 10);
	th_run_for(w.base, 100);
	ck_assert_uint_eq(w.nodes[2].recv[1], 0);
	net_mesh_free(w.nodes[1].m); /* the link fails while node 2 holds the messages */
	w.nodes[1].m = NULL;
	th_run_for(w.base, 800);
	ck_assert_uint_eq(w.nodes[2].recv[1], 0);
	ck_assert_int_eq(w.nodes[2].downs[1], 1);
	world_stop(&w);
}
END_TEST

/* A peer that is down is redialed with capped exponential backoff: a few
 * quick tries, then one every reconnect_max_ms or so (jittered), forever. */
START_TEST(redial_backoff_is_exponential_and_capped)
{
	struct world w;
	struct net_peer_stats st;
	world_start(&w, 2); /* reconnect 20..300 ms */
	net_mesh_free(w.nodes[2].m);
	w.nodes[2].m = NULL;
	th_run_for(w.base, 2000);
	ck_assert_int_eq(net_peer_stats(w.nodes[1].m, 2, &st), 0);
	uint64_t first = st.dials;
	/* uncapped doubling from 20 ms gives ~7 dials in 2 s, no backoff 100 */
	ck_assert_msg(first >= 8 && first <= 25, "%llu dials in the first 2 s",
		      (unsigned long long)first);
	th_run_for(w.base, 3000);
	ck_assert_int_eq(net_peer_stats(w.nodes[1].m, 2, &st), 0);
	fprintf(stderr, "# dials: %llu in the first 2 s, %llu in the next 3 s\n",
		(unsigned long long)first, (unsigned long long)(st.dials - first));
	/* at the cap: one per 150..300 ms */
	ck_assert_msg(st.dials - first >= 9 && st.dials - first <= 21, "%llu dials in the next 3 s",
		      (unsigned long long)(st.dials - first));
	ck_assert(!st.up);
	world_stop(&w);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("net_mesh");
	TEST_CASE(s, three_nodes_reach_each_other, 30);
	TEST_CASE(s, send_errors_say_why, 30);
	TEST_CASE(s, back_pressure_bounds_the_queue, 30);
	TEST_CASE(s, busy_port_is_reported, 30);
	TEST_CASE(s, bad_configs_are_refused, 30);
	TEST_CASE(s, simultaneous_dials_leave_one_link, 60);
	TEST_CASE(s, a_node_that_goes_away_is_reported_and_redialed, 30);
	TEST_CASE(s, receiver_refusal_closes_only_that_link, 30);
	TEST_CASE(s, wrong_secret_never_comes_up, 30);
	TEST_CASE(s, wrong_cluster_never_comes_up, 30);
	TEST_CASE(s, clients_get_handles_and_answers, 30);
	TEST_CASE(s, filter_drops_as_the_network_would, 30);
	TEST_CASE(s, filter_delays_without_reordering, 30);
	TEST_CASE(s, held_messages_die_with_their_link, 30);
	TEST_CASE(s, redial_backoff_is_exponential_and_capped, 30);
	return s;
}
