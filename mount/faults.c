/* mount/faults.c — the test_faults file: parsed, polled, and applied through
 * net/'s test filter (net_set_filter) and the wall-clock offset.
 *
 * One watcher per process (a daemon is one node). The rules are swapped in
 * whole only after a file parsed completely, so a half-written file never
 * takes effect (the harness writes a new file and renames it anyway). */
#include "mount/faults.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mount/node.h"
#include "util/log.h"
#include "util/prng.h"

struct mount_faults {
	struct mount_node *node;
	char *path;
	struct event *poll_ev;
	struct stat seen; /* what the file was when last read (st_ino 0: missing) */
	struct mount_faults_rules rules;
	struct util_prng prng;
};

static struct mount_faults *watcher;
static int64_t wall_offset_ns;

int64_t mount_faults_wall_offset_ns(void)
{
	return wall_offset_ns;
}

/* A peer field: a node id 1..255 or '*'. Sets [*lo, *hi]. */
static int parse_peer(const char *s, unsigned *lo, unsigned *hi)
{
	char *end;
	unsigned long v;
	if (!strcmp(s, "*")) {
		*lo = 1;
		*hi = 255;
		return 0;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v < 1 || v > 255)
		return -EINVAL;
	*lo = *hi = (unsigned)v;
	return 0;
}

static int parse_num(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;
	if (!s)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int mount_faults_parse(const char *text, struct mount_faults_rules *out, char *err, size_t errlen)
{
	char *copy = strdup(text), *save = NULL, *line;
	int lineno = 0, rc = 0;

	if (!copy)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *w[5] = {0}, *sv = NULL, *t;
		int nw = 0;
		unsigned lo = 0, hi = 0;
		long long a = 0, b = 0;

		lineno++;
		if ((t = strchr(line, '#')))
			*t = '\0';
		for (t = strtok_r(line, " \t\r", &sv); t && nw < 5;
		     t = strtok_r(NULL, " \t\r", &sv))
			w[nw++] = t;
		if (!nw)
			continue;
		if (!strcmp(w[0], "clock_offset_ms") && nw == 2) {
			/* a century either way is jump enough */
			if (parse_num(w[1], -3155760000000LL, 3155760000000LL, &a) < 0)
				goto bad;
			out->clock_offset_ms = a;
			continue;
		}
		if (!strcmp(w[0], "block_loop_ms") && nw == 2) {
			if (parse_num(w[1], 0, 600000, &a) < 0)
				goto bad;
			out->block_loop_ms = (uint32_t)a;
			continue;
		}
		if (nw < 2 || parse_peer(w[1], &lo, &hi) < 0)
			goto bad;
		if (!strcmp(w[0], "delay") && (nw == 3 || nw == 4)) {
			if (parse_num(w[2], 0, 600000, &a) < 0 ||
			    (nw == 4 && parse_num(w[3], 0, 600000, &b) < 0))
				goto bad;
			for (unsigned p = lo; p <= hi; p++) {
				out->delay_ms[p] = (uint32_t)a;
				out->jitter_ms[p] = (uint32_t)b;
			}
		} else if (!strcmp(w[0], "loss") && nw == 3) {
			if (parse_num(w[2], 0, 100, &a) < 0)
				goto bad;
			for (unsigned p = lo; p <= hi; p++)
				out->loss_pct[p] = (uint8_t)a;
		} else if (!strcmp(w[0], "drop") && nw == 2) {
			for (unsigned p = lo; p <= hi; p++)
				out->loss_pct[p] = 100;
		} else {
			goto bad;
		}
		continue;
	bad:
		snprintf(err, errlen,
			 "%d: expected 'delay PEER MS [JITTER]', 'loss PEER PERCENT', 'drop PEER', "
			 "'clock_offset_ms N' or 'block_loop_ms N'",
			 lineno);
		rc = -EINVAL;
		break;
	}
	free(copy);
	return rc;
}

