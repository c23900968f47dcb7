/* paxos/paxos.h — the Paxos engine of one node: a pure state machine.
 *
 * One struct paxos per node. It reads no clock, opens no socket or file and
 * draws no randomness of its own: time arrives in every event, randomness
 * comes from a PRNG seeded by the config, and persisted state is read
 * through the synchronous storage callbacks the caller provides. Everything
 * it wants done comes back from paxos_step() as a struct paxos_update, which
 * the caller (the daemon, or the simulator in tests/sim/) carries out in this
 * order, every time:
 *
 *   1. write the update's records, then its metas, then its trims, in ONE
 *      batch (a trim may cover a record of the same update); then send its
 *      early messages (update->early_outboxes) at once; when
 *      update->needs_sync make the batch durable (fsync) before step 2 — that
 *      batch, or a later synced write of the same loop turn, which makes it
 *      durable too; if that fails, stop the node (never send anyway);
 *   2. send its messages (one PaxosBatch per destination, paxos/codec.h), and
 *      feed its notices back (PAXOS_EV_PERSISTED, a step of its own);
 *   3. deliver its chosen values to the state machine (fs/), answer the
 *      failed commands and barriers, start the snapshot transfers asked for;
 *   4. arm the timer at update->deadline_ms (a TICK event when it fires).
 *
 * The invariant this order keeps: nothing a message promises (a promise, an
 * acceptance) leaves before the record behind it is durable, and nothing is
 * reported chosen that a majority has not durably accepted. An early ACCEPT
 * promises nothing about this node: it asks the others to vote, at a ballot
 * no other life of this node will ever use for another value (below,
 * "Ballots"); this node's own acceptance counts toward the majority only when
 * its notice comes back, after the sync. So the proposer's fsync runs in
 * parallel with the followers' — one fsync on a write's critical path.
 *
 * ---- Durability: what is synced, what is written lazily -----------------------
 * Only votes must be durable before the messages of their update leave: a
 * promise, an acceptance with its value (records with `sync`), and a raised
 * amnesia fence (metas with `sync`); and "amnesia cleared", once per start,
 * for liveness (below). Everything else — a chosen flag, the chosen entry
 * and proposer in the meta, a trim — is written without sync when no vote
 * shares its update: a crash may lose it, and it is learned again. So the
 * fast path costs one fsync per entry on every node (the acceptance), not two
 * (acceptance, then the chosen flag).
 *
 * Why losing lazy writes is safe. The store loses writes only as a suffix:
 * a synced write makes every earlier write durable, so after any crash the
 * store holds exactly what the engine had written up to some update U, and
 * every update after U was lazy. The engine restarts as if it had crashed
 * right after U; what it said after U is either a vote (impossible: U would
 * not be the last durable update) or true whatever it forgets: CHOSEN (an
 * entry is chosen by a majority's durable acceptances, not by anyone's chosen
 * flag), catch-up requests and answers, barrier and scan answers (the highest
 * entries it knew; what it forgets was not a durable vote). Load-time
 * derivations stay sound on such a prefix:
 * - chosen_entry may be lower than before the crash: the entries above come
 *   back as open slots (their records, accepted or chosen) and are learned
 *   again; fs/ never applied beyond the durable chosen entry, since its apply
 *   writes come after the engine's in the same store;
 * - pre-authorisation never comes from what was loaded: round 0 needs a
 *   value chosen at i that this life built, or at entry 1 a create of this
 *   life (PAXOS_EV_BORN), both learned since the start (proposer.c,
 *   "Ballots" below). After a restart every open entry starts with phase 1;
 * - a lost trim leaves more log than needed; a lost snapshot install comes
 *   back as an APPLIED above the chosen entry (handled as that snapshot).
 * "Amnesia cleared" could be lost safely too (the node cannot have voted
 * since, or the vote's sync would have kept it), but the node would start
 * amnesic again and fence itself at every open entry its peers hold records
 * of: next to a wiped node, two fenced voters of three block such an entry
 * for good (the simulator found it: a power cut after a wipe). So it is
 * synced (update->needs_sync), once per start.
 *
 * Model (PaxosStore's): every entity (a 64-bit id; a file, or the namespace)
 * has a log of entries 1, 2, 3…, each one single-decree Paxos instance whose
 * value is a paxfs.Value (a batch of commands, proto/command.proto). Entities
 * are independent; thousands can be active at once and idle ones are evicted
 * from memory and reloaded from the store when touched again.
 *
 * Ballots are `round << 32 | incarnation << 8 | node` (docs/decisions.md;
 * incarnation: cfg->incarnation, the boot count's low 24 bits), so the
 * ballots of two lives of a node differ. Round 0 is pre-authorisation: the
 * node whose value was chosen at entry i proposes entry i+1 at its round-0
 * ballot without phase 1, i.e. one round trip — when that value was built by
 * the SAME life (its ACCEPTs then leave at once); for entry 1 the node named
 * by the entity's low byte (nobody for entity 1), in the life whose create
 * made the entity (PAXOS_EV_BORN), its ACCEPTs at once too. A value or a
 * create of an earlier life of this node gives no round 0: phase 1. Any promise of a higher ballot at that
 * entry revokes pre-authorisation. Why (the full argument is in
 * docs/decisions.md, "Pre-authorisation across lives"): two round-0 ballots
 * of two lives at one entry, both skipping phase 1, could each get a value
 * chosen — the later one is higher and never asked what the earlier one
 * got accepted. Under the rule at most one life ever uses round 0 at an
 * entry i+1 >= 2 (only a life that built the value chosen at i, and that
 * value is unique), and at entry 1 only the life whose command made the
 * entity (one command, one id, one life). Phase-1 ballots may
 * go early too: the proposer's own promise is durable before its PREPAREs
 * leave, so a restarted node always picks a higher round there, and the
 * incarnation makes the ballot its own in any case.
 *
 * ---- Proposing -------------------------------------------------------------
 * One entry in flight per entity and node, always at the local chosen + 1.
 * Commands submitted meanwhile wait; all that fit in value_max_bytes go into
 * the next entry's value together. A proposer preempted by a higher ballot
 * waits a random time from the seeded PRNG (backoff_min..max, doubling with
 * each preemption) before phase 1 again. If the entry is chosen with another
 * proposer's value, the commands go into the next entry: a command is in one
 * value only, and a value only at one entry, so it is chosen at most once.
 * Without a majority, commands fail after proposal_timeout_ms (-ETIMEDOUT if
 * they never left, -EIO if their value was sent: outcome unknown). A node
 * proposes only while it knows a majority of voters, itself included.
 *
 * ---- Learning ----------------------------------------------------------------
 * Chosen entries are delivered in order, once. A node learns it is behind
 * from any message (msg.chosen), from a barrier, or from the entity listings
 * it reads from every peer (SCAN) at start, after each reconnection and every
 * scan_interval_ms; it then fetches ranges (at most catchup_concurrency
 * entities at a time for listings). Trimmed entries come as a snapshot that
 * the caller transfers and installs. An entry that may be chosen but that
 * nobody finishes — its proposer died after a majority accepted, or no peer
 * can serve it any more — is proposed at by this node after a while: phase 1
 * recovers a chosen value, or a no-op closes the entry.
 *
 * ---- Message design -------------------------------------------------------
 * Classic Paxos messages, each idempotent, each carrying the sender's highest
 * chosen entry of the entity (msg.chosen). A receiver that sees a peer ahead
 * of it fetches what it misses, so learning needs no separate gossip.
 *
 *   PREPARE  e, b          phase 1a                    proposer -> acceptors
 *   PROMISE  e, b, promised, accepted, value_id, value   (1b, value attached
 *                          when something was accepted) acceptor -> proposer
 *   ACCEPT   e, b, value_id, value                     (2a)
 *   ACCEPTED e, b, value_id                            (2b)
 *   REJECT   e, b, promised   "I promised higher" (or, to a STRICT PREPARE,
 *                          "I promised that ballot already"): the proposer
 *                          backs off and tries a higher round
 *   CHOSEN   e, b, value_id [, value]   e is chosen: announcements go without
 *                          the value (every acceptor that accepted ballot b
 *                          holds it); answers to FETCH and to messages about
 *                          an entry the receiver already knows chosen carry it
 *   FETCH    e..entry_to   "send me these chosen entries"
 *   FETCH_WAIT e           "your FETCH waits for catch-up's rate here: the
 *                          answer comes; ask me again later, no one else"
 *                          (sent by the daemon that paces catch-up, not by
 *                          the engine; the asker neither counts the FETCH as
 *                          stalled nor proposes at the entry meanwhile)
 *   TRIMMED  e             "entries <= e are trimmed here: take a snapshot"
 *   BARRIER  nonce         read barrier: what is the highest entry you know?
 *   BARRIER_ACK nonce, chosen, top (highest entry with an accepted value)
 *   SCAN     nonce=cursor  node-level: list your entities after cursor
 *   SCAN_REPLY items = (entity, chosen, top) triples, nonce = the cursor
 *                          answered, flags DONE on the last page
 *                          (both carry session: the sender's process)
 *   FORWARD  e, nonce=seq, session, to_session, value = commands
 *                          "put these into your next entry" (below)
 *   FWD_ACK  e, nonce=seq  "taken: they are mine to propose now"
 *   FWD_NACK e, nonce=seq  "refused: I never put them in a value, and never will"
 *   FWD_STALE session      "I am not the process you addressed (I am session)"
 * Every message of an amnesic node carries the NONVOTER flag.
 *
 * ---- Forwarding: contended entities (forward.c) ------------------------------
 * Where several nodes write one entity (the namespace above all), proposing
 * from each would make them preempt each other. Instead a node that is not
 * the entity's pre-authorisation holder (the node whose value was chosen
 * last) sends its commands to the holder (FORWARD), which puts them into
 * its next entry with its own: one entry per round trip, from one proposer.
 * The origin answers its commands when it sees their ids in a chosen value
 * (the daemon answers every applied command whose id names it).
 *
 * Exactly once without deduplication at apply: a command is in one place at
 * a time — the origin's queue or value, or one holder process's — and only
 * there may it be put into a value. A FORWARD carries a bound (msg.entry: the
 * origin's chosen entry + 3): a holder puts its commands only into a value
 * for an entry up to the bound, and drops them when its next value would go
 * higher. The origin proposes a forwarded command itself only when the holder
 * refused it (FWD_NACK: never put into a value), or once it has every entry
 * up to the bound chosen without the command in any (then it can never be
 * chosen there, and nowhere else). So a command whose FORWARD reached a holder
 * that then died, or never answered, is not lost for the proposal timeout:
 * the origin decides those entries itself (no-ops if nothing else is queued)
 * as soon as it hears the holder is down (PEER_DOWN) or after 4 * retry_ms,
 * and then proposes it. -EIO after proposal_timeout_ms remains for what no
 * majority answers in time. A holder that is too far ahead for the bound
 * refuses. (Every node must run this rule: a holder that ignored the bound
 * could choose a command its origin proposes again.) To keep that promise
 * across lost, duplicated and reordered messages, FORWARDs between an origin
 * process and a holder process form a sequence (nonce = 1, 2, 3…, at most
 * PAXOS_FWD_WINDOW unanswered): the holder decides each number once, in
 * order, remembers the last PAXOS_FWD_WINDOW decisions to answer resends, and
 * ignores the rest. A FORWARD names the holder process it is for
 * (to_session); another process of that node answers FWD_STALE and decides
 * nothing, so a resend never reaches a process that cannot know what an
 * earlier one took. Sessions are learned from SCAN*, FORWARD* and values.
 *
 * A holder takes forwarded commands for an entity when it is proposing there
 * already, or holds pre-authorisation for the next entry and submitted a
 * command of its own there within forward_hold_ms; otherwise it refuses, and
 * the origin proposes itself (phase 1) and becomes the holder — so a single
 * writer ends up holding its entity and keeps the one-round-trip fast path.
 * An origin proposes itself too when the holder is down (PEER_DOWN), has not
 * answered a FORWARD for 2 * retry_ms, or has not got an entity's forwarded
 * command chosen for 4 * retry_ms (then it also decides the entries up to
 * that command's bound, above). At most one FORWARD per entity and holder
 * is unanswered; commands submitted meanwhile wait and go together in the
 * next. A holder that receives a number while earlier ones are missing
 * decides those as refused (they may be lost, or settled by the origin).
 *
 * Why classic messages rather than PaxosStore's single message carrying the
 * sender's whole record: a dedicated type per step keeps each handler small
 * and each simulator check exact (a PROMISE is backed by a persisted promise,
 * an ACCEPTED by a persisted acceptance), and values travel only where they
 * are needed: once with ACCEPT, never with ACCEPTED or with the CHOSEN
 * announcement. Batching many entities' messages per destination and turn
 * (PaxosBatch) recovers what a bigger message would have saved.
 *
 * ---- What the engine relies on ---------------------------------------------
 * - The storage callbacks see every record, meta and trim of every update
 *   already returned (steps 1..4 above complete before the next step).
 * - The store loses writes only as a suffix: a synced write makes every
 *   earlier write durable (store/store.h, docs/store.md).
 * - Ids never repeat (docs/decisions.md, "Value ids and command ids"): each
 *   start gets a base id_base >= (wall ms + 1) << 14 that is also above the
 *   last recorded one, and this engine hands out at most (elapsed ms + 1)
 *   << 14 ids above it, elapsed counted by its steps' now_ms from its first
 *   step. So every id of a life stays below the next life's base, even after
 *   a wipe, as long as the one assumption holds: the wall clock does not go
 *   back across a restart or a wipe by more than the restart took (exactly:
 *   the next start's wall ms >= this start's + this engine's elapsed ms at
 *   its last id + 1, plus how far this base was above its clock term).
 * - PEER_UP after every (re)connection to a peer: messages lost with a
 *   connection are found again by the entity scan that PEER_UP starts.
 * - net/ never delivers a message sent by an earlier process of a peer after
 *   one sent by a later process of that peer (a new connection from a node
 *   replaces the old one and drops what is unread on it). The amnesia guard
 *   below is sound under that rule; loss, duplication, delay and reordering
 *   within one process lifetime are all fine.
 *
 * ---- Amnesia guard (docs/decisions.md) ----------------------------------
 * A node started with cfg->amnesia (new or damaged store) neither promises
 * nor accepts. It asks every other node for a SCAN of all its entities and
 * raises each entity's vote fence (meta vote_after) to the highest entry that
 * node holds any record of (or its own fence), one more where that entry
 * holds a value an earlier process of that node built (below). Once EVERY other node has
 * answered to the end, it clears amnesia (update->amnesia_cleared: the caller
 * persists NodeMeta.amnesia = false in that same batch) and from then on votes
 * on an entity only at entries above its fence, and never uses
 * pre-authorisation at or below it.
 *
 * Why every other node and not a majority of them: what the wiped node may
 * have promised can still be acted on by the proposer it promised to, whose
 * PREPAREs to the others may still be in flight; the answers of a majority of
 * the others can all predate them. The proposer itself, though, persisted its
 * own ballot at that entry before sending anything (proposer.c), so it shows
 * the entry in its own listing — provided it is asked. Except round-0 ACCEPTs,
 * which leave before the proposer's acceptance is durable: one sent by a
 * process that then died may still reach a peer after that peer answered us.
 * But such an ACCEPT for i+1 leaves only once the proposer's own acceptance
 * of its value at i is durable (proposer.c), so its next process holds that
 * record and lists i + 1 for it (scan.c, listed_top). Were we that proposer,
 * wiped: our SCAN reached each peer before it answered, and net/ delivers
 * nothing of our earlier processes after it. With 5 nodes a majority
 * of the others (3 of 4) can leave it out: the wiped node would then vote at
 * an entry where a majority was already promised to someone else. With 3 nodes
 * both rules ask the same nodes. In a new cluster every node starts amnesic;
 * they answer each other (amnesic nodes answer too) and all fences are 0,
 * because no node proposes before it knows a majority of voters (itself
 * included): the first node out of amnesia waits for a second one, so the
 * nodes joining last find no records to fence themselves on. A node also
 * waits for its peers' answers after every restart (one round trip).
 *
 * A fence is forever: an entry at or below it that is never chosen stays open
 * to this node. If two nodes of three are fenced at the same open entry (one
 * wiped, another recovering from an earlier loss), that entry cannot be
 * decided and writes to that entity fail (-ETIMEDOUT) — the price of never
 * contradicting a forgotten promise. It takes two lost voters for one entry,
 * beyond the "minority at a time" the guard is built for; the simulator
 * wipes a disk only when no other node is fenced at an open entry.
 *
 * Thread safety: none; one thread drives one engine. Several engines in one
 * process (the simulator) share nothing.
 */
