/* tools/compare.c — the comparator (tools/compare.h).
 *
 *   node 1 queue: [5][9][12]        the lowest head (5) is compared once
 *   node 2 queue: [5][12]           every node still in the check has a
 *   node 3 queue: (empty, done)     head or is done; a node without 5 at
 *                                   its head does not hold entity 5
 *
 * Each comparison appends its findings and counts; when the entity is put
 * aside for a re-ask instead, they are rolled back, so an entity is counted
 * and reported exactly once, at its last look.
 */
#include "tools/compare.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/chain.h"
#include "util/u64map.h"

struct queue {
	struct verify_entity *v;
	size_t head, len, cap; /* items v[head .. len) */
};

struct cnode {
	uint32_t id;
	bool lost;
	bool done;     /* delivered everything of this round */
	bool any;      /* delivered something this round */
	uint64_t last; /* the entity delivered last this round */
	struct queue q;
	uint64_t listed; /* summaries delivered in round 0 */
	struct verify_lag lag;
};

struct verify_cmp {
	struct cnode *nodes;
	size_t n;
	bool final;
	unsigned round;
	struct verify_finding *f;
	size_t nf;
	struct verify_counts counts;
	struct util_u64map first; /* entity → uint64_t[n]: applied entry + 1 at the first look */
	uint64_t *recheck;        /* put aside in this round */
	size_t n_recheck, cap_recheck;
	uint64_t *asked;                /* what round_end handed out */
	struct verify_entity *cur;      /* [n]: the summaries of the entity being compared */
	bool *has;                      /* [n]: cur[i] holds one */
	const struct verify_entity **s; /* [n]: per node, NULL when out of the check */
	struct verify_entity empty;
};

const char *verify_kind_name(enum verify_kind k)
{
	switch (k) {
	case VERIFY_VALUE:
		return "value";
	case VERIFY_CHAIN:
		return "chain";
	case VERIFY_DIGEST:
		return "digest";
	case VERIFY_REPLAY:
		return "replay";
	case VERIFY_DAMAGE:
		return "damage";
	case VERIFY_BAD:
		return "bad";
	case VERIFY_DEEP:
		return "deep";
	}
	return "?";
}

/* ---- life cycle ----------------------------------------------------------- */

int verify_cmp_new(const uint32_t *ids, size_t n, struct verify_cmp **out)
{
	struct verify_cmp *c;

	*out = NULL;
	if (n == 0 || n > 255)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == 0 || ids[i] > 255)
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (ids[j] == ids[i])
				return -EINVAL;
	}
	if (!(c = calloc(1, sizeof(*c))))
		return -ENOMEM;
	c->n = n;
	c->nodes = calloc(n, sizeof(*c->nodes));
	c->cur = calloc(n, sizeof(*c->cur));
	c->has = calloc(n, sizeof(*c->has));
	c->s = calloc(n, sizeof(*c->s));
	c->f = calloc(VERIFY_FINDINGS_MAX, sizeof(*c->f));
	if (!c->nodes || !c->cur || !c->has || !c->s || !c->f) {
		verify_cmp_free(c);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		c->nodes[i].id = ids[i];
	util_u64map_init(&c->first);
	verify_entity_init(&c->empty, 0);
	*out = c;
	return 0;
}

static void queue_clear(struct queue *q)
{
	for (size_t k = q->head; k < q->len; k++)
		verify_entity_close(&q->v[k]);
	q->head = q->len = 0;
}

void verify_cmp_free(struct verify_cmp *c)
{
	size_t pos = 0;
	uint64_t key;
	void *v;

	if (!c)
		return;
	for (size_t i = 0; c->nodes && i < c->n; i++) {
		queue_clear(&c->nodes[i].q);
		free(c->nodes[i].q.v);
	}
	if (c->first.cap)
		while (util_u64map_next(&c->first, &pos, &key, &v))
			free(v);
	util_u64map_close(&c->first);
	free(c->nodes);
	free(c->cur);
	free(c->has);
	free(c->s);
	free(c->f);
	free(c->recheck);
	free(c->asked);
	free(c);
}

