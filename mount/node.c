/* mount/node.c — putting a node together, and taking it apart.
 *
 * Start-up opens everything that can fail before mounting (data dir, store,
 * listening sockets: the mesh's and the metrics endpoint's), so that a typo or a busy port is reported by the
 * command that started the node. Shutdown (SIGTERM, SIGINT, SIGHUP, or an
 * unmount from outside) stops reading requests, lets those in flight finish
 * for a few seconds, answers the rest with EIO, makes the store durable and
 * closes it. */
#include "mount/node.h"

#include <dirent.h>
#include <errno.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mount/compact.h"
#include "mount/faults.h"
#include "mount/lease.h"
#include "mount/lock.h"
#include "mount/loopwatch.h"
#include "mount/metrics.h"
#include "mount/names.h"
#include "mount/notify.h"
#include "mount/progress.h"
#include "mount/quorum.h"
#include "mount/req.h"
#include "mount/retain.h"
#include "mount/session.h"
#include "mount/snapshot.h"
#include "mount/wbuf.h"
#include "util/log.h"

#define STOP_GRACE_S 5

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_node *n = arg;
	struct timeval tv = {1, 0};
	(void)fd;
	(void)what;
	if (n->waiting)
		mount_req_recheck(n);
	mount_names_prune(n);
	if ((n->waiting || n->names.len) && !evtimer_pending(n->retry_ev, NULL))
		evtimer_add(n->retry_ev, &tv);
}

static void notify_wake(void *arg)
{
	struct mount_node *n = arg;
	event_active(n->notify_ev, 0, 0); /* thread-safe: evthread_use_pthreads */
}

static void notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_node *n = arg;
	(void)fd;
	(void)what;
	if (n->waiting)
		mount_req_recheck(n);
	mount_wbuf_notified(n);
}

static void writable_cb(void *arg, uint32_t peer)
{
	mount_snapshot_writable(arg, peer);
}

static void finish_stop(struct mount_node *n)
{
	mount_req_fail_all(n, -EIO);
	mount_wbuf_fail_all(n, -EIO);
	event_base_loopbreak(n->base);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_node *n = arg;
	(void)fd;
	(void)what;
	/* Either everything in flight was answered, or the grace time is over. */
	finish_stop(n);
}

static void begin_stop(struct mount_node *n, const char *why)
{
	struct timeval grace = {STOP_GRACE_S, 0};
	if (n->stopping)
		return;
	LOG_INFO("stopping (%s)", why);
	n->stopping = true;
	mount_session_pause(n->session);
	mount_wbuf_stop(n);           /* buffered writes go out within the grace time */
	mount_lock_fail_all(n, -EIO); /* blocked lock requests would wait forever */
	if (n->pending == 0) {
		finish_stop(n);
		return;
	}
	evtimer_add(n->stop_ev, &grace);
}

void mount_node_fail(struct mount_node *n, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	LOG_ERR("%s", why);
	n->exit_code = 1;
	n->stopping = true;
	/* No engine: nothing more is stepped, sent or applied. */
	node_stop(n->core);
	mount_session_pause(n->session);
	finish_stop(n);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	begin_stop(arg, strsignal((int)sig));
}

static void session_exit_cb(void *arg)
{
	begin_stop(arg, "unmounted");
}

/* The boot count of a new store: from the wall clock, so that it differs
 * from a recent life's. (Ids no longer derive from it: they have their own
 * base, node_id_base_next.) The real clock, not the test offset of
 * mount_wall_ns. */
static uint64_t first_boot_count(void)
{
	struct timespec ts;
	uint64_t ms;
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	return (ms / 64) & 0xffffff;
}

static int open_data_dir(struct mount_node *n, char *err, size_t errlen)
{
	/* recover: a damaged store is set aside and the node starts amnesic,
	 * as with a wiped disk (store.h), instead of refusing to start. */
	struct store_options opt = {.create = true, .recover = true};
	struct store_node node;
	char msg[512];
	int rc;

	rc = store_open(n->data_dir, &opt, &n->store, msg, sizeof(msg));
	if (rc < 0) {
		snprintf(err, errlen, "data dir %s: %s", n->data_dir, msg);
		return rc;
	}
	rc = store_get_node(n->store, &node);
	if (rc == -ENOENT) {
		/* A new store: it may be a wiped node, so it does not vote until it
		 * has re-learned from the others (docs/decisions.md, amnesia). */
		memset(&node, 0, sizeof(node));
		snprintf(node.cluster, sizeof(node.cluster), "%s", n->conf->cluster);
		node.node_id = n->self;
		node.amnesia = true;
		node.boot_count = first_boot_count();
		node.id_base = node_id_base_new(mount_real_wall_ms());
		rc = store_put_node(n->store, &node);
	} else if (rc == 0 && (strcmp(node.cluster, n->conf->cluster) || node.node_id != n->self)) {
		snprintf(err, errlen,
			 "data dir %s belongs to node %u of cluster '%s', not node %u of '%s'",
			 n->data_dir, node.node_id, node.cluster, n->self, n->conf->cluster);
		return -EINVAL;
	}
	if (rc < 0) {
		snprintf(err, errlen, "data dir %s: reading the node record: %s", n->data_dir,
			 strerror(-rc));
		return rc;
	}
	rc = fs_open(n->store, NULL, &n->fs);
	if (rc < 0) {
		snprintf(err, errlen, "data dir %s: opening the file system state: %s", n->data_dir,
			 strerror(-rc));
		return rc;
	}
	return 0;
}

