/* tests/unit/tools/test_verify_compare.c — the comparator of paxfs-verify
 * on synthetic summaries: healthy nodes find nothing; every kind of
 * divergence is found and names the entity, the entry and the node; nodes
 * at different entries are re-asked, then reported as lag, never as a
 * divergence; summaries survive the wire and garbage is refused. Also the
 * CRC32C combination behind the chains. */
#include "config.h"

#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/chain.h"
#include "tools/compare.h"
#include "tools/wire.h"
#include "util/crc32c.h"
#include "util/prng.h"

/* ---- a synthetic history of one entity --------------------------------------- */

#define MAXK 64

struct hist {
	size_t k;
	uint8_t vals[MAXK + 1][48];
	size_t lens[MAXK + 1];
	uint32_t chain[MAXK + 1]; /* chain[i]: c_i; chain[0] = 0 */
};

static void hist_init(struct hist *h, uint64_t seed, size_t k)
{
	struct util_prng p;
	util_prng_seed(&p, seed);
	memset(h, 0, sizeof(*h));
	h->k = k;
	for (size_t i = 1; i <= k; i++) {
		/* some no-op (empty) values too */
		h->lens[i] = i % 7 == 3 ? 0 : 1 + util_prng_below(&p, sizeof(h->vals[i]));
		for (size_t b = 0; b < h->lens[i]; b++)
			h->vals[i][b] = (uint8_t)util_prng_next(&p);
		h->chain[i] = util_crc32c(h->chain[i - 1], h->vals[i], h->lens[i]);
	}
}

static uint64_t digest_at(uint64_t entity, uint64_t a)
{
	return (a + 1) * 0x9e3779b97f4a7c15ull ^ entity;
}

/* A node's summary: log trimmed through t, applied through a, chosen
 * through ch (t <= a <= ch <= k). */
static void summary(const struct hist *h, uint64_t entity, uint64_t t, uint64_t a, uint64_t ch,
		    struct verify_entity *e)
{
	verify_entity_init(e, entity);
	e->state = FS_ENTITY_LIVE;
	e->has_paxos = true;
	e->paxos.chosen_entry = ch;
	e->paxos.trimmed_entry = t;
	e->paxos.trimmed_crc = h->chain[t];
	e->has_apply = true;
	e->apply.applied_entry = a;
	e->apply.chain_crc = h->chain[a];
	e->apply.state_digest = digest_at(entity, a);
	for (uint64_t i = t + 1; i <= ch; i++) {
		struct verify_log_item it = {
		    .entry = i,
		    .value_id = i << 8 | 1,
		    .value_crc = h->lens[i] ? util_crc32c(0, h->vals[i], h->lens[i]) : 0,
		    .value_len = h->lens[i],
		};
		ck_assert_int_eq(verify_entity_add_log(e, &it), 0);
	}
}

static const uint32_t ids3[3] = {1, 2, 3};

static struct verify_cmp *cmp3(void)
{
	struct verify_cmp *c;
	ck_assert_int_eq(verify_cmp_new(ids3, 3, &c), 0);
	return c;
}

/* Feeds one summary per node (NULL: the node holds nothing) and ends the
 * round; returns how many entities were put aside. */
static size_t one_round(struct verify_cmp *c, bool final, struct verify_entity *s[3])
{
	const uint64_t *ids;
	size_t n;
	verify_cmp_round_begin(c, final);
	for (size_t i = 0; i < 3; i++) {
		if (s[i])
			ck_assert_int_eq(verify_cmp_add(c, i, s[i]), 0);
		verify_cmp_node_done(c, i);
	}
	ck_assert_int_eq(verify_cmp_process(c), 0);
	ck_assert_int_eq(verify_cmp_round_end(c, &ids, &n), 0);
	for (size_t i = 0; i < 3; i++)
		if (s[i])
			verify_entity_close(s[i]);
	return n;
}

static size_t nfind(struct verify_cmp *c)
{
	size_t n;
	verify_cmp_findings(c, &n);
	return n;
}

