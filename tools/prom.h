/* tools/prom.h — the Prometheus text exposition format (version 0.0.4) of
 * nodes' StatusReplies (proto/status.proto), e.g.
 *
 *   # HELP paxfs_applied_entries_total Log entries applied since the daemon started.
 *   # TYPE paxfs_applied_entries_total counter
 *   paxfs_applied_entries_total{cluster="demo",node="1"} 5230
 *
 * One table of families, written by two programs: `paxfsctl metrics` (every
 * node's answer, tools/ctl_metrics.c) and a node's own HTTP endpoint
 * (mount/metrics.c), so that a dashboard reads the same names either way.
 * It lives in tools/ as libprom.a, beside libsummary.a, because it reads a
 * proto/ message (util/ may use libc alone; proto/ holds only the code
 * protoc-c generates) and tools/ may use proto/ and util/ only, which the
 * daemon (mount/, the composition root) may link.
 *
 * Every family is written whole (HELP, TYPE, every sample), as the format
 * requires. Every sample is labelled cluster and node (and peer, le, or the
 * caller's own label). */
#ifndef PAXFS_TOOLS_PROM_H
#define PAXFS_TOOLS_PROM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/status.pb-c.h"

/* One node: its id, and its answer (borrowed), or NULL when it gave none. */
struct prom_node {
	uint32_t id;
	const Paxfs__StatusReply *reply;
};

/* `# HELP name help` and `# TYPE name type`. */
void prom_head(FILE *out, const char *name, const char *type, const char *help);

/* A label value in double quotes: backslash, double quote and newline
 * escaped. */
void prom_label_value(FILE *out, const char *s, size_t len);

/* `{cluster="...",node="N"`: the caller writes further `,label="value"`
 * pairs, then the closing brace. */
void prom_labels(FILE *out, const char *cluster, uint32_t node);

/* The family paxfs_up (help: whose question the node answered): 1 for a
 * node with a reply, 0 for one without, every node of `nodes`. */
void prom_up(FILE *out, const char *cluster, const struct prom_node *nodes, size_t n,
	     const char *help);

/* paxfs_info (the version) and every family of the status table, each with
 * a sample per node that answered (a node that did not has none: a scrape of
 * a down node must not look like counters reset to zero). */
void prom_status(FILE *out, const char *cluster, const struct prom_node *nodes, size_t n);

/* The samples of one histogram (its head is the caller's): for each upper
 * bound le[i] (ascending, seconds), name_bucket{...,le="le[i]"} with the
 * count of observations <= le[i], then le="+Inf", name_sum and name_count.
 * counts[0..n_le] holds the observations per bucket, not cumulated
 * (counts[n_le]: above the last bound); _count is their total, so it always
 * equals the +Inf bucket. label/value: one more label (NULL: none). */
void prom_histogram(FILE *out, const char *name, const char *cluster, uint32_t node,
		    const char *label, const char *value, const double *le, size_t n_le,
		    const uint64_t *counts, double sum);

#endif
