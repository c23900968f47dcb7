/* tests/unit/fs/test_fs_file.c — a regular file's entity: writes and reads
 * (chunking, holes, offsets past 4 GiB, what a small write into a huge file
 * costs), truncate, O_APPEND offsets, fallocate, setattr, xattrs, the merge
 * of namespace and file attributes, and commands sent to the wrong entity. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "proto/command.pb-c.h"
#include "tests/unit/fs/fs_test.h"

#define ROOT FS_ROOT_INO
#define GiB  (1024ull * 1024 * 1024)

static int64_t ns_of(struct timespec ts)
{
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void fill(uint8_t *b, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

START_TEST(write_then_read_with_times_and_blocks)
{
	struct tnode n;
	struct fs_cmd c;
	struct fs_result r;
	size_t got;
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	int64_t t = n.who.time_ns;
	ck_assert_int_eq(fs_cmd_write(&n.who, f, 0, "hello", 5, &c), 0);
	ck_assert_uint_eq(c.entity, f);
	ck_assert_int_eq(tn_do(&n, &c, &r), 0);
	ck_assert_uint_eq(r.offset, 0);
	ck_assert_uint_eq(r.written, 5);
	ck_assert(r.has_stat);
	ck_assert_int_eq(r.st.st_size, 5);
	ck_assert_uint_eq(r.st.st_nlink, 1);
	ck_assert_uint_eq(n.out.n_inodes, 1);
	ck_assert(n.out.inodes[0].data);
	ck_assert_uint_eq(n.out.inodes[0].off, 0);
	ck_assert_uint_eq(n.out.inodes[0].len, 5);
	struct stat st = t_stat(&n, f);
	ck_assert_int_eq(st.st_size, 5);
	ck_assert_int_eq(st.st_blocks, FS_CHUNK_SIZE / 512);
	ck_assert_int_eq(ns_of(st.st_mtim), t);
	ck_assert_int_eq(ns_of(st.st_ctim), t);
	uint8_t *b = t_read(&n, f, 0, 100, &got);
	ck_assert_uint_eq(got, 5);
	ck_assert_mem_eq(b, "hello", 5);
	free(b);
	b = t_read(&n, f, 3, 100, &got);
	ck_assert_uint_eq(got, 2);
	ck_assert_mem_eq(b, "lo", 2);
	free(b);
	b = t_read(&n, f, 5, 100, &got);
	ck_assert_uint_eq(got, 0);
	free(b);
	/* an empty write changes nothing */
	ck_assert_int_eq(fs_cmd_write(&n.who, f, 100, "", 0, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, &r), 0);
	ck_assert_int_eq(t_stat(&n, f).st_size, 5);
	ck_assert_int_eq(ns_of(t_stat(&n, f).st_mtim), t);
	/* reading a directory */
	uint8_t x[4];
	ck_assert_int_eq(fs_read(n.fs, ROOT, 0, 4, x, &got), -EISDIR);
	ck_assert_int_eq(fs_read(n.fs, 999, 0, 4, x, &got), -ENOENT);
	tn_close(&n);
}
END_TEST

START_TEST(writes_across_chunks_and_holes_read_as_zeros)
{
	struct tnode n;
	size_t got;
	static uint8_t data[10000], want[120000];
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	fill(data, sizeof(data), 1);
	t_write(&n, f, 3000, data, sizeof(data)); /* chunks 0..3 */
	t_write(&n, f, 100000, data, 100);        /* chunk 24, a hole between */
	memset(want, 0, sizeof(want));
	memcpy(want + 3000, data, sizeof(data));
	memcpy(want + 100000, data, 100);
	uint8_t *b = t_read(&n, f, 0, sizeof(want), &got);
	ck_assert_uint_eq(got, 100100);
	ck_assert_mem_eq(b, want, got);
	free(b);
	ck_assert_int_eq(t_stat(&n, f).st_blocks, 5 * FS_CHUNK_SIZE / 512);
	/* overwrite in the middle, unaligned */
	t_write(&n, f, 4090, "ABCDEFGHIJKL", 12);
	memcpy(want + 4090, "ABCDEFGHIJKL", 12);
	b = t_read(&n, f, 4000, 200, &got);
	ck_assert_uint_eq(got, 200);
	ck_assert_mem_eq(b, want + 4000, 200);
	free(b);
	/* a read entirely inside the hole */
	b = t_read(&n, f, 20000, 50000, &got);
	ck_assert_uint_eq(got, 50000);
	ck_assert(all_zero(b, got));
	free(b);
	ck_assert_int_eq(t_stat(&n, f).st_blocks, 5 * FS_CHUNK_SIZE / 512);
	tn_close(&n);
}
END_TEST

