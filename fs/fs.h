/* fs/fs.h — the file system as a replicated state machine.
 *
 * paxfs orders every change through Paxos entities (docs/decisions.md):
 *
 *   entity 1 (FS_NAMESPACE)      every directory operation, and the whole of
 *                                every inode that is not a regular file
 *                                (directories, symlinks, fifos, sockets,
 *                                devices: entries, attributes, xattrs);
 *                                for a regular file only its type, nlink,
 *                                ctime of link changes and birth record
 *   entity = ino (regular file)  the file's data, attributes and xattrs
 *
 * The daemon turns a system call into a command (fs_cmd_*), Paxos chooses it
 * into an entry of the entity the builder named, and every node applies the
 * chosen entries of each entity in entry order (fs_apply). The outcome of a
 * command (EEXIST, the new inode number, the offset of an O_APPEND write) is
 * decided at apply from the log and the state alone — no clock, no local
 * counter — so every node computes the same results and the same state.
 * Reads (fs_getattr, fs_read, ...) are answered from the local applied state.
 *
 * Invariants this module keeps:
 *   - The materialised state of an entity is exactly the applied prefix of
 *     its log: the state changes of an entry, the entity's ApplyMeta (applied
 *     entry, chained checksum c_i = crc32c(c_{i-1}, value_i), state digest)
 *     are one atomic store batch.
 *   - ApplyMeta.state_digest is the XOR of a 64-bit hash of every (key, value)
 *     of the entity's state, kept up to date by every apply; two nodes with the
 *     same applied prefix have the same digest (fs_digest_recompute checks it).
 *   - Inode numbers are counter << 8 | proposing node, counter kept in the
 *     namespace state; never reused. Inode 1 is the root directory.
 *   - An entity whose stored state fails its checksum or whose chosen value
 *     does not decode is marked bad (persistently) and answers -EIO to every
 *     later request; the rest of the file system keeps working.
 *
 * Times: every timestamp a command sets is its time_ns. Reads change
 * nothing, so atime moves only by setattr (as with noatime).
 *
 * Errors: every function returns 0 or a negative errno. Store failures are
 * -EIO (or -ENOSPC when the disk is full); a damaged record is -EBADMSG when
 * found by fs_apply and -EIO for reads (the entity is then bad).
 *
 * Thread safety: none. One struct fs is used by one thread at a time (the
 * daemon's event loop); the struct store under it may be shared.
 */
#ifndef PAXFS_FS_FS_H
#define PAXFS_FS_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "store/store.h"

#define FS_NAMESPACE      1 /* entity id of the namespace */
#define FS_ROOT_INO       1 /* the root directory (its state lives in the namespace) */

#define FS_NAME_MAX       255           /* bytes in one name */
#define FS_SYMLINK_MAX    4095          /* bytes in a symlink target */
#define FS_XATTR_NAME_MAX 255           /* bytes in an xattr name */
#define FS_XATTR_SIZE_MAX 65536         /* bytes in an xattr value */
#define FS_LINK_MAX       65000         /* links of one inode (EMLINK beyond) */
#define FS_CHUNK_SIZE     4096          /* file data is stored in chunks of this size */
#define FS_BLKSIZE        (1024 * 1024) /* st_blksize: the I/O size worth a round trip */
#define FS_FILE_SIZE_MAX  INT64_MAX     /* largest file size and end of a write (EFBIG) */

struct fs;

/* ---- open / close ----------------------------------------------------- */

/* Attributes of the root directory, used only when the namespace is created
 * (a new store). Every node of a cluster must pass the same values, or their
 * namespace digests differ: take them from the cluster configuration. */
struct fs_options {
	uint32_t root_mode; /* permission bits (07777 mask) */
	uint32_t root_uid;
	uint32_t root_gid;
};

/* Default root: mode 01777 (like /tmp: any user may create, the sticky bit
 * keeps users from removing each other's entries), owner 0:0. */
#define FS_ROOT_MODE_DEFAULT 01777

