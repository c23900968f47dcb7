/* tools/main.c — the paxfs-verify command line.
 *
 *   paxfs-verify [--json] [--quiet] [--deep] [--timeout SECONDS] CONFIG
 *   paxfs-verify --offline [--json] [--quiet] [--deep] DATADIR...
 *
 * Exit status: 0 the nodes agree (lag is reported), 1 they diverge, 2 some
 * node (or the whole check) could not be checked; a usage error is 2 too. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tools/verify.h"
#include "util/log.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: paxfs-verify [options] CONFIG              check a running cluster\n"
		"       paxfs-verify --offline [options] DATADIR...  check stopped nodes' data "
		"dirs\n"
		"\n"
		"Compares what every node holds of every file: chosen log entries, chained\n"
		"checksums, state digests. Exit status: 0 the nodes agree (a node behind is\n"
		"reported as lag), 1 they diverge, 2 something could not be checked.\n"
		"\n"
		"options:\n"
		"  --offline         read the data dirs of stopped nodes directly\n"
		"  --deep            also recompute every state digest and read every logged\n"
		"                    value (slow: reads all data); an entity whose state no\n"
		"                    longer matches its digest is marked bad (answers EIO)\n"
		"  --json            one JSON object on stdout\n"
		"  -q, --quiet       print only what is wrong (nothing when all agree)\n"
		"  --timeout SECONDS online: to connect to a node (default 10); an answer may\n"
		"                    take six times as long (at least 60 s)\n"
		"  --rounds N        online: re-ask entities whose nodes are apart up to N\n"
		"                    times, 1..10 (default 4, pausing 0.2, 0.4, 0.8, 1.6 s)\n"
		"  -h, --help        this text\n"
		"  -V, --version\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"offline", no_argument, NULL, 'o'},
	    {"deep", no_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"timeout", required_argument, NULL, 't'},
	    {"rounds", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct verify_opts opt = {0};
	struct verify_result r;
	bool offline = false, json = false, quiet = false;
	int c, code;
	char *end;

	while ((c = getopt_long(argc, argv, "qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			offline = true;
			break;
		case 'd':
			opt.deep = true;
			break;
		case 'j':
			json = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 't': {
			double s = strtod(optarg, &end);
			if (*end || !(s > 0) || s > 3600) {
				fprintf(stderr,
					"paxfs-verify: --timeout: '%s' is not a number of seconds "
					"between 0 and 3600\n",
					optarg);
				return VERIFY_EXIT_UNCHECKED;
			}
			opt.timeout_ms = (unsigned)(s * 1000);
			break;
		}
		case 'r': {
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 10) {
				fprintf(stderr, "paxfs-verify: --rounds: '%s' is not 1..10\n",
					optarg);
				return VERIFY_EXIT_UNCHECKED;
			}
			opt.rounds = (unsigned)v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("paxfs-verify %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return VERIFY_EXIT_UNCHECKED;
		}
	}
	if (optind >= argc || (!offline && argc - optind != 1)) {
		usage(stderr);
		return VERIFY_EXIT_UNCHECKED;
	}
	opt.progress = !json && !quiet && isatty(STDERR_FILENO);
	/* Why a node could not be checked goes into the report; the modules'
	 * warnings (each failed dial, a data dir's mode) would only repeat it. */
	if (!getenv("PAXFS_LOG"))
		util_log_set_level(UTIL_LOG_ERR);
	util_log_set_prefix("paxfs-verify");
	if (offline)
		code = verify_offline(argv + optind, (size_t)(argc - optind), &opt, &r);
	else
		code = verify_online(argv[optind], &opt, &r);
	if (json)
		verify_report_json(stdout, &r);
	else
		verify_report_text(stdout, &r, quiet);
	verify_result_close(&r);
	return code;
}
