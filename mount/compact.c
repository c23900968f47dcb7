/* mount/compact.c — the compaction thread (mount/compact.h).
 *
 *   loop thread ──note(bytes)──▶ pending, last_ms (atomics)
 *   compact thread: every second, compacts when pending ≥ threshold and
 *   the loop has been idle (or pending ≥ 4 × threshold)
 *
 * The threshold follows the store: its size after the last compaction, so
 * that what can pile up between two compactions is about the live data. */
#include "mount/compact.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "mount/node.h"
#include "store/store.h"
#include "util/log.h"

struct mount_compact {
	struct store *store;
	char *dir;
	bool room_warned; /* said once that there is no room */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
	_Atomic uint64_t pending; /* value bytes applied since the last compaction began */
	_Atomic uint64_t last_ms; /* when the loop last applied something */
	uint64_t threshold;
};

static double mib(uint64_t b)
{
	return b / (double)(1u << 20);
}

static void compact_now(struct mount_compact *c)
{
	uint64_t before = 0, after = 0, t0 = mount_now_ms();
	uint64_t pending = atomic_load(&c->pending);
	struct statvfs sv;
	int rc;

	store_approximate_bytes(c->store, &before);
	if (statvfs(c->dir, &sv) == 0 && (uint64_t)sv.f_bavail * sv.f_frsize < before) {
		if (!c->room_warned)
			LOG_WARN("not compacting the store (%.1f MiB): only %.1f MiB free in %s",
				 mib(before), mib((uint64_t)sv.f_bavail * sv.f_frsize), c->dir);
		c->room_warned = true;
		return; /* pending stays: tried again every second */
	}
	c->room_warned = false;
	rc = store_compact(c->store);
	atomic_fetch_sub(&c->pending, pending);
	if (rc < 0) {
		/* no open handle (the store is reopening): after as much again */
		LOG_WARN("compacting the store: %s (trying again later)", strerror(-rc));
		return;
	}
	store_approximate_bytes(c->store, &after);
	c->threshold = after > COMPACT_MIN_BYTES ? after : COMPACT_MIN_BYTES;
	/* No "before -> after": leveldb's estimate leaves out the logs and the
	 * memtable, so a store could seem to grow ("52.6 -> 80.8 MiB"). */
	LOG_INFO("compacted the store in %.1f s (%.1f MiB applied since the last time); its "
		 "tables hold about %.1f MiB",
		 (mount_now_ms() - t0) / 1000.0, mib(pending), mib(after));
}

static void *compact_main(void *arg)
{
	struct mount_compact *c = arg;
	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&c->cond, &c->lock, &until);
		if (c->stopping)
			break;
		uint64_t pending = atomic_load(&c->pending);
		bool idle = mount_now_ms() - atomic_load(&c->last_ms) >= COMPACT_IDLE_MS;
		if (pending < c->threshold || (!idle && pending < 4 * c->threshold))
			continue;
		pthread_mutex_unlock(&c->lock);
		compact_now(c);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int mount_compact_start(struct store *s, const char *dir, struct mount_compact **out)
{
	struct mount_compact *c = calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (!c || !(c->dir = strdup(dir))) {
		free(c);
		return -ENOMEM;
	}
	c->store = s;
	c->threshold = COMPACT_MIN_BYTES;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	rc = pthread_create(&c->thread, NULL, compact_main, c);
	if (rc) {
		pthread_mutex_destroy(&c->lock);
		pthread_cond_destroy(&c->cond);
		free(c->dir);
		free(c);
		return -rc;
	}
	*out = c;
	return 0;
}

void mount_compact_note(struct mount_compact *c, size_t bytes)
{
	if (!c)
		return;
	atomic_fetch_add(&c->pending, bytes);
	atomic_store(&c->last_ms, mount_now_ms());
}

void mount_compact_free(struct mount_compact *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c->dir);
	free(c);
}
