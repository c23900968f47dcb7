/* mount/status.c — the daemon's side of paxfsctl (mount/status.h).
 *
 * Everything is read on the loop thread between two callbacks, so the
 * numbers of one answer belong together: the chosen entry of the namespace
 * is never older than its applied entry. Only counters are read; the
 * costliest parts are leveldb's size estimate and one meta read. */
#include "mount/status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "config.h"
#include "mount/loopwatch.h"
#include "mount/progress.h"
#include "util/log.h"

/* The peers part: every other configured node, in config order. */
static void fill_peers(struct mount_node *n, Paxfs__StatusReply *r, Paxfs__StatusPeer **ptrs,
		       Paxfs__StatusPeer *peers, struct net_peer_stats *st)
{
	size_t k = 0;
	for (size_t i = 0; i < n->conf->n_nodes; i++) {
		uint32_t id = n->conf->nodes[i].id;
		Paxfs__StatusPeer *p = &peers[k];
		if (id == n->self || net_peer_stats(n->mesh, id, &st[k]) < 0)
			continue;
		paxfs__status_peer__init(p);
		p->node_id = id;
		p->up = st[k].up;
		p->bytes_in = st[k].bytes_in;
		p->bytes_out = st[k].bytes_out;
		p->frames_in = st[k].frames_in;
		p->frames_out = st[k].frames_out;
		p->links_up = st[k].links_up;
		p->dials = st[k].dials;
		p->dial_failures = st[k].dial_failures;
		p->auth_failures = st[k].auth_failures;
		p->refused = st[k].refused;
		p->decode_errors = st[k].decode_errors;
		p->send_nobufs = st[k].send_nobufs;
		p->queue_bytes = st[k].queue_bytes;
		p->last_error.data = (uint8_t *)st[k].last_error;
		p->last_error.len = strnlen(st[k].last_error, sizeof(st[k].last_error));
		ptrs[k] = p;
		k++;
	}
	r->peers = ptrs;
	r->n_peers = k;
}

int mount_status_fill(struct mount_node *n, struct mount_status *s)
{
	Paxfs__StatusReply *r = &s->r;
	size_t max = n->conf->n_nodes;
	struct paxos_stats ps = {0};
	struct store_apply_meta am;
	struct statvfs sv, fv;
	uint64_t bytes = 0, chosen = 0;
	int rc;

	paxfs__status_reply__init(r);
	s->peers = calloc(max, sizeof(*s->peers));
	s->ptrs = calloc(max, sizeof(*s->ptrs));
	s->st = calloc(max, sizeof(*s->st));
	if (!s->peers || !s->ptrs || !s->st) {
		mount_status_close(s);
		return -ENOMEM;
	}
	r->node_id = n->self;
	r->cluster.data = (uint8_t *)n->conf->cluster;
	r->cluster.len = strlen(n->conf->cluster);
	r->version.data = (uint8_t *)PACKAGE_VERSION;
	r->version.len = strlen(PACKAGE_VERSION);
	r->data_dir.data = (uint8_t *)n->data_dir;
	r->data_dir.len = strlen(n->data_dir);
	r->boot_count = node_boot_count(n->core);
	r->uptime_ms = mount_now_ms() - n->started_ms;
	r->started_unix = n->started_wall_ns / 1000000000;
	r->amnesia = node_amnesia(n->core);
	rc = node_engine_err(n->core);
	r->engine_error = (uint32_t)(rc < 0 ? -rc : 0);
	if (node_engine(n->core)) {
		paxos_get_stats(node_engine(n->core), &ps);
		r->amnesia = ps.amnesia;
		if (paxos_entity_chosen(node_engine(n->core), FS_NAMESPACE, &chosen) == 0)
			r->ns_chosen = chosen;
	} else {
		r->amnesia = true; /* no engine: it votes on nothing */
	}
	r->entities_in_memory = ps.entities;
	r->proposals = ps.proposals;
	r->commands_waiting = ps.commands_waiting;
	r->catchup_queued = ps.catchup_queued;
	r->catchup_active = ps.catchup_active;
	r->catchup_done = ps.catchup_done;
	r->entries_proposed = ps.entries_proposed;
	r->entries_fast = ps.entries_fast;
	r->phase1_rounds = ps.phase1_rounds;
	r->preempted = ps.preempted;
	r->entries_lost = ps.entries_lost;
	r->resends = ps.resends;
	r->scans_open = ps.scans_open;
	r->alloc_bytes = ps.alloc_bytes;
	r->apply_deferred = node_deferred(n->core);
	if (store_get_apply_meta(n->store, FS_NAMESPACE, &am) == 0)
		r->ns_applied = am.applied_entry;
	if (fs_statfs(n->fs, &fv) == 0)
		r->inodes = (uint64_t)(fv.f_files - fv.f_ffree);
	r->applied_entries = n->applied_entries;
	r->applied_bytes = n->applied_bytes;
	r->installed_states = n->installed_states;
	r->installed_bytes = n->installed_bytes;
	r->requests_pending = n->pending;
	mount_loopwatch_get(n, &r->loop_blocks, &r->loop_blocked_max_ms);
	mount_progress_round(n, ps.catchup_done, &r->catchup_round_ms, &r->catchup_round_done);
	if (store_approximate_bytes(n->store, &bytes) == 0)
		r->store_bytes = bytes;
	if (statvfs(n->data_dir, &sv) == 0) {
		r->disk_free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
		r->disk_size_bytes = (uint64_t)sv.f_blocks * sv.f_frsize;
	}
	r->majority = (uint32_t)(n->conf->n_nodes / 2 + 1);
	fill_peers(n, r, s->ptrs, s->peers, s->st);
	return 0;
}

void mount_status_close(struct mount_status *s)
{
	free(s->peers);
	free(s->ptrs);
	free(s->st);
	s->peers = NULL;
	s->ptrs = NULL;
	s->st = NULL;
}

int mount_status_on_client(struct mount_node *n, uint32_t from, const Paxfs__StatusRequest *m)
{
	Paxfs__Envelope env = PAXFS__ENVELOPE__INIT;
	struct mount_status s;
	int rc;

	if (mount_status_fill(n, &s) < 0) {
		LOG_DEBUG("status: out of memory answering client %u", from);
		return 0;
	}
	s.r.request = m->request;
	env.version = 1;
	env.body_case = PAXFS__ENVELOPE__BODY_STATUS_REPLY;
	env.status_reply = &s.r;
	if ((rc = net_send(n->mesh, from, &env)) < 0)
		LOG_DEBUG("status: could not answer client %u: %s", from, strerror(-rc));
	mount_status_close(&s);
	return 0;
}