static enum net_filter_verdict filter_cb(void *arg, uint32_t from, uint32_t to,
					 const Paxfs__Envelope *env, unsigned *delay_ms)
{
	struct mount_faults *f = arg;
	uint32_t self = f->node->self;
	uint32_t peer = from == self ? to : from;
	(void)env;

	if (peer < 1 || peer > 255)
		return NET_FILTER_PASS; /* clients are never touched */
	if (f->rules.loss_pct[peer] && util_prng_below(&f->prng, 100) < f->rules.loss_pct[peer])
		return NET_FILTER_DROP;
	if (from != self && f->rules.delay_ms[peer]) {
		*delay_ms = f->rules.delay_ms[peer];
		if (f->rules.jitter_ms[peer])
			*delay_ms +=
			    (unsigned)util_prng_below(&f->prng, f->rules.jitter_ms[peer] + 1);
		return NET_FILTER_DELAY;
	}
	return NET_FILTER_PASS;
}

/* Reads the file if it changed since last time; applies it if it parses. */
static void reload(struct mount_faults *f)
{
	struct stat st;
	struct mount_faults_rules r;
	char err[256], *text = NULL;
	size_t len = 0;
	FILE *fp;

	if (stat(f->path, &st) < 0)
		memset(&st, 0, sizeof(st)); /* missing: no faults */
	if (st.st_ino == f->seen.st_ino && st.st_size == f->seen.st_size &&
	    st.st_mtim.tv_sec == f->seen.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == f->seen.st_mtim.tv_nsec)
		return;
	f->seen = st;
	if (!st.st_ino) {
		memset(&r, 0, sizeof(r));
	} else {
		fp = fopen(f->path, "r");
		if (!fp) {
			LOG_WARN("test_faults %s: %s (rules unchanged)", f->path, strerror(errno));
			return;
		}
		text = calloc(1, (size_t)st.st_size + 1);
		len = text ? fread(text, 1, (size_t)st.st_size, fp) : 0;
		fclose(fp);
		if (!text)
			return;
		text[len] = '\0';
		if (mount_faults_parse(text, &r, err, sizeof(err)) < 0) {
			LOG_WARN("test_faults %s:%s (rules unchanged)", f->path, err);
			free(text);
			return;
		}
		free(text);
	}
	if (r.clock_offset_ms != f->rules.clock_offset_ms)
		LOG_INFO("test_faults: the wall clock is now %+lld ms off",
			 (long long)r.clock_offset_ms);
	f->rules = r;
	wall_offset_ns = r.clock_offset_ms * 1000000;
	if (r.block_loop_ms) {
		struct timespec ts = {r.block_loop_ms / 1000,
				      (long)(r.block_loop_ms % 1000) * 1000000};
		LOG_INFO("test_faults: blocking the event loop for %u ms", r.block_loop_ms);
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	reload(arg);
}

int mount_faults_start(struct mount_node *n, const char *path)
{
	struct mount_faults *f = calloc(1, sizeof(*f));
	struct timeval tv = {0, FAULTS_POLL_MS * 1000};

	if (!f || !(f->path = strdup(path))) {
		free(f);
		return -ENOMEM;
	}
	f->node = n;
	util_prng_seed(&f->prng, (uint64_t)mount_now_ms() ^ ((uint64_t)n->self << 56));
	f->poll_ev = event_new(n->base, -1, EV_PERSIST, poll_cb, f);
	if (!f->poll_ev) {
		free(f->path);
		free(f);
		return -ENOMEM;
	}
	event_add(f->poll_ev, &tv);
	watcher = f;
	reload(f);
	net_set_filter(n->mesh, filter_cb, f);
	LOG_WARN("test_faults %s: fault injection is on (a test option: never in production)",
		 path);
	return 0;
}

void mount_faults_stop(struct mount_node *n)
{
	struct mount_faults *f = watcher;
	if (!f)
		return;
	if (n->mesh)
		net_set_filter(n->mesh, NULL, NULL);
	event_free(f->poll_ev);
	free(f->path);
	free(f);
	watcher = NULL;
	wall_offset_ns = 0;
}
