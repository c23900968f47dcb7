/* util/cli.h — the error lines of the command-line programs (tools/, bench/):
 * "PROG: message" on stderr, one line, and the exit status that goes with it. */
#ifndef PAXFS_UTIL_CLI_H
#define PAXFS_UTIL_CLI_H

/* Prints "PROG: " and the formatted message and a newline to stderr.
 * Returns 1, the exit status of a failed command. */
int util_cli_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "PROG: WHAT: strerror(err)" (err as errno, either sign) and exits 1. */
void util_cli_die(const char *prog, const char *what, int err) __attribute__((noreturn));

#endif
