/* mount/retain.c — checkpoints by entries and bytes (mount/retain.h).
 *
 *   n->retain: entity → struct window   (only entities with applies not yet
 *                                         reported; a report removes it)
 *
 * The file's size is read from fs/ when a window is checked, so a file
 * that grows gets a longer log, one that shrinks a shorter one. */
#include "mount/retain.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "mount/node.h"

struct window {
	uint64_t entries;
	uint64_t bytes;
};

static uint64_t byte_window(struct mount_node *n, uint64_t entity)
{
	struct stat st;
	uint64_t w = n->args->retention_bytes;
	if (entity == FS_NAMESPACE)
		return UINT64_MAX; /* entries only: its state is the whole tree */
	if (fs_getattr(n->fs, entity, &st) == 0 && (uint64_t)st.st_size / 4 > w)
		w = (uint64_t)st.st_size / 4;
	return w;
}

void mount_retain_applied(struct mount_node *n, uint64_t entity, uint64_t entry, uint32_t crc,
			  size_t len)
{
	struct window *w = util_u64map_get(&n->retain, entity);
	struct paxos_event ev = {.type = PAXOS_EV_APPLIED};

	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w || util_u64map_put(&n->retain, entity, w) < 0) {
			free(w);
			w = NULL; /* out of memory: report every entry (the log stays short) */
		}
	}
	if (w) {
		w->entries++;
		w->bytes += len;
		if (w->entries < n->args->retention && w->bytes < byte_window(n, entity))
			return;
		util_u64map_del(&n->retain, entity);
		free(w);
	}
	ev.applied.entity = entity;
	ev.applied.entry = entry;
	ev.applied.chain_crc = crc;
	node_step(n->core, &ev, NULL);
}

void mount_retain_forget(struct mount_node *n, uint64_t entity)
{
	free(util_u64map_del(&n->retain, entity));
}

void mount_retain_close(struct mount_node *n)
{
	size_t pos = 0;
	uint64_t key;
	void *val;
	while (util_u64map_next(&n->retain, &pos, &key, &val))
		free(val);
	util_u64map_close(&n->retain);
}
