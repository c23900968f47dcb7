/* bench/verify_fill.c — data dirs of a cluster holding many files, made
 * without FUSE or Paxos, for bench/verify.sh to time paxfs-verify on.
 *
 *   bench/verify_fill CLUSTER DIR NODES FILES MIB [WRITE_KIB]
 *
 * Makes DIR/1 .. DIR/NODES, each the store of one node (NodeMeta: the
 * cluster's name, node id, not amnesic) holding the same history, laid out
 * as the daemon lays it out: every entry a chosen PlogRecord (values over
 * 1 KiB in their own 'V' key) with its PaxosMeta, applied by fs_apply; the
 * namespace log trimmed as the engine trims it (retention 1000). FILES
 * regular files in 16 directories hold MIB MiB in all, written WRITE_KIB
 * (default 4, what paxfs's writes come to) per entry. Run by hand. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "store/store.h"
#include "util/cli.h"

#define DIRS      16
#define RETENTION 1000
#define MAX_NODES 16

static struct store *st[MAX_NODES];
static struct fs *fs[MAX_NODES];
static struct fs_apply_out out;
static int nodes;
static uint64_t counter;
static struct fs_caller who = {.uid = 0, .gid = 0, .time_ns = 1700000000000000000};
/* the namespace's chain at each entry, to trim as the engine does */
static uint32_t *ns_chain;
static uint64_t ns_cap, ns_trimmed;

static void die(const char *what, int rc)
{
	util_cli_die("verify_fill", what, rc);
}

/* Applies cmd as the next entry of its entity on every node; returns the
 * first command's result inode. */
static uint64_t apply(struct fs_cmd *c)
{
	uint64_t id = 1ull << 56 | 1ull << 32 | ++counter, ino = 0, entry = 0;
	uint8_t *v;
	size_t len;
	int rc;

	if ((rc = fs_value_encode(&id, c, 1, &v, &len)) < 0)
		die("encode", rc);
	for (int n = 0; n < nodes; n++) {
		struct store_apply_meta am = {0};
		struct store_paxos_meta pm = {0};
		struct store_batch *b = store_batch_new();
		rc = fs_applied(fs[n], c->entity, &am);
		if (rc < 0 && rc != -ENOENT)
			die("fs_applied", rc);
		entry = am.applied_entry + 1;
		struct store_record rec = {.promised = 1,
					   .accepted = 1,
					   .value_id = id,
					   .chosen = true,
					   .value = v,
					   .value_len = len};
		store_get_paxos_meta(st[n], c->entity, &pm);
		pm.chosen_entry = entry;
		pm.chosen_proposer = 1;
		store_batch_put_record(b, c->entity, entry, &rec, false);
		if (c->entity == FS_NAMESPACE && entry >= ns_trimmed + 2 * RETENTION) {
			/* the engine trims to a checkpoint `retention` entries back */
			pm.trimmed_entry = entry - RETENTION;
			pm.trimmed_crc = ns_chain[pm.trimmed_entry];
			if ((rc = store_batch_trim(st[n], b, FS_NAMESPACE, pm.trimmed_entry)) < 0)
				die("trim", rc);
			if (n == nodes - 1)
				ns_trimmed = pm.trimmed_entry;
		}
		store_batch_put_paxos_meta(b, c->entity, &pm);
		if ((rc = store_write(st[n], b, false)) < 0)
			die("store_write", rc);
		store_batch_free(b);
		if ((rc = fs_apply(fs[n], c->entity, entry, v, len, &out)) < 0)
			die("fs_apply", rc);
		if (out.n_results != 1 || out.results[0].err)
			die("command", out.n_results ? out.results[0].err : EIO);
		ino = out.results[0].ino;
	}
	if (c->entity == FS_NAMESPACE) {
		if (entry >= ns_cap) {
			ns_cap = ns_cap ? ns_cap * 2 : 4096;
			ns_chain = realloc(ns_chain, ns_cap * sizeof(*ns_chain));
			if (!ns_chain)
				die("memory", ENOMEM);
		}
		ns_chain[entry] = out.meta.chain_crc;
	}
	free(v);
	fs_cmd_close(c);
	who.time_ns += 1000;
	return ino;
}

int main(int argc, char **argv)
{
	struct store_options opt = {.create = true};
	struct fs_cmd c;
	uint64_t dirs[DIRS];
	char path[4096], err[512], name[64];
	long files, mib, kib = 4;
	int rc;

	if (argc < 6 || argc > 7) {
		fprintf(stderr, "usage: verify_fill CLUSTER DIR NODES FILES MIB [WRITE_KIB]\n");
		return 2;
	}
	nodes = atoi(argv[3]);
	files = atol(argv[4]);
	mib = atol(argv[5]);
	if (argc == 7)
		kib = atol(argv[6]);
	if (nodes < 1 || nodes > MAX_NODES || files < 1 || mib < 0 || kib < 1)
		die("arguments", EINVAL);
	fs_apply_out_init(&out);
	for (int n = 0; n < nodes; n++) {
		struct store_node nm = {.node_id = (uint32_t)n + 1, .boot_count = 1};
		struct store_batch *b = store_batch_new();
		snprintf(path, sizeof(path), "%s/%d", argv[2], n + 1);
		if ((rc = store_open(path, &opt, &st[n], err, sizeof(err))) < 0) {
			fprintf(stderr, "verify_fill: %s\n", err);
			return 1;
		}
		snprintf(nm.cluster, sizeof(nm.cluster), "%s", argv[1]);
		store_batch_put_node(b, &nm);
		if ((rc = store_write(st[n], b, true)) < 0)
			die("node meta", rc);
		store_batch_free(b);
		if ((rc = fs_open(st[n], NULL, &fs[n])) < 0)
			die("fs_open", rc);
	}
	for (int d = 0; d < DIRS; d++) {
		snprintf(name, sizeof(name), "d%d", d);
		if ((rc = fs_cmd_mkdir(&who, FS_ROOT_INO, name, 0755, &c)) < 0)
			die("mkdir", rc);
		dirs[d] = apply(&c);
	}
	size_t size = (size_t)((uint64_t)mib * 1024 * 1024 / (uint64_t)files),
	       chunk = (size_t)kib * 1024;
	uint8_t *data = malloc(size + 1);
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	for (long f = 0; f < files; f++) {
		snprintf(name, sizeof(name), "f%ld", f);
		if ((rc = fs_cmd_create(&who, dirs[f % DIRS], name, 0644, true, &c)) < 0)
			die("create", rc);
		uint64_t ino = apply(&c);
		memcpy(data, &f, sizeof(f) < size ? sizeof(f) : size); /* every file differs */
		for (size_t off = 0; off < size; off += chunk) {
			size_t n = size - off < chunk ? size - off : chunk;
			if ((rc = fs_cmd_write(&who, ino, off, data + off, n, &c)) < 0)
				die("write", rc);
			apply(&c);
		}
		if (f % 1000 == 999)
			fprintf(stderr, "verify_fill: %ld files\n", f + 1);
	}
	for (int n = 0; n < nodes; n++) {
		fs_free(fs[n]);
		store_free(st[n]); /* one last synced write */
	}
	fs_apply_out_close(&out);
	free(data);
	free(ns_chain);
	return 0;
}
