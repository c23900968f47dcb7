/* tests/unit/store/test_store_records.c — round trips of every record kind,
 * key order, range reads, trimming, value separation, the batch API
 * (read-your-writes, failure leaves the batch alone), concurrent readers. */
#include "config.h"

#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <pthread.h>

#include "store/internal.h"
#include "store/keys.h"
#include "tests/unit/store/helpers.h"
#include "util/endian.h"

static void put_value_record(struct store_batch *b, uint64_t entity, uint64_t entry, size_t vlen,
			     uint64_t seed, bool chosen)
{
	uint8_t *v = malloc(vlen ? vlen : 1);
	struct store_record r = {.promised = 0x100 | 2,
				 .accepted = 0x100 | 2,
				 .value_id = seed,
				 .chosen = chosen,
				 .value = v,
				 .value_len = vlen};
	fill_value(v, vlen, seed);
	store_batch_put_record(b, entity, entry, &r, false);
	free(v);
}

static void write_sync(struct store *s, struct store_batch *b)
{
	int rc = store_write(s, b, true);
	ck_assert_msg(rc == 0, "store_write: %d", rc);
	ck_assert(store_batch_empty(b));
}

/* ---- keys ------------------------------------------------------------------- */

START_TEST(keys_sort_in_entity_entry_order)
{
	static const uint64_t vals[] = {
	    0, 1, 255, 256, 65535, 65536, 1ull << 32, (1ull << 32) + 1, UINT64_MAX - 1, UINT64_MAX};
	const size_t n = sizeof(vals) / sizeof(vals[0]);
	uint8_t a[STORE_KEY_MAX], b[STORE_KEY_MAX];
	char name[160];

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			for (size_t k = 0; k < n; k++) {
				/* (entity i, entry j) vs (entity i, entry k) and vs (entity k, entry j) */
				store_key_record(a, vals[i], vals[j]);
				store_key_record(b, vals[i], vals[k]);
				int c = memcmp(a, b, STORE_KEY_RECORD_LEN);
				ck_assert_int_eq(c < 0, j < k);
				ck_assert_int_eq(c == 0, j == k);
				store_key_record(b, vals[k], vals[j]);
				c = memcmp(a, b, STORE_KEY_RECORD_LEN);
				ck_assert_int_eq(c < 0, i < k);
				/* every entry of a lower entity sorts first */
				store_key_record(a, vals[i], UINT64_MAX);
				store_key_record(b, vals[k], 0);
				if (i < k)
					ck_assert_int_lt(memcmp(a, b, STORE_KEY_RECORD_LEN), 0);
			}

	uint64_t e, en, id;
	store_key_value(a, 7, 9, 0xabc);
	ck_assert(store_key_parse_value(a, STORE_KEY_VALUE_LEN, &e, &en, &id));
	ck_assert_uint_eq(e, 7);
	ck_assert_uint_eq(en, 9);
	ck_assert_uint_eq(id, 0xabc);
	ck_assert(!store_key_parse_record(a, STORE_KEY_VALUE_LEN, NULL, NULL));
	store_key_record(a, 5, 7);
	store_key_describe(a, STORE_KEY_RECORD_LEN, name, sizeof(name));
	ck_assert_str_eq(name, "record entity=5 entry=7");
	store_key_entity(a, STORE_TAG_APPLY_META, 12);
	store_key_describe(a, STORE_KEY_ENTITY_LEN, name, sizeof(name));
	ck_assert_str_eq(name, "apply-meta entity=12");
	store_key_describe("\0format", 7, name, sizeof(name));
	ck_assert_str_eq(name, "format");
	store_key_describe("Sab", 3, name, sizeof(name));
	ck_assert_str_eq(name, "state key [61 62]");
}
END_TEST

/* ---- metas --------------------------------------------------------------------- */

