/* tools/report.c — what paxfs-verify prints: a human summary (counts, then
 * findings), the same for scripts without the counts (--quiet), or JSON
 * (--json) with one object holding everything. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/verify.h"

static bool lost(const struct verify_result *r, const struct verify_node_result *nr)
{
	return !nr->checked;
}

/* "node 2", or "data dir" for one whose node is unknown (unreadable). */
static const char *node_name(const struct verify_node_result *nr, char *buf, size_t size)
{
	if (nr->id)
		snprintf(buf, size, "node %u", nr->id);
	else
		snprintf(buf, size, "data dir");
	return buf;
}

int verify_exit_code(const struct verify_result *r)
{
	size_t nf = 0;
	if (r->cmp) {
		verify_cmp_findings(r->cmp, &nf);
		if (nf || verify_cmp_counts(r->cmp)->omitted)
			return VERIFY_EXIT_DIVERGE;
	}
	if (r->error[0] || !r->cmp)
		return VERIFY_EXIT_UNCHECKED;
	for (size_t i = 0; i < r->n_nodes; i++)
		if (lost(r, &r->nodes[i]))
			return VERIFY_EXIT_UNCHECKED;
	return VERIFY_EXIT_AGREE;
}

static const char *entity_name(uint64_t entity, const char *path, char *buf, size_t size)
{
	if (entity == 1)
		snprintf(buf, size, "entity 1 (the namespace)");
	else if (path && path[0])
		snprintf(buf, size, "entity %" PRIu64 " (%s)", entity, path);
	else
		snprintf(buf, size, "entity %" PRIu64, entity);
	return buf;
}

static void text_lag(FILE *out, const struct verify_result *r, const struct verify_node_result *nr)
{
	const struct verify_lag *l = verify_cmp_lag(r->cmp, (size_t)nr->cmp_idx);
	char name[96];
	bool moving =
	    l->progressed || l->applying ||
	    (nr->has_info && (nr->catchup_queued || nr->catchup_active || nr->apply_deferred));
	if (!l->entities)
		return;
	fprintf(out,
		"LAG node %u: behind on %" PRIu64 " %s by up to %" PRIu64 " %s (%" PRIu64
		" in all); %s",
		nr->id, l->entities, l->entities == 1 ? "entity" : "entities", l->max,
		l->max == 1 ? "entry" : "entries", l->total,
		strcmp(r->mode, "offline") == 0 ? "stopped"
		: moving                        ? "catching up"
						: "not progressing during the check");
	if (l->progressed)
		fprintf(out, " (%" PRIu64 " moved during the check)", l->progressed);
	for (size_t k = 0; k < l->n_ex; k++)
		fprintf(out, "%s %s at entry %" PRIu64 " of %" PRIu64, k ? "," : "; e.g.",
			entity_name(l->ex[k].entity, NULL, name, sizeof(name)), l->ex[k].applied,
			l->ex[k].chosen);
	fputc('\n', out);
}

