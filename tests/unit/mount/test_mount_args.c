/* tests/unit/mount/test_mount_args.c — the command line (mount/args.h): the
 * mount is nosuid,nodev by paxfs's own default, not by the FUSE library's,
 * and -o suid / -o dev turn each off again. The flags are read back from
 * the FUSE arguments the way the library reads mount flags: in order, the
 * last one given wins. */
#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "mount/args.h"

struct flags {
	int nosuid;
	int nodev;
	int noatime;
};

static const struct fuse_opt flag_opts[] = {
    {"nosuid", offsetof(struct flags, nosuid), 1},   {"suid", offsetof(struct flags, nosuid), 0},
    {"nodev", offsetof(struct flags, nodev), 1},     {"dev", offsetof(struct flags, nodev), 0},
    {"noatime", offsetof(struct flags, noatime), 1}, FUSE_OPT_END,
};

static int keep_cb(void *data, const char *arg, int key, struct fuse_args *out)
{
	(void)data, (void)arg, (void)key, (void)out;
	return 1;
}

/* Parses `paxfs -o OPTS conf mnt` and the mount flags its FUSE arguments set. */
static struct flags parse(const char *opts)
{
	char o[256];
	char *argv[] = {"paxfs", "-o", o, "conf", "mnt", NULL};
	struct mount_args a;
	struct flags f = {0};
	char err[256] = "";

	snprintf(o, sizeof(o), "node=1%s%s", opts[0] ? "," : "", opts);
	ck_assert_msg(mount_args_parse(5, argv, &a, err, sizeof(err)) == 0, "%s", err);
	struct fuse_args copy = FUSE_ARGS_INIT(0, NULL);
	for (int i = 0; i < a.fuse.argc; i++)
		ck_assert_int_eq(fuse_opt_add_arg(&copy, a.fuse.argv[i]), 0);
	ck_assert_int_eq(fuse_opt_parse(&copy, &f, flag_opts, keep_cb), 0);
	fuse_opt_free_args(&copy);
	mount_args_close(&a);
	return f;
}

START_TEST(nosuid_nodev_by_default)
{
	struct flags f = parse("");
	ck_assert_int_eq(f.nosuid, 1);
	ck_assert_int_eq(f.nodev, 1);
}
END_TEST

START_TEST(suid_and_dev_turn_each_off)
{
	struct flags f = parse("suid");
	ck_assert_int_eq(f.nosuid, 0);
	ck_assert_int_eq(f.nodev, 1);
	f = parse("dev,noatime");
	ck_assert_int_eq(f.nosuid, 1);
	ck_assert_int_eq(f.nodev, 0);
	ck_assert_int_eq(f.noatime, 1); /* other options still reach FUSE */
	f = parse("suid,dev,nosuid");
	ck_assert_int_eq(f.nosuid, 1);
	ck_assert_int_eq(f.nodev, 0);
}
END_TEST

/* mount_args_parse of `paxfs -o node=1,OPTS conf mnt`: rc, *lease, err. */
static int parse_lease(const char *opts, unsigned *lease, char *err, size_t errlen)
{
	char o[256];
	char *argv[] = {"paxfs", "-o", o, "conf", "mnt", NULL};
	struct mount_args a;
	int rc;

	snprintf(o, sizeof(o), "node=1%s%s", opts[0] ? "," : "", opts);
	err[0] = 0;
	rc = mount_args_parse(5, argv, &a, err, errlen);
	if (rc == 0) {
		*lease = a.lock_lease_s;
		mount_args_close(&a);
	}
	return rc;
}

START_TEST(lock_lease_defaults_to_15_and_is_bounded)
{
	char err[256];
	unsigned lease = 0;
	ck_assert_int_eq(parse_lease("", &lease, err, sizeof(err)), 0);
	ck_assert_uint_eq(lease, 15);
	ck_assert_int_eq(parse_lease("lock_lease=3", &lease, err, sizeof(err)), 0);
	ck_assert_uint_eq(lease, 3);
	ck_assert_int_eq(parse_lease("lock_lease=0", &lease, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "lock_lease must be 1..3600 seconds"), "%s", err);
	ck_assert_int_eq(parse_lease("lock_lease=3601", &lease, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(parse_lease("lock_lease=x", &lease, err, sizeof(err)), -EINVAL);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("args");
	TEST_CASE(s, nosuid_nodev_by_default, 10);
	TEST_CASE(s, suid_and_dev_turn_each_off, 10);
	TEST_CASE(s, lock_lease_defaults_to_15_and_is_bounded, 10);
	return s;
}
