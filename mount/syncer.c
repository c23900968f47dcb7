/* mount/syncer.c — store_sync on a thread (mount/syncer.h), timed. */
#include "mount/syncer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util/clock.h"

struct mount_syncer {
	struct store *store;
	void (*done)(void *arg, uint64_t upto, int rc);
	void *arg;
	struct event *done_ev; /* made active by the thread; runs done() on the loop */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* under lock */
	uint64_t requested; /* the last request's number */
	uint64_t answered;  /* the last request a finished sync answered */
	int rc;             /* ...and its result */
	bool stop;
	struct mount_hist latency; /* of store_sync; atomic, read by the loop */
};

static void *run(void *arg)
{
	struct mount_syncer *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->stop && s->answered == s->requested)
			pthread_cond_wait(&s->wake, &s->lock);
		if (s->stop)
			break;
		uint64_t upto = s->requested; /* every write before it is made */
		pthread_mutex_unlock(&s->lock);
		uint64_t t0 = util_now_ns();
		int rc = store_sync(s->store);
		mount_hist_observe(&s->latency, util_now_ns() - t0);
		pthread_mutex_lock(&s->lock);
		s->answered = upto;
		s->rc = rc;
		event_active(s->done_ev, EV_READ, 0);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_syncer *s = arg;
	uint64_t upto;
	int rc;
	(void)fd;
	(void)what;

	pthread_mutex_lock(&s->lock);
	upto = s->answered;
	rc = s->rc;
	pthread_mutex_unlock(&s->lock);
	s->done(s->arg, upto, rc);
}

int mount_syncer_new(struct event_base *base, struct store *store,
		     void (*done)(void *arg, uint64_t upto, int rc), void *arg,
		     struct mount_syncer **out)
{
	struct mount_syncer *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->store = store;
	s->done = done;
	s->arg = arg;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	s->done_ev = event_new(base, -1, 0, done_cb, s);
	if (!s->done_ev) {
		mount_syncer_free(s);
		return -ENOMEM;
	}
	/* before the turn's flush: a finished sync lets the held turn go */
	event_priority_set(s->done_ev, 1);
	rc = pthread_create(&s->thread, NULL, run, s);
	if (rc) {
		event_free(s->done_ev);
		s->done_ev = NULL;
		mount_syncer_free(s);
		return -rc;
	}
	*out = s;
	return 0;
}

uint64_t mount_syncer_request(struct mount_syncer *s)
{
	uint64_t n;
	pthread_mutex_lock(&s->lock);
	n = ++s->requested;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	return n;
}

const struct mount_hist *mount_syncer_latency(const struct mount_syncer *s)
{
	return &s->latency;
}

void mount_syncer_free(struct mount_syncer *s)
{
	if (!s)
		return;
	if (s->done_ev) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
		event_free(s->done_ev);
	}
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
