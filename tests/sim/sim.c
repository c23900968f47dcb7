/* tests/sim/sim.c — the cluster: event queue, network, the io and fsm of
 * each node's core, model file system, faults, trace (see sim.h).
 *
 *   event heap (time, seq) ──▶ DELIVER / TIMER / DISK / ACTION / SNAPSHOT
 *        │
 *        ▼
 *   node: backlog of inputs ──▶ node_step ─┐  node/ (the daemon's own code):
 *         one input, then node_flush ──────┤  persist at once, sync, send,
 *                                          │  apply, answers, timer
 *          sim_io: virtual clock, simstore + wal (sync: now, or a DISK event
 *                  later, the node busy meanwhile), lossy network, timers
 *          sim_fsm: model fs, APPLIED back into the backlog, the checker
 *
 * A node processes one input at a time, each its own loop turn; while its
 * disk is busy, inputs wait in its backlog, exactly as the daemon's loop
 * blocks in a synced write. A crash frees the core (engine, held turn) and
 * the backlog; what it wrote stays in the page cache (the wal) for the next
 * start to sync, unless a power cut takes a suffix of it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "paxos/codec.h"
#include "tests/sim/simint.h"
#include "util/crc32c.h"

/* ---- u64 map ------------------------------------------------------------- */

static size_t map_hash(uint64_t k, size_t cap)
{
	k ^= k >> 31;
	k *= 0x7fb5d329728ea185ull;
	k ^= k >> 27;
	return (size_t)k & (cap - 1);
}

uint64_t *sim_map_get(const struct sim_map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t h = map_hash(key, m->cap);; h = (h + 1) & (m->cap - 1)) {
		if (m->keys[h] == key)
			return &m->vals[h];
		if (!m->keys[h])
			return NULL;
	}
}

uint64_t *sim_map_put(struct sim_map *m, uint64_t key)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		uint64_t *k = calloc(ncap, sizeof(*k)), *v = calloc(ncap, sizeof(*v));
		if (!k || !v)
			abort();
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->keys[i])
				continue;
			size_t h = map_hash(m->keys[i], ncap);
			while (k[h])
				h = (h + 1) & (ncap - 1);
			k[h] = m->keys[i];
			v[h] = m->vals[i];
		}
		free(m->keys);
		free(m->vals);
		m->keys = k;
		m->vals = v;
		m->cap = ncap;
	}
	size_t h = map_hash(key, m->cap);
	while (m->keys[h] && m->keys[h] != key)
		h = (h + 1) & (m->cap - 1);
	if (!m->keys[h]) {
		m->keys[h] = key;
		m->vals[h] = 0;
		m->n++;
	}
	return &m->vals[h];
}

void sim_map_free(struct sim_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* ---- trace ----------------------------------------------------------------- */

void sim_trace(struct sim *s, const char *fmt, ...)
{
	if (!s->cfg.trace_ring && !s->cfg.trace_out)
		return;
	char line[640];
	int n = snprintf(line, sizeof(line), "%6llu ", (unsigned long long)s->now);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (s->cfg.trace_out)
		fprintf(s->cfg.trace_out, "%s\n", line);
	if (s->cfg.trace_ring) {
		free(s->ring[s->ring_pos]);
		s->ring[s->ring_pos] = strdup(line);
		s->ring_pos = (s->ring_pos + 1) % s->cfg.trace_ring;
		if (s->ring_n < s->cfg.trace_ring)
			s->ring_n++;
	}
}

void sim_print_trace(const struct sim *s, FILE *f)
{
	size_t start = (s->ring_pos + s->cfg.trace_ring - s->ring_n) %
		       (s->cfg.trace_ring ? s->cfg.trace_ring : 1);
	for (size_t i = 0; i < s->ring_n; i++)
		fprintf(f, "%s\n", s->ring[(start + i) % s->cfg.trace_ring]);
}

void sim_fail(struct sim *s, const char *fmt, ...)
{
	if (s->failed)
		return;
	s->failed = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->failure, sizeof(s->failure), fmt, ap);
	va_end(ap);
	sim_trace(s, "VIOLATION: %s", s->failure);
}

void sim_set_trace(struct sim *s, FILE *out)
{
	s->cfg.trace_out = out;
}

const char *sim_failure(const struct sim *s)
{
	return s->failed ? s->failure : NULL;
}

const char *sim_fmt_ballot(uint64_t b)
{
	static char buf[8][32];
	static int k;
	char *o = buf[k++ & 7];
	/* round.node, and the proposer's incarnation (its boot) after a '#' */
	if (!b)
		snprintf(o, 32, "0.0");
	else
		snprintf(o, 32, "%llu.%u#%u", (unsigned long long)paxos_ballot_round(b),
			 paxos_ballot_node(b), paxos_ballot_incarnation(b));
	return o;
}

const char *sim_fmt_id(uint64_t id)
{
	static char buf[8][40];
	static int k;
	char *o = buf[k++ & 7];
	/* node:ms:k, from seq = ms << 14 | k: a life's base is ms:0 for the
	 * wall ms it started at + 1, its ids count up from there */
	snprintf(o, 40, "%u:%llu:%llu", paxos_id_node(id),
		 (unsigned long long)(paxos_id_seq(id) >> PAXOS_ID_MS_SHIFT),
		 (unsigned long long)(id & ((UINT64_C(1) << PAXOS_ID_MS_SHIFT) - 1)));
	return o;
}

static int count_cb(void *arg, uint64_t id, const uint8_t *body, size_t len)
{
	(void)id;
	(void)body;
	(void)len;
	(*(size_t *)arg)++;
	return 0;
}

static void trace_msg(struct sim *s, int node, const char *dir, int peer, const struct paxos_msg *m)
{
	if (!s->cfg.trace_ring && !s->cfg.trace_out)
		return;
	char extra[160] = "";
	switch (m->type) {
	case PAXOS_MSG_PREPARE:
		snprintf(extra, sizeof(extra), " b=%s", sim_fmt_ballot(m->ballot));
		break;
	case PAXOS_MSG_PROMISE:
		if (m->accepted)
			snprintf(extra, sizeof(extra), " b=%s acc=%s v=%s",
				 sim_fmt_ballot(m->ballot), sim_fmt_ballot(m->accepted),
				 sim_fmt_id(m->value_id));
		else
			snprintf(extra, sizeof(extra), " b=%s", sim_fmt_ballot(m->ballot));
		break;
	case PAXOS_MSG_ACCEPT:
	case PAXOS_MSG_ACCEPTED:
		snprintf(extra, sizeof(extra), " b=%s v=%s", sim_fmt_ballot(m->ballot),
			 sim_fmt_id(m->value_id));
		break;
	case PAXOS_MSG_REJECT:
		snprintf(extra, sizeof(extra), " b=%s promised=%s", sim_fmt_ballot(m->ballot),
			 sim_fmt_ballot(m->promised));
		break;
	case PAXOS_MSG_CHOSEN:
		snprintf(extra, sizeof(extra), " v=%s%s", sim_fmt_id(m->value_id),
			 m->has_value ? " +value" : "");
		break;
	case PAXOS_MSG_FETCH:
		snprintf(extra, sizeof(extra), "..%llu", (unsigned long long)m->entry_to);
		break;
	case PAXOS_MSG_BARRIER_ACK:
		snprintf(extra, sizeof(extra), " top=%llu%s", (unsigned long long)m->top,
			 (m->flags & PAXOS_MSG_F_NONVOTER) ? " nonvoter" : "");
		break;
	case PAXOS_MSG_SCAN_REPLY:
		snprintf(extra, sizeof(extra), " n=%zu%s", m->n_items / 3,
			 (m->flags & PAXOS_MSG_F_DONE) ? " done" : "");
		break;
	default:
		break;
	}
	if (m->type >= PAXOS_MSG_FORWARD && m->type <= PAXOS_MSG_FWD_STALE) {
		/* #seq, and the processes: sender -> the one it is meant for */
		size_t n = 0;
		if (m->type == PAXOS_MSG_FORWARD)
			paxos_codec_value_foreach(m->value, m->value_len, count_cb, &n);
		char cmds[32] = "";
		if (m->type == PAXOS_MSG_FORWARD)
			snprintf(cmds, sizeof(cmds), " cmds=%zu", n);
		sim_trace(s, "n%d %s n%d %s E%llu #%llu %s->%s%s c=%llu", node, dir, peer,
			  paxos_msg_type_name(m->type), (unsigned long long)m->entity,
			  (unsigned long long)m->nonce, sim_fmt_id(m->session),
			  sim_fmt_id(m->to_session), cmds, (unsigned long long)m->chosen);
		return;
	}
	if (m->type == PAXOS_MSG_SCAN || m->type == PAXOS_MSG_SCAN_REPLY)
		sim_trace(s, "n%d %s n%d %s after=%llu%s", node, dir, peer,
			  paxos_msg_type_name(m->type), (unsigned long long)m->nonce, extra);
	else
		sim_trace(s, "n%d %s n%d %s E%llu.%llu%s c=%llu", node, dir, peer,
			  paxos_msg_type_name(m->type), (unsigned long long)m->entity,
			  (unsigned long long)m->entry, extra, (unsigned long long)m->chosen);
}

