/* bench/fs_apply.c — what fs/ costs per command, on the real store.
 *
 * Applies commands straight through fs_apply (no Paxos, no FUSE) into a
 * store in a temporary directory, and reads back through the local read
 * path. Each line: the operation, how many, the rate, and bytes written to
 * the store per command (the batch fs_apply hands to store_write, unsynced:
 * the synced Paxos log write is not fs/'s and is not measured here).
 *
 *   bench/fs_apply [DIR]     DIR: where to make the temporary store (default $TMPDIR or /tmp)
 *
 * Run by hand, with `nice`, on an otherwise quiet machine.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* nftw, mkdtemp (config.h defines it when included) */
#endif
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs/fs.h"
#include "store/store.h"
#include "util/cli.h"

static struct store *st;
static struct fs *fs;
static struct fs_apply_out out;
static struct fs_caller who = {.uid = 1000, .gid = 1000, .time_ns = 1700000000000000000};
static uint64_t next_id;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
	util_cli_die("fs_apply", what, rc);
}

/* Applies one command as the next entry of its entity; returns the batch size. */
static size_t apply(struct fs_cmd *c, struct fs_result *res)
{
	struct store_apply_meta am = {0};
	uint64_t id = 1ull << 56 | ++next_id;
	uint8_t *v;
	size_t len;
	int rc = fs_applied(fs, c->entity, &am);
	if (rc < 0 && rc != -ENOENT)
		die("fs_applied", rc);
	if ((rc = fs_value_encode(&id, c, 1, &v, &len)) < 0)
		die("fs_value_encode", rc);
	if ((rc = fs_apply(fs, c->entity, am.applied_entry + 1, v, len, &out)) < 0)
		die("fs_apply", rc);
	if (out.n_results != 1 || out.results[0].err)
		die("command", out.n_results ? out.results[0].err : -EIO);
	if (res)
		*res = out.results[0];
	free(v);
	fs_cmd_close(c);
	who.time_ns += 1000;
	return out.batch_bytes;
}

static void report(const char *what, long n, double secs, double bytes_per_op, double mb)
{
	printf("%-44s %8ld  %10.0f /s", what, n, (double)n / secs);
	if (mb > 0)
		printf("  %8.1f MB/s", mb / secs);
	if (bytes_per_op > 0)
		printf("  %9.0f B/apply", bytes_per_op);
	printf("\n");
}

static uint64_t create(uint64_t parent, const char *name)
{
	struct fs_cmd c;
	struct fs_result r;
	int rc = fs_cmd_create(&who, parent, name, 0644, true, &c);
	if (rc < 0)
		die("fs_cmd_create", rc);
	apply(&c, &r);
	return r.ino;
}

