/* mount/verify.c — the daemon's side of paxfs-verify.
 *
 * Every answer is computed at once, on the loop thread, between two other
 * callbacks: no apply can land halfway through a summary, so each summary
 * is one consistent look at its entity (tools/summary.h). Pages are bounded
 * (entities and encoded bytes) so a node with 10,000 entities answers in
 * many modest messages; a page costs a few store reads per entity (metas
 * and log records, no state) unless the client asked for --deep, which
 * reads the state and every logged value and so holds the loop for as long
 * as that takes.
 *
 * A deep check that finds an entity's state no longer matching its kept
 * digest marks it bad (fs_mark_bad, in tools/summary.c): from then on it
 * answers EIO rather than wrong data, and the kernel is told to drop what it
 * cached of it. */
#include "mount/verify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mount/notify.h"
#include "proto/verify.pb-c.h"
#include "tools/summary.h"
#include "tools/wire.h"
#include "util/log.h"

#define PAGE_ENTITIES_DEFAULT 512
#define PAGE_ENTITIES_MAX     4096
#define PAGE_BYTES_DEFAULT    (1u << 20)
#define PAGE_BYTES_MAX        (16u << 20)
#define IDS_MAX               4096 /* entities to summarise in one request */
#define PATHS_MAX             256  /* inodes to name in one request: each scans the namespace */
#define PATH_BYTES            4096

struct page {
	struct mount_node *n;
	struct verify_entity *e; /* the summaries (moved here; the array may move) */
	size_t len, cap;
	size_t max, bytes, max_bytes;
	uint64_t last;
	int rc;
	/* built by page_seal once the page is complete: the messages borrow
	 * from e[], which must not move any more */
	struct verify_wire_entity *w;
	Paxfs__VerifyEntity **ptrs;
};

static bool applying_cb(void *arg, uint64_t entity)
{
	struct mount_node *n = arg;
	return node_apply_deferred(n->core, entity);
}

