/* mount/progress.c — the catch-up progress lines (mount/progress.h).
 *
 * Reads the engine's counters (paxos_get_stats) and the applier's
 * (n->applied_entries, n->applied_bytes, the core's deferred applies) on a timer; it
 * changes nothing. A round begins at start and whenever the engine gets busy
 * catching up again, and ends with the "finished" line. */
#include "mount/progress.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "mount/lock.h"
#include "mount/node.h"
#include "util/log.h"

struct mount_progress {
	struct event *ev;
	bool busy;        /* a round is under way */
	bool start_round; /* the round that began with the start */
	uint64_t round_start_ms;
	uint64_t round_done; /* engine's catchup_done at the start of the round */
	uint64_t round_entries, round_bytes, round_states, round_sbytes;
	uint64_t last_ms, last_entries, last_bytes, last_states, last_sbytes;
};

static void human(char *buf, size_t len, uint64_t bytes)
{
	if (bytes >= (1ull << 30))
		snprintf(buf, len, "%.1f GiB", bytes / (double)(1ull << 30));
	else
		snprintf(buf, len, "%.1f MiB", bytes / (double)(1ull << 20));
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_node *n = arg;
	struct mount_progress *p = n->progress;
	struct paxos_stats st = {0};
	uint64_t now = mount_now_ms();
	bool busy;
	char b[32], sb[32];
	(void)fd;
	(void)what;

	if (node_engine(n->core))
		paxos_get_stats(node_engine(n->core), &st);
	busy = !node_engine(n->core) || st.scans_open || st.catchup_queued || st.catchup_active ||
	       node_deferred(n->core);
	if (busy && !p->busy) {
		p->busy = true;
		p->round_start_ms = now;
		p->round_done = st.catchup_done;
		p->round_entries = n->applied_entries;
		p->round_bytes = n->applied_bytes;
		p->round_states = n->installed_states;
		p->round_sbytes = n->installed_bytes;
	} else if (busy) {
		human(b, sizeof(b), n->applied_bytes - p->last_bytes);
		human(sb, sizeof(sb), n->installed_bytes - p->last_sbytes);
		LOG_INFO(
		    "catch-up: %zu entities queued, %zu being fetched, %llu caught up, "
		    "%zu peer listings open, %zu entities waiting to apply; in the last %.1f s "
		    "applied %llu entries (%s), installed %llu file states (%s)",
		    st.catchup_queued, st.catchup_active,
		    (unsigned long long)(st.catchup_done - p->round_done), st.scans_open,
		    node_deferred(n->core), (now - p->last_ms) / 1000.0,
		    (unsigned long long)(n->applied_entries - p->last_entries), b,
		    (unsigned long long)(n->installed_states - p->last_states), sb);
	} else if (p->busy) {
		p->busy = false;
		/* The engine lists its peers' entities now and then: a round that
		 * found nothing to do is not news (but the start's round always is). */
		if (!p->start_round && st.catchup_done == p->round_done &&
		    n->installed_states == p->round_states)
			goto done;
		if (p->start_round)
			mount_lock_sweep_stale(n); /* caught up: our earlier lives' locks go */
		p->start_round = false;
		human(b, sizeof(b), n->applied_bytes - p->round_bytes);
		human(sb, sizeof(sb), n->installed_bytes - p->round_sbytes);
		LOG_INFO("catch-up finished: %llu entities caught up, %llu entries (%s) applied, "
			 "%llu file states (%s) installed in %.1f s",
			 (unsigned long long)(st.catchup_done - p->round_done),
			 (unsigned long long)(n->applied_entries - p->round_entries), b,
			 (unsigned long long)(n->installed_states - p->round_states), sb,
			 (now - p->round_start_ms) / 1000.0);
	}
done:
	p->last_ms = now;
	p->last_entries = n->applied_entries;
	p->last_bytes = n->applied_bytes;
	p->last_states = n->installed_states;
	p->last_sbytes = n->installed_bytes;
}

int mount_progress_start(struct mount_node *n)
{
	struct timeval tv = {PROGRESS_INTERVAL_MS / 1000, (PROGRESS_INTERVAL_MS % 1000) * 1000};
	struct mount_progress *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	n->progress = p;
	p->ev = event_new(n->base, -1, EV_PERSIST, tick_cb, n);
	if (!p->ev)
		return -ENOMEM;
	/* a start is a round of its own: the engine lists every peer's entities */
	p->busy = true;
	p->start_round = true;
	p->round_start_ms = p->last_ms = mount_now_ms();
	event_add(p->ev, &tv);
	return 0;
}

bool mount_progress_round(const struct mount_node *n, uint64_t catchup_done, uint64_t *elapsed_ms,
			  uint64_t *caught_up)
{
	const struct mount_progress *p = n->progress;

	*elapsed_ms = *caught_up = 0;
	if (!p || !p->busy)
		return false;
	*elapsed_ms = mount_now_ms() - p->round_start_ms;
	*caught_up = catchup_done - p->round_done;
	return true;
}

void mount_progress_stop(struct mount_node *n)
{
	struct mount_progress *p = n->progress;
	if (!p)
		return;
	if (p->ev)
		event_free(p->ev);
	free(p);
	n->progress = NULL;
}
