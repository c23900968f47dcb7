/* tests/unit/net/test_net_volume.c — three nodes, each on its own thread and
 * event loop, on loopback: between every pair, 1,000,000 small messages and
 * 1 GiB of 1 MiB messages (half each way), every one delivered once, in
 * order, intact. Senders honour back-pressure (-ENOBUFS, then writable_cb). */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "net/net.h"
#include "tests/unit/net/harness.h"

#define N             3
#define SMALL_PER_DIR 500000 /* x 2 directions = 1,000,000 per pair */
#define BIG_PER_DIR   512    /* x 2 directions x 1 MiB = 1 GiB per pair */
#define BIG_LEN       (1u << 20)
#define KIND_SMALL    1
#define KIND_BIG      2
#define PUMP_BUDGET   2048

struct vnode {
	uint32_t id;
	struct net_config cfg;
	struct event_base *base;
	struct net_mesh *m;
	struct event *pump, *tick;
	uint64_t sent[N + 1][3], got[N + 1][3];
	int64_t t_start, t_small_done, t_done;
	bool started, finished, timed_out;
	int errors;
	char error[256];
};

static struct vnode nodes[N + 1];
static atomic_int finished_count;

#define FAIL(n, ...)                                                                               \
	do {                                                                                       \
		if (!(n)->errors++)                                                                \
			snprintf((n)->error, sizeof((n)->error), __VA_ARGS__);                     \
	} while (0)

static size_t len_of(int kind, uint64_t seq)
{
	return kind == KIND_BIG ? BIG_LEN : 8 + seq % 33;
}

static int recv_cb(void *arg, uint32_t from, const Paxfs__Envelope *env)
{
	struct vnode *n = arg;
	uint64_t seq, tag;
	const uint8_t *pl;
	size_t len;

	if (!th_msg_get(env, &seq, &tag, &pl, &len) || from < 1 || from > N) {
		FAIL(n, "node %u: malformed message from %u", n->id, from);
		return 0;
	}
	int kind = (int)(tag % 10);
	if (tag / 10 != from || (kind != KIND_SMALL && kind != KIND_BIG)) {
		FAIL(n, "node %u: message from %u carries tag %llu", n->id, from,
		     (unsigned long long)tag);
		return 0;
	}
	if (seq != n->got[from][kind])
		FAIL(n, "node %u: kind %d from %u: seq %llu, expected %llu", n->id, kind, from,
		     (unsigned long long)seq, (unsigned long long)n->got[from][kind]);
	else if (len != len_of(kind, seq) || memcmp(pl, th_payload(tag, seq, len), len))
		FAIL(n, "node %u: kind %d from %u seq %llu: payload differs", n->id, kind, from,
		     (unsigned long long)seq);
	n->got[from][kind] = seq + 1;
	return 0;
}

static void pump_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vnode *n = arg;
	int budget = PUMP_BUDGET;
	bool more = false;

	for (uint32_t j = 1; j <= N; j++) {
		if (j == n->id)
			continue;
		for (int kind = KIND_SMALL; kind <= KIND_BIG; kind++) {
			uint64_t limit = kind == KIND_SMALL ? SMALL_PER_DIR : BIG_PER_DIR;
			uint64_t tag = n->id * 10 + (uint64_t)kind;
			int rc = 0;
			while (n->sent[j][kind] < limit && budget > 0) {
				uint64_t seq = n->sent[j][kind];
				size_t len = len_of(kind, seq);
				struct th_msg m;
				th_msg_init(&m, seq, tag, th_payload(tag, seq, len), len);
				rc = net_send(n->m, j, &m.env);
				if (rc)
					break;
				n->sent[j][kind]++;
				budget--;
			}
			if (rc == -ENOBUFS)
				break; /* writable_cb re-arms the pump */
			if (rc) {
				FAIL(n, "node %u: send to %u: %s", n->id, j, strerror(-rc));
				return;
			}
			if (n->sent[j][kind] < limit) {
				more = true;
				break;
			}
		}
	}
	if (more)
		event_active(n->pump, EV_TIMEOUT, 0);
}

static void writable_cb(void *arg, uint32_t peer)
{
	struct vnode *n = arg;
	event_active(n->pump, EV_TIMEOUT, 0);
}

