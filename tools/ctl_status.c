/* tools/ctl_status.c — `paxfsctl status`: one line per node (tools/ctl.h).
 *
 *   cluster demo: 2 of 3 nodes voting, a majority is 2: available
 *   node 1 10.0.0.1:7101: up 2h03m (incarnation 4692694), voting, inodes 1210, namespace
 *          chosen 5230 applied 5230, catch-up idle, peers 2 up 3 down, disk
 *          41.2 GiB free of 50.0 GiB, store 310.5 MiB
 *   node 3 10.0.0.3:7101: UNREACHABLE: no connection after 4 attempts ...
 *
 * (each node on one line). The lag of a node is how far its applied
 * namespace entry is behind the highest chosen one any node reported. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tools/ctl.h"

bool ctl_node_voting(const struct ctl_node *nd)
{
	return nd->reply && !nd->reply->amnesia && !nd->reply->engine_error;
}

static size_t voting(const struct ctl_cluster *c)
{
	size_t k = 0;
	for (size_t i = 0; i < c->n; i++)
		k += ctl_node_voting(&c->nodes[i]);
	return k;
}

int ctl_exit_code(const struct ctl_cluster *c)
{
	size_t need = c->n < c->n_config ? c->n : c->majority;
	return c->n && voting(c) >= need ? CTL_EXIT_OK : CTL_EXIT_DOWN;
}

static uint64_t max_chosen(const struct ctl_cluster *c)
{
	uint64_t m = 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->nodes[i].reply && c->nodes[i].reply->ns_chosen > m)
			m = c->nodes[i].reply->ns_chosen;
	return m;
}

static const char *bytes(uint64_t b, char *buf, size_t size)
{
	static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)b;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return buf;
}

static const char *duration(uint64_t ms, char *buf, size_t size)
{
	uint64_t s = ms / 1000;
	if (s < 60)
		snprintf(buf, size, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, size, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, size, "%lluh%02llum", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, size, "%llud%02lluh", (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600));
	return buf;
}

/* How long the node's catch-up should still take at the rate of its round
 * so far (entities caught up per second), in ms; 0 when it cannot tell yet
 * (nothing caught up in the round, or nothing left). Entities differ in
 * size: an estimate, not a promise. */
static uint64_t catchup_eta_ms(const Paxfs__StatusReply *r)
{
	uint64_t left = r->catchup_queued + r->catchup_active;
	if (!left || !r->catchup_round_done || !r->catchup_round_ms)
		return 0;
	return left * r->catchup_round_ms / r->catchup_round_done;
}

/* "voting", "voting, catching up (...)", "NOT VOTING: ..." */
static void state_text(FILE *out, const Paxfs__StatusReply *r)
{
	if (r->engine_error)
		fprintf(out, "NOT VOTING: its engine stopped (%s)",
			strerror((int)(r->engine_error < 4096 ? r->engine_error : EIO)));
	else if (r->amnesia)
		fprintf(out, "NOT VOTING: amnesic, re-learning what it may have promised from "
			     "the others (new or wiped store)");
	else
		fputs("voting", out);
	if (!(r->catchup_queued || r->catchup_active || r->scans_open || r->apply_deferred)) {
		fputs(", catch-up idle", out);
		return;
	}
	fprintf(out,
		", catching up (%llu entities queued, %llu being fetched, %llu done, %llu "
		"peer listings open, %llu waiting to apply)",
		(unsigned long long)r->catchup_queued, (unsigned long long)r->catchup_active,
		(unsigned long long)r->catchup_done, (unsigned long long)r->scans_open,
		(unsigned long long)r->apply_deferred);
	if (r->catchup_round_ms) {
		char b1[32], b2[32];
		uint64_t eta = catchup_eta_ms(r);
		fprintf(out, " for %s", duration(r->catchup_round_ms, b1, sizeof(b1)));
		if (eta)
			fprintf(out, ", about %s left", duration(eta, b2, sizeof(b2)));
	}
}

static void node_text(FILE *out, const struct ctl_node *nd, uint64_t chosen)
{
	const Paxfs__StatusReply *r = nd->reply;
	char b1[32], b2[32], b3[32];
	bool any = false;

	fprintf(out, "node %u %s: ", nd->id, nd->where);
	if (!r) {
		fprintf(out, "DOWN: %s\n", nd->why);
		return;
	}
	fprintf(out, "up %s (incarnation %llu, paxfs %.*s), ",
		duration(r->uptime_ms, b1, sizeof(b1)), (unsigned long long)r->boot_count,
		(int)r->version.len, (const char *)r->version.data);
	state_text(out, r);
	fprintf(out, ", inodes %llu, namespace chosen %llu applied %llu",
		(unsigned long long)r->inodes, (unsigned long long)r->ns_chosen,
		(unsigned long long)r->ns_applied);
	if (chosen > r->ns_applied)
		fprintf(out, " (%llu behind)", (unsigned long long)(chosen - r->ns_applied));
	fputs(", peers", out);
	for (size_t i = 0; i < r->n_peers; i++)
		if (r->peers[i]->up) {
			fprintf(out, "%s%u", any ? "," : " ", r->peers[i]->node_id);
			any = true;
		}
	if (any)
		fputs(" up", out);
	any = false;
	for (size_t i = 0; i < r->n_peers; i++)
		if (!r->peers[i]->up) {
			fprintf(out, "%s%u", any ? "," : " ", r->peers[i]->node_id);
			any = true;
		}
	if (any)
		fputs(" down", out);
	if (!r->n_peers)
		fputs(" none", out);
	fprintf(out, ", disk %s free of %s, store %s", bytes(r->disk_free_bytes, b1, sizeof(b1)),
		bytes(r->disk_size_bytes, b2, sizeof(b2)), bytes(r->store_bytes, b3, sizeof(b3)));
	if (r->loop_blocks)
		fprintf(out, ", event loop blocked %llu times (longest %llu ms)",
			(unsigned long long)r->loop_blocks,
			(unsigned long long)r->loop_blocked_max_ms);
	fputc('\n', out);
}

