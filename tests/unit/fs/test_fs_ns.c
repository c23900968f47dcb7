/* tests/unit/fs/test_fs_ns.c — the namespace as a user sees it: create,
 * mkdir, mknod, symlink, link, unlink, rmdir, rename (flags, replacing,
 * moving a directory into its own subtree), their errnos, nlink, times,
 * setgid directories, readdir order and continuation, directory attributes
 * and xattrs. Every case drives fs_apply with encoded values. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "proto/command.pb-c.h"
#include "tests/unit/fs/fs_test.h"

#define ROOT FS_ROOT_INO
#define NODE 3

static int64_t ns_of(struct timespec ts)
{
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

START_TEST(create_gives_a_file_with_a_deterministic_inode)
{
	struct tnode n;
	tn_open(&n, NODE);
	int64_t t = n.who.time_ns;
	uint64_t a = t_create(&n, ROOT, "a", 0640);
	uint64_t b = t_create(&n, ROOT, "b", 0600);
	/* counter << 8 | proposing node, counter from 1 (root is inode 1) */
	ck_assert_uint_eq(a, 1u << 8 | NODE);
	ck_assert_uint_eq(b, 2u << 8 | NODE);

	struct stat st = t_stat(&n, a);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 0640);
	ck_assert_uint_eq(st.st_nlink, 1);
	ck_assert_uint_eq(st.st_uid, 1000);
	ck_assert_uint_eq(st.st_gid, 1000);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_int_eq(st.st_blocks, 0);
	ck_assert_int_eq(st.st_blksize, FS_BLKSIZE);
	ck_assert_int_eq(ns_of(st.st_mtim), t);
	ck_assert_int_eq(ns_of(st.st_ctim), t);

	/* the parent's mtime and ctime are the create's time */
	struct stat r = t_stat(&n, ROOT);
	ck_assert(S_ISDIR(r.st_mode));
	ck_assert_int_eq(ns_of(r.st_mtim), t + 1000);
	ck_assert_int_eq(ns_of(r.st_ctim), t + 1000);
	ck_assert_int_eq(r.st_size, 2);

	ck_assert_uint_eq(t_lookup(&n, ROOT, "a"), a);
	char *l = t_list(&n, ROOT);
	ck_assert_str_eq(l, "a\nb\n");
	free(l);

	/* the result carries the new inode's attributes */
	struct fs_cmd c;
	struct fs_result res;
	ck_assert_int_eq(fs_cmd_create(&n.who, ROOT, "c", 0644, true, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, &res), 0);
	ck_assert(res.has_stat && res.created);
	ck_assert_uint_eq(res.st.st_ino, res.ino);
	ck_assert_uint_eq(res.st.st_mode, S_IFREG | 0644);
	/* what the kernel must forget: the new entry, the parent */
	ck_assert_uint_eq(n.out.n_entries, 1);
	ck_assert_str_eq(n.out.entries[0].name, "c");
	ck_assert_uint_eq(n.out.entries[0].parent, ROOT);
	ck_assert(!n.out.entries[0].removed);
	ck_assert_uint_ge(n.out.n_inodes, 1);
	tn_close(&n);
}
END_TEST

START_TEST(create_excl_and_open_of_an_existing_name)
{
	struct tnode n;
	struct fs_cmd c;
	struct fs_result r;
	tn_open(&n, NODE);
	uint64_t a = t_create(&n, ROOT, "a", 0644);
	t_mkdir(&n, ROOT, "d", 0755);
	t_symlink(&n, ROOT, "s", "a");
	ck_assert_int_eq(e_create(&n, ROOT, "a", 0644, true), -EEXIST);
	/* O_CREAT without O_EXCL on a name that appeared: that file, unchanged */
	ck_assert_int_eq(fs_cmd_create(&n.who, ROOT, "a", 0600, false, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, &r), 0);
	ck_assert(!r.created);
	ck_assert_uint_eq(r.ino, a);
	ck_assert_uint_eq(t_stat(&n, a).st_mode, S_IFREG | 0644);
	ck_assert_int_eq(e_create(&n, ROOT, "d", 0644, false), -EISDIR);
	ck_assert_int_eq(e_create(&n, ROOT, "s", 0644, false), -EEXIST);
	ck_assert_int_eq(e_create(&n, ROOT, "d", 0644, true), -EEXIST);
	tn_close(&n);
}
END_TEST