START_TEST(node_and_metas_round_trip_and_persist)
{
	struct store *s = open_store(NULL);
	struct store_batch *b = store_batch_new();
	struct store_node n = {.node_id = 3, .boot_count = 7, .amnesia = true}, n2;
	struct store_paxos_meta pm = {UINT64_MAX, 255, UINT64_MAX - 1, 0xdeadbeef, 42, 7ull << 40},
				pm2;
	struct store_apply_meta am = {123456789012ull, 0xcafef00d, 0x0123456789abcdefull}, am2;

	ck_assert_int_eq(store_get_node(s, &n2), -ENOENT);
	ck_assert_int_eq(store_get_paxos_meta(s, 9, &pm2), -ENOENT);
	ck_assert_uint_eq(pm2.chosen_entry, 0);
	ck_assert_int_eq(store_get_apply_meta(s, 9, &am2), -ENOENT);
	snprintf(n.cluster, sizeof(n.cluster), "demo-cluster");
	store_batch_put_node(b, &n);
	store_batch_put_paxos_meta(b, 9, &pm);
	store_batch_put_apply_meta(b, 9, &am);
	store_batch_put_paxos_meta(b, 10, &(struct store_paxos_meta){0});
	write_sync(s, b);

	for (int round = 0; round < 2; round++) {
		ck_assert_int_eq(store_get_node(s, &n2), 0);
		ck_assert_str_eq(n2.cluster, "demo-cluster");
		ck_assert_uint_eq(n2.node_id, 3);
		ck_assert_uint_eq(n2.boot_count, 7);
		ck_assert(n2.amnesia);
		ck_assert_int_eq(store_get_paxos_meta(s, 9, &pm2), 0);
		ck_assert_uint_eq(pm2.chosen_entry, UINT64_MAX);
		ck_assert_uint_eq(pm2.chosen_proposer, 255);
		ck_assert_uint_eq(pm2.trimmed_entry, UINT64_MAX - 1);
		ck_assert_uint_eq(pm2.trimmed_crc, 0xdeadbeef);
		ck_assert_uint_eq(pm2.vote_after, 42);
		ck_assert_uint_eq(pm2.born, 7ull << 40);
		ck_assert_int_eq(store_get_apply_meta(s, 9, &am2), 0);
		ck_assert_uint_eq(am2.applied_entry, 123456789012ull);
		ck_assert_uint_eq(am2.chain_crc, 0xcafef00d);
		ck_assert_uint_eq(am2.state_digest, 0x0123456789abcdefull);
		/* an all-zero meta is there, not "missing" */
		ck_assert_int_eq(store_get_paxos_meta(s, 10, &pm2), 0);
		ck_assert_int_eq(store_get_apply_meta(s, 10, &am2), -ENOENT);
		store_free(s);
		s = open_store(NULL);
	}

	/* a cluster name filling the whole buffer is cut, never read past */
	memset(n.cluster, 'x', sizeof(n.cluster));
	store_batch_put_node(b, &n);
	write_sync(s, b);
	ck_assert_int_eq(store_get_node(s, &n2), 0);
	ck_assert_uint_eq(strlen(n2.cluster), sizeof(n2.cluster) - 1);
	store_batch_free(b);
	store_free(s);
}
END_TEST

struct entities {
	uint64_t ids[16];
	int n, stop_at;
};

static int entity_cb(void *arg, uint64_t entity, const struct store_paxos_meta *m)
{
	struct entities *e = arg;
	ck_assert_uint_eq(m->chosen_entry, entity ^ 0x55);
	e->ids[e->n++] = entity;
	return e->n == e->stop_at ? 77 : 0;
}

START_TEST(scan_entities_in_order)
{
	static const uint64_t ids[] = {300, 1, 1ull << 40, 3, 256, UINT64_MAX};
	struct store *s = open_store(NULL);
	struct store_batch *b = store_batch_new();
	struct entities e = {0};

	for (size_t i = 0; i < 6; i++)
		store_batch_put_paxos_meta(
		    b, ids[i], &(struct store_paxos_meta){.chosen_entry = ids[i] ^ 0x55});
	/* apply metas and records must not show up as entities */
	store_batch_put_apply_meta(b, 2, &(struct store_apply_meta){.applied_entry = 1});
	put_value_record(b, 4, 1, 10, 1, false);
	write_sync(s, b);

	ck_assert_int_eq(store_scan_entities(s, 0, entity_cb, &e), 0);
	ck_assert_int_eq(e.n, 6);
	static const uint64_t sorted[] = {1, 3, 256, 300, 1ull << 40, UINT64_MAX};
	for (int i = 0; i < 6; i++)
		ck_assert_uint_eq(e.ids[i], sorted[i]);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_scan_entities(s, 3, entity_cb, &e), 0);
	ck_assert_int_eq(e.n, 4);
	ck_assert_uint_eq(e.ids[0], 256);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_scan_entities(s, UINT64_MAX, entity_cb, &e), 0);
	ck_assert_int_eq(e.n, 0);
	memset(&e, 0, sizeof(e));
	e.stop_at = 2;
	ck_assert_int_eq(store_scan_entities(s, 0, entity_cb, &e), 77);
	ck_assert_int_eq(e.n, 2);
	store_batch_free(b);
	store_free(s);
}
END_TEST

/* ---- records ------------------------------------------------------------------ */

struct rec_case {
	uint64_t entry;
	uint64_t promised, accepted;
	size_t vlen;
	bool chosen;
};

