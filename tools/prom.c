/* tools/prom.c — the status families in Prometheus text format (tools/prom.h). */
#include "tools/prom.h"

#include <stdlib.h>
#include <string.h>

typedef uint64_t (*node_get_fn)(const Paxfs__StatusReply *r);
typedef uint64_t (*peer_get_fn)(const Paxfs__StatusPeer *p);

#define NODE_GET(field)                                                                            \
	static uint64_t get_##field(const Paxfs__StatusReply *r)                                   \
	{                                                                                          \
		return (uint64_t)r->field;                                                         \
	}
#define PEER_GET(field)                                                                            \
	static uint64_t peer_##field(const Paxfs__StatusPeer *p)                                   \
	{                                                                                          \
		return (uint64_t)p->field;                                                         \
	}

NODE_GET(boot_count)
NODE_GET(started_unix)
NODE_GET(amnesia)
NODE_GET(inodes)
NODE_GET(entities_in_memory)
NODE_GET(proposals)
NODE_GET(commands_waiting)
NODE_GET(requests_pending)
NODE_GET(catchup_queued)
NODE_GET(catchup_active)
NODE_GET(catchup_done)
NODE_GET(entries_proposed)
NODE_GET(entries_fast)
NODE_GET(phase1_rounds)
NODE_GET(preempted)
NODE_GET(entries_lost)
NODE_GET(resends)
NODE_GET(scans_open)
NODE_GET(apply_deferred)
NODE_GET(ns_chosen)
NODE_GET(ns_applied)
NODE_GET(applied_entries)
NODE_GET(applied_bytes)
NODE_GET(installed_states)
NODE_GET(installed_bytes)
NODE_GET(store_bytes)
NODE_GET(disk_free_bytes)
NODE_GET(disk_size_bytes)
NODE_GET(alloc_bytes)
NODE_GET(loop_blocks)
NODE_GET(loop_blocked_max_ms)

static uint64_t get_voting(const Paxfs__StatusReply *r)
{
	return !r->amnesia && !r->engine_error;
}

static uint64_t get_uptime(const Paxfs__StatusReply *r)
{
	return r->uptime_ms / 1000;
}

static uint64_t get_peers_up(const Paxfs__StatusReply *r)
{
	uint64_t k = 0;
	for (size_t i = 0; i < r->n_peers; i++)
		k += r->peers[i]->up;
	return k;
}

PEER_GET(up)
PEER_GET(bytes_in)
PEER_GET(bytes_out)
PEER_GET(frames_in)
PEER_GET(frames_out)
PEER_GET(links_up)
PEER_GET(dials)
PEER_GET(dial_failures)
PEER_GET(auth_failures)
PEER_GET(refused)
PEER_GET(decode_errors)
PEER_GET(send_nobufs)
PEER_GET(queue_bytes)

struct family {
	const char *name, *type, *help;
	node_get_fn node;
	peer_get_fn peer;
};

#define N(name, type, help, fn)                                                                    \
	{                                                                                          \
		name, type, help, fn, NULL                                                         \
	}
#define P(name, type, help, fn)                                                                    \
	{                                                                                          \
		name, type, help, NULL, fn                                                         \
	}
