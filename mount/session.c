/* mount/session.c — /dev/fuse in a libevent loop. */
#include "mount/session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

/* Requests handled per readable event before the loop looks at other events. */
#define REQUESTS_PER_TURN 64

struct mount_session {
	struct fuse_session *se;
	struct event *ev;
	struct fuse_buf buf;
	void (*on_exit_cb)(void *arg);
	void *arg;
	bool mounted;
};

static void readable_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mount_session *s = arg;
	(void)fd;
	(void)what;
	for (int i = 0; i < REQUESTS_PER_TURN; i++) {
		int rc = fuse_session_receive_buf(s->se, &s->buf);
		if (rc == -EINTR)
			continue;
		if (rc == -EAGAIN)
			return;
		if (rc <= 0 || fuse_session_exited(s->se)) {
			if (rc < 0)
				LOG_ERR("reading /dev/fuse: %s", strerror(-rc));
			event_del(s->ev);
			s->mounted = false; /* the kernel ended the session */
			if (s->on_exit_cb)
				s->on_exit_cb(s->arg);
			return;
		}
		fuse_session_process_buf(s->se, &s->buf);
	}
}

int mount_session_open(struct event_base *base, struct fuse_args *args,
		       const struct fuse_lowlevel_ops *ops, void *userdata, const char *mountpoint,
		       void (*on_exit_cb)(void *arg), void *arg, struct mount_session **out,
		       char *err, size_t errlen)
{
	struct mount_session *s = calloc(1, sizeof(*s));
	int fd, flags;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->on_exit_cb = on_exit_cb;
	s->arg = arg;
	s->se = fuse_session_new(args, ops, sizeof(*ops), userdata);
	if (!s->se) {
		snprintf(err, errlen, "invalid FUSE options (see the message above)");
		free(s);
		return -EINVAL;
	}
	if (fuse_session_mount(s->se, mountpoint) != 0) {
		if (getuid() != 0)
			snprintf(
			    err, errlen,
			    "cannot mount on %s as user %u (the message above says why): without "
			    "root, FUSE mounts through fusermount3 (package fuse3), and -o "
			    "allow_other needs 'user_allow_other' in /etc/fuse.conf",
			    mountpoint, (unsigned)getuid());
		else
			snprintf(err, errlen,
				 "cannot mount on %s (the message above says why: is /dev/fuse "
				 "there, is the fuse module loaded?)",
				 mountpoint);
		fuse_session_destroy(s->se);
		free(s);
		return -EIO;
	}
	s->mounted = true;
	fd = fuse_session_fd(s->se);
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "/dev/fuse: %s", strerror(errno));
		mount_session_free(s);
		return -EIO;
	}
	s->ev = event_new(base, fd, EV_READ | EV_PERSIST, readable_cb, s);
	if (!s->ev || event_add(s->ev, NULL) < 0) {
		snprintf(err, errlen, "cannot watch /dev/fuse");
		mount_session_free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

struct fuse_session *mount_session_fuse(struct mount_session *s)
{
	return s->se;
}

void mount_session_pause(struct mount_session *s)
{
	if (s && s->ev)
		event_del(s->ev);
}

void mount_session_free(struct mount_session *s)
{
	if (!s)
		return;
	if (s->ev)
		event_free(s->ev);
	if (s->mounted)
		fuse_session_unmount(s->se);
	fuse_session_destroy(s->se);
	free(s->buf.mem);
	free(s);
}
