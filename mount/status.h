/* mount/status.h — answering `paxfsctl status` and `paxfsctl metrics`.
 *
 * A client (net/: a link with handle >= NET_CLIENT_HANDLE_MIN that proved
 * the cluster secret) asks with a StatusRequest and gets one StatusReply
 * (proto/status.proto): what the node is, whether it votes, how far it got,
 * what it holds and what it sees of its peers. The answer is built from
 * counters the node already keeps, a statvfs of the data dir and two meta
 * reads; it changes nothing. The same answer feeds the node's HTTP metrics
 * (mount/metrics.h). */
#ifndef PAXFS_MOUNT_STATUS_H
#define PAXFS_MOUNT_STATUS_H

#include <stdint.h>

#include "mount/node.h"
#include "proto/status.pb-c.h"

/* A node's answer, as mount_status_fill makes it: the reply and the
 * storage its peers part points into. */
struct mount_status {
	Paxfs__StatusReply r;
	Paxfs__StatusPeer *peers;
	Paxfs__StatusPeer **ptrs;
	struct net_peer_stats *st;
};

/* Fills s->r with the node's status now (request 0). Returns 0, or -ENOMEM
 * (then s holds nothing). The reply borrows from n (cluster name, data dir)
 * and from s: use it before the next loop callback, then
 * mount_status_close(s). */
int mount_status_fill(struct mount_node *n, struct mount_status *s);
void mount_status_close(struct mount_status *s);

/* A StatusRequest from client `from`. Always 0: a reply that cannot be sent
 * (the link went, or its queue is full) is logged at debug level and
 * dropped; the client times out and says so. */
int mount_status_on_client(struct mount_node *n, uint32_t from, const Paxfs__StatusRequest *m);

#endif
