/* mount/snapshot.c — snapshot transfers, both directions.
 *
 *   asker                                     server
 *   engine: paxos_snapshot_req ──▶ SnapshotRequest(entity, transfer) ──▶ fs_export_open
 *   fs_install_chunk ◀── SnapshotPiece(seq 0..k, last) ◀── fs_export_next (paused on -ENOBUFS)
 *   fs_install_finish → SNAPSHOT_INSTALLED(entity, entry, crc)
 *
 * An incoming transfer that stalls for TRANSFER_TIMEOUT_MS is abandoned and
 * reported SNAPSHOT_FAILED; the engine asks again.
 *
 * Exports are paced, so that a node catching up does not slow the others
 * down (tests/faults, "catchup": pieces were read and queued until the
 * link's 32 MiB queue was full, one loop turn stalling the server for
 * 100 ms and more): at most PIECES_PER_TURN pieces per loop turn across all
 * exports, taken in turn, and at most `-o catchup_rate` MiB a second (a
 * token bucket; 0: no limit). Log entries served to a node catching up share
 * that bucket: the values of CHOSEN messages sent are charged to it, and
 * FETCHes that arrive while it is empty wait (at most HELD_FETCH_MAX; more
 * are dropped, as a network would: the asker fetches again). */
#include "mount/snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mount/lock.h"
#include "mount/notify.h"
#include "mount/retain.h"
#include "proto/envelope.pb-c.h"
#include "util/log.h"

#define PIECE_BYTES         (1u << 20)
#define TRANSFER_TIMEOUT_MS 30000
#define PIECES_PER_TURN     2
#define HELD_FETCH_MAX      1024

struct held_fetch {
	uint32_t from;
	struct paxos_msg msg; /* a FETCH: no value, no items */
};

struct incoming {
	struct incoming *next;
	uint64_t entity;
	uint64_t transfer;
	uint32_t from;
	uint32_t next_seq;
	uint64_t last_ms;
	struct fs_install *install;
};

struct outgoing {
	struct outgoing *next;
	uint64_t entity;
	uint64_t transfer;
	uint32_t to;
	uint32_t seq;
	struct fs_export *exp;
	uint8_t *held; /* a piece the link had no room for: sent first on resume */
	size_t held_len;
	bool held_last;
	bool blocked; /* the link's queue is full: wait for mount_snapshot_writable */
};

struct mount_snapshots {
	struct incoming *in;
	struct outgoing *out;
	uint64_t next_transfer;
	struct event *timer;
	struct event *pace_ev;   /* resumes the exports (next turn, or when tokens are back) */
	int64_t tokens;          /* bytes the exports may send now (may go below 0) */
	uint64_t tokens_ms;      /* when tokens were last refilled */
	struct held_fetch *held; /* FETCHes waiting for tokens, oldest first */
	size_t n_held;
	struct event *fetch_ev; /* steps them when tokens are back */
};

static void report(struct mount_node *n, uint64_t entity, bool ok)
{
	struct paxos_event ev = {.type =
				     ok ? PAXOS_EV_SNAPSHOT_INSTALLED : PAXOS_EV_SNAPSHOT_FAILED};
	struct store_apply_meta m = {0};
	ev.snapshot.entity = entity;
	if (ok && fs_applied(n->fs, entity, &m) == 0) {
		ev.snapshot.entry = m.applied_entry;
		ev.snapshot.chain_crc = m.chain_crc;
	} else if (ok) {
		ev.type = PAXOS_EV_SNAPSHOT_FAILED;
	}
	node_step(n->core, &ev, NULL);
	if (ev.type == PAXOS_EV_SNAPSHOT_INSTALLED) {
		mount_retain_forget(n, entity); /* a new state: a new window */
		node_apply_retry(n->core);
	}
}

