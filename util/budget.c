/* util/budget.c — a malloc that stops at a byte budget (see budget.h). */
#include "util/budget.h"

#include <stdint.h>
#include <stdlib.h>

size_t util_decode_limit(size_t len)
{
	if (len > (UTIL_DECODE_MAX - UTIL_DECODE_SLACK) / UTIL_DECODE_FACTOR)
		return UTIL_DECODE_MAX;
	return UTIL_DECODE_FACTOR * len + UTIL_DECODE_SLACK;
}

void util_budget_init(struct util_budget *b, size_t limit)
{
	b->limit = limit;
	b->spent = 0;
	b->over = false;
	b->oom = false;
}

size_t util_budget_cost(size_t size)
{
	/* glibc (64-bit): a chunk is the request plus an 8-byte size word,
	 * 16-byte aligned, never under 32 bytes */
	if (size > SIZE_MAX - 32)
		return SIZE_MAX;
	size_t c = (size + 8 + 15) & ~(size_t)15;
	return c < 32 ? 32 : c;
}

void *util_budget_alloc(void *arg, size_t size)
{
	struct util_budget *b = arg;
	size_t cost = util_budget_cost(size);

	if (!b)
		return NULL;
	if (cost > b->limit - b->spent) {
		b->over = true;
		return NULL;
	}
	void *p = malloc(size);
	if (p)
		b->spent += cost;
	else
		b->oom = true;
	return p;
}

void util_budget_free(void *b, void *p)
{
	(void)b;
	free(p);
}
