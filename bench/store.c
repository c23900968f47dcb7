/* bench/store.c — how fast the store persists, next to what the disk can do.
 *
 *   bench/store [options] [DIR]      DIR (default ./bench-store.tmp) must be
 *                                    on the disk to measure; it is created
 *                                    and removed again.
 *
 * Prints, each measured for --secs seconds (or --mib MiB of data):
 *   raw fsync       4 KiB pwrite + fdatasync, appending (what a log does)
 *                   and overwriting a preallocated file
 *   batches         synced store batches of 1, 16, 256 records of 200 bytes:
 *                   batches/s, records/s, cost of a batch in raw fsyncs
 *   raw sequential  1 MiB write + fdatasync, appending
 *   point reads     records read back from tables, present and absent
 *   1 MiB values    one synced batch per 1 MiB value (kept separately): MB/s,
 *                   and how much leveldb wrote in tables besides
 *
 * Options: --secs S (2), --mib N (256), --only batches|reads|big, --write-buffer BYTES,
 * --cache BYTES,
 * --inline BYTES (store options; 0 = the store's default), --stats (print
 * leveldb's per-level statistics after each store run). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/internal.h"
#include "store/store.h"
#include "util/cli.h"
#include "util/log.h"
#include "util/prng.h"

static double secs = 2.0;
static uint64_t mib = 256;
static bool stats;
static const char *only = ""; /* "batches" or "big": run one part */
static struct store_options opt = {.create = true};
static char dir[4096];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
	util_cli_die("bench/store", what, err);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

/* ---- raw disk --------------------------------------------------------------- */

/* 4 KiB writes + fdatasync for `dur` seconds; returns microseconds per op. */
static double raw_fsync(bool append, double dur, bool print)
{
	char path[4200];
	static uint8_t buf[4096];
	uint64_t n = 0;
	double t0, t;
	int fd;

	path_in(path, sizeof(path), "raw-fsync");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die(path, errno);
	if (!append) {
		/* preallocate and sync, so the loop rewrites existing blocks */
		for (int i = 0; i < 256; i++)
			if (pwrite(fd, buf, sizeof(buf), (off_t)i * 4096) != sizeof(buf))
				die("pwrite", errno);
		if (fsync(fd) < 0)
			die("fsync", errno);
	}
	t0 = now();
	do {
		off_t off = append ? (off_t)n * 4096 : (off_t)(n % 256) * 4096;
		memset(buf, (int)n, 16);
		if (pwrite(fd, buf, sizeof(buf), off) != sizeof(buf))
			die("pwrite", errno);
		if (fdatasync(fd) < 0)
			die("fdatasync", errno);
		n++;
		t = now();
	} while (t - t0 < dur);
	close(fd);
	unlink(path);
	if (print)
		printf("raw fsync (%s)   %8.0f ops/s  %7.1f us/op\n",
		       append ? "append, 4 KiB   " : "overwrite, 4 KiB", (double)n / (t - t0),
		       (t - t0) / (double)n * 1e6);
	return (t - t0) / (double)n * 1e6;
}

/* 1 MiB appends + fdatasync for --mib MiB; returns MB/s. */
static double raw_sequential(void)
{
	char path[4200];
	uint8_t *buf = malloc(1 << 20);
	struct util_prng p;
	double t0, t;
	int fd;

	util_prng_seed(&p, 1);
	for (size_t i = 0; i < (1 << 20); i += 8) {
		uint64_t v = util_prng_next(&p);
		memcpy(buf + i, &v, 8);
	}
	path_in(path, sizeof(path), "raw-seq");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die(path, errno);
	t0 = now();
	for (uint64_t i = 0; i < mib; i++) {
		buf[0] = (uint8_t)i;
		if (write(fd, buf, 1 << 20) != (1 << 20))
			die("write", errno);
		if (fdatasync(fd) < 0)
			die("fdatasync", errno);
	}
	t = now();
	close(fd);
	unlink(path);
	free(buf);
	double mbs = (double)mib * 1.048576 / (t - t0);
	printf("raw sequential (1 MiB write + fdatasync) %7.1f MB/s  (%" PRIu64 " MiB in %.2f s)\n",
	       mbs, mib, t - t0);
	return mbs;
}

/* ---- the store ---------------------------------------------------------------- */

static struct store *fresh_store(const char *name)
{
	char path[4200], err[512];
	struct store *s = NULL;
	int rc;

	path_in(path, sizeof(path), name);
	rm_rf(path);
	rc = store_open(path, &opt, &s, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bench/store: %s\n", err);
		exit(1);
	}
	return s;
}