void verify_report_text(FILE *out, const struct verify_result *r, bool quiet)
{
	const struct verify_counts *c = r->cmp ? verify_cmp_counts(r->cmp) : NULL;
	const struct verify_finding *f = NULL;
	size_t nf = 0;
	int code = verify_exit_code(r);
	char name[640];

	if (r->cmp)
		f = verify_cmp_findings(r->cmp, &nf);
	if (!quiet) {
		if (r->cluster[0])
			fprintf(out, "paxfs-verify: cluster '%s', ", r->cluster);
		else
			fprintf(out, "paxfs-verify: ");
		fprintf(out, "%zu node%s, %s%s, %" PRIu64 ".%03" PRIu64 " s\n", r->n_nodes,
			r->n_nodes == 1 ? "" : "s", r->mode, r->deep ? " --deep" : "",
			r->elapsed_ms / 1000, r->elapsed_ms % 1000);
		for (size_t i = 0; i < r->n_nodes; i++) {
			const struct verify_node_result *nr = &r->nodes[i];
			fprintf(out, "  %s  %s  ", node_name(nr, name, sizeof(name)), nr->where);
			if (!nr->checked)
				fprintf(out, "could not check\n");
			else
				fprintf(out, "%" PRIu64 " entities%s\n",
					verify_cmp_listed(r->cmp, (size_t)nr->cmp_idx),
					nr->has_info && nr->amnesia ? ", not voting yet (amnesia)"
								    : "");
		}
		if (c)
			fprintf(out,
				"compared %" PRIu64 " entities: %" PRIu64
				" chosen entries, %" PRIu64 " chains, %" PRIu64
				" state digests; %" PRIu64 " divergent, %" PRIu64 " apart (lag)\n",
				c->entities, c->values, c->chains, c->digests, c->divergent,
				c->unsettled);
	}
	if (r->error[0])
		fprintf(out, "COULD NOT CHECK: %s\n", r->error);
	for (size_t k = 0; k < nf; k++) {
		char who[128] = "";
		size_t pos = 0;
		for (uint32_t id = 1; id < 256; id++)
			if (verify_nodes_has(f[k].nodes, id) && pos < sizeof(who))
				pos += (size_t)snprintf(who + pos, sizeof(who) - pos, "%s%u",
							pos ? "," : "", id);
		fprintf(out, "DIVERGENCE %s entry %" PRIu64 " nodes %s [%s]: %s\n",
			entity_name(f[k].entity, f[k].path, name, sizeof(name)), f[k].entry, who,
			verify_kind_name(f[k].kind), f[k].detail);
	}
	if (c && c->omitted)
		fprintf(out, "DIVERGENCE ... and %" PRIu64 " more findings not shown\n",
			c->omitted);
	for (size_t i = 0; r->cmp && i < r->n_nodes; i++)
		if (r->nodes[i].checked)
			text_lag(out, r, &r->nodes[i]);
	for (size_t i = 0; i < r->n_nodes; i++)
		if (!r->nodes[i].checked)
			fprintf(out, "COULD NOT CHECK %s (%s): %s\n",
				node_name(&r->nodes[i], name, sizeof(name)), r->nodes[i].where,
				r->nodes[i].reason);
	if (!quiet)
		fprintf(out, "result: %s (exit %d)\n",
			code == VERIFY_EXIT_AGREE     ? "the nodes agree"
			: code == VERIFY_EXIT_DIVERGE ? "the nodes diverge"
						      : "could not check everything",
			code);
}

/* ---- JSON ------------------------------------------------------------------ */

