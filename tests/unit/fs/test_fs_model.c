/* tests/unit/fs/test_fs_model.c — determinism and a model check.
 *
 * Seeded random sequences of every command run against fs_apply and, side
 * by side, against a small in-memory model of POSIX semantics (the model
 * decides each errno on its own). After every few steps the whole visible
 * state (directory listings, attributes, file contents) must equal the
 * model, and every entity's kept digest must equal its recomputed one.
 * A second node fed the same entries (in another interleaving of entities)
 * must end with identical digests and byte-identical state records.
 *
 * A failure prints its seed; PAXFS_FS_SEED=n replays only that seed.
 */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/fs/fs_test.h"
#include "util/endian.h"
#include "util/prng.h"

#define ROOT     FS_ROOT_INO
#define MAXI     256   /* model inodes per run */
#define MAXE     16    /* entries per model directory */
#define FILE_MAX 65536 /* model file contents stay below this */

enum kind { K_DIR = 1, K_REG, K_LNK };

struct ment {
	char name[4];
	int child; /* model inode index */
};

struct minode {
	bool used;  /* allocated */
	bool live;  /* still in the namespace (nlink > 0) */
	bool state; /* a regular file's state exists (until reclaim) */
	enum kind kind;
	uint64_t ino;
	uint32_t nlink;
	int parent; /* directories */
	struct ment ents[MAXE];
	int nents;
	uint8_t *data; /* regular files: FILE_MAX bytes, the first size valid */
	uint64_t size;
};

struct model {
	struct minode in[MAXI];
	int n;
};

static const char *names[] = {"a", "b", "c", "d", "e"};

static int mfind(struct model *m, int dir, const char *name)
{
	for (int i = 0; i < m->in[dir].nents; i++)
		if (strcmp(m->in[dir].ents[i].name, name) == 0)
			return i;
	return -1;
}

static int mnew(struct model *m, enum kind k, uint64_t ino)
{
	ck_assert_int_lt(m->n, MAXI);
	int i = m->n++;
	struct minode *x = &m->in[i];
	memset(x, 0, sizeof(*x));
	x->used = x->live = true;
	x->kind = k;
	x->ino = ino;
	x->nlink = k == K_DIR ? 2 : 1;
	if (k == K_REG) {
		x->state = true;
		x->data = calloc(1, FILE_MAX);
	}
	return i;
}

static void madd(struct model *m, int dir, const char *name, int child)
{
	struct minode *d = &m->in[dir];
	ck_assert_int_lt(d->nents, MAXE);
	snprintf(d->ents[d->nents].name, sizeof(d->ents[0].name), "%s", name);
	d->ents[d->nents].child = child;
	d->nents++;
}

static void mdel(struct model *m, int dir, int slot)
{
	struct minode *d = &m->in[dir];
	d->ents[slot] = d->ents[--d->nents];
}

/* One link of a non-directory goes. */
static void mdrop(struct model *m, int i)
{
	if (--m->in[i].nlink == 0)
		m->in[i].live = false;
}

static bool mbelow(struct model *m, int anc, int dir)
{
	for (int x = dir;; x = m->in[x].parent) {
		if (x == anc)
			return true;
		if (x == 0)
			return false;
	}
}

/* A directory for the parent argument: mostly live ones, sometimes not one. */
static int pick_dir(struct model *m, struct util_prng *p)
{
	for (int tries = 0; tries < 50; tries++) {
		int i = (int)util_prng_below(p, (uint64_t)m->n);
		if (i == 0 && util_prng_below(p, 3))
			continue; /* the root less often: deeper trees */
		if (m->in[i].live && (m->in[i].kind == K_DIR || util_prng_below(p, 10) == 0))
			return i;
		if (!m->in[i].live && util_prng_below(p, 20) == 0)
			return i; /* a directory that is gone */
	}
	return 0;
}

static int pick_file(struct model *m, struct util_prng *p)
{
	for (int tries = 0; tries < 50; tries++) {
		int i = (int)util_prng_below(p, (uint64_t)m->n);
		if (m->in[i].state)
			return i;
	}
	return -1;
}