/* ---- event heap ----------------------------------------------------------- */

static bool ev_less(const struct sim_ev *a, const struct sim_ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void ev_push(struct sim *s, struct sim_ev ev)
{
	if (s->heap_len == s->heap_cap) {
		s->heap_cap = s->heap_cap ? s->heap_cap * 2 : 256;
		s->heap = realloc(s->heap, s->heap_cap * sizeof(*s->heap));
		if (!s->heap)
			abort();
	}
	ev.seq = s->seq++;
	size_t i = s->heap_len++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!ev_less(&ev, &s->heap[parent]))
			break;
		s->heap[i] = s->heap[parent];
		i = parent;
	}
	s->heap[i] = ev;
}

static struct sim_ev ev_pop(struct sim *s)
{
	struct sim_ev top = s->heap[0];
	struct sim_ev last = s->heap[--s->heap_len];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct sim_ev *mv = &last;
		if (l < s->heap_len && ev_less(&s->heap[l], mv)) {
			m = l;
			mv = &s->heap[l];
		}
		if (r < s->heap_len && ev_less(&s->heap[r], mv))
			m = r;
		if (m == i)
			break;
		s->heap[i] = s->heap[m];
		i = m;
	}
	if (s->heap_len)
		s->heap[i] = last;
	return top;
}

void sim_at(struct sim *s, uint64_t t, sim_action_cb fn, void *arg, uint64_t a, uint64_t b)
{
	struct sim_ev ev = {
	    .t = t < s->now ? s->now : t, .kind = SE_ACTION, .fn = fn, .ptr = arg, .a = a, .b = b};
	ev_push(s, ev);
}

/* ---- the model file system -------------------------------------------------- */

struct sim_fs_ent *sim_fs_ent(struct sim_fs *fs, uint64_t id, bool create)
{
	size_t lo = 0, hi = fs->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (fs->ents[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < fs->n && fs->ents[lo].id == id)
		return &fs->ents[lo];
	if (!create)
		return NULL;
	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? fs->cap * 2 : 8;
		fs->ents = realloc(fs->ents, fs->cap * sizeof(*fs->ents));
		if (!fs->ents)
			abort();
	}
	memmove(&fs->ents[lo + 1], &fs->ents[lo], (fs->n - lo) * sizeof(*fs->ents));
	fs->n++;
	memset(&fs->ents[lo], 0, sizeof(fs->ents[lo]));
	fs->ents[lo].id = id;
	return &fs->ents[lo];
}

static void fs_clear(struct sim_fs *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		free(fs->ents[i].log);
	free(fs->ents);
	memset(fs, 0, sizeof(*fs));
}

static void fs_copy(struct sim_fs *dst, const struct sim_fs *src)
{
	fs_clear(dst);
	dst->ents = malloc((src->n ? src->n : 1) * sizeof(*dst->ents));
	if (!dst->ents)
		abort();
	dst->n = dst->cap = src->n;
	for (size_t i = 0; i < src->n; i++) {
		dst->ents[i] = src->ents[i];
		dst->ents[i].log = NULL;
		dst->ents[i].cap = 0;
		if (src->ents[i].applied && src->ents[i].log) {
			size_t n = src->ents[i].applied;
			dst->ents[i].log = malloc(n * sizeof(uint64_t));
			if (!dst->ents[i].log)
				abort();
			memcpy(dst->ents[i].log, src->ents[i].log, n * sizeof(uint64_t));
			dst->ents[i].cap = n;
		}
	}
}

/* Sets one entity's fs state: applied through `applied` with chained crc
 * `crc`; log[] holds the value ids of entries from + 1 .. applied (or NULL). */
static void fs_set(struct sim_fs *fs, uint64_t entity, uint64_t applied, uint32_t crc,
		   const uint64_t *log, uint64_t from)
{
	struct sim_fs_ent *f = sim_fs_ent(fs, entity, true);
	if (log && applied > from) {
		if (f->cap < applied) {
			size_t ncap = f->cap ? f->cap : 16;
			while (ncap < applied)
				ncap *= 2;
			f->log = realloc(f->log, ncap * sizeof(*f->log));
			if (!f->log)
				abort();
			f->cap = ncap;
		}
		memcpy(f->log + from, log, (applied - from) * sizeof(*log));
	}
	f->applied = applied;
	f->crc = crc;
}

/* ---- writes not synced yet (see struct sim_wal) ---------------------------- */

static void wal_push(struct sim_node *n, const struct sim_wal *w)
{
	if (n->n_wal == n->cap_wal) {
		n->cap_wal = n->cap_wal ? n->cap_wal * 2 : 16;
		n->wal = realloc(n->wal, n->cap_wal * sizeof(*n->wal));
		if (!n->wal)
			abort();
	}
	n->wal[n->n_wal++] = *w;
}

static void wal_drop(struct sim_wal *w)
{
	sim_batch_free(w->batch);
	free(w->log);
	memset(w, 0, sizeof(*w));
}

/* Makes the write durable (and frees it). */
static void wal_apply(struct sim_node *n, struct sim_wal *w)
{
	if (w->kind == SW_BATCH) {
		if (n->sim->cfg.check)
			sim_chk_durable(n->sim, n->id, w->batch);
		if (sim_store_apply_batch(&n->durable, w->batch))
			abort();
		if (w->amnesia_cleared)
			n->durable_amnesia = false;
	} else {
		fs_set(&n->durable_fs, w->entity, w->applied, w->crc, w->log, w->log_from);
	}
	wal_drop(w);
}

/* Drops the writes not synced yet: they never reach the disk. */
static void wal_clear(struct sim_node *n)
{
	for (size_t i = 0; i < n->n_wal; i++)
		wal_drop(&n->wal[i]);
	n->n_wal = 0;
}

/* A synced write: everything written before it is durable too (the store's
 * guarantee, docs/store.md). */
static void wal_flush(struct sim_node *n)
{
	for (size_t i = 0; i < n->n_wal; i++)
		wal_apply(n, &n->wal[i]);
	n->n_wal = 0;
}

/* Records that the fs state of `entity` changed from entry `from` on. */
static void wal_fs(struct sim *s, struct sim_node *n, uint64_t entity, uint64_t from)
{
	const struct sim_fs_ent *f = sim_fs_ent(&n->fs, entity, false);
	struct sim_wal w = {.kind = SW_FS, .entity = entity, .applied = f->applied, .crc = f->crc};
	if (s->cfg.fs_log && f->applied > from) {
		w.log_from = from;
		w.log = malloc((f->applied - from) * sizeof(*w.log));
		if (!w.log)
			abort();
		memcpy(w.log, f->log + from, (f->applied - from) * sizeof(*w.log));
	}
	wal_push(n, &w);
}

static void node_input(struct sim *s, struct sim_node *n, const struct sim_input *in);

