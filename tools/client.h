/* tools/client.h — a tool's link to one node: paxfs-verify and paxfsctl.
 *
 * A tool is a client of the mesh (net/, node id 0): it dials one node,
 * proves the read-only client credential when the config has
 * client_secret_file (else the cluster secret, like a node), and may only
 * ask questions. One
 * mesh per node, so that a node whose name does not resolve, that refuses
 * us or answers garbage is put aside alone. These two helpers are what both
 * tools share: opening that mesh, and saying why a node that never came up
 * could not be reached, from the mesh's counters. */
#ifndef PAXFS_TOOLS_CLIENT_H
#define PAXFS_TOOLS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net.h"
#include "util/conf.h"

/* Failed dials after which a node that never came up is unreachable, before
 * the timeout. */
#define VERIFY_CLIENT_EARLY_DIALS 4

/* Opens a client mesh on `base` to node `cn` of `conf` (both borrowed for
 * the call): it connects within timeout_ms (handshake included), redials
 * every 50..400 ms, and declares the node dead after dead_ms of silence.
 * Returns 0 and sets *out; -ENOMEM; or another negative errno with why in
 * err (a host name too long or that does not resolve). */
int verify_client_open(struct event_base *base, const struct util_conf *conf,
		       const struct util_conf_node *cn, unsigned timeout_ms, unsigned dead_ms,
		       const struct net_callbacks *cb, void *arg, struct net_mesh **out, char *err,
		       size_t errlen);

/* For node `id` of client mesh `m`, not up yet: whether to give up on it,
 * with why in `why` — it refused the handshake's proof, refused otherwise,
 * answered garbage, or could not be reached (past_deadline, or
 * VERIFY_CLIENT_EARLY_DIALS failed dials). elapsed_ms is the time since the
 * first attempt, for the message. False: keep waiting. */
bool verify_client_unreachable(struct net_mesh *m, uint32_t id, bool past_deadline,
			       uint64_t elapsed_ms, char *why, size_t whylen);

#endif