static void drop_incoming(struct mount_node *n, struct incoming *in, bool ok)
{
	struct incoming **pp;
	for (pp = &n->snapshots->in; *pp; pp = &(*pp)->next)
		if (*pp == in) {
			*pp = in->next;
			break;
		}
	fs_install_free(in->install);
	report(n, in->entity, ok);
	free(in);
}

static void pace_cb(evutil_socket_t fd, short what, void *arg);
static void fetch_cb(evutil_socket_t fd, short what, void *arg);

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_node *n = arg;
	struct incoming *in, *next;
	uint64_t now = mount_now_ms();
	struct timeval tv = {1, 0};
	(void)fd;
	(void)what;
	for (in = n->snapshots->in; in; in = next) {
		next = in->next;
		if (now - in->last_ms > TRANSFER_TIMEOUT_MS) {
			LOG_WARN("snapshot of entity %llu from node %u stalled: abandoned",
				 (unsigned long long)in->entity, in->from);
			drop_incoming(n, in, false);
		}
	}
	if (n->snapshots->in)
		evtimer_add(n->snapshots->timer, &tv);
}

int mount_snapshots_new(struct mount_node *n)
{
	n->snapshots = calloc(1, sizeof(*n->snapshots));
	if (!n->snapshots)
		return -ENOMEM;
	n->snapshots->timer = evtimer_new(n->base, timer_cb, n);
	n->snapshots->pace_ev = evtimer_new(n->base, pace_cb, n);
	n->snapshots->fetch_ev = evtimer_new(n->base, fetch_cb, n);
	n->snapshots->held = calloc(HELD_FETCH_MAX, sizeof(*n->snapshots->held));
	n->snapshots->tokens_ms = mount_now_ms();
	return n->snapshots->timer && n->snapshots->pace_ev && n->snapshots->fetch_ev &&
		       n->snapshots->held
		   ? 0
		   : -ENOMEM;
}

void mount_snapshots_free(struct mount_node *n)
{
	struct mount_snapshots *s = n->snapshots;
	if (!s)
		return;
	while (s->in) {
		struct incoming *in = s->in;
		s->in = in->next;
		fs_install_free(in->install);
		free(in);
	}
	while (s->out) {
		struct outgoing *o = s->out;
		s->out = o->next;
		fs_export_free(o->exp);
		free(o->held);
		free(o);
	}
	if (s->timer)
		event_free(s->timer);
	if (s->pace_ev)
		event_free(s->pace_ev);
	if (s->fetch_ev)
		event_free(s->fetch_ev);
	free(s->held);
	free(s);
	n->snapshots = NULL;
}

void mount_snapshot_fetch(struct mount_node *n, const struct paxos_snapshot_req *req)
{
	struct mount_snapshots *s = n->snapshots;
	Paxfs__Envelope env = PAXFS__ENVELOPE__INIT;
	Paxfs__SnapshotRequest m = PAXFS__SNAPSHOT_REQUEST__INIT;
	struct incoming *in;
	struct timeval tv = {1, 0};
	int rc;

	for (in = s->in; in; in = in->next)
		if (in->entity == req->entity)
			return; /* one transfer per entity at a time */
	in = calloc(1, sizeof(*in));
	if (!in)
		return;
	in->entity = req->entity;
	in->from = req->from;
	in->transfer = ++s->next_transfer;
	in->last_ms = mount_now_ms();
	in->next = s->in;
	s->in = in;
	m.entity = req->entity;
	m.transfer = in->transfer;
	env.version = 1;
	env.body_case = PAXFS__ENVELOPE__BODY_SNAPSHOT_REQUEST;
	env.snapshot_request = &m;
	LOG_INFO("entity %llu is behind node %u's trim point: fetching its state",
		 (unsigned long long)req->entity, req->from);
	rc = net_send(n->mesh, req->from, &env);
	if (rc < 0) {
		drop_incoming(n, in, false);
		return;
	}
	if (!evtimer_pending(s->timer, NULL))
		evtimer_add(s->timer, &tv);
}