/* Opens the file system kept in `st` (borrowed; must outlive the fs). On a
 * store without a namespace, creates it: the root directory (times 0) and the
 * namespace ApplyMeta at entry 0. Loads the marks of bad entities and of
 * interrupted snapshot installs. `opt` may be NULL (defaults).
 * Returns 0 and *out, or -ENOMEM, -EIO, -EBADMSG (*out NULL). */
int fs_open(struct store *st, const struct fs_options *opt, struct fs **out);

/* Frees the fs (not the store). fs_free(NULL) is a no-op. */
void fs_free(struct fs *fs);

/* ---- building commands ------------------------------------------------ */

/* Who asks and when. Timestamps set by a command are time_ns, the proposer's
 * wall clock, carried inside the command. */
struct fs_caller {
	uint32_t uid;
	uint32_t gid;
	int64_t time_ns;
	bool kill_suidgid;    /* write, append: the writer lacks CAP_FSETID (it is not root),
			      so the write clears S_ISUID, and S_ISGID with S_IXGRP */
	uint64_t lease_life;  /* the proposer's lock lease (life, epoch), stamped on */
	uint64_t lease_epoch; /* every command; epoch 0: none (below) */
};

/* An encoded paxfs.Command (proto/command.proto) and the entity that orders
 * it. `body` is malloc'd: release with fs_cmd_close. */
struct fs_cmd {
	uint64_t entity;
	uint8_t *body;
	size_t len;
};

/* Frees c->body and zeroes *c. Safe on a zeroed or already closed fs_cmd. */
void fs_cmd_close(struct fs_cmd *c);

/* Every builder fills *out (zeroed first) and returns 0, or returns an error
 * the caller can hand to the kernel without a round trip (the same check is
 * repeated at apply, since peers are not trusted):
 *   -ENAMETOOLONG  a name longer than FS_NAME_MAX, a target longer than FS_SYMLINK_MAX
 *   -EINVAL        an empty name or one with '/', a bad flag
 *   -ENOMEM
 * `name` arguments are NUL-terminated. */

/* Namespace commands (entity FS_NAMESPACE). */
/* create: a regular file. excl = O_EXCL (EEXIST if the name exists); without
 * it an existing regular file is returned (fs_result.created false). `mode`:
 * permission bits, umask already applied. */
int fs_cmd_create(const struct fs_caller *c, uint64_t parent, const char *name, uint32_t mode,
		  bool excl, struct fs_cmd *out);
/* mknod: `mode` carries the type: S_IFREG (or 0), S_IFIFO, S_IFSOCK, S_IFCHR,
 * S_IFBLK (rdev for the last two). A regular file is created as by an
 * exclusive create. */
int fs_cmd_mknod(const struct fs_caller *c, uint64_t parent, const char *name, uint32_t mode,
		 uint64_t rdev, struct fs_cmd *out);
int fs_cmd_mkdir(const struct fs_caller *c, uint64_t parent, const char *name, uint32_t mode,
		 struct fs_cmd *out);
int fs_cmd_symlink(const struct fs_caller *c, uint64_t parent, const char *name, const char *target,
		   struct fs_cmd *out);
int fs_cmd_link(const struct fs_caller *c, uint64_t ino, uint64_t newparent, const char *newname,
		struct fs_cmd *out);
int fs_cmd_unlink(const struct fs_caller *c, uint64_t parent, const char *name, struct fs_cmd *out);
int fs_cmd_rmdir(const struct fs_caller *c, uint64_t parent, const char *name, struct fs_cmd *out);
/* flags: 0, RENAME_NOREPLACE or RENAME_EXCHANGE (linux/fs.h values 1, 2). */
int fs_cmd_rename(const struct fs_caller *c, uint64_t parent, const char *name, uint64_t newparent,
		  const char *newname, uint32_t flags, struct fs_cmd *out);

/* File-entity commands (entity = ino, a regular file). `data` is copied. */
int fs_cmd_write(const struct fs_caller *c, uint64_t ino, uint64_t offset, const void *data,
		 size_t len, struct fs_cmd *out);
