/* mount/loopwatch.c — the event loop's watch (mount/loopwatch.h). */
#include "mount/loopwatch.h"

#include <errno.h>
#include <stdlib.h>

#include "mount/node.h"
#include "util/log.h"

struct mount_loopwatch {
	struct event *ev;
	uint64_t last_ms; /* when the timer last fired */
	uint64_t blocks;
	uint64_t longest_ms;
};

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_node *n = arg;
	struct mount_loopwatch *w = n->loopwatch;
	uint64_t now = mount_now_ms();
	uint64_t late =
	    now - w->last_ms > LOOPWATCH_INTERVAL_MS ? now - w->last_ms - LOOPWATCH_INTERVAL_MS : 0;
	(void)fd;
	(void)what;

	w->last_ms = now;
	if (late < LOOPWATCH_WARN_MS)
		return;
	w->blocks++;
	if (late > w->longest_ms)
		w->longest_ms = late;
	LOG_WARN("the event loop was blocked for %llu ms (operations and peers waited)",
		 (unsigned long long)late);
}

int mount_loopwatch_start(struct mount_node *n)
{
	struct timeval tv = {0, LOOPWATCH_INTERVAL_MS * 1000};
	n->loopwatch = calloc(1, sizeof(*n->loopwatch));
	if (!n->loopwatch || !(n->loopwatch->ev = event_new(n->base, -1, EV_PERSIST, tick_cb, n)))
		return -ENOMEM;
	n->loopwatch->last_ms = mount_now_ms();
	event_add(n->loopwatch->ev, &tv);
	return 0;
}

void mount_loopwatch_stop(struct mount_node *n)
{
	if (!n->loopwatch)
		return;
	if (n->loopwatch->ev)
		event_free(n->loopwatch->ev);
	free(n->loopwatch);
	n->loopwatch = NULL;
}

void mount_loopwatch_get(const struct mount_node *n, uint64_t *blocks, uint64_t *longest_ms)
{
	*blocks = n->loopwatch ? n->loopwatch->blocks : 0;
	*longest_ms = n->loopwatch ? n->loopwatch->longest_ms : 0;
}
