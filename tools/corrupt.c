/* tools/corrupt.c — paxfs-corrupt: damage one stopped node's data dir on
 * purpose, for the tests of paxfs-verify (built only for `make check`).
 *
 *   paxfs-corrupt DATADIR value ENTITY [ENTRY]
 *       rewrites the chosen value the log keeps at ENTRY (default: the
 *       highest applied entry the log still holds) with different bytes,
 *       every checksum valid: a node that holds another chosen value;
 *   paxfs-corrupt DATADIR state ENTITY [--keep-digest]
 *       rewrites one record of the entity's applied state (a data chunk of
 *       a file if it has one) with different bytes, checksum valid, and
 *       updates the kept digest as a divergent apply would have; with
 *       --keep-digest the digest is left (rot under a valid checksum, which
 *       only --deep finds);
 *   paxfs-corrupt DATADIR flip-record ENTITY [ENTRY]
 *   paxfs-corrupt DATADIR flip-state ENTITY
 *       flips one byte of the stored log record / first state record: its
 *       checksum fails.
 *
 * Prints one line "node=N entity=E entry=I: what it did". The flips write
 * with leveldb's C API directly, below the store's framing, which is the
 * only way to plant a checksum failure; everything else goes through the
 * store. Exit status 0, or 1 with the reason on stderr. */
#include <errno.h>
#include <leveldb/c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "fs/hash.h"
#include "store/store.h"
#include "util/cli.h"
#include "util/endian.h"

static const char *prog = "paxfs-corrupt";

#define fail(...) util_cli_error(prog, __VA_ARGS__)

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return s[0] && !*end && !errno && *out > 0;
}

/* ---- picking targets -------------------------------------------------------- */

struct last_entry {
	uint64_t upto;
	uint64_t entry;
};

static int last_cb(void *arg, uint64_t entry, const struct store_record *rec)
{
	struct last_entry *l = arg;
	if (rec->chosen && entry <= l->upto)
		l->entry = entry;
	return 0;
}

/* The highest applied entry of `entity` that the log still holds chosen. */
static int pick_entry(struct store *st, uint64_t entity, uint64_t *entry)
{
	struct store_apply_meta am;
	struct last_entry l = {0};
	int rc = store_get_apply_meta(st, entity, &am);
	if (rc < 0)
		return rc;
	l.upto = am.applied_entry;
	rc = store_scan_records(st, entity, 1, am.applied_entry, false, last_cb, &l);
	if (rc < 0)
		return rc;
	*entry = l.entry;
	return l.entry ? 0 : -ENOENT;
}

struct state_pick {
	uint8_t key[600];
	size_t klen;
	uint8_t *val;
	size_t vlen;
	bool chunk;
};

static int state_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct state_pick *p = arg;
	bool chunk = klen == 17 && ((const uint8_t *)key)[8] == 'c';
	if (klen > sizeof(p->key) || vlen == 0)
		return 0;
	if (p->val && (p->chunk || !chunk))
		return 0; /* keep the first record, unless this is the first chunk */
	free(p->val);
	if (!(p->val = malloc(vlen)))
		return -ENOMEM;
	memcpy(p->key, key, klen);
	p->klen = klen;
	memcpy(p->val, val, vlen);
	p->vlen = vlen;
	p->chunk = chunk;
	return chunk ? 1 : 0;
}

/* A non-empty state record of `entity`: its first data chunk, else its
 * first record. */
static int pick_state(struct store *st, uint64_t entity, struct state_pick *p)
{
	uint8_t lo[8], hi[8];
	util_put_be64(lo, entity);
	util_put_be64(hi, entity + 1);
	memset(p, 0, sizeof(*p));
	int rc = store_scan_state(st, lo, 8, hi, 8, state_cb, p);
	if (rc < 0)
		return rc;
	return p->val ? 0 : -ENOENT;
}

/* ---- the damage ------------------------------------------------------------- */

static int rewrite_value(struct store *st, uint64_t entity, uint64_t entry)
{
	struct store_record rec;
	struct store_batch *b;
	int rc = store_get_record(st, entity, entry, &rec);
	if (rc < 0)
		return rc;
	if (!rec.chosen || rec.value_len == 0) {
		free(rec.value);
		return -ENODATA;
	}
	/* The last byte: in a write, a byte of its data; the value still decodes
	 * as often as not, which is the subtle case. */
	rec.value[rec.value_len - 1] ^= 0x5a;
	b = store_batch_new();
	if (!b) {
		free(rec.value);
		return -ENOMEM;
	}
	store_batch_put_record(b, entity, entry, &rec, false);
	rc = store_write(st, b, true);
	store_batch_free(b);
	free(rec.value);
	return rc;
}

static int rewrite_state(struct store *st, uint64_t entity, bool keep_digest)
{
	struct state_pick p;
	struct store_apply_meta am;
	struct store_batch *b;
	int rc = pick_state(st, entity, &p);
	if (rc < 0)
		return rc;
	if ((rc = store_get_apply_meta(st, entity, &am)) < 0) {
		free(p.val);
		return rc;
	}
	uint64_t old = fs_hash_kv(p.key, p.klen, p.val, p.vlen);
	p.val[p.vlen - 1] ^= 0x5a;
	if (!keep_digest)
		am.state_digest ^= old ^ fs_hash_kv(p.key, p.klen, p.val, p.vlen);
	b = store_batch_new();
	if (!b) {
		free(p.val);
		return -ENOMEM;
	}
	store_batch_put_state(b, p.key, p.klen, p.val, p.vlen);
	store_batch_put_apply_meta(b, entity, &am);
	rc = store_write(st, b, true);
	store_batch_free(b);
	free(p.val);
	return rc;
}