/* O_APPEND write: the offset is the file size when the command is applied. */
int fs_cmd_append(const struct fs_caller *c, uint64_t ino, const void *data, size_t len,
		  struct fs_cmd *out);
int fs_cmd_truncate(const struct fs_caller *c, uint64_t ino, uint64_t size, struct fs_cmd *out);
/* mode: 0 (extend the size to offset+length; the range reads as zeros; no
 * space is reserved: a replicated store cannot promise that),
 * FALLOC_FL_KEEP_SIZE alone (nothing to do), FALLOC_FL_PUNCH_HOLE |
 * FALLOC_FL_KEEP_SIZE, FALLOC_FL_ZERO_RANGE [| FALLOC_FL_KEEP_SIZE].
 * Other modes: -EOPNOTSUPP (at apply). */
int fs_cmd_fallocate(const struct fs_caller *c, uint64_t ino, uint32_t mode, uint64_t offset,
		     uint64_t length, struct fs_cmd *out);

/* ---- locks (fs/lock.c) ---------------------------------------------------
 *
 * Every regular file has a replicated lock table in its entity: a grant is
 * the chosen entry of the lock command, decided at apply. A lock belongs to
 * (node, life, owner, kind): the node that proposed the command, that node's
 * engine life (its id base, node_id_base: it grows at every start, so the
 * locks of a life before a restart are told apart), the kernel's lock owner
 * (POSIX: the process' files; OFD and flock: the open file), and its kind. Locks of different kinds never conflict (as on Linux: flock and
 * fcntl locks are independent); within a kind, two locks of different
 * holders conflict when their ranges overlap and one of them is exclusive. */
enum fs_lock_kind {
	FS_LOCK_POSIX = 1, /* fcntl F_SETLK and OFD locks: byte ranges */
	FS_LOCK_FLOCK = 2, /* flock(2): the whole file */
};
enum fs_lock_type {
	FS_LOCK_READ = 1,  /* shared */
	FS_LOCK_WRITE = 2, /* exclusive */
	FS_LOCK_UNLOCK = 3,
};
#define FS_LOCK_END  UINT64_MAX /* end of a lock that reaches past any end of file */
#define FS_LOCKS_MAX 4096       /* locks in one file's table (-ENOLCK beyond) */

struct fs_lock {
	uint32_t kind; /* enum fs_lock_kind */
	uint32_t type; /* enum fs_lock_type */
	uint64_t start;
	uint64_t end; /* inclusive */
	uint32_t node;
	uint64_t life;
	uint64_t owner;
	uint32_t pid;
	uint64_t epoch; /* the holder's lease epoch when it set it (0: none, never expires) */
};

/* Lock command on regular file `ino`: sets (type read or write), or unlocks
 * (FS_LOCK_UNLOCK) the range of l for (proposing node, l->life, l->owner,
 * l->kind),
 * POSIX style: the holder's locks in the range are replaced, neighbours of
 * the same type merge, an unlock in the middle splits. `test` (F_GETLK)
 * changes nothing. At apply: -EAGAIN and fs_result.lock = the first
 * conflicting lock; -ENOLCK when the table is full; -EINVAL for a bad kind,
 * type or range (also here). l->node is ignored (the command id names it).
 * flock: the range is always the whole file. */
int fs_cmd_lock(const struct fs_caller *c, uint64_t ino, const struct fs_lock *l, bool test,
		struct fs_cmd *out);

/* Drops every lock of the proposing node's `life` on `ino` whose owner is
 * one of owners[0..n) and whose kind bit (1 << kind) is in `kinds`. */
int fs_cmd_lock_release(const struct fs_caller *c, uint64_t ino, uint64_t life,
			const uint64_t *owners, size_t n, uint32_t kinds, struct fs_cmd *out);

/* Drops every lock of the proposing node on `ino` from a life before `life`
 * (a restarted node: none of their holders is left). */
int fs_cmd_lock_release_stale(const struct fs_caller *c, uint64_t ino, uint64_t life,
			      struct fs_cmd *out);

