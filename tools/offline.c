/* tools/offline.c — paxfs-verify --offline DATADIR...: the stores of stopped
 * nodes, read directly, compared with the same comparator as online.
 *
 * A data dir is refused, with the reason, when a running paxfs holds it
 * (leveldb's lock: store_open says -EBUSY), when it is no paxfs store, or
 * when it belongs to another cluster than the others or repeats a node;
 * the other dirs are still compared. Nodes are stopped, so there is one
 * round: what is apart is lag at once.
 *
 * Writes: none of its own. fs/ persists the bad marks of damage it meets
 * (as the node itself would at its next start), and --deep marks an entity
 * whose state no longer matches its kept digest. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/verify.h"
#include "util/clock.h"

struct onode {
	struct store *st;
	struct fs *fs;
	uint64_t cursor;
	bool done;
};

struct page {
	struct verify_cmp *cmp;
	size_t idx;
	size_t left;
	uint64_t last;
	int rc;
};

static int page_cb(void *arg, struct verify_entity *e)
{
	struct page *p = arg;
	uint64_t entity = e->entity;
	int rc = verify_cmp_add(p->cmp, p->idx, e);
	if (rc < 0) {
		p->rc = rc;
		return 1;
	}
	p->last = entity;
	return --p->left == 0 ? 1 : 0;
}

static void open_one(const char *dir, struct verify_node_result *nr, struct onode *on,
		     struct verify_result *r)
{
	struct store_options sopt = {.create = false};
	struct store_node node;
	char msg[400];
	int rc;

	snprintf(nr->where, sizeof(nr->where), "%s", dir);
	nr->cmp_idx = -1;
	rc = store_open(dir, &sopt, &on->st, msg, sizeof(msg));
	if (rc == -EBUSY) {
		snprintf(nr->reason, sizeof(nr->reason),
			 "in use: a running paxfs (or another tool) holds this data dir; stop that "
			 "node first, or check the running cluster online (paxfs-verify CONFIG)");
		return;
	}
	if (rc < 0) {
		snprintf(nr->reason, sizeof(nr->reason), "%s", msg);
		return;
	}
	rc = store_get_node(on->st, &node);
	if (rc < 0) {
		snprintf(nr->reason, sizeof(nr->reason),
			 rc == -ENOENT
			     ? "a paxfs store without a node record: no node ever ran on it"
			     : "its node record cannot be read: %s",
			 strerror(-rc));
		goto fail;
	}
	nr->id = node.node_id;
	nr->has_info = true;
	nr->boot_count = node.boot_count;
	nr->amnesia = node.amnesia;
	if (!r->cluster[0])
		snprintf(r->cluster, sizeof(r->cluster), "%s", node.cluster);
	if (strcmp(node.cluster, r->cluster) != 0) {
		snprintf(nr->reason, sizeof(nr->reason),
			 "belongs to cluster '%s', not '%s' like the data dirs before it",
			 node.cluster, r->cluster);
		goto fail;
	}
	if (node.node_id == 0 || node.node_id > 255) {
		snprintf(nr->reason, sizeof(nr->reason), "its node record names node %u",
			 node.node_id);
		goto fail;
	}
	for (const struct verify_node_result *o = r->nodes; o < nr; o++)
		if (o->checked && o->id == node.node_id) {
			snprintf(nr->reason, sizeof(nr->reason),
				 "node %u again (already given as %s)", node.node_id, o->where);
			goto fail;
		}
	rc = fs_open(on->st, NULL, &on->fs);
	if (rc < 0) {
		snprintf(nr->reason, sizeof(nr->reason),
			 "its file-system state cannot be opened: %s", strerror(-rc));
		goto fail;
	}
	nr->checked = true;
	return;
fail:
	store_free(on->st);
	on->st = NULL;
}

/* Names the paths of the entities found divergent, from the first node that can. */
static void name_paths(struct verify_result *r, struct onode *on)
{
	size_t nf;
	struct verify_finding *f = verify_cmp_findings_mut(r->cmp, &nf);
	for (size_t k = 0; k < nf; k++) {
		if (f[k].entity == 1)
			continue;
		for (size_t i = 0; i < r->n_nodes; i++)
			if (on[i].fs &&
			    fs_path(on[i].fs, f[k].entity, f[k].path, sizeof(f[k].path)) == 0)
				break;
	}
}

