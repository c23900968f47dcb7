/* paxos/internal.h — the engine's data structures, shared by the files of paxos/ only.
 *
 *   struct paxos
 *   ├── table: open-addressing hash  entity id -> struct paxos_entity *
 *   ├── idle:  LRU list of evictable entities (oldest first)
 *   ├── heap:  min-heap of entities by deadline (paxos_entity.heap_idx)
 *   ├── touched[]: entities changed in this step (flushed at its end)
 *   ├── catch-up queue (entity ids found behind by a scan) + scans per peer
 *   └── out: the update being built (records, metas, outboxes, …)
 *
 *   struct paxos_entity (one per entity in memory; 216 bytes when idle)
 *   ├── chosen, chosen_proposer, trimmed, vote_after  (== the persisted meta)
 *   ├── slots ──▶ paxos_slot(e) ──▶ paxos_slot(e+k) …   open entries (> chosen),
 *   │                                  ascending; the acceptor's records
 *   ├── prop ───▶ paxos_proposer (NULL unless proposing)
 *   ├── queue ──▶ paxos_cmd ──▶ paxos_cmd …  commands waiting for an entry
 *   ├── barriers ─▶ paxos_barrier …
 *   └── catch-up state (fetch in flight, snapshot asked)
 *
 * Values are immutable and refcounted (paxos_value): the same bytes are shared by
 * a slot, a proposer, and the messages and chosen notices of an update.
 *
 * Invariants kept by every handler:
 * - a slot exists only for entries > chosen; entries <= chosen are read back
 *   from storage (load_record) when a peer asks;
 * - a changed slot or meta is marked dirty and the entity is on touched[];
 *   the step flushes every dirty record/meta into the update before it
 *   returns, so messages that depend on them are persisted first; a vote or
 *   a fence is flushed with sync, everything else lazily;
 * - an entity with anything in flight is never on the idle list, and an
 *   entity on the idle list has no deadline.
 */
#ifndef PAXFS_PAXOS_INTERNAL_H
#define PAXFS_PAXOS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "paxos/paxos.h"
#include "util/prng.h"

/* ---- values --------------------------------------------------------------- */

struct paxos_value {
	uint32_t refs;
	uint32_t crc; /* unused by the engine; keeps data 8-aligned */
	size_t len;
	uint8_t data[];
};

/* ---- commands ------------------------------------------------------------- */

/* Where a forwarded command stands at its origin (forward.c). */
enum paxos_fwd_state {
	PAXOS_FWD_SENT = 1, /* in FORWARD fwd_seq to the holder fwd_to, unanswered */
	PAXOS_FWD_TAKEN,    /* the holder took it (or may have: it died or restarted):
			     * it is seen chosen or fails with -EIO */
};

struct paxos_cmd {
	struct paxos_cmd *next;
	uint64_t id;           /* names its origin: not ours (paxos_id_mine) when a
				 * holder took it from another node */
	uint64_t submitted_ms; /* at the origin; at a holder: when it took it */
	bool failed;           /* reported failed (-EIO) while in flight; never requeued */
	uint8_t fwd_state;     /* enum paxos_fwd_state; 0 unless on the entity's fwd list */
	uint8_t fwd_to;        /* node index of the holder */
	uint64_t fwd_seq;
	uint64_t fwd_until; /* forwarded: the last entry it may be chosen at (at the
				 * origin: of the FORWARD it went in; at a holder: of the
				 * FORWARD it came by); 0: not forwarded */
	size_t len;
	uint8_t body[];
};

/* ---- the acceptor's open entries -------------------------------------- */

struct paxos_slot {
	struct paxos_slot *next; /* ascending entry */
	uint64_t entry;
	uint64_t promised;
	uint64_t accepted;
	uint64_t value_id;
	struct paxos_value *value; /* NULL when nothing accepted (and not chosen) */
	bool chosen;
	bool dirty;        /* changed since last handed to the update */
	bool vote;         /* ...and the change is a vote (promise, acceptance): the
			    * record must be durable before the messages leave */
	bool value_stored; /* this value_id's bytes are already in a record */
	/* announced chosen (CHOSEN without the value) before we held the
	 * value: learned as soon as a value with this id arrives (0: none) */
	uint64_t chosen_vid;
	uint64_t chosen_ballot;
};

