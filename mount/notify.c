/* mount/notify.c — a FIFO of invalidations drained by one thread.
 *
 *   loop thread ──push──▶ [ item → item → item ] ──pop──▶ notify thread ──▶ /dev/fuse
 *
 * Sequence numbers grow by one per item; `done` only moves forward. */
#include "mount/notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

struct notify_item {
	struct notify_item *next;
	uint64_t seq;
	uint64_t ino;    /* inode, or the parent directory for an entry */
	bool attr_only;  /* inode item: its attributes, not its data */
	size_t namelen;  /* 0: inode item */
	char name[];
};

struct mount_notify {
	struct fuse_session *se;
	void (*wake_cb)(void *arg);
	void *wake_arg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct notify_item *head, *tail;
	uint64_t queued;
	_Atomic uint64_t done;
	bool stopping;
};

static void process(struct mount_notify *n, struct notify_item *it)
{
	int rc;
	if (it->namelen)
		rc = fuse_lowlevel_notify_inval_entry(n->se, it->ino, it->name, it->namelen);
	else
		rc = fuse_lowlevel_notify_inval_inode(n->se, it->ino, it->attr_only ? -1 : 0, 0);
	/* -ENOENT: the kernel had nothing cached; -ENOTCONN: being unmounted. */
	if (rc < 0 && rc != -ENOENT && rc != -ENOTCONN)
		LOG_WARN("cache invalidation of inode %llu failed: %s", (unsigned long long)it->ino,
			 strerror(-rc));
}

static void *notify_main(void *arg)
{
	struct mount_notify *n = arg;
	pthread_mutex_lock(&n->lock);
	for (;;) {
		struct notify_item *it;
		while (!n->head && !n->stopping)
			pthread_cond_wait(&n->cond, &n->lock);
		if (!n->head)
			break;
		it = n->head;
		n->head = it->next;
		if (!n->head)
			n->tail = NULL;
		pthread_mutex_unlock(&n->lock);
		process(n, it);
		atomic_store(&n->done, it->seq);
		free(it);
		if (n->wake_cb)
			n->wake_cb(n->wake_arg);
		pthread_mutex_lock(&n->lock);
	}
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

int mount_notify_start(struct fuse_session *se, void (*wake_cb)(void *arg), void *arg,
		       struct mount_notify **out)
{
	struct mount_notify *n = calloc(1, sizeof(*n));
	int rc;
	*out = NULL;
	if (!n)
		return -ENOMEM;
	n->se = se;
	n->wake_cb = wake_cb;
	n->wake_arg = arg;
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->cond, NULL);
	rc = pthread_create(&n->thread, NULL, notify_main, n);
	if (rc) {
		pthread_mutex_destroy(&n->lock);
		pthread_cond_destroy(&n->cond);
		free(n);
		return -rc;
	}
	*out = n;
	return 0;
}

void mount_notify_free(struct mount_notify *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stopping = true;
	pthread_cond_signal(&n->cond);
	pthread_mutex_unlock(&n->lock);
	pthread_join(n->thread, NULL);
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->cond);
	free(n);
}

static uint64_t push(struct mount_notify *n, uint64_t ino, const char *name, size_t len,
		     bool attr_only)
{
	struct notify_item *it = malloc(sizeof(*it) + len + 1);
	uint64_t seq;
	if (!it)
		abort(); /* a lost invalidation would serve stale data: never continue */
	it->next = NULL;
	it->ino = ino;
	it->attr_only = attr_only;
	it->namelen = len;
	if (len)
		memcpy(it->name, name, len);
	it->name[len] = '\0';
	pthread_mutex_lock(&n->lock);
	seq = it->seq = ++n->queued;
	if (n->tail)
		n->tail->next = it;
	else
		n->head = it;
	n->tail = it;
	pthread_cond_signal(&n->cond);
	pthread_mutex_unlock(&n->lock);
	return seq;
}

uint64_t mount_notify_inode(struct mount_notify *n, uint64_t ino)
{
	return push(n, ino, NULL, 0, false);
}

uint64_t mount_notify_attr(struct mount_notify *n, uint64_t ino)
{
	return push(n, ino, NULL, 0, true);
}

uint64_t mount_notify_entry(struct mount_notify *n, uint64_t parent, const char *name, size_t len)
{
	return push(n, parent, name, len, false);
}

uint64_t mount_notify_queued(struct mount_notify *n)
{
	uint64_t q;
	pthread_mutex_lock(&n->lock);
	q = n->queued;
	pthread_mutex_unlock(&n->lock);
	return q;
}

uint64_t mount_notify_done(struct mount_notify *n)
{
	return atomic_load(&n->done);
}
