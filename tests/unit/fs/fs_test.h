/* tests/unit/fs/fs_test.h — a test node (store + fs in a temp dir) and
 * helpers that build a command, apply it as the next entry of its entity and
 * check the outcome, so that a test reads like the system calls it stands
 * for. Every helper fails the running test (ck_assert) on surprises. */
#ifndef PAXFS_TESTS_UNIT_FS_FS_TEST_H
#define PAXFS_TESTS_UNIT_FS_FS_TEST_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <protobuf-c/protobuf-c.h>

#include "fs/fs.h"
#include "store/store.h"

struct tnode {
	char dir[256];
	struct store *st;
	struct fs *fs;
	uint32_t node;    /* node id in command ids (inode numbers' low byte) */
	uint64_t next_id; /* command counter */
	struct fs_caller who;
	struct fs_apply_out out;
	/* every applied entry is recorded here, to replay on another node */
	struct tentry *log;
	size_t nlog, caplog;
};

struct tentry {
	uint64_t entity, entry;
	uint8_t *value;
	size_t len;
};

/* A fresh node with its own temporary store. */
void tn_open(struct tnode *n, uint32_t node);
/* Closes fs and store and opens them again on the same data. */
void tn_reopen(struct tnode *n);
/* Closes everything and removes the temporary directory. */
void tn_close(struct tnode *n);

/* Encodes cmd (consumed) as a one-command value, applies it as the next
 * entry of cmd->entity and returns fs_apply's rc; *res (may be NULL) gets
 * the command's result. The clock advances one microsecond per command. */
int tn_apply(struct tnode *n, struct fs_cmd *cmd, struct fs_result *res);
/* Same, asserting fs_apply returned 0; returns the command's errno. */
int tn_do(struct tnode *n, struct fs_cmd *cmd, struct fs_result *res);
/* Applies several commands (consumed) as one value of `entity`. */
int tn_apply_many(struct tnode *n, uint64_t entity, struct fs_cmd *cmds, size_t k);
/* Applies a raw value as entry `entry` of `entity`. */
int tn_apply_raw(struct tnode *n, uint64_t entity, uint64_t entry, const uint8_t *v, size_t len);
/* Replays every entry of `from`'s log on `to`, in order. */
void tn_replay(struct tnode *to, const struct tnode *from);
/* The next entry of entity (applied + 1). */
uint64_t tn_next_entry(struct tnode *n, uint64_t entity);

/* Operations that must succeed; they return the inode. */
uint64_t t_create(struct tnode *n, uint64_t parent, const char *name, uint32_t mode);
uint64_t t_mkdir(struct tnode *n, uint64_t parent, const char *name, uint32_t mode);
uint64_t t_symlink(struct tnode *n, uint64_t parent, const char *name, const char *target);
void t_write(struct tnode *n, uint64_t ino, uint64_t off, const void *data, size_t len);
void t_truncate(struct tnode *n, uint64_t ino, uint64_t size);
void t_unlink(struct tnode *n, uint64_t parent, const char *name);

/* The errno of an operation (0 on success). */
int e_create(struct tnode *n, uint64_t parent, const char *name, uint32_t mode, bool excl);
int e_mkdir(struct tnode *n, uint64_t parent, const char *name);
int e_unlink(struct tnode *n, uint64_t parent, const char *name);
int e_rmdir(struct tnode *n, uint64_t parent, const char *name);
int e_rename(struct tnode *n, uint64_t p, const char *name, uint64_t np, const char *newname,
	     uint32_t flags);
int e_link(struct tnode *n, uint64_t ino, uint64_t np, const char *newname);

/* Reads and lookups that must succeed. */
struct stat t_stat(struct tnode *n, uint64_t ino);
uint64_t t_lookup(struct tnode *n, uint64_t parent, const char *name);
/* The errno of a lookup (0 when found). */
int e_lookup(struct tnode *n, uint64_t parent, const char *name);
/* Reads [off, off+size) into a malloc'd buffer; *got bytes. */
uint8_t *t_read(struct tnode *n, uint64_t ino, uint64_t off, size_t size, size_t *got);
/* The names in a directory, "\n"-joined (without . and ..), malloc'd. */
char *t_list(struct tnode *n, uint64_t dir);

/* Digest of an entity as kept, and as recomputed (must agree). */
uint64_t t_digest(struct tnode *n, uint64_t entity);

/* Packs any message (a paxfs.Command made by hand, to send what a builder
 * would refuse) into out, ordered by `entity`. */
void t_pack(const ProtobufCMessage *m, uint64_t entity, struct fs_cmd *out);

/* Number of state records in the store (store_scan_state). */
size_t t_count_state(struct tnode *n);
/* Gives `entity` a PaxosMeta, as the engine would. */
void t_put_paxos_meta(struct tnode *n, uint64_t entity);
/* Damages the state record `key` so that its checksum fails; may close and
 * reopen the node's fs and store to do so (backend_*.c). */
void t_corrupt_state(struct tnode *n, const void *key, size_t klen);
/* While a negative errno, every store_write fails with it (fault.c). */
extern int t_fail_writes;

/* A fresh temporary directory name prefix; paths are removed by tn_close. */
const char *t_tmpdir(void);

#endif
