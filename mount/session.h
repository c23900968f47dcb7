/* mount/session.h — the FUSE session as one more event source of the loop.
 *
 * libfuse's "custom event loop support": the session's /dev/fuse fd is made
 * non-blocking and watched by libevent; when readable, requests are read
 * and dispatched to the low-level ops one by one (a bounded number per turn,
 * so that peers and timers are served too). Ops run on the loop thread and
 * may answer later, from any later callback of the same loop. */
#ifndef PAXFS_MOUNT_SESSION_H
#define PAXFS_MOUNT_SESSION_H

#include <event2/event.h>
#include <fuse_lowlevel.h>

struct mount_session;

/* Creates the FUSE session from `args` (fuse_session_new), mounts it on
 * `mountpoint` and adds its fd to `base`. `on_exit_cb(arg)` is called from
 * the loop when the kernel ends the session (unmounted from outside).
 * Returns 0, or -errno with the cause in err. */
int mount_session_open(struct event_base *base, struct fuse_args *args,
		       const struct fuse_lowlevel_ops *ops, void *userdata, const char *mountpoint,
		       void (*on_exit_cb)(void *arg), void *arg, struct mount_session **out,
		       char *err, size_t errlen);

struct fuse_session *mount_session_fuse(struct mount_session *s);

/* Stops reading requests (those already read are still answered). */
void mount_session_pause(struct mount_session *s);

/* Unmounts (if still mounted) and frees. NULL is a no-op. */
void mount_session_free(struct mount_session *s);

#endif
