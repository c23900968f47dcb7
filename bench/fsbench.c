/* bench/fsbench.c — the timed parts of bench/fs.sh, one measurement per call.
 *
 *   fsbench fsync-lat DIR COUNT          median and p99 µs of a 4 KiB write + fsync (one file)
 *   fsbench seq-write FILE MIB           MB/s of 1 MiB writes and a final fsync
 *   fsbench seq-read FILE                MB/s of 1 MiB reads
 *   fsbench create DIR COUNT             files/s of create + 4 KiB write + close
 *   fsbench append FILE COUNT TAG        seconds for COUNT O_APPEND writes of one line
 *   fsbench visible DIR_A DIR_B COUNT    median µs from close() on A until open() succeeds on B
 *   fsbench flock FILE COUNT             median µs of flock(LOCK_EX) + flock(LOCK_UN), no contention
 *   fsbench handover FILE_A FILE_B COUNT median µs from flock(LOCK_UN) on A until a process
 *                                        blocked in flock(LOCK_EX) on B (the same file through
 *                                        another mount) holds the lock
 *
 * Each prints one number (the figure named) on stdout; errors go to stderr
 * with exit status 1. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void fail(const char *what, const char *path)
{
	fprintf(stderr, "fsbench: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static int fsync_lat(const char *dir, int count)
{
	char path[4096], buf[4096];
	double *lat = calloc((size_t)count, sizeof(double));
	int fd;
	snprintf(path, sizeof(path), "%s/fsync-lat", dir);
	memset(buf, 'x', sizeof(buf));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || !lat)
		fail("open", path);
	for (int i = 0; i < count; i++) {
		double t = now_s();
		if (pwrite(fd, buf, sizeof(buf), (off_t)i * 4096) != (ssize_t)sizeof(buf) ||
		    fsync(fd) < 0)
			fail("write+fsync", path);
		lat[i] = (now_s() - t) * 1e6;
	}
	close(fd);
	qsort(lat, (size_t)count, sizeof(double), cmp_double);
	printf("%.0f %.0f\n", lat[count / 2], lat[count * 99 / 100]);
	free(lat);
	return 0;
}

static int seq_write(const char *path, int mib)
{
	static char buf[1 << 20];
	double t;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		fail("open", path);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 131 + (i >> 12));
	t = now_s();
	for (int i = 0; i < mib; i++)
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			fail("write", path);
	if (fsync(fd) < 0)
		fail("fsync", path);
	close(fd);
	printf("%.1f\n", mib * 1.048576 / (now_s() - t));
	return 0;
}

static int seq_read(const char *path)
{
	static char buf[1 << 20];
	double t = now_s();
	long long total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		fail("open", path);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	if (n < 0)
		fail("read", path);
	close(fd);
	printf("%.1f\n", (double)total / 1e6 / (now_s() - t));
	return 0;
}

static int create_files(const char *dir, int count)
{
	char path[4096], buf[4096];
	double t = now_s();
	memset(buf, 'c', sizeof(buf));
	for (int i = 0; i < count; i++) {
		int fd;
		snprintf(path, sizeof(path), "%s/f%05d", dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			fail("create", path);
		close(fd);
	}
	printf("%.0f\n", count / (now_s() - t));
	return 0;
}

static int append_lines(const char *path, int count, const char *tag)
{
	char line[128];
	double t = now_s();
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		fail("open", path);
	for (int i = 0; i < count; i++) {
		int len = snprintf(line, sizeof(line), "%s %d\n", tag, i);
		if (write(fd, line, (size_t)len) != len)
			fail("append", path);
	}
	close(fd);
	printf("%.3f\n", now_s() - t);
	return 0;
}

static int visible(const char *a, const char *b, int count)
{
	char pa[4096], pb[4096];
	double *lat = calloc((size_t)count, sizeof(double));
	if (!lat)
		return 1;
	for (int i = 0; i < count; i++) {
		double t, deadline;
		int fd;
		snprintf(pa, sizeof(pa), "%s/vis%d", a, i);
		snprintf(pb, sizeof(pb), "%s/vis%d", b, i);
		fd = open(pa, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || write(fd, "v", 1) != 1)
			fail("create", pa);
		close(fd);
		t = now_s();
		deadline = t + 10;
		while ((fd = open(pb, O_RDONLY)) < 0) {
			if (now_s() > deadline)
				fail("never visible", pb);
		}
		close(fd);
		lat[i] = (now_s() - t) * 1e6;
	}
	qsort(lat, (size_t)count, sizeof(double), cmp_double);
	printf("%.0f\n", lat[count / 2]);
	free(lat);
	return 0;
}

static double median_us(double *lat, int count)
{
	qsort(lat, (size_t)count, sizeof(double), cmp_double);
	return lat[count / 2];
}

static int flock_lat(const char *path, int count)
{
	double *lat = calloc((size_t)count, sizeof(double));
	int fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0 || !lat)
		fail("open", path);
	for (int i = 0; i < count; i++) {
		double t = now_s();
		if (flock(fd, LOCK_EX) < 0 || flock(fd, LOCK_UN) < 0)
			fail("flock", path);
		lat[i] = (now_s() - t) * 1e6;
	}
	close(fd);
	printf("%.0f\n", median_us(lat, count));
	free(lat);
	return 0;
}

/* The waiter: for every byte from `go`, blocks in flock(LOCK_EX) on B, and
 * once it holds the lock sends the time it got it and lets go. */