/* The finding of `kind`, or NULL. */
static const struct verify_finding *find(struct verify_cmp *c, enum verify_kind kind)
{
	size_t n;
	const struct verify_finding *f = verify_cmp_findings(c, &n);
	for (size_t i = 0; i < n; i++)
		if (f[i].kind == kind)
			return &f[i];
	return NULL;
}

/* ---- the chain ----------------------------------------------------------------- */

START_TEST(combine_matches_chained_crc)
{
	struct util_prng p;
	static uint8_t buf[200000];
	util_prng_seed(&p, 11);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)util_prng_next(&p);
	for (size_t len = 0; len < sizeof(buf); len = len * 3 + 1) {
		uint32_t prev = (uint32_t)util_prng_next(&p);
		ck_assert_uint_eq(verify_crc32c_combine(prev, util_crc32c(0, buf, len), len),
				  util_crc32c(prev, buf, len));
	}
	/* an empty value leaves the chain as it was */
	ck_assert_uint_eq(verify_crc32c_combine(0x1234u, 0, 0), 0x1234u);
}
END_TEST

/* ---- agreement ------------------------------------------------------------------- */

START_TEST(healthy_nodes_agree)
{
	struct hist h;
	struct verify_entity a, b, c3, *s[3] = {&a, &b, &c3};
	struct verify_cmp *c = cmp3();
	hist_init(&h, 1, 40);
	/* the same history, trimmed at different points */
	summary(&h, 5, 0, 40, 40, &a);
	summary(&h, 5, 10, 40, 40, &b);
	summary(&h, 5, 35, 40, 40, &c3);
	ck_assert_uint_eq(one_round(c, false, s), 0);
	ck_assert_uint_eq(nfind(c), 0);
	const struct verify_counts *k = verify_cmp_counts(c);
	ck_assert_uint_eq(k->entities, 1);
	ck_assert_uint_eq(k->digests, 1);
	ck_assert_uint_eq(k->values, 30); /* entries 11..40 are held by two nodes or more */
	ck_assert_uint_gt(k->chains, 0);
	ck_assert_uint_eq(k->unsettled, 0);
	for (size_t i = 0; i < 3; i++)
		ck_assert_uint_eq(verify_cmp_lag(c, i)->entities, 0);
	verify_cmp_free(c);
}
END_TEST

/* ---- divergences ------------------------------------------------------------------- */

START_TEST(different_chosen_value_is_found)
{
	struct hist h;
	struct verify_entity a, b, c3, *s[3] = {&a, &b, &c3};
	struct verify_cmp *c = cmp3();
	hist_init(&h, 2, 20);
	summary(&h, 7, 0, 20, 20, &a);
	summary(&h, 7, 0, 20, 20, &b);
	summary(&h, 7, 0, 20, 20, &c3);
	b.log[11].value_crc ^= 1; /* entry 12 on node 2 */
	one_round(c, false, s);
	const struct verify_finding *f = find(c, VERIFY_VALUE);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->entity, 7);
	ck_assert_uint_eq(f->entry, 12);
	/* the odd one out is named; the detail shows every group */
	ck_assert(verify_nodes_has(f->nodes, 2));
	ck_assert(!verify_nodes_has(f->nodes, 1) && !verify_nodes_has(f->nodes, 3));
	ck_assert_ptr_nonnull(strstr(f->detail, "node 2 holds"));
	ck_assert_ptr_nonnull(strstr(f->detail, "nodes 1, 3 hold"));
	/* its own log no longer replays to its state either */
	f = find(c, VERIFY_REPLAY);
	ck_assert_ptr_nonnull(f);
	ck_assert(verify_nodes_has(f->nodes, 2) && !verify_nodes_has(f->nodes, 1));
	ck_assert_uint_eq(verify_cmp_counts(c)->divergent, 1);
	verify_cmp_free(c);
}
END_TEST

