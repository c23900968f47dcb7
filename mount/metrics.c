/* mount/metrics.c — the node's HTTP metrics endpoint (mount/metrics.h).
 *
 * Timing a FUSE request: an answer may come from the op itself or much
 * later, from any of the places that keep a fuse_req_t (mount/req.c,
 * wbuf.c, lock.c), so the start is kept beside the request, not in it:
 *
 *   session ──req──▶ timed_<op> ──▶ mount_ops.<op> ──▶ ... mount_reply_*
 *                     │ inflight[req] = {op, t0}              │
 *                     └───────────────────────────────────────┴─▶ del inflight[req],
 *                                                                 observe(now - t0)
 *
 * libfuse frees a request when it is answered and may hand the same address
 * to a later one; a later op then replaces a record whose answer was never
 * seen, so the table stays as large as the requests in flight. */
#include "mount/metrics.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mount/hist.h"
#include "mount/node.h"
#include "mount/status.h"
#include "tools/prom.h"
#include "util/clock.h"
#include "util/log.h"

#define HTTP_TIMEOUT_S 10 /* a client that sends nothing is dropped */

/* The ops that answer, with their parameters: one timed wrapper each. */
#define TIMED_OPS(X)                                                                               \
	X(lookup, (fuse_req_t req, fuse_ino_t p, const char *name), (req, p, name))                \
	X(getattr, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info * fi), (req, ino, fi))   \
	X(setattr,                                                                                 \
	  (fuse_req_t req, fuse_ino_t ino, struct stat * a, int to_set,                            \
	   struct fuse_file_info *fi),                                                             \
	  (req, ino, a, to_set, fi))                                                               \
	X(readlink, (fuse_req_t req, fuse_ino_t ino), (req, ino))                                  \
	X(mknod, (fuse_req_t req, fuse_ino_t p, const char *name, mode_t mode, dev_t rdev),        \
	  (req, p, name, mode, rdev))                                                              \
	X(mkdir, (fuse_req_t req, fuse_ino_t p, const char *name, mode_t mode),                    \
	  (req, p, name, mode))                                                                    \
	X(unlink, (fuse_req_t req, fuse_ino_t p, const char *name), (req, p, name))                \
	X(rmdir, (fuse_req_t req, fuse_ino_t p, const char *name), (req, p, name))                 \
	X(symlink, (fuse_req_t req, const char *link, fuse_ino_t p, const char *name),             \
	  (req, link, p, name))                                                                    \
	X(rename,                                                                                  \
	  (fuse_req_t req, fuse_ino_t p, const char *name, fuse_ino_t np, const char *nname,       \
	   unsigned int flags),                                                                    \
	  (req, p, name, np, nname, flags))                                                        \
	X(link, (fuse_req_t req, fuse_ino_t ino, fuse_ino_t np, const char *nname),                \
	  (req, ino, np, nname))                                                                   \
	X(open, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info * fi), (req, ino, fi))      \
	X(read,                                                                                    \
	  (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info * fi),    \
	  (req, ino, size, off, fi))                                                               \
	X(write,                                                                                   \
	  (fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,                \
	   struct fuse_file_info *fi),                                                             \
	  (req, ino, buf, size, off, fi))                                                          \
	X(flush, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info * fi), (req, ino, fi))     \
	X(release, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info * fi), (req, ino, fi))   \
	X(fsync, (fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi),        \
	  (req, ino, datasync, fi))                                                                \
	X(opendir, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info * fi), (req, ino, fi))   \
	X(readdir,                                                                                 \
	  (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info * fi),    \
	  (req, ino, size, off, fi))                                                               \
	X(readdirplus,                                                                             \
	  (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info * fi),    \
	  (req, ino, size, off, fi))                                                               \
	X(releasedir, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info * fi),                \
	  (req, ino, fi))                                                                          \
	X(fsyncdir, (fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi),     \
	  (req, ino, datasync, fi))                                                                \
	X(statfs, (fuse_req_t req, fuse_ino_t ino), (req, ino))                                    \
	X(setxattr,                                                                                \
	  (fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,       \
	   int flags),                                                                             \
	  (req, ino, name, value, size, flags))                                                    \
	X(getxattr, (fuse_req_t req, fuse_ino_t ino, const char *name, size_t size),               \
	  (req, ino, name, size))                                                                  \
	X(listxattr, (fuse_req_t req, fuse_ino_t ino, size_t size), (req, ino, size))              \
	X(removexattr, (fuse_req_t req, fuse_ino_t ino, const char *name), (req, ino, name))       \
	X(create,                                                                                  \
	  (fuse_req_t req, fuse_ino_t p, const char *name, mode_t mode,                            \
	   struct fuse_file_info *fi),                                                             \
	  (req, p, name, mode, fi))                                                                \
	X(fallocate,                                                                               \
	  (fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,                         \
	   struct fuse_file_info *fi),                                                             \
	  (req, ino, mode, off, len, fi))                                                          \
	X(getlk, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info * fi, struct flock * lk),  \
	  (req, ino, fi, lk))                                                                      \
	X(setlk,                                                                                   \
	  (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info * fi, struct flock * lk,          \
	   int sleep),                                                                             \
	  (req, ino, fi, lk, sleep))                                                               \
	X(flock, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info * fi, int op),             \
	  (req, ino, fi, op))

