/* util/log.c — formats a record into a stack buffer and writes it at once. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int log_level; /* 0 = not yet read from the environment */
static int log_fd = 2;
static char log_prefix[64] = "paxfs";

static enum util_log_level level_from_env(void)
{
	const char *v = getenv("PAXFS_LOG");
	if (!v)
		return UTIL_LOG_INFO;
	if (!strcasecmp(v, "err") || !strcasecmp(v, "error"))
		return UTIL_LOG_ERR;
	if (!strcasecmp(v, "warn"))
		return UTIL_LOG_WARN;
	if (!strcasecmp(v, "debug"))
		return UTIL_LOG_DEBUG;
	return UTIL_LOG_INFO;
}

void util_log_set_level(enum util_log_level level)
{
	log_level = level;
}

enum util_log_level util_log_level(void)
{
	if (!log_level)
		log_level = level_from_env();
	return log_level;
}

void util_log_set_fd(int fd)
{
	log_fd = fd;
}

void util_log_set_prefix(const char *prefix)
{
	snprintf(log_prefix, sizeof(log_prefix), "%s", prefix);
}

void util_log(enum util_log_level level, const char *fmt, ...)
{
	static const char *names[] = {"?", "error", "warn", "info", "debug"};
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	if (level > util_log_level())
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %s %s: ", tm.tm_hour, tm.tm_min,
		     tm.tm_sec, ts.tv_nsec / 1000000, names[level <= UTIL_LOG_DEBUG ? level : 0],
		     log_prefix);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(log_fd, line, (size_t)n) < 0) {
		/* nowhere left to report a failed log write */
	}
}