static void waiter(const char *b, int go, int done)
{
	int fd = open(b, O_RDWR);
	char c;
	if (fd < 0)
		fail("open", b);
	while (read(go, &c, 1) == 1) {
		double got;
		if (flock(fd, LOCK_EX) < 0)
			fail("flock", b);
		got = now_s();
		if (flock(fd, LOCK_UN) < 0)
			fail("unlock", b);
		if (write(done, &got, sizeof(got)) != (ssize_t)sizeof(got))
			exit(1);
	}
	exit(0);
}

static int handover(const char *a, const char *b, int count)
{
	double *lat = calloc((size_t)count, sizeof(double));
	int fd = open(a, O_RDWR | O_CREAT, 0644), go[2], done[2], status;
	pid_t pid;
	if (fd < 0 || !lat || pipe(go) < 0 || pipe(done) < 0)
		fail("open", a);
	for (int tries = 0; access(b, F_OK) < 0; tries++) { /* the file reaches B's node */
		if (tries == 1000)
			fail("never visible", b);
		usleep(10000);
	}
	pid = fork();
	if (pid < 0)
		fail("fork", a);
	if (pid == 0) {
		close(go[1]);
		close(done[0]);
		waiter(b, go[0], done[1]);
	}
	close(go[0]);
	close(done[1]);
	for (int i = 0; i < count; i++) {
		double t, got;
		if (flock(fd, LOCK_EX) < 0)
			fail("flock", a);
		if (write(go[1], "g", 1) != 1)
			fail("waiter", a);
		usleep(20000); /* the waiter blocks in flock by now */
		t = now_s();
		if (flock(fd, LOCK_UN) < 0)
			fail("unlock", a);
		if (read(done[0], &got, sizeof(got)) != (ssize_t)sizeof(got))
			fail("waiter", b);
		lat[i] = (got - t) * 1e6;
	}
	close(go[1]);
	waitpid(pid, &status, 0);
	close(fd);
	printf("%.0f\n", median_us(lat, count));
	free(lat);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "fsync-lat"))
		return fsync_lat(argv[2], atoi(argv[3]));
	if (argc >= 4 && !strcmp(argv[1], "seq-write"))
		return seq_write(argv[2], atoi(argv[3]));
	if (argc >= 3 && !strcmp(argv[1], "seq-read"))
		return seq_read(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "create"))
		return create_files(argv[2], atoi(argv[3]));
	if (argc >= 5 && !strcmp(argv[1], "append"))
		return append_lines(argv[2], atoi(argv[3]), argv[4]);
	if (argc >= 5 && !strcmp(argv[1], "visible"))
		return visible(argv[2], argv[3], atoi(argv[4]));
	if (argc >= 4 && !strcmp(argv[1], "flock"))
		return flock_lat(argv[2], atoi(argv[3]));
	if (argc >= 5 && !strcmp(argv[1], "handover"))
		return handover(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: see the comment at the top of bench/fsbench.c\n");
	return 2;
}