START_TEST(a_small_write_into_a_huge_sparse_file_costs_one_chunk)
{
	struct tnode n;
	size_t got;
	static uint8_t page[4096], mib[1 << 20];
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "big", 0644);
	t_write(&n, f, 10 * GiB - 1, "z", 1);
	ck_assert_uint_eq((uint64_t)t_stat(&n, f).st_size, 10 * GiB);
	size_t before = t_count_state(&n);

	fill(page, sizeof(page), 2);
	t_write(&n, f, 5 * GiB, page, sizeof(page));
	/* one chunk, the attributes and the cursor: about 4 KiB of work */
	ck_assert_uint_ge(n.out.batch_bytes, 4096);
	ck_assert_uint_lt(n.out.batch_bytes, 4096 + 512);
	ck_assert_uint_eq(t_count_state(&n), before + 1);
	/* unaligned: two chunks */
	t_write(&n, f, 7 * GiB + 100, page, sizeof(page));
	ck_assert_uint_lt(n.out.batch_bytes, 2 * 4096 + 512);
	ck_assert_uint_eq(t_count_state(&n), before + 3);
	/* 1 MiB aligned: 256 chunk puts */
	fill(mib, sizeof(mib), 3);
	t_write(&n, f, 3 * GiB, mib, sizeof(mib));
	ck_assert_uint_ge(n.out.batch_bytes, sizeof(mib));
	ck_assert_uint_lt(n.out.batch_bytes, sizeof(mib) + 256 * 32 + 512);
	ck_assert_uint_eq(t_count_state(&n), before + 3 + 256);

	/* reads past 4 GiB, and the holes around them */
	uint8_t *b = t_read(&n, f, 5 * GiB, 4096, &got);
	ck_assert_uint_eq(got, 4096);
	ck_assert_mem_eq(b, page, 4096);
	free(b);
	b = t_read(&n, f, 7 * GiB + 100, 4096, &got);
	ck_assert_mem_eq(b, page, 4096);
	free(b);
	b = t_read(&n, f, 3 * GiB, sizeof(mib), &got);
	ck_assert_uint_eq(got, sizeof(mib));
	ck_assert_mem_eq(b, mib, sizeof(mib));
	free(b);
	b = t_read(&n, f, 4 * GiB - 10, 20, &got);
	ck_assert(all_zero(b, 20));
	free(b);
	b = t_read(&n, f, 10 * GiB - 2, 10, &got);
	ck_assert_uint_eq(got, 2);
	ck_assert_mem_eq(b, "\0z", 2);
	free(b);
	/* 4 GiB + a bit: the offset does not wrap at 32 bits */
	t_write(&n, f, 4 * GiB + 10, "past4g", 6);
	b = t_read(&n, f, 10, 6, &got);
	ck_assert(all_zero(b, 6));
	free(b);
	b = t_read(&n, f, 4 * GiB + 10, 6, &got);
	ck_assert_mem_eq(b, "past4g", 6);
	free(b);
	ck_assert_int_eq(t_stat(&n, f).st_blocks, (1 + 1 + 2 + 256 + 1) * FS_CHUNK_SIZE / 512);
	tn_close(&n);
}
END_TEST

