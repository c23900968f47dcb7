/* tools/ask.c — one status question to every node (tools/ctl.h).
 *
 * One client mesh per node, one event loop: a node's request goes out when
 * its link comes up, its answer is kept (re-encoded and decoded, so it
 * outlives the callback), and the loop ends when every node has answered or
 * been given up on: never up (tools/client.h says why), silent past the
 * deadline, gone before answering, or answering something else. */
#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/net.h"
#include "tools/client.h"
#include "tools/ctl.h"
#include "util/clock.h"
#include "util/conf.h"

#define TICK_MS 50

struct ask;

struct anode {
	struct ask *a;
	struct ctl_node *nd;
	struct net_mesh *mesh;
	bool up, sent, done;
	uint64_t deadline; /* to come up, then to answer */
};

struct ask {
	struct event_base *base;
	struct anode *nodes;
	size_t n;
	unsigned timeout_ms;
	uint64_t start;
};

static void finish(struct anode *an, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void finish(struct anode *an, const char *fmt, ...)
{
	va_list ap;
	if (an->done)
		return;
	an->done = true;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(an->nd->why, sizeof(an->nd->why), fmt, ap);
		va_end(ap);
	}
}

static void check_done(struct ask *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (!a->nodes[i].done)
			return;
	event_base_loopexit(a->base, NULL);
}

static void send_request(struct anode *an)
{
	Paxfs__Envelope env = PAXFS__ENVELOPE__INIT;
	Paxfs__StatusRequest m = PAXFS__STATUS_REQUEST__INIT;
	int rc;

	m.request = an->nd->id;
	env.version = 1;
	env.body_case = PAXFS__ENVELOPE__BODY_STATUS_REQUEST;
	env.status_request = &m;
	if ((rc = net_send(an->mesh, an->nd->id, &env)) < 0) {
		finish(an, "cannot send it the question: %s", strerror(-rc));
		return;
	}
	an->sent = true;
	an->deadline = util_now_ms() + an->a->timeout_ms;
}

/* Keeps a copy of the answer: the message is the callback's. */
static int keep(struct anode *an, const Paxfs__StatusReply *m)
{
	size_t len = paxfs__status_reply__get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	paxfs__status_reply__pack(m, buf);
	an->nd->reply = paxfs__status_reply__unpack(NULL, len, buf);
	free(buf);
	return an->nd->reply ? 0 : -ENOMEM;
}

static int recv_cb(void *arg, uint32_t from, const Paxfs__Envelope *env)
{
	struct anode *an = arg;
	const Paxfs__StatusReply *m = env->status_reply;
	(void)from;
	if (an->done)
		return 0;
	if (env->body_case != PAXFS__ENVELOPE__BODY_STATUS_REPLY)
		finish(an, "answered garbage: a message that is not a status reply (kind %d)",
		       (int)env->body_case);
	else if (!an->sent || m->request != an->nd->id)
		finish(an, "answered garbage: a reply to a question not asked");
	else if (m->node_id != an->nd->id)
		finish(an, "answered as node %u: is the config right?", m->node_id);
	else if (keep(an, m) < 0)
		finish(an, "out of memory reading its answer");
	else
		finish(an, NULL);
	check_done(an->a);
	return 0;
}

static void peer_cb(void *arg, uint32_t peer, bool up)
{
	struct anode *an = arg;
	struct net_peer_stats st = {0};
	(void)peer;
	an->up = up;
	if (an->done)
		return;
	if (up) {
		send_request(an);
	} else {
		net_peer_stats(an->mesh, an->nd->id, &st);
		finish(an,
		       "closed the link before answering%s (a paxfs older than this paxfsctl "
		       "does that: it knows no status question)",
		       st.decode_errors ? " (it sent frames that do not decode)" : "");
	}
	check_done(an->a);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ask *a = arg;
	uint64_t now = util_now_ms();
	char why[400];
	(void)fd;
	(void)what;
	for (size_t i = 0; i < a->n; i++) {
		struct anode *an = &a->nodes[i];
		if (an->done)
			continue;
		if (!an->sent &&
		    verify_client_unreachable(an->mesh, an->nd->id, now >= an->deadline,
					      now - a->start, why, sizeof(why)))
			finish(an, "%s", why);
		else if (an->sent && now >= an->deadline)
			finish(an, "did not answer within %.1f s", a->timeout_ms / 1000.0);
	}
	check_done(a);
}

void ctl_cluster_close(struct ctl_cluster *c)
{
	for (size_t i = 0; c->nodes && i < c->n; i++)
		if (c->nodes[i].reply)
			paxfs__status_reply__free_unpacked(c->nodes[i].reply, NULL);
	free(c->nodes);
	memset(c, 0, sizeof(*c));
}

int ctl_ask_status(const char *config, uint32_t only, unsigned timeout_ms, struct ctl_cluster *out,
		   char *err, size_t errlen)
{
	struct ask a = {.timeout_ms = timeout_ms ? timeout_ms : 5000};
	struct timeval tv = {0, TICK_MS * 1000};
	struct util_conf *conf = calloc(1, sizeof(*conf));
	struct event *tick = NULL;
	struct net_callbacks cb = {.recv_cb = recv_cb, .peer_cb = peer_cb};
	int rc = 0;

	memset(out, 0, sizeof(*out));
	a.start = util_now_ms();
	if (!conf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((rc = util_conf_load(config, conf, err, errlen)) < 0)
		goto out;
	if (only && !util_conf_node(conf, only)) {
		snprintf(err, errlen, "%s has no node %u", config, only);
		rc = -ENOENT;
		goto out;
	}
	snprintf(out->cluster, sizeof(out->cluster), "%s", conf->cluster);
	out->n_config = conf->n_nodes;
	out->majority = conf->n_nodes / 2 + 1;
	out->n = only ? 1 : conf->n_nodes;
	out->nodes = calloc(out->n, sizeof(*out->nodes));
	a.nodes = calloc(out->n, sizeof(*a.nodes));
	if (!out->nodes || !a.nodes || !(a.base = event_base_new()) ||
	    !(tick = event_new(a.base, -1, EV_PERSIST, tick_cb, &a))) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	a.n = out->n;
	for (size_t i = 0, k = 0; i < conf->n_nodes; i++) {
		const struct util_conf_node *cn = &conf->nodes[i];
		struct anode *an = &a.nodes[k];
		char why[300];
		if (only && cn->id != only)
			continue;
		out->nodes[k].id = cn->id;
		snprintf(out->nodes[k].where, sizeof(out->nodes[k].where), "%s:%u", cn->host,
			 cn->port);
		*an = (struct anode){
		    .a = &a, .nd = &out->nodes[k], .deadline = a.start + a.timeout_ms};
		k++;
		rc = verify_client_open(a.base, conf, cn, a.timeout_ms, a.timeout_ms * 2, &cb, an,
					&an->mesh, why, sizeof(why));
		if (rc == -ENOMEM) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (rc < 0)
			finish(an, "%s", why);
	}
	rc = 0;
	event_add(tick, &tv);
	for (size_t i = 0; i < a.n; i++)
		if (!a.nodes[i].done)
			goto run;
	goto out;
run:
	event_base_dispatch(a.base);
out:
	for (size_t i = 0; a.nodes && i < a.n; i++)
		net_mesh_free(a.nodes[i].mesh);
	if (tick)
		event_free(tick);
	if (a.base)
		event_base_free(a.base);
	free(a.nodes);
	util_conf_close(conf);
	free(conf);
	out->elapsed_ms = util_now_ms() - a.start;
	if (rc < 0)
		ctl_cluster_close(out);
	return rc;
}
