/* mount/notify.c — a FIFO of invalidations drained by one thread.
 *
 *   loop thread ──push──▶ [ item → item → item ] ──pop all──▶ notify thread ──▶ /dev/fuse
 *
 * Sequence numbers grow by one per item; `done` only moves forward.
 *
 * Why only notifications that never wait on a lock: this thread belongs to
 * the daemon's process, so a kill -9 of the daemon cannot complete while it
 * sleeps uninterruptibly in the kernel; the process keeps /dev/fuse open,
 * the connection is never aborted, and the clients and the daemon hang for
 * good (found by tests/faults, "kills"). A data invalidation
 * (inval_inode with an offset) locks every cached page, and a writer holds
 * its pages locked while it waits for the daemon's answer; an entry
 * invalidation takes the directory's inode lock, which a lookup or create
 * holds while it waits for the daemon. So:
 *   - inodes: attributes only (offset -1: no page is touched); cached data
 *     is dropped by the kernel itself when the file is next opened
 *     (n->data_stale: mount/req.c opens it without keep_cache), or at a
 *     read() that finds size or mtime moved (FUSE_CAP_AUTO_INVAL_DATA);
 *     one exception, the pages of a file whose buffered write failed
 *     (mount_notify_inode_data): they hold data that was never chosen,
 *     which the kernel would otherwise serve to open handles. Pages are
 *     locked meanwhile only by requests this daemon answers without waiting
 *     for the cluster (buffered writes, reads of the applied state), so
 *     only a kill in that instant, after a failure, is exposed;
 *   - entries: FUSE_NOTIFY_INC_EPOCH where the kernel has it (protocol 7.44,
 *     Linux 6.16): every cached name is checked again at its next use, and
 *     the notification takes no lock at all. One covers every entry item
 *     popped together. Older kernels get inval_entry, with the risk above. */
#include "mount/notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

#define NOTIFY_INC_EPOCH 8 /* enum fuse_notify_code, protocol 7.44 */

/* struct fuse_out_header of the kernel's protocol (linux/fuse.h) */
struct out_header {
	uint32_t len;
	int32_t error;   /* for a notification: its code */
	uint64_t unique; /* 0: a notification */
};

struct notify_item {
	struct notify_item *next;
	uint64_t seq;
	uint64_t ino;   /* inode, or the parent directory for an entry */
	bool data;      /* inode item: its cached pages too */
	size_t namelen; /* 0: inode item */
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
	_Atomic bool epoch; /* the kernel knows FUSE_NOTIFY_INC_EPOCH */
	bool stopping;
};

static void warn(const struct notify_item *it, int rc)
{
	/* -ENOENT: the kernel had nothing cached; -ENOTCONN: being unmounted. */
	if (rc < 0 && rc != -ENOENT && rc != -ENOTCONN)
		LOG_WARN("cache invalidation of inode %llu failed: %s", (unsigned long long)it->ino,
			 strerror(-rc));
}

static int inc_epoch(struct mount_notify *n)
{
	struct out_header h = {.len = sizeof(h), .error = NOTIFY_INC_EPOCH, .unique = 0};
	ssize_t w = write(fuse_session_fd(n->se), &h, sizeof(h));
	if (w == (ssize_t)sizeof(h))
		return 0;
	return w < 0 ? -errno : -EIO;
}

/* Carries out a batch of items (a list, in order). */
static void process(struct mount_notify *n, struct notify_item *list)
{
	bool entries = false;
	for (struct notify_item *it = list; it; it = it->next) {
		if (!it->namelen)
			warn(it, fuse_lowlevel_notify_inval_inode(n->se, it->ino, it->data ? 0 : -1,
								  0));
		else
			entries = true;
	}
	if (!entries)
		return;
	if (atomic_load(&n->epoch)) {
		int rc = inc_epoch(n);
		if (rc == 0 || rc == -ENOTCONN || rc == -ENODEV)
			return;
		LOG_WARN("the kernel refused FUSE_NOTIFY_INC_EPOCH (%s): invalidating names one by "
			 "one instead",
			 strerror(-rc));
		atomic_store(&n->epoch, false);
	}
	for (struct notify_item *it = list; it; it = it->next)
		if (it->namelen)
			warn(it, fuse_lowlevel_notify_inval_entry(n->se, it->ino, it->name,
								  it->namelen));
}

static void *notify_main(void *arg)
{
	struct mount_notify *n = arg;
	pthread_mutex_lock(&n->lock);
	for (;;) {
		struct notify_item *list, *last;
		while (!n->head && !n->stopping)
			pthread_cond_wait(&n->cond, &n->lock);
		if (!n->head)
			break;
		list = n->head;
		last = n->tail;
		n->head = n->tail = NULL;
		pthread_mutex_unlock(&n->lock);
		process(n, list);
		atomic_store(&n->done, last->seq);
		while (list) {
			struct notify_item *next = list->next;
			free(list);
			list = next;
		}
		if (n->wake_cb)
			n->wake_cb(n->wake_arg);
		pthread_mutex_lock(&n->lock);
	}
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

void mount_notify_use_epoch(struct mount_notify *n, bool on)
{
	atomic_store(&n->epoch, on);
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

static uint64_t push(struct mount_notify *n, uint64_t ino, bool data, const char *name, size_t len)
{
	struct notify_item *it = malloc(sizeof(*it) + len + 1);
	uint64_t seq;
	if (!it)
		abort(); /* a lost invalidation would serve stale data: never continue */
	it->next = NULL;
	it->ino = ino;
	it->data = data;
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
	return push(n, ino, false, NULL, 0);
}

uint64_t mount_notify_inode_data(struct mount_notify *n, uint64_t ino)
{
	return push(n, ino, true, NULL, 0);
}

uint64_t mount_notify_entry(struct mount_notify *n, uint64_t parent, const char *name, size_t len)
{
	return push(n, parent, false, name, len);
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
