/* paxos/timer.c — a binary min-heap of entities keyed by deadline.
 *
 *              e(12)            heap[0] is the earliest deadline; an entity
 *            /       \          knows its position (heap_idx = pos + 1) so a
 *        e(40)       e(15)      changed deadline moves it in O(log n).
 *
 * Only entities with a deadline are in the heap; the engine's next deadline is
 * the top's, or the scans' if earlier (paxos.c).
 */
#include "paxos/internal.h"

static void heap_swap(struct paxos *p, size_t a, size_t b)
{
	struct paxos_entity *x = p->heap[a];
	p->heap[a] = p->heap[b];
	p->heap[b] = x;
	p->heap[a]->heap_idx = a + 1;
	p->heap[b]->heap_idx = b + 1;
}

static void sift_up(struct paxos *p, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (p->heap[parent]->deadline <= p->heap[i]->deadline)
			break;
		heap_swap(p, parent, i);
		i = parent;
	}
}

static void sift_down(struct paxos *p, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < p->heap_len && p->heap[l]->deadline < p->heap[m]->deadline)
			m = l;
		if (r < p->heap_len && p->heap[r]->deadline < p->heap[m]->deadline)
			m = r;
		if (m == i)
			return;
		heap_swap(p, i, m);
		i = m;
	}
}

static void heap_remove(struct paxos *p, struct paxos_entity *e)
{
	size_t i = e->heap_idx - 1;
	size_t last = p->heap_len - 1;
	if (i != last) {
		heap_swap(p, i, last);
		p->heap_len--;
		sift_down(p, i);
		sift_up(p, i);
	} else {
		p->heap_len--;
	}
	e->heap_idx = 0;
}

void paxos_heap_set(struct paxos *p, struct paxos_entity *e, uint64_t deadline)
{
	if (deadline == PAXOS_NO_DEADLINE) {
		if (e->heap_idx)
			heap_remove(p, e);
		e->deadline = deadline;
		return;
	}
	if (!e->heap_idx) {
		if (paxos_grow(p, (void **)&p->heap, &p->heap_cap, p->heap_len + 1,
			       sizeof(*p->heap))) {
			/* Without a heap slot the entity would never wake up:
			 * leave it touched so the next step retries. */
			e->deadline = PAXOS_NO_DEADLINE;
			return;
		}
		e->deadline = deadline;
		p->heap[p->heap_len] = e;
		e->heap_idx = ++p->heap_len;
		sift_up(p, p->heap_len - 1);
		return;
	}
	uint64_t old = e->deadline;
	e->deadline = deadline;
	if (deadline < old)
		sift_up(p, e->heap_idx - 1);
	else if (deadline > old)
		sift_down(p, e->heap_idx - 1);
}

struct paxos_entity *paxos_heap_top(const struct paxos *p)
{
	return p->heap_len ? p->heap[0] : NULL;
}