#ifndef PAXFS_PAXOS_PAXOS_H
#define PAXFS_PAXOS_PAXOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAXOS_MAX_NODES        64         /* voting members per cluster */
#define PAXOS_NO_DEADLINE      UINT64_MAX /* update->deadline_ms: no timer needed */
#define PAXOS_NAMESPACE_ENTITY 1          /* nobody holds pre-authorisation for its entry 1 */

/* ---- ballots and ids (docs/decisions.md) --------------------------------- */

/* A ballot: round << 32 | incarnation << 8 | node (docs/decisions.md).
 * Ordered by round, then incarnation, then node; the incarnation (the low
 * 24 bits of the proposer's boot count) makes the ballots of two lives of a
 * node differ, so a restarted node never reuses one of its earlier ballots. */
static inline uint64_t paxos_ballot(uint64_t round, uint64_t incarnation, uint32_t node)
{
	return round << 32 | (incarnation & 0xffffff) << 8 | (node & 0xff);
}
static inline uint64_t paxos_ballot_round(uint64_t ballot)
{
	return ballot >> 32;
}
static inline uint32_t paxos_ballot_incarnation(uint64_t ballot)
{
	return (uint32_t)(ballot >> 8 & 0xffffff);
}
static inline uint32_t paxos_ballot_node(uint64_t ballot)
{
	return (uint32_t)(ballot & 0xff);
}
/* The node that built a value or a command, from its id. */
static inline uint32_t paxos_id_node(uint64_t id)
{
	return (uint32_t)(id >> 56);
}

