/* tests/sim/simstore.h — an in-memory store with the engine's storage
 * callbacks, for the simulator and the unit tests.
 *
 * It holds exactly what a node's leveldb would hold durably: metas and
 * records. A batch (an update's records, metas and trims) is applied whole
 * or not at all (sim_store_apply); what the simulator has not applied when a
 * node crashes is lost, as an unsynced batch would be. A wipe empties it.
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

#endif