/* The errno the model gives a parent argument: 0, -ENOENT, -ENOTDIR. */
static int mparent(struct model *m, int d)
{
	if (!m->in[d].live)
		return -ENOENT;
	return m->in[d].kind == K_DIR ? 0 : -ENOTDIR;
}

struct run {
	struct tnode n;
	struct model m;
	struct util_prng p;
	uint64_t seed;
	int step;
	bool no_reclaim; /* reclaims are local: two nodes would differ */
};

#define CHECK(cond, ...) ck_assert_msg(cond, "seed %llu step %d: " __VA_ARGS__)

static void step(struct run *r)
{
	struct model *m = &r->m;
	struct tnode *n = &r->n;
	struct util_prng *p = &r->p;
	struct fs_cmd c;
	struct fs_result res;
	/* op numbers below; weights favour what builds and moves trees */
	static const int ops[] = {0, 1, 2, 2, 2, 3, 4, 5, 6, 6, 6, 6, 7, 7, 8, 9, 10};
	int want, got, op = ops[util_prng_below(p, sizeof(ops) / sizeof(ops[0]))];
	unsigned long long sd = (unsigned long long)r->seed;
	const char *name = names[util_prng_below(p, 5)];
	int d = pick_dir(m, p);

	switch (op) {
	case 0: /* create */
	case 1: {
		bool excl = util_prng_below(p, 2);
		int slot = -1;
		want = mparent(m, d);
		if (!want && (slot = mfind(m, d, name)) >= 0) {
			enum kind k = m->in[m->in[d].ents[slot].child].kind;
			want = excl ? -EEXIST : k == K_DIR ? -EISDIR : k == K_LNK ? -EEXIST : 0;
		}
		ck_assert_int_eq(fs_cmd_create(&n->who, m->in[d].ino, name, 0644, excl, &c), 0);
		got = tn_do(n, &c, &res);
		CHECK(got == want, "create %s: %d, model %d", sd, r->step, name, got, want);
		if (!want && slot < 0) {
			int i = mnew(m, K_REG, res.ino);
			madd(m, d, name, i);
			CHECK(res.created, "create: not created", sd, r->step);
		} else if (!want) {
			CHECK(!res.created && res.ino == m->in[m->in[d].ents[slot].child].ino,
			      "create of an existing name", sd, r->step);
		}
		break;
	}
	case 2: /* mkdir or symlink */
		want = mparent(m, d);
		if (!want && mfind(m, d, name) >= 0)
			want = -EEXIST;
		if (util_prng_below(p, 4))
			ck_assert_int_eq(fs_cmd_mkdir(&n->who, m->in[d].ino, name, 0755, &c), 0);
		else
			ck_assert_int_eq(fs_cmd_symlink(&n->who, m->in[d].ino, name, "t", &c), 0);
		got = tn_do(n, &c, &res);
		CHECK(got == want, "mkdir/symlink %s: %d, model %d", sd, r->step, name, got, want);
		if (!want) {
			struct stat st = t_stat(n, res.ino);
			int i = mnew(m, S_ISDIR(st.st_mode) ? K_DIR : K_LNK, res.ino);
			madd(m, d, name, i);
			if (m->in[i].kind == K_DIR) {
				m->in[i].parent = d;
				m->in[d].nlink++;
			}
		}
		break;
	case 3: { /* unlink */
		int slot = -1;
		want = mparent(m, d);
		if (!want && (slot = mfind(m, d, name)) < 0)
			want = -ENOENT;
		if (!want && m->in[m->in[d].ents[slot].child].kind == K_DIR)
			want = -EISDIR;
		ck_assert_int_eq(fs_cmd_unlink(&n->who, m->in[d].ino, name, &c), 0);
		got = tn_do(n, &c, &res);
		CHECK(got == want, "unlink %s: %d, model %d", sd, r->step, name, got, want);
		if (!want) {
			int i = m->in[d].ents[slot].child;
			mdel(m, d, slot);
			mdrop(m, i);
			bool last = !m->in[i].live && m->in[i].kind == K_REG;
			CHECK(n->out.n_unlinked == (last ? 1u : 0u), "unlinked list", sd, r->step);
		}
		break;
	}
	case 4: { /* rmdir */
		int slot = -1;
		want = mparent(m, d);
		if (!want && (slot = mfind(m, d, name)) < 0)
			want = -ENOENT;
		if (!want && m->in[m->in[d].ents[slot].child].kind != K_DIR)
			want = -ENOTDIR;
		if (!want && m->in[m->in[d].ents[slot].child].nents)
			want = -ENOTEMPTY;
		ck_assert_int_eq(fs_cmd_rmdir(&n->who, m->in[d].ino, name, &c), 0);
		got = tn_do(n, &c, &res);
		CHECK(got == want, "rmdir %s: %d, model %d", sd, r->step, name, got, want);
		if (!want) {
			int i = m->in[d].ents[slot].child;
			mdel(m, d, slot);
			m->in[i].live = false;
			m->in[d].nlink--;
		}
		break;
	}
	case 5: { /* link */
		int i = (int)util_prng_below(p, (uint64_t)m->n);
		want = m->in[i].live ? (m->in[i].kind == K_DIR ? -EPERM : 0) : -ENOENT;
		if (!want)
			want = mparent(m, d);
		if (!want && mfind(m, d, name) >= 0)
			want = -EEXIST;
		ck_assert_int_eq(fs_cmd_link(&n->who, m->in[i].ino, m->in[d].ino, name, &c), 0);
		got = tn_do(n, &c, &res);
		CHECK(got == want, "link: %d, model %d", sd, r->step, got, want);
		if (!want) {
			madd(m, d, name, i);
			m->in[i].nlink++;
		}
		break;
	}
	case 6: { /* rename */
		int nd = pick_dir(m, p);
		const char *nn = names[util_prng_below(p, 5)];
		uint32_t flags = (uint32_t)util_prng_below(p, 3); /* 0, NOREPLACE, EXCHANGE */
		int ss = -1, ds = -1, s = -1, t = -1;
		want = mparent(m, d);
		if (!want)
			want = mparent(m, nd);
		if (!want && (ss = mfind(m, d, name)) < 0)
			want = -ENOENT;
		if (!want) {
			ds = mfind(m, nd, nn);
			s = m->in[d].ents[ss].child;
			t = ds >= 0 ? m->in[nd].ents[ds].child : -1;
			if (flags == RENAME_EXCHANGE && ds < 0)
				want = -ENOENT;
			else if (flags == RENAME_NOREPLACE && ds >= 0)
				want = -EEXIST;
		}
		bool same = !want && t == s;
		if (!want && !same) {
			bool sdir = m->in[s].kind == K_DIR, tdir = t >= 0 && m->in[t].kind == K_DIR;
			if (sdir && mbelow(m, s, nd))
				want = -EINVAL;
			else if (flags == RENAME_EXCHANGE && tdir && mbelow(m, t, d))
				want = -EINVAL;
			else if (flags != RENAME_EXCHANGE && t >= 0) {
				if (sdir && !tdir)
					want = -ENOTDIR;
				else if (!sdir && tdir)
					want = -EISDIR;
				else if (tdir && m->in[t].nents)
					want = -ENOTEMPTY;
			}
		}
		ck_assert_int_eq(
		    fs_cmd_rename(&n->who, m->in[d].ino, name, m->in[nd].ino, nn, flags, &c), 0);
		got = tn_do(n, &c, &res);
		CHECK(got == want, "rename %s -> %s flags %u: %d, model %d", sd, r->step, name, nn,
		      flags, got, want);
		if (want || same)
			break;
		if (flags == RENAME_EXCHANGE) {
			m->in[d].ents[ss].child = t;
			m->in[nd].ents[ds].child = s;
			if (d != nd) {
				if (m->in[s].kind == K_DIR) {
					m->in[s].parent = nd;
					m->in[d].nlink--;
					m->in[nd].nlink++;
				}
				if (m->in[t].kind == K_DIR) {
					m->in[t].parent = d;
					m->in[nd].nlink--;
					m->in[d].nlink++;
				}
			}
			break;
		}
		if (t >= 0) {
			if (m->in[t].kind == K_DIR) {
				m->in[t].live = false;
				m->in[nd].nlink--;
			} else {
				mdrop(m, t);
			}
			mdel(m, nd, ds);
		}
		ss = mfind(m, d, name); /* the slot may have moved */
		mdel(m, d, ss);
		madd(m, nd, nn, s);
		if (m->in[s].kind == K_DIR && d != nd) {
			m->in[s].parent = nd;
			m->in[d].nlink--;
			m->in[nd].nlink++;
		}
		break;
	}
	case 7:   /* write */
	case 8: { /* append / truncate */
		int f = pick_file(m, p);
		if (f < 0)
			break;
		struct minode *x = &m->in[f];
		uint8_t buf[9000];
		size_t len = (size_t)util_prng_below(p, sizeof(buf));
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)util_prng_next(p);
		uint64_t off = util_prng_below(p, FILE_MAX - sizeof(buf));
		int kind = op == 7 ? 0 : (int)util_prng_below(p, 2) + 1;
		if (kind == 1 && x->size + len >= FILE_MAX)
			kind = 2;
		if (kind == 0)
			ck_assert_int_eq(fs_cmd_write(&n->who, x->ino, off, buf, len, &c), 0);
		else if (kind == 1)
			ck_assert_int_eq(fs_cmd_append(&n->who, x->ino, buf, len, &c), 0);
		else
			ck_assert_int_eq(fs_cmd_truncate(&n->who, x->ino, off, &c), 0);
		got = tn_do(n, &c, &res);
		CHECK(got == 0, "write/append/truncate: %d", sd, r->step, got);
		if (kind == 1)
			off = x->size;
		if (kind == 2) {
			if (off < x->size)
				memset(x->data + off, 0, x->size - off);
			x->size = off;
		} else {
			CHECK(res.offset == off && res.written == len, "write result", sd, r->step);
			memcpy(x->data + off, buf, len);
			if (len && off + len > x->size)
				x->size = off + len;
		}
		break;
	}
	case 9: { /* punch a hole */
		int f = pick_file(m, p);
		if (f < 0)
			break;
		struct minode *x = &m->in[f];
		uint64_t off = util_prng_below(p, FILE_MAX / 2),
			 len = 1 + util_prng_below(p, 20000);
		ck_assert_int_eq(
		    fs_cmd_fallocate(&n->who, x->ino, 3 /* PUNCH_HOLE | KEEP_SIZE */, off, len, &c),
		    0);
		got = tn_do(n, &c, &res);
		CHECK(got == 0, "punch: %d", sd, r->step, got);
		if (off < x->size)
			memset(x->data + off, 0, (off + len < x->size ? off + len : x->size) - off);
		break;
	}
	case 10: { /* reclaim an unlinked file */
		int f = pick_file(m, p);
		if (f < 0 || r->no_reclaim)
			break;
		want = m->in[f].live ? -EBUSY : 0;
		got = fs_reclaim(n->fs, m->in[f].ino);
		CHECK(got == want, "reclaim: %d, model %d", sd, r->step, got, want);
		if (!got)
			m->in[f].state = false;
		break;
	}
	}
}