/* Value and command ids (docs/decisions.md, "Value ids and command ids"):
 * node << 56 | seq. An engine life with base B (paxos_config.id_base) hands
 * out seq = B + 1, B + 2, ..., at most (elapsed + 1) << PAXOS_ID_MS_SHIFT of
 * them after `elapsed` ms of its own time; a life's base is at least
 * (wall ms + 1) << PAXOS_ID_MS_SHIFT (node_id_base). */
#define PAXOS_ID_MS_SHIFT 14
#define PAXOS_ID_SEQ_MASK ((UINT64_C(1) << 56) - 1)
static inline uint64_t paxos_id_seq(uint64_t id)
{
	return id & PAXOS_ID_SEQ_MASK;
}

/* ---- persisted state, as the storage callbacks and the update see it --- */

/* One entry of one entity as this node's acceptor holds it. Maps 1:1 to
 * store/store.h's struct store_record (and proto PlogRecord). */
struct paxos_record {
	uint64_t promised; /* highest ballot promised; 0 = none */
	uint64_t accepted; /* ballot of the accepted value; 0 = none */
	uint64_t value_id; /* id of the accepted value; 0 = none */
	bool chosen;       /* the accepted value is known chosen */
	uint8_t *value;    /* accepted value (see the callbacks for ownership) */
	size_t value_len;
};