/* fs applies one chosen entry: strictly the next one. */
static void fs_apply(struct sim *s, struct sim_node *n, uint64_t entity, uint64_t entry,
		     uint64_t value_id, const uint8_t *value, size_t len)
{
	struct sim_fs_ent *f = sim_fs_ent(&n->fs, entity, true);
	if (entry != f->applied + 1) {
		sim_fail(s, "n%d delivered E%llu.%llu but fs applied through %llu (out of order)",
			 n->id, (unsigned long long)entity, (unsigned long long)entry,
			 (unsigned long long)f->applied);
		return;
	}
	if (s->cfg.check)
		sim_chk_delivered(s, n->id, entity, entry, value_id, value, len);
	if (s->cfg.fs_log) {
		if (f->applied == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 16;
			f->log = realloc(f->log, f->cap * sizeof(*f->log));
			if (!f->log)
				abort();
		}
		f->log[f->applied] = value_id;
	}
	f->applied = entry;
	f->crc = util_crc32c(f->crc, value, len);
	wal_fs(s, n, entity, entry - 1); /* fs/ writes its applies without sync */
	s->stats.deliveries++;
}

/* ---- network -------------------------------------------------------------- */

static bool reachable(const struct sim *s, int a, int b)
{
	return !s->blocked[a][b];
}

static void pkt_unref(struct sim_pkt *p)
{
	if (p && --p->refs == 0)
		free(p);
}

static uint64_t net_delay(struct sim *s)
{
	uint32_t lo = s->cfg.delay_min_ms, hi = s->cfg.delay_max_ms;
	return hi > lo ? lo + util_prng_below(&s->prng, hi - lo + 1) : lo;
}

static void peers_changed(struct sim *s, int a, int b, bool up);

static void reconnect(struct sim *s, void *arg, uint64_t a, uint64_t b)
{
	s->reconnecting[a][b] = s->reconnecting[b][a] = false;
	sim_chk_topology(s);
	if (reachable(s, (int)a, (int)b) && reachable(s, (int)b, (int)a))
		peers_changed(s, (int)a, (int)b, true);
}

static void net_send(struct sim *s, struct sim_node *n, const struct paxos_outbox *box)
{
	for (size_t i = 0; i < box->n; i++) {
		if (s->cfg.check)
			sim_chk_send(s, n->id, (int)box->to, &box->msgs[i]);
		trace_msg(s, n->id, "->", (int)box->to, &box->msgs[i]);
		s->stats.msgs++;
		uint32_t t = box->msgs[i].type;
		s->stats.forwards += t == PAXOS_MSG_FORWARD;
		s->stats.fwd_nacks += t == PAXOS_MSG_FWD_NACK;
		s->stats.fwd_stale += t == PAXOS_MSG_FWD_STALE;
	}
	uint8_t *buf;
	size_t len;
	if (paxos_codec_encode(box->msgs, box->n, &buf, &len))
		abort();
	s->stats.batches++;
	s->stats.bytes += len;
	int to = (int)box->to;
	if (s->cfg.loss_pct && util_prng_below(&s->prng, 100) < s->cfg.loss_pct) {
		/* Over TCP a message is lost only with its connection: both ends
		 * notice and reconnect, which the engine hears as PEER_UP. */
		sim_trace(s, "n%d -> n%d lost (%zu msgs)", n->id, to, box->n);
		free(buf);
		if (!s->reconnecting[n->id][to]) {
			/* TCP notices after a while and the link comes back with
			 * a new connection. */
			s->reconnecting[n->id][to] = s->reconnecting[to][n->id] = true;
			sim_chk_topology(s);
			sim_at(s, s->now + 50 + util_prng_below(&s->prng, 250), reconnect, NULL,
			       (uint64_t)n->id, (uint64_t)to);
		}
		return;
	}
	struct sim_pkt *p = malloc(sizeof(*p) + len);
	if (!p)
		abort();
	p->refs = 0;
	p->from = n->id;
	p->to = to;
	/* Over one connection messages arrive in order: nothing of an earlier
	 * engine of the sender after something of a later one (src_inc is
	 * the engine's). What is sent to a node reaches it while its process
	 * lives, whatever its engine (dst_inc is the process's). */
	p->src_inc = n->inc;
	p->dst_inc = s->nodes[to].link_inc;
	p->len = len;
	memcpy(p->bytes, buf, len);
	free(buf);
	int copies = 1;
	if (s->cfg.dup_pct && util_prng_below(&s->prng, 100) < s->cfg.dup_pct)
		copies = 2;
	for (int c = 0; c < copies; c++) {
		p->refs++;
		struct sim_ev ev = {.t = s->now + (s->link_delay[n->id][to]
						       ? s->link_delay[n->id][to]
						       : net_delay(s)),
				    .kind = SE_DELIVER,
				    .node = to,
				    .ptr = p};
		ev_push(s, ev);
	}
}

static void net_deliver(struct sim *s, struct sim_pkt *p)
{
	struct sim_node *n = &s->nodes[p->to];
	const char *drop = NULL;
	if (!n->up || n->link_inc != p->dst_inc)
		drop = "receiver restarted or down";
	else if (!reachable(s, p->from, p->to))
		drop = "partitioned";
	else if (p->src_inc < n->known_inc[p->from])
		drop = "from an earlier process of the sender";
	if (drop) {
		sim_trace(s, "n%d <- n%d dropped: %s", p->to, p->from, drop);
		pkt_unref(p);
		return;
	}
	if (p->src_inc > n->known_inc[p->from])
		n->known_inc[p->from] = p->src_inc;
	struct sim_input in = {.type = SI_RECEIVE, .pkt = p, .peer = p->from};
	node_input(s, n, &in); /* takes the reference */
}

/* ---- nodes ------------------------------------------------------------------ */

static void input_free(struct sim_input *in)
{
	pkt_unref(in->pkt);
	free(in->body);
}

static void backlog_push(struct sim_node *n, const struct sim_input *in)
{
	if (n->bl_len == n->bl_cap) {
		size_t ncap = n->bl_cap ? n->bl_cap * 2 : 16;
		struct sim_input *x = malloc(ncap * sizeof(*x));
		if (!x)
			abort();
		for (size_t i = 0; i < n->bl_len; i++)
			x[i] = n->backlog[(n->bl_head + i) % n->bl_cap];
		free(n->backlog);
		n->backlog = x;
		n->bl_cap = ncap;
		n->bl_head = 0;
	}
	n->backlog[(n->bl_head + n->bl_len) % n->bl_cap] = *in;
	n->bl_len++;
}

static void backlog_clear(struct sim_node *n)
{
	while (n->bl_len) {
		input_free(&n->backlog[n->bl_head]);
		n->bl_head = (n->bl_head + 1) % n->bl_cap;
		n->bl_len--;
	}
}

static void arm_timer(struct sim *s, struct sim_node *n, uint64_t deadline)
{
	n->timer_gen++;
	if (deadline == PAXOS_NO_DEADLINE)
		return;
	struct sim_ev ev = {.t = deadline < s->now ? s->now : deadline,
			    .kind = SE_TIMER,
			    .node = n->id,
			    .inc = n->inc,
			    .a = n->timer_gen};
	ev_push(s, ev);
}

static void trace_persist(struct sim *s, struct sim_node *n, const struct paxos_update *u)
{
	if (!s->cfg.trace_ring && !s->cfg.trace_out)
		return;
	/* "lazy": written without sync (no vote in this update) */
	const char *lazy = u->needs_sync ? "" : " lazy";
	for (size_t i = 0; i < u->n_records; i++) {
		const struct paxos_out_record *r = &u->records[i];
		sim_trace(s, "n%d persist E%llu.%llu p=%s a=%s v=%s%s%s", n->id,
			  (unsigned long long)r->entity, (unsigned long long)r->entry,
			  sim_fmt_ballot(r->rec.promised), sim_fmt_ballot(r->rec.accepted),
			  sim_fmt_id(r->rec.value_id), r->rec.chosen ? " chosen" : "", lazy);
	}
	for (size_t i = 0; i < u->n_metas; i++) {
		const struct paxos_out_meta *m = &u->metas[i];
		sim_trace(s, "n%d persist meta E%llu chosen=%llu by=n%u trimmed=%llu fence=%llu%s",
			  n->id, (unsigned long long)m->entity,
			  (unsigned long long)m->meta.chosen_entry, m->meta.chosen_proposer,
			  (unsigned long long)m->meta.trimmed_entry,
			  (unsigned long long)m->meta.vote_after, lazy);
	}
	for (size_t i = 0; i < u->n_trims; i++)
		sim_trace(s, "n%d trim E%llu upto %llu%s", n->id,
			  (unsigned long long)u->trims[i].entity,
			  (unsigned long long)u->trims[i].upto, lazy);
}

