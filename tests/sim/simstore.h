/* tests/sim/simstore.h — an in-memory store with the engine's storage
 * callbacks, for the simulator and the unit tests.
 *
 * It holds what a node's leveldb holds: metas and records. A batch (an
 * update's records, metas and trims) is applied whole or not at all
 * (sim_store_apply). The simulator keeps two per node: what the engine reads
 * (every batch written), and what is durable (batches a synced write has
 * covered); a power cut makes the first a copy of the second. A wipe empties
 * both.
 */
#ifndef PAXFS_TESTS_SIM_SIMSTORE_H
#define PAXFS_TESTS_SIM_SIMSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "paxos/paxos.h"

struct sim_rec {
	uint64_t entry;
	struct paxos_record r; /* r.value malloc'd */
};

struct sim_ent {
	uint64_t id;
	bool has_meta;
	struct paxos_meta meta;
	struct sim_rec *recs; /* ascending entry */
	size_t n, cap;
};

struct sim_store {
	struct sim_ent **ents; /* ascending id */
	size_t n, cap;
	uint64_t reads, writes; /* operation counters */
};

extern const struct paxos_storage_ops sim_store_ops;

void sim_store_init(struct sim_store *s);
/* Frees everything (the store is empty and reusable afterwards). */
void sim_store_close(struct sim_store *s);

/* The entity, or NULL. */
struct sim_ent *sim_store_ent(const struct sim_store *s, uint64_t id);
/* The record (entity, entry), or NULL. */
struct sim_rec *sim_store_rec(const struct sim_store *s, uint64_t entity, uint64_t entry);

/* Applies an update's records, metas and trims in that order (as one
 * batch). Returns 0 or -ENOMEM. */
int sim_store_apply(struct sim_store *s, const struct paxos_update *u);

/* A copy of an update's writes, to be applied later (a write not synced yet:
 * the simulator applies it to the durable copy of a store when a later synced
 * write covers it, or loses it in a power cut). */
struct sim_batch {
	struct paxos_out_record *records; /* rec.value malloc'd */
	size_t n_records;
	struct paxos_out_meta *metas;
	size_t n_metas;
	struct paxos_trim *trims;
	size_t n_trims;
};

/* A deep copy of u's records, metas and trims; NULL when out of memory. */
struct sim_batch *sim_batch_copy(const struct paxos_update *u);
void sim_batch_free(struct sim_batch *b);
int sim_store_apply_batch(struct sim_store *s, const struct sim_batch *b);

/* Makes dst (initialised, any content) a deep copy of src. 0 or -ENOMEM. */
int sim_store_copy(struct sim_store *dst, const struct sim_store *src);

#endif
