/* tools/compare.h — comparing the summaries of several nodes, entity by
 * entity, and what the comparison finds.
 *
 * Nodes are compared at the same entry, never at the same instant, so a
 * check is consistent while writes go on:
 *
 *   chosen values   immutable once chosen: any two nodes that both keep
 *                   entry i of an entity must hold the same (value id,
 *                   value crc, length) there;
 *   chains          c_i = crc32c(c_{i-1}, value_i) at an entry: a node knows
 *                   its chain at its applied entry (ApplyMeta) and at its
 *                   trim point (PaxosMeta), and anywhere in between from the
 *                   CRCs of the values its log keeps (tools/chain.h); two
 *                   nodes are compared at every such entry they share;
 *   replay          a node's chain at its applied entry must be what its own
 *                   log replays to from its trim point;
 *   digests         comparable only at equal applied entries, and only where
 *                   the entity is live on both nodes (a file reclaimed on one
 *                   node and open on another is not a divergence).
 *
 * An entity whose nodes stand at different applied entries is put aside and
 * re-asked in later rounds (the driver waits a little in between); after the
 * final round what is still apart is lag: the node is behind, by how much,
 * and whether its applied entry moved during the check.
 *
 * Streams: each node delivers its summaries in ascending entity order (a
 * listing in round 0, the re-asked entities in later rounds); an entity is
 * compared once every node still in the check has delivered it or passed
 * it, so memory holds about one page per node, not the whole cluster.
 */
#ifndef PAXFS_TOOLS_COMPARE_H
#define PAXFS_TOOLS_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/summary.h"

#define VERIFY_FINDINGS_MAX 1000       /* findings kept; more are only counted */
#define VERIFY_RECHECK_MAX  (1u << 20) /* entities re-asked at most */
#define VERIFY_LAG_EXAMPLES 5

/* What a divergence is about. Every kind exits 1. */
enum verify_kind {
	VERIFY_VALUE = 1, /* two nodes hold different chosen values at (entity, entry) */
	VERIFY_CHAIN,     /* chained checksums differ at the same entry */
	VERIFY_DIGEST,    /* state digests differ at the same applied entry */
	VERIFY_REPLAY,    /* a node's state is not what its own log replays to */
	VERIFY_DAMAGE,    /* a node holds a record that fails its checksum */
	VERIFY_BAD,       /* the entity refuses service on a node (damage found earlier) */
	VERIFY_DEEP,      /* a node's state does not match the digest kept with it */
};

struct verify_finding {
	enum verify_kind kind;
	uint64_t entity;
	uint64_t entry;    /* the entry concerned (0: none in particular) */
	uint8_t nodes[32]; /* bitmap of the node ids implicated */
	char detail[512];  /* what differs, for a person */
	char path[512];    /* the entity's path, when the driver found one */
};

struct verify_lag_example {
	uint64_t entity;
	uint64_t applied; /* this node's applied entry */
	uint64_t chosen;  /* the highest chosen entry any node reported */
};

/* Lag of one node over the whole check. */
struct verify_lag {
	uint64_t entities;   /* entities it is behind on */
	uint64_t total;      /* entries behind, summed */
	uint64_t max;        /* the largest single lag */
	uint64_t progressed; /* of those, entities whose applied entry moved during the check */
	uint64_t applying;   /* of those, entities it has chosen entries of waiting to apply */
	struct verify_lag_example ex[VERIFY_LAG_EXAMPLES]; /* the largest lags */
	size_t n_ex;
};

struct verify_counts {
	uint64_t entities;  /* distinct entities compared */
	uint64_t values;    /* (entity, entry) pairs held by two nodes or more, compared */
	uint64_t chains;    /* chain comparisons at a shared entry */
	uint64_t digests;   /* entities whose digests were compared at a shared entry */
	uint64_t unsettled; /* entities whose nodes stayed at different entries */
	uint64_t divergent; /* entities with a divergence */
	uint64_t omitted;   /* findings beyond VERIFY_FINDINGS_MAX (counted only) */
};

static inline void verify_nodes_set(uint8_t *bm, uint32_t id)
{
	bm[(id & 0xff) >> 3] |= (uint8_t)(1u << (id & 7));
}
static inline bool verify_nodes_has(const uint8_t *bm, uint32_t id)
{
	return bm[(id & 0xff) >> 3] & (1u << (id & 7));
}

struct verify_cmp;

/* A comparator of n nodes (their ids, 1..255, distinct). 0, -EINVAL, -ENOMEM. */
int verify_cmp_new(const uint32_t *ids, size_t n, struct verify_cmp **out);
void verify_cmp_free(struct verify_cmp *c);

/* Starts a round: round 0 is the full listing, later rounds deliver the
 * entities verify_cmp_round_end named. In the final round nothing is put
 * aside: what is apart is reported as lag. */
void verify_cmp_round_begin(struct verify_cmp *c, bool final);

/* Hands node i's next summary to the comparator, which takes it over (e is
 * left empty). -EINVAL when its entity is not above the node's previous one
 * in this round (the driver reports the node as answering garbage and calls
 * verify_cmp_node_lost), -ENOMEM. */
int verify_cmp_add(struct verify_cmp *c, size_t i, struct verify_entity *e);

/* Node i has delivered everything of this round. */
void verify_cmp_node_done(struct verify_cmp *c, size_t i);
/* Node i is out of the check (unreachable, garbage): what it delivered and
 * was not compared yet is dropped; it is never compared again. */
void verify_cmp_node_lost(struct verify_cmp *c, size_t i);
bool verify_cmp_node_is_lost(const struct verify_cmp *c, size_t i);
/* Summaries of node i waiting for the other nodes (flow control). */
size_t verify_cmp_queued(const struct verify_cmp *c, size_t i);

/* Compares every entity that all nodes still in the check have delivered or
 * passed. 0 or -ENOMEM. */
int verify_cmp_process(struct verify_cmp *c);

/* Ends a round (every node done or lost): compares what is left and
 * returns the entities put aside to re-ask, ascending, in *ids (owned by c,
 * valid until the next round begins). 0 or -ENOMEM. */
int verify_cmp_round_end(struct verify_cmp *c, const uint64_t **ids, size_t *n);

/* Results. */
const struct verify_finding *verify_cmp_findings(const struct verify_cmp *c, size_t *n);
struct verify_finding *verify_cmp_findings_mut(struct verify_cmp *c, size_t *n);
const struct verify_counts *verify_cmp_counts(const struct verify_cmp *c);
const struct verify_lag *verify_cmp_lag(const struct verify_cmp *c, size_t i);
/* Summaries node i delivered in round 0. */
uint64_t verify_cmp_listed(const struct verify_cmp *c, size_t i);

/* "value", "chain", ... */
const char *verify_kind_name(enum verify_kind k);

#endif
