/* tests/sim/check.c — the simulator's checker (see sim.h for the list).
 *
 * "Chosen" here is the omniscient definition, not any node's opinion: a value
 * is chosen at (entity, entry) once a majority of nodes have PERSISTED an
 * acceptance of it at the same ballot. The tally is fed by every record any
 * node persists, so it sees acceptances that no message ever reported, and it
 * never forgets (a wiped disk does not un-choose anything). Every claim a node
 * makes — a chosen record, a CHOSEN message, a delivered value, a completed
 * barrier — is compared with it.
 *
 * Forwarding: the checker follows every command from process to process —
 * its origin at submit, a holder process with each FORWARD sent, back to the
 * origin with a FWD_NACK — and fails a run where a process puts a command it
 * does not hold into a value it builds, forwards one it does not hold, refuses
 * one it already put into a value, or says -ETIMEDOUT ("never left") about
 * one a holder may have. With "chosen at most once", that is exactly once.
 * A FORWARD's bound (msg.entry) gives its commands back to their origin once
 * every entry up to it is chosen (a holder never puts them higher); a holder
 * putting one into a value for a higher entry is a violation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "paxos/codec.h"
#include "tests/sim/simint.h"
#include "util/crc32c.h"

void sim_chk_init(struct sim_check *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i <= SIM_MAX_NODES; i++)
		c->live_since[i] = UINT64_MAX;
}

void sim_chk_free(struct sim_check *c)
{
	for (size_t i = 0; i < c->n_ents; i++) {
		for (size_t k = 0; k < c->ents[i].n; k++)
			free(c->ents[i].entries[k].votes);
		free(c->ents[i].entries);
	}
	free(c->ents);
	free(c->cmds);
	for (size_t i = 0; i < c->n_fwds; i++)
		free(c->fwds[i].cmds);
	free(c->fwds);
	sim_map_free(&c->values);
	sim_map_free(&c->cmd_idx);
	sim_map_free(&c->barriers);
	sim_map_free(&c->fwd_idx);
	sim_map_free(&c->built);
	sim_map_free(&c->born);
	free(c->bars);
	memset(c, 0, sizeof(*c));
}

static struct sim_chk_ent *ent(struct sim_check *c, uint64_t id, bool create)
{
	for (size_t i = 0; i < c->n_ents; i++)
		if (c->ents[i].id == id)
			return &c->ents[i];
	if (!create)
		return NULL;
	if (c->n_ents == c->cap_ents) {
		c->cap_ents = c->cap_ents ? c->cap_ents * 2 : 8;
		c->ents = realloc(c->ents, c->cap_ents * sizeof(*c->ents));
		if (!c->ents)
			abort();
	}
	struct sim_chk_ent *e = &c->ents[c->n_ents++];
	memset(e, 0, sizeof(*e));
	e->id = id;
	return e;
}

static struct sim_chk_entry *entry_at(struct sim_chk_ent *e, uint64_t entry)
{
	if (entry > e->n) {
		size_t nn = e->n ? e->n : 16;
		while (nn < entry)
			nn *= 2;
		e->entries = realloc(e->entries, nn * sizeof(*e->entries));
		if (!e->entries)
			abort();
		memset(e->entries + e->n, 0, (nn - e->n) * sizeof(*e->entries));
		e->n = nn;
	}
	return &e->entries[entry - 1];
}

size_t sim_chk_entity_count(const struct sim *s)
{
	return s->chk.n_ents;
}

uint64_t sim_chk_entity_id(const struct sim *s, size_t i)
{
	return s->chk.ents[i].id;
}

uint64_t sim_chk_contiguous(const struct sim *s, uint64_t entity)
{
	struct sim_chk_ent *e = ent((struct sim_check *)&s->chk, entity, false);
	return e ? e->contiguous : 0;
}

/* The bytes of a value id never change. */
static void check_value(struct sim *s, uint64_t id, const uint8_t *v, size_t len, const char *where)
{
	if (!id)
		return;
	uint64_t sig = (uint64_t)util_crc32c(0, v, len) << 32 | (uint32_t)len;
	uint64_t *x = sim_map_get(&s->chk.values, id);
	if (!x) {
		*sim_map_put(&s->chk.values, id) = sig;
	} else if (*x != sig) {
		sim_fail(s, "%s: value %s has different bytes than before", where, sim_fmt_id(id));
	}
}

/* A vote still held on a disk (not lost with a wipe). */
static bool vote_alive(const struct sim *s, const struct sim_chk_vote *v)
{
	for (int i = 1; i <= s->cfg.n_nodes; i++)
		if ((v->mask >> i & 1) && v->gen[i] == (uint8_t)s->nodes[i].disk_gen)
			return true;
	return false;
}

