/* mount/turn.c — carrying out the engine's updates: persist, send, deliver.
 *
 * Within a loop turn, every step's records go to the store at once without
 * sync (so the engine's storage reads see them), and its messages, chosen
 * values and answers are copied into the turn. At the end of the turn (an
 * event at the lowest priority), if any update of the turn holds a vote
 * (update->needs_sync), one synced write makes the turn durable — group
 * commit — and only then are the messages sent, the chosen values applied,
 * the answers given and the timer armed, in that order (paxos/paxos.h). A
 * turn without votes (chosen flags, trims) is not synced: the store makes it
 * durable with the next synced write, and the engine learns again what a
 * crash loses of it. Work that delivering causes (APPLIED events, new
 * commands) lands in the next turn.
 *
 * A store write (without sync) that fails for want of room means the engine
 * believes something the disk does not hold: the engine is dropped and
 * rebuilt from the store, exactly as after a crash (mount_engine_reset);
 * nothing of the turn leaves. Any other failed write, and a failed sync,
 * stop the node (mount_node_fail). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mount/faults.h"
#include "mount/node.h"
#include "mount/snapshot.h"
#include "paxos/codec.h"
#include "util/log.h"

#define VEC_PUSH(arr, n, cap, item)                                                                \
	do {                                                                                       \
		if ((n) == (cap)) {                                                                \
			size_t c_ = (cap) ? (cap)*2 : 16;                                          \
			void *p_ = realloc((arr), c_ * sizeof(*(arr)));                            \
			if (!p_)                                                                   \
				abort();                                                           \
			(arr) = p_;                                                                \
			(cap) = c_;                                                                \
		}                                                                                  \
		(arr)[(n)++] = (item);                                                             \
	} while (0)

struct out_msgs {
	struct paxos_msg *v;
	size_t n, cap;
};

struct mount_turn {
	struct store_batch *batch; /* one step's records; written unsynced at once */
	bool sync;                 /* an update of this turn needs a synced write */
	bool scheduled;            /* flush_ev is active */
	struct out_msgs out[256];  /* by destination node id */
	struct paxos_chosen *chosen;
	size_t n_chosen, cap_chosen;
	struct paxos_failed *failed;
	size_t n_failed, cap_failed;
	struct paxos_barrier_done *barriers;
	size_t n_barriers, cap_barriers;
	struct paxos_snapshot_req *snaps;
	size_t n_snaps, cap_snaps;
	void **owned; /* copies of values and items, freed with the turn */
	size_t n_owned, cap_owned;
};

static struct mount_turn *spare;

uint64_t mount_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t mount_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + mount_faults_wall_offset_ns();
}

static const void *keep(struct mount_turn *t, const void *data, size_t len)
{
	void *copy;
	if (!data || !len)
		return data;
	copy = malloc(len);
	if (!copy)
		abort();
	memcpy(copy, data, len);
	VEC_PUSH(t->owned, t->n_owned, t->cap_owned, copy);
	return copy;
}

static struct mount_turn *turn_new(void)
{
	struct mount_turn *t = calloc(1, sizeof(*t));
	if (!t || !(t->batch = store_batch_new()))
		abort();
	return t;
}

static void turn_clear(struct mount_turn *t)
{
	for (size_t i = 0; i < t->n_owned; i++)
		free(t->owned[i]);
	t->n_owned = 0;
	for (size_t i = 0; i < 256; i++)
		t->out[i].n = 0;
	t->n_chosen = t->n_failed = t->n_barriers = t->n_snaps = 0;
	t->sync = t->scheduled = false;
	store_batch_clear(t->batch);
}

static void turn_free(struct mount_turn *t)
{
	if (!t)
		return;
	turn_clear(t);
	for (size_t i = 0; i < 256; i++)
		free(t->out[i].v);
	free(t->chosen);
	free(t->failed);
	free(t->barriers);
	free(t->snaps);
	free(t->owned);
	store_batch_free(t->batch);
	free(t);
}

/* Writes the update's records, metas and trims (unsynced) and copies the
 * rest into the turn. */