/* ---- the node core's io: virtual time, the simulated disk and network ---- */

static uint64_t io_now(void *ctx)
{
	struct sim_node *n = ctx;
	return n->sim->now;
}

/* The daemon records its new boot count with a synced write before it
 * starts the engine: what the last process wrote is durable from here. */
static int io_boot(void *ctx, struct node_boot *out, char *err, size_t errlen)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	wal_flush(n);
	/* The daemon's rule (mount/turn.c io_boot, mount/node.c for a new
	 * store) on this node's simulated wall clock: a wiped node's ids are
	 * checked against all its earlier lives'. */
	uint64_t wall = (uint64_t)((int64_t)s->now + n->wall_offset);
	uint64_t last = n->id_base ? n->id_base : node_id_base_new(wall);
	uint64_t base = node_id_base_next(wall, last, 0);
	if (!base) {
		snprintf(err, errlen, "no id base left (wall clock %llu ms)",
			 (unsigned long long)wall);
		return -EOVERFLOW;
	}
	n->id_base = base;
	out->boot_count = ++n->boot;
	out->id_base = base;
	if (!n->first_boot)
		n->first_boot = n->boot;
	out->incarnation = 0;
	if (s->cfg.wipe_repeats_inc && n->disk_gen)
		out->incarnation = n->first_boot;
	out->amnesia = n->meta_amnesia;
	out->seed = util_prng_next(&s->prng);
	n->inc++;
	n->started_ms = s->now;
	n->started_amnesic = n->meta_amnesia;
	sim_chk_topology(s);
	sim_trace(s, "n%d %s boot=%llu ids=%s%s", n->id, n->new_process ? "START" : "ENGINE START",
		  (unsigned long long)n->boot, sim_fmt_id(sim_session(s, n->id)),
		  n->meta_amnesia ? " amnesic" : "");
	return 0;
}

/* Written at once without sync: what the engine reads from now on, and what
 * a power cut may still take back (the wal) until a synced write. */
static int io_persist(void *ctx, const struct paxos_update *u)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	if (n->fail_write) {
		/* a full disk: nothing of the write reaches the page cache */
		n->fail_write = false;
		sim_trace(s, "n%d WRITE FAILED: the disk is full", n->id);
		return -ENOSPC;
	}
	if (s->cfg.check)
		sim_chk_persist(s, n->id, u);
	trace_persist(s, n, u);
	if (sim_store_apply(&n->store, u))
		abort();
	struct sim_wal w = {
	    .kind = SW_BATCH, .batch = sim_batch_copy(u), .amnesia_cleared = u->amnesia_cleared};
	if (!w.batch)
		abort();
	wal_push(n, &w);
	if (u->amnesia_cleared) {
		n->meta_amnesia = false;
		sim_trace(s, "n%d amnesia cleared", n->id);
	}
	return 0;
}

/* A slow disk makes the synced write take disk_ms, during which the node
 * takes no input (the daemon's loop blocks in it): SE_DISK completes it. */
static int io_sync(void *ctx)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	if (n->fail_sync) {
		/* "fsyncgate": the kernel dropped the dirty pages it could not
		 * write. What was written since the last sync never reaches the
		 * disk, though the page cache (n->store) may still show it. */
		n->fail_sync = false;
		sim_trace(s, "n%d SYNC FAILED: %zu unsynced writes never reach the disk", n->id,
			  n->n_wal);
		wal_clear(n);
		return -EIO;
	}
	if (!n->disk_ms) {
		wal_flush(n);
		return 0;
	}
	n->busy = true;
	struct sim_ev dev = {
	    .t = s->now + n->disk_ms, .kind = SE_DISK, .node = n->id, .inc = n->inc};
	ev_push(s, dev);
	return NODE_SYNC_PENDING;
}

static void io_send(void *ctx, uint32_t to, const struct paxos_msg *msgs, size_t count)
{
	struct sim_node *n = ctx;
	struct paxos_outbox box = {.to = to, .msgs = msgs, .n = count};
	if (n->hold_sends) {
		struct sim_held_send h = {.to = to};
		if (paxos_codec_encode(msgs, count, &h.bytes, &h.len))
			abort();
		if (n->n_held_sends == n->cap_held_sends) {
			n->cap_held_sends = n->cap_held_sends ? n->cap_held_sends * 2 : 8;
			n->held_sends =
			    realloc(n->held_sends, n->cap_held_sends * sizeof(*n->held_sends));
			if (!n->held_sends)
				abort();
		}
		n->held_sends[n->n_held_sends++] = h;
		return;
	}
	net_send(n->sim, n, &box);
}

/* Sends what a SUBMIT step sent early, now that the checker knows its
 * command (the same instant: nothing else happened in between). */
static void release_held_sends(struct sim *s, struct sim_node *n)
{
	n->hold_sends = false;
	for (size_t i = 0; i < n->n_held_sends; i++) {
		struct sim_held_send *h = &n->held_sends[i];
		struct paxos_codec_msgs dec = {0};
		if (paxos_codec_decode(h->bytes, h->len, &dec))
			abort();
		struct paxos_outbox box = {.to = h->to, .msgs = dec.msgs, .n = dec.n};
		net_send(s, n, &box);
		paxos_codec_msgs_free(&dec);
		free(h->bytes);
	}
	n->n_held_sends = 0;
}

static void io_set_timer(void *ctx, uint64_t deadline)
{
	struct sim_node *n = ctx;
	arm_timer(n->sim, n, deadline);
}

/* Without group_turns the simulator ends a loop turn after every input
 * (node_run). With it, the turn ends after every input of this instant: an
 * SE_FLUSH event now, behind those already queued for now. */
static void io_schedule_flush(void *ctx)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	if (!s->cfg.group_turns || n->flush_queued)
		return;
	n->flush_queued = true;
	struct sim_ev ev = {.t = s->now, .kind = SE_FLUSH, .node = n->id, .inc = n->inc};
	ev_push(s, ev);
}

static bool io_peer_connected(void *ctx, uint32_t peer)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	int p = (int)peer;
	/* A new process's peers hear of it instead (engine_start). */
	return !n->new_process && s->nodes[p].up && reachable(s, n->id, p) &&
	       reachable(s, p, n->id);
}

static void fatal_stop(struct sim *s, void *arg, uint64_t node, uint64_t b);

/* The daemon exits (status 1). The process goes at the end of this instant
 * (its core is still on the stack); nothing more reaches it meanwhile. */
static void io_fatal(void *ctx, int err, const char *why)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	sim_trace(s, "n%d STOPS (%d): %s", n->id, err, why);
	s->stats.fatal_stops++;
	n->stopping = true;
	sim_at(s, s->now, fatal_stop, NULL, (uint64_t)n->id, 0);
}

static const struct node_io sim_io = {
    .now_ms = io_now,
    .boot = io_boot,
    .persist = io_persist,
    .sync = io_sync,
    .send = io_send,
    .set_timer = io_set_timer,
    .schedule_flush = io_schedule_flush,
    .peer_connected = io_peer_connected,
    .fatal = io_fatal,
};

/* ---- the node core's fsm: the model file system and the checker -------- */

static int fsm_applied(void *ctx, uint64_t entity, uint64_t *entry)
{
	struct sim_node *n = ctx;
	const struct sim_fs_ent *f = sim_fs_ent(&n->fs, entity, false);
	*entry = f ? f->applied : 0;
	return 0;
}

/* A namespace command "BORN" + entity (8 bytes, little-endian) of this
 * node: the model of a create (mount/apply.c tells the engine the same, so
 * that the creating life opens entry 1 without phase 1 or a sync first). */