/* ---- the proposer ------------------------------------------------------- */

enum paxos_phase {
	PAXOS_PHASE_PREPARE = 1, /* phase 1 sent, collecting promises */
	PAXOS_PHASE_ACCEPT,      /* phase 2 sent, collecting acceptances */
	PAXOS_PHASE_BACKOFF,     /* preempted; restarts phase 1 at `deadline` */
};

struct paxos_proposer {
	uint64_t entry;
	uint64_t ballot;
	bool early; /* ACCEPTs at `ballot` leave before our own acceptance is
		     * durable, which counts once its sync returned (a notice) */
	enum paxos_phase phase;
	uint64_t acks;      /* bit per node index: promised / accepted `ballot` */
	uint64_t max_round; /* highest round seen at this entry (for the next ballot) */
	/* phase 1: the highest-ballot value reported accepted by the promisers */
	uint64_t found_ballot;
	uint64_t found_id;
	struct paxos_value *found;
	/* our own value for this entry, built at most once (commands or no-op) */
	uint64_t own_id;
	struct paxos_value *own;
	struct paxos_cmd *inflight; /* the commands in `own`, in order */
	/* phase 2: the value proposed at `ballot` (found, or own) */
	uint64_t value_id;
	struct paxos_value *value;
	uint32_t attempts; /* preemptions so far (backoff grows with it) */
	uint64_t deadline; /* resend / restart at */
	uint64_t started_ms;
};

/* ---- read barriers ------------------------------------------------------- */

struct paxos_barrier {
	struct paxos_barrier *next;
	uint64_t req_id;
	uint64_t nonce;
	uint64_t started_ms;
	uint64_t acks;   /* nodes that answered (voters only) */
	uint64_t target; /* highest entry any of them knows of */
	bool counted;    /* a majority answered: wait for chosen >= target */
	uint64_t resend_at;
	uint64_t stuck_since; /* counted: since when chosen has not moved */
	uint64_t seen_chosen; /* counted: the chosen entry at stuck_since */
};

/* ---- entities ------------------------------------------------------------ */

struct paxos_entity {
	uint64_t id;
	/* persisted meta */
	uint64_t chosen;
	uint64_t chosen_stored; /* chosen as of the updates already returned: entries
				 * above it are only in the update being built */
	uint64_t trimmed;
	uint64_t vote_after;
	uint64_t born; /* PaxosMeta.born */
	uint32_t chosen_proposer;
	bool chosen_mine;    /* the value chosen at `chosen` was built by this engine
			   * (this life); not persisted: false after a load */
	uint64_t own_synced; /* an entry where this life's proposal was chosen
			      * with our own acceptance durable among the votes */
	uint32_t trimmed_crc;
	/* trimming: the last applied point reported, and the next trim point */
	uint64_t applied;
	uint64_t cp_entry;
	uint32_t cp_crc;
	/* catch-up */
	uint32_t behind_peer; /* a peer known to have chosen up to behind_to */
	uint64_t behind_to;
	uint64_t fetch_at;     /* fetch in flight: retry at (0 = none) */
	uint64_t fetch_to;     /* last entry the fetch in flight asked for */
	uint32_t fetch_tries;  /* to the current peer (rotates after 2) */
	uint32_t fetch_stalls; /* fetches timed out since chosen last moved */
	uint64_t snapshot_at;  /* snapshot asked: ask again at (0 = none) */
	uint64_t orphan_at;    /* chosen + 1 holds an accepted value nobody is
				* finishing: propose there at (0 = none) */
	/* activity */
	struct paxos_slot *slots;
	struct paxos_proposer *prop;
	struct paxos_cmd *queue, *queue_tail;
	struct paxos_cmd *fwd; /* our commands forwarded to a holder (forward.c) */
	uint64_t fwd_block;    /* a holder refused at this entry: propose ourselves */
	uint64_t own_until;    /* a command of ours was submitted recently: as the
				  * holder, take forwarded commands until then */
	struct paxos_barrier *barriers;
	uint64_t queue_deadline; /* earliest submitted_ms + timeout in queue; cached */
	/* bookkeeping */
	uint64_t deadline; /* in the heap when != PAXOS_NO_DEADLINE */
	size_t heap_idx;   /* position + 1 in the heap; 0 = not in it */
	uint64_t last_used;
	struct paxos_entity *lru_prev, *lru_next;
	uint16_t flags;
};