static const struct rec_case rec_cases[] = {
    {1, 0x105, 0, 0, false},          /* a promise only */
    {2, 0x201, 0x201, 0, true},       /* an empty (no-op) value */
    {3, 0x301, 0x301, 1, false},      /* tiny inline */
    {4, 0x401, 0x302, 1024, true},    /* exactly the default inline limit */
    {5, 0x501, 0x501, 1025, false},   /* one byte over: separate */
    {6, 0x601, 0x601, 1 << 20, true}, /* 1 MiB */
    {7, UINT64_MAX, UINT64_MAX, 7, true},
};

START_TEST(records_round_trip_every_shape)
{
	const size_t n = sizeof(rec_cases) / sizeof(rec_cases[0]);
	struct store *s = open_store(NULL);
	struct store_batch *b = store_batch_new();
	struct store_record r;

	ck_assert_int_eq(store_get_record(s, 1, 1, &r), -ENOENT);
	ck_assert_ptr_null(r.value);
	for (size_t i = 0; i < n; i++) {
		const struct rec_case *c = &rec_cases[i];
		uint8_t *v = malloc(c->vlen + 1);
		fill_value(v, c->vlen, 1000 + i);
		r = (struct store_record){.promised = c->promised,
					  .accepted = c->accepted,
					  .value_id = c->accepted ? 1000 + i : 0,
					  .chosen = c->chosen,
					  .value = c->accepted ? v : NULL,
					  .value_len = c->accepted ? c->vlen : 0};
		store_batch_put_record(b, 77, c->entry, &r, false);
		free(v);
	}
	write_sync(s, b);

	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < n; i++) {
			const struct rec_case *c = &rec_cases[i];
			ck_assert_int_eq(store_get_record(s, 77, c->entry, &r), 0);
			ck_assert_uint_eq(r.promised, c->promised);
			ck_assert_uint_eq(r.accepted, c->accepted);
			ck_assert_uint_eq(r.value_id, c->accepted ? 1000 + i : 0);
			ck_assert_int_eq(r.chosen, c->chosen);
			ck_assert_uint_eq(r.value_len, c->vlen);
			if (c->vlen)
				ck_assert(value_is(r.value, r.value_len, 1000 + i));
			else
				ck_assert_ptr_null(r.value);
			free(r.value);
		}
		ck_assert_int_eq(store_get_record(s, 77, 8, &r), -ENOENT);
		ck_assert_int_eq(store_get_record(s, 76, 1, &r), -ENOENT);
		store_free(s);
		s = open_store(NULL);
	}
	store_batch_free(b);
	store_free(s);

	/* Value separation, seen in leveldb itself: short values inline, long
	 * ones under their own key, with a small record. */
	leveldb_t *db = raw_open();
	uint8_t key[STORE_KEY_MAX];
	size_t len;
	uint8_t *raw;
	store_key_record(key, 77, 4);
	raw = raw_get(db, key, STORE_KEY_RECORD_LEN, &len);
	ck_assert_uint_gt(len, 1024);
	free(raw);
	store_key_value(key, 77, 4, 1003);
	ck_assert_ptr_null(raw_get(db, key, STORE_KEY_VALUE_LEN, &len));
	for (uint64_t entry = 5; entry <= 6; entry++) {
		store_key_record(key, 77, entry);
		raw = raw_get(db, key, STORE_KEY_RECORD_LEN, &len);
		ck_assert_uint_lt(len, 64);
		free(raw);
		store_key_value(key, 77, entry, 1000 + entry - 1);
		raw = raw_get(db, key, STORE_KEY_VALUE_LEN, &len);
		ck_assert_ptr_nonnull(raw);
		ck_assert_uint_eq(len, rec_cases[entry - 1].vlen + 4);
		free(raw);
	}
	leveldb_close(db);
}
END_TEST