static int born_cmd(void *arg, uint64_t id, const uint8_t *body, size_t len)
{
	struct sim_node *n = arg;
	uint64_t entity = 0;
	if (len != 12 || memcmp(body, SIM_BORN_TAG, 4) || paxos_id_node(id) != (uint32_t)n->id)
		return 0;
	for (int i = 0; i < 8; i++)
		entity |= (uint64_t)body[4 + i] << (8 * i);
	struct sim_input in = {.type = SI_BORN, .entity = entity, .req_id = id};
	backlog_push(n, &in);
	return 0;
}

static int fsm_apply(void *ctx, const struct paxos_chosen *c, bool from_log)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	if (from_log)
		sim_trace(s, "n%d replay E%llu.%llu", n->id, (unsigned long long)c->entity,
			  (unsigned long long)c->entry);
	else
		sim_trace(s, "n%d chosen E%llu.%llu v=%s%s", n->id, (unsigned long long)c->entity,
			  (unsigned long long)c->entry, sim_fmt_id(c->value_id),
			  c->mine ? " mine" : "");
	fs_apply(s, n, c->entity, c->entry, c->value_id, c->value, c->value_len);
	if (c->entity == PAXOS_NAMESPACE_ENTITY)
		paxos_codec_value_foreach(c->value, c->value_len, born_cmd, n);
	if (from_log)
		return 0; /* the start reports every entity at once (replay_log) */
	/* Tell the engine what the fs applied (enables trimming), once per
	 * entity and run of its entries in a delivery, as the daemon's applier
	 * would: the APPLIED this delivery queued last is moved forward. */
	struct sim_fs_ent *f = sim_fs_ent(&n->fs, c->entity, true);
	if (n->bl_len > n->applied_mark) {
		struct sim_input *last = &n->backlog[(n->bl_head + n->bl_len - 1) % n->bl_cap];
		if (last->type == SI_APPLIED && last->entity == c->entity) {
			last->entry = f->applied;
			last->crc = f->crc;
			return 0;
		}
	}
	struct sim_input in = {
	    .type = SI_APPLIED, .entity = c->entity, .entry = f->applied, .crc = f->crc};
	backlog_push(n, &in);
	return 0;
}

static void fsm_failed(void *ctx, void *req, const struct paxos_failed *x)
{
	struct sim_node *n = ctx;
	(void)req; /* the node itself: commands are tracked by the checker */
	struct sim *s = n->sim;
	sim_trace(s, "n%d failed cmd %s: %d", n->id, sim_fmt_id(x->cmd_id), x->error);
	s->stats.cmds_failed++;
	if (s->cfg.check)
		sim_chk_failed(s, n->id, x);
}

/* req is the caller's barrier id (sim_barrier); b->req_id is the core's. */
static void fsm_barrier_done(void *ctx, void *req, const struct paxos_barrier_done *done)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	struct paxos_barrier_done mine = *done, *b = &mine;
	mine.req_id = (uint64_t)(uintptr_t)req;
	sim_trace(s, "n%d barrier %llu E%llu: %d through %llu", n->id,
		  (unsigned long long)b->req_id, (unsigned long long)b->entity, b->result,
		  (unsigned long long)b->entry);
	if (b->result)
		s->stats.barriers_failed++;
	else
		s->stats.barriers_ok++;
	if (s->cfg.check)
		sim_chk_barrier_done(s, n->id, b);
}

static void fsm_snapshot_fetch(void *ctx, const struct paxos_snapshot_req *r)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	sim_trace(s, "n%d wants snapshot E%llu from n%u (trimmed %llu)", n->id,
		  (unsigned long long)r->entity, r->from, (unsigned long long)r->entry);
	struct sim_ev ev = {.t = s->now + net_delay(s) * 2,
			    .kind = SE_SNAPSHOT,
			    .node = n->id,
			    .inc = n->inc,
			    .a = r->entity,
			    .b = r->from,
			    .c = r->entry};
	ev_push(s, ev);
}

static void fsm_abandon(void *ctx, void *req, int err)
{
	struct sim_node *n = ctx;
	if (req != n)
		sim_trace(n->sim, "n%d barrier %llu abandoned (%d)", n->id,
			  (unsigned long long)(uintptr_t)req, err);
}

static void fsm_entity_error(void *ctx, uint64_t entity, int err)
{
	struct sim_node *n = ctx;
	sim_fail(n->sim, "n%d storage error on E%llu: %d", n->id, (unsigned long long)entity, err);
}

static void replay_log(struct sim *s, struct sim_node *n);

static void fsm_started(void *ctx)
{
	struct sim_node *n = ctx;
	replay_log(n->sim, n);
	struct sim_input tick = {.type = SI_TICK};
	backlog_push(n, &tick);
}

/* Commands and barriers in flight are gone: the checker knows them as
 * unresolved from this engine (their origin's incarnation). */
static void fsm_lost(void *ctx, int err)
{
	struct sim_node *n = ctx;
	sim_trace(n->sim, "n%d engine dropped (%d)", n->id, err);
}

static const struct node_fsm sim_fsm = {
    .applied = fsm_applied,
    .apply = fsm_apply,
    .failed = fsm_failed,
    .barrier_done = fsm_barrier_done,
    .abandon = fsm_abandon,
    .snapshot_fetch = fsm_snapshot_fetch,
    .entity_error = fsm_entity_error,
    .started = fsm_started,
    .lost = fsm_lost,
};

/* ---- driving the core -------------------------------------------------- */

/* One input, one step; the loop turn ends after it (node_flush). */
static void node_step_input(struct sim *s, struct sim_node *n, struct sim_input *in)
{
	struct paxos_event ev = {0};
	struct paxos_codec_msgs dec = {0};
	int rc = 0;
	uint64_t id = 0;
	switch (in->type) {
	case SI_RECEIVE:
		if (paxos_codec_decode(in->pkt->bytes, in->pkt->len, &dec)) {
			sim_fail(s, "n%d could not decode a batch from n%d", n->id, in->peer);
			return;
		}
		ev.type = PAXOS_EV_RECEIVE;
		ev.receive.from = (uint32_t)in->peer;
		ev.receive.msgs = dec.msgs;
		ev.receive.n = dec.n;
		for (size_t i = 0; i < dec.n; i++)
			trace_msg(s, n->id, "<-", in->peer, &dec.msgs[i]);
		break;
	case SI_TICK:
		ev.type = PAXOS_EV_TICK;
		break;
	case SI_SUBMIT:
		ev.type = PAXOS_EV_SUBMIT;
		break;
	case SI_BARRIER:
		ev.type = PAXOS_EV_BARRIER;
		sim_trace(s, "n%d barrier %llu E%llu begins", n->id, (unsigned long long)in->req_id,
			  (unsigned long long)in->entity);
		if (s->cfg.check)
			sim_chk_barrier_start(s, n->id, in->entity, in->req_id);
		break;
	case SI_PEER_UP:
	case SI_PEER_DOWN:
		ev.type = in->type == SI_PEER_UP ? PAXOS_EV_PEER_UP : PAXOS_EV_PEER_DOWN;
		ev.peer.node = (uint32_t)in->peer;
		break;
	case SI_APPLIED:
		ev.type = PAXOS_EV_APPLIED;
		ev.applied.entity = in->entity;
		ev.applied.entry = in->entry;
		ev.applied.chain_crc = in->crc;
		break;
	case SI_BORN:
		ev.type = PAXOS_EV_BORN;
		ev.born.entity = in->entity;
		ev.born.cmd_id = in->req_id;
		break;
	case SI_SNAP_OK:
	case SI_SNAP_FAIL:
		ev.type =
		    in->type == SI_SNAP_OK ? PAXOS_EV_SNAPSHOT_INSTALLED : PAXOS_EV_SNAPSHOT_FAILED;
		ev.snapshot.entity = in->entity;
		ev.snapshot.entry = in->entry;
		ev.snapshot.chain_crc = in->crc;
		break;
	}
	s->stats.steps++;
	/* Commands wait in the core with the node as their request (the
	 * checker follows them); a barrier's request is the caller's id. */
	if (in->type == SI_TICK)
		node_tick(n->core); /* a TICK, or the restart after an engine reset */
	else if (in->type == SI_SUBMIT) {
		n->hold_sends = true;
		rc = node_submit(n->core, in->entity, in->body, in->len, n, &id);
	} else if (in->type == SI_BARRIER)
		rc = node_barrier(n->core, in->entity, (void *)(uintptr_t)in->req_id);
	else
		rc = node_step(n->core, &ev, NULL);
	paxos_codec_msgs_free(&dec);
	if (in->type == SI_SUBMIT) {
		n->submit_id = id;
		n->submit_rc = rc;
		if (id) {
			sim_trace(s, "n%d submit E%llu -> cmd %s (%zu bytes)", n->id,
				  (unsigned long long)in->entity, sim_fmt_id(id), in->len);
			s->stats.cmds_submitted++;
			if (s->cfg.check)
				sim_chk_submitted(s, n->id, id, in->entity, in->body, in->len);
		}
		release_held_sends(s, n);
	} else if (rc && rc != -ENOMEM && rc != -ENOTCONN && rc != -ECANCELED) {
		/* -ENOTCONN: no engine (an engine reset, until its restart);
		 * -ECANCELED: the step itself dropped the engine */
		sim_fail(s, "n%d paxos_step(%d) returned %d", n->id, ev.type, rc);
	}
}

