/* mount/daemon.h — going into the background without hiding start-up errors.
 *
 * The parent forks first and waits: the child does all the work that can
 * fail (config, store, listening socket, mount) and then reports "ready" or
 * its error through a pipe. The parent prints the error and exits non-zero,
 * or exits 0 once the child is ready — so `paxfs … && use the mount` works,
 * and a typo in the config is seen by whoever ran the command. */
#ifndef PAXFS_MOUNT_DAEMON_H
#define PAXFS_MOUNT_DAEMON_H

#include <stdbool.h>

/* In the foreground: returns -1 at once. Otherwise forks; in the parent it
 * never returns (exit 0 when the child reports ready, 1 with the child's
 * message on stderr otherwise, or if the child dies first). In the child it
 * returns the pipe's write end for mount_daemon_ready / mount_daemon_failed. */
int mount_daemon_fork(bool foreground);

/* Child: start-up failed with `msg`; the parent prints it. fd may be -1. */
void mount_daemon_failed(int fd, const char *msg);

/* Child: start-up succeeded. Detaches from the terminal (setsid, stdin and
 * stdout to /dev/null, stderr to log_fd when >= 0) and lets the parent exit
 * 0. fd may be -1 (foreground: nothing happens). */
void mount_daemon_ready(int fd, int log_fd);

#endif