int verify_offline(char *const *dirs, size_t n, const struct verify_opts *opt,
		   struct verify_result *r)
{
	uint64_t start = util_now_ms(), shown = 0;
	struct verify_summary_opts sopt = {.deep = opt->deep, .mark_bad = true};
	size_t page = opt->page ? opt->page : opt->deep ? 64 : 512;
	struct onode *on = NULL;
	uint32_t ids[255];
	size_t n_ids = 0;
	const uint64_t *rest;
	size_t n_rest;
	int rc;

	memset(r, 0, sizeof(*r));
	r->mode = "offline";
	r->deep = opt->deep;
	if (n == 0 || n > 255) {
		snprintf(r->error, sizeof(r->error), "give 1 to 255 data dirs, not %zu", n);
		return verify_exit_code(r);
	}
	r->nodes = calloc(n, sizeof(*r->nodes));
	on = calloc(n, sizeof(*on));
	if (!r->nodes || !on) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		free(on);
		return verify_exit_code(r);
	}
	r->n_nodes = n;
	for (size_t i = 0; i < n; i++) {
		open_one(dirs[i], &r->nodes[i], &on[i], r);
		if (r->nodes[i].checked) {
			r->nodes[i].cmp_idx = (int)n_ids;
			ids[n_ids++] = r->nodes[i].id;
		}
	}
	if (n_ids == 0) {
		snprintf(r->error, sizeof(r->error), "no data dir could be read");
		goto out;
	}
	if ((rc = verify_cmp_new(ids, n_ids, &r->cmp)) < 0) {
		snprintf(r->error, sizeof(r->error), "cannot start the comparison: %s",
			 strerror(-rc));
		goto out;
	}
	verify_cmp_round_begin(r->cmp, true);
	for (;;) {
		bool all_done = true;
		for (size_t i = 0; i < n; i++) {
			struct verify_node_result *nr = &r->nodes[i];
			size_t ci = (size_t)nr->cmp_idx;
			if (!nr->checked || on[i].done)
				continue;
			all_done = false;
			if (verify_cmp_queued(r->cmp, ci) >= page)
				continue; /* let the others catch up */
			struct page pg = {
			    .cmp = r->cmp, .idx = ci, .left = page, .last = on[i].cursor};
			rc = verify_summarise_from(on[i].st, on[i].fs, on[i].cursor, &sopt, page_cb,
						   &pg);
			if (pg.rc < 0 || rc < 0) {
				rc = pg.rc < 0 ? pg.rc : rc;
				snprintf(nr->reason, sizeof(nr->reason),
					 "reading its store failed: %s", strerror(-rc));
				nr->checked = false;
				verify_cmp_node_lost(r->cmp, ci);
				on[i].done = true;
				continue;
			}
			on[i].cursor = pg.last;
			if (rc == 0) {
				on[i].done = true;
				verify_cmp_node_done(r->cmp, ci);
			}
		}
		if ((rc = verify_cmp_process(r->cmp)) < 0) {
			snprintf(r->error, sizeof(r->error), "comparing: %s", strerror(-rc));
			goto out;
		}
		if (opt->progress && util_now_ms() - shown >= 250) {
			shown = util_now_ms();
			verify_progress(r, "reading");
		}
		if (all_done)
			break;
	}
	if ((rc = verify_cmp_round_end(r->cmp, &rest, &n_rest)) < 0)
		snprintf(r->error, sizeof(r->error), "comparing: %s", strerror(-rc));
	name_paths(r, on);
out:
	if (opt->progress)
		verify_progress_clear();
	for (size_t i = 0; i < n; i++) {
		fs_free(on[i].fs);
		store_free(on[i].st);
	}
	free(on);
	r->elapsed_ms = util_now_ms() - start;
	return verify_exit_code(r);
}

void verify_result_close(struct verify_result *r)
{
	verify_cmp_free(r->cmp);
	free(r->nodes);
	memset(r, 0, sizeof(*r));
}