/* The end of a loop turn. */
static void node_end_turn(struct sim_node *n)
{
	n->applied_mark = n->bl_len;
	node_flush(n->core);
}

/* Processes queued inputs while the node is up and its disk is free. */
static void node_run(struct sim *s, struct sim_node *n)
{
	while (n->up && !n->stopping && !n->busy && n->bl_len && !s->failed) {
		struct sim_input in = n->backlog[n->bl_head];
		n->bl_head = (n->bl_head + 1) % n->bl_cap;
		n->bl_len--;
		node_step_input(s, n, &in);
		input_free(&in);
		if (n->up && !s->failed && !s->cfg.group_turns)
			node_end_turn(n);
	}
}

static void node_input(struct sim *s, struct sim_node *n, const struct sim_input *in)
{
	if (!n->up || n->stopping) {
		struct sim_input x = *in;
		input_free(&x);
		return;
	}
	backlog_push(n, in);
	node_run(s, n);
}

static void sim_node_stop(struct sim *s, struct sim_node *n)
{
	node_free(n->core); /* a crash: nothing more is written, sent or told */
	n->core = NULL;
	n->stopping = false;
	n->flush_queued = false;
	n->up = false;
	sim_chk_topology(s);
	n->busy = false;
	backlog_clear(n);
	n->timer_gen++;
	for (int i = 1; i <= s->cfg.n_nodes; i++) {
		struct sim_node *o = &s->nodes[i];
		if (i != n->id && o->up) {
			struct sim_input in = {.type = SI_PEER_DOWN, .peer = n->id};
			node_input(s, o, &in);
		}
	}
}

void sim_crash(struct sim *s, int node)
{
	struct sim_node *n = &s->nodes[node];
	if (!n->up)
		return;
	sim_trace(s, "n%d CRASH%s", node,
		  n->busy ? " (during a synced write: the turn waiting for it is lost)" : "");
	s->stats.crashes++;
	if (node_engine(n->core)) {
		struct paxos_stats st;
		paxos_get_stats(node_engine(n->core), &st);
		s->stats.alloc_bytes += st.alloc_bytes;
	}
	sim_node_stop(s, n);
}

/* After a stop for a failed sync: the process is gone, and nobody knows what
 * of the page cache reached the disk; the pessimistic answer, as a power cut
 * that keeps no unsynced write (those the failed sync had were dropped). */
static void fatal_stop(struct sim *s, void *arg, uint64_t node, uint64_t b)
{
	struct sim_node *n = &s->nodes[node];
	(void)arg;
	(void)b;
	if (!n->up || !n->stopping)
		return;
	n->stopping = false;
	sim_node_stop(s, n);
	wal_clear(n);
	if (sim_store_copy(&n->store, &n->durable))
		abort();
	fs_copy(&n->fs, &n->durable_fs);
	n->meta_amnesia = n->durable_amnesia;
}

void sim_disk_fault(struct sim *s, int node, bool sync)
{
	struct sim_node *n = &s->nodes[node];
	if (!n->up)
		return;
	sim_trace(s, "n%d DISK FAULT armed: the next %s fails", node, sync ? "sync" : "write");
	if (sync)
		n->fail_sync = true;
	else
		n->fail_write = true;
}

void sim_disk_heal(struct sim *s)
{
	for (int i = 1; i <= s->cfg.n_nodes; i++)
		s->nodes[i].fail_write = s->nodes[i].fail_sync = false;
}

void sim_power_cut(struct sim *s, int node, int keep)
{
	struct sim_node *n = &s->nodes[node];
	sim_crash(s, node);
	/* The store loses a suffix of what was written since the last sync:
	 * never a later write without every earlier one. */
	size_t k = keep < 0 ? (size_t)util_prng_below(&s->prng, n->n_wal + 1)
			    : ((size_t)keep < n->n_wal ? (size_t)keep : n->n_wal);
	sim_trace(s, "n%d POWER CUT: %zu of %zu unsynced writes lost", node, n->n_wal - k,
		  n->n_wal);
	s->stats.power_cuts++;
	for (size_t i = 0; i < k; i++)
		wal_apply(n, &n->wal[i]);
	for (size_t i = k; i < n->n_wal; i++)
		wal_drop(&n->wal[i]);
	n->n_wal = 0;
	if (sim_store_copy(&n->store, &n->durable))
		abort();
	fs_copy(&n->fs, &n->durable_fs);
	n->meta_amnesia = n->durable_amnesia;
}

void sim_wipe(struct sim *s, int node)
{
	struct sim_node *n = &s->nodes[node];
	sim_crash(s, node);
	sim_trace(s, "n%d WIPE: store and state lost", node);
	s->stats.wipes++;
	n->disk_gen++;
	sim_store_close(&n->store);
	sim_store_close(&n->durable);
	fs_clear(&n->fs);
	fs_clear(&n->durable_fs);
	wal_clear(n);
	n->meta_amnesia = n->durable_amnesia = true;
	n->fragile = true;
	n->id_base = 0; /* lost with the node record */
}

/* After a start, the core caught up from the log (node/apply.c, the
 * daemon's own code): every chosen entry must have been there. Then tell the
 * engine where every entity's state stands (a snapshot the engine did not
 * get to persist shows up here as ahead of it). */
static void replay_log(struct sim *s, struct sim_node *n)
{
	if (node_deferred(n->core))
		sim_fail(s, "n%d restart: %zu entities have chosen entries not in the log", n->id,
			 node_deferred(n->core));
	for (size_t i = 0; i < n->fs.n; i++) {
		struct sim_fs_ent *f = &n->fs.ents[i];
		if (!f->applied)
			continue;
		struct sim_input in = {
		    .type = SI_APPLIED, .entity = f->id, .entry = f->applied, .crc = f->crc};
		backlog_push(n, &in);
	}
}

/* Starts the node's engine from its store (node_start: a new boot count,
 * then the engine, then the catch-up from the log). A new process (`process`)
 * also has new connections: its peers hear PEER_UP and drop what its earlier
 * process sent. */
static void engine_start(struct sim *s, struct sim_node *n, bool process)
{
	char err[128];
	if (process) {
		struct node_config c = {0};
		uint32_t ids[SIM_MAX_NODES];
		for (int i = 0; i < s->cfg.n_nodes; i++)
			ids[i] = (uint32_t)(i + 1);
		c.self = (uint32_t)n->id;
		c.nodes = ids;
		c.n_nodes = (size_t)s->cfg.n_nodes;
		c.engine = s->cfg.engine;
		c.storage = &sim_store_ops;
		c.storage_ctx = &n->store;
		c.io = &sim_io;
		c.io_ctx = n;
		c.fsm = &sim_fsm;
		c.fsm_ctx = n;
		if (node_new(&c, &n->core)) {
			sim_fail(s, "n%d node_new failed", n->id);
			return;
		}
		n->link_inc++;
		memset(n->known_inc, 0, sizeof(n->known_inc));
	}
	n->up = true;
	n->new_process = process;
	int rc = node_start(n->core, err, sizeof(err));
	n->new_process = false;
	if (rc) {
		sim_fail(s, "n%d node_start: %s", n->id, err);
		return;
	}
	if (process) {
		for (int i = 1; i <= s->cfg.n_nodes; i++) {
			struct sim_node *o = &s->nodes[i];
			if (i == n->id || !o->up || !reachable(s, n->id, i) ||
			    !reachable(s, i, n->id))
				continue;
			struct sim_input up = {.type = SI_PEER_UP, .peer = n->id};
			node_input(s, o, &up);
		}
	}
	node_end_turn(n);
	node_run(s, n);
}