START_TEST(namespace_errnos)
{
	struct tnode n;
	struct fs_cmd c;
	char longname[FS_NAME_MAX + 2];
	tn_open(&n, NODE);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	ck_assert_int_eq(e_create(&n, 999 << 8 | NODE, "x", 0644, true), -ENOENT);
	ck_assert_int_eq(e_create(&n, f, "x", 0644, true), -ENOTDIR);
	ck_assert_int_eq(e_mkdir(&n, f, "x"), -ENOTDIR);
	ck_assert_int_eq(e_unlink(&n, ROOT, "nothing"), -ENOENT);
	ck_assert_int_eq(e_rmdir(&n, ROOT, "nothing"), -ENOENT);
	ck_assert_int_eq(e_rmdir(&n, ROOT, "f"), -ENOTDIR);
	ck_assert_int_eq(e_unlink(&n, f, "x"), -ENOTDIR);

	memset(longname, 'n', sizeof(longname));
	longname[FS_NAME_MAX + 1] = '\0';
	/* The builder refuses a long name at once ... */
	ck_assert_int_eq(fs_cmd_create(&n.who, ROOT, longname, 0644, true, &c), -ENAMETOOLONG);
	ck_assert_int_eq(fs_cmd_mkdir(&n.who, ROOT, "a/b", 0755, &c), -EINVAL);
	/* ... and apply refuses it too when a peer sends it anyway. */
	Paxfs__Command m = PAXFS__COMMAND__INIT;
	Paxfs__Create cr = PAXFS__CREATE__INIT;
	m.version = 1;
	m.op_case = PAXFS__COMMAND__OP_CREATE;
	m.create = &cr;
	cr.parent = ROOT;
	cr.name.data = (uint8_t *)longname;
	cr.name.len = FS_NAME_MAX + 1;
	t_pack(&m.base, FS_NAMESPACE, &c);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -ENAMETOOLONG);
	cr.name.len = 3;
	memcpy(longname, "a/b", 3);
	t_pack(&m.base, FS_NAMESPACE, &c);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EINVAL);
	cr.name.len = 2;
	memcpy(longname, "..", 2);
	t_pack(&m.base, FS_NAMESPACE, &c);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EINVAL);
	/* exactly FS_NAME_MAX is fine */
	memset(longname, 'n', sizeof(longname));
	longname[FS_NAME_MAX] = '\0';
	t_create(&n, ROOT, longname, 0644);
	ck_assert_int_eq(e_lookup(&n, ROOT, longname), 0);
	/* lookups */
	ck_assert_int_eq(e_lookup(&n, ROOT, "missing"), -ENOENT);
	ck_assert_int_eq(e_lookup(&n, f, "x"), -ENOTDIR);
	memset(longname, 'n', sizeof(longname));
	longname[FS_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(e_lookup(&n, ROOT, longname), -ENAMETOOLONG);
	/* errors change nothing */
	char *l = t_list(&n, ROOT);
	ck_assert_uint_eq(strlen(l), 2 + FS_NAME_MAX + 1);
	free(l);
	tn_close(&n);
}
END_TEST

START_TEST(mkdir_rmdir_and_directory_nlink)
{
	struct tnode n;
	tn_open(&n, NODE);
	uint64_t d = t_mkdir(&n, ROOT, "d", 0750);
	struct stat st = t_stat(&n, d);
	ck_assert_uint_eq(st.st_mode, S_IFDIR | 0750);
	ck_assert_uint_eq(st.st_nlink, 2);
	ck_assert_uint_eq(t_stat(&n, ROOT).st_nlink, 3);
	uint64_t e = t_mkdir(&n, d, "e", 0755);
	t_create(&n, d, "f", 0644);
	ck_assert_uint_eq(t_stat(&n, d).st_nlink, 3); /* files do not count */
	ck_assert_int_eq(e_rmdir(&n, ROOT, "d"), -ENOTEMPTY);
	ck_assert_int_eq(e_unlink(&n, ROOT, "d"), -EISDIR);
	ck_assert_int_eq(e_rmdir(&n, d, "e"), 0);
	ck_assert_int_eq(fs_getattr(n.fs, e, &st), -ENOENT);
	ck_assert_int_eq(e_rmdir(&n, ROOT, "d"), -ENOTEMPTY);
	t_unlink(&n, d, "f");
	ck_assert_int_eq(e_rmdir(&n, ROOT, "d"), 0);
	ck_assert_uint_eq(t_stat(&n, ROOT).st_nlink, 2);
	ck_assert_int_eq(e_lookup(&n, ROOT, "d"), -ENOENT);
	ck_assert_int_eq(e_mkdir(&n, ROOT, "d"), 0); /* the name is free again */
	ck_assert_int_eq(e_mkdir(&n, ROOT, "d"), -EEXIST);

	/* rmdir of "." and ".." as a peer might send them */
	Paxfs__Command m = PAXFS__COMMAND__INIT;
	Paxfs__Rmdir rm = PAXFS__RMDIR__INIT;
	struct fs_cmd c;
	m.version = 1;
	m.op_case = PAXFS__COMMAND__OP_RMDIR;
	m.rmdir = &rm;
	rm.parent = ROOT;
	rm.name.data = (uint8_t *)".";
	rm.name.len = 1;
	t_pack(&m.base, FS_NAMESPACE, &c);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EINVAL);
	rm.name.data = (uint8_t *)"..";
	rm.name.len = 2;
	t_pack(&m.base, FS_NAMESPACE, &c);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -ENOTEMPTY);
	tn_close(&n);
}
END_TEST