static int take_update(struct mount_node *n, struct mount_turn *t, const struct paxos_update *u)
{
	int rc;

	for (size_t i = 0; i < u->n_records; i++) {
		const struct paxos_out_record *r = &u->records[i];
		struct store_record sr = {
		    .promised = r->rec.promised,
		    .accepted = r->rec.accepted,
		    .value_id = r->rec.value_id,
		    .chosen = r->rec.chosen,
		    .value = r->rec.value,
		    .value_len = r->rec.value_len,
		};
		store_batch_put_record(t->batch, r->entity, r->entry, &sr, r->value_stored);
	}
	for (size_t i = 0; i < u->n_metas; i++) {
		const struct paxos_meta *m = &u->metas[i].meta;
		struct store_paxos_meta sm = {
		    .chosen_entry = m->chosen_entry,
		    .chosen_proposer = m->chosen_proposer,
		    .trimmed_entry = m->trimmed_entry,
		    .trimmed_crc = m->trimmed_crc,
		    .vote_after = m->vote_after,
		};
		store_batch_put_paxos_meta(t->batch, u->metas[i].entity, &sm);
	}
	for (size_t i = 0; i < u->n_trims; i++) {
		rc = store_batch_trim(n->store, t->batch, u->trims[i].entity, u->trims[i].upto);
		if (rc < 0)
			return rc;
	}
	if (u->amnesia_cleared) {
		struct store_node node;
		rc = store_get_node(n->store, &node);
		if (rc < 0)
			return rc;
		node.amnesia = false;
		store_batch_put_node(t->batch, &node);
		n->amnesia = false;
		LOG_INFO("re-learned what this node may have promised: voting again");
	}
	if (!store_batch_empty(t->batch)) {
		rc = store_write(n->store, t->batch, false);
		if (rc < 0)
			return rc;
	}
	if (u->needs_sync)
		t->sync = true;

	for (size_t i = 0; i < u->n_outboxes; i++) {
		const struct paxos_outbox *ob = &u->outboxes[i];
		struct out_msgs *o = &t->out[ob->to & 0xff];
		for (size_t j = 0; j < ob->n; j++) {
			struct paxos_msg m = ob->msgs[j];
			if (m.type == PAXOS_MSG_CHOSEN && m.has_value)
				mount_snapshot_charge(n, m.value_len); /* catch-up served */
			m.value = keep(t, m.value, m.value_len);
			m.items = keep(t, m.items, m.n_items * sizeof(*m.items));
			VEC_PUSH(o->v, o->n, o->cap, m);
		}
	}
	for (size_t i = 0; i < u->n_chosen; i++) {
		struct paxos_chosen c = u->chosen[i];
		c.value = keep(t, c.value, c.value_len);
		VEC_PUSH(t->chosen, t->n_chosen, t->cap_chosen, c);
	}
	for (size_t i = 0; i < u->n_failed; i++)
		VEC_PUSH(t->failed, t->n_failed, t->cap_failed, u->failed[i]);
	for (size_t i = 0; i < u->n_barriers; i++)
		VEC_PUSH(t->barriers, t->n_barriers, t->cap_barriers, u->barriers[i]);
	for (size_t i = 0; i < u->n_snapshots; i++)
		VEC_PUSH(t->snaps, t->n_snaps, t->cap_snaps, u->snapshots[i]);
	for (size_t i = 0; i < u->n_errors; i++)
		LOG_ERR("entity %llu refuses service: its stored log cannot be read (%s)",
			(unsigned long long)u->errors[i].entity, strerror(-u->errors[i].error));
	n->deadline_ms = u->deadline_ms;
	return 0;
}

static void schedule(struct mount_node *n)
{
	if (!n->turn->scheduled) {
		n->turn->scheduled = true;
		event_active(n->flush_ev, 0, 0);
	}
}

int mount_step(struct mount_node *n, struct paxos_event *ev, uint64_t *submit_id)
{
	struct paxos_update *u;
	int rc, wrc;

	if (submit_id)
		*submit_id = 0;
	if (!n->paxos)
		return -ENOTCONN;
	ev->now_ms = mount_now_ms();
	rc = paxos_step(n->paxos, ev, &u);
	if (rc == -ENOMEM) {
		/* The engine is in an unknown state (paxos.h): stop as a crash would. */
		LOG_ERR("out of memory in the Paxos engine: stopping");
		abort();
	}
	if (submit_id)
		*submit_id = u->submit_id;
	wrc = take_update(n, n->turn, u);
	schedule(n);
	if (wrc == -ENOSPC) {
		/* Nothing of the failed write is in the page cache: rebuild
		 * the engine from the store, which takes writes again once
		 * there is room. */
		mount_engine_reset(n, wrc);
		return -ENOTCONN;
	}
	if (wrc < 0) {
		mount_node_fail(n, "writing to the store failed (%s): stopping; restart the node to "
				   "recover from its disk",
				strerror(-wrc));
		return -ENOTCONN;
	}
	return rc;
}