static int send_piece(struct mount_node *n, uint32_t to, uint64_t entity, uint64_t transfer,
		      uint32_t seq, const uint8_t *data, size_t len, bool last, int err)
{
	Paxfs__Envelope env = PAXFS__ENVELOPE__INIT;
	Paxfs__SnapshotPiece p = PAXFS__SNAPSHOT_PIECE__INIT;
	p.entity = entity;
	p.transfer = transfer;
	p.seq = seq;
	p.data.data = (uint8_t *)data;
	p.data.len = len;
	p.last = last;
	p.error = (uint32_t)(err < 0 ? -err : err);
	env.version = 1;
	env.body_case = PAXFS__ENVELOPE__BODY_SNAPSHOT_PIECE;
	env.snapshot_piece = &p;
	return net_send(n->mesh, to, &env);
}

static void drop_outgoing(struct mount_node *n, struct outgoing *o)
{
	struct outgoing **pp;
	for (pp = &n->snapshots->out; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	fs_export_free(o->exp);
	free(o->held);
	free(o);
	/* applies of the entity waited for the export to end */
	node_apply_retry(n->core);
}

/* Sends the next piece of `o`. Returns false when `o` is done (dropped) or
 * blocked by a full link queue. */
static bool send_next(struct mount_node *n, struct outgoing *o)
{
	int rc;
	if (!o->held) {
		rc = fs_export_next(o->exp, PIECE_BYTES, &o->held, &o->held_len, &o->held_last);
		if (rc < 0) {
			send_piece(n, o->to, o->entity, o->transfer, o->seq, NULL, 0, true, rc);
			drop_outgoing(n, o);
			return false;
		}
	}
	rc = send_piece(n, o->to, o->entity, o->transfer, o->seq, o->held, o->held_len,
			o->held_last, 0);
	if (rc == -ENOBUFS) {
		o->blocked = true; /* the piece stays held */
		return false;
	}
	n->snapshots->tokens -= (int64_t)o->held_len;
	if (rc < 0 || o->held_last) {
		drop_outgoing(n, o);
		return false;
	}
	free(o->held);
	o->held = NULL;
	o->seq++;
	return true;
}

static void refill(struct mount_node *n)
{
	struct mount_snapshots *s = n->snapshots;
	uint64_t now = mount_now_ms(), rate = (uint64_t)n->args->catchup_rate << 20;
	int64_t cap = (int64_t)PIECES_PER_TURN * PIECE_BYTES;
	if (!rate) {
		s->tokens = cap;
	} else {
		s->tokens += (int64_t)(rate * (now - s->tokens_ms) / 1000);
		if (s->tokens > cap)
			s->tokens = cap;
	}
	s->tokens_ms = now;
}

/* How long until the bucket holds tokens again (0: the next loop turn). */
static struct timeval until_tokens(struct mount_node *n)
{
	struct mount_snapshots *s = n->snapshots;
	struct timeval tv = {0, 0};
	if (s->tokens <= 0 && n->args->catchup_rate) {
		uint64_t need = (uint64_t)(1 - s->tokens),
			 rate = (uint64_t)n->args->catchup_rate << 20;
		uint64_t ms = need * 1000 / rate + 1;
		tv.tv_sec = (time_t)(ms / 1000);
		tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	}
	return tv;
}

/* One turn's worth of export: up to PIECES_PER_TURN pieces, one stream after
 * the other, while there are tokens; then arms pace_ev if work is left. */
static void pump_all(struct mount_node *n)
{
	struct mount_snapshots *s = n->snapshots;
	int sent = 0;
	bool progress = true, waiting = false;
	struct timeval tv = {0, 0};

	refill(n);
	while (progress && sent < PIECES_PER_TURN && s->tokens > 0) {
		progress = false;
		for (struct outgoing *o = s->out, *next;
		     o && sent < PIECES_PER_TURN && s->tokens > 0; o = next) {
			next = o->next;
			if (o->blocked)
				continue;
			sent++;
			if (send_next(n, o))
				progress = true;
		}
	}
	for (struct outgoing *o = s->out; o; o = o->next)
		if (!o->blocked)
			waiting = true;
	if (!waiting || evtimer_pending(s->pace_ev, NULL))
		return;
	tv = until_tokens(n);
	evtimer_add(s->pace_ev, &tv); /* 0: the next loop turn, after other events */
}

static void pace_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump_all(arg);
}

