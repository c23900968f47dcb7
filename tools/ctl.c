/* tools/ctl.c — the paxfsctl command line.
 *
 *   paxfsctl status [--json] [--timeout SECONDS] CONFIG
 *   paxfsctl metrics [--timeout SECONDS] CONFIG [NODE]
 *   paxfsctl verify [paxfs-verify's options] CONFIG    (runs paxfs-verify)
 *
 * Exit status: 0 a majority of the nodes is up and voting (metrics NODE:
 * that node answered), 1 it is not, 2 a usage error or a config that does
 * not load. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tools/ctl.h"
#include "util/log.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: paxfsctl status [--json] [--timeout SECONDS] CONFIG\n"
		"       paxfsctl metrics [--timeout SECONDS] CONFIG [NODE]\n"
		"       paxfsctl verify [paxfs-verify options] CONFIG\n"
		"\n"
		"status   asks every node of the cluster in CONFIG how it is: reachable (or why\n"
		"         not), voting or re-learning, catching up, inodes, namespace entries\n"
		"         chosen and applied, the peers it sees, disk free, uptime; one line per\n"
		"         node (--json: one JSON object)\n"
		"metrics  the same answers (of NODE alone, if given) in Prometheus text format,\n"
		"         for a node exporter's textfile collector or any scraper\n"
		"verify   runs paxfs-verify (see paxfs-verify --help)\n"
		"\n"
		"Exit status: 0 a majority of the nodes is up and voting (metrics NODE: that\n"
		"node answered), 1 it is not, 2 a usage error or a config that does not load.\n"
		"\n"
		"options:\n"
		"  --json             status: one JSON object on stdout\n"
		"  --timeout SECONDS  to connect to a node, and again for its answer (default 5)\n"
		"  -h, --help         this text\n"
		"  -V, --version\n");
}

/* paxfs-verify beside this program, else from PATH. */
static int run_verify(char *self, int argc, char **argv)
{
	char path[PATH_MAX];
	char *slash = strrchr(self, '/');
	char **args = calloc((size_t)argc + 1, sizeof(*args));

	if (!args)
		return CTL_EXIT_USAGE;
	args[0] = "paxfs-verify";
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	if (slash && (size_t)(slash - self) + sizeof("/paxfs-verify") <= sizeof(path)) {
		snprintf(path, sizeof(path), "%.*s/paxfs-verify", (int)(slash - self), self);
		if (access(path, X_OK) == 0)
			execv(path, args);
	}
	execvp("paxfs-verify", args);
	fprintf(stderr, "paxfsctl: cannot run paxfs-verify: %s\n", strerror(errno));
	free(args);
	return CTL_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct ctl_cluster c;
	const char *cmd;
	unsigned timeout_ms = 0;
	uint32_t only = 0;
	bool json = false;
	char err[1024], *end;
	int ch, code;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))) {
		printf("paxfsctl %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc < 2) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "verify"))
		return run_verify(argv[0], argc - 1, argv + 1);
	if (strcmp(cmd, "status") && strcmp(cmd, "metrics")) {
		fprintf(stderr, "paxfsctl: unknown command '%s' (status, metrics, verify)\n", cmd);
		return CTL_EXIT_USAGE;
	}
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			if (strcmp(cmd, "status")) {
				fprintf(stderr, "paxfsctl: --json is for status\n");
				return CTL_EXIT_USAGE;
			}
			json = true;
			break;
		case 't': {
			double s = strtod(optarg, &end);
			if (*end || !(s > 0) || s > 3600) {
				fprintf(stderr,
					"paxfsctl: --timeout: '%s' is not a number of seconds "
					"between 0 and 3600\n",
					optarg);
				return CTL_EXIT_USAGE;
			}
			timeout_ms = (unsigned)(s * 1000);
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("paxfsctl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc || argc - optind > (strcmp(cmd, "metrics") ? 1 : 2)) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (argc - optind == 2) {
		long v = strtol(argv[optind + 1], &end, 10);
		if (*end || v < 1 || v > 255) {
			fprintf(stderr, "paxfsctl: NODE: '%s' is not a node id (1..255)\n",
				argv[optind + 1]);
			return CTL_EXIT_USAGE;
		}
		only = (uint32_t)v;
	}
	/* Why a node did not answer is in the report; the mesh's own warnings
	 * (each failed dial) would only repeat it. */
	if (!getenv("PAXFS_LOG"))
		util_log_set_level(UTIL_LOG_ERR);
	util_log_set_prefix("paxfsctl");
	if (ctl_ask_status(argv[optind], only, timeout_ms, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "paxfsctl: %s\n", err);
		return CTL_EXIT_USAGE;
	}
	if (!strcmp(cmd, "metrics"))
		ctl_metrics(stdout, &c);
	else if (json)
		ctl_status_json(stdout, &c);
	else
		ctl_status_text(stdout, &c);
	code = ctl_exit_code(&c);
	ctl_cluster_close(&c);
	return code;
}
