/* mount/peer.c — what arrives from the mesh, sent where it belongs.
 *
 * Paxos batches go to the engine as one RECEIVE event (so one turn, one
 * synced write), but for FETCHes held back by catch-up pacing; snapshot
 * transfers to mount/snapshot.c. A body that does
 * not decode is refused (-EBADMSG: net closes that link). Clients
 * (paxfs-verify, paxfsctl) may only ask questions. At start, a secret that no peer
 * accepts stops the daemon (mount_peer_check_secret). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mount/node.h"
#include "mount/snapshot.h"
#include "mount/status.h"
#include "mount/verify.h"
#include "paxos/codec.h"
#include "util/log.h"

int mount_peer_recv_cb(void *arg, uint32_t from, const Paxfs__Envelope *env)
{
	struct mount_node *n = arg;
	struct paxos_codec_msgs msgs;
	struct paxos_event ev = {.type = PAXOS_EV_RECEIVE};
	int rc;

	if (from >= NET_CLIENT_HANDLE_MIN)
		return env->body_case == PAXFS__ENVELOPE__BODY_STATUS_REQUEST
			   ? mount_status_on_client(n, from, env->status_request)
			   : mount_verify_on_client(n, from, env);
	switch (env->body_case) {
	case PAXFS__ENVELOPE__BODY_PAXOS:
		rc = paxos_codec_from_proto(env->paxos, &msgs);
		if (rc < 0)
			return rc == -ENOMEM ? 0 : -EBADMSG;
		/* FETCHes one by one, paced with catch-up's rate (snapshot.h;
		 * a FETCH holds no value to free), the rest in one step */
		size_t kept = 0;
		for (size_t i = 0; i < msgs.n; i++) {
			if (msgs.msgs[i].type == PAXOS_MSG_FETCH)
				mount_snapshot_on_fetch(n, from, &msgs.msgs[i]);
			else
				msgs.msgs[kept++] = msgs.msgs[i];
		}
		msgs.n = kept;
		ev.receive.from = from;
		ev.receive.msgs = msgs.msgs;
		ev.receive.n = msgs.n;
		rc = msgs.n ? node_step(n->core, &ev, NULL) : 0;
		if (rc == -EINVAL)
			LOG_DEBUG("node %u sent messages the engine refused", from);
		paxos_codec_msgs_free(&msgs);
		return 0;
	case PAXFS__ENVELOPE__BODY_SNAPSHOT_REQUEST:
		return mount_snapshot_on_request(n, from, env->snapshot_request);
	case PAXFS__ENVELOPE__BODY_SNAPSHOT_PIECE:
		return mount_snapshot_on_piece(n, from, env->snapshot_piece);
	default:
		return 0; /* a newer peer's message this version does not know */
	}
}

void mount_peer_up_cb(void *arg, uint32_t peer, bool up)
{
	struct mount_node *n = arg;
	struct paxos_event ev = {.type = up ? PAXOS_EV_PEER_UP : PAXOS_EV_PEER_DOWN};
	LOG_INFO("node %u is %s", peer, up ? "up" : "down");
	ev.peer.node = peer;
	node_step(n->core, &ev, NULL);
}

static void check_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Peers' handshakes so far: whether one is up; the ids of those that
 * refused the proof (into `refusing`); how many are still undecided. */
static bool peers_seen(struct mount_node *n, char *refusing, size_t size, int *pending)
{
	size_t len = 0;
	bool up = false;

	refusing[0] = '\0';
	*pending = 0;
	for (size_t i = 0; i < n->conf->n_nodes; i++) {
		uint32_t id = n->conf->nodes[i].id;
		struct net_peer_stats st;
		if (id == n->self || net_peer_stats(n->mesh, id, &st) < 0)
			continue;
		if (st.links_up) {
			up = true;
		} else if (st.auth_failures) {
			int w = snprintf(refusing + len, size - len, "%s%u", len ? ", " : "", id);
			if (w > 0 && (size_t)w < size - len)
				len += (size_t)w;
		} else if (!st.dial_failures) {
			(*pending)++;
		}
	}
	return up;
}

int mount_peer_check_secret(struct mount_node *n, char *err, size_t errlen)
{
	struct timeval tick = {0, 50 * 1000};
	struct event *ev = evtimer_new(n->base, check_tick_cb, n);
	char refusing[256];
	int pending;
	bool up;

	if (!ev)
		return -ENOMEM;
	for (int waited_ms = 0;; waited_ms += 50) {
		up = peers_seen(n, refusing, sizeof(refusing), &pending);
		if (up || !pending || waited_ms >= MOUNT_SECRET_CHECK_MS)
			break;
		evtimer_add(ev, &tick);
		event_base_loop(n->base, EVLOOP_ONCE);
	}
	event_free(ev);
	if (up || !refusing[0])
		return 0;
	bool several = strchr(refusing, ',') != NULL;
	if (n->conf->tls_cert[0])
		snprintf(err, errlen,
			 "node%s %s refuse%s this node's certificate, and no node accepted it: "
			 "check that %s is signed by the CA in the others' tls_ca and names this "
			 "node (their logs say why)",
			 several ? "s" : "", refusing, several ? "" : "s", n->conf->tls_cert);
	else
		snprintf(err, errlen,
			 "node%s %s refuse%s this node's proof of the cluster secret, and no "
			 "node accepted it: the secret in %s is not the one the cluster uses (copy "
			 "the cluster's secret file here; every node needs the same one)",
			 several ? "s" : "", refusing, several ? "" : "s", n->conf->secret_file);
	return -EACCES;
}