START_TEST(value_stored_rewrites_only_the_record)
{
	struct store *s = open_store(NULL);
	struct store_batch *b = store_batch_new();
	const size_t vlen = 256 << 10;
	uint8_t *v = malloc(vlen);
	struct store_record r = {
	    .promised = 0x101, .accepted = 0x101, .value_id = 9, .value = v, .value_len = vlen};
	uint8_t key[STORE_KEY_VALUE_LEN];

	fill_value(v, vlen, 9);
	store_batch_put_record(b, 5, 1, &r, false);
	ck_assert_uint_gt(store_batch_bytes(b), vlen);
	write_sync(s, b);

	/* promise and chosen updates of the same entry: the value is not queued again */
	for (uint64_t p = 0x201; p < 0x2001; p += 0x100) {
		r.promised = p;
		r.chosen = p > 0x1000;
		store_batch_put_record(b, 5, 1, &r, true);
		ck_assert_uint_lt(store_batch_bytes(b), 128);
		write_sync(s, b);
	}
	memset(v, 0, vlen); /* the caller's buffer is not needed after the put */
	store_free(s);
	s = open_store(NULL);
	ck_assert_int_eq(store_get_record(s, 5, 1, &r), 0);
	ck_assert_uint_eq(r.promised, 0x1f01);
	ck_assert(r.chosen);
	ck_assert_uint_eq(r.value_len, vlen);
	ck_assert(value_is(r.value, vlen, 9));
	free(r.value);

	/* value_stored with a value short enough to be inline still stores it */
	uint8_t small[10];
	fill_value(small, 10, 44);
	r = (struct store_record){
	    .promised = 3, .accepted = 3, .value_id = 44, .value = small, .value_len = 10};
	store_batch_put_record(b, 5, 2, &r, true);
	write_sync(s, b);
	ck_assert_int_eq(store_get_record(s, 5, 2, &r), 0);
	ck_assert(value_is(r.value, 10, 44));
	free(r.value);

	/* a new value at the same entry (higher ballot, other value id) replaces it */
	fill_value(v, vlen, 10);
	r = (struct store_record){
	    .promised = 0x3001, .accepted = 0x3001, .value_id = 10, .value = v, .value_len = vlen};
	store_batch_put_record(b, 5, 1, &r, false);
	write_sync(s, b);
	ck_assert_int_eq(store_get_record(s, 5, 1, &r), 0);
	ck_assert_uint_eq(r.value_id, 10);
	ck_assert(value_is(r.value, vlen, 10));
	free(r.value);
	store_free(s);
	store_batch_free(b);

	leveldb_t *db = raw_open();
	store_key_value(key, 5, 1, 9);
	uint8_t lo[1] = {'V'}, hi[1] = {'W'};
	ck_assert_uint_eq(raw_count(db, lo, 1, hi, 1), 2); /* ids 9 and 10, until trimmed */
	leveldb_close(db);
	free(v);
}
END_TEST

START_TEST(the_inline_limit_is_fixed_at_creation)
{
	struct store_options o = {.create = true, .inline_value_max = 4096};
	struct store *s = open_store(&o);
	struct store_batch *b = store_batch_new();
	struct store_record r;
	uint8_t key[STORE_KEY_MAX];
	size_t len;

	put_value_record(b, 8, 1, 3000, 1, false);
	write_sync(s, b);
	store_free(s);
	/* reopened asking for another limit: the one it was made with holds, so a
	 * value_stored rewrite finds its value where it was put */
	o.inline_value_max = 100;
	s = open_store(&o);
	r = (struct store_record){
	    .promised = 0x999, .accepted = 0x102, .value_id = 1, .value = NULL, .value_len = 3000};
	uint8_t *v = malloc(3000);
	fill_value(v, 3000, 1);
	r.value = v;
	store_batch_put_record(b, 8, 1, &r, true);
	put_value_record(b, 8, 2, 3000, 2, false);
	write_sync(s, b);
	free(v);
	ck_assert_int_eq(store_get_record(s, 8, 1, &r), 0);
	ck_assert_uint_eq(r.promised, 0x999);
	ck_assert(value_is(r.value, 3000, 1));
	free(r.value);
	store_free(s);
	store_batch_free(b);

	leveldb_t *db = raw_open();
	for (uint64_t entry = 1; entry <= 2; entry++) {
		store_key_record(key, 8, entry);
		uint8_t *raw = raw_get(db, key, STORE_KEY_RECORD_LEN, &len);
		ck_assert_uint_gt(len, 3000); /* inline, both */
		free(raw);
	}
	leveldb_close(db);
}
END_TEST

struct collected {
	uint64_t entries[256];
	size_t vlens[256];
	bool had_value[256];
	int n, stop_at;
};

static int collect_cb(void *arg, uint64_t entry, const struct store_record *rec)
{
	struct collected *c = arg;
	ck_assert_int_lt(c->n, 256);
	c->entries[c->n] = entry;
	c->vlens[c->n] = rec->value_len;
	c->had_value[c->n] = rec->value != NULL;
	if (rec->value)
		ck_assert(value_is(rec->value, rec->value_len, entry * 31));
	c->n++;
	return c->n == c->stop_at ? -1234 : 0;
}

