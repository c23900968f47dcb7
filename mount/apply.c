/* mount/apply.c — the daemon's state machine under the node core: one
 * chosen entry into fs/, and what follows from it here.
 *
 * node/apply.c decides the order (strictly entry by entry, gaps read from
 * the log, deferred entities retried); this file applies one entry: fs_apply,
 * the answers to this node's requests, cache invalidation, reclaiming
 * unlinked files, the log window (mount/retain.c). fs/ puts an entry off
 * with -EAGAIN (a file entity whose inode the namespace has not created here
 * yet, or whose snapshot is being installed) or -ENOSPC (the disk is full). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mount/compact.h"
#include "mount/lock.h"
#include "mount/names.h"
#include "mount/node.h"
#include "mount/notify.h"
#include "mount/retain.h"
#include "mount/snapshot.h"
#include "mount/wbuf.h"
#include "util/log.h"

/* Commands of other nodes change what the kernel may have cached; ours went
 * through the kernel, which already knows their names and attributes. Their
 * inodes' attributes are invalidated: a read() or stat() of a file open here
 * then asks again, and the kernel drops its pages if size or mtime moved
 * (FUSE_CAP_AUTO_INVAL_DATA, mount/ops.c). After any applied change, ours
 * too (an O_APPEND write bypasses the page cache), the next open here drops
 * the file's cached pages. */
static void invalidate(struct mount_node *n, const struct fs_apply_out *o)
{
	bool remote = false;
	for (size_t i = 0; i < o->n_inodes; i++)
		if (util_u64map_put(&n->data_stale, o->inodes[i].ino, (void *)1) < 0)
			abort(); /* a lost mark would serve stale data: never continue */
	for (size_t i = 0; i < o->n_results; i++)
		if (paxos_id_node(o->results[i].cmd_id) != n->self)
			remote = true;
	if (!remote || !n->notify)
		return;
	for (size_t i = 0; i < o->n_inodes; i++)
		mount_notify_inode(n->notify, o->inodes[i].ino);
	for (size_t i = 0; i < o->n_entries; i++) {
		if (o->entries[i].child)
			mount_names_changed(n, o->entries[i].child);
		mount_notify_entry(n->notify, o->entries[i].parent, o->entries[i].name,
				   o->entries[i].namelen);
	}
}

/* A regular file this node's command made: tells the engine, which opens
 * its entry 1 at round 0 with the ACCEPTs sent before its own sync when the
 * command is of this engine life (PAXOS_EV_BORN): the first write of a new
 * file costs one round, not a sync and then a round. Before the command's
 * answer, so before any write of the file. */
static void note_born(struct mount_node *n, const struct fs_result *res)
{
	struct paxos_event ev = {.type = PAXOS_EV_BORN};
	if (!res->created || res->err || !res->has_stat || !S_ISREG(res->st.st_mode))
		return;
	ev.born.entity = res->ino;
	ev.born.cmd_id = res->cmd_id;
	node_step(n->core, &ev, NULL);
}

int mount_apply_entry(struct mount_node *n, const struct paxos_chosen *c)
{
	uint64_t entity = c->entity, entry = c->entry;
	const uint8_t *value = c->value;
	size_t len = c->value_len;
	struct fs_apply_out *out = &n->apply_out;
	int rc;

	rc = fs_apply(n->fs, entity, entry, value, len, out);
	if (rc < 0 || out->skipped)
		return rc;
	n->applied_entries++;
	n->applied_bytes += len;
	mount_compact_note(n->compact, len);
	for (size_t i = 0; i < out->n_results; i++)
		if (paxos_id_node(out->results[i].cmd_id) == n->self) {
			note_born(n, &out->results[i]);
			mount_req_applied(n, &out->results[i]);
		}
	invalidate(n, out);
	for (size_t i = 0; i < out->n_results; i++)
		if (out->results[i].unlocked) {
			mount_lock_wake(n, entity); /* after every answer: no wake is lost */
			break;
		}
	for (size_t i = 0; i < out->n_unlinked; i++)
		if (!util_u64map_get(&n->opens, out->unlinked[i]))
			mount_inode_release(n, out->unlinked[i]);
	mount_retain_applied(n, entity, entry, out->meta.chain_crc, len);
	return 0;
}

void mount_inode_release(struct mount_node *n, uint64_t ino)
{
	struct stat st;
	int rc;

	if (util_u64map_get(&n->opens, ino) || mount_wbuf_busy(n, ino))
		return; /* mount/wbuf.c calls again when its writes are done */
	if (fs_getattr(n->fs, ino, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink > 0)
		return;
	rc = fs_reclaim(n->fs, ino);
	if (rc == 0) {
		util_u64map_del(&n->data_stale, ino);
		mount_retain_forget(n, ino);
	}
	if (rc < 0 && rc != -ENOENT && rc != -EBUSY)
		LOG_WARN("reclaiming unlinked file %llu: %s", (unsigned long long)ino,
			 strerror(-rc));
}