static int page_add(struct page *p, struct verify_entity *e)
{
	struct verify_wire_entity w;
	int rc;

	if (p->len == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct verify_entity *ne = realloc(p->e, cap * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		p->e = ne;
		p->cap = cap;
	}
	/* its encoded size, for the page bound */
	if ((rc = verify_wire_pack(e, &w)) < 0)
		return rc;
	p->bytes += paxfs__verify_entity__get_packed_size(&w.m) + 8;
	verify_wire_close(&w);
	/* A deep check just marked it bad: the kernel must forget what it read. */
	if (e->marked_bad && e->entity != FS_NAMESPACE && p->n->notify)
		mount_notify_inode(p->n->notify, e->entity);
	p->last = e->entity;
	verify_entity_move(&p->e[p->len++], e);
	return 0;
}

/* Builds the messages of the finished page. */
static int page_seal(struct page *p)
{
	if (!p->len)
		return 0;
	p->w = calloc(p->len, sizeof(*p->w));
	p->ptrs = calloc(p->len, sizeof(*p->ptrs));
	if (!p->w || !p->ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < p->len; i++) {
		int rc = verify_wire_pack(&p->e[i], &p->w[i]);
		if (rc < 0)
			return rc;
		p->ptrs[i] = &p->w[i].m;
	}
	return 0;
}

static void page_free(struct page *p)
{
	for (size_t i = 0; i < p->len; i++) {
		if (p->w)
			verify_wire_close(&p->w[i]);
		verify_entity_close(&p->e[i]);
	}
	free(p->e);
	free(p->w);
	free(p->ptrs);
}

static int page_cb(void *arg, struct verify_entity *e)
{
	struct page *p = arg;
	int rc = page_add(p, e);
	if (rc < 0) {
		p->rc = rc;
		return 1;
	}
	return p->len >= p->max || p->bytes >= p->max_bytes ? 1 : 0;
}

static void fill_info(struct mount_node *n, Paxfs__VerifyNodeInfo *ni)
{
	struct paxos_stats ps;
	ni->node_id = n->self;
	ni->cluster.data = (uint8_t *)n->conf->cluster;
	ni->cluster.len = strlen(n->conf->cluster);
	ni->boot_count = node_boot_count(n->core);
	ni->amnesia = node_amnesia(n->core);
	if (node_engine(n->core)) {
		paxos_get_stats(node_engine(n->core), &ps);
		ni->amnesia = ps.amnesia;
		ni->catchup_queued = ps.catchup_queued;
		ni->catchup_active = ps.catchup_active;
		ni->catchup_done = ps.catchup_done;
	}
	ni->apply_deferred = node_deferred(n->core);
}

static int send_reply(struct mount_node *n, uint32_t to, Paxfs__VerifyReply *reply)
{
	Paxfs__Envelope env = PAXFS__ENVELOPE__INIT;
	env.version = 1;
	env.body_case = PAXFS__ENVELOPE__BODY_VERIFY_REPLY;
	env.verify_reply = reply;
	return net_send(n->mesh, to, &env);
}

static void send_error(struct mount_node *n, uint32_t to, uint64_t request, int err,
		       const char *text)
{
	Paxfs__VerifyReply reply = PAXFS__VERIFY_REPLY__INIT;
	Paxfs__VerifyNodeInfo ni = PAXFS__VERIFY_NODE_INFO__INIT;
	fill_info(n, &ni);
	reply.request = request;
	reply.node = &ni;
	reply.error = (uint32_t)(err < 0 ? -err : err);
	reply.error_text.data = (uint8_t *)text;
	reply.error_text.len = strlen(text);
	if (send_reply(n, to, &reply) < 0)
		LOG_DEBUG("verify: could not answer client %u", to);
}

static void answer_paths(struct mount_node *n, uint32_t to, const Paxfs__VerifyRequest *m)
{
	Paxfs__VerifyReply reply = PAXFS__VERIFY_REPLY__INIT;
	Paxfs__VerifyNodeInfo ni = PAXFS__VERIFY_NODE_INFO__INIT;
	Paxfs__VerifyPath *paths = calloc(m->n_paths, sizeof(*paths));
	Paxfs__VerifyPath **ptrs = calloc(m->n_paths, sizeof(*ptrs));
	char *bufs = malloc(m->n_paths * PATH_BYTES);
	int rc;

	if (!paths || !ptrs || !bufs) {
		send_error(n, to, m->request, -ENOMEM, "out of memory naming paths");
		goto out;
	}
	for (size_t i = 0; i < m->n_paths; i++) {
		char *buf = bufs + i * PATH_BYTES;
		paxfs__verify_path__init(&paths[i]);
		paths[i].ino = m->paths[i];
		rc = m->paths[i] ? fs_path(n->fs, m->paths[i], buf, PATH_BYTES) : -EINVAL;
		if (rc < 0) {
			paths[i].error = (uint32_t)-rc;
		} else {
			paths[i].path.data = (uint8_t *)buf;
			paths[i].path.len = strlen(buf);
		}
		ptrs[i] = &paths[i];
	}
	fill_info(n, &ni);
	reply.request = m->request;
	reply.node = &ni;
	reply.n_paths = m->n_paths;
	reply.paths = ptrs;
	if ((rc = send_reply(n, to, &reply)) < 0)
		LOG_WARN("verify: could not answer client %u: %s", to, strerror(-rc));
out:
	free(paths);
	free(ptrs);
	free(bufs);
}

static void answer_summaries(struct mount_node *n, uint32_t to, const Paxfs__VerifyRequest *m)
{
	struct verify_summary_opts opt = {
	    .deep = m->deep,
	    .mark_bad = true,
	    .applying = applying_cb,
	    .applying_arg = n,
	};
	struct page p = {.n = n};
	Paxfs__VerifyReply reply = PAXFS__VERIFY_REPLY__INIT;
	Paxfs__VerifyNodeInfo ni = PAXFS__VERIFY_NODE_INFO__INIT;
	int rc = 0;

	p.max = m->max_entities ? m->max_entities : PAGE_ENTITIES_DEFAULT;
	if (p.max > PAGE_ENTITIES_MAX)
		p.max = PAGE_ENTITIES_MAX;
	p.max_bytes = m->max_bytes ? m->max_bytes : PAGE_BYTES_DEFAULT;
	if (p.max_bytes > PAGE_BYTES_MAX)
		p.max_bytes = PAGE_BYTES_MAX;
	p.last = m->after;

	if (m->n_entities) {
		/* A re-ask: exactly these entities, in this order. */
		for (size_t i = 0; i < m->n_entities && rc == 0; i++) {
			struct verify_entity e;
			rc = verify_summarise_entity(n->store, n->fs, m->entities[i], &opt, &e);
			if (rc == 0)
				rc = page_add(&p, &e);
			verify_entity_close(&e);
		}
	} else {
		rc = verify_summarise_from(n->store, n->fs, m->after, &opt, page_cb, &p);
		if (p.rc < 0)
			rc = p.rc;
		reply.done = rc == 0;
		if (rc > 0)
			rc = 0; /* the page is full */
		reply.next = p.last;
	}
	if (rc == 0)
		rc = page_seal(&p);
	if (rc < 0) {
		char text[200];
		snprintf(text, sizeof(text), "summarising its entities failed: %s", strerror(-rc));
		LOG_WARN("verify: %s", text);
		send_error(n, to, m->request, rc, text);
		page_free(&p);
		return;
	}
	fill_info(n, &ni);
	reply.request = m->request;
	reply.node = &ni;
	reply.n_entities = p.len;
	reply.entities = p.ptrs;
	rc = send_reply(n, to, &reply);
	if (rc == -EMSGSIZE)
		send_error(n, to, m->request, rc, "the page is larger than a frame may be");
	else if (rc < 0)
		LOG_WARN("verify: could not answer client %u: %s", to, strerror(-rc));
	page_free(&p);
}

int mount_verify_on_client(struct mount_node *n, uint32_t from, const Paxfs__Envelope *env)
{
	const Paxfs__VerifyRequest *m;

	if (env->body_case != PAXFS__ENVELOPE__BODY_VERIFY_REQUEST) {
		LOG_WARN("verify: client %u sent a message clients may not send (kind %d)", from,
			 (int)env->body_case);
		return -EPERM;
	}
	m = env->verify_request;
	if (m->n_entities > IDS_MAX || m->n_paths > PATHS_MAX) {
		send_error(n, from, m->request, -EINVAL, "too many entities in one request");
		return 0;
	}
	for (size_t i = 0; i < m->n_entities; i++)
		if (m->entities[i] == 0) {
			send_error(n, from, m->request, -EINVAL, "entity 0 does not exist");
			return 0;
		}
	if (m->n_paths)
		answer_paths(n, from, m);
	else
		answer_summaries(n, from, m);
	return 0;
}