static int open_mesh(struct mount_node *n, char *err, size_t errlen)
{
	static struct net_config cfg; /* large: not on the stack */
	struct net_callbacks cb = {
	    .recv_cb = mount_peer_recv_cb,
	    .peer_cb = mount_peer_up_cb,
	    .writable_cb = writable_cb,
	};
	char msg[512];
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.cluster = n->conf->cluster;
	cfg.secret = n->conf->secret;
	cfg.secret_len = n->conf->secret_len;
	if (n->conf->client_secret_len) {
		cfg.client_secret = n->conf->client_secret;
		cfg.client_secret_len = n->conf->client_secret_len;
	}
	if (n->conf->next_secret_len) {
		cfg.next_secret = n->conf->next_secret;
		cfg.next_secret_len = n->conf->next_secret_len;
	}
	if (n->conf->tls_key_len) {
		/* certificate mode (util/conf.h): then there is no secret */
		cfg.secret = NULL;
		cfg.tls_ca = n->conf->tls_ca;
		cfg.tls_cert = n->conf->tls_cert;
		cfg.tls_key = n->conf->tls_key_pem;
		cfg.tls_key_len = n->conf->tls_key_len;
	}
	cfg.self = n->self;
	for (size_t i = 0; i < n->conf->n_nodes; i++) {
		const struct util_conf_node *c = &n->conf->nodes[i];
		if (strlen(c->host) >= sizeof(cfg.nodes[0].host)) {
			snprintf(err, errlen, "%s: node %u: host name too long", n->conf->path,
				 c->id);
			return -EINVAL;
		}
		cfg.nodes[i].id = c->id;
		snprintf(cfg.nodes[i].host, sizeof(cfg.nodes[i].host), "%s", c->host);
		cfg.nodes[i].port = c->port;
	}
	cfg.n_nodes = n->conf->n_nodes;
	rc = net_mesh_new(n->base, &cfg, &cb, n, &n->mesh, msg, sizeof(msg));
	if (rc < 0)
		snprintf(err, errlen, "peer mesh: %s", msg);
	return rc;
}

/* The mount point exists, is a directory, and is empty (its files would be
 * hidden while paxfs is mounted) unless -o nonempty. */
static int check_mountpoint(const struct mount_args *a, char *err, size_t errlen)
{
	struct stat st;
	struct dirent *de;
	DIR *d;

	if (stat(a->mountpoint, &st) < 0) {
		int rc = -errno;
		if (rc == -ENOTCONN)
			snprintf(
			    err, errlen,
			    "mount point %s: a dead FUSE mount is still there (fusermount3 -u %s)",
			    a->mountpoint, a->mountpoint);
		else
			snprintf(err, errlen, "mount point %s: %s%s", a->mountpoint, strerror(-rc),
				 rc == -ENOENT ? " (create it with mkdir)" : "");
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "mount point %s is not a directory", a->mountpoint);
		return -ENOTDIR;
	}
	if (a->nonempty || !(d = opendir(a->mountpoint)))
		return 0; /* an unreadable one: the mount itself will say */
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			break;
	closedir(d);
	if (de) {
		snprintf(err, errlen,
			 "mount point %s is not empty: its files would be hidden while paxfs is "
			 "mounted (empty it, or add -o nonempty)",
			 a->mountpoint);
		return -ENOTEMPTY;
	}
	return 0;
}

