/* tools/online.c — paxfs-verify CONFIG: ask every running node.
 *
 * One client mesh per node (net/, node id 0: it proves the cluster secret
 * like a node), so that a node whose name does not resolve, refuses us or
 * answers garbage is put out of the check alone. One event loop drives it:
 *
 *   connect ─▶ LIST round: pages of summaries (VerifyRequest.after), one
 *              request in flight per node, paused while that node's
 *              summaries wait for slower nodes in the comparator
 *          ─▶ RECHECK rounds: the entities whose nodes were apart, re-asked
 *              by id after a growing pause (0.2, 0.4, 0.8, 1.6 s)
 *          ─▶ PATHS: one node names the inodes of what diverged
 *          ─▶ done
 *
 * A node is out of the check ("could not check", with why) when it cannot
 * be reached within the timeout, refuses the handshake, closes the link, is
 * silent past the answer deadline, answers with an error, or answers
 * something that breaks the protocol (garbage).
 */
#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/net.h"
#include "tools/client.h"
#include "tools/verify.h"
#include "tools/wire.h"
#include "util/clock.h"
#include "util/conf.h"
#include "util/log.h"

#define TICK_MS       50
#define QUEUE_PAGES   4   /* summaries a node may have waiting, in pages */
#define RECHECK_BATCH 256 /* entities per re-ask request */
#define PATHS_MAX     256 /* inodes named at most */
#define PATHS_BATCH   64

enum phase {
	P_LIST = 1,
	P_PAUSE,
	P_RECHECK,
	P_PATHS,
	P_END,
};

enum req_kind {
	R_LIST = 1,
	R_RECHECK,
	R_PATHS,
};

struct online;

struct onode {
	struct online *o;
	size_t idx;
	uint32_t id;
	struct net_mesh *mesh;
	bool up;         /* the link is up */
	bool lost;       /* out of the check */
	bool round_done; /* delivered everything of this round */
	bool waiting;    /* a request is in flight */
	enum req_kind kind;
	uint64_t req;
	uint64_t deadline; /* to connect, then for the answer in flight */
	uint64_t cursor;   /* LIST: entities <= cursor delivered */
	size_t pos;        /* RECHECK: ids[0..pos) delivered */
	size_t asked;      /* RECHECK / PATHS: ids in the request in flight */
};

struct online {
	const struct verify_opts *opt;
	struct verify_result *r;
	struct util_conf *conf;
	struct event_base *base;
	struct event *tick;
	struct onode *nodes;
	size_t n;
	enum phase phase;
	unsigned round, rounds;
	const uint64_t *ids; /* RECHECK: the entities of this round */
	size_t n_ids;
	uint64_t pause_until;
	uint64_t paths[PATHS_MAX];
	size_t n_paths, paths_pos;
	uint64_t next_req;
	uint64_t start, shown;
	unsigned timeout_ms;
};

static unsigned answer_ms(const struct online *o)
{
	unsigned t = o->timeout_ms * 6;
	return t < 60000 ? 60000 : t;
}

static void step(struct online *o);

/* ---- a node out of the check --------------------------------------------------- */