START_TEST(scan_records_reads_exact_ranges_in_order)
{
	struct store *s = open_store(NULL);
	struct store_batch *b = store_batch_new();
	struct collected c;

	/* neighbours on both sides, written in a scrambled order */
	for (uint64_t i = 0; i < 100; i++) {
		uint64_t entry = 1 + (i * 37) % 100;
		put_value_record(b, 5, entry, entry % 7 == 0 ? 2000 : entry, entry * 31, false);
		put_value_record(b, 4, entry, 5, 1, false);
		put_value_record(b, 6, entry, 5, 1, false);
	}
	put_value_record(b, 5, UINT64_MAX, 3, UINT64_MAX * 31, false);
	write_sync(s, b);

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(store_scan_records(s, 5, 10, 20, true, collect_cb, &c), 0);
	ck_assert_int_eq(c.n, 11);
	for (int i = 0; i < 11; i++) {
		ck_assert_uint_eq(c.entries[i], 10 + (uint64_t)i);
		ck_assert(c.had_value[i]);
		ck_assert_uint_eq(c.vlens[i], c.entries[i] % 7 == 0 ? 2000 : c.entries[i]);
	}
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(store_scan_records(s, 5, 0, UINT64_MAX, false, collect_cb, &c), 0);
	ck_assert_int_eq(c.n, 101);
	ck_assert_uint_eq(c.entries[0], 1);
	ck_assert_uint_eq(c.entries[99], 100);
	ck_assert_uint_eq(c.entries[100], UINT64_MAX);
	ck_assert(!c.had_value[7]);
	ck_assert_uint_eq(c.vlens[6], 2000); /* length known without the value */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(store_scan_records(s, 5, 20, 10, true, collect_cb, &c), 0);
	ck_assert_int_eq(c.n, 0);
	ck_assert_int_eq(store_scan_records(s, 5, 101, UINT64_MAX - 1, true, collect_cb, &c), 0);
	ck_assert_int_eq(c.n, 0);
	ck_assert_int_eq(store_scan_records(s, 7, 0, UINT64_MAX, true, collect_cb, &c), 0);
	ck_assert_int_eq(c.n, 0);
	memset(&c, 0, sizeof(c));
	c.stop_at = 3;
	ck_assert_int_eq(store_scan_records(s, 5, 1, 100, true, collect_cb, &c), -1234);
	ck_assert_int_eq(c.n, 3);
	store_batch_free(b);
	store_free(s);
}
END_TEST

static int count_cb(void *arg, uint64_t entry, const struct store_record *rec)
{
	(*(int *)arg)++;
	return 0;
}

static int entries_of(struct store *s, uint64_t entity)
{
	int n = 0;
	ck_assert_int_eq(store_scan_records(s, entity, 0, UINT64_MAX, false, count_cb, &n), 0);
	return n;
}

START_TEST(trim_and_drop_entity)
{
	struct store *s = open_store(NULL);
	struct store_batch *b = store_batch_new();
	struct store_record r;
	uint8_t lo[STORE_KEY_VALUE_LEN], hi[STORE_KEY_VALUE_LEN];

	for (uint64_t e = 4; e <= 6; e++)
		for (uint64_t i = 1; i <= 50; i++)
			put_value_record(b, e, i, i % 5 == 0 ? 5000 : 10, i * 31, true);
	store_batch_put_paxos_meta(b, 5, &(struct store_paxos_meta){.chosen_entry = 50});
	store_batch_put_apply_meta(b, 5, &(struct store_apply_meta){.applied_entry = 50});
	store_batch_put_state(b, "f5", 2, "data", 4);
	write_sync(s, b);

	ck_assert_int_eq(store_batch_trim(s, b, 5, 20), 0);
	write_sync(s, b);
	ck_assert_int_eq(entries_of(s, 5), 30);
	ck_assert_int_eq(store_get_record(s, 5, 20, &r), -ENOENT);
	ck_assert_int_eq(store_get_record(s, 5, 21, &r), 0);
	free(r.value);
	ck_assert_int_eq(store_get_record(s, 5, 25, &r), 0); /* separate value kept */
	ck_assert(value_is(r.value, 5000, 25 * 31));
	free(r.value);
	ck_assert_int_eq(entries_of(s, 4), 50);
	ck_assert_int_eq(entries_of(s, 6), 50);

	/* trimming also drops records queued earlier in the same batch */
	put_value_record(b, 5, 51, 6000, 51 * 31, false);
	put_value_record(b, 5, 52, 10, 52 * 31, false);
	ck_assert_int_eq(store_batch_trim(s, b, 5, 51), 0);
	put_value_record(b, 5, 53, 10, 53 * 31, false); /* queued after: kept */
	write_sync(s, b);
	ck_assert_int_eq(store_get_record(s, 5, 51, &r), -ENOENT);
	ck_assert_int_eq(store_get_record(s, 5, 52, &r), 0);
	free(r.value);
	ck_assert_int_eq(store_get_record(s, 5, 53, &r), 0);
	free(r.value);
	ck_assert_int_eq(entries_of(s, 5), 2);

	ck_assert_int_eq(store_batch_drop_entity(s, b, 5), 0);
	write_sync(s, b);
	ck_assert_int_eq(entries_of(s, 5), 0);
	struct store_paxos_meta pm;
	struct store_apply_meta am;
	ck_assert_int_eq(store_get_paxos_meta(s, 5, &pm), -ENOENT);
	ck_assert_int_eq(store_get_apply_meta(s, 5, &am), -ENOENT);
	void *val;
	size_t vlen;
	ck_assert_int_eq(store_get_state(s, "f5", 2, &val, &vlen), 0); /* fs/'s to remove */
	free(val);
	ck_assert_int_eq(entries_of(s, 4), 50);
	ck_assert_int_eq(entries_of(s, 6), 50);
	store_batch_free(b);
	store_free(s);

	/* no separate value of entity 5 is left behind; 4 and 6 keep theirs */
	leveldb_t *db = raw_open();
	for (uint64_t e = 4; e <= 6; e++) {
		store_key_value(lo, e, 0, 0);
		store_key_value(hi, e + 1, 0, 0);
		ck_assert_uint_eq(raw_count(db, lo, sizeof(lo), hi, sizeof(hi)), e == 5 ? 0 : 10);
	}
	leveldb_close(db);
}
END_TEST

