/* mount/args.c — command-line parsing with fuse_opt: our options are taken
 * out, everything else is handed to FUSE untouched. */
#include "mount/args.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	KEY_HELP = 1,
	KEY_VERSION,
	KEY_FOREGROUND,
	KEY_DEBUG,
	KEY_IGNORED,
	KEY_ALLOW_OTHER,
	KEY_SYNC,
	KEY_ASYNC,
	KEY_NONEMPTY,
};

struct parse_state {
	int positional;
	char *err;
	size_t errlen;
	int failed;
};

#define OPT(t, field)                                                                              \
	{                                                                                          \
		t, offsetof(struct mount_args, field), 0                                           \
	}
static const struct fuse_opt opts[] = {
    OPT("node=%u", node),
    OPT("--node=%u", node),
    OPT("--node %u", node),
    OPT("data=%s", data),
    OPT("--data=%s", data),
    OPT("--data %s", data),
    OPT("timeout=%u", timeout_s),
    OPT("retention=%u", retention),
    OPT("retention_bytes=%u", retention_bytes),
    OPT("catchup_rate=%u", catchup_rate),
    OPT("lock_lease=%u", lock_lease_s),
    OPT("log=%s", log),
    OPT("test_faults=%s", test_faults),
    FUSE_OPT_KEY("-h", KEY_HELP),
    FUSE_OPT_KEY("--help", KEY_HELP),
    FUSE_OPT_KEY("-V", KEY_VERSION),
    FUSE_OPT_KEY("--version", KEY_VERSION),
    FUSE_OPT_KEY("-f", KEY_FOREGROUND),
    FUSE_OPT_KEY("-d", KEY_DEBUG),
    FUSE_OPT_KEY("debug", KEY_DEBUG),
    FUSE_OPT_KEY("-s", KEY_IGNORED), /* always one event loop */
    FUSE_OPT_KEY("_netdev", KEY_IGNORED),
    FUSE_OPT_KEY("nofail", KEY_IGNORED),
    FUSE_OPT_KEY("auto", KEY_IGNORED),
    FUSE_OPT_KEY("noauto", KEY_IGNORED),
    FUSE_OPT_KEY("user", KEY_IGNORED),
    FUSE_OPT_KEY("nouser", KEY_IGNORED),
    FUSE_OPT_KEY("users", KEY_IGNORED),
    FUSE_OPT_KEY("defaults", KEY_IGNORED),
    FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
    FUSE_OPT_KEY("nonempty", KEY_NONEMPTY),
    FUSE_OPT_KEY("sync", KEY_SYNC),
    FUSE_OPT_KEY("async", KEY_ASYNC),
    FUSE_OPT_END,
};

