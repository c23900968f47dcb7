/* mount/main.c — `paxfs [options] CONFIG MOUNTPOINT`: one node of a cluster.
 *
 * Reads the command line and the config (errors name file:line), goes into
 * the background unless -f (start-up errors still reach the terminal: see
 * mount/daemon.h), opens the node and runs its loop until stopped. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "mount/args.h"
#include "mount/daemon.h"
#include "mount/node.h"
#include "util/conf.h"
#include "util/log.h"

static struct util_conf conf; /* large: not on the stack */
static struct mount_node node;

/* mkdir -p for the parents of the data dir (/var/lib/paxfs/CLUSTER). */
static void make_parents(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
}

/* Whether the FUSE options already hold `name=` (as "-oa,name=x" or "-o" "name=x"). */
static bool has_fuse_opt(const struct fuse_args *fa, const char *name)
{
	size_t len = strlen(name);
	for (int i = 1; i < fa->argc; i++) {
		const char *list = NULL;
		if (!strncmp(fa->argv[i], "-o", 2) && fa->argv[i][2])
			list = fa->argv[i] + 2;
		else if (!strcmp(fa->argv[i - 1], "-o"))
			list = fa->argv[i];
		for (const char *p = list; p; p = strchr(p, ','), p = p ? p + 1 : NULL)
			if (!strncmp(p, name, len))
				return true;
	}
	return false;
}

/* How the mount shows in /proc/mounts, df and findmnt: type fuse.paxfs and
 * source paxfs:CLUSTER, unless the command line says otherwise. */
static int name_the_mount(struct fuse_args *fa, const char *cluster)
{
	char opt[96];
	snprintf(opt, sizeof(opt), "-ofsname=paxfs:%s", cluster);
	if (!has_fuse_opt(fa, "subtype=") && fuse_opt_add_arg(fa, "-osubtype=paxfs") < 0)
		return -ENOMEM;
	if (!has_fuse_opt(fa, "fsname=") && fuse_opt_add_arg(fa, opt) < 0)
		return -ENOMEM;
	return 0;
}

int main(int argc, char **argv)
{
	struct mount_args args;
	char err[1024], prefix[32], logpath[4200];
	int status_fd, log_fd = -1, rc;

	if (mount_args_parse(argc, argv, &args, err, sizeof(err)) < 0) {
		fprintf(stderr, "paxfs: %s\n", err);
		return 1;
	}
	if (args.show_help) {
		mount_args_usage(argv[0]);
		mount_args_close(&args);
		return 0;
	}
	if (args.show_version) {
		printf("paxfs %s (FUSE %d)\n", PACKAGE_VERSION, fuse_version());
		mount_args_close(&args);
		return 0;
	}
	if (util_conf_load(args.config, &conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "paxfs: %s\n", err);
		mount_args_close(&args);
		return 1;
	}
	if (!conf.secret_len && !conf.tls_key_len) {
		/* a tools-only config: the read-only credential cannot run a node
		 * (a client certificate is refused by net/: it names no node) */
		fprintf(stderr,
			"paxfs: %s: 'secret_file' is missing: a node needs the node secret "
			"(client_secret_file is the read-only credential of the tools) or a "
			"node certificate (tls_ca, tls_cert, tls_key)\n",
			args.config);
		util_conf_close(&conf);
		mount_args_close(&args);
		return 1;
	}
	if (name_the_mount(&args.fuse, conf.cluster) < 0) {
		fprintf(stderr, "paxfs: out of memory\n");
		return 1;
	}
	snprintf(prefix, sizeof(prefix), "node %u", args.node);
	util_log_set_prefix(prefix);
	if (args.debug)
		util_log_set_level(UTIL_LOG_DEBUG);
	if (!args.data &&
	    asprintf(&args.data, "/var/lib/paxfs/%s/node-%u", conf.cluster, args.node) < 0)
		return 1;
	/* The log (DATA.log) opens beside the data dir, before the store
	 * creates it: its parents first, or a missing parent is blamed on the
	 * log file. */
	make_parents(args.data);
	if (!args.foreground) {
		if (args.log)
			snprintf(logpath, sizeof(logpath), "%s", args.log);
		else
			snprintf(logpath, sizeof(logpath), "%s.log", args.data);
		log_fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (log_fd < 0) {
			fprintf(stderr, "paxfs: log file %s: %s\n", logpath, strerror(errno));
			return 1;
		}
	}

	status_fd = mount_daemon_fork(args.foreground);
	if (log_fd >= 0)
		util_log_set_fd(log_fd); /* the terminal gets the start-up verdict only */
	rc = mount_node_open(&node, &args, &conf, err, sizeof(err));
	if (rc == 0)
		rc = mount_peer_check_secret(&node, err, sizeof(err));
	if (rc < 0) {
		LOG_ERR("%s", err);
		mount_daemon_failed(status_fd, err);
		mount_node_close(&node);
		return 1;
	}
	mount_daemon_ready(status_fd, log_fd);
	rc = mount_node_run(&node);
	mount_node_close(&node);
	LOG_INFO("stopped");
	util_conf_close(&conf);
	mount_args_close(&args);
	return rc;
}
