/* tools/ctl_metrics.c — `paxfsctl metrics`: the status answers in the
 * Prometheus text exposition format (version 0.0.4), written by the table
 * the daemon's own endpoint shares (tools/prom.h). A node that did not
 * answer has paxfs_up 0 and no other sample: a scrape of a down node must
 * not look like counters reset to zero. */
#include <stdio.h>

#include "tools/ctl.h"
#include "tools/prom.h"
#include "util/conf.h"

void ctl_metrics(FILE *out, const struct ctl_cluster *c)
{
	struct prom_node nodes[UTIL_CONF_MAX_NODES]; /* c->nodes are the config's */
	size_t n = c->n < UTIL_CONF_MAX_NODES ? c->n : UTIL_CONF_MAX_NODES;

	for (size_t i = 0; i < n; i++) {
		nodes[i].id = c->nodes[i].id;
		nodes[i].reply = c->nodes[i].reply;
	}
	prom_up(out, c->cluster, nodes, n, "1 if the node answered paxfsctl's status question.");
	prom_status(out, c->cluster, nodes, n);
}