enum timed_op {
#define AS_ENUM(name, params, args) OP_##name,
	TIMED_OPS(AS_ENUM)
#undef AS_ENUM
	    OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
#define AS_NAME(name, params, args) #name,
    TIMED_OPS(AS_NAME)
#undef AS_NAME
};

/* What the inflight table holds per request, without an allocation on the
 * request path: the start (ns of CLOCK_MONOTONIC, below 2^58: 9 years of
 * uptime) and the op in the low 6 bits; never 0 (the table's "absent"). */
_Static_assert(OP_COUNT <= 64, "an op fits 6 bits");
#define INFLIGHT(op, t0_ns) ((void *)(uintptr_t)((t0_ns) << 6 | (uint64_t)(op)))
#define INFLIGHT_OP(v)      ((enum timed_op)((uintptr_t)(v)&63))
#define INFLIGHT_T0(v)      ((uint64_t)(uintptr_t)(v) >> 6)

struct mount_metrics {
	struct mount_node *n;
	struct evhttp *http;
	struct fuse_lowlevel_ops ops; /* mount_ops, each answering op timed */
	struct util_u64map inflight;  /* fuse_req_t → INFLIGHT(op, start) */
	struct mount_hist fuse[OP_COUNT];
	uint64_t errors[OP_COUNT];
};

/* A request arrives. A record left at its address by an earlier request
 * whose answer went unseen is replaced; without memory it goes untimed. */
static void begin(fuse_req_t req, enum timed_op op)
{
	struct mount_node *n = fuse_req_userdata(req);

	if (n->metrics)
		(void)util_u64map_put(&n->metrics->inflight, (uint64_t)(uintptr_t)req,
				      INFLIGHT(op, util_now_ns()));
}