void sim_wall_step(struct sim *s, int node, int64_t ms)
{
	s->nodes[node].wall_offset += ms;
}

void sim_restart(struct sim *s, int node)
{
	struct sim_node *n = &s->nodes[node];
	if (n->up)
		return;
	engine_start(s, n, true);
}

/* The production path after a failed store write: node_reset drops the
 * engine and its turns and arms the timer; node_tick (the next SI_TICK)
 * builds the new engine, which hears PEER_UP for every connected peer. */
void sim_engine_reset(struct sim *s, int node)
{
	struct sim_node *n = &s->nodes[node];
	if (!n->up)
		return;
	sim_trace(s, "n%d ENGINE RESET (a store write failed)%s", node,
		  n->busy ? ": the turn being synced is lost" : "");
	s->stats.engine_resets++;
	n->busy = false;
	n->flush_queued = false;
	backlog_clear(n);
	node_reset(n->core, -ENOSPC);
}

/* ---- snapshots ------------------------------------------------------------ */

/* The fs of `n` asks `from`'s fs for the entity's state (a file copy). */
static void snapshot_transfer(struct sim *s, struct sim_node *n, uint64_t entity, int from,
			      uint64_t entry)
{
	struct sim_node *src = &s->nodes[from];
	struct sim_fs_ent *sf = src->up ? sim_fs_ent(&src->fs, entity, false) : NULL;
	struct sim_input in = {.entity = entity};
	if (!sf || !reachable(s, from, n->id) || !reachable(s, n->id, from) ||
	    sf->applied < entry) {
		sim_trace(s, "n%d snapshot E%llu from n%d failed", n->id,
			  (unsigned long long)entity, from);
		in.type = SI_SNAP_FAIL;
		node_input(s, n, &in);
		return;
	}
	struct sim_fs_ent *df = sim_fs_ent(&n->fs, entity, true);
	if (sf->applied > df->applied) {
		if (s->cfg.fs_log) {
			if (df->cap < sf->applied) {
				df->cap = sf->applied;
				df->log = realloc(df->log, df->cap * sizeof(*df->log));
				if (!df->log)
					abort();
			}
			memcpy(df->log, sf->log, sf->applied * sizeof(*df->log));
		}
		df->applied = sf->applied;
		df->crc = sf->crc;
		wal_fs(s, n, entity, 0); /* installed without sync, as fs/ does */
	}
	s->stats.snapshots++;
	sim_trace(s, "n%d snapshot E%llu from n%d installed through %llu", n->id,
		  (unsigned long long)entity, from, (unsigned long long)df->applied);
	in.type = SI_SNAP_OK;
	in.entry = df->applied;
	in.crc = df->crc;
	node_input(s, n, &in);
}

/* ---- public actions --------------------------------------------------------- */

int sim_create(struct sim *s, int node, uint64_t entity)
{
	uint8_t body[12];
	uint64_t id;
	memcpy(body, SIM_BORN_TAG, 4);
	for (int i = 0; i < 8; i++)
		body[4 + i] = (uint8_t)(entity >> (8 * i));
	return sim_submit(s, node, PAXOS_NAMESPACE_ENTITY, body, sizeof(body), &id);
}

int sim_submit(struct sim *s, int node, uint64_t entity, const void *body, size_t len,
	       uint64_t *cmd_id)
{
	struct sim_node *n = &s->nodes[node];
	*cmd_id = 0;
	if (!n->up)
		return -EHOSTDOWN;
	struct sim_input in = {.type = SI_SUBMIT, .entity = entity, .len = len};
	in.body = malloc(len ? len : 1);
	if (!in.body)
		abort();
	memcpy(in.body, body, len);
	n->submit_id = 0;
	n->submit_rc = 0;
	bool queued = n->busy || n->bl_len;
	node_input(s, n, &in);
	/* A busy node takes the command later: its id is reported then. */
	if (!queued)
		*cmd_id = n->submit_id;
	return queued ? 0 : n->submit_rc;
}

int sim_barrier(struct sim *s, int node, uint64_t entity, uint64_t req_id)
{
	struct sim_node *n = &s->nodes[node];
	if (!n->up)
		return -EHOSTDOWN;
	struct sim_input in = {.type = SI_BARRIER, .entity = entity, .req_id = req_id};
	node_input(s, n, &in);
	return 0;
}

static void peers_changed(struct sim *s, int a, int b, bool up)
{
	struct sim_input in = {.type = up ? SI_PEER_UP : SI_PEER_DOWN};
	if (s->nodes[a].up) {
		in.peer = b;
		node_input(s, &s->nodes[a], &in);
	}
	if (s->nodes[b].up) {
		in.peer = a;
		node_input(s, &s->nodes[b], &in);
	}
}

void sim_block(struct sim *s, int a, int b, bool blocked)
{
	if (s->blocked[a][b] == blocked && s->blocked[b][a] == blocked)
		return;
	s->blocked[a][b] = s->blocked[b][a] = blocked;
	sim_chk_topology(s);
	sim_trace(s, "net n%d %s n%d", a, blocked ? "-/-" : "<->", b);
	peers_changed(s, a, b, !blocked);
}

void sim_heal(struct sim *s)
{
	for (int a = 1; a <= s->cfg.n_nodes; a++)
		for (int b = a + 1; b <= s->cfg.n_nodes; b++)
			sim_block(s, a, b, false);
}

void sim_set_net(struct sim *s, uint32_t delay_min, uint32_t delay_max, uint32_t loss_pct,
		 uint32_t dup_pct)
{
	s->cfg.delay_min_ms = delay_min;
	s->cfg.delay_max_ms = delay_max < delay_min ? delay_min : delay_max;
	s->cfg.loss_pct = loss_pct;
	s->cfg.dup_pct = dup_pct;
}

void sim_set_link_delay(struct sim *s, int from, int to, uint32_t ms)
{
	s->link_delay[from][to] = ms;
}

void sim_set_disk(struct sim *s, int node, uint32_t ms)
{
	s->nodes[node].disk_ms = ms;
}

/* ---- running ------------------------------------------------------------- */

static void handle(struct sim *s, struct sim_ev *ev)
{
	struct sim_node *n = ev->node ? &s->nodes[ev->node] : NULL;
	switch (ev->kind) {
	case SE_DELIVER:
		net_deliver(s, ev->ptr);
		break;
	case SE_TIMER:
		if (n->up && n->inc == ev->inc && n->timer_gen == ev->a) {
			struct sim_input in = {.type = SI_TICK};
			node_input(s, n, &in);
		}
		break;
	case SE_DISK:
		if (n->up && n->inc == ev->inc && n->busy) {
			/* synced: durable now, and so is every write before it */
			wal_flush(n);
			n->busy = false;
			n->applied_mark = n->bl_len;
			node_sync_done(n->core, 0);
			node_run(s, n);
		}
		break;
	case SE_ACTION:
		ev->fn(s, ev->ptr, ev->a, ev->b);
		break;
	case SE_SNAPSHOT:
		if (n->up && n->inc == ev->inc)
			snapshot_transfer(s, n, ev->a, (int)ev->b, ev->c);
		break;
	case SE_FLUSH:
		/* a no-op when nothing was stepped (a reset dropped the turn) */
		if (n->up) {
			n->flush_queued = false;
			node_end_turn(n);
			node_run(s, n);
		}
		break;
	}
}