static void vote(struct sim *s, int node, uint64_t entity, uint64_t entry, uint64_t ballot,
		 uint64_t value_id)
{
	struct sim_chk_ent *e = ent(&s->chk, entity, true);
	struct sim_chk_entry *x = entry_at(e, entry);
	struct sim_chk_vote *v = NULL;
	for (size_t i = 0; i < x->nv; i++) {
		struct sim_chk_vote *o = &x->votes[i];
		if (o->ballot != ballot)
			continue;
		if (o->value_id == value_id) {
			v = o;
			continue;
		}
		/* A ballot carries one value. The one exception the amnesia
		 * guard allows: a value whose every vote was lost with wiped
		 * disks is dead (it can never gather more votes), and its
		 * ballot may be used again by the wiped node. */
		if (vote_alive(s, o)) {
			sim_fail(s, "two values at one ballot: E%llu.%llu b=%s has %s and %s (n%d)",
				 (unsigned long long)entity, (unsigned long long)entry,
				 sim_fmt_ballot(ballot), sim_fmt_id(o->value_id),
				 sim_fmt_id(value_id), node);
			return;
		}
	}
	if (!v) {
		if (x->nv == x->capv) {
			x->capv = x->capv ? x->capv * 2 : 4;
			x->votes = realloc(x->votes, x->capv * sizeof(*x->votes));
			if (!x->votes)
				abort();
		}
		v = &x->votes[x->nv++];
		memset(v, 0, sizeof(*v));
		v->ballot = ballot;
		v->value_id = value_id;
	}
	v->mask |= 1ull << node;
	v->gen[node] = (uint8_t)s->nodes[node].disk_gen;
	/* Chosen is historical: a majority that once held the vote chose it,
	 * whatever was wiped since. */
	if ((int)__builtin_popcountll(v->mask) * 2 <= s->cfg.n_nodes)
		return;
	if (x->chosen_id && x->chosen_id != value_id) {
		sim_fail(s, "SAFETY: E%llu.%llu chosen twice: %s, then %s at b=%s",
			 (unsigned long long)entity, (unsigned long long)entry,
			 sim_fmt_id(x->chosen_id), sim_fmt_id(value_id), sim_fmt_ballot(ballot));
		return;
	}
	if (!x->chosen_id) {
		x->chosen_id = value_id;
		while (e->contiguous < e->n && e->entries[e->contiguous].chosen_id)
			e->contiguous++;
	}
}

static uint64_t chosen_id(struct sim *s, uint64_t entity, uint64_t entry)
{
	struct sim_chk_ent *e = ent(&s->chk, entity, false);
	return (e && entry <= e->n) ? e->entries[entry - 1].chosen_id : 0;
}

void sim_chk_persist(struct sim *s, int node, const struct paxos_update *u)
{
	struct sim_store *st = &s->nodes[node].store;
	for (size_t i = 0; i < u->n_records && !s->failed; i++) {
		const struct paxos_out_record *r = &u->records[i];
		const struct paxos_record *nr = &r->rec;
		unsigned long long E = r->entity, e = r->entry;
		struct sim_ent *se = sim_store_ent(st, r->entity);
		if (se && se->has_meta && r->entry <= se->meta.trimmed_entry) {
			sim_fail(s, "n%d persists E%llu.%llu below its trim point %llu", node, E, e,
				 (unsigned long long)se->meta.trimmed_entry);
			return;
		}
		if (nr->accepted > nr->promised) {
			sim_fail(s, "n%d persists E%llu.%llu accepted %s above promised %s", node,
				 E, e, sim_fmt_ballot(nr->accepted), sim_fmt_ballot(nr->promised));
			return;
		}
		struct sim_rec *old = sim_store_rec(st, r->entity, r->entry);
		if (old) {
			if (nr->promised < old->r.promised || nr->accepted < old->r.accepted) {
				sim_fail(s,
					 "n%d E%llu.%llu went backwards: promised %s->%s accepted "
					 "%s->%s",
					 node, E, e, sim_fmt_ballot(old->r.promised),
					 sim_fmt_ballot(nr->promised),
					 sim_fmt_ballot(old->r.accepted),
					 sim_fmt_ballot(nr->accepted));
				return;
			}
			if (old->r.chosen && (!nr->chosen || nr->value_id != old->r.value_id)) {
				sim_fail(s, "n%d E%llu.%llu chosen record changed", node, E, e);
				return;
			}
		}
		if (nr->accepted || nr->chosen)
			check_value(s, nr->value_id, nr->value, nr->value_len, "persist");
		if (nr->chosen) {
			uint64_t c = chosen_id(s, r->entity, r->entry);
			if (c != nr->value_id) {
				sim_fail(s, "n%d persists E%llu.%llu chosen as %s, but %s is", node,
					 E, e, sim_fmt_id(nr->value_id),
					 c ? sim_fmt_id(c) : "nothing");
				return;
			}
		}
	}
	for (size_t i = 0; i < u->n_metas && !s->failed; i++) {
		const struct paxos_out_meta *m = &u->metas[i];
		struct sim_ent *se = sim_store_ent(st, m->entity);
		if (se && se->has_meta &&
		    (m->meta.chosen_entry < se->meta.chosen_entry ||
		     m->meta.trimmed_entry < se->meta.trimmed_entry ||
		     m->meta.vote_after < se->meta.vote_after)) {
			sim_fail(s, "n%d meta of E%llu went backwards", node,
				 (unsigned long long)m->entity);
			return;
		}
		if (m->meta.chosen_entry > sim_chk_contiguous(s, m->entity)) {
			sim_fail(s, "n%d meta says E%llu chosen through %llu, but only %llu are",
				 node, (unsigned long long)m->entity,
				 (unsigned long long)m->meta.chosen_entry,
				 (unsigned long long)sim_chk_contiguous(s, m->entity));
			return;
		}
	}
}