#define AS_WRAPPER(name, params, args)                                                             \
	static void timed_##name params                                                            \
	{                                                                                          \
		begin(req, OP_##name);                                                             \
		mount_ops.name args;                                                               \
	}
TIMED_OPS(AS_WRAPPER)
#undef AS_WRAPPER

void mount_metrics_answered(fuse_req_t req, int err)
{
	struct mount_node *n;
	struct mount_metrics *m;
	void *v;

	if (!req || !(n = fuse_req_userdata(req)) || !(m = n->metrics))
		return;
	v = util_u64map_del(&m->inflight, (uint64_t)(uintptr_t)req);
	if (!v)
		return;
	mount_hist_observe(&m->fuse[INFLIGHT_OP(v)], util_now_ns() - INFLIGHT_T0(v));
	if (err)
		m->errors[INFLIGHT_OP(v)]++;
}

const struct fuse_lowlevel_ops *mount_metrics_ops(struct mount_node *n)
{
	return n->metrics ? &n->metrics->ops : &mount_ops;
}

/* ---- the scrape ------------------------------------------------------------ */

static void write_fuse(FILE *out, struct mount_metrics *m, const char *cluster, uint32_t self)
{
	uint64_t counts[OP_COUNT][MOUNT_HIST_BOUNDS + 1];
	uint64_t total[OP_COUNT];
	double sums[OP_COUNT];

	/* one reading of each histogram for all three families */
	for (size_t i = 0; i < OP_COUNT; i++) {
		mount_hist_read(&m->fuse[i], counts[i], &sums[i]);
		total[i] = 0;
		for (size_t b = 0; b <= MOUNT_HIST_BOUNDS; b++)
			total[i] += counts[i][b];
	}
	prom_head(out, "paxfs_fuse_requests_total", "counter",
		  "FUSE requests answered, by operation.");
	for (size_t i = 0; i < OP_COUNT; i++) {
		fputs("paxfs_fuse_requests_total", out);
		prom_labels(out, cluster, self);
		fprintf(out, ",op=\"%s\"} %llu\n", op_names[i], (unsigned long long)total[i]);
	}
	prom_head(out, "paxfs_fuse_request_errors_total", "counter",
		  "FUSE requests answered with an error, by operation.");
	for (size_t i = 0; i < OP_COUNT; i++) {
		fputs("paxfs_fuse_request_errors_total", out);
		prom_labels(out, cluster, self);
		fprintf(out, ",op=\"%s\"} %llu\n", op_names[i], (unsigned long long)m->errors[i]);
	}
	prom_head(out, "paxfs_fuse_request_seconds", "histogram",
		  "Time from a FUSE request's arrival to its answer, by operation.");
	for (size_t i = 0; i < OP_COUNT; i++)
		prom_histogram(out, "paxfs_fuse_request_seconds", cluster, self, "op", op_names[i],
			       mount_hist_le, MOUNT_HIST_BOUNDS, counts[i], sums[i]);
}

static int write_metrics(FILE *out, struct mount_metrics *m)
{
	struct mount_node *n = m->n;
	const struct mount_hist *sync = mount_turn_sync_latency(n);
	struct mount_status s;
	struct prom_node self;

	if (mount_status_fill(n, &s) < 0)
		return -ENOMEM;
	self.id = n->self;
	self.reply = &s.r;
	prom_up(out, n->conf->cluster, &self, 1, "1: the node answered this scrape.");
	prom_status(out, n->conf->cluster, &self, 1);
	mount_status_close(&s);
	write_fuse(out, m, n->conf->cluster, n->self);
	prom_head(out, "paxfs_fsync_seconds", "histogram",
		  "Time each sync of the store (the Paxos log's fsync) took.");
	if (sync) {
		uint64_t counts[MOUNT_HIST_BOUNDS + 1];
		double sum;
		mount_hist_read(sync, counts, &sum);
		prom_histogram(out, "paxfs_fsync_seconds", n->conf->cluster, n->self, NULL, NULL,
			       mount_hist_le, MOUNT_HIST_BOUNDS, counts, sum);
	}
	return 0;
}

static void free_text_cb(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

static void request_cb(struct evhttp_request *req, void *arg)
{
	struct mount_metrics *m = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct evbuffer *body;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	if (!path || strcmp(path, "/metrics")) {
		evhttp_send_error(req, HTTP_NOTFOUND, "Not Found (try /metrics)");
		return;
	}
	out = open_memstream(&text, &len);
	if (!out || write_metrics(out, m) < 0 || fclose(out) != 0) {
		if (out)
			fclose(out);
		free(text);
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	body = evhttp_request_get_output_buffer(req);
	if (evbuffer_add_reference(body, text, len, free_text_cb, NULL) < 0) {
		free(text);
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4");
	evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

/* ---- life ------------------------------------------------------------------ */

static void install_timed_ops(struct fuse_lowlevel_ops *ops)
{
	*ops = mount_ops;
#define AS_INSTALL(name, params, args)                                                             \
	if (ops->name)                                                                             \
		ops->name = timed_##name;
	TIMED_OPS(AS_INSTALL)
#undef AS_INSTALL
}

int mount_metrics_start(struct mount_node *n, char *err, size_t errlen)
{
	const struct util_conf_metrics *c = util_conf_metrics(n->conf, n->self);
	struct mount_metrics *m;
	int rc;

	n->metrics = NULL;
	if (!c)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m || !(m->http = evhttp_new(n->base))) {
		free(m);
		snprintf(err, errlen, "metrics: out of memory");
		return -ENOMEM;
	}
	m->n = n;
	util_u64map_init(&m->inflight);
	install_timed_ops(&m->ops);
	n->metrics = m;
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(m->http, HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(m->http, 16384);
	evhttp_set_max_body_size(m->http, 0);
	evhttp_set_gencb(m->http, request_cb, m);
	errno = 0;
	if (!evhttp_bind_socket_with_handle(m->http, c->host, c->port)) {
		rc = errno ? -errno : -EADDRNOTAVAIL;
		snprintf(err, errlen, "%s:%u: metrics.%u = %s:%u: cannot listen there: %s",
			 n->conf->path, c->line, c->id, c->host, c->port, strerror(-rc));
		return rc;
	}
	LOG_INFO("metrics at http://%s%s%s:%u/metrics", strchr(c->host, ':') ? "[" : "", c->host,
		 strchr(c->host, ':') ? "]" : "", c->port);
	return 0;
}

void mount_metrics_stop(struct mount_node *n)
{
	struct mount_metrics *m = n->metrics;

	if (!m)
		return;
	n->metrics = NULL;
	if (m->http)
		evhttp_free(m->http); /* closes the listener and every connection */
	util_u64map_close(&m->inflight);
	free(m);
}
