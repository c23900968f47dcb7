/* tests/unit/store/test_store_crash.c — crash atomicity: a child writes
 * batches in a loop (records of four entities, their metas, state, trims,
 * some large separate values) and is SIGKILLed at random moments, also while
 * it opens and recovers the store. After every kill the store must hold
 * exactly the batches 1..M for some M at least the last one the child
 * reported as returned, each batch whole, nothing of batch M+1.
 *
 * What it cannot show: SIGKILL keeps the page cache, so synced and unsynced
 * batches survive alike; power loss is not simulated here.
 *
 * The seed is printed; PAXFS_STORE_CRASH_SEED=n replays a run. */
#include "config.h"

#define PAXFS_CHECK_MAIN
#include "tests/lib/check_main.h"

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/unit/store/helpers.h"
#include "util/endian.h"
#include "util/log.h"

#define ENTITIES   4
#define WINDOW     20 /* trimmed below the last WINDOW entries */
#define ROUNDS     14 /* at least; more until trims have happened */
#define MAX_ROUNDS 60

static const struct store_options crash_opt = {
    .create = true,
    .write_buffer_bytes = 64 << 10, /* small: memtable switches and compactions often */
};

static size_t value_len(uint64_t i, uint64_t e)
{
	return (i + e) % 7 == 0 ? 20000 : 64 + (i * 13 + e) % 200;
}

static uint64_t value_seed(uint64_t i, uint64_t e)
{
	return e * 1000003 + i;
}

static void state_key(char *k, size_t len, uint64_t i)
{
	snprintf(k, len, "b/%08" PRIu64, i);
}

static uint64_t read_last(struct store *s)
{
	void *v;
	size_t vl;
	int rc = store_get_state(s, "last", 4, &v, &vl);
	if (rc == -ENOENT)
		return 0;
	if (rc || vl != 8)
		_exit(10);
	uint64_t last = util_get_be64(v);
	free(v);
	return last;
}

/* The child: never returns. Reports each returned batch number on fd. */
static void child_main(int fd)
{
	struct store *s = NULL;
	struct store_batch *b;
	uint8_t *v = malloc(20000);
	char err[512], k[32];
	uint8_t be[8];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	util_log_set_level(UTIL_LOG_WARN);
	if (store_open(data_dir, &crash_opt, &s, err, sizeof(err)) != 0) {
		fprintf(stderr, "child: open: %s\n", err);
		_exit(11);
	}
	b = store_batch_new();
	for (uint64_t i = read_last(s) + 1;; i++) {
		for (uint64_t e = 1; e <= ENTITIES; e++) {
			size_t vl = value_len(i, e);
			fill_value(v, vl, value_seed(i, e));
			struct store_record r = {.promised = i << 8 | 1,
						 .accepted = i << 8 | 1,
						 .value_id = value_seed(i, e),
						 .chosen = true,
						 .value = v,
						 .value_len = vl};
			store_batch_put_record(b, e, i, &r, false);
			store_batch_put_paxos_meta(b, e,
						   &(struct store_paxos_meta){.chosen_entry = i});
			if (i > WINDOW && store_batch_trim(s, b, e, i - WINDOW) != 0)
				_exit(12);
		}
		fill_value(v, 100, i);
		state_key(k, sizeof(k), i);
		store_batch_put_state(b, k, strlen(k), v, 100);
		if (i > WINDOW) {
			state_key(k, sizeof(k), i - WINDOW);
			store_batch_del_state(b, k, strlen(k));
		}
		util_put_be64(be, i);
		store_batch_put_state(b, "last", 4, be, 8);
		int rc = store_write(s, b, i % 4 != 0);
		if (rc) {
			fprintf(stderr, "child: write %" PRIu64 ": %d\n", i, rc);
			_exit(13);
		}
		if (write(fd, &i, sizeof(i)) != sizeof(i))
			_exit(14);
	}
}

static int count_cb(void *arg, uint64_t entry, const struct store_record *rec)
{
	(*(uint64_t *)arg)++;
	return 0;
}

/* Everything of batches 1..M is there (within the trim window), nothing of
 * M+1; M >= acked. Returns M. */