/* A vote counts once it is durable: a write that a power cut may still
 * take back (written, its sync not done) has promised nothing to anyone. */
void sim_chk_durable(struct sim *s, int node, const struct sim_batch *b)
{
	for (size_t i = 0; i < b->n_records && !s->failed; i++) {
		const struct paxos_out_record *r = &b->records[i];
		if (!r->rec.chosen && r->rec.accepted)
			vote(s, node, r->entity, r->entry, r->rec.accepted, r->rec.value_id);
	}
}

static struct sim_chk_cmd *cmd_find(struct sim *s, uint64_t id)
{
	uint64_t *x = sim_map_get(&s->chk.cmd_idx, id);
	return x ? &s->chk.cmds[*x - 1] : NULL;
}

/* Who holds the command now: a holder gives it back to its origin once
 * every entry up to the FORWARD's bound is chosen (the origin may then put
 * it into a value again; were it chosen in one of those entries, "chosen
 * twice" would catch it). */
static uint64_t owner_now(struct sim *s, struct sim_chk_cmd *c)
{
	if (c->owner_via && c->state != CMD_CHOSEN) {
		const struct sim_chk_fwd *f = &s->chk.fwds[c->owner_via - 1];
		if (f->until && sim_chk_contiguous(s, c->entity) >= f->until) {
			c->owner = f->origin;
			c->owner_via = 0;
			c->built = false;
		}
	}
	return c->owner;
}

/* ---- forwarding: who holds each command (paxos/paxos.h, "Forwarding") ---- */

