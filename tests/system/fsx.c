/* tests/system/fsx.c — random operations from all mounts against a model.
 *
 *   fsx SEED STEPS MOUNT...
 *
 * In the spirit of fsx: a handful of files, random writes, truncates,
 * appends, renames, unlinks and creates, each from a random mount; after
 * every step every mount must show exactly the model (names present or
 * absent, sizes, every byte) through open(), the read barrier. A mismatch
 * prints the seed, the step and the history of the last operations; the
 * exit status is 1. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/prng.h"

#define FILES    6
#define MAX_SIZE (192 * 1024)
#define HISTORY  12

struct model_file {
	int exists;
	size_t size;
	uint8_t *data;
};

static struct model_file files[FILES];
static char history[HISTORY][160];
static int hist_n;
static struct util_prng rng;
static uint64_t seed;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(history[hist_n % HISTORY], sizeof(history[0]), fmt, ap);
	va_end(ap);
	hist_n++;
}

static void die(int step, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void die(int step, const char *fmt, ...)
{
	va_list ap;
	printf("not ok 1 - fsx seed %llu step %d: ", (unsigned long long)seed, step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n# last operations:\n");
	for (int i = hist_n > HISTORY ? hist_n - HISTORY : 0; i < hist_n; i++)
		printf("#   %s\n", history[i % HISTORY]);
	printf("1..1\n");
	exit(1);
}

static void path(char *buf, size_t len, const char *mnt, int f)
{
	snprintf(buf, len, "%s/fsx.%llu/f%d", mnt, (unsigned long long)seed, f);
}

static uint64_t below(uint64_t n)
{
	return util_prng_below(&rng, n);
}

static void fill(uint8_t *p, size_t len, int step)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(step * 31 + i * 7 + (i >> 9));
}

static int do_write(const char *mnt, int f, uint64_t off, size_t len, int step, int append)
{
	char p[4096];
	uint8_t *buf = malloc(len ? len : 1);
	int fd, rc = 0;
	path(p, sizeof(p), mnt, f);
	fill(buf, len, step);
	fd = open(p, O_WRONLY | O_CREAT | (append ? O_APPEND : 0), 0644);
	if (fd < 0 ||
	    (append ? write(fd, buf, len) : pwrite(fd, buf, len, (off_t)off)) != (ssize_t)len)
		rc = -1;
	if (fd >= 0 && close(fd) < 0)
		rc = -1;
	if (rc == 0) {
		struct model_file *m = &files[f];
		uint64_t at = append ? m->size : off;
		if (at + len > m->size) {
			m->data = realloc(m->data, at + len);
			if (at > m->size)
				memset(m->data + m->size, 0, at - m->size);
			m->size = at + len;
		}
		memcpy(m->data + at, buf, len);
		m->exists = 1;
	}
	free(buf);
	return rc;
}

static void check_all(char **mounts, int n_mounts, int step)
{
	static uint8_t buf[MAX_SIZE * 2];
	for (int mi = 0; mi < n_mounts; mi++)
		for (int f = 0; f < FILES; f++) {
			char p[4096];
			struct model_file *m = &files[f];
			ssize_t got;
			int fd;
			path(p, sizeof(p), mounts[mi], f);
			fd = open(p, O_RDONLY);
			if (!m->exists) {
				if (fd >= 0 || errno != ENOENT)
					die(step, "%s exists on mount %d but not in the model", p,
					    mi + 1);
				continue;
			}
			if (fd < 0)
				die(step, "open %s: %s", p, strerror(errno));
			got = pread(fd, buf, sizeof(buf), 0);
			close(fd);
			if (got != (ssize_t)m->size)
				die(step, "%s: read %zd bytes, model has %zu", p, got, m->size);
			if (memcmp(buf, m->data, m->size)) {
				size_t i = 0;
				while (buf[i] == m->data[i])
					i++;
				die(step, "%s: byte %zu is %u, model has %u", p, i, buf[i],
				    m->data[i]);
			}
		}
}

int main(int argc, char **argv)
{
	int steps, n_mounts;
	char **mounts, p[4096], q[4096];

	if (argc < 4) {
		fprintf(stderr, "usage: %s SEED STEPS MOUNT...\n", argv[0]);
		return 2;
	}
	seed = strtoull(argv[1], NULL, 10);
	steps = atoi(argv[2]);
	mounts = argv + 3;
	n_mounts = argc - 3;
	util_prng_seed(&rng, seed);
	snprintf(p, sizeof(p), "%s/fsx.%llu", mounts[0], (unsigned long long)seed);
	if (mkdir(p, 0755) < 0) {
		printf("Bail out! mkdir %s: %s\n", p, strerror(errno));
		return 1;
	}

	for (int step = 1; step <= steps; step++) {
		int mi = (int)below((uint64_t)n_mounts), f = (int)below(FILES);
		const char *mnt = mounts[mi];
		struct model_file *m = &files[f];
		uint64_t op = below(100);

		if (op < 40) {
			uint64_t off = below(MAX_SIZE);
			size_t len = 1 + below(below(4) ? 8192 : 65536);
			note("step %d: mount %d write f%d [%llu, +%zu)", step, mi + 1, f,
			     (unsigned long long)off, len);
			if (do_write(mnt, f, off, len, step, 0) < 0)
				die(step, "write f%d on mount %d: %s", f, mi + 1, strerror(errno));
		} else if (op < 55) {
			size_t len = 1 + below(3000);
			note("step %d: mount %d append f%d +%zu", step, mi + 1, f, len);
			if (do_write(mnt, f, 0, len, step, 1) < 0)
				die(step, "append f%d on mount %d: %s", f, mi + 1, strerror(errno));
		} else if (op < 70) {
			uint64_t size = below(MAX_SIZE + MAX_SIZE / 4);
			if (!m->exists)
				continue;
			note("step %d: mount %d truncate f%d to %llu", step, mi + 1, f,
			     (unsigned long long)size);
			path(p, sizeof(p), mnt, f);
			if (truncate(p, (off_t)size) < 0)
				die(step, "truncate f%d: %s", f, strerror(errno));
			m->data = realloc(m->data, size ? size : 1);
			if (size > m->size)
				memset(m->data + m->size, 0, size - m->size);
			m->size = size;
		} else if (op < 85) {
			int g = (int)below(FILES);
			if (!m->exists || g == f)
				continue;
			note("step %d: mount %d rename f%d over f%d", step, mi + 1, f, g);
			path(p, sizeof(p), mnt, f);
			path(q, sizeof(q), mnt, g);
			if (rename(p, q) < 0)
				die(step, "rename f%d f%d: %s", f, g, strerror(errno));
			free(files[g].data);
			files[g] = *m;
			memset(m, 0, sizeof(*m));
		} else {
			if (!m->exists)
				continue;
			note("step %d: mount %d unlink f%d", step, mi + 1, f);
			path(p, sizeof(p), mnt, f);
			if (unlink(p) < 0)
				die(step, "unlink f%d: %s", f, strerror(errno));
			free(m->data);
			memset(m, 0, sizeof(*m));
		}
		check_all(mounts, n_mounts, step);
	}
	printf(
	    "ok 1 - fsx seed %llu: %d random steps from %d mounts match the model on every mount\n",
	    (unsigned long long)seed, steps, n_mounts);
	printf("1..1\n");
	return 0;
}