static char *absolute(const char *path)
{
	char cwd[PATH_MAX];
	char *out;
	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return strdup(path);
	if (asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

/* fuse_opt hands the callback the same pointer it fills templates into (the
 * mount_args), so the rest of the parse state lives here, for one parse. */
static struct parse_state *state;

static int opt_cb(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct parse_state *st = state;
	struct mount_args *a = data;
	(void)outargs;

	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (st->positional == 0)
			a->config = absolute(arg);
		else if (st->positional == 1)
			a->mountpoint = absolute(arg);
		else {
			snprintf(st->err, st->errlen, "unexpected argument '%s'", arg);
			st->failed = 1;
			return -1;
		}
		st->positional++;
		return 0;
	case KEY_HELP:
		a->show_help = true;
		return 0;
	case KEY_VERSION:
		a->show_version = true;
		return 0;
	case KEY_FOREGROUND:
		a->foreground = true;
		return 0;
	case KEY_DEBUG:
		a->debug = true;
		a->foreground = true;
		return 0;
	case KEY_IGNORED:
		return 0;
	case KEY_SYNC: /* ours, not the kernel's MS_SYNCHRONOUS: see mount/wbuf.h */
		a->sync = true;
		return 0;
	case KEY_ASYNC:
		a->sync = false;
		return 0;
	case KEY_ALLOW_OTHER:
		a->allow_other = true;
		return 1; /* FUSE needs it too */
	case KEY_NONEMPTY:
		a->nonempty = true;
		return 0; /* ours: libfuse 3 no longer knows it */
	default:
		if (arg[0] == '-' && arg[1] != 'o') {
			snprintf(st->err, st->errlen, "unknown option '%s'", arg);
			st->failed = 1;
			return -1;
		}
		return 1; /* a -o option for FUSE */
	}
}

int mount_args_parse(int argc, char **argv, struct mount_args *a, char *err, size_t errlen)
{
	struct parse_state st = {.err = err, .errlen = errlen};
	char *abs_data;
	int rc;

	memset(a, 0, sizeof(*a));
	a->timeout_s = MOUNT_DEFAULT_TIMEOUT_S;
	a->retention = MOUNT_DEFAULT_RETENTION;
	a->retention_bytes = MOUNT_DEFAULT_RETENTION_BYTES;
	a->catchup_rate = MOUNT_DEFAULT_CATCHUP_RATE;
	a->lock_lease_s = MOUNT_DEFAULT_LOCK_LEASE_S;
	a->fuse = (struct fuse_args)FUSE_ARGS_INIT(argc, argv);
	state = &st;
	rc = fuse_opt_parse(&a->fuse, a, opts, opt_cb);
	state = NULL;
	if (rc < 0) {
		if (!st.failed)
			snprintf(err, errlen, "cannot parse the options");
		goto fail;
	}
	if (a->show_help || a->show_version)
		return 0;
	if (st.positional < 2) {
		snprintf(err, errlen, "usage: %s [options] CONFIG MOUNTPOINT (see --help)",
			 argv[0]);
		goto fail;
	}
	if (!a->node || a->node > 255) {
		snprintf(err, errlen, "which node is this? give -o node=ID (1..255) from %s",
			 a->config);
		goto fail;
	}
	if (!a->retention) {
		snprintf(err, errlen, "retention must be at least 1 entry");
		goto fail;
	}
	if (!a->timeout_s) {
		snprintf(err, errlen, "timeout must be at least 1 second");
		goto fail;
	}
	if (a->lock_lease_s < 1 || a->lock_lease_s > MOUNT_MAX_LOCK_LEASE_S) {
		snprintf(err, errlen, "lock_lease must be 1..%d seconds", MOUNT_MAX_LOCK_LEASE_S);
		goto fail;
	}
	if (a->data) {
		abs_data = absolute(a->data);
		free(a->data);
		a->data = abs_data;
	}
	if (a->log) {
		char *abs_log = absolute(a->log);
		free(a->log);
		a->log = abs_log;
	}
	if (a->test_faults) {
		char *abs_tf = absolute(a->test_faults);
		free(a->test_faults);
		a->test_faults = abs_tf;
	}
	/* nosuid,nodev first, so a suid or dev the user gave comes later and
	 * wins: a SUID program or a device node that any node puts on the tree
	 * gives nothing on the others. libfuse has the same default today;
	 * ours does not depend on it. */
	if (fuse_opt_insert_arg(&a->fuse, 1, "-onosuid,nodev") < 0)
		goto nomem;
	/* Shared with other users only with the kernel enforcing modes. */
	if (a->allow_other && fuse_opt_add_arg(&a->fuse, "-odefault_permissions") < 0)
		goto nomem;
	if (a->debug && fuse_opt_add_arg(&a->fuse, "-odebug") < 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	mount_args_close(a);
	return -EINVAL;
}

void mount_args_usage(const char *prog)
{
	printf(
	    "usage: %s [options] CONFIG MOUNTPOINT\n"
	    "\n"
	    "Mounts the replicated file system of the cluster in CONFIG as node ID.\n"
	    "\n"
	    "  -o node=ID, --node ID     this node's id in CONFIG (required)\n"
	    "  -o data=DIR, --data DIR   data directory (default /var/lib/paxfs/CLUSTER/node-ID)\n"
	    "  -o timeout=SECONDS        changes and open() fail with EIO after this long\n"
	    "                            without a majority (default %d)\n"
	    "  -o retention=ENTRIES      log kept per file: a window of this many entries\n"
	    "                            (default %d; the log holds two windows at most)\n"
	    "  -o retention_bytes=BYTES  ...and of at most max(BYTES, file size / 4) bytes\n"
	    "                            (default %d)\n"
	    "  -o catchup_rate=MIB       what this node sends to nodes catching up (file\n"
	    "                            states, log entries): at most MIB MiB/s\n"
	    "                            (default %d; 0: no limit)\n"
	    "  -o lock_lease=SECONDS     a dead or cut-off node's locks are freed by the\n"
	    "                            others about 1.1 x SECONDS + 1 after its last\n"
	    "                            renewal; it refuses I/O on those files once its own\n"
	    "                            lease ran out (default %d)\n"
	    "  -o sync                   every write() is chosen (on a majority) before it\n"
	    "                            returns; default: write-behind, where written data\n"
	    "                            is chosen when fsync(), fdatasync() or close()\n"
	    "                            returns (and O_SYNC/O_DSYNC writes at once); errors\n"
	    "                            are reported there\n"
	    "  -o log=FILE               log file in the background (default DATA.log, beside\n"
	    "                            the data directory)\n"
	    "  -o nonempty               mount over a directory that holds files (hidden\n"
	    "                            while mounted); without it that is refused\n"
	    "  -o allow_other            let every user use the mount (adds default_permissions)\n"
	    "  -o suid, -o dev           honour SUID/SGID bits, device nodes (default: nosuid,\n"
	    "                            nodev: any node could put them on the tree)\n"
	    "  -o test_faults=FILE       tests only: delay, lose messages, offset the clock\n"
	    "                            as FILE says (tests/faults; never in production)\n"
	    "  -f                        stay in the foreground, log to stderr\n"
	    "  -d                        debug: foreground, FUSE and paxfs debug logs\n"
	    "  -h, --help                this text\n"
	    "  -V, --version             version\n"
	    "\n"
	    "Other -o options are FUSE mount options (see mount.fuse3(8)).\n",
	    prog, MOUNT_DEFAULT_TIMEOUT_S, MOUNT_DEFAULT_RETENTION, MOUNT_DEFAULT_RETENTION_BYTES,
	    MOUNT_DEFAULT_CATCHUP_RATE, MOUNT_DEFAULT_LOCK_LEASE_S);
}

void mount_args_close(struct mount_args *a)
{
	free(a->config);
	free(a->mountpoint);
	free(a->data);
	free(a->log);
	free(a->test_faults);
	fuse_opt_free_args(&a->fuse);
	memset(a, 0, sizeof(*a));
}