START_TEST(different_digest_at_same_entry_is_found)
{
	struct hist h;
	struct verify_entity a, b, c3, *s[3] = {&a, &b, &c3};
	struct verify_cmp *c = cmp3();
	hist_init(&h, 3, 9);
	summary(&h, 9, 0, 9, 9, &a);
	summary(&h, 9, 0, 9, 9, &b);
	summary(&h, 9, 0, 9, 9, &c3);
	c3.apply.state_digest ^= 0x100;
	one_round(c, false, s);
	ck_assert_uint_eq(nfind(c), 1);
	const struct verify_finding *f = find(c, VERIFY_DIGEST);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->entry, 9);
	ck_assert(verify_nodes_has(f->nodes, 3) && !verify_nodes_has(f->nodes, 1));
	ck_assert_ptr_nonnull(strstr(f->detail, "nodes 1, 2"));
	verify_cmp_free(c);
}
END_TEST

START_TEST(state_that_its_log_does_not_replay_to_is_found)
{
	struct hist h;
	struct verify_entity a, b, c3, *s[3] = {&a, &b, &c3};
	struct verify_cmp *c = cmp3();
	hist_init(&h, 4, 12);
	summary(&h, 9, 0, 12, 12, &a);
	summary(&h, 9, 4, 12, 12, &b);
	summary(&h, 9, 0, 12, 12, &c3);
	b.apply.chain_crc ^= 0x8000; /* its state came from something else */
	one_round(c, false, s);
	const struct verify_finding *f = find(c, VERIFY_REPLAY);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->entry, 12);
	ck_assert(verify_nodes_has(f->nodes, 2) && !verify_nodes_has(f->nodes, 3));
	verify_cmp_free(c);
}
END_TEST

START_TEST(different_history_before_the_trim_point_is_found)
{
	struct hist h;
	struct verify_entity a, b, c3, *s[3] = {&a, &b, &c3};
	struct verify_cmp *c = cmp3();
	hist_init(&h, 5, 30);
	/* node 3 trimmed through 20; its chain there differs, the rest does not */
	summary(&h, 9, 0, 30, 30, &a);
	summary(&h, 9, 0, 30, 30, &b);
	summary(&h, 9, 20, 30, 30, &c3);
	c3.paxos.trimmed_crc ^= 1;
	c3.apply.chain_crc = c3.paxos.trimmed_crc;
	for (size_t i = 0; i < c3.n_log; i++)
		c3.apply.chain_crc = verify_crc32c_combine(c3.apply.chain_crc, c3.log[i].value_crc,
							   c3.log[i].value_len);
	one_round(c, false, s);
	const struct verify_finding *f = find(c, VERIFY_CHAIN);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->entry, 20); /* the earliest entry where they part */
	ck_assert(verify_nodes_has(f->nodes, 3) && !verify_nodes_has(f->nodes, 2));
	ck_assert_ptr_null(find(c, VERIFY_VALUE));
	ck_assert_ptr_null(find(c, VERIFY_REPLAY));
	verify_cmp_free(c);
}
END_TEST

START_TEST(damage_bad_and_deep_are_found)
{
	struct hist h;
	struct verify_entity a, b, c3, *s[3] = {&a, &b, &c3};
	struct verify_cmp *c = cmp3();
	hist_init(&h, 6, 5);
	summary(&h, 9, 0, 5, 5, &a);
	summary(&h, 9, 0, 5, 5, &b);
	summary(&h, 9, 0, 5, 5, &c3);
	verify_entity_add_damage(&a, 4, "its log record fails its checksum");
	b.state = FS_ENTITY_BAD;
	snprintf(b.reason, sizeof(b.reason), "a state record fails its checksum");
	c3.deep = true;
	c3.deep_digest = c3.apply.state_digest ^ 1;
	c3.marked_bad = true;
	one_round(c, false, s);
	const struct verify_finding *f = find(c, VERIFY_DAMAGE);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->entry, 4);
	ck_assert(verify_nodes_has(f->nodes, 1));
	f = find(c, VERIFY_BAD);
	ck_assert_ptr_nonnull(f);
	ck_assert(verify_nodes_has(f->nodes, 2));
	ck_assert_ptr_nonnull(strstr(f->detail, "EIO"));
	f = find(c, VERIFY_DEEP);
	ck_assert_ptr_nonnull(f);
	ck_assert(verify_nodes_has(f->nodes, 3));
	ck_assert_uint_eq(f->entry, 5);
	verify_cmp_free(c);
}
END_TEST