void verify_cmp_round_begin(struct verify_cmp *c, bool final)
{
	c->final = final;
	for (size_t i = 0; i < c->n; i++) {
		c->nodes[i].done = c->nodes[i].any = false;
		c->nodes[i].last = 0;
		queue_clear(&c->nodes[i].q);
	}
}

int verify_cmp_add(struct verify_cmp *c, size_t i, struct verify_entity *e)
{
	struct cnode *nd = &c->nodes[i];
	struct queue *q = &nd->q;

	if (nd->lost)
		return 0;
	if (nd->done || e->entity == 0 || (nd->any && e->entity <= nd->last))
		return -EINVAL;
	if (q->head > 0 && q->head == q->len)
		q->head = q->len = 0;
	if (q->len == q->cap) {
		if (q->head > 0) {
			memmove(q->v, q->v + q->head, (q->len - q->head) * sizeof(*q->v));
			q->len -= q->head;
			q->head = 0;
		} else {
			size_t cap = q->cap ? q->cap * 2 : 64;
			struct verify_entity *p = realloc(q->v, cap * sizeof(*p));
			if (!p)
				return -ENOMEM;
			q->v = p;
			q->cap = cap;
		}
	}
	verify_entity_move(&q->v[q->len++], e);
	nd->any = true;
	nd->last = q->v[q->len - 1].entity;
	if (c->round == 0)
		nd->listed++;
	return 0;
}

void verify_cmp_node_done(struct verify_cmp *c, size_t i)
{
	c->nodes[i].done = true;
}

void verify_cmp_node_lost(struct verify_cmp *c, size_t i)
{
	c->nodes[i].lost = true;
	queue_clear(&c->nodes[i].q);
}

bool verify_cmp_node_is_lost(const struct verify_cmp *c, size_t i)
{
	return c->nodes[i].lost;
}

size_t verify_cmp_queued(const struct verify_cmp *c, size_t i)
{
	return c->nodes[i].q.len - c->nodes[i].q.head;
}

/* ---- findings --------------------------------------------------------------- */