/* ---- state ---------------------------------------------------------------------- */

struct state_seen {
	char keys[64][16];
	int n;
};

static int state_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct state_seen *st = arg;
	ck_assert_uint_lt(klen, 16);
	memcpy(st->keys[st->n], key, klen);
	st->keys[st->n][klen] = '\0';
	ck_assert_uint_eq(vlen, klen * 2);
	st->n++;
	return 0;
}

static void get_state_is(struct store *s, const struct store_batch *b, const char *key,
			 const char *want)
{
	void *val = NULL;
	size_t vlen = 0;
	int rc = b ? store_batch_get_state(s, b, key, strlen(key), &val, &vlen)
		   : store_get_state(s, key, strlen(key), &val, &vlen);
	if (!want) {
		ck_assert_int_eq(rc, -ENOENT);
		ck_assert_ptr_null(val);
		return;
	}
	ck_assert_msg(rc == 0, "get %s: %d", key, rc);
	ck_assert_uint_eq(vlen, strlen(want));
	ck_assert(!memcmp(val, want, vlen));
	free(val);
}

START_TEST(state_round_trip_scan_and_read_your_writes)
{
	struct store *s = open_store(NULL);
	struct store_batch *b = store_batch_new();
	static const char *keys[] = {"b", "a", "ab", "c", "aa", "b\xff", "\x01"};
	struct state_seen seen;
	char val[32];

	for (size_t i = 0; i < 7; i++) {
		size_t kl = strlen(keys[i]);
		memset(val, 'v', kl * 2);
		store_batch_put_state(b, keys[i], kl, val, kl * 2);
	}
	store_batch_put_state(b, "", 0, "", 0); /* empty key, empty value */
	write_sync(s, b);

	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(store_scan_state(s, NULL, 0, NULL, 0, state_cb, &seen), 0);
	ck_assert_int_eq(seen.n, 8);
	static const char *order[] = {"", "\x01", "a", "aa", "ab", "b", "b\xff", "c"};
	for (int i = 0; i < 8; i++)
		ck_assert_str_eq(seen.keys[i], order[i]);
	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(store_scan_state(s, "a", 1, "b", 1, state_cb, &seen), 0);
	ck_assert_int_eq(seen.n, 3); /* [a, b): a aa ab */
	ck_assert_str_eq(seen.keys[2], "ab");
	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(store_scan_state(s, "b", 1, NULL, 0, state_cb, &seen), 0);
	ck_assert_int_eq(seen.n, 3);
	/* no state from other keyspaces shows up */
	store_batch_put_paxos_meta(b, 1, &(struct store_paxos_meta){0});
	put_value_record(b, 1, 1, 3, 1, false);
	write_sync(s, b);
	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(store_scan_state(s, NULL, 0, NULL, 0, state_cb, &seen), 0);
	ck_assert_int_eq(seen.n, 8);

	void *v;
	size_t vl;
	ck_assert_int_eq(store_get_state(s, "", 0, &v, &vl), 0);
	ck_assert_uint_eq(vl, 0);
	ck_assert_ptr_nonnull(v);
	free(v);

	/* read-your-writes inside one batch */
	get_state_is(s, b, "a", "vv");
	store_batch_put_state(b, "a", 1, "new", 3);
	store_batch_del_state(b, "b", 1);
	store_batch_put_state(b, "zz", 2, "fresh", 5);
	store_batch_put_state(b, "zz", 2, "fresher", 7);
	store_batch_del_state(b, "c", 1);
	store_batch_put_state(b, "c", 1, "back", 4);
	get_state_is(s, b, "a", "new");
	get_state_is(s, b, "b", NULL);
	get_state_is(s, b, "zz", "fresher");
	get_state_is(s, b, "c", "back");
	get_state_is(s, b, "aa", "vvvv"); /* untouched: from the store */
	get_state_is(s, b, "nope", NULL);
	get_state_is(s, NULL, "a", "vv"); /* the store does not see the batch */
	get_state_is(s, NULL, "zz", NULL);
	/* many keys: the map grows and keeps answering */
	for (int i = 0; i < 1000; i++) {
		char k[16];
		snprintf(k, sizeof(k), "k%04d", i);
		store_batch_put_state(b, k, strlen(k), k, strlen(k));
	}
	for (int i = 0; i < 1000; i += 37) {
		char k[16];
		snprintf(k, sizeof(k), "k%04d", i);
		get_state_is(s, b, k, k);
	}
	write_sync(s, b);
	get_state_is(s, NULL, "a", "new");
	get_state_is(s, NULL, "b", NULL);
	get_state_is(s, NULL, "c", "back");
	get_state_is(s, NULL, "k0999", "k0999");
	/* a cleared batch forgets its writes */
	store_batch_put_state(b, "a", 1, "gone", 4);
	store_batch_clear(b);
	ck_assert(store_batch_empty(b));
	get_state_is(s, b, "a", "new");
	store_batch_free(b);
	store_free(s);
}
END_TEST