struct listing {
	char names[MAXE + 2][4];
	uint64_t inos[MAXE + 2];
	int n;
};

static int listing_cb(void *arg, const char *name, uint64_t ino, uint32_t type)
{
	struct listing *l = arg;
	if (l->n < MAXE + 2) {
		snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
		l->inos[l->n] = ino;
	}
	l->n++;
	return 0;
}

static void check_all(struct run *r)
{
	struct model *m = &r->m;
	struct tnode *n = &r->n;
	unsigned long long sd = (unsigned long long)r->seed;
	static uint8_t buf[FILE_MAX];

	for (int i = 0; i < m->n; i++) {
		struct minode *x = &m->in[i];
		struct stat st;
		int rc = fs_getattr(n->fs, x->ino, &st);
		if (!x->live && !x->state) {
			CHECK(rc == -ENOENT, "inode %d should be gone: %d", sd, r->step, i, rc);
			continue;
		}
		CHECK(rc == 0, "getattr %d: %d", sd, r->step, i, rc);
		CHECK(st.st_nlink == (x->live ? x->nlink : 0), "nlink of %d: %u, model %u", sd,
		      r->step, i, (unsigned)st.st_nlink, x->live ? x->nlink : 0);
		if (x->kind == K_DIR) {
			struct listing l = {0};
			CHECK(fs_readdir(n->fs, x->ino, NULL, listing_cb, &l) == 0, "readdir", sd,
			      r->step);
			CHECK(l.n == x->nents + 2, "entries of %d: %d, model %d", sd, r->step, i,
			      l.n - 2, x->nents);
			CHECK(l.inos[1] == m->in[x->parent].ino, "..", sd, r->step);
			for (int e = 2; e < l.n; e++) {
				int slot = mfind(m, i, l.names[e]);
				CHECK(slot >= 0, "extra entry %s", sd, r->step, l.names[e]);
				CHECK(m->in[x->ents[slot].child].ino == l.inos[e], "entry %s ino",
				      sd, r->step, l.names[e]);
				if (e > 2)
					CHECK(strcmp(l.names[e - 1], l.names[e]) < 0, "order", sd,
					      r->step);
			}
		} else if (x->kind == K_REG) {
			size_t got;
			CHECK((uint64_t)st.st_size == x->size, "size of %d: %lld, model %llu", sd,
			      r->step, i, (long long)st.st_size, (unsigned long long)x->size);
			CHECK(fs_read(n->fs, x->ino, 0, FILE_MAX, buf, &got) == 0, "read", sd,
			      r->step);
			CHECK(got == x->size && memcmp(buf, x->data, got) == 0,
			      "contents of %d differ", sd, r->step, i);
			uint64_t dg;
			struct store_apply_meta am;
			CHECK(fs_digest_recompute(n->fs, x->ino, &dg) == 0 &&
				  fs_applied(n->fs, x->ino, &am) == 0 && dg == am.state_digest,
			      "digest of file %d", sd, r->step, i);
		}
	}
	t_digest(n, FS_NAMESPACE);
}