static void send_all(struct mount_node *n, struct mount_turn *t)
{
	for (uint32_t to = 1; to < 256; to++) {
		struct out_msgs *o = &t->out[to];
		Paxfs__PaxosBatch *pb;
		Paxfs__Envelope env = PAXFS__ENVELOPE__INIT;
		int rc;

		if (!o->n)
			continue;
		if (paxos_codec_to_proto(o->v, o->n, &pb) < 0)
			abort();
		env.version = 1;
		env.body_case = PAXFS__ENVELOPE__BODY_PAXOS;
		env.paxos = pb;
		rc = net_send(n->mesh, to, &env);
		/* A message that cannot go now is lost as on a network; the engine resends. */
		if (rc < 0 && rc != -ENOTCONN && rc != -ENOBUFS)
			LOG_WARN("sending %zu messages to node %u: %s", o->n, to, strerror(-rc));
		paxos_codec_proto_free(pb);
	}
}

static void arm_timer(struct mount_node *n)
{
	struct timeval tv;
	uint64_t now = mount_now_ms(), wait;

	if (n->deadline_ms == PAXOS_NO_DEADLINE || !n->paxos) {
		evtimer_del(n->tick_ev);
		return;
	}
	wait = n->deadline_ms > now ? n->deadline_ms - now : 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	evtimer_add(n->tick_ev, &tv);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_node *n = arg;
	struct mount_turn *t = n->turn;
	int rc;
	(void)fd;
	(void)what;

	n->turn = spare ? spare : turn_new();
	spare = NULL;

	if (t->sync) {
		/* The batch is empty: a sync point that makes every write of
		 * the turn (and before) durable. */
		rc = store_write(n->store, t->batch, true);
		if (rc < 0) {
			/* After a failed sync nobody knows what of the page cache
			 * reached the disk, nor what a later sync would write
			 * ("fsyncgate"): nothing of the turn leaves, and the node
			 * stops. A restart recovers from what the disk holds
			 * (leveldb's recovery rewrites and syncs its logs). */
			turn_clear(t);
			spare = t;
			mount_node_fail(
			    n,
			    "syncing the store failed (%s): stopping; restart the node to "
			    "recover from its disk",
			    strerror(-rc));
			return;
		}
	}
	send_all(n, t);
	for (size_t i = 0; i < t->n_chosen; i++)
		mount_apply(n, t->chosen[i].entity, t->chosen[i].entry, t->chosen[i].value,
			    t->chosen[i].value_len);
	for (size_t i = 0; i < t->n_failed; i++)
		mount_req_failed(n, t->failed[i].cmd_id, t->failed[i].error);
	for (size_t i = 0; i < t->n_barriers; i++)
		mount_req_barrier_done(n, &t->barriers[i]);
	for (size_t i = 0; i < t->n_snaps; i++)
		mount_snapshot_fetch(n, &t->snaps[i]);
	arm_timer(n);
	turn_clear(t);
	if (spare)
		turn_free(spare);
	spare = t;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_node *n = arg;
	struct paxos_event ev = {.type = PAXOS_EV_TICK};
	(void)fd;
	(void)what;
	mount_step(n, &ev, NULL);
}

static void reset_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_node *n = arg;
	char err[256];
	struct timeval again = {1, 0};
	(void)fd;
	(void)what;
	if (n->paxos || n->stopping)
		return;
	if (mount_engine_start(n, err, sizeof(err)) < 0) {
		LOG_WARN("engine restart failed (%s); trying again in 1 s", err);
		evtimer_add(n->reset_ev, &again);
	}
}