/* ---- batches ---------------------------------------------------------------------- */

START_TEST(batch_basics_and_big_batches)
{
	struct store *s = open_store(NULL);
	struct store_batch *b = store_batch_new();
	struct store_record r;

	ck_assert(store_batch_empty(b));
	ck_assert_uint_eq(store_batch_bytes(b), 0);
	ck_assert_int_eq(store_write(s, b, false), 0);
	ck_assert_int_eq(store_write(s, b, true), 0); /* an empty synced write is fine */
	store_batch_put_state(b, "k", 1, "v", 1);
	ck_assert(!store_batch_empty(b));
	ck_assert_uint_ge(store_batch_bytes(b), 2);
	store_batch_clear(b);
	ck_assert(store_batch_empty(b));

	/* 256 records of many entities in one batch, unsynced then synced */
	for (uint64_t i = 0; i < 256; i++)
		put_value_record(b, 1000 + i % 16, 1 + i / 16, 200, i, false);
	ck_assert_uint_gt(store_batch_bytes(b), 256 * 200);
	ck_assert_int_eq(store_write(s, b, false), 0);
	ck_assert(store_batch_empty(b));
	for (uint64_t i = 0; i < 256; i++) {
		ck_assert_int_eq(store_get_record(s, 1000 + i % 16, 1 + i / 16, &r), 0);
		ck_assert(value_is(r.value, 200, i));
		free(r.value);
	}
	store_free(s); /* closes with a final sync */
	s = open_store(NULL);
	ck_assert_int_eq(store_get_record(s, 1015, 16, &r), 0);
	ck_assert(value_is(r.value, 200, 255));
	free(r.value);

	/* store_batch_free(NULL) and store_free(NULL) are no-ops */
	store_batch_free(NULL);
	store_free(NULL);
	store_batch_free(b);
	store_free(s);
}
END_TEST

START_TEST(a_refused_put_fails_the_write_and_writes_nothing)
{
	struct store *s = open_store(NULL);
	struct store_batch *b = store_batch_new();
	void *v;
	size_t vl;
	/* A key longer than the batch accepts (1 GiB): refused without reading it. */
	store_batch_put_state(b, "before", 6, "x", 1);
	store_batch_del_state(b, (const void *)"unused", ((size_t)1 << 30) + 1);
	store_batch_put_state(b, "after", 5, "y", 1);
	ck_assert(!store_batch_empty(b));
	ck_assert_int_eq(store_write(s, b, true), -EINVAL);
	ck_assert_int_eq(store_write(s, b, true), -EINVAL); /* left as it was */
	ck_assert_int_eq(store_get_state(s, "before", 6, &v, &vl), -ENOENT);
	store_batch_clear(b);
	store_batch_put_state(b, "before", 6, "x", 1);
	ck_assert_int_eq(store_write(s, b, true), 0);
	ck_assert_int_eq(store_get_state(s, "before", 6, &v, &vl), 0);
	free(v);
	store_batch_free(b);
	store_free(s);
}
END_TEST

