/* bench/sim.c — how fast is the engine? Three engines in one process, zero
 * simulated latency, driven turn by turn as the daemon drives one node per
 * event-loop turn: every input of the turn is a step, each step's update is
 * persisted (in-memory store) and its messages appended to one PaxosBatch per
 * destination, and the batches are delivered at the next turn.
 *
 *   bench/sim [--entities N] [--turns T]
 *
 * Prints, for the fast path (one node writes, pre-authorised) and for
 * contention (two nodes write the same entities; the second forwards to the
 * holder): entries and commands chosen per second of CPU for the whole
 * cluster (engine + codec + in-memory store), entries per second for the
 * engines alone, commands per entry and the share of the submitted commands
 * chosen within the run (the rest still wait: each turn is a round trip, so
 * it says how many entries a contended entity gets per round trip), and
 * bytes the engines allocated per entry. The target: 200,000 fast-path
 * entries per CPU second.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "paxos/codec.h"
#include "paxos/internal.h"
#include "paxos/paxos.h"
#include "tests/sim/simstore.h"

#define N 3

struct buf {
	uint8_t *data;
	size_t len, cap;
};

struct bnode {
	struct paxos *p;
	struct sim_store st;
	struct buf out[N + 1]; /* this turn's batch per destination */
	struct buf in[N + 1];  /* last turn's batch from each source */
};

struct bench {
	struct bnode nodes[N + 1];
	uint64_t now;
	uint64_t entries;   /* chosen notices at the observer (node 3) */
	uint64_t cmds;      /* commands in them */
	uint64_t engine_ns; /* CPU time inside paxos_step (storage reads included) */
	bool timed;         /* time every step (a second, separate pass) */
	uint64_t steps;
};

/* CPU time of this thread: other processes on a shared machine do not count. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* What one pair of cpu_ns() calls costs, subtracted from every step. */
static uint64_t clock_pair_ns;

static void calibrate(void)
{
	uint64_t best = UINT64_MAX;
	for (int round = 0; round < 5; round++) {
		uint64_t t0 = cpu_ns(), sink = 0;
		for (int i = 0; i < 20000; i++)
			sink += cpu_ns() - cpu_ns();
		uint64_t per = (cpu_ns() - t0) / 20000;
		if (per < best)
			best = per;
		(void)sink;
	}
	clock_pair_ns = best;
}

static int count_cmd(void *arg, uint64_t id, const uint8_t *b, size_t len)
{
	(*(uint64_t *)arg)++;
	return 0;
}