static uint64_t fwd_hash(uint64_t origin, int holder, uint64_t holder_session, uint64_t seq)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint64_t parts[4] = {origin, (uint64_t)holder, holder_session, seq};
	for (int i = 0; i < 4; i++) {
		h ^= parts[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h ? h : 1;
}

/* The FORWARD (origin, holder, holder_session, seq) as first sent, or NULL. */
static struct sim_chk_fwd *fwd_find(struct sim *s, uint64_t origin, int holder,
				    uint64_t holder_session, uint64_t seq, size_t *idx)
{
	uint64_t *x = sim_map_get(&s->chk.fwd_idx, fwd_hash(origin, holder, holder_session, seq));
	if (!x)
		return NULL;
	struct sim_chk_fwd *f = &s->chk.fwds[*x - 1];
	if (f->origin != origin || f->holder != holder || f->holder_session != holder_session ||
	    f->seq != seq) {
		sim_fail(s, "checker: FORWARD key collision");
		return NULL;
	}
	*idx = *x;
	return f;
}

struct fwd_ctx {
	struct sim *s;
	int node;
	const struct paxos_msg *m;
	struct sim_chk_fwd *first; /* a resend: the FORWARD as first sent */
	struct sim_chk_fwd *rec;   /* a new one: being recorded */
	size_t rec_idx;
};

static int fwd_cmd_cb(void *arg, uint64_t id, const uint8_t *body, size_t len)
{
	struct fwd_ctx *f = arg;
	struct sim *s = f->s;
	struct sim_chk_cmd *c = cmd_find(s, id);
	(void)body;
	(void)len;
	if (!c) {
		sim_fail(s, "n%d forwards command %s that was never submitted", f->node,
			 sim_fmt_id(id));
		return 1;
	}
	if (f->first) {
		for (size_t i = 0; i < f->first->n; i++)
			if (f->first->cmds[i] == id)
				return 0;
		sim_fail(s, "n%d resends FORWARD #%llu with command %s it did not hold first",
			 f->node, (unsigned long long)f->m->nonce, sim_fmt_id(id));
		return 1;
	}
	/* A FORWARD every entry up to whose bound is chosen already is dead
	 * when it leaves: its holder can put the commands into no value that
	 * could be chosen (late_copy), so it moves nothing. Group commit sends
	 * one so when a later step of the same turn took its commands back (the
	 * bound passed) and forwarded them anew, to a holder whose batch goes
	 * first. */
	bool dead = f->m->entry && sim_chk_contiguous(s, c->entity) >= f->m->entry;
	if (!dead && owner_now(s, c) != f->m->session) {
		sim_fail(s, "n%d forwards command %s, but %s holds it", f->node, sim_fmt_id(id),
			 sim_fmt_id(c->owner));
		return 1;
	}
	struct sim_chk_fwd *r = f->rec;
	r->cmds = realloc(r->cmds, (r->n + 1) * sizeof(*r->cmds));
	if (!r->cmds)
		abort();
	r->cmds[r->n++] = id;
	if (dead)
		return 0;
	c->owner = f->m->to_session;
	c->owner_via = f->rec_idx;
	c->built = false;
	return 0;
}

static void chk_forward(struct sim *s, int node, int to, const struct paxos_msg *m)
{
	if (m->session != sim_session(s, node)) {
		sim_fail(s, "n%d sends FORWARD as session %s, not its own", node,
			 sim_fmt_id(m->session));
		return;
	}
	struct fwd_ctx f = {s, node, m, NULL, NULL, 0};
	size_t idx;
	f.first = fwd_find(s, m->session, to, m->to_session, m->nonce, &idx);
	if (f.first && f.first->until != m->entry) {
		sim_fail(s, "n%d resends FORWARD #%llu with bound %llu, first sent with %llu", node,
			 (unsigned long long)m->nonce, (unsigned long long)m->entry,
			 (unsigned long long)f.first->until);
		return;
	}
	if (!f.first && !s->failed) {
		struct sim_check *c = &s->chk;
		if (c->n_fwds == c->cap_fwds) {
			c->cap_fwds = c->cap_fwds ? c->cap_fwds * 2 : 64;
			c->fwds = realloc(c->fwds, c->cap_fwds * sizeof(*c->fwds));
			if (!c->fwds)
				abort();
		}
		f.rec = &c->fwds[c->n_fwds++];
		memset(f.rec, 0, sizeof(*f.rec));
		f.rec->origin = m->session;
		f.rec->holder = to;
		f.rec->holder_session = m->to_session;
		f.rec->seq = m->nonce;
		f.rec->until = m->entry;
		f.rec_idx = c->n_fwds;
		*sim_map_put(&c->fwd_idx, fwd_hash(m->session, to, m->to_session, m->nonce)) =
		    c->n_fwds;
	}
	if (paxos_codec_value_foreach(m->value, m->value_len, fwd_cmd_cb, &f) < 0)
		sim_fail(s, "n%d sends a FORWARD that is not a valid Value", node);
}

/* A refusal gives the commands of that FORWARD back to their origin: the
 * holder must never have put them into a value. */
static void chk_nack(struct sim *s, int node, const struct paxos_msg *m)
{
	size_t idx;
	struct sim_chk_fwd *f = fwd_find(s, m->to_session, node, m->session, m->nonce, &idx);
	if (!f) {
		if (!s->failed)
			sim_fail(s, "n%d refuses FORWARD #%llu that was never sent to it", node,
				 (unsigned long long)m->nonce);
		return;
	}
	for (size_t i = 0; i < f->n; i++) {
		struct sim_chk_cmd *c = cmd_find(s, f->cmds[i]);
		if (c->owner_via != idx)
			continue; /* moved on since (a repeated answer) */
		if (c->built) {
			sim_fail(s, "n%d refuses command %s after putting it into a value", node,
				 sim_fmt_id(c->id));
			return;
		}
		c->owner = f->origin;
		c->owner_via = 0;
	}
}

/* A holder that lost a command (its origin took it back) may still put it
 * into a value for an entry within the bound of a FORWARD that brought it
 * there: all those entries are chosen already, so that value cannot be. */
static bool late_copy(struct sim *s, const struct sim_chk_cmd *c, uint64_t session, uint64_t entry)
{
	for (size_t i = 0; i < s->chk.n_fwds; i++) {
		const struct sim_chk_fwd *f = &s->chk.fwds[i];
		if (f->holder_session != session || !f->until || entry > f->until ||
		    f->origin != c->origin)
			continue;
		for (size_t k = 0; k < f->n; k++)
			if (f->cmds[k] == c->id)
				return sim_chk_contiguous(s, c->entity) >= entry;
	}
	return false;
}

struct build_ctx {
	struct sim *s;
	int node;
	uint64_t session;
	uint64_t entry;
};

static int build_cmd_cb(void *arg, uint64_t id, const uint8_t *body, size_t len)
{
	struct build_ctx *b = arg;
	struct sim_chk_cmd *c = cmd_find(b->s, id);
	(void)body;
	(void)len;
	if (!c) {
		sim_fail(b->s, "n%d proposes command %s that was never submitted", b->node,
			 sim_fmt_id(id));
		return 1;
	}
	if (late_copy(b->s, c, b->session, b->entry))
		return 0; /* a dead copy: its value cannot be chosen */
	if (owner_now(b->s, c) != b->session) {
		sim_fail(b->s, "n%d puts command %s into a value, but %s holds it", b->node,
			 sim_fmt_id(id), sim_fmt_id(c->owner));
		return 1;
	}
	const struct sim_chk_fwd *f = c->owner_via ? &b->s->chk.fwds[c->owner_via - 1] : NULL;
	if (f && f->until && b->entry > f->until) {
		sim_fail(b->s,
			 "n%d puts forwarded command %s into its value for entry %llu, past the "
			 "FORWARD's bound %llu",
			 b->node, sim_fmt_id(id), (unsigned long long)b->entry,
			 (unsigned long long)f->until);
		return 1;
	}
	c->built = true;
	return 0;
}

/* A value this process built, seen for the first time: every command in it
 * must be held by this process. */
static void chk_build(struct sim *s, int node, const struct paxos_msg *m)
{
	uint64_t session = sim_session(s, node);
	/* ours: the node's, above this life's base (later lives do not exist
	 * yet) */
	if (paxos_id_node(m->value_id) != (uint32_t)node ||
	    paxos_id_seq(m->value_id) <= paxos_id_seq(session) ||
	    sim_map_get(&s->chk.built, m->value_id))
		return;
	*sim_map_put(&s->chk.built, m->value_id) = 1;
	struct build_ctx b = {s, node, session, m->entry};
	paxos_codec_value_foreach(m->value, m->value_len, build_cmd_cb, &b);
}

void sim_chk_send(struct sim *s, int node, int to, const struct paxos_msg *m)
{
	if (s->failed || m->type == PAXOS_MSG_SCAN || m->type == PAXOS_MSG_SCAN_REPLY)
		return;
	if (m->type == PAXOS_MSG_FORWARD) {
		chk_forward(s, node, to, m);
		return;
	}
	if (m->type == PAXOS_MSG_FWD_NACK) {
		chk_nack(s, node, m);
		return;
	}
	/* Against what is durable: a power cut right after this send keeps
	 * exactly that. */
	struct sim_rec *r = sim_store_rec(&s->nodes[node].durable, m->entity, m->entry);
	unsigned long long E = m->entity, e = m->entry;
	const char *t = paxos_msg_type_name(m->type);
	/* A vote message held in a turn (group commit) may leave after a later
	 * step of the same turn trimmed the record behind it (a snapshot was
	 * installed): that entry is chosen, so what was promised or accepted
	 * there can no longer matter. Only then may the record be missing. */
	const struct sim_ent *de = sim_store_ent(&s->nodes[node].durable, m->entity);
	if (m->type != PAXOS_MSG_CHOSEN && m->entry && de && de->has_meta &&
	    m->entry <= de->meta.trimmed_entry && chosen_id(s, m->entity, m->entry))
		return;
	switch (m->type) {
	case PAXOS_MSG_PREPARE:
		if (!r || r->r.promised < m->ballot)
			sim_fail(s,
				 "n%d sends %s E%llu.%llu b=%s before persisting its own promise",
				 node, t, E, e, sim_fmt_ballot(m->ballot));
		break;
	case PAXOS_MSG_PROMISE:
		if (!r || r->r.promised < m->ballot || r->r.accepted < m->accepted)
			sim_fail(s,
				 "n%d sends %s E%llu.%llu b=%s not backed by its persisted record",
				 node, t, E, e, sim_fmt_ballot(m->ballot));
		break;
	case PAXOS_MSG_ACCEPTED:
		if (!r || r->r.accepted < m->ballot ||
		    (r->r.accepted == m->ballot && r->r.value_id != m->value_id))
			sim_fail(s,
				 "n%d sends %s E%llu.%llu b=%s not backed by its persisted record",
				 node, t, E, e, sim_fmt_ballot(m->ballot));
		break;
	case PAXOS_MSG_ACCEPT:
		check_value(s, m->value_id, m->value, m->value_len, "ACCEPT");
		chk_build(s, node, m);
		if (m->value_len > s->cfg.engine.value_max_bytes)
			sim_fail(s, "n%d proposes a %zu-byte value, over the %u-byte bound", node,
				 m->value_len, s->cfg.engine.value_max_bytes);
		if (paxos_ballot_round(m->ballot) == 0 &&
		    (!r || r->r.accepted < m->ballot ||
		     (r->r.accepted == m->ballot && r->r.value_id != m->value_id))) {
			/* Before its own acceptance is durable, only when the
			 * value chosen at the entry before was built by this
			 * very life, or at entry 1 when a create of this very
			 * life made the entity (proposer.c, preauthorised):
			 * then no other life ever uses a round-0 ballot at this
			 * entry. The sender's life is the one running now: its
			 * ids are above its base. */
			uint64_t *born = e == 1 ? sim_map_get(&s->chk.born, m->entity) : NULL;
			uint64_t c = e > 1 ? chosen_id(s, m->entity, e - 1) : born ? *born : 0;
			/* At entry 1 the create must also be durable in the
			 * sender's meta (PaxosMeta.born), which its next
			 * process lists (scan.c, listed_top). */
			bool born_durable = de && de->has_meta && de->meta.born &&
					    de->meta.born == s->nodes[node].id_base;
			if (!c || paxos_id_node(c) != (uint32_t)node ||
			    paxos_ballot_node(m->ballot) != (uint32_t)node ||
			    paxos_id_seq(c) <= s->nodes[node].id_base || (e == 1 && !born_durable))
				sim_fail(s,
					 "n%d sends pre-authorised ACCEPT E%llu.%llu b=%s before "
					 "persisting it, and E%llu.%llu is not chosen with a value "
					 "of that life (entry 1: no create of that life made it, "
					 "or its mark is not durable)",
					 node, E, e, sim_fmt_ballot(m->ballot), E, e - 1);
		}
		break;
	case PAXOS_MSG_CHOSEN: {
		uint64_t c = chosen_id(s, m->entity, m->entry);
		if (c != m->value_id)
			sim_fail(s, "n%d announces E%llu.%llu chosen as %s, but %s is", node, E, e,
				 sim_fmt_id(m->value_id), c ? sim_fmt_id(c) : "nothing");
		else if (m->has_value)
			check_value(s, m->value_id, m->value, m->value_len, "CHOSEN");
		break;
	}
	default:
		break;
	}
}

void sim_chk_submitted(struct sim *s, int node, uint64_t cmd_id, uint64_t entity, const void *body,
		       size_t len)
{
	struct sim_check *c = &s->chk;
	if (cmd_find(s, cmd_id)) {
		sim_fail(s, "n%d reused command id %s", node, sim_fmt_id(cmd_id));
		return;
	}
	if (c->n_cmds == c->cap_cmds) {
		c->cap_cmds = c->cap_cmds ? c->cap_cmds * 2 : 64;
		c->cmds = realloc(c->cmds, c->cap_cmds * sizeof(*c->cmds));
		if (!c->cmds)
			abort();
	}
	struct sim_chk_cmd *x = &c->cmds[c->n_cmds++];
	memset(x, 0, sizeof(*x));
	x->id = cmd_id;
	x->node = node;
	x->inc = s->nodes[node].inc;
	x->entity = entity;
	x->crc = util_crc32c(0, body, len);
	x->len = (uint32_t)len;
	x->state = CMD_PENDING;
	x->submitted_ms = s->now;
	x->owner = x->origin = sim_session(s, node);
	if (paxos_id_node(cmd_id) != (uint32_t)node ||
	    paxos_id_seq(cmd_id) <= paxos_id_seq(x->origin))
		sim_fail(s, "n%d gave command %s an id of another process", node,
			 sim_fmt_id(cmd_id));
	*sim_map_put(&c->cmd_idx, cmd_id) = c->n_cmds;
	ent(c, entity, true);
}

struct deliv_ctx {
	struct sim *s;
	int node;
	uint64_t entity, entry;
};

static int deliv_cmd_cb(void *arg, uint64_t id, const uint8_t *body, size_t len)
{
	struct deliv_ctx *d = arg;
	struct sim *s = d->s;
	struct sim_chk_cmd *c = cmd_find(s, id);
	unsigned long long E = d->entity, e = d->entry;
	if (!c) {
		sim_fail(s, "E%llu.%llu holds command %s that was never submitted", E, e,
			 sim_fmt_id(id));
		return 1;
	}
	if (c->entity != d->entity || c->len != len || c->crc != util_crc32c(0, body, len)) {
		sim_fail(s, "E%llu.%llu holds command %s with other bytes or entity than submitted",
			 E, e, sim_fmt_id(id));
		return 1;
	}
	if (c->state == CMD_CHOSEN && (c->ch_entity != d->entity || c->ch_entry != d->entry)) {
		sim_fail(s, "command %s chosen twice: E%llu.%llu and E%llu.%llu", sim_fmt_id(id),
			 (unsigned long long)c->ch_entity, (unsigned long long)c->ch_entry, E, e);
		return 1;
	}
	if (c->state == CMD_FAILED_NEVER) {
		sim_fail(s, "command %s failed with -ETIMEDOUT, then chosen at E%llu.%llu",
			 sim_fmt_id(id), E, e);
		return 1;
	}
	c->state = CMD_CHOSEN;
	c->ch_entity = d->entity;
	c->ch_entry = d->entry;
	if (c->node == d->node && c->inc == s->nodes[d->node].inc)
		c->answered = true; /* the origin replies once it has applied it */
	return 0;
}

/* A create (SIM_BORN_TAG) in a namespace value: the first one chosen for
 * an entity is the one that made it. */
static int born_cb(void *arg, uint64_t id, const uint8_t *body, size_t len)
{
	struct sim *s = arg;
	uint64_t entity = 0;
	if (len != 12 || memcmp(body, SIM_BORN_TAG, 4))
		return 0;
	for (int i = 0; i < 8; i++)
		entity |= (uint64_t)body[4 + i] << (8 * i);
	if (!sim_map_get(&s->chk.born, entity))
		*sim_map_put(&s->chk.born, entity) = id;
	return 0;
}

void sim_chk_delivered(struct sim *s, int node, uint64_t entity, uint64_t entry, uint64_t value_id,
		       const uint8_t *value, size_t len)
{
	uint64_t c = chosen_id(s, entity, entry);
	if (c != value_id) {
		sim_fail(s, "n%d delivered E%llu.%llu = %s, but %s is chosen", node,
			 (unsigned long long)entity, (unsigned long long)entry,
			 sim_fmt_id(value_id), c ? sim_fmt_id(c) : "nothing");
		return;
	}
	check_value(s, value_id, value, len, "delivery");
	if (entity == PAXOS_NAMESPACE_ENTITY)
		paxos_codec_value_foreach(value, len, born_cb, s);
	struct deliv_ctx d = {s, node, entity, entry};
	int rc = paxos_codec_value_foreach(value, len, deliv_cmd_cb, &d);
	if (rc < 0)
		sim_fail(s, "n%d delivered E%llu.%llu: not a valid Value", node,
			 (unsigned long long)entity, (unsigned long long)entry);
}

void sim_chk_failed(struct sim *s, int node, const struct paxos_failed *f)
{
	struct sim_chk_cmd *c = cmd_find(s, f->cmd_id);
	if (!c) {
		sim_fail(s, "n%d failed unknown command %s", node, sim_fmt_id(f->cmd_id));
		return;
	}
	if (c->node != node || c->inc != s->nodes[node].inc) {
		sim_fail(s, "n%d failed command %s of n%d (another process)", node,
			 sim_fmt_id(f->cmd_id), c->node);
		return;
	}
	c->answered = true;
	if (f->error == -ETIMEDOUT) {
		if (owner_now(s, c) != sim_session(s, node))
			sim_fail(
			    s,
			    "n%d failed command %s with -ETIMEDOUT (never left), but %s holds it",
			    node, sim_fmt_id(f->cmd_id), sim_fmt_id(c->owner));
		if (c->state == CMD_CHOSEN)
			sim_fail(s, "n%d failed command %s with -ETIMEDOUT, but it is chosen", node,
				 sim_fmt_id(f->cmd_id));
		c->state = CMD_FAILED_NEVER;
	} else if (c->state != CMD_CHOSEN) {
		c->state = CMD_FAILED_UNKNOWN;
	}
}

void sim_chk_barrier_start(struct sim *s, int node, uint64_t entity, uint64_t req_id)
{
	struct sim_check *c = &s->chk;
	if (c->n_bars == c->cap_bars) {
		c->cap_bars = c->cap_bars ? c->cap_bars * 2 : 16;
		c->bars = realloc(c->bars, c->cap_bars * sizeof(*c->bars));
		if (!c->bars)
			abort();
	}
	c->bars[c->n_bars++] =
	    (struct sim_chk_bar){node, s->nodes[node].inc, req_id, entity, s->now};
	ent(&s->chk, entity, true);
	*sim_map_put(&s->chk.barriers, (uint64_t)node << 48 | req_id) =
	    sim_chk_contiguous(s, entity) + 1;
}

void sim_chk_barrier_done(struct sim *s, int node, const struct paxos_barrier_done *b)
{
	for (size_t i = 0; i < s->chk.n_bars; i++) {
		if (s->chk.bars[i].node == node && s->chk.bars[i].req_id == b->req_id) {
			s->chk.bars[i] = s->chk.bars[--s->chk.n_bars];
			break;
		}
	}
	uint64_t *x = sim_map_get(&s->chk.barriers, (uint64_t)node << 48 | b->req_id);
	if (!x) {
		sim_fail(s, "n%d completed unknown barrier %llu", node,
			 (unsigned long long)b->req_id);
		return;
	}
	if (b->result == 0 && b->entry + 1 < *x)
		sim_fail(s,
			 "n%d barrier %llu on E%llu done through %llu, but %llu was chosen before "
			 "it began",
			 node, (unsigned long long)b->req_id, (unsigned long long)b->entity,
			 (unsigned long long)b->entry, (unsigned long long)(*x - 1));
	if (b->result == 0 && b->entry > sim_chk_contiguous(s, b->entity))
		sim_fail(s, "n%d barrier %llu claims E%llu chosen through %llu", node,
			 (unsigned long long)b->req_id, (unsigned long long)b->entity,
			 (unsigned long long)b->entry);
}

static bool cmd_live(const struct sim *s, const struct sim_chk_cmd *c)
{
	const struct sim_node *n = &s->nodes[c->node];
	return n->up && n->inc == c->inc;
}

/* ---- liveness (sim.h) --------------------------------------------------------- */

static bool linked(const struct sim *s, int a, int b)
{
	return !s->blocked[a][b] && !s->blocked[b][a] && !s->reconnecting[a][b] &&
	       !s->reconnecting[b][a];
}

/* Node x is up with a majority of nodes, x among them, all up and pairwise
 * connected. */
static bool with_majority(const struct sim *s, int x)
{
	int n = s->cfg.n_nodes;
	if (!s->nodes[x].up)
		return false;
	for (unsigned set = 0; set < 1u << n; set++) {
		if (!(set >> (x - 1) & 1) || __builtin_popcount(set) < n / 2 + 1)
			continue;
		bool ok = true;
		for (int a = 1; a <= n && ok; a++) {
			if (!(set >> (a - 1) & 1))
				continue;
			ok = s->nodes[a].up;
			for (int b = a + 1; b <= n && ok; b++)
				if (set >> (b - 1) & 1)
					ok = linked(s, a, b);
		}
		if (ok)
			return true;
	}
	return false;
}

void sim_chk_topology(struct sim *s)
{
	for (int i = 1; i <= s->cfg.n_nodes; i++) {
		if (!with_majority(s, i))
			s->chk.live_since[i] = UINT64_MAX;
		else if (s->chk.live_since[i] == UINT64_MAX)
			s->chk.live_since[i] = s->now;
	}
}

/* Whether `started` (at `node`) is overdue: the node has had a majority with
 * it for the whole bound since the later of `started` and when that began. */
static bool overdue(const struct sim *s, int node, uint64_t started)
{
	uint64_t since = s->chk.live_since[node];
	if (since == UINT64_MAX)
		return false;
	return s->now >= (started > since ? started : since) + s->cfg.liveness_ms;
}

void sim_chk_liveness(struct sim *s)
{
	struct sim_check *c = &s->chk;
	if (!s->cfg.liveness_ms || s->failed)
		return;
	while (c->live_lo < c->n_cmds &&
	       (c->cmds[c->live_lo].answered || !cmd_live(s, &c->cmds[c->live_lo])))
		c->live_lo++;
	for (size_t i = c->live_lo; i < c->n_cmds; i++) {
		const struct sim_chk_cmd *x = &c->cmds[i];
		if (x->answered || !cmd_live(s, x) || !overdue(s, x->node, x->submitted_ms))
			continue;
		sim_fail(s,
			 "liveness: n%d's command %s on E%llu, submitted at %llu, unanswered after "
			 "%u ms with a majority up and connected (since %llu)",
			 x->node, sim_fmt_id(x->id), (unsigned long long)x->entity,
			 (unsigned long long)x->submitted_ms, s->cfg.liveness_ms,
			 (unsigned long long)c->live_since[x->node]);
		return;
	}
	for (size_t i = 0; i < c->n_bars; i++) {
		const struct sim_chk_bar *b = &c->bars[i];
		if (!s->nodes[b->node].up || s->nodes[b->node].inc != b->inc) {
			c->bars[i--] = c->bars[--c->n_bars]; /* its process is gone */
			continue;
		}
		if (!overdue(s, b->node, b->started_ms))
			continue;
		sim_fail(
		    s,
		    "liveness: n%d's barrier %llu on E%llu, begun at %llu, not done after %u ms "
		    "with a majority up and connected (since %llu)",
		    b->node, (unsigned long long)b->req_id, (unsigned long long)b->entity,
		    (unsigned long long)b->started_ms, s->cfg.liveness_ms,
		    (unsigned long long)c->live_since[b->node]);
		return;
	}
	for (int i = 1; i <= s->cfg.n_nodes; i++) {
		struct sim_node *n = &s->nodes[i];
		struct paxos_stats st;
		if (!n->up || n->started_amnesic || !overdue(s, i, n->started_ms) ||
		    !sim_engine(s, i))
			continue;
		paxos_get_stats(sim_engine(s, i), &st);
		if (st.amnesia) {
			sim_fail(
			    s,
			    "liveness: n%d, restarted at %llu with its disk, does not vote after "
			    "%u ms with a majority up and connected",
			    i, (unsigned long long)n->started_ms, s->cfg.liveness_ms);
			return;
		}
	}
}

bool sim_chk_commands_resolved(const struct sim *s)
{
	for (size_t i = 0; i < s->chk.n_cmds; i++)
		if (s->chk.cmds[i].state == CMD_PENDING && cmd_live(s, &s->chk.cmds[i]))
			return false;
	return true;
}

void sim_chk_final(struct sim *s)
{
	for (size_t i = 0; i < s->chk.n_cmds && !s->failed; i++) {
		const struct sim_chk_cmd *c = &s->chk.cmds[i];
		if (c->state == CMD_PENDING && cmd_live(s, c))
			sim_fail(s,
				 "command %s submitted to live n%d was neither chosen nor failed",
				 sim_fmt_id(c->id), c->node);
	}
	for (int k = 1; k <= s->cfg.n_nodes && !s->failed; k++) {
		struct sim_node *n = &s->nodes[k];
		if (!n->up) {
			sim_fail(s, "n%d is down at the end", k);
			return;
		}
		for (size_t i = 0; i < s->chk.n_ents && !s->failed; i++) {
			const struct sim_chk_ent *e = &s->chk.ents[i];
			struct sim_fs_ent *f = sim_fs_ent(&n->fs, e->id, false);
			uint64_t applied = f ? f->applied : 0;
			if (applied != e->contiguous) {
				sim_fail(s, "n%d holds E%llu through %llu, the cluster chose %llu",
					 k, (unsigned long long)e->id, (unsigned long long)applied,
					 (unsigned long long)e->contiguous);
				return;
			}
			if (!s->cfg.fs_log)
				continue;
			for (uint64_t j = 0; j < applied; j++)
				if (f->log[j] != e->entries[j].chosen_id) {
					sim_fail(s, "n%d E%llu.%llu is %s, the cluster chose %s", k,
						 (unsigned long long)e->id,
						 (unsigned long long)(j + 1), sim_fmt_id(f->log[j]),
						 sim_fmt_id(e->entries[j].chosen_id));
					return;
				}
		}
	}
}