static void print_stats(struct store *s)
{
	char *v;
	if (!stats)
		return;
	v = leveldb_property_value(s->db, "leveldb.stats");
	if (v) {
		printf("%s", v);
		leveldb_free(v);
	}
}

static void drop_store(struct store *s, const char *name)
{
	char path[4200];
	store_free(s);
	path_in(path, sizeof(path), name);
	rm_rf(path);
}

/* Batches of k records of 200 bytes for `secs`, interleaved in rounds with
 * the raw fsync loop so that both see the same load; returns us/batch and
 * sets *fsync_us to the raw fsync cost measured alongside. */
static double batches(int k, bool sync, double *fsync_us)
{
	struct store *s = fresh_store("store-batches");
	struct store_batch *b = store_batch_new();
	const int rounds = 4;
	uint8_t value[200];
	uint64_t n = 0, entry = 1;
	double t0, t, spent = 0, raw = 0;

	memset(value, 0x5a, sizeof(value));
	for (int round = 0; round < rounds; round++) {
		if (sync)
			raw += raw_fsync(true, secs / rounds, false);
		t0 = now();
		do {
			for (int i = 0; i < k; i++, entry++) {
				struct store_record r = {.promised = entry << 8 | 1,
							 .accepted = entry << 8 | 1,
							 .value_id = entry,
							 .value = value,
							 .value_len = sizeof(value)};
				memcpy(value, &entry, sizeof(entry));
				store_batch_put_record(b, 2 + entry % 64, entry, &r, false);
			}
			int rc = store_write(s, b, sync);
			if (rc)
				die("store_write", -rc);
			n++;
			t = now();
		} while (t - t0 < secs / rounds);
		spent += t - t0;
	}
	double us = spent / (double)n * 1e6;
	if (sync) {
		*fsync_us = raw / rounds;
		printf("batches of %3d x 200 B  %8.0f batches/s  %9.0f records/s  %7.1f us/batch  "
		       "= %.2f "
		       "raw fsyncs (%.1f us alongside)\n",
		       k, (double)n / spent, (double)n * k / spent, us, us / *fsync_us, *fsync_us);
	} else {
		printf("  the same, not synced  %8.0f batches/s  %9.0f records/s  %7.1f us/batch  "
		       "(CPU "
		       "and page cache)\n",
		       (double)n / spent, (double)n * k / spent, us);
	}
	print_stats(s);
	store_batch_free(b);
	drop_store(s, "store-batches");
	return us;
}

/* MB of tables leveldb wrote (flushes and compactions), from its stats. */
static double table_mb_written(struct store *s)
{
	char *v = leveldb_property_value(s->db, "leveldb.stats"), *line;
	double total = 0;
	if (!v)
		return 0;
	for (line = strchr(v, '\n'); line; line = strchr(line + 1, '\n')) {
		int level, files;
		double size, time, rd, wr;
		if (sscanf(line + 1, "%d %d %lf %lf %lf %lf", &level, &files, &size, &time, &rd,
			   &wr) == 6)
			total += wr;
	}
	leveldb_free(v);
	return total;
}

/* One batch per 1 MiB value, --mib of them; returns MB/s. */
static double big_values(bool sync)
{
	struct store *s = fresh_store("store-big");
	struct store_batch *b = store_batch_new();
	uint8_t *value = malloc(1 << 20);
	struct util_prng p;
	double t0, t, tclose;

	util_prng_seed(&p, 2);
	for (size_t i = 0; i < (1 << 20); i += 8) {
		uint64_t v = util_prng_next(&p);
		memcpy(value + i, &v, 8);
	}
	t0 = now();
	for (uint64_t i = 1; i <= mib; i++) {
		struct store_record r = {.promised = i << 8 | 1,
					 .accepted = i << 8 | 1,
					 .value_id = i,
					 .value = value,
					 .value_len = 1 << 20};
		memcpy(value, &i, sizeof(i));
		store_batch_put_record(b, 1, i, &r, false);
		int rc = store_write(s, b, sync);
		if (rc)
			die("store_write", -rc);
	}
	t = now();
	print_stats(s);
	double tables = table_mb_written(s);
	store_batch_free(b);
	store_free(s);
	tclose = now();
	char path[4200];
	path_in(path, sizeof(path), "store-big");
	rm_rf(path);
	free(value);
	double mbs = (double)mib * 1.048576 / (t - t0);
	printf("1 MiB values, %s  %7.1f MB/s  (%" PRIu64 " MiB in %.2f s; close %.2f s; leveldb "
	       "also wrote %.0f MB of tables)\n",
	       sync ? "synced    " : "not synced", mbs, mib, t - t0, tclose - t, tables);
	return mbs;
}