#define PAXOS_ENT_TOUCHED      0x01 /* on touched[] this step */
#define PAXOS_ENT_META_DIRTY   0x02
#define PAXOS_ENT_META_ON_DISK 0x04 /* a meta exists in storage (so it is listed) */
#define PAXOS_ENT_BROKEN       0x08 /* storage failed: refuse service */
#define PAXOS_ENT_IDLE         0x10 /* on the LRU idle list */
#define PAXOS_ENT_CATCHUP      0x20 /* counted in catchup_active */
#define PAXOS_ENT_SLOTS_DIRTY  0x40
#define PAXOS_ENT_META_SYNC    0x80 /* the dirty meta raises the amnesia fence */
/* made by a create of this life (PAXOS_EV_BORN); and its PaxosMeta.born is
 * durable, so entry 1's round 0 may leave early (proposer.c). Lost on
 * eviction: then phase 1. */
#define PAXOS_ENT_BORN        0x100
#define PAXOS_ENT_BORN_SYNCED 0x200

/* ---- scans (entity listings from peers) ------------------------------- */

struct paxos_scan {
	bool open;       /* reading this peer's listing */
	bool done;       /* read to the end since start (amnesia counts these) */
	bool again;      /* the peer came back during this pass: one more pass */
	uint64_t cursor; /* last entity id received */
	uint64_t resend_at;
	uint64_t next_pass_at; /* not open: start the next pass then */
};

/* ---- forwarding channels (forward.c) ---------------------------------------- */

#define PAXOS_FWD_WINDOW 4096 /* unanswered FORWARDs per origin -> holder process */

/* Our FORWARDs to one holder process: sequence numbers lo..next-1 may be
 * unanswered ("unsettled"); ents[seq % WINDOW] names the entity of an
 * unsettled one (0: settled). */
struct paxos_fwd_out {
	uint64_t session;   /* the holder process; 0: none yet */
	uint64_t next;      /* next sequence number (from 1) */
	uint64_t lo;        /* every seq below is settled */
	uint64_t *ents;     /* PAXOS_FWD_WINDOW entries, allocated on first use */
	uint64_t *sent_ms;  /* when each unsettled one was first sent */
	uint64_t resend_at; /* 0: nothing unsettled */
};

/* FORWARDs from one origin process: every seq below `next` is decided;
 * taken[] keeps the decisions of the last PAXOS_FWD_WINDOW of them. */
struct paxos_fwd_in {
	uint64_t session; /* the origin process; 0: none yet */
	uint64_t next;
	uint64_t *taken; /* PAXOS_FWD_WINDOW bits, allocated on first use */
};

/* ---- the update being built --------------------------------------------- */

struct paxos_updbox {
	struct paxos_msg *msgs;
	size_t n, cap;
};