int mount_node_open(struct mount_node *n, const struct mount_args *a, const struct util_conf *conf,
		    char *err, size_t errlen)
{
	static const int sigs[3] = {SIGTERM, SIGINT, SIGHUP};
	char msg[512];
	int rc;

	memset(n, 0, sizeof(*n));
	fs_apply_out_init(&n->apply_out);
	n->args = a;
	n->conf = conf;
	n->self = a->node;
	n->exit_code = 0;
	n->started_ms = mount_now_ms();
	n->started_wall_ns = mount_wall_ns();
	util_u64map_init(&n->opens);
	util_u64map_init(&n->names);
	util_u64map_init(&n->data_stale);
	util_u64map_init(&n->retain);
	if (!util_conf_node(conf, n->self)) {
		snprintf(err, errlen, "node %u is not in %s", n->self, conf->path);
		return -EINVAL;
	}
	if (a->data)
		snprintf(n->data_dir, sizeof(n->data_dir), "%s", a->data);
	else
		snprintf(n->data_dir, sizeof(n->data_dir), "/var/lib/paxfs/%s/node-%u",
			 conf->cluster, n->self);

	if (evthread_use_pthreads() < 0 || !(n->base = event_base_new()) ||
	    event_base_priority_init(n->base, 3) < 0) {
		snprintf(err, errlen, "cannot set up the event loop");
		return -ENOMEM;
	}
	rc = open_data_dir(n, err, errlen);
	if (rc < 0)
		return rc;
	rc = mount_compact_start(n->store, n->data_dir, &n->compact);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start the compaction thread: %s", strerror(-rc));
		return rc;
	}
	rc = mount_turn_init(n);
	if (rc < 0 || !(n->retry_ev = evtimer_new(n->base, retry_cb, n)) ||
	    !(n->notify_ev = event_new(n->base, -1, 0, notify_cb, n)) ||
	    !(n->stop_ev = evtimer_new(n->base, stop_cb, n)) || mount_snapshots_new(n) < 0 ||
	    mount_wbuf_new(n) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* before the mesh: a node that will not start does not dial its peers */
	rc = mount_metrics_start(n, err, errlen);
	if (rc < 0)
		return rc;
	rc = open_mesh(n, err, errlen);
	if (rc < 0)
		return rc;
	if (a->test_faults && mount_faults_start(n, a->test_faults) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = node_start(n->core, msg, sizeof(msg));
	if (rc < 0) {
		snprintf(err, errlen, "Paxos engine: %s", msg);
		return rc;
	}
	if (mount_progress_start(n) < 0 || mount_quorum_start(n) < 0 ||
	    mount_loopwatch_start(n) < 0 || mount_lease_start(n) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = check_mountpoint(a, err, errlen);
	if (rc < 0)
		return rc;
	rc = mount_session_open(n->base, (struct fuse_args *)&a->fuse, mount_metrics_ops(n), n,
				a->mountpoint, session_exit_cb, n, &n->session, err, errlen);
	if (rc < 0)
		return rc;
	rc = mount_notify_start(mount_session_fuse(n->session), notify_wake, n, &n->notify);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start the notify thread: %s", strerror(-rc));
		return rc;
	}
	for (int i = 0; i < 3; i++) {
		n->sig_ev[i] = evsignal_new(n->base, sigs[i], signal_cb, n);
		if (!n->sig_ev[i] || evsignal_add(n->sig_ev[i], NULL) < 0) {
			snprintf(err, errlen, "cannot watch signals");
			return -ENOMEM;
		}
	}
	LOG_INFO("node %u of cluster '%s' mounted on %s (data %s)", n->self, conf->cluster,
		 a->mountpoint, n->data_dir);
	return 0;
}

int mount_node_run(struct mount_node *n)
{
	/* Stopped while opening (mount_node_fail): a loopbreak before the loop
	 * runs is forgotten by libevent. */
	if (!n->stopping)
		event_base_dispatch(n->base);
	return n->exit_code;
}

void mount_node_close(struct mount_node *n)
{
	struct store_batch *b;

	/* Unmount first: nothing new may arrive while the rest closes. */
	mount_notify_free(n->notify);
	n->notify = NULL;
	mount_session_free(n->session);
	n->session = NULL;
	for (int i = 0; i < 3; i++)
		if (n->sig_ev[i])
			event_free(n->sig_ev[i]);
	mount_progress_stop(n);
	mount_quorum_stop(n);
	mount_lease_stop(n);
	mount_loopwatch_stop(n);
	mount_metrics_stop(n);
	mount_faults_stop(n);
	net_mesh_free(n->mesh);
	n->mesh = NULL;
	mount_snapshots_free(n);
	mount_wbuf_free(n);
	if (n->base)
		LOG_INFO("applied %llu entries (%llu bytes of values) since start",
			 (unsigned long long)n->applied_entries,
			 (unsigned long long)n->applied_bytes);
	mount_turn_close(n);            /* the core, and its engine */
	mount_compact_free(n->compact); /* before the store it uses */
	n->compact = NULL;
	if (n->store && (b = store_batch_new())) {
		/* everything written unsynced (applies, the last turn) becomes durable */
		if (store_write(n->store, b, true) < 0)
			LOG_WARN(
			    "final sync of the store failed: a restart re-applies from the log");
		store_batch_free(b);
	}
	fs_free(n->fs);
	fs_apply_out_close(&n->apply_out);
	store_free(n->store);
	n->fs = NULL;
	n->store = NULL;
	if (n->retry_ev)
		event_free(n->retry_ev);
	if (n->notify_ev)
		event_free(n->notify_ev);
	if (n->stop_ev)
		event_free(n->stop_ev);
	util_u64map_close(&n->opens);
	util_u64map_close(&n->data_stale);
	mount_retain_close(n);
	mount_names_close(n);
	if (n->base)
		event_base_free(n->base);
	n->base = NULL;
}