START_TEST(a_relative_dir_survives_a_chdir)
{
	struct store_options o = {.create = true, .write_buffer_bytes = 64 << 10};
	struct store_batch *b = store_batch_new();
	struct store *s = NULL;
	char err[512];
	uint8_t v[4000];

	/* the daemon opens its store, then daemonizes (chdir "/") */
	ck_assert_int_eq(chdir(test_dir), 0);
	ck_assert_int_eq(store_open("data", &o, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(chdir("/"), 0);
	for (int i = 0; i < 200; i++) { /* new logs and tables on the way */
		fill_value(v, sizeof(v), (uint64_t)i);
		store_batch_put_state(b, &i, sizeof(i), v, sizeof(v));
		ck_assert_int_eq(store_write(s, b, i % 10 == 0), 0);
	}
	store_free(s);
	s = open_store(NULL);
	for (int i = 0; i < 200; i++) {
		void *val;
		size_t vl;
		ck_assert_int_eq(store_get_state(s, &i, sizeof(i), &val, &vl), 0);
		ck_assert(value_is(val, vl, (uint64_t)i));
		free(val);
	}
	store_free(s);
	store_batch_free(b);
}
END_TEST

START_TEST(a_store_left_without_leveldb_reopens_on_use)
{
	struct store *s = open_store(NULL);
	struct store_batch *b = store_batch_new();
	struct store_record r;

	put_value_record(b, 3, 1, 5000, 31, true);
	write_sync(s, b);
	/* as after a failed write whose reopen failed too (say, disk still full) */
	pthread_mutex_lock(&s->wlock);
	leveldb_close(s->db);
	s->db = NULL;
	s->poisoned = true;
	pthread_mutex_unlock(&s->wlock);

	ck_assert_int_eq(store_get_record(s, 3, 1, &r), 0); /* a read reopens */
	ck_assert(value_is(r.value, 5000, 31));
	free(r.value);
	ck_assert_ptr_nonnull(s->db);
	ck_assert(!s->poisoned);

	pthread_mutex_lock(&s->wlock);
	leveldb_close(s->db);
	s->db = NULL;
	pthread_mutex_unlock(&s->wlock);
	put_value_record(b, 3, 2, 10, 62, true);
	write_sync(s, b); /* and so does a write */
	ck_assert_int_eq(store_get_record(s, 3, 2, &r), 0);
	free(r.value);
	store_batch_free(b);
	store_free(s);
}
END_TEST

/* ---- threads ------------------------------------------------------------------------ */

struct reader {
	struct store *s;
	volatile int *stop;
	int reads;
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	struct store_record r;
	while (!*rd->stop) {
		int n = 0;
		ck_assert_int_eq(store_scan_records(rd->s, 1, 0, UINT64_MAX, true, count_cb, &n),
				 0);
		int rc = store_get_record(rd->s, 1, 1, &r);
		ck_assert(rc == 0 || rc == -ENOENT);
		free(r.value);
		rd->reads++;
	}
	return NULL;
}

START_TEST(readers_and_a_writer_in_threads)
{
	struct store *s = open_store(NULL);
	struct store_batch *b = store_batch_new();
	volatile int stop = 0;
	struct reader rd[2] = {{s, &stop, 0}, {s, &stop, 0}};
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, reader_main, &rd[i]), 0);
	for (uint64_t i = 1; i <= 200; i++) {
		put_value_record(b, 1, i, i % 3 ? 100 : 3000, i * 31, false);
		ck_assert_int_eq(store_write(s, b, i % 10 == 0), 0);
	}
	stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(entries_of(s, 1), 200);
	store_batch_free(b);
	store_free(s);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("store records");
	STORE_TEST(s, keys_sort_in_entity_entry_order, 10);
	STORE_TEST(s, node_and_metas_round_trip_and_persist, 20);
	STORE_TEST(s, scan_entities_in_order, 20);
	STORE_TEST(s, records_round_trip_every_shape, 30);
	STORE_TEST(s, value_stored_rewrites_only_the_record, 30);
	STORE_TEST(s, the_inline_limit_is_fixed_at_creation, 30);
	STORE_TEST(s, scan_records_reads_exact_ranges_in_order, 20);
	STORE_TEST(s, trim_and_drop_entity, 30);
	STORE_TEST(s, state_round_trip_scan_and_read_your_writes, 20);
	STORE_TEST(s, batch_basics_and_big_batches, 30);
	STORE_TEST(s, a_refused_put_fails_the_write_and_writes_nothing, 20);
	STORE_TEST(s, a_relative_dir_survives_a_chdir, 30);
	STORE_TEST(s, a_store_left_without_leveldb_reopens_on_use, 30);
	STORE_TEST(s, readers_and_a_writer_in_threads, 60);
	return s;
}