static const struct family families[] = {
    N("paxfs_voting", "gauge", "1 if the node votes (not amnesic, engine running).", get_voting),
    N("paxfs_amnesia", "gauge", "1 while the node re-learns after a new or wiped store.",
      get_amnesia),
    N("paxfs_incarnation", "gauge", "The node's incarnation: raised at every start.",
      get_boot_count),
    N("paxfs_start_time_seconds", "gauge", "When the daemon started, in seconds since 1970.",
      get_started_unix),
    N("paxfs_uptime_seconds", "gauge", "Seconds since the daemon started.", get_uptime),
    N("paxfs_inodes", "gauge", "Files, directories and symlinks in the namespace.", get_inodes),
    N("paxfs_entities_in_memory", "gauge", "Paxos entities the engine holds in memory.",
      get_entities_in_memory),
    N("paxfs_proposals", "gauge", "Proposers running.", get_proposals),
    N("paxfs_proposals_total", "counter", "Log entries this node opened as proposer.",
      get_entries_proposed),
    N("paxfs_proposals_fast_total", "counter",
      "Of them, opened at round 0: one round trip, no phase 1.", get_entries_fast),
    N("paxfs_phase1_rounds_total", "counter", "Phase-1 rounds (PREPAREs at a new ballot).",
      get_phase1_rounds),
    N("paxfs_proposals_preempted_total", "counter",
      "Proposals preempted by a higher ballot of another proposer (conflicts).", get_preempted),
    N("paxfs_proposals_lost_total", "counter",
      "Entries this node was proposing at that were chosen with another value; its commands "
      "wait for the next entry.",
      get_entries_lost),
    N("paxfs_proposal_resends_total", "counter",
      "PREPAREs or ACCEPTs sent again after retry_ms without a majority's answer (retries).",
      get_resends),
    N("paxfs_commands_waiting", "gauge", "Commands submitted, not yet chosen or failed.",
      get_commands_waiting),
    N("paxfs_requests_pending", "gauge", "FUSE requests not yet answered.", get_requests_pending),
    N("paxfs_catchup_queued", "gauge", "Entities found behind, waiting for catch-up.",
      get_catchup_queued),
    N("paxfs_catchup_active", "gauge", "Entities being caught up now.", get_catchup_active),
    N("paxfs_catchup_done_total", "counter", "Entities caught up since the daemon started.",
      get_catchup_done),
    N("paxfs_catchup_listings_open", "gauge", "Peers whose entity listing is still being read.",
      get_scans_open),
    N("paxfs_apply_deferred", "gauge", "Entities with chosen entries not applied yet.",
      get_apply_deferred),
    N("paxfs_namespace_chosen_entry", "gauge", "Highest chosen entry of the namespace log.",
      get_ns_chosen),
    N("paxfs_namespace_applied_entry", "gauge", "Highest applied entry of the namespace log.",
      get_ns_applied),
    N("paxfs_applied_entries_total", "counter", "Log entries applied since the daemon started.",
      get_applied_entries),
    N("paxfs_applied_bytes_total", "counter", "Bytes of the log entries applied.",
      get_applied_bytes),
    N("paxfs_installed_states_total", "counter",
      "File states installed whole (catch-up past a trimmed log).", get_installed_states),
    N("paxfs_installed_bytes_total", "counter", "Bytes of the file states installed.",
      get_installed_bytes),
    N("paxfs_store_bytes", "gauge", "The store's size on disk (leveldb's estimate).",
      get_store_bytes),
    N("paxfs_disk_free_bytes", "gauge", "Free space of the data directory's file system.",
      get_disk_free_bytes),
    N("paxfs_disk_size_bytes", "gauge", "Size of the data directory's file system.",
      get_disk_size_bytes),
    N("paxfs_engine_alloc_bytes_total", "counter", "Bytes the Paxos engine allocated.",
      get_alloc_bytes),
    N("paxfs_loop_blocks_total", "counter",
      "Times the daemon's event loop was blocked for a second or more.", get_loop_blocks),
    N("paxfs_loop_blocked_max_ms", "gauge", "The longest such block, in milliseconds.",
      get_loop_blocked_max_ms),
    N("paxfs_peers_up", "gauge", "Other nodes with an authenticated link up.", get_peers_up),
    P("paxfs_peer_up", "gauge", "1 if the link to the peer is up.", peer_up),
    P("paxfs_peer_received_bytes_total", "counter", "Bytes received from the peer.", peer_bytes_in),
    P("paxfs_peer_sent_bytes_total", "counter", "Bytes sent to the peer.", peer_bytes_out),
    P("paxfs_peer_received_frames_total", "counter", "Frames received from the peer.",
      peer_frames_in),
    P("paxfs_peer_sent_frames_total", "counter", "Frames sent to the peer.", peer_frames_out),
    P("paxfs_peer_links_up_total", "counter", "Times a link to the peer came up.", peer_links_up),
    P("paxfs_peer_dials_total", "counter", "Connection attempts to the peer.", peer_dials),
    P("paxfs_peer_dial_failures_total", "counter", "Connection attempts that failed.",
      peer_dial_failures),
    P("paxfs_peer_auth_failures_total", "counter",
      "Handshakes with the peer that failed the secret's proof.", peer_auth_failures),
    P("paxfs_peer_refused_total", "counter",
      "Handshakes refused for another reason (cluster name, node id).", peer_refused),
    P("paxfs_peer_decode_errors_total", "counter",
      "Links closed for a bad frame (length, CRC, body, order).", peer_decode_errors),
    P("paxfs_peer_send_nobufs_total", "counter", "Sends refused because the link's queue was full.",
      peer_send_nobufs),
    P("paxfs_peer_queue_bytes", "gauge", "Output queued on the link now.", peer_queue_bytes),
};

