/* mount/names.c — recent remote name changes, per inode (see names.h).
 *
 * One counter orders changes and lookups: a lookup answered after the change
 * was applied carries a larger number than the change. */
#include "mount/names.h"

#include <stdlib.h>

/* Dentries live at most the entry timeout (1 s); keep a margin. */
#define FORGET_AFTER_MS 3000

struct name_change {
	uint64_t changed;   /* counter value at the change */
	uint64_t looked_up; /* counter value at the last lookup answer, 0 = none since */
	uint64_t at_ms;
};

void mount_names_changed(struct mount_node *n, uint64_t ino)
{
	struct name_change *c = util_u64map_get(&n->names, ino);
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c || util_u64map_put(&n->names, ino, c) < 0)
			abort();
	}
	c->changed = ++n->name_seq;
	c->looked_up = 0;
	c->at_ms = mount_now_ms();
	if (!evtimer_pending(n->retry_ev, NULL)) {
		struct timeval tv = {1, 0}; /* to prune */
		evtimer_add(n->retry_ev, &tv);
	}
}

void mount_names_looked_up(struct mount_node *n, uint64_t ino)
{
	struct name_change *c = util_u64map_get(&n->names, ino);
	if (c)
		c->looked_up = ++n->name_seq;
}

bool mount_names_stale(struct mount_node *n, uint64_t ino)
{
	struct name_change *c = util_u64map_get(&n->names, ino);
	return c && c->looked_up < c->changed;
}

void mount_names_prune(struct mount_node *n)
{
	struct util_u64map keep;
	size_t pos = 0;
	uint64_t ino, now = mount_now_ms();
	void *v;

	if (!n->names.len)
		return;
	util_u64map_init(&keep);
	while (util_u64map_next(&n->names, &pos, &ino, &v)) {
		struct name_change *c = v;
		if (now - c->at_ms < FORGET_AFTER_MS)
			util_u64map_put(&keep, ino, c);
		else
			free(c);
	}
	util_u64map_close(&n->names);
	n->names = keep;
}

void mount_names_close(struct mount_node *n)
{
	size_t pos = 0;
	uint64_t ino;
	void *v;
	while (util_u64map_next(&n->names, &pos, &ino, &v))
		free(v);
	util_u64map_close(&n->names);
}