int mount_turn_init(struct mount_node *n)
{
	n->turn = turn_new();
	n->flush_ev = event_new(n->base, -1, 0, flush_cb, n);
	n->tick_ev = evtimer_new(n->base, tick_cb, n);
	n->reset_ev = evtimer_new(n->base, reset_cb, n);
	if (!n->flush_ev || !n->tick_ev || !n->reset_ev)
		return -ENOMEM;
	/* The flush runs after every other ready event of the turn. */
	event_priority_set(n->flush_ev, 2);
	n->deadline_ms = PAXOS_NO_DEADLINE;
	return 0;
}

void mount_turn_close(struct mount_node *n)
{
	if (n->flush_ev)
		event_free(n->flush_ev);
	if (n->tick_ev)
		event_free(n->tick_ev);
	if (n->reset_ev)
		event_free(n->reset_ev);
	n->flush_ev = n->tick_ev = n->reset_ev = NULL;
	turn_free(n->turn);
	turn_free(spare);
	n->turn = spare = NULL;
}

void mount_engine_reset(struct mount_node *n, int err)
{
	struct timeval now = {0, 0};
	LOG_ERR("store write failed (%s): dropping the Paxos engine and starting it again "
		"from the store, as after a crash",
		strerror(-err));
	paxos_free(n->paxos);
	n->paxos = NULL;
	n->engine_err = err;
	turn_clear(n->turn);
	mount_req_fail_all(n, err == -ENOSPC ? -ENOSPC : -EIO);
	evtimer_del(n->tick_ev);
	if (!n->stopping)
		evtimer_add(n->reset_ev, &now);
}

int mount_engine_start(struct mount_node *n, char *err, size_t errlen)
{
	struct store_node node;
	struct store_batch *b;
	struct paxos_config cfg = {0};
	uint32_t nodes[PAXOS_MAX_NODES];
	int rc;

	rc = store_get_node(n->store, &node);
	if (rc < 0) {
		snprintf(err, errlen, "reading the node record: %s", strerror(-rc));
		return rc;
	}
	/* A new boot count before any id of this boot is handed out. */
	node.boot_count++;
	b = store_batch_new();
	if (!b)
		return -ENOMEM;
	store_batch_put_node(b, &node);
	rc = store_write(n->store, b, true);
	store_batch_free(b);
	if (rc < 0) {
		snprintf(err, errlen, "recording the boot count: %s", strerror(-rc));
		return rc;
	}
	n->boot_count = node.boot_count;
	n->amnesia = node.amnesia;

	for (size_t i = 0; i < n->conf->n_nodes && i < PAXOS_MAX_NODES; i++)
		nodes[i] = n->conf->nodes[i].id;
	cfg.self = n->self;
	cfg.nodes = nodes;
	cfg.n_nodes = n->conf->n_nodes;
	cfg.boot_count = node.boot_count;
	cfg.amnesia = node.amnesia;
	cfg.seed = node.boot_count * 0x9e3779b97f4a7c15ull ^ (uint64_t)mount_wall_ns();
	cfg.ops = &mount_storage_ops;
	cfg.ops_ctx = n;
	cfg.proposal_timeout_ms = n->args->timeout_s * 1000;
	cfg.barrier_timeout_ms = n->args->timeout_s * 1000;
	/* The engine trims to the checkpoint before the last one it is told of;
	 * mount/retain.c reports a checkpoint only at the end of a window. */
	cfg.retention = 1;
	/* A FETCH is answered from the store inside one step: bound how much
	 * one answer reads (the engine's default, 4 MiB, stalled the loop). */
	cfg.fetch_max_bytes = 1u << 20;
	rc = paxos_new(&cfg, &n->paxos, err, errlen);
	if (rc < 0)
		return rc;
	n->engine_err = 0;
	LOG_INFO("Paxos engine started (boot %llu%s)", (unsigned long long)n->boot_count,
		 n->amnesia ? ", not voting until it has re-learned its log from the others" : "");
	for (size_t i = 0; i < n->conf->n_nodes; i++) {
		uint32_t peer = n->conf->nodes[i].id;
		if (peer != n->self && n->mesh && net_peer_up(n->mesh, peer)) {
			struct paxos_event ev = {.type = PAXOS_EV_PEER_UP, .peer = {peer}};
			mount_step(n, &ev, NULL);
		}
	}
	mount_apply_catch_up(n);
	return 0;
}