START_TEST(setgid_directory_passes_its_group_on)
{
	struct tnode n;
	struct fs_cmd c;
	struct fs_setattr a = {.valid = FS_SET_GID | FS_SET_MODE, .gid = 500, .mode = 02775};
	tn_open(&n, NODE);
	uint64_t g = t_mkdir(&n, ROOT, "g", 0775);
	ck_assert_int_eq(fs_cmd_setattr(n.fs, &n.who, g, &a, &c), 0);
	ck_assert_uint_eq(c.entity, FS_NAMESPACE);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	ck_assert_uint_eq(t_stat(&n, g).st_mode, S_IFDIR | 02775);

	uint64_t f = t_create(&n, g, "f", 0644);
	struct stat st = t_stat(&n, f);
	ck_assert_uint_eq(st.st_gid, 500);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 0644); /* no setgid bit on files */
	uint64_t sub = t_mkdir(&n, g, "sub", 0755);
	st = t_stat(&n, sub);
	ck_assert_uint_eq(st.st_gid, 500);
	ck_assert_uint_eq(st.st_mode, S_IFDIR | S_ISGID | 0755); /* directories inherit it */
	uint64_t s = t_symlink(&n, g, "s", "f");
	ck_assert_uint_eq(t_stat(&n, s).st_gid, 500);
	/* outside: the caller's group */
	ck_assert_uint_eq(t_stat(&n, t_create(&n, ROOT, "h", 0644)).st_gid, 1000);
	tn_close(&n);
}
END_TEST