struct paxos_updbuf {
	struct paxos_update upd;
	bool needs_sync; /* some record or meta of this update has sync */
	struct paxos_out_record *records;
	struct paxos_value **record_values; /* records[i]'s value (for reading back) */
	size_t n_records, cap_records, cap_record_values;
	struct paxos_out_meta *metas;
	size_t n_metas, cap_metas;
	struct paxos_trim *trims;
	size_t n_trims, cap_trims;
	struct paxos_updbox *boxes; /* one per node index (self's stays empty) */
	struct paxos_outbox *outboxes;
	struct paxos_updbox *eboxes; /* the same, for messages that may leave early */
	struct paxos_outbox *early_outboxes;
	struct paxos_msg *notices; /* to self, after the sync */
	size_t n_notices, cap_notices;
	struct paxos_chosen *chosen;
	size_t n_chosen, cap_chosen;
	struct paxos_failed *failed;
	size_t n_failed, cap_failed;
	struct paxos_barrier_done *barriers;
	size_t n_barriers, cap_barriers;
	struct paxos_snapshot_req *snapshots;
	size_t n_snapshots, cap_snapshots;
	struct paxos_entity_error *errors;
	size_t n_errors, cap_errors;
	/* values referenced by this update, released at the next step */
	struct paxos_value **refs;
	size_t n_refs, cap_refs;
	/* scan item arrays referenced by this update */
	uint64_t **items;
	size_t n_items, cap_items;
};

/* ---- the engine ---------------------------------------------------------- */

struct paxos_bucket {
	uint64_t id;
	struct paxos_entity *e; /* NULL: empty */
};

struct paxos {
	struct paxos_config cfg;
	uint32_t nodes[PAXOS_MAX_NODES];
	size_t n_nodes;
	size_t self_idx;
	size_t majority;
	uint8_t node_idx[256]; /* node id -> index + 1 (0: not a member) */
	bool amnesia;
	bool started;      /* the first step has run (scans were started) */
	bool oom;          /* an allocation failed: the engine is dead (see paxos_step) */
	uint64_t session;  /* node << 56 | id_base: names this engine (forward.c) */
	uint64_t id_last;  /* seq of the last id handed out (id_base: none yet) */
	uint64_t id_start; /* now at the first step: origin of the rate bound */
	uint64_t now;
	struct util_prng prng;

	/* entity table */
	struct paxos_bucket *table;
	size_t table_cap, n_entities;
	struct paxos_entity *idle_head, *idle_tail;
	size_t n_idle;
	struct paxos_entity **heap;
	size_t heap_len, heap_cap;
	struct paxos_entity **touched;
	size_t n_touched, cap_touched;

	/* catch-up */
	uint64_t *cu_queue; /* entity ids, FIFO ring */
	uint32_t *cu_peer;
	size_t cu_head, cu_len, cu_cap;
	size_t cu_active;
	uint64_t cu_done;
	struct {
		uint64_t proposed, fast, phase1, preempted, lost, resends;
	} ctr; /* paxos_stats: proposals since this engine started */
	struct paxos_scan scans[PAXOS_MAX_NODES];
	uint64_t peers_up;   /* bit per node index */
	uint64_t peers_down; /* bit per node index: PEER_DOWN, and nothing heard since */
	struct paxos_fwd_out fwd_out[PAXOS_MAX_NODES]; /* to each holder */
	struct paxos_fwd_in fwd_in[PAXOS_MAX_NODES];   /* from each origin */
	uint64_t voters;   /* peers known to vote (not amnesic), bit per node index */
	bool quorum_known; /* voters (self included) make a majority */

	/* counters */
	size_t n_props;
	size_t n_cmds;
	uint64_t alloc_bytes, alloc_count;

	struct paxos_updbuf out;
};

/* ---- mem.c: counted allocation and values ---------------------------- */

void *paxos_alloc(struct paxos *p, size_t n);
void *paxos_calloc(struct paxos *p, size_t n);
/* Grows *arr (of elements of `size`) to hold at least `need`; -ENOMEM. */
int paxos_grow(struct paxos *p, void **arr, size_t *cap, size_t need, size_t size);
/* A value of `len` bytes, one reference; copies `data`, or leaves the bytes
 * for the caller to fill when `data` is NULL. NULL when out of memory. */