static void jstr(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(out, "\\u%04x", *p); /* bytes, not code points: names are bytes */
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void jnodes(FILE *out, const uint8_t *bm)
{
	bool first = true;
	fputc('[', out);
	for (uint32_t id = 1; id < 256; id++)
		if (verify_nodes_has(bm, id)) {
			fprintf(out, "%s%u", first ? "" : ",", id);
			first = false;
		}
	fputc(']', out);
}

void verify_report_json(FILE *out, const struct verify_result *r)
{
	const struct verify_counts *c = r->cmp ? verify_cmp_counts(r->cmp) : NULL;
	const struct verify_finding *f = NULL;
	size_t nf = 0;

	if (r->cmp)
		f = verify_cmp_findings(r->cmp, &nf);
	fprintf(out, "{\"mode\":");
	jstr(out, r->mode);
	fprintf(out, ",\"cluster\":");
	jstr(out, r->cluster);
	fprintf(out, ",\"deep\":%s,\"elapsed_ms\":%" PRIu64 ",\"exit\":%d",
		r->deep ? "true" : "false", r->elapsed_ms, verify_exit_code(r));
	if (r->error[0]) {
		fprintf(out, ",\"error\":");
		jstr(out, r->error);
	}
	fprintf(out, ",\"nodes\":[");
	for (size_t i = 0; i < r->n_nodes; i++) {
		const struct verify_node_result *nr = &r->nodes[i];
		fprintf(out, "%s{\"node\":%u,\"where\":", i ? "," : "", nr->id);
		jstr(out, nr->where);
		fprintf(out, ",\"checked\":%s", nr->checked ? "true" : "false");
		if (!nr->checked) {
			fprintf(out, ",\"reason\":");
			jstr(out, nr->reason);
		} else {
			const struct verify_lag *l = verify_cmp_lag(r->cmp, (size_t)nr->cmp_idx);
			fprintf(out,
				",\"entities\":%" PRIu64 ",\"lag\":{\"entities\":%" PRIu64
				",\"max\":%" PRIu64 ",\"total\":%" PRIu64 ",\"progressed\":%" PRIu64
				",\"applying\":%" PRIu64 ",\"examples\":[",
				verify_cmp_listed(r->cmp, (size_t)nr->cmp_idx), l->entities, l->max,
				l->total, l->progressed, l->applying);
			for (size_t k = 0; k < l->n_ex; k++)
				fprintf(out,
					"%s{\"entity\":%" PRIu64 ",\"applied\":%" PRIu64
					",\"chosen\":%" PRIu64 "}",
					k ? "," : "", l->ex[k].entity, l->ex[k].applied,
					l->ex[k].chosen);
			fprintf(out, "]}");
		}
		if (nr->has_info)
			fprintf(out,
				",\"boot_count\":%" PRIu64
				",\"amnesia\":%s,\"catchup\":{\"queued\":%" PRIu64
				",\"active\":%" PRIu64 ",\"done\":%" PRIu64
				"},\"apply_deferred\":%" PRIu64,
				nr->boot_count, nr->amnesia ? "true" : "false", nr->catchup_queued,
				nr->catchup_active, nr->catchup_done, nr->apply_deferred);
		fputc('}', out);
	}
	fprintf(out, "]");
	if (c)
		fprintf(out,
			",\"counts\":{\"entities\":%" PRIu64 ",\"values\":%" PRIu64
			",\"chains\":%" PRIu64 ",\"digests\":%" PRIu64 ",\"divergent\":%" PRIu64
			",\"apart\":%" PRIu64 ",\"findings_omitted\":%" PRIu64 "}",
			c->entities, c->values, c->chains, c->digests, c->divergent, c->unsettled,
			c->omitted);
	fprintf(out, ",\"findings\":[");
	for (size_t k = 0; k < nf; k++) {
		fprintf(out, "%s{\"kind\":", k ? "," : "");
		jstr(out, verify_kind_name(f[k].kind));
		fprintf(out,
			",\"entity\":%" PRIu64 ",\"entry\":%" PRIu64 ",\"nodes\":", f[k].entity,
			f[k].entry);
		jnodes(out, f[k].nodes);
		if (f[k].path[0]) {
			fprintf(out, ",\"path\":");
			jstr(out, f[k].path);
		}
		fprintf(out, ",\"detail\":");
		jstr(out, f[k].detail);
		fputc('}', out);
	}
	fprintf(out, "]}\n");
}

/* ---- progress ---------------------------------------------------------------- */

void verify_progress(const struct verify_result *r, const char *phase)
{
	char line[256];
	size_t pos = (size_t)snprintf(line, sizeof(line), "\rpaxfs-verify: %s", phase);
	for (size_t i = 0; r->cmp && i < r->n_nodes && pos < sizeof(line); i++)
		if (r->nodes[i].checked)
			pos += (size_t)snprintf(
			    line + pos, sizeof(line) - pos, "%s node %u %" PRIu64, i ? "," : ":",
			    r->nodes[i].id, verify_cmp_listed(r->cmp, (size_t)r->nodes[i].cmp_idx));
	if (pos >= sizeof(line))
		pos = sizeof(line) - 1;
	fprintf(stderr, "%.*s\033[K", (int)pos, line);
	fflush(stderr);
}

void verify_progress_clear(void)
{
	fprintf(stderr, "\r\033[K");
	fflush(stderr);
}