static void lose(struct onode *on, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lose(struct onode *on, const char *fmt, ...)
{
	struct verify_node_result *nr = &on->o->r->nodes[on->idx];
	va_list ap;
	if (on->lost)
		return;
	on->lost = true;
	on->waiting = false;
	nr->checked = false;
	va_start(ap, fmt);
	vsnprintf(nr->reason, sizeof(nr->reason), fmt, ap);
	va_end(ap);
	if (on->o->r->cmp)
		verify_cmp_node_lost(on->o->r->cmp, on->idx);
}

/* Puts a node that never came up out of the check once the mesh's counters
 * say why (tools/client.h); true then. */
static bool connect_failed(struct onode *on, uint64_t now)
{
	char why[400];
	if (!verify_client_unreachable(on->mesh, on->id, now >= on->deadline, now - on->o->start,
				       why, sizeof(why)))
		return false;
	lose(on, "%s", why);
	return true;
}

/* ---- requests --------------------------------------------------------------------- */

static void send_request(struct onode *on, enum req_kind kind, const uint64_t *ids, size_t n)
{
	struct online *o = on->o;
	Paxfs__Envelope env = PAXFS__ENVELOPE__INIT;
	Paxfs__VerifyRequest m = PAXFS__VERIFY_REQUEST__INIT;
	int rc;

	m.request = ++o->next_req;
	m.deep = o->opt->deep;
	m.max_entities = o->opt->page ? o->opt->page : o->opt->deep ? 64 : 512;
	if (kind == R_LIST)
		m.after = on->cursor;
	else if (kind == R_RECHECK) {
		m.n_entities = n;
		m.entities = (uint64_t *)ids;
	} else {
		m.n_paths = n;
		m.paths = (uint64_t *)ids;
	}
	env.version = 1;
	env.body_case = PAXFS__ENVELOPE__BODY_VERIFY_REQUEST;
	env.verify_request = &m;
	rc = net_send(on->mesh, on->id, &env);
	if (rc < 0) {
		lose(on, "cannot send it a request: %s", strerror(-rc));
		return;
	}
	on->waiting = true;
	on->kind = kind;
	on->req = m.request;
	on->asked = n;
	on->deadline = util_now_ms() + answer_ms(o);
}

/* Sends node on its next request of the phase, if it may. */
static void pump(struct onode *on)
{
	struct online *o = on->o;
	size_t page = o->opt->page ? o->opt->page : o->opt->deep ? 64 : 512;

	if (on->lost || !on->up || on->waiting || on->round_done)
		return;
	if (o->phase == P_LIST) {
		if (verify_cmp_queued(o->r->cmp, on->idx) < page * QUEUE_PAGES)
			send_request(on, R_LIST, NULL, 0);
	} else if (o->phase == P_RECHECK) {
		size_t k = o->n_ids - on->pos;
		if (k > RECHECK_BATCH)
			k = RECHECK_BATCH;
		if (verify_cmp_queued(o->r->cmp, on->idx) < page * QUEUE_PAGES)
			send_request(on, R_RECHECK, o->ids + on->pos, k);
	}
}

/* ---- answers ------------------------------------------------------------------------ */

static void take_info(struct onode *on, const Paxfs__VerifyNodeInfo *ni)
{
	struct verify_node_result *nr = &on->o->r->nodes[on->idx];
	if (!ni)
		return;
	nr->has_info = true;
	nr->boot_count = ni->boot_count;
	nr->amnesia = ni->amnesia;
	nr->catchup_queued = ni->catchup_queued;
	nr->catchup_active = ni->catchup_active;
	nr->catchup_done = ni->catchup_done;
	nr->apply_deferred = ni->apply_deferred;
}

/* Feeds the summaries of a LIST or RECHECK answer; false when the node is lost. */
static bool take_entities(struct onode *on, const Paxfs__VerifyReply *m)
{
	struct online *o = on->o;
	char why[200];

	for (size_t k = 0; k < m->n_entities; k++) {
		struct verify_entity e;
		int rc = verify_wire_unpack(m->entities[k], &e, why, sizeof(why));
		if (rc == 0 && on->kind == R_RECHECK && e.entity != o->ids[on->pos + k]) {
			snprintf(why, sizeof(why), "answered entity %llu when asked for %llu",
				 (unsigned long long)e.entity,
				 (unsigned long long)o->ids[on->pos + k]);
			rc = -EBADMSG;
		}
		if (rc == 0 && on->kind == R_LIST && e.entity <= on->cursor) {
			snprintf(why, sizeof(why), "listed entity %llu after %llu",
				 (unsigned long long)e.entity, (unsigned long long)on->cursor);
			rc = -EBADMSG;
		}
		if (rc == 0) {
			rc = verify_cmp_add(o->r->cmp, on->idx, &e);
			if (rc == -EINVAL)
				snprintf(why, sizeof(why), "entities out of order");
		}
		verify_entity_close(&e);
		if (rc == -ENOMEM) {
			lose(on, "out of memory reading its answer");
			return false;
		}
		if (rc < 0) {
			lose(on, "answered garbage: %s", why);
			return false;
		}
		if (on->kind == R_LIST)
			on->cursor = m->entities[k]->entity;
	}
	return true;
}

static void on_reply(struct onode *on, const Paxfs__VerifyReply *m)
{
	struct online *o = on->o;

	if (!on->waiting || m->request != on->req) {
		lose(on, "answered garbage: a reply to request %llu, which is not in flight",
		     (unsigned long long)m->request);
		return;
	}
	on->waiting = false;
	take_info(on, m->node);
	if (m->error) {
		lose(on, "could not answer: %.*s (%s)",
		     (int)(m->error_text.len > 300 ? 300 : m->error_text.len),
		     (const char *)m->error_text.data,
		     strerror((int)(m->error < 4096 ? m->error : EIO)));
		return;
	}
	switch (on->kind) {
	case R_LIST:
		if (m->n_entities == 0 && !m->done) {
			lose(on, "answered garbage: an empty page that is not the last");
			return;
		}
		if (!take_entities(on, m))
			return;
		if (m->done) {
			on->round_done = true;
			verify_cmp_node_done(o->r->cmp, on->idx);
		}
		break;
	case R_RECHECK:
		if (m->n_entities != on->asked) {
			lose(on, "answered garbage: %zu summaries for %zu entities asked",
			     m->n_entities, on->asked);
			return;
		}
		if (!take_entities(on, m))
			return;
		on->pos += on->asked;
		if (on->pos == o->n_ids) {
			on->round_done = true;
			verify_cmp_node_done(o->r->cmp, on->idx);
		}
		break;
	case R_PATHS: {
		size_t nf;
		struct verify_finding *f = verify_cmp_findings_mut(o->r->cmp, &nf);
		for (size_t k = 0; k < m->n_paths; k++) {
			const Paxfs__VerifyPath *p = m->paths[k];
			if (p->error || p->path.len == 0 || p->path.len >= sizeof(f[0].path))
				continue;
			for (size_t j = 0; j < nf; j++)
				if (f[j].entity == p->ino && !f[j].path[0]) {
					memcpy(f[j].path, p->path.data, p->path.len);
					f[j].path[p->path.len] = '\0';
				}
		}
		o->paths_pos += on->asked;
		break;
	}
	}
	if (verify_cmp_process(o->r->cmp) < 0)
		snprintf(o->r->error, sizeof(o->r->error), "out of memory comparing");
}

static int recv_cb(void *arg, uint32_t from, const Paxfs__Envelope *env)
{
	struct onode *on = arg;
	if (on->lost)
		return 0;
	if (env->body_case != PAXFS__ENVELOPE__BODY_VERIFY_REPLY) {
		lose(on, "answered garbage: a message that is not a verify reply (kind %d)",
		     (int)env->body_case);
		return 0;
	}
	on_reply(on, env->verify_reply);
	step(on->o);
	return 0;
}

static void peer_cb(void *arg, uint32_t peer, bool up)
{
	struct onode *on = arg;
	struct net_peer_stats st;
	on->up = up;
	if (on->lost)
		return;
	if (!up) {
		memset(&st, 0, sizeof(st));
		net_peer_stats(on->mesh, on->id, &st);
		/* Its later rounds would wait for it forever: it is out. */
		if (on->o->phase != P_END)
			lose(on, "the connection was lost during the check%s",
			     st.decode_errors ? " (it sent frames that do not decode)" : "");
	} else {
		on->deadline = 0;
	}
	step(on->o);
}

/* ---- phases ------------------------------------------------------------------------- */

static bool round_over(const struct online *o)
{
	for (size_t i = 0; i < o->n; i++)
		if (!o->nodes[i].lost && !o->nodes[i].round_done)
			return false;
	return true;
}

static void begin_paths(struct online *o)
{
	size_t nf;
	const struct verify_finding *f = verify_cmp_findings(o->r->cmp, &nf);
	o->phase = P_PATHS;
	o->n_paths = o->paths_pos = 0;
	for (size_t k = 0; k < nf && o->n_paths < PATHS_MAX; k++) {
		bool dup = f[k].entity == 1;
		for (size_t j = 0; j < o->n_paths && !dup; j++)
			dup = o->paths[j] == f[k].entity;
		if (!dup)
			o->paths[o->n_paths++] = f[k].entity;
	}
}

/* Moves the check along: ends rounds, starts the next phase, sends what may
 * be sent. Called after every event. */
static void step(struct online *o)
{
	uint64_t now = util_now_ms();

	if ((o->phase == P_LIST || o->phase == P_RECHECK) && round_over(o)) {
		if (verify_cmp_round_end(o->r->cmp, &o->ids, &o->n_ids) < 0) {
			snprintf(o->r->error, sizeof(o->r->error), "out of memory comparing");
			o->phase = P_END;
		} else if (o->n_ids && o->round < o->rounds) {
			o->round++;
			o->phase = P_PAUSE;
			o->pause_until = now + (100u << o->round);
		} else {
			begin_paths(o);
		}
	}
	if (o->phase == P_PAUSE && now >= o->pause_until) {
		o->phase = P_RECHECK;
		verify_cmp_round_begin(o->r->cmp, o->round == o->rounds);
		for (size_t i = 0; i < o->n; i++) {
			o->nodes[i].round_done = false;
			o->nodes[i].pos = 0;
		}
	}
	if (o->phase == P_PATHS) {
		struct onode *asker = NULL;
		for (size_t i = 0; i < o->n; i++)
			if (!o->nodes[i].lost && o->nodes[i].up && o->nodes[i].waiting &&
			    o->nodes[i].kind == R_PATHS)
				asker = &o->nodes[i];
		if (!asker && o->paths_pos < o->n_paths) {
			for (size_t i = 0; i < o->n && !asker; i++)
				if (!o->nodes[i].lost && o->nodes[i].up)
					asker = &o->nodes[i];
			if (asker) {
				size_t k = o->n_paths - o->paths_pos;
				send_request(asker, R_PATHS, o->paths + o->paths_pos,
					     k > PATHS_BATCH ? PATHS_BATCH : k);
			} else {
				o->paths_pos = o->n_paths; /* nobody left to ask */
			}
		}
		if (o->paths_pos >= o->n_paths)
			o->phase = P_END;
	}
	if (o->phase == P_LIST || o->phase == P_RECHECK)
		for (size_t i = 0; i < o->n; i++)
			pump(&o->nodes[i]);
	if (o->phase == P_END || o->r->error[0])
		event_base_loopexit(o->base, NULL);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct online *o = arg;
	uint64_t now = util_now_ms();
	(void)fd;
	(void)what;
	for (size_t i = 0; i < o->n; i++) {
		struct onode *on = &o->nodes[i];
		if (on->lost)
			continue;
		if (!on->up && on->deadline)
			connect_failed(on, now);
		else if (on->waiting && now >= on->deadline)
			lose(on, "did not answer within %u s", answer_ms(o) / 1000);
	}
	if (o->opt->progress && now - o->shown >= 250) {
		o->shown = now;
		verify_progress(o->r, o->phase == P_LIST ? "listing" : "re-checking");
	}
	step(o);
}

/* ---- set-up ------------------------------------------------------------------------------ */

static int open_node(struct online *o, struct onode *on, const struct util_conf_node *cn)
{
	struct net_callbacks cb = {.recv_cb = recv_cb, .peer_cb = peer_cb};
	struct verify_node_result *nr = &o->r->nodes[on->idx];
	char err[300];
	int rc;

	snprintf(nr->where, sizeof(nr->where), "%s:%u", cn->host, cn->port);
	rc = verify_client_open(o->base, o->conf, cn, o->timeout_ms, answer_ms(o), &cb, on,
				&on->mesh, err, sizeof(err));
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		lose(on, "%s", err);
		return 0;
	}
	on->deadline = o->start + o->timeout_ms;
	return 0;
}