static uint64_t first_seed(void)
{
	const char *s = getenv("PAXFS_FS_SEED");
	return s ? strtoull(s, NULL, 10) : 0;
}

static void run_init(struct run *r, uint64_t seed)
{
	memset(r, 0, sizeof(*r));
	r->seed = seed;
	util_prng_seed(&r->p, seed);
	tn_open(&r->n, (uint32_t)(1 + seed % 7));
	int root = mnew(&r->m, K_DIR, ROOT);
	r->m.in[root].parent = root;
}

static void run_close(struct run *r)
{
	for (int i = 0; i < r->m.n; i++)
		free(r->m.in[i].data);
	tn_close(&r->n);
}

START_TEST(random_sequences_match_the_model)
{
	uint64_t only = first_seed();
	int seeds = only ? 1 : 20;
	for (int s = 0; s < seeds; s++) {
		struct run *r = malloc(sizeof(*r));
		ck_assert_ptr_nonnull(r);
		run_init(r, only ? only : 1000 + (uint64_t)s);
		for (r->step = 0; r->step < 400; r->step++) {
			step(r);
			if (r->step % 25 == 24)
				check_all(r);
		}
		check_all(r);
		run_close(r);
		free(r);
	}
}
END_TEST

/* Compares every state record of two stores. */
struct rec_list {
	uint8_t **k, **v;
	size_t *kl, *vl;
	size_t n, cap;
};

