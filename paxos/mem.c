/* paxos/mem.c — counted allocation, refcounted values, ids.
 *
 * Every allocation of the engine goes through paxos_alloc so that the engine can
 * report how many bytes it allocated (paxos_get_stats; bench/sim prints bytes
 * per chosen entry). Values are immutable once built: whoever holds a
 * reference may read them until it drops the reference.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "paxos/internal.h"

/* A failed allocation kills the engine (paxos_step drops the messages of that
 * step and refuses the next ones): half-built updates never leave. */
void *paxos_alloc(struct paxos *p, size_t n)
{
	void *x = malloc(n ? n : 1);
	if (x) {
		p->alloc_bytes += n;
		p->alloc_count++;
	} else {
		p->oom = true;
	}
	return x;
}

void *paxos_calloc(struct paxos *p, size_t n)
{
	void *x = calloc(1, n ? n : 1);
	if (x) {
		p->alloc_bytes += n;
		p->alloc_count++;
	} else {
		p->oom = true;
	}
	return x;
}

int paxos_grow(struct paxos *p, void **arr, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 8;
	while (ncap < need)
		ncap *= 2;
	void *x = realloc(*arr, ncap * size);
	if (!x) {
		p->oom = true;
		return -ENOMEM;
	}
	p->alloc_bytes += (ncap - *cap) * size;
	p->alloc_count++;
	*arr = x;
	*cap = ncap;
	return 0;
}

struct paxos_value *paxos_value_new(struct paxos *p, const void *data, size_t len)
{
	struct paxos_value *v = paxos_alloc(p, sizeof(*v) + len);
	if (!v)
		return NULL;
	v->refs = 1;
	v->crc = 0;
	v->len = len;
	if (data && len)
		memcpy(v->data, data, len);
	return v;
}

void paxos_value_unref(struct paxos_value *v)
{
	if (v && --v->refs == 0)
		free(v);
}

uint64_t paxos_new_id(struct paxos *p)
{
	/* The rate bound (paxos.h, "Ids never repeat"): the next life's base,
	 * taken from the wall clock, is above every id handed out by then. */
	uint64_t room = (p->now - p->id_start + 1) << PAXOS_ID_MS_SHIFT;
	if (p->id_last - p->cfg.id_base >= room || p->id_last >= PAXOS_ID_SEQ_MASK)
		return 0;
	return (uint64_t)p->cfg.self << 56 | ++p->id_last;
}

uint64_t paxos_last_id_seq(const struct paxos *p)
{
	return p->id_last;
}

bool paxos_id_mine(const struct paxos *p, uint64_t id)
{
	uint64_t seq = paxos_id_seq(id);
	return paxos_id_node(id) == p->cfg.self && seq > p->cfg.id_base && seq <= p->id_last;
}

uint64_t paxos_backoff(struct paxos *p, uint32_t attempts)
{
	uint64_t lo = p->cfg.backoff_min_ms;
	uint64_t hi = p->cfg.backoff_max_ms;
	uint32_t shift = attempts > 4 ? 4 : attempts;
	hi = hi << shift;
	if (hi <= lo)
		return lo;
	return lo + util_prng_below(&p->prng, hi - lo + 1);
}