/* Point reads from tables: present records at random, and absent ones (the
 * "is there a record?" question). Returns nothing; prints us/read. */
static void reads(void)
{
	const uint64_t n = 200000, entities = 64;
	struct store *s = fresh_store("store-reads");
	struct store_batch *b = store_batch_new();
	struct util_prng p;
	uint8_t value[200];
	double t0, t;
	char path[4200], err[512];

	memset(value, 0x5a, sizeof(value));
	for (uint64_t i = 0; i < n; i++) {
		struct store_record r = {.promised = 1,
					 .accepted = 1,
					 .value_id = i,
					 .value = value,
					 .value_len = sizeof(value)};
		store_batch_put_record(b, 1 + i % entities, 1 + i / entities, &r, false);
		if (i % 1000 == 999 && store_write(s, b, false))
			die("store_write", EIO);
	}
	store_free(s); /* reopening turns the log into tables */
	path_in(path, sizeof(path), "store-reads");
	opt.create = false;
	if (store_open(path, &opt, &s, err, sizeof(err))) {
		fprintf(stderr, "bench/store: %s\n", err);
		exit(1);
	}
	opt.create = true;
	util_prng_seed(&p, 3);
	for (int absent = 0; absent < 2; absent++) {
		uint64_t k = 0;
		t0 = now();
		do {
			struct store_record r;
			uint64_t e = 1 + util_prng_below(&p, entities);
			uint64_t entry = absent ? n / entities + 2 + util_prng_below(&p, 1000000)
						: 1 + util_prng_below(&p, n / entities);
			int rc = store_get_record(s, e, entry, &r);
			if (rc != (absent ? -ENOENT : 0))
				die("store_get_record", rc < 0 ? -rc : EIO);
			free(r.value);
			k++;
			t = now();
		} while (t - t0 < secs / 2);
		printf("point reads, %s   %8.0f reads/s  %6.2f us/read  (%" PRIu64
		       " records in tables)\n",
		       absent ? "absent " : "present", (double)k / (t - t0),
		       (t - t0) / (double)k * 1e6, n);
	}
	print_stats(s);
	store_batch_free(b);
	drop_store(s, "store-reads");
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench/store [--secs S] [--mib N] [--only batches|reads|big]\n"
		"                   [--write-buffer BYTES] [--cache BYTES] [--inline BYTES]\n"
		"                   [--stats] [DIR]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *base = "bench-store.tmp";

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--stats"))
			stats = true;
		else if (!strcmp(a, "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(a, "--secs") && i + 1 < argc)
			secs = atof(argv[++i]);
		else if (!strcmp(a, "--mib") && i + 1 < argc)
			mib = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(a, "--write-buffer") && i + 1 < argc)
			opt.write_buffer_bytes = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(a, "--cache") && i + 1 < argc)
			opt.cache_bytes = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(a, "--inline") && i + 1 < argc)
			opt.inline_value_max = strtoull(argv[++i], NULL, 0);
		else if (a[0] == '-')
			usage();
		else
			base = a;
	}
	if (secs <= 0 || mib == 0)
		usage();
	snprintf(dir, sizeof(dir), "%s", base);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		die(dir, errno);
	util_log_set_level(UTIL_LOG_WARN);

	double f1, f16 = 1, f256, b16 = 0, seq = 1, big = 0;
	if (!strcmp(only, "") || !strcmp(only, "batches")) {
		raw_fsync(true, secs, true);
		raw_fsync(false, secs, true);
		batches(1, true, &f1);
		batches(1, false, NULL);
		b16 = batches(16, true, &f16);
		batches(16, false, NULL);
		batches(256, true, &f256);
		batches(256, false, NULL);
	}
	if (!strcmp(only, "") || !strcmp(only, "reads"))
		reads();
	if (strcmp(only, "batches") && strcmp(only, "reads")) {
		seq = raw_sequential();
		big = big_values(true);
		big_values(false);
	}
	if (b16 > 0)
		printf("\ntarget: a synced batch of 16 costs <= 1.5 raw fsyncs: %.2f (%s)\n",
		       b16 / f16, b16 <= 1.5 * f16 ? "met" : "NOT met");
	if (big > 0)
		printf("target: 1 MiB values at >= 50%% of raw sequential: %.0f%% (%s)\n",
		       100 * big / seq, big >= 0.5 * seq ? "met" : "NOT met");
	rm_rf(dir);
	return 0;
}
