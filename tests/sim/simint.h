/* tests/sim/simint.h — the simulator's internals, shared by sim.c (cluster,
 * network, nodes), check.c (the checker) and workload.c (random runs). */
#ifndef PAXFS_TESTS_SIM_SIMINT_H
#define PAXFS_TESTS_SIM_SIMINT_H

#include "node/node.h"
#include "paxos/paxos.h"
#include "tests/sim/sim.h"
#include "tests/sim/simstore.h"
#include "util/prng.h"

/* ---- a u64 -> u64 hash map (open addressing; key 0 is reserved) ----------- */

struct sim_map {
	uint64_t *keys, *vals;
	size_t cap, n;
};
uint64_t *sim_map_get(const struct sim_map *m, uint64_t key);
uint64_t *sim_map_put(struct sim_map *m, uint64_t key); /* inserts 0 if new */
void sim_map_free(struct sim_map *m);

/* ---- packets and node inputs ------------------------------------------- */

struct sim_pkt {
	int refs;
	int from, to; /* node ids */
	uint32_t src_inc, dst_inc;
	size_t len;
	uint8_t bytes[]; /* an encoded PaxosBatch */
};

enum sim_input_type {
	SI_RECEIVE = 1,
	SI_TICK,
	SI_SUBMIT,
	SI_BARRIER,
	SI_PEER_UP,
	SI_PEER_DOWN,
	SI_APPLIED,
	SI_SNAP_OK,
	SI_SNAP_FAIL,
	SI_BORN, /* the model fs applied a "born" command of this node (entity, req_id: its id) */
};

struct sim_input {
	enum sim_input_type type;
	struct sim_pkt *pkt;
	uint64_t entity, entry, req_id;
	uint32_t crc;
	int peer;
	uint8_t *body; /* SUBMIT, malloc'd */
	size_t len;
};

/* ---- the model file system of a node ------------------------------------ */

struct sim_fs_ent {
	uint64_t id;
	uint64_t applied;
	uint32_t crc;  /* chained crc32c of the applied values */
	uint64_t *log; /* value ids of entries 1..applied (fs_log) */
	size_t cap;
};

struct sim_fs {
	struct sim_fs_ent *ents; /* ascending id */
	size_t n, cap;
};

/* ---- writes not yet synced --------------------------------------------------- */

/* One write of a node that no synced write has covered yet, in write order:
 * an engine batch written lazily, an fs apply or snapshot install (always
 * unsynced, as in the daemon), NodeMeta.amnesia cleared. A synced write makes
 * all of them durable; a power cut keeps a prefix of them. */
enum sim_wal_kind { SW_BATCH = 1, SW_FS };

struct sim_wal {
	enum sim_wal_kind kind;
	struct sim_batch *batch;  /* SW_BATCH */
	bool amnesia_cleared;     /* SW_BATCH: with NodeMeta.amnesia = false */
	uint64_t entity, applied; /* SW_FS: the entity's fs state becomes (applied, crc) */
	uint32_t crc;
	uint64_t *log; /* SW_FS: value ids of entries log_from + 1 .. applied */
	uint64_t log_from;
};

/* ---- nodes ------------------------------------------------------------------ */

/* A batch a SUBMIT step sent early (paxos.h: before its sync), held until
 * the checker knows the command id the step handed out. */
struct sim_held_send {
	uint32_t to;
	uint8_t *bytes;
	size_t len;
};