void ctl_status_text(FILE *out, const struct ctl_cluster *c)
{
	uint64_t chosen = max_chosen(c);
	size_t v = voting(c);

	if (c->n < c->n_config)
		fprintf(out, "cluster %s: node %u %s\n", c->cluster, c->nodes[0].id,
			ctl_exit_code(c) == CTL_EXIT_OK ? "votes" : "does not vote");
	else
		fprintf(out, "cluster %s: %zu of %zu nodes voting, a majority is %zu: %s\n",
			c->cluster, v, c->n_config, c->majority,
			v >= c->majority ? "available" : "NO MAJORITY: changes and open() fail");
	for (size_t i = 0; i < c->n; i++)
		node_text(out, &c->nodes[i], chosen);
}

static void jstr(FILE *out, const char *s, size_t len)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

#define JU(name, v) fprintf(out, ",\"" name "\":%llu", (unsigned long long)(v))
#define JB(name, v) fprintf(out, ",\"" name "\":%s", (v) ? "true" : "false")

static void node_json(FILE *out, const struct ctl_node *nd, uint64_t chosen)
{
	const Paxfs__StatusReply *r = nd->reply;

	fprintf(out, "{\"id\":%u,\"address\":", nd->id);
	jstr(out, nd->where, strlen(nd->where));
	JB("reachable", r != NULL);
	JB("voting", ctl_node_voting(nd));
	if (!r) {
		fputs(",\"error\":", out);
		jstr(out, nd->why, strlen(nd->why));
		fputc('}', out);
		return;
	}
	fputs(",\"version\":", out);
	jstr(out, (const char *)r->version.data, r->version.len);
	fputs(",\"data_dir\":", out);
	jstr(out, (const char *)r->data_dir.data, r->data_dir.len);
	JU("incarnation", r->boot_count);
	JU("uptime_ms", r->uptime_ms);
	fprintf(out, ",\"started_unix\":%lld", (long long)r->started_unix);
	JB("amnesia", r->amnesia);
	JU("engine_error", r->engine_error);
	JU("inodes", r->inodes);
	JU("entities_in_memory", r->entities_in_memory);
	JU("namespace_chosen", r->ns_chosen);
	JU("namespace_applied", r->ns_applied);
	JU("namespace_behind", chosen > r->ns_applied ? chosen - r->ns_applied : 0);
	JU("proposals", r->proposals);
	JU("commands_waiting", r->commands_waiting);
	JU("requests_pending", r->requests_pending);
	JU("loop_blocks", r->loop_blocks);
	JU("loop_blocked_max_ms", r->loop_blocked_max_ms);
	JU("catchup_queued", r->catchup_queued);
	JU("catchup_active", r->catchup_active);
	JU("catchup_done", r->catchup_done);
	JU("catchup_round_ms", r->catchup_round_ms);
	JU("catchup_round_done", r->catchup_round_done);
	JU("catchup_eta_ms", catchup_eta_ms(r));
	JU("scans_open", r->scans_open);
	JU("apply_deferred", r->apply_deferred);
	JU("applied_entries", r->applied_entries);
	JU("applied_bytes", r->applied_bytes);
	JU("installed_states", r->installed_states);
	JU("installed_bytes", r->installed_bytes);
	JU("store_bytes", r->store_bytes);
	JU("disk_free_bytes", r->disk_free_bytes);
	JU("disk_size_bytes", r->disk_size_bytes);
	fputs(",\"peers\":[", out);
	for (size_t i = 0; i < r->n_peers; i++) {
		const Paxfs__StatusPeer *p = r->peers[i];
		fprintf(out, "%s{\"id\":%u", i ? "," : "", p->node_id);
		JB("up", p->up);
		JU("bytes_in", p->bytes_in);
		JU("bytes_out", p->bytes_out);
		JU("links_up", p->links_up);
		JU("dial_failures", p->dial_failures);
		JU("auth_failures", p->auth_failures);
		fputs(",\"last_error\":", out);
		jstr(out, (const char *)p->last_error.data, p->last_error.len);
		fputc('}', out);
	}
	fputs("]}", out);
}

void ctl_status_json(FILE *out, const struct ctl_cluster *c)
{
	uint64_t chosen = max_chosen(c);

	fputs("{\"cluster\":", out);
	jstr(out, c->cluster, strlen(c->cluster));
	fprintf(out, ",\"nodes_configured\":%zu,\"majority\":%zu,\"voting\":%zu", c->n_config,
		c->majority, voting(c));
	JB("available", ctl_exit_code(c) == CTL_EXIT_OK);
	fputs(",\"nodes\":[", out);
	for (size_t i = 0; i < c->n; i++) {
		if (i)
			fputc(',', out);
		node_json(out, &c->nodes[i], chosen);
	}
	fputs("]}\n", out);
}