static void peer_cb(void *arg, uint32_t peer, bool up)
{
	struct vnode *n = arg;
	if (!up && n->started && atomic_load(&finished_count) < N)
		FAIL(n, "node %u: link to %u went down during the run", n->id, peer);
}

static bool done_with(struct vnode *n)
{
	for (uint32_t j = 1; j <= N; j++) {
		struct net_peer_stats st;
		if (j == n->id)
			continue;
		if (n->got[j][KIND_SMALL] < SMALL_PER_DIR || n->got[j][KIND_BIG] < BIG_PER_DIR ||
		    n->sent[j][KIND_SMALL] < SMALL_PER_DIR || n->sent[j][KIND_BIG] < BIG_PER_DIR)
			return false;
		if (net_peer_stats(n->m, j, &st) || st.queue_bytes)
			return false;
	}
	return true;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vnode *n = arg;
	bool small_done = true;

	if (!n->started) {
		for (uint32_t j = 1; j <= N; j++)
			if (j != n->id && !net_peer_up(n->m, j))
				return;
		n->started = true;
		n->t_start = th_now_ms();
		event_active(n->pump, EV_TIMEOUT, 0);
		return;
	}
	for (uint32_t j = 1; j <= N; j++)
		if (j != n->id && n->got[j][KIND_SMALL] < SMALL_PER_DIR)
			small_done = false;
	if (small_done && !n->t_small_done)
		n->t_small_done = th_now_ms();
	if (!n->finished && (done_with(n) || n->errors)) {
		n->finished = true;
		n->t_done = th_now_ms();
		atomic_fetch_add(&finished_count, 1);
	}
	/* Stop only when every node is done: closing early would reset links
	 * that others still read from. */
	if (atomic_load(&finished_count) == N)
		event_base_loopbreak(n->base);
	if (th_now_ms() - n->t_start > 280000) {
		n->timed_out = true;
		event_base_loopbreak(n->base);
	}
}

static void *node_main(void *arg)
{
	struct vnode *n = arg;
	struct net_callbacks cb = {recv_cb, peer_cb, writable_cb};
	struct timeval tv = {0, 20000};
	char err[200];

	n->base = event_base_new();
	if (net_mesh_new(n->base, &n->cfg, &cb, n, &n->m, err, sizeof(err))) {
		FAIL(n, "node %u: %s", n->id, err);
		atomic_fetch_add(&finished_count, 1);
		event_base_free(n->base);
		return NULL;
	}
	n->pump = event_new(n->base, -1, 0, pump_cb, n);
	n->tick = event_new(n->base, -1, EV_PERSIST, tick_cb, n);
	event_add(n->tick, &tv);
	event_base_dispatch(n->base);
	event_free(n->tick);
	event_free(n->pump);
	net_mesh_free(n->m);
	event_base_free(n->base);
	return NULL;
}

START_TEST(million_small_and_gigabyte_large_between_each_pair)
{
	uint16_t ports[N];
	pthread_t th[N + 1];

	th_payload(0, 0, 0); /* build the payload pool before the threads share it */
	th_free_ports(ports, N);
	for (uint32_t i = 1; i <= N; i++) {
		nodes[i].id = i;
		th_config(&nodes[i].cfg, N, ports, i);
		nodes[i].cfg.dead_ms = 5000; /* two shared cores under a sanitizer */
		pthread_create(&th[i], NULL, node_main, &nodes[i]);
	}
	for (uint32_t i = 1; i <= N; i++)
		pthread_join(th[i], NULL);
	for (uint32_t i = 1; i <= N; i++) {
		struct vnode *n = &nodes[i];
		ck_assert_msg(!n->errors, "%s", n->error);
		ck_assert_msg(!n->timed_out, "node %u timed out", i);
		for (uint32_t j = 1; j <= N; j++) {
			if (i == j)
				continue;
			ck_assert_uint_eq(n->got[j][KIND_SMALL], SMALL_PER_DIR);
			ck_assert_uint_eq(n->got[j][KIND_BIG], BIG_PER_DIR);
		}
		fprintf(stderr, "# node %u: small messages in %.2f s, all in %.2f s\n", i,
			(n->t_small_done - n->t_start) / 1e3, (n->t_done - n->t_start) / 1e3);
	}
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("net_volume");
	TEST_CASE(s, million_small_and_gigabyte_large_between_each_pair, 300);
	return s;
}