/* The engine's per-entity state that is not per entry. Maps 1:1 to
 * store/store.h's struct store_paxos_meta (and proto PaxosMeta). */
struct paxos_meta {
	uint64_t chosen_entry;    /* highest entry known chosen, all below too */
	uint32_t chosen_proposer; /* node whose value was chosen there (0: unknown) */
	uint64_t trimmed_entry;   /* entries <= this are gone from the log */
	uint32_t trimmed_crc;     /* chained checksum at trimmed_entry */
	uint64_t vote_after;      /* amnesia fence: vote only at entries above */
	uint64_t born;            /* id base of this node's life whose create made the
				     entity (PAXOS_EV_BORN; 0: none) */
};

typedef int (*paxos_record_cb)(void *arg, uint64_t entry, const struct paxos_record *rec);

/* Synchronous reads of persisted state. Each sees every record, meta and
 * trim of every update already returned by paxos_step (durable or not).
 * Errors: -ENOENT where said, -EBADMSG for a record that fails its checksum,
 * -EIO for anything else; the engine then marks that entity broken (it
 * refuses service and is reported in update->errors), never crashes. */
struct paxos_storage_ops {
	/* The meta of `entity`; -ENOENT when the store has none (new entity). */
	int (*load_meta)(void *ctx, uint64_t entity, struct paxos_meta *out);
	/* The record of (entity, entry); -ENOENT when none. On success
	 * out->value is malloc'd (NULL when no value) and the engine frees it. */
	int (*load_record)(void *ctx, uint64_t entity, uint64_t entry, struct paxos_record *out);
	/* Calls cb for each record of `entity` with entry >= from, in entry
	 * order, values included; rec and rec->value are valid during the call
	 * only. A non-zero return from cb stops the scan and is returned. */
	int (*scan_records)(void *ctx, uint64_t entity, uint64_t from, paxos_record_cb cb,
			    void *arg);
	/* Up to `max` entity ids that have a meta, ascending, all > after, into
	 * ids[]; *n is how many. Fewer than max means there are no more. */
	int (*list_entities)(void *ctx, uint64_t after, uint64_t *ids, size_t max, size_t *n);
};

