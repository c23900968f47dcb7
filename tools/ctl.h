/* tools/ctl.h — paxfsctl: an operator's view of a running cluster.
 *
 *   ctl_ask_status   asks every node of CONFIG (or one) for its status,
 *                    as a client of the mesh (tools/client.h), and keeps
 *                    each answer (proto/status.proto) or why there is none;
 *   ctl_status_*     one line per node, or one JSON object;
 *   ctl_metrics      the answers in Prometheus text format.
 *
 * The cluster is available when a majority of its configured nodes answers
 * and votes (not amnesic, engine running): ctl_exit_code says 0 then, else 1.
 */
#ifndef PAXFS_TOOLS_CTL_H
#define PAXFS_TOOLS_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/status.pb-c.h"

#define CTL_EXIT_OK    0 /* a majority is up and voting */
#define CTL_EXIT_DOWN  1 /* it is not (or a node asked for alone is not) */
#define CTL_EXIT_USAGE 2 /* a usage error, or a config that does not load */

struct ctl_node {
	uint32_t id;
	char where[320];           /* host:port */
	Paxfs__StatusReply *reply; /* its answer (owned), or NULL */
	char why[512];             /* no answer: why */
};

struct ctl_cluster {
	char cluster[64];
	struct ctl_node *nodes; /* every configured node, by id (only the one asked for, if so) */
	size_t n;
	size_t n_config; /* nodes in the config */
	size_t majority; /* of the configured nodes */
	uint64_t elapsed_ms;
};

/* Asks every node of `config` (only node `only`, when not 0) for its status;
 * a node that is not up within timeout_ms, or does not answer within
 * timeout_ms after that, gets why. Returns 0 and fills *out (close it with
 * ctl_cluster_close); -ENOENT when `only` is not in the config; -ENOMEM; or
 * the config's error; err says why. */
int ctl_ask_status(const char *config, uint32_t only, unsigned timeout_ms, struct ctl_cluster *out,
		   char *err, size_t errlen);
void ctl_cluster_close(struct ctl_cluster *c);

/* Whether a node answered and votes: not amnesic, its engine running. */
bool ctl_node_voting(const struct ctl_node *nd);

/* CTL_EXIT_OK when at least `majority` nodes vote (every node asked for,
 * when only some were), else CTL_EXIT_DOWN. */
int ctl_exit_code(const struct ctl_cluster *c);

/* A summary line, then one line per node (tools/ctl_status.c). */
void ctl_status_text(FILE *out, const struct ctl_cluster *c);
void ctl_status_json(FILE *out, const struct ctl_cluster *c);

/* Prometheus text exposition format 0.0.4: HELP and TYPE of each family,
 * then its samples, labelled cluster and node (and peer); paxfs_up is 0 for
 * a node that did not answer (tools/ctl_metrics.c). */
void ctl_metrics(FILE *out, const struct ctl_cluster *c);

#endif