START_TEST(truncate_down_and_up)
{
	struct tnode n;
	struct fs_cmd c;
	size_t got;
	static uint8_t aa[10000];
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	memset(aa, 0xaa, sizeof(aa));
	t_write(&n, f, 0, aa, sizeof(aa));
	ck_assert_int_eq(t_stat(&n, f).st_blocks, 3 * 8);
	int64_t t = n.who.time_ns;
	t_truncate(&n, f, 5000);
	struct stat st = t_stat(&n, f);
	ck_assert_int_eq(st.st_size, 5000);
	ck_assert_int_eq(st.st_blocks, 2 * 8);
	ck_assert_int_eq(ns_of(st.st_mtim), t);
	/* what the kernel must drop: data from the new end */
	ck_assert(n.out.inodes[0].data);
	ck_assert_uint_eq(n.out.inodes[0].off, 5000);
	ck_assert_uint_eq(n.out.inodes[0].len, 0);
	uint8_t *b = t_read(&n, f, 0, 10000, &got);
	ck_assert_uint_eq(got, 5000);
	ck_assert_mem_eq(b, aa, 5000);
	free(b);
	/* growing again shows zeros where the cut data was */
	t_truncate(&n, f, 9000);
	b = t_read(&n, f, 0, 10000, &got);
	ck_assert_uint_eq(got, 9000);
	ck_assert_mem_eq(b, aa, 5000);
	ck_assert(all_zero(b + 5000, 4000));
	free(b);
	ck_assert_int_eq(t_stat(&n, f).st_blocks, 2 * 8);
	/* to a chunk boundary, and to zero */
	t_write(&n, f, 0, aa, sizeof(aa));
	t_truncate(&n, f, 8192);
	ck_assert_int_eq(t_stat(&n, f).st_blocks, 2 * 8);
	t_truncate(&n, f, 0);
	st = t_stat(&n, f);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_int_eq(st.st_blocks, 0);
	/* a huge sparse size, then back */
	t_truncate(&n, f, 64 * GiB);
	ck_assert_uint_eq((uint64_t)t_stat(&n, f).st_size, 64 * GiB);
	b = t_read(&n, f, 40 * GiB, 100, &got);
	ck_assert_uint_eq(got, 100);
	ck_assert(all_zero(b, 100));
	free(b);
	ck_assert_int_eq(fs_cmd_truncate(&n.who, f, (uint64_t)INT64_MAX + 1, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EFBIG);
	ck_assert_uint_eq((uint64_t)t_stat(&n, f).st_size, 64 * GiB);
	t_digest(&n, f);
	tn_close(&n);
}
END_TEST

START_TEST(append_offsets_are_decided_at_apply)
{
	struct tnode n;
	struct fs_cmd c[3];
	struct fs_result r;
	size_t got;
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "log", 0644);
	ck_assert_int_eq(fs_cmd_append(&n.who, f, "ab", 2, &c[0]), 0);
	ck_assert_int_eq(tn_do(&n, &c[0], &r), 0);
	ck_assert_uint_eq(r.offset, 0);
	ck_assert_uint_eq(r.written, 2);
	ck_assert_int_eq(fs_cmd_append(&n.who, f, "cd", 2, &c[0]), 0);
	ck_assert_int_eq(tn_do(&n, &c[0], &r), 0);
	ck_assert_uint_eq(r.offset, 2);
	t_write(&n, f, 100, "x", 1);
	/* three appends from "three nodes" in one value: none overwrites another */
	for (int i = 0; i < 3; i++) {
		char s[2] = {(char)('A' + i), 0};
		ck_assert_int_eq(fs_cmd_append(&n.who, f, s, 1, &c[i]), 0);
	}
	ck_assert_int_eq(tn_apply_many(&n, f, c, 3), 0);
	ck_assert_uint_eq(n.out.n_results, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(n.out.results[i].err, 0);
		ck_assert_uint_eq(n.out.results[i].offset, 101 + (uint64_t)i);
	}
	uint8_t *b = t_read(&n, f, 0, 200, &got);
	ck_assert_uint_eq(got, 104);
	ck_assert_mem_eq(b, "abcd", 4);
	ck_assert_mem_eq(b + 100, "xABC", 4);
	free(b);
	tn_close(&n);
}
END_TEST

/* tar, cp -p: a buffered write carried by the setattr after it is one
 * command, applied write first; a failed write applies nothing, a failed
 * setattr keeps the write (mount/req.c tells them apart by `written`). */
