/* store/dirsync.c — makes new leveldb log files durable (see dirsync.h). */
#include "store/dirsync.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "util/log.h"

/* leveldb names its write-ahead logs "<decimal>.log" (its info log is "LOG"). */
static bool is_log_name(const char *name, uint64_t *number)
{
	size_t len = strlen(name), digits = len > 4 ? len - 4 : 0;
	uint64_t n = 0;
	if (!digits || strcmp(name + digits, ".log") != 0)
		return false;
	for (size_t i = 0; i < digits; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		n = n * 10 + (uint64_t)(name[i] - '0');
	}
	if (number)
		*number = n;
	return true;
}

int store_dirsync_init(struct store_dirsync *d, const char *dir)
{
	d->ifd = -1;
	d->newest_fd = -1;
	d->pending = true; /* leveldb's open just created a log */
	d->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->dirfd < 0)
		return -errno;
	d->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->ifd < 0) {
		LOG_WARN("store: inotify unavailable (%s): every synced write will also fsync "
			 "the directory of %s",
			 strerror(errno), dir);
		return 0;
	}
	if (inotify_add_watch(d->ifd, dir, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
		LOG_WARN("store: cannot watch %s (%s): every synced write will also fsync the "
			 "directory",
			 dir, strerror(errno));
		close(d->ifd);
		d->ifd = -1;
	}
	return 0;
}

void store_dirsync_close(struct store_dirsync *d)
{
	if (d->ifd >= 0)
		close(d->ifd);
	if (d->newest_fd >= 0)
		close(d->newest_fd);
	if (d->dirfd >= 0)
		close(d->dirfd);
	d->ifd = d->dirfd = d->newest_fd = -1;
}

void store_dirsync_poll(struct store_dirsync *d)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	if (d->ifd < 0) {
		d->pending = true;
		return;
	}
	for (;;) {
		n = read(d->ifd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* EAGAIN: queue drained. Any other error: we cannot know what we
			 * missed, so assume a new log. */
			if (n == 0 || errno != EAGAIN)
				d->pending = true;
			return;
		}
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if ((ev->mask & IN_Q_OVERFLOW) || (ev->len && is_log_name(ev->name, NULL)))
				d->pending = true;
			p += sizeof(*ev) + ev->len;
		}
	}
}

/* fdatasyncs every log file but the newest, and opens the newest as
 * d->newest_fd (store_dirsync_sync syncs it last). */
static int sync_older_logs(struct store_dirsync *d)
{
	uint64_t *nums = NULL, newest = 0, num;
	size_t n = 0, cap = 0;
	struct dirent *de;
	char name[32];
	int rc = 0, fd;
	DIR *dir;

	fd = dup(d->dirfd);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rewinddir(dir);
	while ((de = readdir(dir))) {
		if (!is_log_name(de->d_name, &num))
			continue;
		if (n == cap) {
			uint64_t *more = realloc(nums, (cap = cap ? 2 * cap : 8) * sizeof(*nums));
			if (!more) {
				rc = -ENOMEM;
				goto out;
			}
			nums = more;
		}
		nums[n++] = num;
		if (num > newest)
			newest = num;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		if (nums[i] == newest)
			continue;
		snprintf(name, sizeof(name), "%06" PRIu64 ".log", nums[i]);
		fd = openat(d->dirfd, name, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			/* Gone: its memtable reached a table that leveldb synced first. */
			if (errno != ENOENT)
				rc = -errno;
			continue;
		}
		if (fdatasync(fd) < 0) {
			rc = -errno;
			LOG_ERR("store: fdatasync of the previous log %s failed: %s", name,
				strerror(errno));
		}
		close(fd);
	}
	if (!rc && n) {
		snprintf(name, sizeof(name), "%06" PRIu64 ".log", newest);
		fd = openat(d->dirfd, name, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = -errno;
			LOG_ERR("store: cannot open the newest log %s: %s", name, strerror(errno));
		} else {
			if (d->newest_fd >= 0)
				close(d->newest_fd);
			d->newest_fd = fd;
		}
	}
out:
	free(nums);
	closedir(dir);
	return rc;
}

int store_dirsync_dir(struct store_dirsync *d)
{
	if (fsync(d->dirfd) < 0) {
		int rc = -errno;
		LOG_ERR("store: fsync of the data directory failed: %s", strerror(errno));
		return rc;
	}
	return 0;
}

int store_dirsync_sync(struct store_dirsync *d)
{
	int rc;

	store_dirsync_poll(d);
	if (d->pending || d->newest_fd < 0) {
		rc = sync_older_logs(d);
		if (!rc)
			rc = store_dirsync_dir(d);
		if (rc)
			return rc;
		d->pending = false;
	}
	if (d->newest_fd >= 0 && fdatasync(d->newest_fd) < 0) {
		rc = -errno;
		LOG_ERR("store: fdatasync of the newest log failed: %s", strerror(errno));
		return rc;
	}
	return 0;
}
