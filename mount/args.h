/* mount/args.h — the paxfs command line (DESIGN.md "Running it").
 *
 *   paxfs [options] CONFIG MOUNTPOINT
 *       -o node=ID        (or --node ID)   this node's id in CONFIG
 *       -o data=DIR       (or --data DIR)  store; default /var/lib/paxfs/CLUSTER/node-ID
 *       -o timeout=SECONDS                 changes and barriers fail with EIO after this
 *       -o retention=ENTRIES               log window of an entity, in entries (mount/retain.h)
 *       -o retention_bytes=BYTES           log window of a file: at least this many value bytes
 *       -o catchup_rate=MIB                catch-up this node serves (states, entries): at most MIB MiB/s (0: no limit)
 *       -o lock_lease=SECONDS              a node's locks outlive it (dead, cut off) by this (mount/lease.h)
 *       -o sync                            every write() is chosen before it returns (default:
 *                                          write-behind, chosen at fsync/close; mount/wbuf.h)
 *       -o log=FILE                        where a background daemon logs (default DATA/paxfs.log)
 *       -o test_faults=FILE                tests only: fault injection (mount/faults.h)
 *       -f  -d  -h  -V                     foreground, debug, help, version
 * Every other -o option goes to FUSE (allow_other, default_permissions, ro…),
 * after nosuid,nodev, which are the default: -o suid / -o dev undo each.
 * mount.fuse3 calls `paxfs CONFIG MOUNTPOINT -o opts`, so options may come
 * anywhere; mount(8)-only options (_netdev, nofail, auto, noauto, user…)
 * are accepted and ignored. */
#ifndef PAXFS_MOUNT_ARGS_H
#define PAXFS_MOUNT_ARGS_H

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>

#define MOUNT_DEFAULT_TIMEOUT_S       30
#define MOUNT_DEFAULT_RETENTION       1000
#define MOUNT_DEFAULT_RETENTION_BYTES 4096
#define MOUNT_DEFAULT_CATCHUP_RATE    32
#define MOUNT_DEFAULT_LOCK_LEASE_S    15
#define MOUNT_MAX_LOCK_LEASE_S        3600

struct mount_args {
	char *config;      /* absolute path of CONFIG */
	char *mountpoint;  /* absolute path of MOUNTPOINT */
	unsigned node;     /* 0 = not given */
	char *data;        /* absolute; NULL = default, filled in once the cluster is known */
	char *log;         /* NULL = DATA/paxfs.log when in the background */
	char *test_faults; /* NULL = none; absolute path of the fault file */
	unsigned timeout_s;
	unsigned retention;
	unsigned retention_bytes;
	unsigned catchup_rate; /* MiB/s of catch-up served; 0 = no limit */
	unsigned lock_lease_s; /* lock lease (mount/lease.h), 1..MOUNT_MAX_LOCK_LEASE_S */
	bool sync;             /* -o sync: no write-behind */
	bool foreground;
	bool debug;
	bool allow_other;
	bool nonempty; /* -o nonempty: mount over a directory that holds files */
	bool show_help;
	bool show_version;
	struct fuse_args fuse; /* what goes to fuse_session_new: -onosuid,nodev first */
};

/* Parses argv into *a (caller-allocated). Returns 0, or -EINVAL with the
 * reason in err. On success release with mount_args_close(). Help and
 * version requests succeed with show_help / show_version set. */
int mount_args_parse(int argc, char **argv, struct mount_args *a, char *err, size_t errlen);

/* Prints the usage text to stdout. */
void mount_args_usage(const char *prog);

void mount_args_close(struct mount_args *a);

#endif