static int rec_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct rec_list *l = arg;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->k = realloc(l->k, l->cap * sizeof(*l->k));
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		l->kl = realloc(l->kl, l->cap * sizeof(*l->kl));
		l->vl = realloc(l->vl, l->cap * sizeof(*l->vl));
	}
	l->k[l->n] = malloc(klen);
	l->v[l->n] = malloc(vlen ? vlen : 1);
	memcpy(l->k[l->n], key, klen);
	memcpy(l->v[l->n], val, vlen);
	l->kl[l->n] = klen;
	l->vl[l->n] = vlen;
	l->n++;
	return 0;
}

static void rec_list_free(struct rec_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->k[i]);
		free(l->v[i]);
	}
	free(l->k);
	free(l->v);
	free(l->kl);
	free(l->vl);
}

/* State records of entity e (or of the whole keyspace when e == 0). */
static void records(struct tnode *n, uint64_t e, struct rec_list *l)
{
	uint8_t s[8], x[8];
	memset(l, 0, sizeof(*l));
	util_put_be64(s, e ? e : 1);
	util_put_be64(x, e + 1);
	ck_assert_int_ge(store_scan_state(n->st, s, 8, e ? x : NULL, e ? 8 : 0, rec_cb, l), 0);
}

static void same_records(struct tnode *a, struct tnode *b, uint64_t e, uint64_t seed)
{
	struct rec_list la, lb;
	records(a, e, &la);
	records(b, e, &lb);
	ck_assert_msg(la.n == lb.n, "seed %llu entity %llu: %zu records vs %zu",
		      (unsigned long long)seed, (unsigned long long)e, la.n, lb.n);
	for (size_t i = 0; i < la.n; i++)
		ck_assert_msg(la.kl[i] == lb.kl[i] && la.vl[i] == lb.vl[i] &&
				  memcmp(la.k[i], lb.k[i], la.kl[i]) == 0 &&
				  memcmp(la.v[i], lb.v[i], la.vl[i]) == 0,
			      "seed %llu entity %llu: record %zu differs", (unsigned long long)seed,
			      (unsigned long long)e, i);
	rec_list_free(&la);
	rec_list_free(&lb);
}