/* ---- configuration -------------------------------------------------------- */

/* Every timing field is in milliseconds; 0 selects the default shown. */
struct paxos_config {
	uint32_t self;         /* this node's id, one of nodes[] */
	const uint32_t *nodes; /* voting members, self included, ids 1..255, distinct */
	size_t n_nodes;        /* 1..PAXOS_MAX_NODES */
	uint64_t boot_count;   /* NodeMeta.boot_count: grows at every start */
	uint64_t id_base;      /* below 2^56: this life's ids are node << 56 | (id_base, ...]
				* (node_id_base; "Ids never repeat" above) */
	uint64_t incarnation;  /* this life's number in its ballots (low 24 bits): differs
				* from every earlier life's (node/ gives the boot count) */
	bool amnesia;          /* NodeMeta.amnesia: do not vote until re-learned (above) */
	uint64_t seed;         /* seeds the PRNG used for backoff jitter */
	const struct paxos_storage_ops *ops; /* borrowed; must outlive the engine */
	void *ops_ctx;

	uint32_t retry_ms;            /* 200: resend to peers that did not answer */
	uint32_t backoff_min_ms;      /* 10: a preempted proposer waits a random */
	uint32_t backoff_max_ms;      /* 500:   time in [min, max << attempts] before retrying */
	uint32_t proposal_timeout_ms; /* 30000: commands fail after waiting this long */
	uint32_t barrier_timeout_ms;  /* 30000: barriers fail after this long */
	uint32_t idle_evict_ms;       /* 30000: idle entities leave memory after this */
	uint32_t value_max_bytes;     /* 4 MiB: bound of one entry's encoded value */
	uint32_t fetch_max_entries;   /* 64: entries per FETCH */
	uint32_t fetch_max_bytes;     /* 4 MiB: value bytes per FETCH answer (at least one entry) */
	uint32_t catchup_concurrency; /* 16: entities caught up at once after a scan */
	uint32_t scan_page;           /* 256: entities per SCAN_REPLY */
	uint32_t scan_interval_ms;    /* 600000: re-read every peer's entity listing this
				       * often (anti-entropy: catches what every other way
				       * of learning missed) */
	uint32_t retention;           /* 1000: applied entries kept in the log before trimming */
	uint32_t forward_hold_ms;     /* 1000: a holder takes forwarded commands for an entity
				       * while it submitted one of its own within this time */
};