/* ---- lock leases (fs/lease.c) -------------------------------------------
 *
 * A node that holds locks renews a lease (life, epoch) in the namespace;
 * its commands carry it (fs_caller.lease_*). The record of node N in the
 * namespace is the last renewal applied, (life, epoch, seq), and whether it
 * expired. Rules at apply (docs/decisions.md, "Locks"):
 *   LeaseRenew of N   -ESTALE when N's record is expired at or above
 *                     (life, epoch), or above it: N's lease is gone; else 0
 *                     (the record rises to (life, epoch, seq) if above it)
 *   LeaseExpire(N, life, epoch, seq)
 *                     0 and the record expired when it is exactly that and
 *                     not expired: no renewal came after the one judged
 *                     overdue; -ESTALE otherwise (a renewal won, a duplicate)
 *   LockRelease expire(N, life, epoch) on a file
 *                     drops N's locks stamped at or below (life, epoch) and
 *                     raises the file's fence of N to it (duplicates: no-op)
 *   lock set, write, append, truncate, fallocate, setattr, xattrs of N on a
 *   file, stamped at or below the file's fence of N: -EIO, nothing done. */
struct fs_lease {
	uint64_t life;
	uint64_t epoch;
	uint64_t seq;
	bool expired;
	uint64_t lease_ms; /* the node's lease length: the others count by it */
};

/* (life, epoch) ordering of leases: <0, 0, >0. */
int fs_lease_cmp(uint64_t life_a, uint64_t epoch_a, uint64_t life_b, uint64_t epoch_b);

/* Node `node`'s lease record (the local applied namespace): 0, -ENOENT (it
 * never renewed), -EIO. */
int fs_lease_get(struct fs *fs, uint32_t node, struct fs_lease *out);

/* Whether lock l's lease is over by `rec`, its node's record: the record
 * expired at or above l's (life, epoch), or moved past it. Locks without
 * an epoch never are. */
bool fs_lease_ended(const struct fs_lease *rec, const struct fs_lock *l);

/* Namespace commands: renew the proposer's lease; expire node's lease if
 * its record still is `rec` (what the proposer saw). */
int fs_cmd_lease_renew(const struct fs_caller *c, uint64_t life, uint64_t epoch, uint64_t seq,
		       uint64_t lease_ms, struct fs_cmd *out);
int fs_cmd_lease_expire(const struct fs_caller *c, uint32_t node, const struct fs_lease *rec,
			struct fs_cmd *out);

/* File command: drops `node`'s locks on `ino` stamped at or below (life,
 * epoch) and fences its commands stamped so (any node may propose it). */
int fs_cmd_lock_release_expired(const struct fs_caller *c, uint64_t ino, uint32_t node,
				uint64_t life, uint64_t epoch, struct fs_cmd *out);

/* Whether `ino`'s fence of `node` (the local applied state) is at or above
 * (life, epoch): that lease's locks on it were released as expired. 0 and
 * *covered, or -EIO. */
int fs_locks_fenced(struct fs *fs, uint64_t ino, uint32_t node, uint64_t life, uint64_t epoch,
		    bool *covered);

/* The locks of `ino` held by `node` (the local applied state), calling cb
 * for each; a non-zero return stops and is returned. A file that is not a
 * regular file, or has no locks: 0 and no call. -EIO. */
typedef int (*fs_lock_cb)(void *arg, const struct fs_lock *l);
int fs_locks_of_node(struct fs *fs, uint64_t ino, uint32_t node, fs_lock_cb cb, void *arg);

/* Commands on any inode: ordered by the namespace for an inode that is not a
 * regular file, by the file's entity for a regular file. These builders look
 * the inode up to choose: -ENOENT when it does not exist here, -EIO when its
 * entity is bad. */