struct ent_list {
	struct fs_entity_info e[MAXI + 8];
	int n;
};

static int ent_cb(void *arg, const struct fs_entity_info *info)
{
	struct ent_list *l = arg;
	ck_assert_int_lt(l->n, MAXI + 8);
	l->e[l->n++] = *info;
	return 0;
}

START_TEST(two_nodes_fed_the_same_entries_end_identical)
{
	uint64_t only = first_seed();
	int seeds = only ? 1 : 8;
	for (int s = 0; s < seeds; s++) {
		struct run *r = malloc(sizeof(*r));
		struct tnode b;
		ck_assert_ptr_nonnull(r);
		uint64_t seed = only ? only : 5000 + (uint64_t)s;
		run_init(r, seed);
		for (r->step = 0; r->step < 400; r->step++) {
			/* no reclaims: they are local and would make the nodes differ */
			r->no_reclaim = true;
			step(r);
		}
		/* b gets the namespace's entries first, then each file's: another
		 * interleaving of independent logs, the same entries per entity */
		tn_open(&b, 9);
		struct tnode *a = &r->n;
		for (size_t i = 0; i < a->nlog; i++)
			if (a->log[i].entity == FS_NAMESPACE)
				ck_assert_int_eq(tn_apply_raw(&b, FS_NAMESPACE, a->log[i].entry,
							      a->log[i].value, a->log[i].len),
						 0);
		for (size_t i = a->nlog; i-- > 0;) {
			/* files in reverse order of their last entry: any order works */
			const struct tentry *e = &a->log[i];
			if (e->entity == FS_NAMESPACE || tn_next_entry(&b, e->entity) != 1)
				continue;
			for (size_t j = 0; j < a->nlog; j++)
				if (a->log[j].entity == e->entity)
					ck_assert_int_eq(
					    tn_apply_raw(&b, e->entity, a->log[j].entry,
							 a->log[j].value, a->log[j].len),
					    0);
		}
		struct ent_list *la = calloc(1, sizeof(*la)), *lb = calloc(1, sizeof(*lb));
		ck_assert_int_eq(fs_entities(a->fs, 0, ent_cb, la), 0);
		ck_assert_int_eq(fs_entities(b.fs, 0, ent_cb, lb), 0);
		ck_assert_int_eq(la->n, lb->n);
		for (int i = 0; i < la->n; i++) {
			ck_assert_uint_eq(la->e[i].entity, lb->e[i].entity);
			ck_assert_int_eq(la->e[i].state, FS_ENTITY_LIVE);
			ck_assert_int_eq(lb->e[i].state, FS_ENTITY_LIVE);
			ck_assert_msg(
			    memcmp(&la->e[i].meta, &lb->e[i].meta, sizeof(la->e[i].meta)) == 0,
			    "seed %llu entity %llu: ApplyMeta differs", (unsigned long long)seed,
			    (unsigned long long)la->e[i].entity);
			ck_assert_uint_eq(t_digest(a, la->e[i].entity),
					  t_digest(&b, la->e[i].entity));
			same_records(a, &b, la->e[i].entity, seed);
		}
		same_records(a, &b, 0, seed);
		free(la);
		free(lb);
		tn_close(&b);
		run_close(r);
		free(r);
	}
}
END_TEST