/* ---- nodes at different entries ---------------------------------------------------- */

START_TEST(a_node_behind_is_reasked_then_lag)
{
	struct hist h;
	struct verify_entity a, b, c3, *s[3] = {&a, &b, &c3};
	struct verify_cmp *c = cmp3();
	hist_init(&h, 7, 30);
	summary(&h, 9, 0, 30, 30, &a);
	summary(&h, 9, 0, 30, 30, &b);
	summary(&h, 9, 0, 10, 12, &c3);
	/* round 0: put aside, nothing reported or counted yet */
	ck_assert_uint_eq(one_round(c, false, s), 1);
	ck_assert_uint_eq(nfind(c), 0);
	ck_assert_uint_eq(verify_cmp_counts(c)->entities, 0);
	/* the final round: it moved a little, still behind */
	summary(&h, 9, 0, 30, 30, &a);
	summary(&h, 9, 0, 30, 30, &b);
	summary(&h, 9, 0, 15, 20, &c3);
	ck_assert_uint_eq(one_round(c, true, s), 0);
	ck_assert_uint_eq(nfind(c), 0); /* lag is not a divergence */
	const struct verify_lag *l = verify_cmp_lag(c, 2);
	ck_assert_uint_eq(l->entities, 1);
	ck_assert_uint_eq(l->max, 15);
	ck_assert_uint_eq(l->progressed, 1);
	ck_assert_uint_eq(l->ex[0].entity, 9);
	ck_assert_uint_eq(l->ex[0].applied, 15);
	ck_assert_uint_eq(l->ex[0].chosen, 30);
	ck_assert_uint_eq(verify_cmp_lag(c, 0)->entities, 0);
	ck_assert_uint_eq(verify_cmp_counts(c)->unsettled, 1);
	ck_assert_uint_eq(verify_cmp_counts(c)->entities, 1);
	verify_cmp_free(c);
}
END_TEST

START_TEST(a_node_that_catches_up_is_compared_at_the_same_entry)
{
	struct hist h;
	struct verify_entity a, b, c3, *s[3] = {&a, &b, &c3};
	struct verify_cmp *c = cmp3();
	hist_init(&h, 8, 30);
	summary(&h, 9, 0, 30, 30, &a);
	summary(&h, 9, 0, 29, 30, &b);
	summary(&h, 9, 0, 28, 29, &c3);
	ck_assert_uint_eq(one_round(c, false, s), 1);
	summary(&h, 9, 0, 30, 30, &a);
	summary(&h, 9, 0, 30, 30, &b);
	summary(&h, 9, 0, 30, 30, &c3);
	c3.apply.state_digest ^= 4; /* and there it differs */
	ck_assert_uint_eq(one_round(c, true, s), 0);
	const struct verify_finding *f = find(c, VERIFY_DIGEST);
	ck_assert_ptr_nonnull(f);
	ck_assert(verify_nodes_has(f->nodes, 3));
	ck_assert_uint_eq(verify_cmp_lag(c, 2)->entities, 0);
	verify_cmp_free(c);
}
END_TEST

/* Writes go on during the check: every look finds the nodes at different
 * entries of the same history. Never a divergence. */
START_TEST(an_entity_written_during_the_check_is_no_divergence)
{
	struct hist h;
	struct verify_entity a, b, c3, *s[3] = {&a, &b, &c3};
	struct verify_cmp *c = cmp3();
	hist_init(&h, 9, 60);
	for (unsigned r = 0; r < 5; r++) {
		uint64_t top = 10 + 10 * r;
		summary(&h, 9, r * 5, top, top + 1, &a);
		summary(&h, 9, 0, top - 1, top, &b);
		summary(&h, 9, r * 3, top - 2, top, &c3);
		one_round(c, r == 4, s);
	}
	ck_assert_uint_eq(nfind(c), 0);
	ck_assert_uint_gt(verify_cmp_counts(c)->chains, 0);
	ck_assert_uint_eq(verify_cmp_lag(c, 1)->progressed, 1);
	verify_cmp_free(c);
}
END_TEST