struct paxos_value *paxos_value_new(struct paxos *p, const void *data, size_t len);
static inline struct paxos_value *paxos_value_ref(struct paxos_value *v)
{
	if (v)
		v->refs++;
	return v;
}
void paxos_value_unref(struct paxos_value *v);
/* A fresh id (command or value) of this engine; 0 when it would pass the
 * rate bound (paxos.h, "Ids never repeat"): the caller tries again later. */
uint64_t paxos_new_id(struct paxos *p);
/* The id was made by this engine (this life): ours, above the base, not
 * above the last one handed out. */
bool paxos_id_mine(const struct paxos *p, uint64_t id);

/* ---- table.c: entities ---------------------------------------------------- */

/* The entity, loaded from storage if not in memory (a new one when storage
 * has nothing). Marks it touched. Returns 0, -ENOMEM, or the storage error
 * (the entity is then kept as BROKEN and reported once). Broken entities
 * are returned with -EIO. */
int paxos_entity_get(struct paxos *p, uint64_t id, struct paxos_entity **out);
/* The entity if in memory, else NULL; touches nothing (safe between steps). */
struct paxos_entity *paxos_entity_peek(const struct paxos *p, uint64_t id);
void paxos_touch(struct paxos *p, struct paxos_entity *e);
/* End of step: flush every touched entity, recompute deadlines and the idle
 * list; then evict entities idle longer than idle_evict_ms. */
void paxos_settle(struct paxos *p);
/* The entity's next deadline from all its parts. */
uint64_t paxos_entity_deadline(const struct paxos *p, const struct paxos_entity *e);
void paxos_table_free(struct paxos *p);

struct paxos_slot *paxos_slot_find(struct paxos_entity *e, uint64_t entry);
/* The slot of `entry` (> e->chosen), created empty if missing; NULL: -ENOMEM. */
struct paxos_slot *paxos_slot_get(struct paxos *p, struct paxos_entity *e, uint64_t entry);
/* Frees slots with entry <= upto (flushing dirty ones into the update first). */
void paxos_slots_drop_upto(struct paxos *p, struct paxos_entity *e, uint64_t upto);
/* Highest entry with an accepted value among the open slots (0: none). */
uint64_t paxos_slots_top_accepted(const struct paxos_entity *e);
/* Highest entry with any record (open slots), at least chosen. */
uint64_t paxos_slots_top(const struct paxos_entity *e);

/* ---- timer.c: the deadline heap ---------------------------------------- */

void paxos_heap_set(struct paxos *p, struct paxos_entity *e, uint64_t deadline);
struct paxos_entity *paxos_heap_top(const struct paxos *p);

/* ---- update.c: building the update --------------------------------------- */

void paxos_upd_reset(struct paxos *p);
void paxos_upd_finish(struct paxos *p);
void paxos_upd_free(struct paxos *p);
int paxos_upd_record(struct paxos *p, struct paxos_entity *e, struct paxos_slot *s);
/* The chosen record of (entity, entry) in the update being built, or NULL;
 * *v is its value. */
const struct paxos_record *paxos_upd_find_chosen(struct paxos *p, uint64_t entity, uint64_t entry,
						 struct paxos_value **v);
int paxos_upd_meta(struct paxos *p, struct paxos_entity *e);
int paxos_upd_trim(struct paxos *p, uint64_t entity, uint64_t upto);
/* Queues msg to node index `to_idx`; takes a reference on `v` (the value the
 * msg points into, may be NULL) for the life of the update. */
int paxos_send(struct paxos *p, size_t to_idx, const struct paxos_msg *msg, struct paxos_value *v);
/* The same to every other member. */
int paxos_broadcast(struct paxos *p, const struct paxos_msg *msg, struct paxos_value *v);
/* As paxos_send, into the messages that may leave before this update's
 * writes are durable (paxos.h, update->early_outboxes): only for what no
 * crash of this node can make untrue. paxos_send puts every CHOSEN there
 * itself (a majority's durable acceptances back it). */
int paxos_send_early(struct paxos *p, size_t to_idx, const struct paxos_msg *msg,
		     struct paxos_value *v);