enum fs_setattr_bits {
	FS_SET_MODE = 1, /* permission bits (the type is kept) */
	FS_SET_UID = 2,
	FS_SET_GID = 4,
	FS_SET_ATIME = 8,  /* to atime_ns */
	FS_SET_MTIME = 16, /* to mtime_ns */
	FS_SET_SIZE = 32,  /* regular files: truncate/extend; directories EISDIR, others EINVAL */
	FS_SET_CTIME = 64, /* to ctime_ns (otherwise a change sets ctime to the caller's time) */
	FS_SET_ATIME_NOW = 128, /* atime to the caller's time_ns (UTIME_NOW) */
	FS_SET_MTIME_NOW = 256, /* mtime to the caller's time_ns */
};
struct fs_setattr {
	uint32_t valid; /* enum fs_setattr_bits */
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	int64_t atime_ns;
	int64_t mtime_ns;
	int64_t ctime_ns;
	uint64_t size;
};
int fs_cmd_setattr(struct fs *fs, const struct fs_caller *c, uint64_t ino,
		   const struct fs_setattr *a, struct fs_cmd *out);
/* A buffered write (mount/wbuf.c) carried by the setattr that followed it:
 * one command, applied write first. Its result: err 0 or the setattr's error
 * with `written` = w->len when the write was applied; written 0 and the
 * write's error when it failed (then nothing of it was applied). -EISDIR for
 * an inode that is not a regular file. */
struct fs_carried_write {
	uint64_t offset;
	const void *data;
	size_t len;
	bool kill_suidgid;
};
int fs_cmd_write_setattr(struct fs *fs, const struct fs_caller *c, uint64_t ino,
			 const struct fs_carried_write *w, const struct fs_setattr *a,
			 struct fs_cmd *out);
/* POSIX ACLs are not implemented: their xattrs (system.posix_acl_access,
 * system.posix_acl_default) are refused with -EOPNOTSUPP by the commands
 * and by fs_getxattr, and left out of fs_listxattr (ones stored by an older
 * version stay hidden), so cp -p, rsync -a, tar -p fall back to chmod. A
 * stored ACL the kernel does not enforce (FUSE without FUSE_CAP_POSIX_ACL)
 * left files 0600 and directories 0700. Refused here, where commands are
 * built, not at apply: entries already chosen apply as they always did. */
bool fs_xattr_is_acl(const char *name, size_t len);

/* flags: 0, XATTR_CREATE or XATTR_REPLACE. -ERANGE: name empty or longer than
 * FS_XATTR_NAME_MAX; -E2BIG: value longer than FS_XATTR_SIZE_MAX;
 * -EOPNOTSUPP: a POSIX ACL (above). */
int fs_cmd_setxattr(struct fs *fs, const struct fs_caller *c, uint64_t ino, const char *name,
		    const void *value, size_t size, uint32_t flags, struct fs_cmd *out);
int fs_cmd_removexattr(struct fs *fs, const struct fs_caller *c, uint64_t ino, const char *name,
		       struct fs_cmd *out);

/* The entity that orders attribute changes of `ino`: FS_NAMESPACE or ino.
 * -ENOENT: no such inode here; -EIO: its entity is bad. */
int fs_entity_of(struct fs *fs, uint64_t ino, uint64_t *entity);

/* Encodes a paxfs.Value from n (id, command) pairs into *buf (malloc'd,
 * free()). paxos/ builds values itself; this is for tools and tests.
 * -ENOMEM. */
int fs_value_encode(const uint64_t *ids, const struct fs_cmd *cmds, size_t n, uint8_t **buf,
		    size_t *len);

/* ---- applying chosen entries ------------------------------------------ */

/* The outcome of one command, identical on every node. */
struct fs_result {
	uint64_t cmd_id;
	int err;       /* 0 or a negative errno (what the system call returns) */
	uint64_t ino;  /* the inode created, linked, renamed or changed; 0 if none */
	bool has_stat; /* st holds the inode's attributes after the command */
	struct stat st;
	bool created;     /* create: a new file (false: an existing one, non-O_EXCL) */
	uint64_t offset;  /* write/append: where the data landed */
	uint64_t written; /* write/append: bytes written */
	bool has_lock;    /* lock: -EAGAIN, or a test that found one: the conflicting lock */
	struct fs_lock lock;
	bool unlocked;  /* lock, lock release: some lock was dropped or narrowed (waiters
			  may now get theirs) */
	bool has_lease; /* lease renew / expire (err 0 or -ESTALE): lease_node's record after */
	uint32_t lease_node;
	struct fs_lease lease;
};