static void step(struct bench *b, int n, struct paxos_event *ev)
{
	struct bnode *nd = &b->nodes[n];
	struct paxos_update *u;
	ev->now_ms = b->now;
	int rc;
	if (b->timed) {
		uint64_t t0 = cpu_ns();
		rc = paxos_step(nd->p, ev, &u);
		uint64_t dt = cpu_ns() - t0;
		b->engine_ns += dt > clock_pair_ns ? dt - clock_pair_ns : 0;
	} else {
		rc = paxos_step(nd->p, ev, &u);
	}
	b->steps++;
	if (rc && rc != -EMSGSIZE) {
		fprintf(stderr, "bench/sim: paxos_step: %d\n", rc);
		exit(1);
	}
	if (sim_store_apply(&nd->st, u)) {
		fprintf(stderr, "bench/sim: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < u->n_outboxes; i++) {
		struct buf *o = &nd->out[u->outboxes[i].to];
		if (paxos_codec_append(u->outboxes[i].msgs, u->outboxes[i].n, &o->data, &o->len,
				       &o->cap))
			exit(1);
	}
	if (n == N) {
		for (size_t i = 0; i < u->n_chosen; i++) {
			b->entries++;
			paxos_codec_value_foreach(u->chosen[i].value, u->chosen[i].value_len,
						  count_cmd, &b->cmds);
		}
	}
	if (u->n_failed) {
		fprintf(stderr, "bench/sim: %zu commands failed\n", u->n_failed);
		exit(1);
	}
}

/* One turn: every node handles what it received last turn. */
static void turn(struct bench *b)
{
	for (int n = 1; n <= N; n++) {
		for (int from = 1; from <= N; from++) {
			struct buf *in = &b->nodes[n].in[from];
			if (!in->len)
				continue;
			struct paxos_codec_msgs m;
			if (paxos_codec_decode(in->data, in->len, &m)) {
				fprintf(stderr, "bench/sim: bad batch\n");
				exit(1);
			}
			struct paxos_event ev = {.type = PAXOS_EV_RECEIVE};
			ev.receive.from = (uint32_t)from;
			ev.receive.msgs = m.msgs;
			ev.receive.n = m.n;
			step(b, n, &ev);
			paxos_codec_msgs_free(&m);
			in->len = 0;
		}
	}
	for (int n = 1; n <= N; n++)
		for (int to = 1; to <= N; to++) {
			struct buf *o = &b->nodes[n].out[to], *in = &b->nodes[to].in[n];
			struct buf t = *in;
			*in = *o;
			*o = t;
			o->len = 0;
		}
	b->now++;
}

static void bench_init(struct bench *b)
{
	memset(b, 0, sizeof(*b));
	uint32_t ids[N] = {1, 2, 3};
	for (int n = 1; n <= N; n++) {
		struct bnode *nd = &b->nodes[n];
		sim_store_init(&nd->st);
		struct paxos_config c = {0};
		c.self = (uint32_t)n;
		c.nodes = ids;
		c.n_nodes = N;
		c.boot_count = 1;
		c.seed = (uint64_t)n;
		c.ops = &sim_store_ops;
		c.ops_ctx = &nd->st;
		c.retention = 100;
		c.retry_ms = 1000000; /* zero latency, nothing lost: no resends */
		c.proposal_timeout_ms = 1000000000;
		c.backoff_min_ms = 1;
		c.backoff_max_ms = 4;
		char err[128];
		if (paxos_new(&c, &nd->p, err, sizeof(err))) {
			fprintf(stderr, "bench/sim: %s\n", err);
			exit(1);
		}
	}
	/* a new cluster: let the amnesia scans finish */
	struct paxos_event tick = {.type = PAXOS_EV_TICK};
	for (int n = 1; n <= N; n++)
		step(b, n, &tick);
	for (int i = 0; i < 8; i++)
		turn(b);
}

static void bench_free(struct bench *b)
{
	for (int n = 1; n <= N; n++) {
		paxos_free(b->nodes[n].p);
		sim_store_close(&b->nodes[n].st);
		for (int k = 0; k <= N; k++) {
			free(b->nodes[n].out[k].data);
			free(b->nodes[n].in[k].data);
		}
	}
}

/* The engines' allocations so far: bytes, or (count) how many. */
static uint64_t allocs(struct bench *b, bool count)
{
	uint64_t a = 0;
	for (int n = 1; n <= N; n++) {
		struct paxos_stats st;
		paxos_get_stats(b->nodes[n].p, &st);
		a += count ? st.alloc_count : st.alloc_bytes;
	}
	return a;
}

/* One turn in which every writer (bit n of `writers`: node n) submits one
 * 64-byte command to each of `entities` entities. */
static void submit_turn(struct bench *b, unsigned writers, uint64_t entities)
{
	static const uint8_t body[64] = {0};
	for (int n = 1; n <= N; n++)
		if (writers >> n & 1)
			for (uint64_t k = 1; k <= entities; k++) {
				struct paxos_event ev = {.type = PAXOS_EV_SUBMIT};
				ev.submit.entity = k << 8 | 1;
				ev.submit.body = body;
				ev.submit.len = sizeof(body);
				step(b, n, &ev);
			}
	turn(b);
}

struct result {
	uint64_t entries, cmds, submitted, alloc_bytes, allocs;
	double cpu, engine;
};

/* writers: bit n set = node n submits one command per entity per turn */
static struct result pass(unsigned writers, uint64_t entities, int turns, bool timed)
{
	struct bench b;
	bench_init(&b);
	/* warm up: entities loaded, buffers grown */
	for (int t = 0; t < 4; t++) {
		submit_turn(&b, writers, entities);
	}
	for (int t = 0; t < 16; t++)
		turn(&b);
	uint64_t e0 = b.entries, c0 = b.cmds, a0 = allocs(&b, false), n0 = allocs(&b, true);
	b.engine_ns = 0;
	b.timed = timed;
	clock_t t0 = clock();
	for (int t = 0; t < turns; t++) {
		submit_turn(&b, writers, entities);
	}
	struct result r;
	r.submitted = (uint64_t)__builtin_popcount(writers) * entities * (uint64_t)turns;
	r.cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
	r.engine = (double)b.engine_ns / 1e9;
	r.entries = b.entries - e0;
	r.cmds = b.cmds - c0;
	r.alloc_bytes = allocs(&b, false) - a0;
	r.allocs = allocs(&b, true) - n0;
	bench_free(&b);
	return r;
}

static void run(const char *name, unsigned writers, uint64_t entities, int turns)
{
	struct result whole = pass(writers, entities, turns, false);
	struct result eng = pass(writers, entities, turns, true);
	double e = (double)whole.entries;
	printf("%-11s %8llu entries, %8llu commands (%.2f per entry; %.0f%% of those submitted) in "
	       "%.2f s CPU: %.0f entries/s, %.0f commands/s (engines alone: %.0f entries/s), "
	       "%.0f bytes and %.1f allocations per entry\n",
	       name, (unsigned long long)whole.entries, (unsigned long long)whole.cmds,
	       e ? (double)whole.cmds / e : 0.0,
	       whole.submitted ? 100.0 * (double)whole.cmds / (double)whole.submitted : 0.0,
	       whole.cpu, whole.cpu > 0 ? e / whole.cpu : 0.0,
	       whole.cpu > 0 ? (double)whole.cmds / whole.cpu : 0.0,
	       eng.engine > 0 ? (double)eng.entries / eng.engine : 0.0,
	       e ? (double)whole.alloc_bytes / e : 0.0, e ? (double)whole.allocs / e : 0.0);
}

int main(int argc, char **argv)
{
	uint64_t entities = 1000;
	int turns = 300;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--entities") && i + 1 < argc)
			entities = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--turns") && i + 1 < argc)
			turns = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: bench/sim [--entities N] [--turns T]\n");
			return 2;
		}
	}
	if (!entities || turns < 1) {
		fprintf(stderr, "bench/sim: --entities and --turns must be positive\n");
		return 2;
	}
	calibrate();
	printf("bench/sim: %d nodes, zero latency, %llu entities, %d turns, 64-byte commands\n", N,
	       (unsigned long long)entities, turns);
	run("fast path", 1u << 1, entities, turns);
	run("contention", 1u << 1 | 1u << 2, entities, turns);
	/* An idle entity in memory: its struct, plus its share of the hash
	 * table (a pointer per slot, kept at most 3/4 full). Open entries and
	 * proposers are separate allocations that idle entities do not have. */
	printf("idle entity in memory: %zu bytes (+ 11..21 bytes of hash table); evicted after "
	       "idle_evict_ms\n",
	       sizeof(struct paxos_entity));
	return 0;
}