/* A notice to self, handed back with PAXOS_EV_PERSISTED after the sync. */
int paxos_upd_notice(struct paxos *p, const struct paxos_msg *msg);
int paxos_upd_chosen(struct paxos *p, uint64_t entity, uint64_t entry, uint64_t value_id,
		     struct paxos_value *v);
int paxos_upd_failed(struct paxos *p, uint64_t entity, uint64_t cmd_id, int error);
int paxos_upd_barrier(struct paxos *p, uint64_t entity, uint64_t req_id, int result,
		      uint64_t entry);
int paxos_upd_snapshot(struct paxos *p, uint64_t entity, uint32_t from, uint64_t entry);
int paxos_upd_error(struct paxos *p, uint64_t entity, int error);
/* Keeps `items` (allocated with paxos_alloc) alive until the next step. */
int paxos_upd_keep_items(struct paxos *p, uint64_t *items);

/* A message header for `e` (type, entity, entry, sender's chosen). */
static inline struct paxos_msg paxos_msg_for(uint32_t type, const struct paxos_entity *e,
					     uint64_t entry)
{
	struct paxos_msg m = {0};
	m.type = type;
	m.entity = e->id;
	m.entry = entry;
	m.chosen = e->chosen;
	return m;
}

/* Attaches value v's bytes to m (paxos_send keeps v alive with it). */
static inline void paxos_msg_set_value(struct paxos_msg *m, const struct paxos_value *v)
{
	m->value = v->data;
	m->value_len = v->len;
	m->has_value = true;
}

/* ---- acceptor.c ------------------------------------------------------------ */

/* This node may vote at (e, entry): not amnesic, above the fence. */
bool paxos_may_vote(const struct paxos *p, const struct paxos_entity *e, uint64_t entry);
int paxos_on_prepare(struct paxos *p, struct paxos_entity *e, size_t from,
		     const struct paxos_msg *m);
int paxos_on_accept(struct paxos *p, struct paxos_entity *e, size_t from,
		    const struct paxos_msg *m);
/* Tells peer `from` that `entry` (<= chosen) is chosen, with its value
 * (read from storage), or that it is trimmed. */
int paxos_send_chosen_entry(struct paxos *p, struct paxos_entity *e, size_t from, uint64_t entry);

/* ---- proposer.c ------------------------------------------------------------ */

int paxos_submit(struct paxos *p, uint64_t entity, const void *body, size_t len, uint64_t *id);
/* Starts a proposal if commands wait (or `close` asks for one anyway). */
int paxos_propose_maybe(struct paxos *p, struct paxos_entity *e, bool close);
int paxos_on_promise(struct paxos *p, struct paxos_entity *e, size_t from,
		     const struct paxos_msg *m);
int paxos_on_accepted(struct paxos *p, struct paxos_entity *e, size_t from,
		      const struct paxos_msg *m);
int paxos_on_reject(struct paxos *p, struct paxos_entity *e, size_t from,
		    const struct paxos_msg *m);
int paxos_proposer_timer(struct paxos *p, struct paxos_entity *e);
/* Entry `entry` became chosen with value_id: settle the proposer if it was
 * working on that entry. */
void paxos_proposer_resolved(struct paxos *p, struct paxos_entity *e, uint64_t entry,
			     uint64_t value_id);
/* A snapshot replaced entries <= entry: in-flight commands lose their fate. */
void paxos_proposer_superseded(struct paxos *p, struct paxos_entity *e);
/* Fails commands that waited past the proposal timeout. */
void paxos_queue_expire(struct paxos *p, struct paxos_entity *e);
void paxos_proposer_free(struct paxos *p, struct paxos_entity *e);
void paxos_queue_free(struct paxos *p, struct paxos_entity *e);
void paxos_queue_recompute_deadline(struct paxos *p, struct paxos_entity *e);

/* ---- learner.c ------------------------------------------------------------ */

/* Entry is chosen with (ballot, value_id, v): record it, advance chosen and
 * deliver what became contiguous. v may be NULL when the slot or the
 * proposer already holds that value; otherwise a fetch is started. */