void mount_snapshot_charge(struct mount_node *n, size_t bytes)
{
	if (n->snapshots)
		n->snapshots->tokens -= (int64_t)bytes;
}

static void step_fetch(struct mount_node *n, uint32_t from, const struct paxos_msg *m)
{
	struct paxos_event ev = {.type = PAXOS_EV_RECEIVE};
	ev.receive.from = from;
	ev.receive.msgs = m;
	ev.receive.n = 1;
	node_step(n->core, &ev, NULL);
}

/* Keeps a FETCH: only its fields (the decoded batch it came in is freed). */
static void hold_copy(struct held_fetch *h, uint32_t from, const struct paxos_msg *m)
{
	h->from = from;
	h->msg = *m;
	h->msg.value = NULL;
	h->msg.value_len = 0;
	h->msg.has_value = false;
	h->msg.items = NULL;
	h->msg.n_items = 0;
}

/* Tells the asker its FETCH waits here (paxos.h, FETCH_WAIT): it asks again
 * later, of this node, and does not work around it meanwhile. */
static void send_wait(struct mount_node *n, uint32_t to, const struct paxos_msg *fetch)
{
	struct paxos_msg w = {0};
	w.type = PAXOS_MSG_FETCH_WAIT;
	w.entity = fetch->entity;
	w.entry = fetch->entry;
	mount_turn_send(n, to, &w, 1);
}

void mount_snapshot_on_fetch(struct mount_node *n, uint32_t from, const struct paxos_msg *m)
{
	struct mount_snapshots *s = n->snapshots;
	refill(n);
	if (s->tokens > 0 && !s->n_held) {
		/* Alone, so that its answer is charged (CHOSEN leaves within the
		 * step: mount/turn.c) before the next FETCH looks at the bucket:
		 * a batch of 16 FETCHes went out as 16 MiB at once, whatever the
		 * rate. */
		step_fetch(n, from, m);
		return;
	}
	send_wait(n, from, m);
	/* An asker keeps one FETCH in flight per entity: a newer one from it
	 * replaces the one held (else both would be answered). */
	for (size_t i = 0; i < s->n_held; i++)
		if (s->held[i].from == from && s->held[i].msg.entity == m->entity) {
			hold_copy(&s->held[i], from, m);
			return;
		}
	if (s->n_held == HELD_FETCH_MAX) {
		LOG_DEBUG("catch-up paced: a FETCH from node %u dropped (%d held)", from,
			  HELD_FETCH_MAX);
		return;
	}
	hold_copy(&s->held[s->n_held++], from, m);
	if (!evtimer_pending(s->fetch_ev, NULL)) {
		struct timeval tv = until_tokens(n);
		evtimer_add(s->fetch_ev, &tv);
	}
}

/* Steps the held FETCHes, oldest first, while there are tokens (each answer
 * is charged as it is sent: mount/turn.c). */
static void fetch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_node *n = arg;
	struct mount_snapshots *s = n->snapshots;
	size_t done = 0;
	(void)fd;
	(void)what;
	refill(n);
	while (done < s->n_held && s->tokens > 0) {
		struct held_fetch h = s->held[done++];
		step_fetch(n, h.from, &h.msg);
		refill(n);
	}
	memmove(s->held, s->held + done, (s->n_held - done) * sizeof(*s->held));
	s->n_held -= done;
	if (s->n_held) {
		struct timeval tv = until_tokens(n);
		evtimer_add(s->fetch_ev, &tv);
	}
}

