/* tests/unit/store/test_store_corrupt.c — a damaged stored value is an
 * error (-EBADMSG, with the key named in the log), never data: for every
 * record kind, a flipped byte anywhere, a truncated value, a value under the
 * wrong key, a payload that does not decode, a separate value that is
 * missing or is not the one its record names.
 *
 * The damage is planted with leveldb's own C API, so leveldb's block checksums
 * hold and only the store's frames can catch it. */
#include "config.h"

#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <fcntl.h>

#include "store/frame.h"
#include "store/keys.h"
#include "tests/unit/store/helpers.h"
#include "util/log.h"

#define ENTITY 5
#define BIG    5000

/* Writes one of everything, then closes the store. */
static void write_pristine(void)
{
	struct store *s = open_store(NULL);
	struct store_batch *b = store_batch_new();
	struct store_node n = {.node_id = 2, .boot_count = 1};
	uint8_t small[100], *big = malloc(BIG);
	struct store_record r;

	snprintf(n.cluster, sizeof(n.cluster), "demo");
	store_batch_put_node(b, &n);
	store_batch_put_paxos_meta(b, ENTITY, &(struct store_paxos_meta){.chosen_entry = 2});
	store_batch_put_apply_meta(b, ENTITY, &(struct store_apply_meta){.applied_entry = 2});
	fill_value(small, sizeof(small), 1);
	r = (struct store_record){.promised = 0x101,
				  .accepted = 0x101,
				  .value_id = 1,
				  .chosen = true,
				  .value = small,
				  .value_len = sizeof(small)};
	store_batch_put_record(b, ENTITY, 1, &r, false);
	fill_value(big, BIG, 2);
	r = (struct store_record){.promised = 0x201,
				  .accepted = 0x201,
				  .value_id = 2,
				  .chosen = true,
				  .value = big,
				  .value_len = BIG};
	store_batch_put_record(b, ENTITY, 2, &r, false);
	store_batch_put_state(b, "inode/5", 7, "attrs", 5);
	ck_assert_int_eq(store_write(s, b, true), 0);
	store_batch_free(b);
	store_free(s);
	free(big);
}

/* ---- the log, captured ------------------------------------------------------ */

static int log_fd = -1;
static char log_path[PATH_MAX];