struct sim_node {
	int id;
	struct sim *sim;
	bool up;
	bool meta_amnesia;      /* NodeMeta.amnesia as written (what a restart reads) */
	bool fragile;           /* wiped; not yet caught up again */
	uint32_t inc;           /* engine incarnation: timers, disk, commands */
	uint32_t link_inc;      /* process incarnation: its connections (an engine
			     * reset inside the process keeps them) */
	uint32_t disk_gen;      /* how many times its disk was wiped */
	uint64_t boot;          /* NodeMeta.boot_count (kept unique across wipes) */
	uint64_t id_base;       /* NodeMeta.id_base: this life's (0: a new store) */
	int64_t wall_offset;    /* its wall clock is sim now + this (sim_wall_step) */
	uint64_t first_boot;    /* the boot count of its first life */
	struct node *core;      /* the node core (node/), NULL while the process is down */
	bool new_process;       /* node_start of a new process: no peer is connected yet */
	size_t applied_mark;    /* backlog length when the current delivery began */
	bool flush_queued;      /* group_turns: an SE_FLUSH event ends this instant's turn */
	struct sim_store store; /* every write: what the engine reads */
	struct sim_fs fs;
	/* what a power cut keeps: synced writes and those a synced write covered */
	struct sim_store durable;
	struct sim_fs durable_fs;
	bool durable_amnesia;
	struct sim_wal *wal; /* writes since the last synced one */
	size_t n_wal, cap_wal;
	bool busy;       /* a synced write is under way (the core holds its turn) */
	bool fail_write; /* the disk fails the next write: -ENOSPC (sim_disk_fault) */
	bool fail_sync;  /* ...the next sync: -EIO, and its dirty pages are dropped */
	bool stopping;   /* its core stopped it (io->fatal): the process goes now */
	struct sim_input *backlog;
	size_t bl_head, bl_len, bl_cap;
	uint64_t timer_gen;
	uint32_t known_inc[SIM_MAX_NODES + 1]; /* highest engine inc heard from each peer */
	uint32_t disk_ms;
	uint64_t started_ms;  /* this process started then (liveness) */
	bool started_amnesic; /* ...with NodeMeta.amnesia set (a wiped disk) */
	uint64_t submit_id;   /* the id the last SUBMIT step returned */
	int submit_rc;
	bool hold_sends; /* inside a SUBMIT step: io_send holds (struct sim_held_send) */
	struct sim_held_send *held_sends;
	size_t n_held_sends, cap_held_sends;
};

/* ---- events ------------------------------------------------------------------ */

enum sim_ev_kind {
	SE_DELIVER = 1,
	SE_TIMER,
	SE_DISK,
	SE_ACTION,
	SE_SNAPSHOT,
	SE_FLUSH,
};

struct sim_ev {
	uint64_t t, seq;
	enum sim_ev_kind kind;
	int node;
	uint32_t inc;
	uint64_t a, b, c;
	void *ptr;
	sim_action_cb fn;
};

/* ---- the checker ------------------------------------------------------------ */

struct sim_chk_vote {
	uint64_t ballot, value_id, mask;
	uint8_t gen[SIM_MAX_NODES + 1]; /* voter's disk generation when it voted */
};

struct sim_chk_entry {
	uint64_t chosen_id; /* 0: not chosen (yet) */
	struct sim_chk_vote *votes;
	size_t nv, capv;
};

struct sim_chk_ent {
	uint64_t id;
	struct sim_chk_entry *entries; /* index entry - 1 */
	size_t n;
	uint64_t contiguous; /* all entries <= this are chosen */
};

struct sim_chk_cmd {
	uint64_t id;
	int node;
	uint32_t inc;
	uint64_t entity;
	uint32_t crc, len;
	int state; /* CMD_* */
	uint64_t ch_entity, ch_entry;
	/* Who may put it into a value: the process (session) holding it. It
	 * moves to a holder with a FORWARD, and back to its origin with a NACK
	 * of that FORWARD (paxos/paxos.h, "Forwarding"). */
	uint64_t owner;
	uint64_t origin;  /* the session that submitted it */
	size_t owner_via; /* the FORWARD (index + 1 in fwds) it came by; 0: submitted */
	bool built;       /* the owner put it into a value since it came */
	uint64_t submitted_ms;
	bool answered; /* its origin process applied it or reported it failed */
};

/* A barrier begun, until it completes (liveness). */
struct sim_chk_bar {
	int node;
	uint32_t inc;
	uint64_t req_id, entity, started_ms;
};

/* One FORWARD as first sent: (origin process, holder node and process, seq). */
struct sim_chk_fwd {
	uint64_t origin, holder_session, seq;
	uint64_t until; /* its bound: the holder may put its commands at entries up to it */
	int holder;
	uint64_t *cmds;
	size_t n;
};

enum { CMD_PENDING = 1, CMD_CHOSEN, CMD_FAILED_NEVER, CMD_FAILED_UNKNOWN };