static uint64_t verify(uint64_t acked)
{
	struct store *s = open_store(&crash_opt);
	uint64_t m = read_last(s), lo, n;
	char k[32];
	void *val;
	size_t vl;

	ck_assert_msg(m >= acked, "batch %" PRIu64 " returned but the store ends at %" PRIu64,
		      acked, m);
	lo = m > WINDOW ? m - WINDOW + 1 : 1;
	for (uint64_t e = 1; e <= ENTITIES; e++) {
		struct store_paxos_meta pm;
		ck_assert_int_eq(store_get_paxos_meta(s, e, &pm), m ? 0 : -ENOENT);
		ck_assert_msg(pm.chosen_entry == m,
			      "entity %" PRIu64 " meta at %" PRIu64 ", state at %" PRIu64, e,
			      pm.chosen_entry, m);
		for (uint64_t i = lo; i <= m; i++) {
			struct store_record r;
			int rc = store_get_record(s, e, i, &r);
			ck_assert_msg(rc == 0,
				      "entity %" PRIu64 " entry %" PRIu64 ": %d (last %" PRIu64 ")",
				      e, i, rc, m);
			ck_assert_uint_eq(r.value_len, value_len(i, e));
			ck_assert(value_is(r.value, r.value_len, value_seed(i, e)));
			free(r.value);
		}
		n = 0;
		ck_assert_int_eq(store_scan_records(s, e, 0, lo - 1, false, count_cb, &n), 0);
		ck_assert_msg(n == 0,
			      "entity %" PRIu64 ": %" PRIu64 " records below %" PRIu64
			      " survived their trim",
			      e, n, lo);
		ck_assert_int_eq(store_scan_records(s, e, m + 1, UINT64_MAX, false, count_cb, &n),
				 0);
		ck_assert_msg(n == 0, "entity %" PRIu64 ": part of batch %" PRIu64 " is there", e,
			      m + 1);
	}
	for (uint64_t i = lo; i <= m; i++) {
		state_key(k, sizeof(k), i);
		ck_assert_int_eq(store_get_state(s, k, strlen(k), &val, &vl), 0);
		ck_assert(value_is(val, vl, i));
		free(val);
	}
	state_key(k, sizeof(k), m + 1);
	ck_assert_int_eq(store_get_state(s, k, strlen(k), &val, &vl), -ENOENT);
	if (lo > 1) {
		state_key(k, sizeof(k), lo - 1);
		ck_assert_int_eq(store_get_state(s, k, strlen(k), &val, &vl), -ENOENT);
	}
	store_free(s);
	return m;
}

/* Reads batch numbers until the pipe is empty (or, with wait_ms, until the
 * first arrives); returns the highest seen, or `have`. */
static uint64_t read_acks(int fd, uint64_t have, int wait_ms)
{
	uint64_t i;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (wait_ms && poll(&p, 1, wait_ms) <= 0)
		return have;
	for (;;) {
		ssize_t n = read(fd, &i, sizeof(i));
		if (n != sizeof(i))
			return have;
		if (i > have)
			have = i;
	}
}

START_TEST(killed_writer_leaves_whole_batches_only)
{
	const char *env = getenv("PAXFS_STORE_CRASH_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
	uint64_t acked = 0, last = 0;
	struct util_prng prng;

	printf("# crash test seed %" PRIu64 " (PAXFS_STORE_CRASH_SEED=%" PRIu64 " replays)\n", seed,
	       seed);
	fflush(stdout);
	util_prng_seed(&prng, seed);
	int round;
	for (round = 0; round < MAX_ROUNDS && (round < ROUNDS || last <= 3 * WINDOW); round++) {
		int fds[2], status;
		ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(fds[0]);
			child_main(fds[1]);
		}
		close(fds[1]);
		ck_assert_int_eq(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
		if (round % 3 == 0) {
			/* early: while it opens the store and replays its log */
			usleep((useconds_t)util_prng_below(&prng, 8000));
		} else {
			uint64_t before = acked;
			acked = read_acks(fds[0], acked, 10000);
			ck_assert_msg(acked > before, "the child wrote nothing in 10 s");
			usleep((useconds_t)(1000 + util_prng_below(&prng, 30000)));
		}
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
			      "the child ended by itself (status %d)", status);
		acked = read_acks(fds[0], acked, 0);
		close(fds[0]);
		last = verify(acked);
		printf("# round %d: acknowledged %" PRIu64 ", store ends at %" PRIu64 "\n", round,
		       acked, last);
		fflush(stdout);
	}
	ck_assert_msg(last > 3 * WINDOW,
		      "only %" PRIu64 " batches in %d rounds: too few to test trims", last, round);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("store crash");
	STORE_TEST(s, killed_writer_leaves_whole_batches_only, 240);
	return s;
}
