/* util/clock.c — the monotonic clock (util/clock.h). */
#include "util/clock.h"

#include <time.h>

uint64_t util_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
