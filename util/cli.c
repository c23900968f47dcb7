/* util/cli.c — the error lines of the command-line programs (see cli.h). */
#include "util/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int util_cli_error(const char *prog, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

void util_cli_die(const char *prog, const char *what, int err)
{
	util_cli_error(prog, "%s: %s", what, strerror(err < 0 ? -err : err));
	exit(1);
}
