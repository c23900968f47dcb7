/* mount/daemon.c — fork, wait for the child's verdict, detach. */
#include "mount/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int mount_daemon_fork(bool foreground)
{
	int p[2];
	pid_t pid;
	char msg[2048];
	ssize_t got, n;

	if (foreground)
		return -1;
	if (pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "paxfs: pipe: %s\n", strerror(errno));
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "paxfs: fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid == 0) {
		close(p[0]);
		return p[1];
	}
	close(p[1]);
	/* The child writes "+" when ready, or "-" and its message. */
	got = 0;
	while (got < (ssize_t)sizeof(msg) - 1) {
		n = read(p[0], msg + got, sizeof(msg) - 1 - (size_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	msg[got] = '\0';
	if (got > 0 && msg[0] == '+')
		exit(0);
	if (got > 1 && msg[0] == '-') {
		fprintf(stderr, "paxfs: %s\n", msg + 1);
	} else {
		int status = 0;
		waitpid(pid, &status, 0);
		fprintf(stderr, "paxfs: the daemon died while starting (%s %d)\n",
			WIFSIGNALED(status) ? "signal" : "status",
			WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
	exit(1);
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

void mount_daemon_failed(int fd, const char *msg)
{
	if (fd < 0)
		return;
	write_all(fd, "-", 1);
	write_all(fd, msg, strlen(msg));
	close(fd);
}

void mount_daemon_ready(int fd, int log_fd)
{
	int null;
	if (fd < 0)
		return;
	setsid();
	if (chdir("/") < 0) {
		/* all our paths are absolute; staying put is harmless */
	}
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(log_fd >= 0 ? log_fd : null, 2);
		if (null > 2)
			close(null);
	}
	write_all(fd, "+", 1);
	close(fd);
}