/* ---- messages ------------------------------------------------------------ */

/* A notice that is never a message (paxos_update.notices): PaxosMeta.born
 * of `entity` is durable (proposer.c, paxos_born). */
#define PAXOS_NOTE_BORN 0x100

enum paxos_msg_type {
	PAXOS_MSG_PREPARE = 1,
	PAXOS_MSG_PROMISE,
	PAXOS_MSG_ACCEPT,
	PAXOS_MSG_ACCEPTED,
	PAXOS_MSG_REJECT,
	PAXOS_MSG_CHOSEN,
	PAXOS_MSG_FETCH,
	PAXOS_MSG_TRIMMED,
	PAXOS_MSG_BARRIER,
	PAXOS_MSG_BARRIER_ACK,
	PAXOS_MSG_SCAN,
	PAXOS_MSG_SCAN_REPLY,
	PAXOS_MSG_FORWARD,
	PAXOS_MSG_FWD_ACK,
	PAXOS_MSG_FWD_NACK,
	PAXOS_MSG_FWD_STALE,
	PAXOS_MSG_FETCH_WAIT,
	PAXOS_MSG_TYPE_MAX = PAXOS_MSG_FETCH_WAIT,
};

#define PAXOS_MSG_F_DONE     1u /* SCAN_REPLY: last page */
#define PAXOS_MSG_F_NONVOTER 2u /* any message: its sender is amnesic (does not vote) */
#define PAXOS_MSG_F_STRICT                                                                         \
	4u /* PREPARE: promise only a ballot above the promised one
				  * (the proposer may have forgotten its own ballots) */

/* One protocol message (see the table at the top for which fields each type
 * uses; unused fields are 0). In an update, `value` and `items` point into
 * engine memory valid until the next paxos_step; in a RECEIVE event they are
 * borrowed for the call (the engine copies what it keeps). */
struct paxos_msg {
	uint32_t type; /* enum paxos_msg_type */
	uint32_t flags;
	uint64_t entity;
	uint64_t entry;
	uint64_t ballot;
	uint64_t promised;
	uint64_t accepted;
	uint64_t value_id;
	uint64_t chosen; /* sender's highest chosen entry of `entity` */
	uint64_t entry_to;
	uint64_t nonce;
	uint64_t top;
	uint64_t session;    /* FORWARD*, SCAN*: the sender's process (node << 56 | id_base) */
	uint64_t to_session; /* FORWARD*: the receiver's process it is meant for */
	const uint8_t *value;
	size_t value_len;
	bool has_value;
	const uint64_t *items; /* SCAN_REPLY: n_items / 3 triples */
	size_t n_items;
};

/* Short name of a message type ("PREPARE"…), "?" for an unknown one. */
const char *paxos_msg_type_name(uint32_t type);

/* ---- events --------------------------------------------------------------- */

enum paxos_event_type {
	PAXOS_EV_TICK = 1,           /* the deadline passed (or any time: harmless) */
	PAXOS_EV_RECEIVE,            /* messages from a peer */
	PAXOS_EV_SUBMIT,             /* a command for an entity */
	PAXOS_EV_BARRIER,            /* a read barrier on an entity */
	PAXOS_EV_PEER_UP,            /* a peer is reachable again */
	PAXOS_EV_PEER_DOWN,          /* a peer is unreachable */
	PAXOS_EV_APPLIED,            /* fs applied an entity through an entry: a
				       * checkpoint the log may be trimmed towards
				       * (keeping `retention` entries before it). Used
				       * for trimming only, so the caller may report
				       * just some applied entries (mount/retain.h
				       * reports one per window) */
	PAXOS_EV_SNAPSHOT_INSTALLED, /* fs installed a snapshot asked for */
	PAXOS_EV_SNAPSHOT_FAILED,    /* fs could not get or install it */
	PAXOS_EV_PERSISTED,          /* an update's notices, handed back once the sync
				       * that made its writes durable returned 0 */
	PAXOS_EV_BORN,               /* fs applied the command that made `entity` (a
				       * create): when the command is this life's, this
				       * node opens the entity's entry 1 with round 0
				       * and sends its ACCEPTs at once (docs/decisions.md,
				       * "Pre-authorisation"); else nothing happens */
};