/* An inode whose cached attributes (and, when `data`, cached data in
 * [off, off+len), len 0 = to the end) are stale: FUSE notify_inval_inode. */
struct fs_inval_inode {
	uint64_t ino;
	bool data;
	uint64_t off;
	uint64_t len;
};

/* A directory entry that changed: (parent, name) now names another inode or
 * nothing. `child` is the inode it named before (0: it named nothing);
 * `removed`: it names nothing now (FUSE notify_delete when child != 0,
 * otherwise notify_inval_entry). */
struct fs_inval_entry {
	uint64_t parent;
	uint64_t child;
	bool removed;
	size_t namelen;
	char name[FS_NAME_MAX + 1]; /* NUL-terminated */
};

/* What fs_apply reports. Initialise once with fs_apply_out_init, pass to any
 * number of fs_apply calls (each resets it), release with fs_apply_out_close. */
struct fs_apply_out {
	bool skipped;              /* entry <= applied entry: nothing done */
	bool noop;                 /* consumed without effect: file reclaimed or gone here */
	struct fs_result *results; /* one per command of the value, in order */
	size_t n_results;
	struct fs_inval_inode *inodes;
	size_t n_inodes;
	struct fs_inval_entry *entries;
	size_t n_entries;
	uint64_t *unlinked; /* regular files whose nlink became 0: reclaim when closed */
	size_t n_unlinked;
	size_t batch_bytes;           /* bytes of keys and values this apply wrote */
	struct store_apply_meta meta; /* the entity's ApplyMeta after the call */
	/* capacities (private) */
	size_t cap_results, cap_inodes, cap_entries, cap_unlinked;
};

void fs_apply_out_init(struct fs_apply_out *o);
void fs_apply_out_close(struct fs_apply_out *o);

/* Applies the chosen value of (entity, entry): decodes the paxfs.Value,
 * applies every command in order into one store batch together with the
 * entity's new ApplyMeta, and writes it (unsynced: docs/decisions.md, Apply).
 * Per-command outcomes are in out->results; what the kernel must forget is in
 * out->inodes / out->entries; regular files whose last link went are in
 * out->unlinked (their data stays until fs_reclaim).
 * Returns:
 *   0        applied (out->results), or skipped (entry <= applied entry), or
 *            consumed as a no-op (a file entity reclaimed or gone here)
 *   -EAGAIN  nothing applied: a file entity whose inode this node has not
 *            created yet (its namespace entry is not applied here), or an
 *            entity whose snapshot install is in progress, or a file entity
 *            this node has no state for while the namespace is being
 *            installed or is bad; retry later
 *   -EINVAL  entry > applied entry + 1 (apply in entry order), or entity 0
 *   -EBADMSG the value does not decode, or the entity's state failed its
 *            checksum: nothing applied, the entity is now bad
 *   -EIO     the entity is bad, or the store failed (nothing applied)
 *   -ENOSPC  the disk is full (nothing applied; retry once space is freed)
 *   -ENOMEM */
int fs_apply(struct fs *fs, uint64_t entity, uint64_t entry, const uint8_t *value, size_t len,
	     struct fs_apply_out *out);

/* The entity's ApplyMeta: -ENOENT when this node has none (a file it has not
 * created yet), -EIO, -EBADMSG. */
int fs_applied(struct fs *fs, uint64_t entity, struct store_apply_meta *out);

/* ---- local reads (the applied state; no Paxos) ------------------------ */

/* Attributes of `ino`. A regular file merges its namespace part (type, nlink;
 * nlink 0 once unlinked but not reclaimed) with its entity (everything else);
 * ctime is the later of the two. st_blksize is FS_BLKSIZE; st_blocks counts
 * stored chunks (a hole takes none). -ENOENT: no such inode; -EIO: bad. */
int fs_getattr(struct fs *fs, uint64_t ino, struct stat *st);

