/* net/hold.c — the test filter's DELAY: envelopes held on a link for a while.
 *
 *   link ── hold ── in:  [due 120 ms] ─▶ [due 120 ms] ─▶ [due 180 ms] ─▶ NULL
 *                   out: NULL
 *                   ev:  fires at the earliest due time of either queue
 *
 * Each direction is a FIFO of packed envelopes with the time each is due.
 * An envelope's due time is never before the one ahead of it (a short delay
 * behind a long one waits), so releasing from the head keeps link order:
 * the delay seam can slow a link but never reorder it, as TCP would not.
 * Only the test seam uses this (net.h, net_set_filter); a mesh without a
 * filter never allocates a hold.
 *
 * The hold belongs to its link: closing or freeing the link drops it, which
 * is what a failed link does to everything queued on it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "net/internal.h"
#include "util/clock.h"

struct held {
	struct held *next;
	uint64_t due_ms;
	size_t len;
	uint8_t body[]; /* the packed envelope */
};

struct fifo {
	struct held *head, *tail;
};

struct net_hold {
	struct net_link *link;
	struct event *ev;
	struct fifo q[2]; /* [0] in, [1] out */
};

static void arm(struct net_hold *h)
{
	uint64_t due = UINT64_MAX, now = util_now_ms(), wait;
	struct timeval tv;

	for (int d = 0; d < 2; d++)
		if (h->q[d].head && h->q[d].head->due_ms < due)
			due = h->q[d].head->due_ms;
	if (due == UINT64_MAX) {
		evtimer_del(h->ev);
		return;
	}
	wait = due > now ? due - now : 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	evtimer_add(h->ev, &tv);
}

static struct held *pop(struct fifo *f)
{
	struct held *x = f->head;
	f->head = x->next;
	if (!f->head)
		f->tail = NULL;
	return x;
}

/* Hands up one held incoming envelope. Returns false when the link is gone. */
static bool release_in(struct net_link *l, struct held *x)
{
	struct net_mesh *m = l->mesh;
	struct net_frame_msg msg = {0};
	char why[200];
	int rc;

	/* it decoded once already; packed again by us it may be shorter (a
	 * crafted one could now miss its decode limit): closed like a bad frame */
	if (net_frame_decode(NET_FRAME_ENVELOPE, x->body, x->len, &msg, why, sizeof(why)) < 0) {
		net_link_close(l, 0, UTIL_LOG_ERR, "releasing a held message: %s", why);
		return false;
	}
	rc = m->cb.recv_cb(m->arg, l->handle, msg.u.env);
	net_frame_msg_free(&msg);
	if (rc < 0 && l->state == NET_LINK_UP)
		net_link_close(l, NET_CLOSE_REJECTED, UTIL_LOG_WARN,
			       "closing: the receiver refused a message (%s)", strerror(-rc));
	return l->state == NET_LINK_UP;
}

static void hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_hold *h = arg;
	struct net_link *l = h->link;
	uint64_t now = util_now_ms();
	(void)fd;
	(void)what;

	for (int d = 0; d < 2; d++) {
		while (h->q[d].head && h->q[d].head->due_ms <= now) {
			struct held *x = pop(&h->q[d]);
			bool alive = true;
			if (d == 1) {
				if (net_link_put_packed(l, x->body, x->len) < 0)
					LOG_WARN("%s: %s: out of memory sending a held message",
						 l->mesh->who, l->name);
			} else {
				alive = release_in(l, x);
			}
			free(x);
			if (!alive)
				return; /* the link closed: net_hold_drop freed h */
		}
	}
	arm(h);
}

int net_hold_put(struct net_link *l, bool out, const Paxfs__Envelope *env, unsigned delay_ms)
{
	struct net_hold *h = l->hold;
	size_t len = paxfs__envelope__get_packed_size(env);
	struct held *x;
	struct fifo *f;

	if (!h) {
		h = calloc(1, sizeof(*h));
		if (!h)
			return -ENOMEM;
		h->link = l;
		h->ev = evtimer_new(l->mesh->base, hold_cb, h);
		if (!h->ev) {
			free(h);
			return -ENOMEM;
		}
		l->hold = h;
	}
	x = malloc(sizeof(*x) + len);
	if (!x)
		return -ENOMEM;
	x->next = NULL;
	x->len = paxfs__envelope__pack(env, x->body);
	x->due_ms = util_now_ms() + delay_ms;
	f = &h->q[out ? 1 : 0];
	if (f->tail && f->tail->due_ms > x->due_ms)
		x->due_ms = f->tail->due_ms; /* never overtake */
	if (f->tail)
		f->tail->next = x;
	else
		f->head = x;
	f->tail = x;
	arm(h);
	return 0;
}

bool net_hold_busy(const struct net_link *l, bool out)
{
	return l->hold && l->hold->q[out ? 1 : 0].head;
}

void net_hold_drop(struct net_link *l)
{
	struct net_hold *h = l->hold;
	if (!h)
		return;
	l->hold = NULL;
	for (int d = 0; d < 2; d++)
		while (h->q[d].head)
			free(pop(&h->q[d]));
	event_free(h->ev);
	free(h);
}