START_TEST(dead_on_one_node_live_on_another_is_not_compared)
{
	struct hist h;
	struct verify_entity a, b, c3, *s[3] = {&a, &b, &c3};
	struct verify_cmp *c = cmp3();
	hist_init(&h, 10, 6);
	summary(&h, 9, 0, 6, 6, &a);
	summary(&h, 9, 0, 6, 6, &b);
	summary(&h, 9, 0, 6, 6, &c3);
	/* reclaimed on node 2 (closed there), still open on 1 and 3 */
	b.state = FS_ENTITY_DEAD;
	b.apply.state_digest = 0;
	/* gone on node 3 before it saw it: no trace at all */
	verify_entity_close(&c3);
	verify_entity_init(&c3, 9);
	c3.state = FS_ENTITY_DEAD;
	ck_assert_uint_eq(one_round(c, false, s), 0);
	ck_assert_uint_eq(nfind(c), 0);
	ck_assert_uint_eq(verify_cmp_lag(c, 1)->entities, 0);
	ck_assert_uint_eq(verify_cmp_lag(c, 2)->entities, 0);
	verify_cmp_free(c);
}
END_TEST

START_TEST(streams_merge_and_a_missing_entity_is_lag)
{
	struct hist h;
	struct verify_entity e;
	struct verify_cmp *c = cmp3();
	const uint64_t *ids;
	size_t n;
	hist_init(&h, 11, 4);
	verify_cmp_round_begin(c, true);
	/* nodes 1 and 2 hold entities 3, 5, 8; node 3 lacks 5 */
	for (size_t i = 0; i < 3; i++) {
		for (uint64_t x = 3; x <= 8; x++) {
			if (x != 3 && x != 5 && x != 8)
				continue;
			if (i == 2 && x == 5)
				continue;
			summary(&h, x, 0, 4, 4, &e);
			ck_assert_int_eq(verify_cmp_add(c, i, &e), 0);
			verify_entity_close(&e);
			ck_assert_int_eq(verify_cmp_process(c), 0);
		}
	}
	/* going backwards is garbage */
	summary(&h, 4, 0, 4, 4, &e);
	ck_assert_int_eq(verify_cmp_add(c, 0, &e), -EINVAL);
	verify_entity_close(&e);
	for (size_t i = 0; i < 3; i++)
		verify_cmp_node_done(c, i);
	ck_assert_int_eq(verify_cmp_round_end(c, &ids, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(nfind(c), 0);
	ck_assert_uint_eq(verify_cmp_counts(c)->entities, 3);
	ck_assert_uint_eq(verify_cmp_lag(c, 2)->entities, 1);
	ck_assert_uint_eq(verify_cmp_lag(c, 2)->ex[0].entity, 5);
	ck_assert_uint_eq(verify_cmp_listed(c, 2), 2);
	verify_cmp_free(c);
}
END_TEST

START_TEST(a_lost_node_is_left_out)
{
	struct hist h;
	struct verify_entity e;
	struct verify_cmp *c = cmp3();
	const uint64_t *ids;
	size_t n;
	hist_init(&h, 12, 4);
	verify_cmp_round_begin(c, true);
	summary(&h, 3, 0, 4, 4, &e);
	e.apply.state_digest ^= 1; /* node 3's garbage must never be compared */
	ck_assert_int_eq(verify_cmp_add(c, 2, &e), 0);
	verify_entity_close(&e);
	verify_cmp_node_lost(c, 2);
	for (size_t i = 0; i < 2; i++) {
		summary(&h, 3, 0, 4, 4, &e);
		ck_assert_int_eq(verify_cmp_add(c, i, &e), 0);
		verify_entity_close(&e);
		verify_cmp_node_done(c, i);
	}
	ck_assert_int_eq(verify_cmp_round_end(c, &ids, &n), 0);
	ck_assert_uint_eq(nfind(c), 0);
	ck_assert_uint_eq(verify_cmp_counts(c)->digests, 1);
	ck_assert(verify_cmp_node_is_lost(c, 2));
	verify_cmp_free(c);
}
END_TEST

/* ---- the wire -------------------------------------------------------------------------- */

START_TEST(summaries_survive_the_wire)
{
	struct hist h;
	struct verify_entity e, back;
	struct verify_wire_entity w;
	char why[200];
	hist_init(&h, 13, 20);
	summary(&h, 77, 3, 18, 20, &e);
	e.state = FS_ENTITY_BAD;
	snprintf(e.reason, sizeof(e.reason), "why not");
	verify_entity_add_damage(&e, 7, "its log record fails its checksum");
	e.deep = true;
	e.deep_digest = 42;
	e.deep_err = -EIO;
	e.applying = true;
	ck_assert_int_eq(verify_wire_pack(&e, &w), 0);
	size_t len = paxfs__verify_entity__get_packed_size(&w.m);
	uint8_t *buf = malloc(len);
	paxfs__verify_entity__pack(&w.m, buf);
	Paxfs__VerifyEntity *m = paxfs__verify_entity__unpack(NULL, len, buf);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(verify_wire_unpack(m, &back, why, sizeof(why)), 0);
	ck_assert_uint_eq(back.entity, 77);
	ck_assert_uint_eq(back.state, FS_ENTITY_BAD);
	ck_assert_str_eq(back.reason, "why not");
	ck_assert_uint_eq(back.paxos.trimmed_entry, 3);
	ck_assert_uint_eq(back.paxos.trimmed_crc, h.chain[3]);
	ck_assert_uint_eq(back.apply.chain_crc, h.chain[18]);
	ck_assert_uint_eq(back.n_log, 17);
	for (size_t i = 0; i < 17; i++) {
		ck_assert_uint_eq(back.log[i].entry, e.log[i].entry);
		ck_assert_uint_eq(back.log[i].value_id, e.log[i].value_id);
		ck_assert_uint_eq(back.log[i].value_crc, e.log[i].value_crc);
		ck_assert_uint_eq(back.log[i].value_len, e.log[i].value_len);
	}
	ck_assert_uint_eq(back.n_damage, 1);
	ck_assert_str_eq(back.damage[0].what, "its log record fails its checksum");
	ck_assert_int_eq(back.deep_err, -EIO);
	ck_assert(back.applying && back.deep);
	verify_entity_close(&back);

	/* garbage: entries that do not rise */
	m->log[5]->entry = m->log[4]->entry;
	ck_assert_int_eq(verify_wire_unpack(m, &back, why, sizeof(why)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(why, "out of order"));
	verify_entity_close(&back);
	m->log[5]->entry = m->log[4]->entry + 1;
	m->state = 99;
	ck_assert_int_eq(verify_wire_unpack(m, &back, why, sizeof(why)), -EBADMSG);
	verify_entity_close(&back);
	m->state = FS_ENTITY_LIVE;
	m->entity = 0;
	ck_assert_int_eq(verify_wire_unpack(m, &back, why, sizeof(why)), -EBADMSG);
	verify_entity_close(&back);

	paxfs__verify_entity__free_unpacked(m, NULL);
	free(buf);
	verify_wire_close(&w);
	verify_entity_close(&e);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("verify_compare");
	TEST_CASE(s, combine_matches_chained_crc, 30);
	TEST_CASE(s, healthy_nodes_agree, 10);
	TEST_CASE(s, different_chosen_value_is_found, 10);
	TEST_CASE(s, different_digest_at_same_entry_is_found, 10);
	TEST_CASE(s, state_that_its_log_does_not_replay_to_is_found, 10);
	TEST_CASE(s, different_history_before_the_trim_point_is_found, 10);
	TEST_CASE(s, damage_bad_and_deep_are_found, 10);
	TEST_CASE(s, a_node_behind_is_reasked_then_lag, 10);
	TEST_CASE(s, a_node_that_catches_up_is_compared_at_the_same_entry, 10);
	TEST_CASE(s, an_entity_written_during_the_check_is_no_divergence, 10);
	TEST_CASE(s, dead_on_one_node_live_on_another_is_not_compared, 10);
	TEST_CASE(s, streams_merge_and_a_missing_entity_is_lag, 10);
	TEST_CASE(s, a_lost_node_is_left_out, 10);
	TEST_CASE(s, summaries_survive_the_wire, 10);
	return s;
}