struct paxos_event {
	enum paxos_event_type type;
	uint64_t now_ms; /* the caller's monotonic clock; never goes backwards */
	union {
		struct {
			uint32_t from; /* a member, not self */
			const struct paxos_msg *msgs;
			size_t n;
		} receive;
		struct {
			uint64_t entity;  /* != 0 */
			const void *body; /* opaque command bytes (paxfs.Command); borrowed */
			size_t len;
		} submit;
		struct {
			uint64_t entity;
			uint64_t req_id; /* the caller's, returned in barrier_done */
		} barrier;
		struct {
			uint32_t node;
		} peer;
		struct {
			uint64_t entity;
			uint64_t entry;     /* applied through this entry; above the
					     * engine's chosen entry only after a snapshot
					     * install whose SNAPSHOT_INSTALLED was lost
					     * (a crash): then it counts as one */
			uint32_t chain_crc; /* chained checksum at that entry */
		} applied;
		struct {
			uint64_t entity;
			uint64_t entry;     /* INSTALLED: the snapshot's entry */
			uint32_t chain_crc; /* INSTALLED: chained checksum at it */
		} snapshot;
		struct {
			const struct paxos_msg *msgs; /* update->notices, as given */
			size_t n;
		} persisted;
		struct {
			uint64_t entity;
			uint64_t cmd_id; /* the command that made it */
		} born;
	};
};

/* ---- the update ------------------------------------------------------------ */

/* A record to persist: store_batch_put_record(entity, entry, &rec, value_stored). */
struct paxos_out_record {
	uint64_t entity;
	uint64_t entry;
	struct paxos_record rec; /* rec.value borrowed from the engine */
	bool value_stored;       /* this (entity, entry, value_id) value was in an earlier record */
	bool sync;               /* a vote (promise, acceptance): durable before the messages
				  * of this update leave; otherwise it may be written lazily */
};

struct paxos_out_meta {
	uint64_t entity;
	struct paxos_meta meta;
	bool sync; /* raises the amnesia fence: durable before the messages leave */
};

/* Delete every record of `entity` with entry <= upto (store_batch_trim). */
struct paxos_trim {
	uint64_t entity;
	uint64_t upto;
};

/* All messages for one peer in this update (encode as one PaxosBatch). */
struct paxos_outbox {
	uint32_t to;
	const struct paxos_msg *msgs;
	size_t n;
};

/* An entry now known chosen, delivered in entry order per entity. */
struct paxos_chosen {
	uint64_t entity;
	uint64_t entry;
	uint64_t value_id;
	const uint8_t *value; /* a paxfs.Value; borrowed until the next step */
	size_t value_len;
	bool mine; /* built by this engine (this life): its commands are ours */
};

/* A command that will not be answered by a chosen value. */
struct paxos_failed {
	uint64_t cmd_id;
	uint64_t entity;
	int error; /* -ETIMEDOUT: never left this node, will never be chosen;
		    * -EIO: sent but no majority answered in time: the outcome is
		    *       unknown, it may still be chosen (and then applied);
		    * -ESTALE: the entity was replaced by a snapshot while the command
		    *       was in flight: the outcome is unknown, as for -EIO */
};

struct paxos_barrier_done {
	uint64_t req_id;
	uint64_t entity;
	int result;     /* 0, -ETIMEDOUT (no majority in time), -EIO (entity broken),
			 * -EAGAIN (ids handed out faster than their bound: try again) */
	uint64_t entry; /* result 0: the local copy is complete once fs has applied
			 * through this entry (the local chosen entry) */
};

/* Ask fs for a snapshot of `entity` from node `from`, which trimmed its log
 * through `entry`; answer with SNAPSHOT_INSTALLED or SNAPSHOT_FAILED. */
struct paxos_snapshot_req {
	uint64_t entity;
	uint32_t from;
	uint64_t entry;
};

/* An entity that refuses service because its stored state could not be read. */
struct paxos_entity_error {
	uint64_t entity;
	int error; /* what the storage callback returned */
};

