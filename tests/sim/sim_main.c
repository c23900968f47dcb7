/* tests/sim/sim_main.c — paxfs-sim: the simulator as a program, for soaks.
 *
 *   paxfs-sim [--seeds N] [--nodes 3|5] [--first-seed S] [--no-faults | --kills]
 *             [--group-turns] [--verbose]
 *
 * Runs N random seeds (every fault enabled unless --no-faults; --kills: only
 * kill -9 and restart with a majority always up, and the liveness check, see
 * tests/sim/workload.c) and ends with
 * the line "seeds: N, violations: V"; exit status 1 when V > 0. Each
 * violation prints its seed, its cause and the last trace lines.
 * --group-turns: a node's loop turn takes every input of the same instant
 * (group commit across steps, as the daemon's), not one input per turn.
 * PAXFS_SIM_SEED=n runs that one seed only (with --verbose: its whole trace).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/sim/sim.h"

static int usage(void)
{
	fprintf(
	    stderr,
	    "usage: paxfs-sim [--seeds N] [--nodes 3|5] [--first-seed S] [--no-faults | --kills] "
	    "[--group-turns] [--verbose]\n");
	return 2;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t seeds = 100, first = 1, nodes = 3;
	struct sim_random_opts o = {.faults = true};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--seeds") && i + 1 < argc) {
			if (parse_u64(argv[++i], &seeds))
				return usage();
		} else if (!strcmp(a, "--first-seed") && i + 1 < argc) {
			if (parse_u64(argv[++i], &first))
				return usage();
		} else if (!strcmp(a, "--nodes") && i + 1 < argc) {
			if (parse_u64(argv[++i], &nodes) || nodes < 1 || nodes > SIM_MAX_NODES)
				return usage();
		} else if (!strcmp(a, "--no-faults")) {
			o.faults = false;
		} else if (!strcmp(a, "--kills")) {
			o.kills = true;
		} else if (!strcmp(a, "--group-turns")) {
			o.group_turns = true;
		} else if (!strcmp(a, "--verbose")) {
			o.verbose = true;
		} else {
			return usage();
		}
	}
	o.n_nodes = (int)nodes;
	const char *env = getenv("PAXFS_SIM_SEED");
	if (env && *env) {
		if (parse_u64(env, &first)) {
			fprintf(stderr, "paxfs-sim: PAXFS_SIM_SEED must be a number\n");
			return 2;
		}
		seeds = 1;
	}
	uint64_t violations = 0;
	struct sim_stats total = {0};
	clock_t t0 = clock();
	for (uint64_t k = 0; k < seeds; k++) {
		struct sim_stats st;
		if (sim_run_random(first + k, &o, stdout, &st))
			violations++;
		total.steps += st.steps;
		total.entries_chosen += st.entries_chosen;
		total.cmds_submitted += st.cmds_submitted;
		total.cmds_chosen += st.cmds_chosen;
		total.cmds_failed += st.cmds_failed;
		total.crashes += st.crashes;
		total.engine_resets += st.engine_resets;
		total.fatal_stops += st.fatal_stops;
		total.power_cuts += st.power_cuts;
		total.forwards += st.forwards;
		total.fwd_nacks += st.fwd_nacks;
		total.fwd_stale += st.fwd_stale;
		total.wipes += st.wipes;
		total.snapshots += st.snapshots;
		total.barriers_ok += st.barriers_ok;
	}
	double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
	fprintf(
	    stderr,
	    "paxfs-sim: %d nodes, seeds %llu..%llu: %llu steps, %llu entries chosen, %llu commands "
	    "(%llu chosen, %llu failed), %llu crashes (%llu power cuts), %llu wipes, %llu engine "
	    "resets, %llu stops, "
	    "%llu snapshots, "
	    "%llu barriers, %llu FORWARDs (%llu refused, %llu stale), %.1f s CPU\n",
	    o.n_nodes, (unsigned long long)first, (unsigned long long)(first + seeds - 1),
	    (unsigned long long)total.steps, (unsigned long long)total.entries_chosen,
	    (unsigned long long)total.cmds_submitted, (unsigned long long)total.cmds_chosen,
	    (unsigned long long)total.cmds_failed, (unsigned long long)total.crashes,
	    (unsigned long long)total.power_cuts, (unsigned long long)total.wipes,
	    (unsigned long long)total.engine_resets, (unsigned long long)total.fatal_stops,
	    (unsigned long long)total.snapshots, (unsigned long long)total.barriers_ok,
	    (unsigned long long)total.forwards, (unsigned long long)total.fwd_nacks,
	    (unsigned long long)total.fwd_stale, cpu);
	printf("seeds: %llu, violations: %llu\n", (unsigned long long)seeds,
	       (unsigned long long)violations);
	return violations ? 1 : 0;
}