START_TEST(a_write_carried_by_a_setattr)
{
	struct tnode n;
	struct fs_cmd c;
	struct fs_result r;
	size_t got;
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "f", 0600);
	struct fs_carried_write w = {.offset = 2, .data = "abc", .len = 3};
	struct fs_setattr a = {.valid = FS_SET_MODE | FS_SET_MTIME, .mode = 0640, .mtime_ns = 77};
	ck_assert_int_eq(fs_cmd_write_setattr(n.fs, &n.who, f, &w, &a, &c), 0);
	ck_assert_uint_eq(c.entity, f);
	ck_assert_int_eq(tn_do(&n, &c, &r), 0);
	ck_assert_int_eq(r.err, 0);
	ck_assert_uint_eq(r.written, 3);
	ck_assert(r.has_stat);
	ck_assert_int_eq(r.st.st_size, 5);
	ck_assert_uint_eq(r.st.st_mode, S_IFREG | 0640);
	struct stat st = t_stat(&n, f);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 0640);
	ck_assert_int_eq(ns_of(st.st_mtim), 77); /* the setattr's, after the write's */
	uint8_t *b = t_read(&n, f, 0, 100, &got);
	ck_assert_uint_eq(got, 5);
	ck_assert_mem_eq(b, "\0\0abc", 5);
	free(b);

	/* the write fails (past the largest size): nothing of it is applied */
	w.offset = (uint64_t)FS_FILE_SIZE_MAX;
	a.mode = 0600;
	ck_assert_int_eq(fs_cmd_write_setattr(n.fs, &n.who, f, &w, &a, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, &r), -EFBIG);
	ck_assert_uint_eq(r.written, 0);
	ck_assert_uint_eq(t_stat(&n, f).st_mode, S_IFREG | 0640);

	/* the setattr fails (a size past the largest): the write stays */
	w.offset = 0;
	a.valid = FS_SET_SIZE;
	a.size = (uint64_t)FS_FILE_SIZE_MAX + 1;
	ck_assert_int_eq(fs_cmd_write_setattr(n.fs, &n.who, f, &w, &a, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, &r), -EFBIG);
	ck_assert_uint_eq(r.written, 3);
	b = t_read(&n, f, 0, 100, &got);
	ck_assert_uint_eq(got, 5);
	ck_assert_mem_eq(b, "abcbc", 5);
	free(b);

	/* only a regular file has buffered writes */
	uint64_t d = t_mkdir(&n, ROOT, "d", 0755);
	ck_assert_int_eq(fs_cmd_write_setattr(n.fs, &n.who, d, &w, &a, &c), -EISDIR);
	tn_close(&n);
}
END_TEST