int verify_online(const char *config, const struct verify_opts *opt, struct verify_result *r)
{
	struct online o = {0};
	struct timeval tv = {0, TICK_MS * 1000};
	uint32_t ids[UTIL_CONF_MAX_NODES];
	char err[sizeof(((struct verify_result *)0)->error)];
	int rc;

	memset(r, 0, sizeof(*r));
	r->mode = "online";
	r->deep = opt->deep;
	o.opt = opt;
	o.r = r;
	o.start = util_now_ms();
	o.timeout_ms = opt->timeout_ms ? opt->timeout_ms : 10000;
	o.rounds = opt->rounds ? opt->rounds : 4;
	if (!(o.conf = calloc(1, sizeof(*o.conf)))) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		goto out;
	}
	if (util_conf_load(config, o.conf, err, sizeof(err)) < 0) {
		snprintf(r->error, sizeof(r->error), "%s", err);
		goto out;
	}
	snprintf(r->cluster, sizeof(r->cluster), "%s", o.conf->cluster);
	o.n = o.conf->n_nodes;
	r->nodes = calloc(o.n, sizeof(*r->nodes));
	o.nodes = calloc(o.n, sizeof(*o.nodes));
	if (!r->nodes || !o.nodes || !(o.base = event_base_new()) ||
	    !(o.tick = event_new(o.base, -1, EV_PERSIST, tick_cb, &o))) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		goto out;
	}
	r->n_nodes = o.n;
	for (size_t i = 0; i < o.n; i++) {
		ids[i] = o.conf->nodes[i].id;
		r->nodes[i].id = ids[i];
		r->nodes[i].cmp_idx = (int)i;
		r->nodes[i].checked = true;
		o.nodes[i] = (struct onode){.o = &o, .idx = i, .id = ids[i]};
	}
	if ((rc = verify_cmp_new(ids, o.n, &r->cmp)) < 0) {
		snprintf(r->error, sizeof(r->error), "cannot start the comparison: %s",
			 strerror(-rc));
		goto out;
	}
	verify_cmp_round_begin(r->cmp, o.rounds == 0);
	for (size_t i = 0; i < o.n; i++)
		if (open_node(&o, &o.nodes[i], &o.conf->nodes[i]) < 0) {
			snprintf(r->error, sizeof(r->error), "out of memory");
			goto out;
		}
	o.phase = P_LIST;
	event_add(o.tick, &tv);
	step(&o);
	if (o.phase != P_END)
		event_base_dispatch(o.base);
	if (opt->progress)
		verify_progress_clear();
out:
	for (size_t i = 0; o.nodes && i < o.n; i++)
		net_mesh_free(o.nodes[i].mesh);
	if (o.tick)
		event_free(o.tick);
	if (o.base)
		event_base_free(o.base);
	free(o.nodes);
	if (o.conf) {
		util_conf_close(o.conf);
		free(o.conf);
	}
	r->elapsed_ms = util_now_ms() - o.start;
	return verify_exit_code(r);
}