/* The entry `name` of directory `parent` and its attributes.
 * -ENOENT, -ENOTDIR (parent is not a directory), -ENAMETOOLONG, -EIO. */
int fs_lookup(struct fs *fs, uint64_t parent, const char *name, struct stat *st);

/* Called for each entry; name is NUL-terminated, valid during the call; type
 * is the S_IFMT bits. Non-zero stops the listing and is returned by
 * fs_readdir. */
typedef int (*fs_readdir_cb)(void *arg, const char *name, uint64_t ino, uint32_t type);

/* Lists directory `ino`: ".", "..", then the entries in bytewise name order.
 * `after` NULL starts at the beginning; otherwise the listing continues after
 * that name (".", "..", or an entry name, which need not exist any more).
 * -ENOENT, -ENOTDIR, -EIO, or the callback's non-zero value. */
int fs_readdir(struct fs *fs, uint64_t ino, const char *after, fs_readdir_cb cb, void *arg);

/* Reads up to `size` bytes at `off` into buf; *got is what was read (stops
 * at end of file; holes read as zeros). -EISDIR, -EINVAL (not a regular
 * file), -ENOENT, -EIO. */
int fs_read(struct fs *fs, uint64_t ino, uint64_t off, size_t size, void *buf, size_t *got);

/* The target of symlink `ino`, NUL-terminated in buf; *len its length.
 * -EINVAL (not a symlink), -ERANGE (size <= length), -ENOENT, -EIO. */
int fs_readlink(struct fs *fs, uint64_t ino, char *buf, size_t size, size_t *len);

/* xattr `name` of `ino`: with size 0 only *len is set; else the value goes to
 * buf. -ENODATA (no such attribute), -ERANGE (size too small), -ENOENT, -EIO,
 * -EOPNOTSUPP (a POSIX ACL). */
int fs_getxattr(struct fs *fs, uint64_t ino, const char *name, void *buf, size_t size, size_t *len);

/* Names of the xattrs of `ino`, each NUL-terminated, in byte order; with
 * size 0 only *len is set. -ERANGE (size too small), -ENOENT, -EIO. */
int fs_listxattr(struct fs *fs, uint64_t ino, char *buf, size_t size, size_t *len);

/* What the file system knows for statfs: f_bsize/f_frsize FS_CHUNK_SIZE,
 * f_namemax, f_files/f_ffree/f_favail from the namespace inode count. Space
 * (f_blocks, f_bfree, f_bavail) is left 0: the daemon fills it from statvfs
 * of its data directory. -EIO. */
int fs_statfs(struct fs *fs, struct statvfs *out);

/* ---- maintenance ------------------------------------------------------ */

/* Removes the state of regular file `ino` once its last link is gone and no
 * process on this node holds it open (POSIX unlink semantics: the daemon
 * decides when). Later entries of its entity are consumed as no-ops. Deletes
 * in bounded batches; after a crash half-way, calling it again finishes.
 * Returns 0 (also when already reclaimed), -EBUSY (still linked), -ENOENT
 * (this node never had the file), -EINVAL (ino 1), -EIO. */
int fs_reclaim(struct fs *fs, uint64_t ino);

/* Recomputes an entity's digest from its stored state (paxfs-verify --deep);
 * compare it with fs_applied()'s state_digest. -EBADMSG: a record fails its
 * checksum (the entity is then bad); -EIO. */
int fs_digest_recompute(struct fs *fs, uint64_t entity, uint64_t *digest);

enum fs_entity_state {
	FS_ENTITY_LIVE = 1,   /* applied state present */
	FS_ENTITY_PENDING,    /* known to Paxos here, not created by the namespace yet */
	FS_ENTITY_DEAD,       /* reclaimed, or gone before this node saw it */
	FS_ENTITY_INSTALLING, /* a snapshot install began and has not finished */
	FS_ENTITY_BAD,        /* failed a checksum or a decode: refuses service */
};

struct fs_entity_info {
	uint64_t entity;
	enum fs_entity_state state;
	bool has_meta;                /* meta is valid */
	struct store_apply_meta meta; /* for FS_ENTITY_DEAD the chain is only
				       * comparable if the node saw the file */
	char reason[128];             /* FS_ENTITY_BAD: why */
};