static size_t write_at(uint64_t ino, uint64_t off, const void *data, size_t len)
{
	struct fs_cmd c;
	int rc = fs_cmd_write(&who, ino, off, data, len, &c);
	if (rc < 0)
		die("fs_cmd_write", rc);
	return apply(&c, NULL);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

int main(int argc, char **argv)
{
	char base[512], dir[600], err[256];
	struct store_options opt = {.create = true};
	static uint8_t page[4096], mib[1 << 20], buf[1 << 20];
	uint64_t seed = 88172645463325252ull;
	double t0, secs, bytes;
	size_t got;
	int rc;
	long i, n;

	snprintf(base, sizeof(base), "%s/paxfs-bench-fs-XXXXXX",
		 argc > 1           ? argv[1]
		 : getenv("TMPDIR") ? getenv("TMPDIR")
				    : "/tmp");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/data", base);
	if ((rc = store_open(dir, &opt, &st, err, sizeof(err))) < 0) {
		fprintf(stderr, "fs_apply: %s\n", err);
		return 1;
	}
	if ((rc = fs_open(st, NULL, &fs)) < 0)
		die("fs_open", rc);
	fs_apply_out_init(&out);
	for (size_t k = 0; k < sizeof(mib); k++)
		mib[k] = (uint8_t)rnd(&seed);
	memcpy(page, mib, sizeof(page));

	/* namespace: creates in one directory */
	n = 20000;
	bytes = 0;
	t0 = now();
	for (i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "f%06ld", i);
		create(FS_ROOT_INO, name);
		bytes += (double)out.batch_bytes;
	}
	secs = now() - t0;
	report("create (one directory, 20k entries)", n, secs, bytes / (double)n, 0);

	/* lookups and getattr of those */
	t0 = now();
	for (i = 0; i < n; i++) {
		char name[32];
		struct stat sb;
		snprintf(name, sizeof(name), "f%06ld", rnd(&seed) % (uint64_t)n);
		if ((rc = fs_lookup(fs, FS_ROOT_INO, name, &sb)) < 0)
			die("fs_lookup", rc);
	}
	secs = now() - t0;
	report("lookup (random, local read)", n, secs, 0, 0);

	/* a 10 GiB sparse file: random 4 KiB writes */
	uint64_t big = create(FS_ROOT_INO, "big");
	write_at(big, (10ull << 30) - 1, "z", 1);
	n = 20000;
	bytes = 0;
	t0 = now();
	for (i = 0; i < n; i++) {
		uint64_t off = (rnd(&seed) % ((10ull << 30) / 4096)) * 4096;
		bytes += (double)write_at(big, off, page, sizeof(page));
	}
	secs = now() - t0;
	report("write 4 KiB, random, 10 GiB sparse file", n, secs, bytes / (double)n,
	       (double)n * 4096 / 1e6);

	/* 1 MiB sequential writes: 256 chunk puts each */
	uint64_t seq = create(FS_ROOT_INO, "seq");
	n = 256;
	bytes = 0;
	t0 = now();
	for (i = 0; i < n; i++)
		bytes += (double)write_at(seq, (uint64_t)i << 20, mib, sizeof(mib));
	secs = now() - t0;
	report("write 1 MiB, sequential (256 MiB file)", n, secs, bytes / (double)n,
	       (double)n * (1 << 20) / 1e6);

	/* overwrite the same 1 MiB again: old chunks hashed out of the digest */
	n = 64;
	t0 = now();
	for (i = 0; i < n; i++)
		write_at(seq, 0, mib, sizeof(mib));
	secs = now() - t0;
	report("overwrite 1 MiB in place", n, secs, 0, (double)n * (1 << 20) / 1e6);

	/* reads */
	n = 256;
	t0 = now();
	for (i = 0; i < n; i++)
		if ((rc = fs_read(fs, seq, (uint64_t)i << 20, sizeof(buf), buf, &got)) < 0 ||
		    got != sizeof(buf))
			die("fs_read", rc < 0 ? rc : -EIO);
	secs = now() - t0;
	report("read 1 MiB, sequential", n, secs, 0, (double)n * (1 << 20) / 1e6);
	n = 20000;
	t0 = now();
	for (i = 0; i < n; i++) {
		uint64_t off = (rnd(&seed) % (256ull << 8)) * 4096;
		if ((rc = fs_read(fs, seq, off, 4096, buf, &got)) < 0)
			die("fs_read", rc);
	}
	secs = now() - t0;
	report("read 4 KiB, random (256 MiB file)", n, secs, 0, (double)n * 4096 / 1e6);

	/* appends of 100 bytes */
	uint64_t log = create(FS_ROOT_INO, "log");
	n = 20000;
	bytes = 0;
	t0 = now();
	for (i = 0; i < n; i++) {
		struct fs_cmd c;
		if ((rc = fs_cmd_append(&who, log, page, 100, &c)) < 0)
			die("fs_cmd_append", rc);
		bytes += (double)apply(&c, NULL);
	}
	secs = now() - t0;
	report("append 100 B", n, secs, bytes / (double)n, 0);

	/* truncate the 256 MiB file to 0: every chunk read (digest) and deleted */
	{
		struct fs_cmd c;
		t0 = now();
		if ((rc = fs_cmd_truncate(&who, seq, 0, &c)) < 0)
			die("fs_cmd_truncate", rc);
		bytes = (double)apply(&c, NULL);
		secs = now() - t0;
		report("truncate 256 MiB -> 0 (65536 chunks)", 1, secs, bytes, 256.0 * 1.048576);
	}

	/* a deep digest recompute of the namespace */
	{
		uint64_t d;
		t0 = now();
		if ((rc = fs_digest_recompute(fs, FS_NAMESPACE, &d)) < 0)
			die("fs_digest_recompute", rc);
		secs = now() - t0;
		report("digest recompute, namespace (20k files)", 1, secs, 0, 0);
	}

	fs_apply_out_close(&out);
	fs_free(fs);
	store_free(st);
	nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
