/* mount/peer.c — what arrives from the mesh, sent where it belongs.
 *
 * Paxos batches go to the engine as one RECEIVE event (so one turn, one
 * synced write), but for FETCHes held back by catch-up pacing; snapshot
 * transfers to mount/snapshot.c. A body that does
 * not decode is refused (-EBADMSG: net closes that link). Clients
 * (paxfs-verify) may only ask questions. */
#include <errno.h>

#include "mount/node.h"
#include "mount/snapshot.h"
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
		return mount_verify_on_client(n, from, env);
	switch (env->body_case) {
	case PAXFS__ENVELOPE__BODY_PAXOS:
		rc = paxos_codec_from_proto(env->paxos, &msgs);
		if (rc < 0)
			return rc == -ENOMEM ? 0 : -EBADMSG;
		/* FETCHes wait while catch-up has used its rate (snapshot.h) */
		size_t kept = 0;
		for (size_t i = 0; i < msgs.n; i++)
			if (!mount_snapshot_hold_fetch(n, from, &msgs.msgs[i]))
				msgs.msgs[kept++] = msgs.msgs[i];
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