START_TEST(the_digest_changes_with_the_state)
{
	struct tnode a, b;
	tn_open(&a, 1);
	tn_open(&b, 1);
	/* both nodes run the same number of commands, so times agree */
	uint64_t fa = t_create(&a, ROOT, "f", 0644);
	uint64_t fb = t_create(&b, ROOT, "f", 0644);
	ck_assert_uint_eq(fa, fb);
	ck_assert_uint_eq(t_digest(&a, FS_NAMESPACE), t_digest(&b, FS_NAMESPACE));
	t_write(&a, fa, 0, "AA", 2);
	t_write(&b, fb, 0, "AA", 2);
	t_write(&a, fa, 8192, "AA", 2);
	t_write(&b, fb, 8192, "AA", 2);
	ck_assert_uint_eq(t_digest(&a, fa), t_digest(&b, fb));
	t_write(&a, fa, 0, "x", 1);
	t_write(&b, fb, 0, "y", 1);
	ck_assert_uint_ne(t_digest(&a, fa), t_digest(&b, fb));
	t_write(&a, fa, 0, "A", 1);
	t_write(&b, fb, 0, "A", 1);
	ck_assert_uint_eq(t_digest(&a, fa), t_digest(&b, fb));
	/* the same difference at the same place of two chunks must not
	 * cancel out in the XOR (it would with a linear hash such as a CRC) */
	t_write(&a, fa, 0, "B", 1);
	t_write(&b, fb, 0, "C", 1);
	t_write(&a, fa, 8192, "B", 1);
	t_write(&b, fb, 8192, "C", 1);
	ck_assert_uint_ne(t_digest(&a, fa), t_digest(&b, fb));
	/* attributes count too */
	struct fs_cmd c;
	struct fs_setattr sa = {.valid = FS_SET_MODE, .mode = 0600};
	t_write(&a, fa, 0, "C", 1);
	t_write(&a, fa, 8192, "C", 1);
	t_write(&b, fb, 0, "C", 1);
	t_write(&b, fb, 8192, "C", 1);
	ck_assert_uint_eq(t_digest(&a, fa), t_digest(&b, fb));
	ck_assert_int_eq(fs_cmd_setattr(a.fs, &a.who, fa, &sa, &c), 0);
	ck_assert_int_eq(tn_do(&a, &c, NULL), 0);
	sa.mode = 0640;
	ck_assert_int_eq(fs_cmd_setattr(b.fs, &b.who, fb, &sa, &c), 0);
	ck_assert_int_eq(tn_do(&b, &c, NULL), 0);
	ck_assert_uint_ne(t_digest(&a, fa), t_digest(&b, fb));
	tn_close(&a);
	tn_close(&b);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("fs model");
	TEST_CASE(s, random_sequences_match_the_model, 120);
	TEST_CASE(s, two_nodes_fed_the_same_entries_end_identical, 120);
	TEST_CASE(s, the_digest_changes_with_the_state, 10);
	return s;
}
