/* mount/turn.c — the daemon's side of the node core (node/node.h): its
 * clock, its disk (leveldb through store/), its network (net/), its timers
 * and turns (libevent), and the state machine (fs/ through mount/apply.c,
 * the answers through mount/req.c).
 *
 * A loop turn ends with flush_ev, an event at the lowest priority that runs
 * after every other ready event of the turn: node_flush, the group commit.
 * The sync runs on a thread of its own (mount/syncer.h): the turn is held
 * (NODE_SYNC_PENDING) while the loop sends the turn's early ACCEPTs and
 * takes new steps, and node_sync_done lets it go. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mount/faults.h"
#include "mount/node.h"
#include "mount/snapshot.h"
#include "mount/syncer.h"
#include "paxos/codec.h"
#include "util/clock.h"
#include "util/log.h"

/* The largest batch of Paxos messages in one frame: well under net's
 * max_frame (NET_DEFAULT_MAX_FRAME), so that a big turn does not hold a link
 * for long either. */
#define MOUNT_SEND_BATCH_MAX (16u << 20)

struct mount_turn {
	struct store_batch *batch; /* one step's records; written unsynced at once */
	struct event *flush_ev;    /* lowest priority: runs at the end of a turn */
	struct event *tick_ev;     /* the engine's deadline, or an engine restart */
	struct mount_syncer *syncer;
	uint64_t held_sync; /* the sync request the held turn waits for; 0: none */
};

uint64_t mount_now_ms(void)
{
	return util_now_ms();
}

int64_t mount_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + mount_faults_wall_offset_ns();
}

uint64_t mount_real_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- io: clock, disk, network, timers ------------------------------------ */

static uint64_t io_now_ms(void *ctx)
{
	(void)ctx;
	return mount_now_ms();
}

static int io_boot(void *ctx, struct node_boot *out, char *err, size_t errlen)
{
	struct mount_node *n = ctx;
	struct store_node node;
	int rc;

	rc = store_get_node(n->store, &node);
	if (rc < 0) {
		snprintf(err, errlen, "reading the node record: %s", strerror(-rc));
		return rc;
	}
	/* The id base of this life, recorded with the same synced write
	 * (docs/decisions.md, "Value ids and command ids"). */
	uint64_t base = node_id_base_next(mount_real_wall_ms(), node.id_base, node.boot_count);
	if (!base) {
		snprintf(err, errlen,
			 "no id base left below 2^56 (wall clock %llu ms, recorded base %llu)",
			 (unsigned long long)mount_real_wall_ms(),
			 (unsigned long long)node.id_base);
		return -EOVERFLOW;
	}
	node.boot_count++;
	node.id_base = base;
	rc = store_put_node(n->store, &node);
	if (rc < 0) {
		snprintf(err, errlen, "recording the boot count: %s", strerror(-rc));
		return rc;
	}
	out->boot_count = node.boot_count;
	out->id_base = node.id_base;
	out->amnesia = node.amnesia;
	out->seed = node.boot_count * 0x9e3779b97f4a7c15ull ^ (uint64_t)mount_wall_ns();
	return 0;
}

static int io_persist(void *ctx, const struct paxos_update *u)
{
	struct mount_node *n = ctx;
	struct store_batch *b = n->turn->batch;
	int rc;

	store_batch_clear(b);
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
		store_batch_put_record(b, r->entity, r->entry, &sr, r->value_stored);
	}
	for (size_t i = 0; i < u->n_metas; i++) {
		const struct paxos_meta *m = &u->metas[i].meta;
		struct store_paxos_meta sm = {
		    .chosen_entry = m->chosen_entry,
		    .chosen_proposer = m->chosen_proposer,
		    .trimmed_entry = m->trimmed_entry,
		    .trimmed_crc = m->trimmed_crc,
		    .vote_after = m->vote_after,
		    .born = m->born,
		};
		store_batch_put_paxos_meta(b, u->metas[i].entity, &sm);
	}
	for (size_t i = 0; i < u->n_trims; i++) {
		rc = store_batch_trim(n->store, b, u->trims[i].entity, u->trims[i].upto);
		if (rc < 0)
			return rc;
	}
	if (u->amnesia_cleared) {
		struct store_node node;
		rc = store_get_node(n->store, &node);
		if (rc < 0)
			return rc;
		node.amnesia = false;
		store_batch_put_node(b, &node);
		LOG_INFO("re-learned what this node may have promised: voting again");
	}
	if (store_batch_empty(b))
		return 0;
	return store_write(n->store, b, false);
}

static int io_sync(void *ctx)
{
	struct mount_node *n = ctx;
	n->turn->held_sync = mount_syncer_request(n->turn->syncer);
	return NODE_SYNC_PENDING;
}