/* Flips the last byte of the stored value under `key`, below the store. */
static int flip_raw(const char *dir, const uint8_t *key, size_t klen, char *err, size_t errlen)
{
	leveldb_options_t *o = leveldb_options_create();
	leveldb_filterpolicy_t *bloom = leveldb_filterpolicy_create_bloom(10);
	leveldb_readoptions_t *ro = leveldb_readoptions_create();
	leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
	char *lerr = NULL, *val = NULL;
	size_t vlen = 0;
	int rc = 0;
	leveldb_t *db;

	leveldb_options_set_filter_policy(o, bloom);
	leveldb_options_set_compression(o, leveldb_no_compression);
	leveldb_writeoptions_set_sync(wo, 1);
	db = leveldb_open(o, dir, &lerr);
	if (!db) {
		snprintf(err, errlen, "%s", lerr ? lerr : "cannot open leveldb");
		rc = -EIO;
		goto out;
	}
	val = leveldb_get(db, ro, (const char *)key, klen, &vlen, &lerr);
	if (lerr || !val || vlen < 5) {
		snprintf(err, errlen, "%s", lerr ? lerr : "no such record");
		rc = -ENOENT;
		goto close;
	}
	val[vlen - 1] ^= 0x01;
	leveldb_put(db, wo, (const char *)key, klen, val, vlen, &lerr);
	if (lerr) {
		snprintf(err, errlen, "%s", lerr);
		rc = -EIO;
	}
close:
	leveldb_free(val);
	leveldb_close(db);
out:
	leveldb_free(lerr);
	leveldb_readoptions_destroy(ro);
	leveldb_writeoptions_destroy(wo);
	leveldb_options_destroy(o);
	leveldb_filterpolicy_destroy(bloom);
	return rc;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: %s DATADIR value ENTITY [ENTRY]\n"
		"       %s DATADIR state ENTITY [--keep-digest]\n"
		"       %s DATADIR flip-record ENTITY [ENTRY]\n"
		"       %s DATADIR flip-state ENTITY\n"
		"(a stopped node's data dir; for paxfs-verify's tests)\n",
		prog, prog, prog, prog);
	return 2;
}

int main(int argc, char **argv)
{
	struct store_options sopt = {.create = false};
	struct store *st = NULL;
	struct store_node node;
	uint64_t entity, entry = 0;
	char err[512], what[64];
	const char *dir, *cmd;
	bool keep_digest = false;
	uint8_t rawkey[600];
	size_t rawlen = 0;
	int rc;

	if (argc < 4)
		return usage();
	dir = argv[1];
	cmd = argv[2];
	if (!parse_u64(argv[3], &entity))
		return fail("'%s' is not an entity", argv[3]);
	if (argc > 4 && !strcmp(argv[4], "--keep-digest") && !strcmp(cmd, "state"))
		keep_digest = true;
	else if (argc > 4 && !parse_u64(argv[4], &entry))
		return fail("'%s' is not an entry", argv[4]);
	if (argc > 5)
		return usage();

	rc = store_open(dir, &sopt, &st, err, sizeof(err));
	if (rc < 0)
		return fail("%s%s", err, rc == -EBUSY ? " (stop the node first)" : "");
	if (store_get_node(st, &node) < 0) {
		store_free(st);
		return fail("%s: no node record", dir);
	}
	if (!strcmp(cmd, "value") || !strcmp(cmd, "flip-record")) {
		if (!entry && (rc = pick_entry(st, entity, &entry)) < 0) {
			store_free(st);
			return fail("no applied entry of that entity in its log: %s",
				    strerror(-rc));
		}
	}
	if (!strcmp(cmd, "value")) {
		rc = rewrite_value(st, entity, entry);
		snprintf(what, sizeof(what), "rewrote the chosen value");
	} else if (!strcmp(cmd, "state")) {
		rc = rewrite_state(st, entity, keep_digest);
		snprintf(what, sizeof(what), "rewrote a state record%s",
			 keep_digest ? " (digest kept)" : "");
	} else if (!strcmp(cmd, "flip-record")) {
		struct store_record rec;
		rc = store_get_record(st, entity, entry, &rec);
		free(rec.value);
		rawkey[0] = 'P';
		util_put_be64(rawkey + 1, entity);
		util_put_be64(rawkey + 9, entry);
		rawlen = 17;
		snprintf(what, sizeof(what), "flipped a byte of the log record");
	} else if (!strcmp(cmd, "flip-state")) {
		struct state_pick p;
		rc = pick_state(st, entity, &p);
		if (rc == 0) {
			rawkey[0] = 'S';
			memcpy(rawkey + 1, p.key, p.klen);
			rawlen = 1 + p.klen;
			free(p.val);
		}
		snprintf(what, sizeof(what), "flipped a byte of a state record");
	} else {
		store_free(st);
		return usage();
	}
	if (rc == 0 && entry == 0) {
		/* state damage shows at the applied entry */
		struct store_apply_meta am;
		if (store_get_apply_meta(st, entity, &am) == 0)
			entry = am.applied_entry;
	}
	store_free(st); /* the raw flips need leveldb's lock */
	if (rc < 0)
		snprintf(err, sizeof(err), "%s", strerror(-rc));
	else if (rawlen)
		rc = flip_raw(dir, rawkey, rawlen, err, sizeof(err));
	if (rc < 0)
		return fail("%s: %s", what, err);
	printf("node=%u entity=%llu entry=%llu: %s\n", node.node_id, (unsigned long long)entity,
	       (unsigned long long)entry, what);
	return 0;
}
