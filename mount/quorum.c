/* mount/quorum.c — the majority watch (mount/quorum.h). */
#include "mount/quorum.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mount/node.h"
#include "util/log.h"

struct mount_quorum {
	struct event *ev;
	uint64_t short_since_ms; /* below a majority since; 0 = it has one */
	uint64_t told_ms;        /* last warning; 0 = none this episode */
	uint64_t down_since_ms[256];
};

/* Whether this node votes: an engine that is not amnesic. */
static bool self_votes(struct mount_node *n)
{
	struct paxos_stats st = {0};
	if (!node_engine(n->core))
		return false;
	paxos_get_stats(node_engine(n->core), &st);
	return !st.amnesia;
}

/* The reachable voters now; fills the down_since times of the peers. */
static size_t reachable(struct mount_node *n, struct mount_quorum *q, uint64_t now)
{
	size_t count = self_votes(n) ? 1 : 0;

	for (size_t i = 0; i < n->conf->n_nodes; i++) {
		uint32_t id = n->conf->nodes[i].id;
		if (id == n->self)
			continue;
		if (net_peer_up(n->mesh, id)) {
			q->down_since_ms[id] = 0;
			count++;
		} else if (!q->down_since_ms[id]) {
			q->down_since_ms[id] = now;
		}
	}
	return count;
}

static void warn(struct mount_node *n, struct mount_quorum *q, size_t count, size_t majority,
		 uint64_t now)
{
	char why[2048];
	size_t len = 0, nodes = 0;

	why[0] = '\0';
	if (!self_votes(n))
		len += (size_t)snprintf(why, sizeof(why),
					" This node does not vote: it re-learns what it may have "
					"promised from every other node (new or damaged store), or "
					"its engine is restarting.");
	for (size_t i = 0; i < n->conf->n_nodes && len < sizeof(why); i++) {
		uint32_t id = n->conf->nodes[i].id;
		struct net_peer_stats ps;
		if (id == n->self || !q->down_since_ms[id] || net_peer_stats(n->mesh, id, &ps) < 0)
			continue;
		int w = snprintf(
		    why + len, sizeof(why) - len,
		    "%s node %u (%s:%u): unreachable for %llu s%s%s%s", nodes++ ? ";" : "", id,
		    n->conf->nodes[i].host, n->conf->nodes[i].port,
		    (unsigned long long)((now - q->down_since_ms[id]) / 1000),
		    ps.last_error[0] ? " (" : "", ps.last_error, ps.last_error[0] ? ")" : "");
		if (w > 0)
			len += (size_t)w;
	}
	LOG_WARN("no majority: this node reaches %zu of %zu nodes, a majority is %zu; changes "
		 "and open() wait, and fail with EIO after %u s.%s",
		 count, n->conf->n_nodes, majority, n->args->timeout_s, why);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_node *n = arg;
	struct mount_quorum *q = n->quorum;
	struct timeval tv = {QUORUM_INTERVAL_MS / 1000, (QUORUM_INTERVAL_MS % 1000) * 1000};
	uint64_t now = mount_now_ms();
	size_t majority = n->conf->n_nodes / 2 + 1;
	size_t count = reachable(n, q, now);
	(void)fd;
	(void)what;

	if (count >= majority) {
		if (q->told_ms)
			LOG_INFO("majority back: this node reaches %zu of %zu nodes after %llu s",
				 count, n->conf->n_nodes,
				 (unsigned long long)((now - q->short_since_ms) / 1000));
		q->short_since_ms = q->told_ms = 0;
	} else if (!q->short_since_ms) {
		q->short_since_ms = now;
	} else if (now - q->short_since_ms >= QUORUM_GRACE_MS &&
		   (!q->told_ms || now - q->told_ms >= QUORUM_REPEAT_MS)) {
		warn(n, q, count, majority, now);
		q->told_ms = now;
	}
	evtimer_add(q->ev, &tv);
}

int mount_quorum_start(struct mount_node *n)
{
	struct timeval tv = {QUORUM_INTERVAL_MS / 1000, (QUORUM_INTERVAL_MS % 1000) * 1000};
	n->quorum = calloc(1, sizeof(*n->quorum));
	if (!n->quorum || !(n->quorum->ev = evtimer_new(n->base, tick_cb, n)))
		return -ENOMEM;
	evtimer_add(n->quorum->ev, &tv);
	return 0;
}

void mount_quorum_stop(struct mount_node *n)
{
	if (!n->quorum)
		return;
	if (n->quorum->ev)
		event_free(n->quorum->ev);
	free(n->quorum);
	n->quorum = NULL;
}
