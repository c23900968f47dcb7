/* util/log.h — one-line log records, safe from any thread.
 *
 * Every record is one write(2) of one line: "LEVEL prefix: message\n", so
 * lines from several threads or processes sharing a file never interleave. */
#ifndef PAXFS_UTIL_LOG_H
#define PAXFS_UTIL_LOG_H

enum util_log_level {
	UTIL_LOG_ERR = 1,
	UTIL_LOG_WARN,
	UTIL_LOG_INFO,
	UTIL_LOG_DEBUG,
};

/* Records above `level` are dropped. Default: UTIL_LOG_INFO, or the value of
 * the environment variable PAXFS_LOG (err, warn, info, debug) at first use. */
void util_log_set_level(enum util_log_level level);
enum util_log_level util_log_level(void);

/* Where records go: a file descriptor (default 2, stderr). Borrowed. */
void util_log_set_fd(int fd);

/* A short prefix for every record of this process, e.g. "node 2"; copied. */
void util_log_set_prefix(const char *prefix);

void util_log(enum util_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define LOG_ERR(...)  util_log(UTIL_LOG_ERR, __VA_ARGS__)
#define LOG_WARN(...) util_log(UTIL_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(...) util_log(UTIL_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(...)                                                                             \
	do {                                                                                       \
		if (util_log_level() >= UTIL_LOG_DEBUG)                                            \
			util_log(UTIL_LOG_DEBUG, __VA_ARGS__);                                     \
	} while (0)

#endif