int paxos_learn(struct paxos *p, struct paxos_entity *e, uint64_t entry, uint64_t ballot,
		uint64_t value_id, struct paxos_value *v, size_t from);
int paxos_on_chosen(struct paxos *p, struct paxos_entity *e, size_t from,
		    const struct paxos_msg *m);
int paxos_on_fetch(struct paxos *p, struct paxos_entity *e, size_t from, const struct paxos_msg *m);
/* A peer holds our FETCH of e (catch-up's rate): wait for it (learner.c). */
void paxos_on_fetch_wait(struct paxos *p, struct paxos_entity *e, size_t from,
			 const struct paxos_msg *m);
int paxos_on_trimmed(struct paxos *p, struct paxos_entity *e, size_t from,
		     const struct paxos_msg *m);
/* A peer said it has chosen up to `chosen`: start catching up if behind. */
int paxos_note_peer_chosen(struct paxos *p, struct paxos_entity *e, size_t from, uint64_t chosen);
int paxos_fetch_timer(struct paxos *p, struct paxos_entity *e);
/* Sends a FETCH if the entity is behind and none is in flight (at settle). */
int paxos_fetch_maybe(struct paxos *p, struct paxos_entity *e);
int paxos_applied(struct paxos *p, uint64_t entity, uint64_t entry, uint32_t crc);
int paxos_snapshot_installed(struct paxos *p, uint64_t entity, uint64_t entry, uint32_t crc);
int paxos_snapshot_failed(struct paxos *p, uint64_t entity);
/* PAXOS_EV_BORN, and its PAXOS_NOTE_BORN back after the sync (proposer.c). */
int paxos_born(struct paxos *p, uint64_t entity, uint64_t cmd_id);
int paxos_born_synced(struct paxos *p, uint64_t entity);
/* Arms or disarms the orphan timer (end of step); runs it when due. */
void paxos_orphan_settle(struct paxos *p, struct paxos_entity *e);
int paxos_orphan_timer(struct paxos *p, struct paxos_entity *e);
/* The entity has nothing left to catch up (releases its catch-up slot). */
void paxos_catchup_check_done(struct paxos *p, struct paxos_entity *e);

/* ---- scan.c: entity listings, background catch-up, amnesia ------------- */

int paxos_scan_start(struct paxos *p, size_t peer_idx);
/* Clears amnesia once every other node's listing is done (at once when
 * there is no other node). */
void paxos_amnesia_check(struct paxos *p);
int paxos_on_scan(struct paxos *p, size_t from, const struct paxos_msg *m);
int paxos_on_scan_reply(struct paxos *p, size_t from, const struct paxos_msg *m);
int paxos_scan_timer(struct paxos *p);
uint64_t paxos_scan_deadline(const struct paxos *p);
/* Notes whether peer `idx` votes (from its answers) and, when a majority
 * of voters becomes known, starts the proposals that waited for it. */
void paxos_note_voter(struct paxos *p, size_t idx, bool votes);
/* Starts queued catch-ups while below the concurrency bound. */
int paxos_catchup_pump(struct paxos *p);

/* ---- forward.c: commands to the holder of a contended entity ------------- */

/* Called by paxos_propose_maybe before it proposes: forwards the queued
 * commands to the entity's holder when that is the right thing. Returns 0
 * when the queue is taken care of (forwarded, or waiting for the answer to
 * a FORWARD of this entity), 1 when the caller should propose itself, or
 * -ENOMEM. */
int paxos_forward_maybe(struct paxos *p, struct paxos_entity *e);
int paxos_on_forward(struct paxos *p, struct paxos_entity *e, size_t from,
		     const struct paxos_msg *m);
int paxos_on_forward_reply(struct paxos *p, struct paxos_entity *e, size_t from,
			   const struct paxos_msg *m);
