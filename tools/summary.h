/* tools/summary.h — what one node holds of each entity: the facts that
 * paxfs-verify compares, read from one store (and its fs) the same way by
 * the offline tool and by a running daemon answering a VerifyRequest.
 *
 * One summary per entity (struct verify_entity):
 *
 *   fs:    state (live, pending, dead, installing, bad + why)
 *   paxos: chosen entry, trim point (entry, chained crc)       PaxosMeta
 *   apply: applied entry, chained crc, kept state digest       ApplyMeta
 *   log:   (entry, value id, value crc, value length) of every chosen entry
 *          still kept, ascending (capped at VERIFY_LOG_MAX)
 *   damage: records of the entity that fail their checksum
 *   deep:  the state digest recomputed from the state records
 *
 * Reading is cheap without `deep`: metas, the records' own fields (the
 * values' CRCs are in the records; separately stored values are not read)
 * and the digest fs/ keeps with every apply. With `deep`, every value is
 * read (checking its checksum) and the digest is recomputed by a scan of
 * the entity's state; an entity whose state no longer matches its kept
 * digest is then marked bad (fs_mark_bad: it answers EIO rather than wrong
 * data), when opts->mark_bad says so.
 *
 * Consistency: a summary is read in one go by one thread; the daemon reads
 * it between two of its loop's callbacks, so an apply never lands halfway.
 */
#ifndef PAXFS_TOOLS_SUMMARY_H
#define PAXFS_TOOLS_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/fs.h"
#include "store/store.h"

#define VERIFY_LOG_MAX    65536 /* chosen entries one summary carries */
#define VERIFY_DAMAGE_MAX 16    /* damaged records one summary names */
#define VERIFY_WHAT_MAX   160   /* bytes of a damage description (NUL included) */

struct verify_log_item {
	uint64_t entry;
	uint64_t value_id;
	uint32_t value_crc; /* CRC32C of the value bytes */
	uint64_t value_len;
};

struct verify_damage {
	uint64_t entry; /* the log entry; 0: not a log record (a meta) */
	char what[VERIFY_WHAT_MAX];
};

struct verify_entity {
	uint64_t entity;
	uint32_t state;   /* enum fs_entity_state; 0: fs knows nothing of it */
	char reason[128]; /* FS_ENTITY_BAD: why */
	bool has_paxos;
	struct store_paxos_meta paxos; /* chosen_entry, trimmed_entry, trimmed_crc used */
	bool has_apply;
	struct store_apply_meta apply;
	struct verify_log_item *log; /* ascending entries, chosen only */
	size_t n_log, cap_log;
	bool log_truncated; /* more than VERIFY_LOG_MAX chosen entries */
	struct verify_damage *damage;
	size_t n_damage, cap_damage;
	bool deep; /* deep_digest holds a recomputed digest */
	uint64_t deep_digest;
	int deep_err;    /* 0 or the negative errno of the recomputation */
	bool applying;   /* chosen entries wait to be applied (daemon only) */
	bool marked_bad; /* this summary's deep check marked it bad */
};

/* A zeroed summary of `entity`. */
void verify_entity_init(struct verify_entity *e, uint64_t entity);
/* Frees the log and damage arrays; the struct may be reused after init. */
void verify_entity_close(struct verify_entity *e);
/* Moves *src into *dst (dst must be closed or fresh); src is left empty. */
void verify_entity_move(struct verify_entity *dst, struct verify_entity *src);

/* Appends a log item (entries must rise) or a damage note (beyond
 * VERIFY_DAMAGE_MAX the note is dropped). 0 or -ENOMEM. */
int verify_entity_add_log(struct verify_entity *e, const struct verify_log_item *it);
int verify_entity_add_damage(struct verify_entity *e, uint64_t entry, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct verify_summary_opts {
	bool deep;      /* read every value, recompute digests */
	bool mark_bad;  /* deep: mark an entity whose state fails its digest bad */
	size_t log_max; /* 0: VERIFY_LOG_MAX */
	/* May be NULL. True when the caller still has chosen entries of the
	 * entity to apply (the daemon's deferred applies). */
	bool (*applying)(void *arg, uint64_t entity);
	void *applying_arg;
};

/* Summarises one entity that fs_entities reported as `info` into *out
 * (initialised here; close it even on failure). Damage in the entity's own
 * records is not an error: it is noted in out->damage. Returns 0, or
 * -EIO (the store failed), -ENOMEM. */
int verify_summarise(struct store *st, struct fs *fs, const struct fs_entity_info *info,
		     const struct verify_summary_opts *opt, struct verify_entity *out);

/* The same for an entity given by id (a re-ask): an entity this node knows
 * nothing of gets a summary with state 0 and no metas. */
int verify_summarise_entity(struct store *st, struct fs *fs, uint64_t entity,
			    const struct verify_summary_opts *opt, struct verify_entity *out);

/* Summarises every entity after `after`, in entity order, calling cb with
 * each summary (borrowed for the call; cb may move it away with
 * verify_entity_move). A non-zero return from cb stops the walk and is
 * returned. Otherwise 0 at the end, or -EIO, -ENOMEM. */
typedef int (*verify_entity_cb)(void *arg, struct verify_entity *e);
int verify_summarise_from(struct store *st, struct fs *fs, uint64_t after,
			  const struct verify_summary_opts *opt, verify_entity_cb cb, void *arg);

/* A short name of an fs entity state ("live", "pending", ...; "unknown" for 0). */
const char *verify_state_name(uint32_t state);

#endif