const struct mount_hist *mount_turn_sync_latency(const struct mount_node *n)
{
	return n->turn && n->turn->syncer ? mount_syncer_latency(n->turn->syncer) : NULL;
}

static void sync_done(void *arg, uint64_t upto, int rc)
{
	struct mount_node *n = arg;
	/* An answer to a request older than the held turn's is for a turn that
	 * was dropped (node_reset): the held one waits on. */
	if (!n->turn->held_sync || upto < n->turn->held_sync)
		return;
	n->turn->held_sync = 0;
	node_sync_done(n->core, rc);
}

static void io_send(void *ctx, uint32_t to, const struct paxos_msg *msgs, size_t count)
{
	struct mount_node *n = ctx;
	Paxfs__PaxosBatch *pb;
	Paxfs__Envelope env = PAXFS__ENVELOPE__INIT;
	int rc;

	for (size_t i = 0; i < count; i++)
		if (msgs[i].type == PAXOS_MSG_CHOSEN && msgs[i].has_value)
			mount_snapshot_charge(n, msgs[i].value_len); /* catch-up served */
	if (paxos_codec_to_proto(msgs, count, &pb) < 0)
		abort();
	env.version = 1;
	env.body_case = PAXFS__ENVELOPE__BODY_PAXOS;
	/* In batches that fit a frame (a turn's catch-up values and 4 MiB
	 * ACCEPTs to one peer can exceed any): one that is too big is dropped
	 * whole, at every resend again. */
	for (size_t from = 0, end; from < pb->n_msgs; from = end) {
		Paxfs__PaxosBatch part = *pb;
		end = paxos_codec_batch_fit(pb, from, MOUNT_SEND_BATCH_MAX);
		part.msgs = pb->msgs + from;
		part.n_msgs = end - from;
		env.paxos = &part;
		rc = net_send(n->mesh, to, &env);
		/* A message that cannot go now is lost as on a network; the engine
		 * resends. */
		if (rc < 0 && rc != -ENOTCONN && rc != -ENOBUFS)
			LOG_WARN("sending %zu messages to node %u: %s", end - from, to,
				 strerror(-rc));
	}
	paxos_codec_proto_free(pb);
}

static void io_set_timer(void *ctx, uint64_t deadline_ms)
{
	struct mount_node *n = ctx;
	struct timeval tv;
	uint64_t now = mount_now_ms(), wait;

	if (deadline_ms == PAXOS_NO_DEADLINE) {
		evtimer_del(n->turn->tick_ev);
		return;
	}
	wait = deadline_ms > now ? deadline_ms - now : 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	evtimer_add(n->turn->tick_ev, &tv);
}

static void io_schedule_flush(void *ctx)
{
	struct mount_node *n = ctx;
	event_active(n->turn->flush_ev, 0, 0);
}

static bool io_peer_connected(void *ctx, uint32_t peer)
{
	struct mount_node *n = ctx;
	return n->mesh && net_peer_up(n->mesh, peer);
}

static void io_fatal(void *ctx, int err, const char *why)
{
	(void)err;
	mount_node_fail(ctx, "%s", why);
}

static const struct node_io daemon_io = {
    .now_ms = io_now_ms,
    .boot = io_boot,
    .persist = io_persist,
    .sync = io_sync,
    .send = io_send,
    .set_timer = io_set_timer,
    .schedule_flush = io_schedule_flush,
    .peer_connected = io_peer_connected,
    .fatal = io_fatal,
};

/* ---- fsm: fs/ and the waiting requests ----------------------------------- */

static int fsm_applied(void *ctx, uint64_t entity, uint64_t *entry)
{
	struct mount_node *n = ctx;
	struct store_apply_meta m;
	int rc = fs_applied(n->fs, entity, &m);
	*entry = rc == 0 ? m.applied_entry : 0;
	return rc == -ENOENT ? 0 : rc;
}

static int fsm_apply(void *ctx, const struct paxos_chosen *c, bool from_log)
{
	(void)from_log;
	return mount_apply_entry(ctx, c);
}

static bool fsm_hold(void *ctx, uint64_t entity)
{
	/* an export of it is streaming: keep its state still */
	return mount_snapshot_exporting(ctx, entity);
}

static void fsm_applies_done(void *ctx)
{
	struct mount_node *n = ctx;
	if (n->waiting)
		mount_req_recheck(n);
}

static void fsm_failed(void *ctx, void *req, const struct paxos_failed *f)
{
	mount_req_failed(ctx, req, f->error);
}

static void fsm_barrier_done(void *ctx, void *req, const struct paxos_barrier_done *b)
{
	mount_req_barrier_done(ctx, req, b);
}

static void fsm_abandon(void *ctx, void *req, int err)
{
	/* While a full disk keeps the engine down, say so (not "I/O error"). */
	mount_req_abandon(ctx, req, err == -ENOSPC ? -ENOSPC : -EIO);
}