void prom_label_value(FILE *out, const char *s, size_t len)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' || s[i] == '"')
			fprintf(out, "\\%c", s[i]);
		else if (s[i] == '\n')
			fputs("\\n", out);
		else
			fputc(s[i], out);
	}
	fputc('"', out);
}

void prom_labels(FILE *out, const char *cluster, uint32_t node)
{
	fputs("{cluster=", out);
	prom_label_value(out, cluster, strlen(cluster));
	fprintf(out, ",node=\"%u\"", node);
}

void prom_head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void prom_up(FILE *out, const char *cluster, const struct prom_node *nodes, size_t n,
	     const char *help)
{
	prom_head(out, "paxfs_up", "gauge", help);
	for (size_t i = 0; i < n; i++) {
		fputs("paxfs_up", out);
		prom_labels(out, cluster, nodes[i].id);
		fprintf(out, "} %d\n", nodes[i].reply != NULL);
	}
}

void prom_status(FILE *out, const char *cluster, const struct prom_node *nodes, size_t n)
{
	prom_head(out, "paxfs_info", "gauge", "The daemon's version, as a label; always 1.");
	for (size_t i = 0; i < n; i++) {
		const Paxfs__StatusReply *r = nodes[i].reply;
		if (!r)
			continue;
		fputs("paxfs_info", out);
		prom_labels(out, cluster, nodes[i].id);
		fputs(",version=", out);
		prom_label_value(out, (const char *)r->version.data, r->version.len);
		fputs("} 1\n", out);
	}
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		const struct family *fam = &families[f];
		prom_head(out, fam->name, fam->type, fam->help);
		for (size_t i = 0; i < n; i++) {
			const Paxfs__StatusReply *r = nodes[i].reply;
			if (!r)
				continue;
			if (fam->node) {
				fputs(fam->name, out);
				prom_labels(out, cluster, r->node_id);
				fprintf(out, "} %llu\n", (unsigned long long)fam->node(r));
				continue;
			}
			for (size_t k = 0; k < r->n_peers; k++) {
				fputs(fam->name, out);
				prom_labels(out, cluster, r->node_id);
				fprintf(out, ",peer=\"%u\"} %llu\n", r->peers[k]->node_id,
					(unsigned long long)fam->peer(r->peers[k]));
			}
		}
	}
}

/* A bucket's bound as people write it: the shortest plain decimal that
 * reads back ("0.0005", "2.5", "10"), no exponent. */
static void bound(FILE *out, double le)
{
	char s[64];
	for (int prec = 0; prec <= 17; prec++) {
		snprintf(s, sizeof(s), "%.*f", prec, le);
		if (strtod(s, NULL) == le)
			break;
	}
	fputs(s, out);
}

static void hist_labels(FILE *out, const char *cluster, uint32_t node, const char *label,
			const char *value)
{
	prom_labels(out, cluster, node);
	if (label) {
		fprintf(out, ",%s=", label);
		prom_label_value(out, value, strlen(value));
	}
}

void prom_histogram(FILE *out, const char *name, const char *cluster, uint32_t node,
		    const char *label, const char *value, const double *le, size_t n_le,
		    const uint64_t *counts, double sum)
{
	uint64_t cum = 0;
	for (size_t i = 0; i <= n_le; i++) {
		cum += counts[i];
		fprintf(out, "%s_bucket", name);
		hist_labels(out, cluster, node, label, value);
		fputs(",le=\"", out);
		if (i < n_le)
			bound(out, le[i]);
		else
			fputs("+Inf", out);
		fprintf(out, "\"} %llu\n", (unsigned long long)cum);
	}
	fprintf(out, "%s_sum", name);
	hist_labels(out, cluster, node, label, value);
	fprintf(out, "} %.6f\n", sum);
	fprintf(out, "%s_count", name);
	hist_labels(out, cluster, node, label, value);
	fprintf(out, "} %llu\n", (unsigned long long)cum);
}