static struct verify_finding *finding(struct verify_cmp *c, enum verify_kind kind, uint64_t entity,
				      uint64_t entry)
{
	struct verify_finding *f;
	if (c->nf >= VERIFY_FINDINGS_MAX) {
		c->counts.omitted++;
		return NULL;
	}
	f = &c->f[c->nf++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->entity = entity;
	f->entry = entry;
	return f;
}

/* "node 2" / "nodes 1, 3" of a bitmap. */
static void nodes_text(const uint8_t *bm, char *buf, size_t size)
{
	size_t k = 0, pos;
	for (uint32_t id = 1; id < 256; id++)
		k += verify_nodes_has(bm, id);
	pos = (size_t)snprintf(buf, size, k == 1 ? "node" : "nodes");
	k = 0;
	for (uint32_t id = 1; id < 256 && pos < size; id++)
		if (verify_nodes_has(bm, id))
			pos += (size_t)snprintf(buf + pos, size - pos, "%s %u", k++ ? "," : "", id);
}

/* Appends to a finding's detail. */
static void detail_add(struct verify_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void detail_add(struct verify_finding *f, const char *fmt, ...)
{
	size_t len = strlen(f->detail);
	va_list ap;
	if (len + 1 >= sizeof(f->detail))
		return;
	va_start(ap, fmt);
	vsnprintf(f->detail + len, sizeof(f->detail) - len, fmt, ap);
	va_end(ap);
}

/* The nodes a finding about groups names: those outside the largest group
 * when it holds a strict majority of the holders (with three nodes, the odd
 * one out), else every holder. The detail lists every group either way. */
static void blame(struct verify_finding *f, uint8_t (*members)[32], size_t ng)
{
	size_t count[255] = {0}, holders = 0, big = 0;
	for (size_t g = 0; g < ng; g++) {
		for (uint32_t id = 1; id < 256; id++)
			count[g] += verify_nodes_has(members[g], id);
		holders += count[g];
		if (count[g] > count[big])
			big = g;
	}
	bool majority = count[big] * 2 > holders;
	for (size_t g = 0; g < ng; g++)
		if (!majority || g != big)
			for (size_t b = 0; b < 32; b++)
				f->nodes[b] |= members[g][b];
}

/* Nodes grouped by the value they hold of one thing (a chain, a digest). */
struct groups {
	uint64_t vals[255];
	uint8_t members[255][32];
	size_t ng, holders;
};

static void groups_add(struct groups *gs, uint64_t v, uint32_t node)
{
	size_t g;
	for (g = 0; g < gs->ng && gs->vals[g] != v; g++)
		;
	if (g == gs->ng) {
		gs->vals[gs->ng++] = v;
		memset(gs->members[g], 0, sizeof(gs->members[g]));
	}
	verify_nodes_set(gs->members[g], node);
	gs->holders++;
}

/* The detail of a finding about groups ("TITLE: node 1 VALUE; nodes 2, 3
 * VALUE", values in `digits` hex digits) and whom it blames. */
static void groups_report(struct verify_finding *f, struct groups *gs, const char *title,
			  int digits)
{
	snprintf(f->detail, sizeof(f->detail), "%s:", title);
	for (size_t g = 0; g < gs->ng; g++) {
		char who[128];
		nodes_text(gs->members[g], who, sizeof(who));
		detail_add(f, "%s %s %0*llx", g ? ";" : "", who, digits,
			   (unsigned long long)gs->vals[g]);
	}
	blame(f, gs->members, gs->ng);
}

/* ---- the chain ---------------------------------------------------------------- */

/* The chain of node summary e at entry x, from its trim point and the values
 * its log keeps. true with *out; false when x is below the trim point or an
 * entry in between is not in the log (*missing names the first such entry,
 * 0 when x is below the trim point). */
static bool derive_chain(const struct verify_entity *e, uint64_t x, uint32_t *out,
			 uint64_t *missing)
{
	uint64_t t = e->has_paxos ? e->paxos.trimmed_entry : 0;
	uint32_t ch = e->has_paxos ? e->paxos.trimmed_crc : 0;
	size_t k = 0;

	*missing = 0;
	if (x < t)
		return false;
	while (k < e->n_log && e->log[k].entry <= t)
		k++;
	for (uint64_t want = t + 1; want <= x; want++, k++) {
		if (k >= e->n_log || e->log[k].entry != want) {
			*missing = want;
			return false;
		}
		ch = verify_crc32c_combine(ch, e->log[k].value_crc, e->log[k].value_len);
	}
	*out = ch;
	return true;
}

/* What node summary e says its chain is at x: its ApplyMeta at the applied
 * entry, else what its log gives. */
static bool chain_at(const struct verify_entity *e, uint64_t x, uint32_t *out)
{
	uint64_t missing;
	if (e->has_apply && e->apply.applied_entry == x) {
		*out = e->apply.chain_crc;
		return true;
	}
	return derive_chain(e, x, out, &missing);
}

/* ---- the checks of one entity ------------------------------------------------ */

static bool is_live(const struct verify_entity *e)
{
	return e && e->state == FS_ENTITY_LIVE && e->has_apply;
}

static void check_node_local(struct verify_cmp *c, uint64_t x, size_t i,
			     const struct verify_entity *e)
{
	uint32_t id = c->nodes[i].id;
	struct verify_finding *f;
	uint64_t applied = e->has_apply ? e->apply.applied_entry : 0;

	/* Damage outside the log (a meta, the state) shows at the applied entry. */
	for (size_t k = 0; k < e->n_damage; k++)
		if ((f = finding(c, VERIFY_DAMAGE, x,
				 e->damage[k].entry ? e->damage[k].entry : applied))) {
			verify_nodes_set(f->nodes, id);
			snprintf(f->detail, sizeof(f->detail), "node %u: %s", id,
				 e->damage[k].what);
		}
	if (e->state == FS_ENTITY_BAD && !e->marked_bad)
		if ((f = finding(c, VERIFY_BAD, x, applied))) {
			verify_nodes_set(f->nodes, id);
			snprintf(f->detail, sizeof(f->detail),
				 "node %u refuses service for it (answers EIO): %s", id,
				 e->reason[0] ? e->reason : "no reason recorded");
		}
	if (e->deep && e->deep_err == 0 && e->deep_digest != e->apply.state_digest)
		if ((f = finding(c, VERIFY_DEEP, x, applied))) {
			verify_nodes_set(f->nodes, id);
			snprintf(f->detail, sizeof(f->detail),
				 "node %u: its state does not match the digest kept with it at "
				 "entry %llu (recomputed %016llx, kept %016llx)%s",
				 id, (unsigned long long)applied,
				 (unsigned long long)e->deep_digest,
				 (unsigned long long)e->apply.state_digest,
				 e->marked_bad ? "; now marked bad: it answers EIO" : "");
		}
	if (e->deep && e->deep_err && e->deep_err != -EBADMSG)
		if ((f = finding(c, VERIFY_DAMAGE, x, applied))) {
			verify_nodes_set(f->nodes, id);
			snprintf(f->detail, sizeof(f->detail),
				 "node %u: reading its state failed: %s", id,
				 strerror(-e->deep_err));
		}

	/* Replay: the applied chain must be what the log gives from the trim
	 * point. Damage or a truncated log make that unknowable, not wrong. */
	if (!e->has_apply || e->n_damage || e->log_truncated ||
	    (e->state != FS_ENTITY_LIVE && e->state != FS_ENTITY_DEAD))
		return;
	uint64_t t = e->has_paxos ? e->paxos.trimmed_entry : 0, missing;
	uint32_t ch;
	if (applied < t) {
		if ((f = finding(c, VERIFY_REPLAY, x, applied))) {
			verify_nodes_set(f->nodes, id);
			snprintf(f->detail, sizeof(f->detail),
				 "node %u: applied entry %llu is below its log's trim point %llu: "
				 "its state cannot be rebuilt from its log",
				 id, (unsigned long long)applied, (unsigned long long)t);
		}
	} else if (!derive_chain(e, applied, &ch, &missing)) {
		if ((f = finding(c, VERIFY_REPLAY, x, missing))) {
			verify_nodes_set(f->nodes, id);
			snprintf(f->detail, sizeof(f->detail),
				 "node %u: its log lacks entry %llu, below its applied entry %llu: "
				 "its state cannot be rebuilt from its log",
				 id, (unsigned long long)missing, (unsigned long long)applied);
		}
	} else if (ch != e->apply.chain_crc) {
		if ((f = finding(c, VERIFY_REPLAY, x, applied))) {
			verify_nodes_set(f->nodes, id);
			snprintf(f->detail, sizeof(f->detail),
				 "node %u: its state at entry %llu (chain %08x) is not what its "
				 "own log replays to (chain %08x from entry %llu)",
				 id, (unsigned long long)applied, e->apply.chain_crc, ch,
				 (unsigned long long)t);
		}
	}
}

/* Chosen values: every (entity, entry) that two nodes or more keep. */
static bool check_values(struct verify_cmp *c, uint64_t x)
{
	size_t n = c->n, reported = 0, more = 0;
	size_t *pos = calloc(n, sizeof(*pos));
	struct verify_finding *last = NULL;
	bool any = false;

	if (!pos)
		return false;
	for (;;) {
		uint64_t entry = UINT64_MAX;
		size_t holders = 0;
		for (size_t i = 0; i < n; i++)
			if (c->s[i] && pos[i] < c->s[i]->n_log &&
			    c->s[i]->log[pos[i]].entry < entry)
				entry = c->s[i]->log[pos[i]].entry;
		if (entry == UINT64_MAX)
			break;
		/* Groups of identical values among the holders of this entry. */
		const struct verify_log_item *grp[255];
		uint8_t members[255][32];
		size_t ng = 0;
		memset(members, 0, sizeof(members));
		for (size_t i = 0; i < n; i++) {
			if (!c->s[i] || pos[i] >= c->s[i]->n_log ||
			    c->s[i]->log[pos[i]].entry != entry)
				continue;
			const struct verify_log_item *it = &c->s[i]->log[pos[i]++];
			size_t g;
			holders++;
			for (g = 0; g < ng; g++)
				if (grp[g]->value_id == it->value_id &&
				    grp[g]->value_crc == it->value_crc &&
				    grp[g]->value_len == it->value_len)
					break;
			if (g == ng)
				grp[ng++] = it;
			verify_nodes_set(members[g], c->nodes[i].id);
		}
		if (holders >= 2)
			c->counts.values++;
		if (ng < 2)
			continue;
		any = true;
		if (reported >= 3) {
			more++;
			continue;
		}
		struct verify_finding *f = finding(c, VERIFY_VALUE, x, entry);
		if (!f)
			continue;
		reported++;
		last = f;
		snprintf(f->detail, sizeof(f->detail), "chosen values differ:");
		for (size_t g = 0; g < ng; g++) {
			char who[128];
			nodes_text(members[g], who, sizeof(who));
			detail_add(f, "%s %s %s value id %016llx (crc %08x, %llu bytes)",
				   g ? ";" : "", who, strncmp(who, "nodes", 5) ? "holds" : "hold",
				   (unsigned long long)grp[g]->value_id, grp[g]->value_crc,
				   (unsigned long long)grp[g]->value_len);
		}
		blame(f, members, ng);
	}
	if (more && last)
		detail_add(last, " (and %zu later entries differ too)", more);
	free(pos);
	return any;
}

/* Chains at every anchor (applied entries, trim points) of the live nodes;
 * the first entry where they part is reported. */
static void check_chains(struct verify_cmp *c, uint64_t x)
{
	size_t n = c->n;
	uint64_t best = UINT64_MAX;

	for (size_t a = 0; a < 2 * n; a++) {
		const struct verify_entity *e = c->s[a / 2];
		uint64_t at;
		if (!is_live(e))
			continue;
		if (a % 2 == 0)
			at = e->apply.applied_entry;
		else if (e->has_paxos)
			at = e->paxos.trimmed_entry;
		else
			continue;
		if (at == 0)
			continue; /* every chain starts at 0 */
		struct groups gs;
		gs.ng = gs.holders = 0;
		for (size_t i = 0; i < n; i++) {
			uint32_t v;
			if (is_live(c->s[i]) && chain_at(c->s[i], at, &v))
				groups_add(&gs, v, c->nodes[i].id);
		}
		if (gs.holders >= 2)
			c->counts.chains++;
		if (gs.ng < 2 || at >= best)
			continue;
		best = at;
		/* Keep only the earliest parting: replace a later one. */
		if (c->nf > 0 && c->f[c->nf - 1].kind == VERIFY_CHAIN &&
		    c->f[c->nf - 1].entity == x)
			c->nf--;
		struct verify_finding *f = finding(c, VERIFY_CHAIN, x, at);
		char title[64];
		if (!f)
			continue;
		snprintf(title, sizeof(title), "chained checksums differ at entry %llu",
			 (unsigned long long)at);
		groups_report(f, &gs, title, 8);
	}
}

/* Digests of the live nodes that stand at the same applied entry. */
static void check_digests(struct verify_cmp *c, uint64_t x)
{
	size_t n = c->n;
	bool counted = false;

	for (size_t i = 0; i < n; i++) {
		const struct verify_entity *e = c->s[i];
		bool first = true;
		if (!is_live(e))
			continue;
		uint64_t at = e->apply.applied_entry;
		/* Only the first live node at this entry leads the comparison. */
		for (size_t j = 0; j < i; j++)
			if (is_live(c->s[j]) && c->s[j]->apply.applied_entry == at)
				first = false;
		if (!first)
			continue;
		struct groups gs;
		gs.ng = gs.holders = 0;
		for (size_t j = i; j < n; j++)
			if (is_live(c->s[j]) && c->s[j]->apply.applied_entry == at)
				groups_add(&gs, c->s[j]->apply.state_digest, c->nodes[j].id);
		if (gs.holders >= 2 && !counted) {
			c->counts.digests++;
			counted = true;
		}
		if (gs.ng < 2)
			continue;
		struct verify_finding *f = finding(c, VERIFY_DIGEST, x, at);
		char title[64];
		if (!f)
			continue;
		snprintf(title, sizeof(title), "state digests differ at applied entry %llu",
			 (unsigned long long)at);
		groups_report(f, &gs, title, 16);
	}
}

/* ---- lag ------------------------------------------------------------------------ */

/* Whether node summary e is expected to hold the entity's applied state. */
static bool serves(const struct verify_entity *e)
{
	return e->state == 0 || e->state == FS_ENTITY_LIVE || e->state == FS_ENTITY_PENDING ||
	       e->state == FS_ENTITY_INSTALLING;
}

static void lag_add(struct verify_lag *l, uint64_t entity, uint64_t applied, uint64_t chosen,
		    bool progressed, bool applying)
{
	uint64_t behind = chosen - applied;
	l->entities++;
	l->total += behind;
	if (behind > l->max)
		l->max = behind;
	l->progressed += progressed;
	l->applying += applying;
	/* keep the largest lags, largest first */
	size_t k = l->n_ex;
	if (k == VERIFY_LAG_EXAMPLES) {
		if (behind <= l->ex[k - 1].chosen - l->ex[k - 1].applied)
			return;
		k--;
	} else {
		l->n_ex++;
	}
	while (k > 0 && l->ex[k - 1].chosen - l->ex[k - 1].applied < behind) {
		l->ex[k] = l->ex[k - 1];
		k--;
	}
	l->ex[k] = (struct verify_lag_example){entity, applied, chosen};
}

/* ---- one entity ----------------------------------------------------------------- */

static int compare_entity(struct verify_cmp *c, uint64_t x)
{
	size_t n = c->n, nf0 = c->nf;
	struct verify_counts counts0 = c->counts;
	uint64_t top = 0, applied[255];
	bool wanted = false, apart = false;

	for (size_t i = 0; i < n; i++) {
		const struct verify_entity *e = c->s[i];
		if (!e)
			continue;
		if (e->has_paxos && e->paxos.chosen_entry > top)
			top = e->paxos.chosen_entry;
		if (e->has_apply && e->apply.applied_entry > top)
			top = e->apply.applied_entry;
		wanted |= e->state == FS_ENTITY_LIVE;
	}
	for (size_t i = 0; i < n; i++) {
		const struct verify_entity *e = c->s[i];
		applied[i] = e && e->has_apply ? e->apply.applied_entry : 0;
		if (e && wanted && serves(e) && applied[i] < top)
			apart = true;
	}

	for (size_t i = 0; i < n; i++)
		if (c->s[i])
			check_node_local(c, x, i, c->s[i]);
	bool values_differ = check_values(c, x);
	bool replay = false;
	for (size_t k = nf0; k < c->nf; k++)
		replay |= c->f[k].kind == VERIFY_REPLAY;
	if (!values_differ && !replay)
		check_chains(c, x);
	check_digests(c, x);

	bool diverged = c->nf > nf0 || c->counts.omitted > counts0.omitted;
	if (apart && !diverged && !c->final && c->n_recheck < VERIFY_RECHECK_MAX) {
		/* Put aside: look again later, count and report only then. */
		c->nf = nf0;
		c->counts = counts0;
		if (!util_u64map_get(&c->first, x)) {
			uint64_t *seen = calloc(n, sizeof(*seen));
			if (!seen || util_u64map_put(&c->first, x, seen) < 0) {
				free(seen);
				return -ENOMEM;
			}
			for (size_t i = 0; i < n; i++)
				seen[i] = c->s[i] ? applied[i] + 1 : 0;
		}
		if (c->n_recheck == c->cap_recheck) {
			size_t cap = c->cap_recheck ? c->cap_recheck * 2 : 256;
			uint64_t *p = realloc(c->recheck, cap * sizeof(*p));
			if (!p)
				return -ENOMEM;
			c->recheck = p;
			c->cap_recheck = cap;
		}
		c->recheck[c->n_recheck++] = x;
		return 0;
	}

	uint64_t *seen = util_u64map_del(&c->first, x);
	c->counts.entities++;
	if (diverged)
		c->counts.divergent++;
	if (apart) {
		c->counts.unsettled++;
		for (size_t i = 0; i < n; i++) {
			const struct verify_entity *e = c->s[i];
			if (!e || !serves(e) || applied[i] >= top)
				continue;
			bool moved = seen && seen[i] && seen[i] - 1 < applied[i];
			lag_add(&c->nodes[i].lag, x, applied[i], top, moved, e->applying);
		}
	}
	free(seen);
	return 0;
}

int verify_cmp_process(struct verify_cmp *c)
{
	for (;;) {
		uint64_t x = UINT64_MAX;
		bool any = false;
		int rc;

		for (size_t i = 0; i < c->n; i++) {
			struct cnode *nd = &c->nodes[i];
			if (nd->lost)
				continue;
			if (nd->q.head == nd->q.len) {
				if (!nd->done)
					return 0; /* wait for this node */
				continue;
			}
			any = true;
			if (nd->q.v[nd->q.head].entity < x)
				x = nd->q.v[nd->q.head].entity;
		}
		if (!any)
			return 0;
		for (size_t i = 0; i < c->n; i++) {
			struct cnode *nd = &c->nodes[i];
			c->has[i] = false;
			c->s[i] = NULL;
			if (nd->lost)
				continue;
			if (nd->q.head < nd->q.len && nd->q.v[nd->q.head].entity == x) {
				verify_entity_move(&c->cur[i], &nd->q.v[nd->q.head++]);
				c->has[i] = true;
				c->s[i] = &c->cur[i];
			} else {
				c->empty.entity = x;
				c->s[i] = &c->empty; /* this node holds nothing of it */
			}
		}
		rc = compare_entity(c, x);
		for (size_t i = 0; i < c->n; i++)
			if (c->has[i])
				verify_entity_close(&c->cur[i]);
		if (rc < 0)
			return rc;
	}
}

int verify_cmp_round_end(struct verify_cmp *c, const uint64_t **ids, size_t *n)
{
	int rc;
	for (size_t i = 0; i < c->n; i++)
		c->nodes[i].done = true;
	rc = verify_cmp_process(c);
	free(c->asked);
	c->asked = c->recheck;
	*ids = c->asked;
	*n = c->n_recheck;
	c->recheck = NULL;
	c->n_recheck = c->cap_recheck = 0;
	c->round++;
	return rc;
}

/* ---- results ---------------------------------------------------------------------- */

const struct verify_finding *verify_cmp_findings(const struct verify_cmp *c, size_t *n)
{
	*n = c->nf;
	return c->f;
}

struct verify_finding *verify_cmp_findings_mut(struct verify_cmp *c, size_t *n)
{
	*n = c->nf;
	return c->f;
}

const struct verify_counts *verify_cmp_counts(const struct verify_cmp *c)
{
	return &c->counts;
}

const struct verify_lag *verify_cmp_lag(const struct verify_cmp *c, size_t i)
{
	return &c->nodes[i].lag;
}

uint64_t verify_cmp_listed(const struct verify_cmp *c, size_t i)
{
	return c->nodes[i].listed;
}