int mount_snapshot_on_request(struct mount_node *n, uint32_t from, const Paxfs__SnapshotRequest *m)
{
	struct outgoing *o;
	int rc;

	if (!m->entity)
		return -EBADMSG;
	o = calloc(1, sizeof(*o));
	if (!o)
		return 0;
	o->entity = m->entity;
	o->transfer = m->transfer;
	o->to = from;
	rc = fs_export_open(n->fs, m->entity, &o->exp);
	if (rc < 0) {
		send_piece(n, from, m->entity, m->transfer, 0, NULL, 0, true, rc);
		free(o);
		return 0;
	}
	LOG_INFO("sending the state of entity %llu to node %u", (unsigned long long)m->entity,
		 from);
	/* at the end: streams are served in the order they were asked for */
	struct outgoing **pp = &n->snapshots->out;
	while (*pp)
		pp = &(*pp)->next;
	*pp = o;
	pump_all(n);
	return 0;
}

void mount_snapshot_writable(struct mount_node *n, uint32_t peer)
{
	for (struct outgoing *o = n->snapshots->out; o; o = o->next)
		if (o->to == peer)
			o->blocked = false;
	pump_all(n);
}

bool mount_snapshot_exporting(struct mount_node *n, uint64_t entity)
{
	for (struct outgoing *o = n->snapshots ? n->snapshots->out : NULL; o; o = o->next)
		if (o->entity == entity)
			return true;
	return false;
}

int mount_snapshot_on_piece(struct mount_node *n, uint32_t from, const Paxfs__SnapshotPiece *m)
{
	struct incoming *in;
	int rc;

	for (in = n->snapshots->in; in; in = in->next)
		if (in->transfer == m->transfer && in->from == from)
			break;
	if (!in)
		return 0; /* a transfer already abandoned */
	if (m->entity != in->entity || m->seq != in->next_seq)
		return -EBADMSG;
	in->last_ms = mount_now_ms();
	if (m->error) {
		LOG_WARN("node %u could not send entity %llu: %s", from,
			 (unsigned long long)in->entity, strerror((int)m->error));
		drop_incoming(n, in, false);
		return 0;
	}
	if (m->seq == 0) {
		rc = fs_install_open(n->fs, in->entity, &in->install);
		if (rc < 0)
			goto failed;
	}
	rc = fs_install_chunk(in->install, m->data.data, m->data.len);
	if (rc == 0)
		n->installed_bytes += m->data.len;
	if (rc == -EALREADY) {
		drop_incoming(n, in, true); /* this node is already that far */
		return 0;
	}
	if (rc < 0)
		goto failed;
	in->next_seq++;
	if (m->last) {
		struct fs_apply_out out;
		fs_apply_out_init(&out);
		rc = fs_install_finish(in->install, &out);
		if (rc == 0)
			for (size_t i = 0; i < out.n_unlinked; i++)
				mount_inode_release(n, out.unlinked[i]);
		fs_apply_out_close(&out);
		if (rc < 0)
			goto failed;
		LOG_INFO("installed the state of entity %llu from node %u",
			 (unsigned long long)in->entity, from);
		n->installed_states++;
		if (in->entity != FS_NAMESPACE) {
			if (util_u64map_put(&n->data_stale, in->entity, (void *)1) < 0)
				abort(); /* a lost mark would serve stale data */
			if (n->notify)
				mount_notify_inode(n->notify, in->entity);
			mount_lock_wake(n, in->entity); /* its lock table came whole */
		}
		drop_incoming(n, in, true);
	}
	return 0;
failed:
	LOG_WARN("installing entity %llu from node %u failed: %s", (unsigned long long)in->entity,
		 from, strerror(-rc));
	drop_incoming(n, in, false);
	return 0;
}