START_TEST(setattr_of_a_file_and_the_merged_attributes)
{
	struct tnode n;
	struct fs_cmd c;
	struct fs_result r;
	size_t got;
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	t_write(&n, f, 0, "0123456789", 10);
	int64_t t = n.who.time_ns;
	struct fs_setattr a = {
	    .valid = FS_SET_MODE | FS_SET_UID | FS_SET_GID, .mode = 04711, .uid = 7, .gid = 8};
	ck_assert_int_eq(fs_cmd_setattr(n.fs, &n.who, f, &a, &c), 0);
	ck_assert_uint_eq(c.entity, f); /* a regular file orders its own attributes */
	ck_assert_int_eq(tn_do(&n, &c, &r), 0);
	ck_assert(r.has_stat);
	struct stat st = t_stat(&n, f);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 04711);
	ck_assert_uint_eq(st.st_uid, 7);
	ck_assert_uint_eq(st.st_gid, 8);
	ck_assert_int_eq(ns_of(st.st_ctim), t);

	/* O_TRUNC: size with explicit times, in one command */
	a.valid = FS_SET_SIZE | FS_SET_MTIME | FS_SET_ATIME;
	a.size = 4;
	a.mtime_ns = 1000;
	a.atime_ns = 2000;
	ck_assert_int_eq(fs_cmd_setattr(n.fs, &n.who, f, &a, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	st = t_stat(&n, f);
	ck_assert_int_eq(st.st_size, 4);
	ck_assert_int_eq(ns_of(st.st_mtim), 1000);
	ck_assert_int_eq(ns_of(st.st_atim), 2000);
	uint8_t *b = t_read(&n, f, 0, 100, &got);
	ck_assert_uint_eq(got, 4);
	ck_assert_mem_eq(b, "0123", 4);
	free(b);
	/* size alone sets mtime to the command's time */
	a.valid = FS_SET_SIZE;
	a.size = 2;
	t = n.who.time_ns;
	ck_assert_int_eq(fs_cmd_setattr(n.fs, &n.who, f, &a, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	ck_assert_int_eq(ns_of(t_stat(&n, f).st_mtim), t);

	/* nlink and the ctime of a link change come from the namespace */
	t = n.who.time_ns;
	ck_assert_int_eq(e_link(&n, f, ROOT, "g"), 0);
	st = t_stat(&n, f);
	ck_assert_uint_eq(st.st_nlink, 2);
	ck_assert_int_eq(ns_of(st.st_ctim), t);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 04711); /* not the birth mode */
	/* a later change of the file wins again */
	t = n.who.time_ns;
	t_write(&n, f, 0, "x", 1);
	ck_assert_int_eq(ns_of(t_stat(&n, f).st_ctim), t);
	tn_close(&n);
}
END_TEST

START_TEST(fallocate_modes)
{
	struct tnode n;
	struct fs_cmd c;
	size_t got;
	static uint8_t aa[5 * 4096];
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	ck_assert_int_eq(fs_cmd_fallocate(&n.who, f, 0, 0, 10000, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	struct stat st = t_stat(&n, f);
	ck_assert_int_eq(st.st_size, 10000);
	ck_assert_int_eq(st.st_blocks, 0); /* no space is reserved */
	uint8_t *b = t_read(&n, f, 0, 10000, &got);
	ck_assert_uint_eq(got, 10000);
	ck_assert(all_zero(b, got));
	free(b);
	ck_assert_int_eq(fs_cmd_fallocate(&n.who, f, FALLOC_FL_KEEP_SIZE, 0, 50000, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	ck_assert_int_eq(t_stat(&n, f).st_size, 10000);
	ck_assert_int_eq(fs_cmd_fallocate(&n.who, f, 0, 100, 10, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	ck_assert_int_eq(t_stat(&n, f).st_size, 10000);

	/* punch a hole: whole chunks go, partial ones are zeroed, size stays */
	memset(aa, 0xaa, sizeof(aa));
	t_write(&n, f, 0, aa, sizeof(aa));
	ck_assert_int_eq(t_stat(&n, f).st_blocks, 5 * 8);
	ck_assert_int_eq(fs_cmd_fallocate(&n.who, f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					  1000, 3 * 4096, &c),
			 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	st = t_stat(&n, f);
	ck_assert_int_eq(st.st_size, sizeof(aa));
	ck_assert_int_eq(st.st_blocks, 3 * 8);
	b = t_read(&n, f, 0, sizeof(aa), &got);
	ck_assert_mem_eq(b, aa, 1000);
	ck_assert(all_zero(b + 1000, 3 * 4096));
	ck_assert_mem_eq(b + 1000 + 3 * 4096, aa, sizeof(aa) - 1000 - 3 * 4096);
	free(b);
	/* inside one chunk */
	ck_assert_int_eq(
	    fs_cmd_fallocate(&n.who, f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 16400, 10, &c),
	    0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	b = t_read(&n, f, 16390, 30, &got);
	ck_assert_mem_eq(b, aa, 10);
	ck_assert(all_zero(b + 10, 10));
	ck_assert_mem_eq(b + 20, aa, 10);
	free(b);
	/* zero range past the end grows the file */
	ck_assert_int_eq(fs_cmd_fallocate(&n.who, f, FALLOC_FL_ZERO_RANGE, 20000, 10000, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	ck_assert_int_eq(t_stat(&n, f).st_size, 30000);
	b = t_read(&n, f, 20000, 10000, &got);
	ck_assert_uint_eq(got, 10000);
	ck_assert(all_zero(b, got));
	free(b);

	ck_assert_int_eq(fs_cmd_fallocate(&n.who, f, FALLOC_FL_PUNCH_HOLE, 0, 10, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EOPNOTSUPP);
	ck_assert_int_eq(fs_cmd_fallocate(&n.who, f, FALLOC_FL_COLLAPSE_RANGE, 0, 4096, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EOPNOTSUPP);
	ck_assert_int_eq(fs_cmd_fallocate(&n.who, f, 0, 0, 0, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EINVAL);
	ck_assert_int_eq(fs_cmd_fallocate(&n.who, f, 0, INT64_MAX, 2, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EFBIG);
	t_digest(&n, f);
	tn_close(&n);
}
END_TEST

START_TEST(xattrs_of_a_file_live_in_its_entity)
{
	struct tnode n;
	struct fs_cmd c;
	char buf[64];
	size_t len;
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	ck_assert_int_eq(fs_cmd_setxattr(n.fs, &n.who, f, "user.k", "v1", 2, XATTR_CREATE, &c), 0);
	ck_assert_uint_eq(c.entity, f);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	ck_assert_int_eq(fs_cmd_setxattr(n.fs, &n.who, f, "user.k", "v2", 2, XATTR_CREATE, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EEXIST);
	ck_assert_int_eq(fs_cmd_setxattr(n.fs, &n.who, f, "user.k", "v3", 2, XATTR_REPLACE, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	ck_assert_int_eq(fs_getxattr(n.fs, f, "user.k", buf, sizeof(buf), &len), 0);
	ck_assert_mem_eq(buf, "v3", 2);
	ck_assert_int_eq(fs_listxattr(n.fs, f, buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 7);
	ck_assert_str_eq(buf, "user.k");
	ck_assert_int_eq(fs_cmd_removexattr(n.fs, &n.who, f, "user.k", &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	ck_assert_int_eq(fs_getxattr(n.fs, f, "user.k", buf, sizeof(buf), &len), -ENODATA);
	ck_assert_int_eq(fs_cmd_setxattr(n.fs, &n.who, f, "user.e", "", 0, 0, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	ck_assert_int_eq(fs_getxattr(n.fs, f, "user.e", buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 0);
	/* namespace state is untouched by file xattrs */
	ck_assert_int_eq(fs_listxattr(n.fs, ROOT, buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 0);
	tn_close(&n);
}
END_TEST

START_TEST(commands_sent_to_the_wrong_entity_are_refused)
{
	struct tnode n;
	struct fs_cmd c;
	tn_open(&n, 1);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	uint64_t g = t_create(&n, ROOT, "g", 0644);
	/* data commands to the namespace */
	ck_assert_int_eq(fs_cmd_write(&n.who, f, 0, "x", 1, &c), 0);
	c.entity = FS_NAMESPACE;
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EINVAL);
	/* namespace commands to a file */
	ck_assert_int_eq(fs_cmd_mkdir(&n.who, ROOT, "d", 0755, &c), 0);
	c.entity = f;
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EINVAL);
	ck_assert_int_eq(e_lookup(&n, ROOT, "d"), -ENOENT);
	/* attributes of g through f's entity, of f through the namespace */
	struct fs_setattr a = {.valid = FS_SET_MODE, .mode = 0600};
	ck_assert_int_eq(fs_cmd_setattr(n.fs, &n.who, g, &a, &c), 0);
	c.entity = f;
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EINVAL);
	ck_assert_int_eq(fs_cmd_setattr(n.fs, &n.who, f, &a, &c), 0);
	c.entity = FS_NAMESPACE;
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EINVAL);
	ck_assert_int_eq(fs_cmd_setxattr(n.fs, &n.who, f, "user.x", "1", 1, 0, &c), 0);
	c.entity = FS_NAMESPACE;
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EINVAL);
	ck_assert_uint_eq(t_stat(&n, f).st_mode, S_IFREG | 0644);
	ck_assert_uint_eq(t_stat(&n, g).st_mode, S_IFREG | 0644);
	/* EFBIG */
	ck_assert_int_eq(fs_cmd_write(&n.who, f, INT64_MAX - 1, "xy", 2, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EFBIG);
	ck_assert_int_eq(fs_cmd_write(&n.who, f, (uint64_t)INT64_MAX + 5, "x", 1, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EFBIG);
	ck_assert_int_eq(t_stat(&n, f).st_size, 0);
	tn_close(&n);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("fs file");
	TEST_CASE(s, write_then_read_with_times_and_blocks, 10);
	TEST_CASE(s, writes_across_chunks_and_holes_read_as_zeros, 10);
	TEST_CASE(s, a_small_write_into_a_huge_sparse_file_costs_one_chunk, 30);
	TEST_CASE(s, truncate_down_and_up, 10);
	TEST_CASE(s, append_offsets_are_decided_at_apply, 10);
	TEST_CASE(s, setattr_of_a_file_and_the_merged_attributes, 10);
	TEST_CASE(s, a_write_carried_by_a_setattr, 10);
	TEST_CASE(s, fallocate_modes, 10);
	TEST_CASE(s, xattrs_of_a_file_live_in_its_entity, 10);
	TEST_CASE(s, commands_sent_to_the_wrong_entity_are_refused, 10);
	return s;
}