struct sim_check {
	struct sim_chk_ent *ents;
	size_t n_ents, cap_ents;
	struct sim_map values;  /* value id -> crc << 32 | len */
	struct sim_map cmd_idx; /* cmd id -> index + 1 in cmds */
	struct sim_chk_cmd *cmds;
	size_t n_cmds, cap_cmds;
	struct sim_map barriers; /* (node << 48 | req id) -> required entry + 1 */
	struct sim_map fwd_idx;  /* hash of a FORWARD's key -> index + 1 in fwds */
	struct sim_chk_fwd *fwds;
	size_t n_fwds, cap_fwds;
	struct sim_map built; /* value ids whose commands were checked at their first ACCEPT */
	struct sim_map born;  /* entity -> the first chosen SIM_BORN_TAG command that made it */
	/* liveness (sim.h) */
	uint64_t live_since[SIM_MAX_NODES + 1]; /* the node has been up with a connected
						 * majority since then (UINT64_MAX: not now) */
	uint64_t live_next;                     /* next check */
	size_t live_lo;           /* every command below is answered or its process gone */
	struct sim_chk_bar *bars; /* barriers not completed yet */
	size_t n_bars, cap_bars;
};

/* ---- the simulator ------------------------------------------------------- */

struct sim {
	struct sim_config cfg;
	struct util_prng prng;
	uint64_t now, seq;
	struct sim_ev *heap;
	size_t heap_len, heap_cap;
	struct sim_node nodes[SIM_MAX_NODES + 1]; /* [1..n] */
	bool blocked[SIM_MAX_NODES + 1][SIM_MAX_NODES + 1];
	uint32_t link_delay[SIM_MAX_NODES + 1][SIM_MAX_NODES + 1]; /* ms from a to b; 0: cfg's */
	bool reconnecting[SIM_MAX_NODES + 1][SIM_MAX_NODES + 1];
	struct sim_check chk;
	struct sim_stats stats;
	char failure[512];
	bool failed;
	/* trace ring */
	char **ring;
	size_t ring_pos, ring_n;
};

/* sim.c */
void sim_trace(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct sim_fs_ent *sim_fs_ent(struct sim_fs *fs, uint64_t id, bool create);
/* Formats a ballot / value id for traces (static rotating buffers). */
const char *sim_fmt_ballot(uint64_t b);
const char *sim_fmt_id(uint64_t id);

/* check.c — each returns nothing; a violation calls sim_fail. */
void sim_chk_init(struct sim_check *c);
void sim_chk_free(struct sim_check *c);
void sim_chk_submitted(struct sim *s, int node, uint64_t cmd_id, uint64_t entity, const void *body,
		       size_t len);
/* Before an update's writes hit node's store (written, not yet durable). */
void sim_chk_persist(struct sim *s, int node, const struct paxos_update *u);
/* A batch of node's writes became durable: its acceptances count as votes. */
void sim_chk_durable(struct sim *s, int node, const struct sim_batch *b);
/* The process (session) of node as its engine names it in ids. */
uint64_t sim_session(const struct sim *s, int node);
/* Before a message leaves node (its update is persisted). */
void sim_chk_send(struct sim *s, int node, int to, const struct paxos_msg *m);
/* A value delivered to node's fs at (entity, entry). */
void sim_chk_delivered(struct sim *s, int node, uint64_t entity, uint64_t entry, uint64_t value_id,
		       const uint8_t *value, size_t len);
void sim_chk_failed(struct sim *s, int node, const struct paxos_failed *f);
void sim_chk_barrier_start(struct sim *s, int node, uint64_t entity, uint64_t req_id);
void sim_chk_barrier_done(struct sim *s, int node, const struct paxos_barrier_done *b);
/* The highest entry of `entity` with every entry up to it chosen. */
uint64_t sim_chk_contiguous(const struct sim *s, uint64_t entity);
/* Final: every live command resolved, all logs equal. */
void sim_chk_final(struct sim *s);
size_t sim_chk_entity_count(const struct sim *s);
uint64_t sim_chk_entity_id(const struct sim *s, size_t i);
bool sim_chk_commands_resolved(const struct sim *s);
/* Who is up or connected changed (a crash, a start, a partition, a broken
 * or restored connection): recomputes who has a majority with it. */
void sim_chk_topology(struct sim *s);
/* The liveness check (sim.h), when cfg.liveness_ms is set. */
void sim_chk_liveness(struct sim *s);

#endif