static void log_capture(void)
{
	snprintf(log_path, sizeof(log_path), "%s/log", test_dir);
	log_fd = open(log_path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
	ck_assert_int_ge(log_fd, 0);
	util_log_set_fd(log_fd);
}

/* True when the captured log mentions `what`; empties the log. */
static bool log_says(const char *what)
{
	char buf[8192];
	ssize_t n = pread(log_fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	ck_assert_int_eq(ftruncate(log_fd, 0), 0);
	return strstr(buf, what) != NULL;
}

/* ---- what a reader sees --------------------------------------------------------- */

enum kind {
	K_FORMAT = 1,
	K_NODE,
	K_PAXOS_META,
	K_APPLY_META,
	K_RECORD_INLINE,
	K_RECORD_SEPARATE,
	K_VALUE,
	K_STATE,
};

static const char *kind_name[] = {
    [K_FORMAT] = "format",
    [K_NODE] = "node",
    [K_PAXOS_META] = "paxos-meta entity=5",
    [K_APPLY_META] = "apply-meta entity=5",
    [K_RECORD_INLINE] = "record entity=5 entry=1",
    [K_RECORD_SEPARATE] = "record entity=5 entry=2",
    [K_VALUE] = "value entity=5 entry=2 value_id=0x2",
    [K_STATE] = "state key [69 6e 6f 64 65 2f 35]",
};

static size_t key_of(enum kind k, uint8_t *key)
{
	switch (k) {
	case K_FORMAT:
		memcpy(key, STORE_KEY_FORMAT, STORE_KEY_FORMAT_LEN);
		return STORE_KEY_FORMAT_LEN;
	case K_NODE:
		memcpy(key, STORE_KEY_NODE, STORE_KEY_NODE_LEN);
		return STORE_KEY_NODE_LEN;
	case K_PAXOS_META:
		return store_key_entity(key, STORE_TAG_PAXOS_META, ENTITY);
	case K_APPLY_META:
		return store_key_entity(key, STORE_TAG_APPLY_META, ENTITY);
	case K_RECORD_INLINE:
		return store_key_record(key, ENTITY, 1);
	case K_RECORD_SEPARATE:
		return store_key_record(key, ENTITY, 2);
	case K_VALUE:
		return store_key_value(key, ENTITY, 2, 2);
	case K_STATE:
		key[0] = 'S';
		memcpy(key + 1, "inode/5", 7);
		return 8;
	}
	return 0;
}

static int nop_record_cb(void *arg, uint64_t entry, const struct store_record *rec)
{
	return 0;
}

static int nop_entity_cb(void *arg, uint64_t entity, const struct store_paxos_meta *m)
{
	return 0;
}

static int nop_state_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	return 0;
}

/* Opens the store and reads the damaged kind every way there is; each must
 * say -EBADMSG (or, for format and node, the open itself). Reads of the
 * other kinds still work. */
static void expect_damage_detected(enum kind k, const char *how)
{
	struct store_options o = {.create = false};
	struct store_batch *b;
	struct store *s = NULL;
	struct store_record r;
	struct store_paxos_meta pm;
	struct store_apply_meta am;
	char err[512];
	void *v;
	size_t vl;
	int rc;

	rc = store_open(data_dir, &o, &s, err, sizeof(err));
	if (k == K_FORMAT || k == K_NODE) {
		ck_assert_msg(rc == -EBADMSG, "%s %s: open gave %d (%s)", kind_name[k], how, rc,
			      err);
		ck_assert_ptr_null(s);
		ck_assert_msg(strstr(err, k == K_FORMAT ? "format record" : "node record"),
			      "err: %s", err);
		ck_assert_msg(log_says(kind_name[k]), "%s %s: key not named in the log",
			      kind_name[k], how);
		return;
	}
	ck_assert_msg(rc == 0, "open: %d %s", rc, err);
	b = store_batch_new();
	switch (k) {
	case K_PAXOS_META:
		ck_assert_int_eq(store_get_paxos_meta(s, ENTITY, &pm), -EBADMSG);
		ck_assert_int_eq(store_scan_entities(s, 0, nop_entity_cb, NULL), -EBADMSG);
		break;
	case K_APPLY_META:
		ck_assert_int_eq(store_get_apply_meta(s, ENTITY, &am), -EBADMSG);
		break;
	case K_RECORD_INLINE:
	case K_RECORD_SEPARATE: {
		uint64_t entry = k == K_RECORD_INLINE ? 1 : 2;
		ck_assert_int_eq(store_get_record(s, ENTITY, entry, &r), -EBADMSG);
		ck_assert_ptr_null(r.value);
		ck_assert_int_eq(
		    store_scan_records(s, ENTITY, entry, entry, false, nop_record_cb, NULL),
		    -EBADMSG);
		ck_assert_int_eq(
		    store_scan_records(s, ENTITY, 0, UINT64_MAX, true, nop_record_cb, NULL),
		    -EBADMSG);
		break;
	}
	case K_VALUE:
		ck_assert_int_eq(store_get_record(s, ENTITY, 2, &r), -EBADMSG);
		ck_assert_ptr_null(r.value);
		ck_assert_int_eq(
		    store_scan_records(s, ENTITY, 0, UINT64_MAX, true, nop_record_cb, NULL),
		    -EBADMSG);
		break;
	case K_STATE:
		ck_assert_int_eq(store_get_state(s, "inode/5", 7, &v, &vl), -EBADMSG);
		ck_assert_ptr_null(v);
		ck_assert_int_eq(store_batch_get_state(s, b, "inode/5", 7, &v, &vl), -EBADMSG);
		ck_assert_int_eq(store_scan_state(s, NULL, 0, NULL, 0, nop_state_cb, NULL),
				 -EBADMSG);
		break;
	default:
		ck_abort();
	}
	ck_assert_msg(log_says(kind_name[k]), "%s %s: key not named in the log", kind_name[k], how);
	/* the rest of the store is still readable */
	if (k != K_PAXOS_META)
		ck_assert_int_eq(store_get_paxos_meta(s, ENTITY, &pm), 0);
	if (k != K_RECORD_INLINE) {
		ck_assert_int_eq(store_get_record(s, ENTITY, 1, &r), 0);
		free(r.value);
	}
	if (k != K_STATE) {
		ck_assert_int_eq(store_get_state(s, "inode/5", 7, &v, &vl), 0);
		free(v);
	}
	store_batch_free(b);
	store_free(s);
}

static void expect_intact(void)
{
	struct store *s = open_store(NULL);
	struct store_record r;
	ck_assert_int_eq(store_get_record(s, ENTITY, 2, &r), 0);
	ck_assert(value_is(r.value, BIG, 2));
	free(r.value);
	ck_assert_int_eq(store_scan_records(s, ENTITY, 0, UINT64_MAX, true, nop_record_cb, NULL),
			 0);
	store_free(s);
}

/* Replaces the value under kind k's key with `val`, runs the readers, and
 * puts the original back. */
static void plant(enum kind k, const void *val, size_t vlen, const char *how)
{
	uint8_t key[STORE_KEY_MAX + 8];
	size_t klen = key_of(k, key), olen;
	leveldb_t *db = raw_open();
	uint8_t *orig = raw_get(db, key, klen, &olen);
	ck_assert_msg(orig != NULL, "%s not stored", kind_name[k]);
	raw_put(db, key, klen, val, vlen);
	leveldb_close(db);

	expect_damage_detected(k, how);

	db = raw_open();
	raw_put(db, key, klen, orig, olen);
	leveldb_close(db);
	free(orig);
}

static void flip_every_kind_at(size_t pos_kind)
{
	for (enum kind k = K_FORMAT; k <= K_STATE; k++) {
		uint8_t key[STORE_KEY_MAX + 8];
		size_t klen = key_of(k, key), vlen;
		leveldb_t *db = raw_open();
		uint8_t *val = raw_get(db, key, klen, &vlen);
		leveldb_close(db);
		ck_assert_ptr_nonnull(val);
		size_t pos = pos_kind == 0 ? 0 : pos_kind == 1 ? STORE_FRAME_HDR : vlen - 1;
		char how[64];
		snprintf(how, sizeof(how), "byte %zu of %zu flipped", pos, vlen);
		val[pos] ^= 0xff;
		plant(k, val, vlen, how);
		/* one bit only, too */
		val[pos] ^= 0xff ^ 0x10;
		plant(k, val, vlen, how);
		free(val);
	}
	expect_intact();
}

START_TEST(flipped_checksum_byte_every_kind)
{
	write_pristine();
	log_capture();
	flip_every_kind_at(0);
}
END_TEST

START_TEST(flipped_first_payload_byte_every_kind)
{
	write_pristine();
	log_capture();
	flip_every_kind_at(1);
}
END_TEST

START_TEST(flipped_last_byte_every_kind)
{
	write_pristine();
	log_capture();
	flip_every_kind_at(2);
}
END_TEST

START_TEST(truncated_and_empty_values_every_kind)
{
	write_pristine();
	log_capture();
	for (enum kind k = K_FORMAT; k <= K_STATE; k++) {
		uint8_t key[STORE_KEY_MAX + 8];
		size_t klen = key_of(k, key), vlen;
		leveldb_t *db = raw_open();
		uint8_t *val = raw_get(db, key, klen, &vlen);
		leveldb_close(db);
		plant(k, val, 0, "emptied");
		plant(k, val, 3, "cut to 3 bytes");
		plant(k, val, vlen - 1, "last byte cut");
		free(val);
	}
	expect_intact();
}
END_TEST

START_TEST(a_value_under_the_wrong_key)
{
	uint8_t key[STORE_KEY_MAX], other[STORE_KEY_MAX];
	size_t vlen;
	write_pristine();
	log_capture();

	/* An intact record framed for entry 1, found under entry 2's key. */
	leveldb_t *db = raw_open();
	store_key_record(other, ENTITY, 1);
	uint8_t *val = raw_get(db, other, STORE_KEY_RECORD_LEN, &vlen);
	leveldb_close(db);
	plant(K_RECORD_SEPARATE, val, vlen, "moved from entry 1");
	free(val);
	/* Entity 5's paxos meta planted as its apply meta. */
	db = raw_open();
	store_key_entity(other, STORE_TAG_PAXOS_META, ENTITY);
	val = raw_get(db, other, STORE_KEY_ENTITY_LEN, &vlen);
	leveldb_close(db);
	plant(K_APPLY_META, val, vlen, "moved from the paxos meta");
	free(val);
	(void)key;
	expect_intact();
}
END_TEST

START_TEST(intact_frame_around_a_bad_payload)
{
	uint8_t key[STORE_KEY_MAX + 8], frame[64];
	write_pristine();
	log_capture();
	/* Bytes that are no protobuf message (a field of wire type 7), sealed
	 * with a correct checksum: the decoder has to refuse them. */
	static const uint8_t junk[] = {0x0f, 0xff, 0xff, 0xff};
	for (enum kind k = K_FORMAT; k <= K_RECORD_SEPARATE; k++) {
		size_t klen = key_of(k, key);
		memcpy(frame + STORE_FRAME_HDR, junk, sizeof(junk));
		store_frame_seal(key, klen, frame, sizeof(junk));
		plant(k, frame, STORE_FRAME_HDR + sizeof(junk), "undecodable payload");
	}
	expect_intact();
}
END_TEST

START_TEST(separate_value_missing_or_not_the_one_named)
{
	uint8_t key[STORE_KEY_MAX];
	size_t vlen;
	write_pristine();
	log_capture();

	/* deleted */
	leveldb_t *db = raw_open();
	leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
	char *err = NULL;
	store_key_value(key, ENTITY, 2, 2);
	uint8_t *orig = raw_get(db, key, STORE_KEY_VALUE_LEN, &vlen);
	leveldb_delete(db, wo, (const char *)key, STORE_KEY_VALUE_LEN, &err);
	ck_assert_ptr_null(err);
	leveldb_writeoptions_destroy(wo);
	leveldb_close(db);
	expect_damage_detected(K_VALUE, "value deleted");
	db = raw_open();
	raw_put(db, key, STORE_KEY_VALUE_LEN, orig, vlen);
	leveldb_close(db);

	/* other bytes of the same length, correctly framed for this key: only
	 * the record's value CRC can tell */
	uint8_t *other = malloc(vlen);
	fill_value(other + STORE_FRAME_HDR, vlen - STORE_FRAME_HDR, 99);
	store_frame_seal(key, STORE_KEY_VALUE_LEN, other, vlen - STORE_FRAME_HDR);
	plant(K_VALUE, other, vlen, "other bytes, framed");
	/* a shorter value, correctly framed: the record's length tells */
	store_frame_seal(key, STORE_KEY_VALUE_LEN, other, 100);
	plant(K_VALUE, other, STORE_FRAME_HDR + 100, "shorter, framed");
	free(other);
	free(orig);
	expect_intact();
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("store corruption");
	STORE_TEST(s, flipped_checksum_byte_every_kind, 60);
	STORE_TEST(s, flipped_first_payload_byte_every_kind, 60);
	STORE_TEST(s, flipped_last_byte_every_kind, 60);
	STORE_TEST(s, truncated_and_empty_values_every_kind, 60);
	STORE_TEST(s, a_value_under_the_wrong_key, 30);
	STORE_TEST(s, intact_frame_around_a_bad_payload, 30);
	STORE_TEST(s, separate_value_missing_or_not_the_one_named, 30);
	return s;
}