typedef int (*fs_entity_cb)(void *arg, const struct fs_entity_info *info);

/* Calls cb for every entity this node knows (fs state, Paxos meta or a
 * tombstone), in entity order, starting after `after` (0: all). Non-zero from
 * cb stops and is returned. -EIO. */
int fs_entities(struct fs *fs, uint64_t after, fs_entity_cb cb, void *arg);

/* One path of `ino` from the root ("/", "/a/b"), for reports. Scans the
 * namespace, so it is slow on big trees: for tools only. -ENOENT (no link
 * left), -ENAMETOOLONG (buf too small), -EIO. */
int fs_path(struct fs *fs, uint64_t ino, char *buf, size_t size);

/* True when the entity is marked bad (every request on it answers -EIO). */
bool fs_entity_bad(struct fs *fs, uint64_t entity);

/* Marks `entity` bad: logs the reason, remembers it, and persists the mark
 * (its own unsynced batch; failure to persist is logged, the mark holds in
 * memory). Idempotent. fs/ calls it on damage it finds itself; paxfs-verify
 * --deep calls it when an entity's state no longer matches its kept digest. */
void fs_mark_bad(struct fs *fs, uint64_t entity, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- snapshots (a node behind the log's trim point) ------------------- */

/* Export: a stream of encoded FsSnapshotChunk (proto/fs.proto) of bounded
 * size, so a 10 GiB file is many messages.
 *
 * The store has no read snapshots, so the stream is consistent only while
 * the entity is not applied: every fs_export_next checks that the entity's
 * applied entry is still the one at fs_export_open and fails with -ESTALE
 * otherwise (drop the stream, open a new one). The daemon exports an entity
 * between two of its applies, or holds its applies while a stream is out. */
struct fs_export;

/* -ENOENT (no state here: pending or dead), -EIO (bad), -ENOMEM. */
int fs_export_open(struct fs *fs, uint64_t entity, struct fs_export **out);

/* The next chunk, at most about max_bytes of keys and values (one record
 * always fits) into *buf (malloc'd, free()); *last on the final one.
 * -ESTALE (the entity was applied since open), -EINVAL (called after last),
 * -EIO, -ENOMEM. */
int fs_export_next(struct fs_export *e, size_t max_bytes, uint8_t **buf, size_t *len, bool *last);
void fs_export_free(struct fs_export *e);

/* Install: replaces this node's state of the entity with the stream.
 *
 * The first chunk clears the entity's old state and marks it installing
 * (reads -EIO, fs_apply -EAGAIN) until fs_install_finish checks the digest
 * and writes the ApplyMeta; an install interrupted (crash, error, free
 * without finish) leaves the entity installing until a later install
 * finishes. Installing the namespace also creates the initial state of every
 * regular file it names that this node does not have, from its birth record,
 * and reports file entities it no longer names (to reclaim once closed). */
struct fs_install;

int fs_install_open(struct fs *fs, uint64_t entity, struct fs_install **out);

/* Feeds one chunk. -EBADMSG: it does not decode, or names another entity, a
 * key outside the entity, keys out of order, another cursor than the first
 * chunk; -EPROTO: out of sequence or after the last; -EALREADY (first chunk
 * only, nothing changed): this node has already applied that far; -EIO,
 * -ENOSPC. After an error the install is unusable: free it. */
int fs_install_chunk(struct fs_install *in, const uint8_t *buf, size_t len);

/* Completes the install after the last chunk. For the namespace, the inodes
 * of file entities that no longer have a name are appended to
 * out->unlinked (out may be NULL otherwise; it is reset first when given).
 * -EPROTO (the last chunk was not fed), -EBADMSG (the digest of what was
 * installed differs from the sender's: the entity stays installing),
 * -EIO, -ENOSPC. */
int fs_install_finish(struct fs_install *in, struct fs_apply_out *out);
void fs_install_free(struct fs_install *in);

#endif