/* A chosen value delivered: our forwarded commands in it are done. */
void paxos_forward_chosen(struct paxos *p, struct paxos_entity *e, const struct paxos_value *v);
/* After delivery: our forwarded commands whose last entry is chosen now,
 * without them, can never be chosen; they go back to the queue (ours again). */
void paxos_forward_settle(struct paxos *p, struct paxos_entity *e);
/* Before a holder builds its value for `entry`: drops the forwarded
 * commands that may not be chosen there (their origin takes them back). */
void paxos_forward_drop_late(struct paxos *p, struct paxos_entity *e, uint64_t entry);
/* Timer: while our forwarded commands wait for entries nobody is deciding
 * (the holder died or is stuck), proposes at them ourselves. */
int paxos_forward_drive(struct paxos *p, struct paxos_entity *e);
/* Fails forwarded commands past the proposal timeout (-EIO), or all of
 * them with `error` when error != 0 (a snapshot replaced the entity). */
void paxos_forward_expire(struct paxos *p, struct paxos_entity *e, int error);
/* The earliest proposal timeout among the entity's forwarded commands. */
uint64_t paxos_forward_deadline(const struct paxos *p, const struct paxos_entity *e);
void paxos_forward_free(struct paxos *p, struct paxos_entity *e);
/* A peer's process `session` (node << 56 | id_base) exists, said by a
 * message of that process itself: then it is the current one, whatever its
 * number (net/ delivers nothing of an earlier process after a later one). */
void paxos_note_session(struct paxos *p, size_t idx, uint64_t session);
void paxos_note_peer(struct paxos *p, size_t idx, bool up);
/* Node level: resends unanswered FORWARDs. */
int paxos_forward_timer(struct paxos *p);
uint64_t paxos_forward_timer_deadline(const struct paxos *p);
void paxos_forward_free_all(struct paxos *p);

/* ---- barrier.c ------------------------------------------------------------ */

int paxos_barrier_start(struct paxos *p, uint64_t entity, uint64_t req_id);
int paxos_on_barrier(struct paxos *p, struct paxos_entity *e, size_t from,
		     const struct paxos_msg *m);
int paxos_on_barrier_ack(struct paxos *p, struct paxos_entity *e, size_t from,
			 const struct paxos_msg *m);
/* Completes barriers whose target is reached; resends, times out. */
int paxos_barrier_check(struct paxos *p, struct paxos_entity *e);
void paxos_barrier_free_all(struct paxos *p, struct paxos_entity *e);

/* ---- helpers ------------------------------------------------------------ */

/* Marks a slot / the meta changed: flushed into the update at the step's end
 * (the entity is on touched[] already: every handler got it from
 * paxos_entity_get or paxos_entity_find). A plain change (chosen flag,
 * chosen entry, trim point) is written lazily: it may be lost in a crash and
 * is then learned again. A vote (paxos_slot_vote: a promise, an acceptance
 * and its value) and a raised amnesia fence (paxos_meta_fence) must be
 * durable before the messages of the same update leave (paxos.h,
 * "Durability"). */
static inline void paxos_slot_dirty(struct paxos_entity *e, struct paxos_slot *s)
{
	s->dirty = true;
	e->flags |= PAXOS_ENT_SLOTS_DIRTY;
}
static inline void paxos_slot_vote(struct paxos_entity *e, struct paxos_slot *s)
{
	s->vote = true;
	paxos_slot_dirty(e, s);
}
static inline void paxos_meta_dirty(struct paxos_entity *e)
{
	e->flags |= PAXOS_ENT_META_DIRTY;
}
static inline void paxos_meta_fence(struct paxos_entity *e)
{
	e->flags |= PAXOS_ENT_META_DIRTY | PAXOS_ENT_META_SYNC;
}

static inline uint64_t paxos_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}
static inline uint64_t paxos_max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}
static inline int paxos_popcount(uint64_t x)
{
	return __builtin_popcountll(x);
}
/* Random backoff in [min, max << attempts] (capped at 16 * max). */
uint64_t paxos_backoff(struct paxos *p, uint32_t attempts);

#endif