int sim_run_until(struct sim *s, uint64_t t)
{
	while (!s->failed && s->heap_len && s->heap[0].t <= t) {
		struct sim_ev ev = ev_pop(s);
		s->now = ev.t;
		handle(s, &ev);
		if (s->cfg.liveness_ms && s->now >= s->chk.live_next) {
			sim_chk_liveness(s);
			s->chk.live_next = s->now + 10;
		}
	}
	if (!s->failed && s->now < t)
		s->now = t;
	sim_chk_liveness(s);
	return s->failed ? -1 : 0;
}

/* Whether the cluster has converged; if not, why (into why[]). */
static bool converged(struct sim *s, char *why, size_t len)
{
	for (int i = 1; i <= s->cfg.n_nodes; i++) {
		struct sim_node *n = &s->nodes[i];
		if (!n->up || n->meta_amnesia || n->busy || !node_engine(n->core)) {
			snprintf(why, len, "n%d is %s", i,
				 !n->up                  ? "down"
				 : n->meta_amnesia       ? "still amnesic"
				 : !node_engine(n->core) ? "restarting its engine"
							 : "busy");
			return false;
		}
		struct paxos_stats st;
		paxos_get_stats(node_engine(n->core), &st);
		if (st.commands_waiting) {
			snprintf(why, len, "n%d has %zu commands waiting", i, st.commands_waiting);
			return false;
		}
		for (size_t k = 0; k < sim_chk_entity_count(s); k++) {
			uint64_t id = sim_chk_entity_id(s, k);
			struct sim_fs_ent *f = sim_fs_ent(&n->fs, id, false);
			if ((f ? f->applied : 0) != sim_chk_contiguous(s, id)) {
				snprintf(why, len, "n%d holds E%llu through %llu of %llu", i,
					 (unsigned long long)id,
					 (unsigned long long)(f ? f->applied : 0),
					 (unsigned long long)sim_chk_contiguous(s, id));
				return false;
			}
		}
	}
	if (!sim_chk_commands_resolved(s)) {
		snprintf(why, len, "a command is unresolved");
		return false;
	}
	return true;
}

int sim_run_until_converged(struct sim *s, uint64_t limit)
{
	char why[160];
	while (!s->failed && s->now < limit) {
		if (converged(s, why, sizeof(why)))
			return 0;
		sim_run_until(s, s->now + 50 < limit ? s->now + 50 : limit);
	}
	if (s->failed)
		return -1;
	if (converged(s, why, sizeof(why)))
		return 0;
	sim_fail(s, "no convergence by %llu ms: %s", (unsigned long long)limit, why);
	return -1;
}

int sim_final_check(struct sim *s)
{
	if (!s->failed && s->cfg.check)
		sim_chk_final(s);
	return s->failed ? -1 : 0;
}

/* ---- setup ----------------------------------------------------------------- */

void sim_config_default(struct sim_config *c, uint64_t seed, int n_nodes)
{
	memset(c, 0, sizeof(*c));
	c->seed = seed;
	c->n_nodes = n_nodes;
	c->engine.retry_ms = 50;
	c->engine.backoff_min_ms = 2;
	c->engine.backoff_max_ms = 30;
	c->engine.proposal_timeout_ms = 3000;
	c->engine.barrier_timeout_ms = 3000;
	c->engine.idle_evict_ms = 500;
	c->engine.value_max_bytes = 4096;
	c->engine.fetch_max_entries = 8;
	c->engine.fetch_max_bytes = 8192;
	c->engine.catchup_concurrency = 2;
	c->engine.scan_page = 2;
	c->engine.scan_interval_ms = 3000;
	c->engine.retention = 6;
	c->delay_min_ms = 1;
	c->delay_max_ms = 5;
	c->check = true;
	c->fs_log = true;
	c->trace_ring = 300;
}

int sim_new(const struct sim_config *c, struct sim **out)
{
	*out = NULL;
	if (c->n_nodes < 1 || c->n_nodes > SIM_MAX_NODES)
		return -EINVAL;
	struct sim *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *c;
	util_prng_seed(&s->prng, c->seed);
	if (c->trace_ring) {
		s->ring = calloc(c->trace_ring, sizeof(*s->ring));
		if (!s->ring) {
			free(s);
			return -ENOMEM;
		}
	}
	sim_chk_init(&s->chk);
	for (int i = 1; i <= c->n_nodes; i++) {
		struct sim_node *n = &s->nodes[i];
		n->id = i;
		n->sim = s;
		n->meta_amnesia = true; /* a new cluster: every node starts amnesic */
		n->durable_amnesia = true;
		n->disk_ms = c->disk_ms;
		sim_store_init(&n->store);
		sim_store_init(&n->durable);
	}
	for (int i = 1; i <= c->n_nodes; i++)
		engine_start(s, &s->nodes[i], true);
	*out = s;
	return 0;
}

void sim_free(struct sim *s)
{
	if (!s)
		return;
	for (int i = 1; i <= s->cfg.n_nodes; i++) {
		struct sim_node *n = &s->nodes[i];
		node_free(n->core);
		backlog_clear(n);
		free(n->backlog);
		sim_store_close(&n->store);
		sim_store_close(&n->durable);
		fs_clear(&n->fs);
		fs_clear(&n->durable_fs);
		wal_clear(n);
		free(n->wal);
		free(n->held_sends);
	}
	while (s->heap_len) {
		struct sim_ev ev = ev_pop(s);
		if (ev.kind == SE_DELIVER)
			pkt_unref(ev.ptr);
	}
	free(s->heap);
	for (size_t i = 0; i < s->cfg.trace_ring; i++)
		free(s->ring[i]);
	free(s->ring);
	sim_chk_free(&s->chk);
	free(s);
}

/* ---- observation ------------------------------------------------------------ */

uint64_t sim_session(const struct sim *s, int node)
{
	return (uint64_t)node << 56 | s->nodes[node].id_base;
}

uint64_t sim_now(const struct sim *s)
{
	return s->now;
}

bool sim_up(const struct sim *s, int node)
{
	return s->nodes[node].up;
}

bool sim_amnesic(const struct sim *s, int node)
{
	return s->nodes[node].meta_amnesia;
}

bool sim_fragile(struct sim *s, int node)
{
	struct sim_node *n = &s->nodes[node];
	/* Fenced above its chosen entry: it cannot vote on that open entry,
	 * so for that entity it counts as a lost node. */
	for (size_t i = 0; i < n->store.n; i++) {
		const struct sim_ent *e = n->store.ents[i];
		if (e->has_meta && e->meta.vote_after > e->meta.chosen_entry)
			return true;
	}
	if (!n->fragile || !n->up || n->meta_amnesia)
		return n->fragile;
	/* A wiped node stays fragile until it holds every chosen entry again:
	 * until then it is no copy of anything. */
	for (size_t k = 0; k < sim_chk_entity_count(s); k++) {
		uint64_t id = sim_chk_entity_id(s, k);
		struct sim_fs_ent *f = sim_fs_ent(&n->fs, id, false);
		if ((f ? f->applied : 0) < sim_chk_contiguous(s, id))
			return true;
	}
	n->fragile = false;
	return false;
}

uint64_t sim_applied(const struct sim *s, int node, uint64_t entity)
{
	struct sim_fs_ent *f = sim_fs_ent((struct sim_fs *)&s->nodes[node].fs, entity, false);
	return f ? f->applied : 0;
}

struct paxos *sim_engine(struct sim *s, int node)
{
	return s->nodes[node].core ? node_engine(s->nodes[node].core) : NULL;
}

void sim_get_stats(const struct sim *s, struct sim_stats *out)
{
	*out = s->stats;
	for (int i = 1; i <= s->cfg.n_nodes; i++) {
		struct paxos *px = sim_engine((struct sim *)s, i);
		if (!px)
			continue;
		struct paxos_stats st;
		paxos_get_stats(px, &st);
		out->alloc_bytes += st.alloc_bytes;
	}
	for (size_t i = 0; i < s->chk.n_ents; i++)
		out->entries_chosen += s->chk.ents[i].contiguous;
	out->cmds_chosen = 0;
	for (size_t i = 0; i < s->chk.n_cmds; i++)
		if (s->chk.cmds[i].state == CMD_CHOSEN)
			out->cmds_chosen++;
}