START_TEST(symlinks_fifos_and_devices)
{
	struct tnode n;
	struct fs_cmd c;
	struct fs_result r;
	char buf[64];
	size_t len;
	tn_open(&n, NODE);
	uint64_t s = t_symlink(&n, ROOT, "s", "some/where");
	struct stat st = t_stat(&n, s);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(st.st_size, 10);
	ck_assert_int_eq(fs_readlink(n.fs, s, buf, sizeof(buf), &len), 0);
	ck_assert_str_eq(buf, "some/where");
	ck_assert_uint_eq(len, 10);
	ck_assert_int_eq(fs_readlink(n.fs, s, buf, 10, &len), -ERANGE);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	ck_assert_int_eq(fs_readlink(n.fs, f, buf, sizeof(buf), &len), -EINVAL);
	ck_assert_int_eq(fs_read(n.fs, s, 0, 10, buf, &len), -EINVAL);

	/* an empty target, as a peer might send it */
	Paxfs__Command m = PAXFS__COMMAND__INIT;
	Paxfs__Symlink sl = PAXFS__SYMLINK__INIT;
	m.version = 1;
	m.op_case = PAXFS__COMMAND__OP_SYMLINK;
	m.symlink = &sl;
	sl.parent = ROOT;
	sl.name.data = (uint8_t *)"e";
	sl.name.len = 1;
	t_pack(&m.base, FS_NAMESPACE, &c);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -ENOENT);

	ck_assert_int_eq(fs_cmd_mknod(&n.who, ROOT, "p", S_IFIFO | 0600, 0, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, &r), 0);
	ck_assert_uint_eq(t_stat(&n, r.ino).st_mode, S_IFIFO | 0600);
	ck_assert_int_eq(fs_cmd_mknod(&n.who, ROOT, "tty", S_IFCHR | 0620, 0x0501, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, &r), 0);
	st = t_stat(&n, r.ino);
	ck_assert_uint_eq(st.st_mode, S_IFCHR | 0620);
	ck_assert_uint_eq(st.st_rdev, 0x0501);
	ck_assert_int_eq(fs_cmd_mknod(&n.who, ROOT, "sock", S_IFSOCK | 0700, 0, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	ck_assert_int_eq(fs_cmd_mknod(&n.who, ROOT, "dir", S_IFDIR | 0700, 0, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EPERM);
	ck_assert_int_eq(fs_cmd_mknod(&n.who, ROOT, "p", S_IFIFO | 0600, 0, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EEXIST);
	/* mknod S_IFREG makes a regular file with its own entity */
	ck_assert_int_eq(fs_cmd_mknod(&n.who, ROOT, "reg", S_IFREG | 0644, 0, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, &r), 0);
	uint64_t entity;
	ck_assert_int_eq(fs_entity_of(n.fs, r.ino, &entity), 0);
	ck_assert_uint_eq(entity, r.ino);
	t_write(&n, r.ino, 0, "x", 1);
	ck_assert_int_eq(t_stat(&n, r.ino).st_size, 1);
	ck_assert_int_eq(fs_entity_of(n.fs, s, &entity), 0);
	ck_assert_uint_eq(entity, FS_NAMESPACE);
	tn_close(&n);
}
END_TEST

START_TEST(hard_links_count_and_the_last_unlink)
{
	struct tnode n;
	struct stat st;
	tn_open(&n, NODE);
	uint64_t f = t_create(&n, ROOT, "f", 0644);
	uint64_t d = t_mkdir(&n, ROOT, "d", 0755);
	t_write(&n, f, 0, "hello", 5);
	int64_t t = n.who.time_ns;
	ck_assert_int_eq(e_link(&n, f, d, "g"), 0);
	st = t_stat(&n, f);
	ck_assert_uint_eq(st.st_nlink, 2);
	ck_assert_int_eq(ns_of(st.st_ctim), t); /* a link change sets ctime */
	ck_assert_uint_eq(t_lookup(&n, d, "g"), f);
	ck_assert_int_eq(e_link(&n, d, ROOT, "d2"), -EPERM);
	ck_assert_int_eq(e_link(&n, f, ROOT, "d"), -EEXIST);
	ck_assert_int_eq(e_link(&n, 77 << 8 | NODE, ROOT, "x"), -ENOENT);

	t_unlink(&n, ROOT, "f");
	ck_assert_uint_eq(n.out.n_unlinked, 0);
	ck_assert_uint_eq(t_stat(&n, f).st_nlink, 1);
	size_t got;
	uint8_t *b = t_read(&n, f, 0, 5, &got);
	ck_assert_mem_eq(b, "hello", 5);
	free(b);

	t_unlink(&n, d, "g");
	/* the last link: the daemon is told, the data stays until reclaim */
	ck_assert_uint_eq(n.out.n_unlinked, 1);
	ck_assert_uint_eq(n.out.unlinked[0], f);
	ck_assert_uint_eq(n.out.n_entries, 1);
	ck_assert(n.out.entries[0].removed);
	ck_assert_uint_eq(n.out.entries[0].child, f);
	st = t_stat(&n, f);
	ck_assert_uint_eq(st.st_nlink, 0);
	ck_assert_int_eq(st.st_size, 5);
	b = t_read(&n, f, 0, 5, &got);
	ck_assert_mem_eq(b, "hello", 5);
	free(b);
	t_write(&n, f, 5, "!", 1); /* still writable while open */
	ck_assert_int_eq(e_link(&n, f, ROOT, "back"), -ENOENT);
	ck_assert_int_eq(e_lookup(&n, d, "g"), -ENOENT);
	tn_close(&n);
}
END_TEST

START_TEST(rename_moves_and_replaces)
{
	struct tnode n;
	tn_open(&n, NODE);
	uint64_t a = t_mkdir(&n, ROOT, "a", 0755);
	uint64_t b = t_mkdir(&n, ROOT, "b", 0755);
	uint64_t f = t_create(&n, a, "f", 0644);
	uint64_t g = t_create(&n, b, "g", 0644);

	/* within a directory, then across */
	ck_assert_int_eq(e_rename(&n, a, "f", a, "f2", 0), 0);
	ck_assert_uint_eq(t_lookup(&n, a, "f2"), f);
	ck_assert_int_eq(e_lookup(&n, a, "f"), -ENOENT);
	ck_assert_int_eq(e_rename(&n, a, "f2", b, "f", 0), 0);
	ck_assert_uint_eq(t_lookup(&n, b, "f"), f);
	ck_assert_uint_eq(t_stat(&n, a).st_size, 0);
	ck_assert_uint_eq(t_stat(&n, b).st_size, 2);

	/* a file replaces a file: the old one loses its link */
	ck_assert_int_eq(e_rename(&n, b, "f", b, "g", 0), 0);
	ck_assert_uint_eq(t_lookup(&n, b, "g"), f);
	ck_assert_uint_eq(n.out.n_unlinked, 1);
	ck_assert_uint_eq(n.out.unlinked[0], g);
	ck_assert_uint_eq(t_stat(&n, g).st_nlink, 0);
	ck_assert_uint_eq(t_stat(&n, b).st_size, 1);

	/* type rules */
	uint64_t d = t_mkdir(&n, a, "d", 0755);
	uint64_t e = t_mkdir(&n, b, "e", 0755);
	t_create(&n, e, "x", 0644);
	ck_assert_int_eq(e_rename(&n, b, "g", a, "d", 0), -EISDIR);
	ck_assert_int_eq(e_rename(&n, a, "d", b, "g", 0), -ENOTDIR);
	ck_assert_int_eq(e_rename(&n, a, "d", b, "e", 0), -ENOTEMPTY);
	ck_assert_int_eq(e_rename(&n, a, "missing", b, "z", 0), -ENOENT);
	ck_assert_int_eq(e_rename(&n, a, "d", 12345, "z", 0), -ENOENT);
	ck_assert_int_eq(e_rename(&n, a, "d", f, "z", 0), -ENOTDIR);

	/* a directory replaces an empty one, across parents: nlinks follow */
	uint64_t empty = t_mkdir(&n, b, "empty", 0755);
	ck_assert_uint_eq(t_stat(&n, a).st_nlink, 3);
	ck_assert_uint_eq(t_stat(&n, b).st_nlink, 4);
	ck_assert_int_eq(e_rename(&n, a, "d", b, "empty", 0), 0);
	struct stat st;
	ck_assert_int_eq(fs_getattr(n.fs, empty, &st), -ENOENT);
	ck_assert_uint_eq(t_stat(&n, a).st_nlink, 2);
	ck_assert_uint_eq(t_stat(&n, b).st_nlink, 4);
	ck_assert_uint_eq(t_lookup(&n, b, "empty"), d);
	/* its ".." follows it */
	ck_assert_uint_eq(t_lookup(&n, d, ".."), b);

	/* the same name, or two links of one inode: nothing happens */
	ck_assert_int_eq(e_rename(&n, b, "g", b, "g", 0), 0);
	ck_assert_int_eq(e_link(&n, f, a, "hl"), 0);
	ck_assert_int_eq(e_rename(&n, a, "hl", b, "g", 0), 0);
	ck_assert_uint_eq(t_lookup(&n, a, "hl"), f);
	ck_assert_uint_eq(t_lookup(&n, b, "g"), f);
	ck_assert_uint_eq(t_stat(&n, f).st_nlink, 2);
	tn_close(&n);
}
END_TEST

START_TEST(rename_noreplace_and_exchange)
{
	struct tnode n;
	struct fs_cmd c;
	tn_open(&n, NODE);
	uint64_t a = t_mkdir(&n, ROOT, "a", 0755);
	uint64_t b = t_mkdir(&n, ROOT, "b", 0755);
	uint64_t f = t_create(&n, a, "f", 0644);
	uint64_t d = t_mkdir(&n, b, "d", 0755);

	ck_assert_int_eq(e_rename(&n, a, "f", b, "d", RENAME_NOREPLACE), -EEXIST);
	ck_assert_int_eq(e_rename(&n, a, "f", a, "f2", RENAME_NOREPLACE), 0);
	ck_assert_int_eq(e_rename(&n, a, "f2", b, "none", RENAME_EXCHANGE), -ENOENT);

	/* exchange a file and a directory across parents */
	ck_assert_uint_eq(t_stat(&n, a).st_nlink, 2);
	ck_assert_uint_eq(t_stat(&n, b).st_nlink, 3);
	ck_assert_int_eq(e_rename(&n, a, "f2", b, "d", RENAME_EXCHANGE), 0);
	ck_assert_uint_eq(t_lookup(&n, a, "f2"), d);
	ck_assert_uint_eq(t_lookup(&n, b, "d"), f);
	ck_assert_uint_eq(t_stat(&n, a).st_nlink, 3);
	ck_assert_uint_eq(t_stat(&n, b).st_nlink, 2);
	ck_assert_uint_eq(t_lookup(&n, d, ".."), a);
	ck_assert_uint_eq(t_stat(&n, f).st_nlink, 1);
	ck_assert_uint_eq(n.out.n_unlinked, 0);

	/* both flags, or an unknown one, as a peer might send them */
	ck_assert_int_eq(
	    fs_cmd_rename(&n.who, a, "f2", b, "d", RENAME_EXCHANGE | RENAME_NOREPLACE, &c),
	    -EINVAL);
	Paxfs__Command m = PAXFS__COMMAND__INIT;
	Paxfs__Rename rn = PAXFS__RENAME__INIT;
	m.version = 1;
	m.op_case = PAXFS__COMMAND__OP_RENAME;
	m.rename = &rn;
	rn.parent = a;
	rn.name.data = (uint8_t *)"f2";
	rn.name.len = 2;
	rn.newparent = b;
	rn.newname.data = (uint8_t *)"d";
	rn.newname.len = 1;
	rn.flags = RENAME_EXCHANGE | RENAME_NOREPLACE;
	t_pack(&m.base, FS_NAMESPACE, &c);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EINVAL);
	rn.flags = RENAME_WHITEOUT;
	t_pack(&m.base, FS_NAMESPACE, &c);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EINVAL);
	ck_assert_uint_eq(t_lookup(&n, a, "f2"), d);
	tn_close(&n);
}
END_TEST

START_TEST(rename_refuses_a_directory_into_its_own_subtree)
{
	struct tnode n;
	tn_open(&n, NODE);
	uint64_t a = t_mkdir(&n, ROOT, "a", 0755);
	uint64_t b = t_mkdir(&n, a, "b", 0755);
	uint64_t c = t_mkdir(&n, b, "c", 0755);
	ck_assert_int_eq(e_rename(&n, ROOT, "a", c, "x", 0), -EINVAL);
	ck_assert_int_eq(e_rename(&n, ROOT, "a", a, "x", 0), -EINVAL);
	ck_assert_int_eq(e_rename(&n, a, "b", b, "x", 0), -EINVAL);
	ck_assert_int_eq(e_rename(&n, a, "b", c, "x", RENAME_NOREPLACE), -EINVAL);
	/* exchanging a directory with one of its descendants */
	ck_assert_int_eq(e_rename(&n, ROOT, "a", b, "c", RENAME_EXCHANGE), -EINVAL);
	ck_assert_int_eq(e_rename(&n, b, "c", ROOT, "a", RENAME_EXCHANGE), -EINVAL);
	/* nothing moved */
	ck_assert_uint_eq(t_lookup(&n, ROOT, "a"), a);
	ck_assert_uint_eq(t_lookup(&n, a, "b"), b);
	ck_assert_uint_eq(t_lookup(&n, b, "c"), c);
	/* moving up is fine, and sideways */
	ck_assert_int_eq(e_rename(&n, b, "c", ROOT, "c", 0), 0);
	ck_assert_int_eq(e_rename(&n, ROOT, "a", c, "a", 0), 0);
	ck_assert_uint_eq(t_lookup(&n, c, "a"), a);
	char path[64];
	ck_assert_int_eq(fs_path(n.fs, b, path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/c/a/b");
	ck_assert_int_eq(fs_path(n.fs, b, path, 5), -ENAMETOOLONG);
	tn_close(&n);
}
END_TEST

struct collect {
	char names[32][8];
	uint64_t inos[32];
	int n, stop_after;
};

static int collect_cb(void *arg, const char *name, uint64_t ino, uint32_t type)
{
	struct collect *c = arg;
	snprintf(c->names[c->n], sizeof(c->names[0]), "%s", name);
	c->inos[c->n] = ino;
	c->n++;
	return c->n == c->stop_after ? 7 : 0;
}

START_TEST(readdir_order_and_continuation)
{
	struct tnode n;
	struct collect c = {0};
	tn_open(&n, NODE);
	uint64_t d = t_mkdir(&n, ROOT, "d", 0755);
	const char *names[] = {"m", "b", "zz", "a", "-x", ".hidden"};
	for (int i = 0; i < 6; i++)
		t_create(&n, d, names[i], 0644);
	ck_assert_int_eq(fs_readdir(n.fs, d, NULL, collect_cb, &c), 0);
	ck_assert_int_eq(c.n, 8);
	ck_assert_str_eq(c.names[0], ".");
	ck_assert_uint_eq(c.inos[0], d);
	ck_assert_str_eq(c.names[1], "..");
	ck_assert_uint_eq(c.inos[1], ROOT);
	const char *sorted[] = {"-x", ".hidden", "a", "b", "m", "zz"};
	for (int i = 0; i < 6; i++)
		ck_assert_str_eq(c.names[2 + i], sorted[i]);

	/* stop after three, continue after the last one seen */
	memset(&c, 0, sizeof(c));
	c.stop_after = 3;
	ck_assert_int_eq(fs_readdir(n.fs, d, NULL, collect_cb, &c), 7);
	ck_assert_str_eq(c.names[2], "-x");
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(fs_readdir(n.fs, d, "-x", collect_cb, &c), 0);
	ck_assert_int_eq(c.n, 5);
	ck_assert_str_eq(c.names[0], ".hidden");
	/* after ".": "..", then everything; after a name that is gone */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(fs_readdir(n.fs, d, ".", collect_cb, &c), 0);
	ck_assert_int_eq(c.n, 7);
	ck_assert_str_eq(c.names[0], "..");
	t_unlink(&n, d, "b");
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(fs_readdir(n.fs, d, "b", collect_cb, &c), 0);
	ck_assert_int_eq(c.n, 2);
	ck_assert_str_eq(c.names[0], "m");
	/* not a directory */
	uint64_t f = t_lookup(&n, d, "a");
	ck_assert_int_eq(fs_readdir(n.fs, f, NULL, collect_cb, &c), -ENOTDIR);
	ck_assert_int_eq(fs_readdir(n.fs, 4242, NULL, collect_cb, &c), -ENOENT);
	tn_close(&n);
}
END_TEST

START_TEST(directory_attributes_and_xattrs)
{
	struct tnode n;
	struct fs_cmd c;
	struct fs_result r;
	char buf[64];
	size_t len;
	tn_open(&n, NODE);
	uint64_t d = t_mkdir(&n, ROOT, "d", 0755);
	int64_t t = n.who.time_ns;
	struct fs_setattr a = {.valid = FS_SET_MODE | FS_SET_UID, .mode = 0700, .uid = 42};
	ck_assert_int_eq(fs_cmd_setattr(n.fs, &n.who, d, &a, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, &r), 0);
	ck_assert(r.has_stat);
	ck_assert_uint_eq(r.st.st_mode, S_IFDIR | 0700);
	struct stat st = t_stat(&n, d);
	ck_assert_uint_eq(st.st_mode, S_IFDIR | 0700);
	ck_assert_uint_eq(st.st_uid, 42);
	ck_assert_int_eq(ns_of(st.st_ctim), t); /* chmod sets ctime */
	a.valid = FS_SET_ATIME | FS_SET_MTIME;
	a.atime_ns = 5;
	a.mtime_ns = -1500000000; /* before 1970 */
	ck_assert_int_eq(fs_cmd_setattr(n.fs, &n.who, d, &a, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	st = t_stat(&n, d);
	ck_assert_int_eq(ns_of(st.st_atim), 5);
	ck_assert_int_eq(ns_of(st.st_mtim), -1500000000);
	ck_assert_int_eq(st.st_mtim.tv_sec, -2);
	ck_assert_int_eq(st.st_mtim.tv_nsec, 500000000);
	a.valid = FS_SET_MTIME_NOW;
	t = n.who.time_ns;
	ck_assert_int_eq(fs_cmd_setattr(n.fs, &n.who, d, &a, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	ck_assert_int_eq(ns_of(t_stat(&n, d).st_mtim), t);
	a.valid = FS_SET_SIZE;
	ck_assert_int_eq(fs_cmd_setattr(n.fs, &n.who, d, &a, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EISDIR);

	/* xattrs of a directory live in the namespace */
	ck_assert_int_eq(fs_cmd_setxattr(n.fs, &n.who, d, "user.a", "1", 1, XATTR_REPLACE, &c), 0);
	ck_assert_uint_eq(c.entity, FS_NAMESPACE);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -ENODATA);
	ck_assert_int_eq(fs_cmd_setxattr(n.fs, &n.who, d, "user.a", "1", 1, XATTR_CREATE, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	ck_assert_int_eq(fs_cmd_setxattr(n.fs, &n.who, d, "user.a", "2", 1, XATTR_CREATE, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -EEXIST);
	ck_assert_int_eq(fs_cmd_setxattr(n.fs, &n.who, d, "user.b", "hello", 5, 0, &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	ck_assert_int_eq(fs_getxattr(n.fs, d, "user.b", NULL, 0, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_int_eq(fs_getxattr(n.fs, d, "user.b", buf, 2, &len), -ERANGE);
	ck_assert_int_eq(fs_getxattr(n.fs, d, "user.b", buf, sizeof(buf), &len), 0);
	ck_assert_mem_eq(buf, "hello", 5);
	ck_assert_int_eq(fs_getxattr(n.fs, d, "user.none", buf, sizeof(buf), &len), -ENODATA);
	ck_assert_int_eq(fs_listxattr(n.fs, d, NULL, 0, &len), 0);
	ck_assert_uint_eq(len, 14);
	ck_assert_int_eq(fs_listxattr(n.fs, d, buf, 10, &len), -ERANGE);
	ck_assert_int_eq(fs_listxattr(n.fs, d, buf, sizeof(buf), &len), 0);
	ck_assert_mem_eq(buf, "user.a\0user.b\0", 14);
	ck_assert_int_eq(fs_cmd_removexattr(n.fs, &n.who, d, "user.a", &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), 0);
	ck_assert_int_eq(fs_cmd_removexattr(n.fs, &n.who, d, "user.a", &c), 0);
	ck_assert_int_eq(tn_do(&n, &c, NULL), -ENODATA);
	ck_assert_int_eq(fs_cmd_setxattr(n.fs, &n.who, d, "", "1", 1, 0, &c), -ERANGE);
	char big[FS_XATTR_SIZE_MAX + 1];
	ck_assert_int_eq(fs_cmd_setxattr(n.fs, &n.who, d, "user.big", big, sizeof(big), 0, &c),
			 -E2BIG);
	/* an xattr goes with its directory */
	ck_assert_int_eq(e_rmdir(&n, ROOT, "d"), 0);
	ck_assert_int_eq(fs_getxattr(n.fs, d, "user.b", buf, sizeof(buf), &len), -ENOENT);
	ck_assert_uint_eq(t_digest(&n, FS_NAMESPACE), t_digest(&n, FS_NAMESPACE));
	tn_close(&n);
}
END_TEST

START_TEST(statfs_counts_inodes)
{
	struct tnode n;
	struct statvfs sv;
	tn_open(&n, NODE);
	ck_assert_int_eq(fs_statfs(n.fs, &sv), 0);
	fsfilcnt_t used = sv.f_files - sv.f_ffree;
	ck_assert_uint_eq(used, 1);
	ck_assert_uint_eq(sv.f_namemax, FS_NAME_MAX);
	t_mkdir(&n, ROOT, "d", 0755);
	t_create(&n, ROOT, "f", 0644);
	ck_assert_int_eq(fs_statfs(n.fs, &sv), 0);
	ck_assert_uint_eq(sv.f_files - sv.f_ffree, 3);
	t_unlink(&n, ROOT, "f");
	ck_assert_int_eq(fs_statfs(n.fs, &sv), 0);
	ck_assert_uint_eq(sv.f_files - sv.f_ffree, 2);
	tn_close(&n);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("fs namespace");
	TEST_CASE(s, create_gives_a_file_with_a_deterministic_inode, 10);
	TEST_CASE(s, create_excl_and_open_of_an_existing_name, 10);
	TEST_CASE(s, namespace_errnos, 10);
	TEST_CASE(s, mkdir_rmdir_and_directory_nlink, 10);
	TEST_CASE(s, setgid_directory_passes_its_group_on, 10);
	TEST_CASE(s, symlinks_fifos_and_devices, 10);
	TEST_CASE(s, hard_links_count_and_the_last_unlink, 10);
	TEST_CASE(s, rename_moves_and_replaces, 10);
	TEST_CASE(s, rename_noreplace_and_exchange, 10);
	TEST_CASE(s, rename_refuses_a_directory_into_its_own_subtree, 10);
	TEST_CASE(s, readdir_order_and_continuation, 10);
	TEST_CASE(s, directory_attributes_and_xattrs, 10);
	TEST_CASE(s, statfs_counts_inodes, 10);
	return s;
}
