/* mount/metrics.h — a node's metrics over HTTP: with `metrics.N = HOST:PORT`
 * in the config, node N answers GET http://HOST:PORT/metrics with
 * Prometheus text (format 0.0.4); any other path gets 404.
 *
 * It is libevent's evhttp on the node's own loop (no thread): a scrape is
 * answered between two callbacks, from the same StatusReply `paxfsctl
 * metrics` prints (mount/status.h, written by tools/prom.h), plus what only
 * the endpoint has:
 *
 *   paxfs_fuse_requests_total{op}        FUSE requests answered, per operation
 *   paxfs_fuse_request_errors_total{op}  ...of them answered with an error
 *   paxfs_fuse_request_seconds{op}       histogram: from the moment the op is
 *                                        called (the request was read from
 *                                        /dev/fuse) to its answer
 *                                        (mount/reply.h), waits for the
 *                                        cluster included
 *   paxfs_fsync_seconds                  histogram: each store_sync of the
 *                                        Paxos log (mount/syncer.h)
 *
 * Requests are timed only while metrics are configured: the session then
 * runs mount_metrics_ops, which records (request, op, start) for every op
 * that answers, and mount_metrics_answered ends the record. forget has no
 * answer and is not counted. */
#ifndef PAXFS_MOUNT_METRICS_H
#define PAXFS_MOUNT_METRICS_H

#include <fuse_lowlevel.h>
#include <stddef.h>

struct mount_node;
struct mount_metrics;

/* When n's node has a metrics address in n->conf: listens on it
 * (evhttp_bind_socket_with_handle on n->base) and sets n->metrics. Without
 * one, n->metrics stays NULL and nothing is measured. Returns 0, or -errno
 * with a message naming the config line in err (a port in use: the node
 * must not start without the metrics it was told to serve). */
int mount_metrics_start(struct mount_node *n, char *err, size_t errlen);

/* The ops the FUSE session runs: mount_ops, or with metrics, mount_ops with
 * every answered op timed. Valid for the node's life. */
const struct fuse_lowlevel_ops *mount_metrics_ops(struct mount_node *n);

/* `req` is about to be answered (err: its errno, 0 for success): counts it
 * and its time since its op was called. Any request; nothing without
 * metrics or for a request that was not timed. Loop thread only. */
void mount_metrics_answered(fuse_req_t req, int err);

/* Closes the listener and its connections, frees. Safe without metrics. */
void mount_metrics_stop(struct mount_node *n);

#endif