struct paxos_update {
	const struct paxos_out_record *records;
	size_t n_records;
	const struct paxos_out_meta *metas;
	size_t n_metas;
	const struct paxos_trim *trims;
	size_t n_trims;
	const struct paxos_outbox *outboxes; /* only peers with messages: sent after
					      * the sync (step 2) */
	size_t n_outboxes;
	/* Messages that may leave at once, before this update's writes are
	 * durable (step 0): ACCEPTs at a ballot of this life that no earlier
	 * or later life can use for another value, and CHOSEN (a majority's
	 * durable acceptances back it, not this node's). Send them in order,
	 * per peer, before the outboxes of the same update. */
	const struct paxos_outbox *early_outboxes;
	size_t n_early_outboxes;
	/* Notices from the engine to itself ("my own acceptance is durable"),
	 * fed back with a PERSISTED event once the sync that covers this
	 * update returned 0 (never when it failed, never after a crash). */
	const struct paxos_msg *notices;
	size_t n_notices;
	const struct paxos_chosen *chosen;
	size_t n_chosen;
	const struct paxos_failed *failed;
	size_t n_failed;
	const struct paxos_barrier_done *barriers;
	size_t n_barriers;
	const struct paxos_snapshot_req *snapshots;
	size_t n_snapshots;
	const struct paxos_entity_error *errors;
	size_t n_errors;
	uint64_t submit_id;   /* SUBMIT: the command id assigned (0 on error) */
	bool needs_sync;      /* some record or meta has sync: the batch must be
			       * durable before the messages are sent (step 1) */
	bool amnesia_cleared; /* persist NodeMeta.amnesia = false with this batch
			       * (needs_sync is set too) */
	uint64_t deadline_ms; /* next TICK, or PAXOS_NO_DEADLINE */
};

/* ---- the engine ------------------------------------------------------------ */

struct paxos;

/* Creates an engine. cfg (and cfg->nodes) are copied; cfg->ops must outlive
 * it. Returns 0, -EINVAL (with the cause in err, if given) for a bad config,
 * or -ENOMEM; *out is NULL on failure. */
int paxos_new(const struct paxos_config *cfg, struct paxos **out, char *err, size_t errlen);

/* Frees the engine and everything it holds, the last update included.
 * paxos_free(NULL) is a no-op. Nothing is persisted: an engine is stopped by
 * dropping it, exactly as a crash would. */
void paxos_free(struct paxos *p);

/* Feeds one event and returns what to do about it. *out is always set and
 * owned by the engine, valid until the next paxos_step or paxos_free; the
 * caller must carry out all of it (in the order at the top of this file)
 * whatever the return value. Returns:
 *   0        the event was handled;
 *   -EINVAL  a malformed event (unknown type, a sender that is not a member,
 *            a message that makes no sense): ignored, nothing changed;
 *   -EMSGSIZE  SUBMIT: the command cannot fit in one value (value_max_bytes);
 *   -EAGAIN  SUBMIT: this engine hands out ids faster than its bound
 *            ("Ids never repeat": 16,384 per ms of its life); try again
 *            a millisecond later;
 *   -ENOMEM  out of memory: the update is empty (the step is lost, as in a
 *            crash before its persist) and the engine refuses every later
 *            step with -ENOMEM. Stop the node, as after a failed persist; a
 *            restart resumes from the store.
 * A storage error is not a return value: the entity concerned is reported in
 * update->errors and refuses service from then on. */
int paxos_step(struct paxos *p, const struct paxos_event *ev, struct paxos_update **out);

/* ---- observation (for the daemon's status output and for tests) ---------- */

struct paxos_stats {
	size_t entities;         /* in memory */
	size_t entities_idle;    /* in memory, evictable */
	size_t proposals;        /* proposers running */
	size_t commands_waiting; /* submitted, not yet chosen or failed */
	size_t catchup_queued;   /* entities found behind, waiting for catch-up */
	size_t catchup_active;   /* entities being caught up now */
	uint64_t catchup_done;   /* entities caught up since start */
	/* proposals of this engine since it started (counters) */
	uint64_t entries_proposed; /* entries this node opened as proposer */
	uint64_t entries_fast;     /* ...of them at round 0: one round trip, no phase 1 */
	uint64_t phase1_rounds;    /* phase-1 rounds (PREPAREs at a new ballot) */
	uint64_t preempted;        /* proposals preempted by a higher ballot (a conflict) */
	uint64_t entries_lost;     /* entries this node was proposing at, chosen with another
				      value (its commands wait for the next entry) */
	uint64_t resends;          /* PREPAREs or ACCEPTs sent again after retry_ms */
	size_t scans_open;         /* peers whose entity listing is still being read */
	bool amnesia;              /* not voting yet */
	uint64_t alloc_bytes;      /* bytes allocated since start (all allocations) */
	uint64_t alloc_count;
};

void paxos_get_stats(const struct paxos *p, struct paxos_stats *out);

/* The seq (paxos_id_seq) of the last id this engine handed out; its
 * id_base when none. A later engine of the same process must start above
 * it (node_start). */
uint64_t paxos_last_id_seq(const struct paxos *p);

/* The chosen entry of one entity as the engine knows it (from memory, else
 * from storage; never loads it, so it may be called between steps). 0 for an
 * entity never seen; -EIO for a broken one, or the storage error. */
int paxos_entity_chosen(struct paxos *p, uint64_t entity, uint64_t *chosen);

#endif