static void fsm_snapshot_fetch(void *ctx, const struct paxos_snapshot_req *r)
{
	mount_snapshot_fetch(ctx, r);
}

static void fsm_entity_error(void *ctx, uint64_t entity, int err)
{
	(void)ctx;
	LOG_ERR("entity %llu refuses service: its stored log cannot be read (%s)",
		(unsigned long long)entity, strerror(-err));
}

static void fsm_started(void *ctx)
{
	struct mount_node *n = ctx;
	LOG_INFO(
	    "Paxos engine started (boot %llu, id base %llu%s)",
	    (unsigned long long)node_boot_count(n->core), (unsigned long long)node_id_base(n->core),
	    node_amnesia(n->core) ? ", not voting until it has re-learned its log from the others"
				  : "");
}

static void fsm_lost(void *ctx, int err)
{
	struct mount_node *n = ctx;
	if (!node_stopped(n->core))
		LOG_ERR("store write failed (%s): dropping the Paxos engine and starting it again "
			"from the store, as after a crash",
			strerror(-err));
	/* While a full disk keeps the engine down, say so (not "I/O error"). */
	mount_req_fail_all(ctx, err == -ENOSPC ? -ENOSPC : -EIO);
}

static const struct node_fsm daemon_fsm = {
    .applied = fsm_applied,
    .apply = fsm_apply,
    .hold = fsm_hold,
    .applies_done = fsm_applies_done,
    .failed = fsm_failed,
    .barrier_done = fsm_barrier_done,
    .abandon = fsm_abandon,
    .snapshot_fetch = fsm_snapshot_fetch,
    .entity_error = fsm_entity_error,
    .started = fsm_started,
    .lost = fsm_lost,
};

void mount_turn_send(struct mount_node *n, uint32_t to, const struct paxos_msg *msgs, size_t count)
{
	io_send(n, to, msgs, count);
}

/* ---- the loop's events --------------------------------------------------- */

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_node *n = arg;
	(void)fd;
	(void)what;
	node_flush(n->core);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_node *n = arg;
	(void)fd;
	(void)what;
	node_tick(n->core);
}

int mount_turn_init(struct mount_node *n)
{
	struct node_config cfg = {0};
	uint32_t nodes[PAXOS_MAX_NODES];
	size_t count = 0;

	n->turn = calloc(1, sizeof(*n->turn));
	if (!n->turn || !(n->turn->batch = store_batch_new()))
		return -ENOMEM;
	n->turn->flush_ev = event_new(n->base, -1, 0, flush_cb, n);
	n->turn->tick_ev = evtimer_new(n->base, tick_cb, n);
	if (!n->turn->flush_ev || !n->turn->tick_ev ||
	    mount_syncer_new(n->base, n->store, sync_done, n, &n->turn->syncer) < 0)
		return -ENOMEM;
	/* The flush runs after every other ready event of the turn. */
	event_priority_set(n->turn->flush_ev, 2);

	for (size_t i = 0; i < n->conf->n_nodes && i < PAXOS_MAX_NODES; i++)
		nodes[count++] = n->conf->nodes[i].id;
	cfg.self = n->self;
	cfg.nodes = nodes;
	cfg.n_nodes = count;
	cfg.engine.proposal_timeout_ms = n->args->timeout_s * 1000;
	cfg.engine.barrier_timeout_ms = n->args->timeout_s * 1000;
	/* The engine trims to the checkpoint before the last one it is told of;
	 * mount/retain.c reports a checkpoint only at the end of a window. */
	cfg.engine.retention = 1;
	/* A FETCH is answered from the store inside one step: bound how much
	 * one answer reads (the engine's default, 4 MiB, stalled the loop). */
	cfg.engine.fetch_max_bytes = 1u << 20;
	cfg.storage = &mount_storage_ops;
	cfg.storage_ctx = n;
	cfg.io = &daemon_io;
	cfg.io_ctx = n;
	cfg.fsm = &daemon_fsm;
	cfg.fsm_ctx = n;
	cfg.unblock_entity = FS_NAMESPACE; /* files wait for their inodes */
	return node_new(&cfg, &n->core);
}

void mount_turn_close(struct mount_node *n)
{
	if (n->turn) {
		mount_syncer_free(n->turn->syncer); /* before the core it answers */
		n->turn->syncer = NULL;
	}
	node_free(n->core);
	n->core = NULL;
	if (!n->turn)
		return;
	if (n->turn->flush_ev)
		event_free(n->turn->flush_ev);
	if (n->turn->tick_ev)
		event_free(n->turn->tick_ev);
	store_batch_free(n->turn->batch);
	free(n->turn);
	n->turn = NULL;
}
