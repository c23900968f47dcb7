/* mount/apply.c — the applier: chosen entries into fs/, in entry order.
 *
 * Every entity is applied strictly in order, from its applied entry + 1 up
 * to the entry just chosen; entries in between are read back from the log
 * (they are chosen and in the store: the turn wrote them before delivering;
 * a chosen flag may be written without sync, but an apply written after it
 * is never durable without it).
 * The same path re-applies after a restart (apply writes are unsynced) and
 * applies entries fs/ had to put off:
 *   -EAGAIN  a file entity whose inode the namespace has not created here
 *            yet, or whose snapshot is being installed;
 *   -ENOSPC  the disk is full.
 * Such entities go into n->deferred and are retried after the namespace
 * applies something, and once a second while any remain.
 *
 * Invariant: fs's applied entry of an entity never passes the engine's
 * chosen entry, and nothing is applied out of order. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mount/compact.h"
#include "mount/node.h"
#include "mount/names.h"
#include "mount/notify.h"
#include "mount/retain.h"
#include "mount/snapshot.h"
#include "util/log.h"

static struct fs_apply_out out;
static bool out_ready;

static void defer(struct mount_node *n, uint64_t entity)
{
	struct timeval soon = {1, 0};
	util_u64map_put(&n->deferred, entity, (void *)1);
	if (!evtimer_pending(n->retry_ev, NULL))
		evtimer_add(n->retry_ev, &soon);
}

/* Commands of other nodes change what the kernel may have cached; ours went
 * through the kernel, which already knows their names and attributes. Data
 * is another matter: writes bypass the page cache (mount/ops.c), so after any
 * applied change the next open here drops the file's cached pages. */
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

static int apply_entry(struct mount_node *n, uint64_t entity, uint64_t entry, const uint8_t *value,
		       size_t len)
{
	int rc;

	if (!out_ready) {
		fs_apply_out_init(&out);
		out_ready = true;
	}
	rc = fs_apply(n->fs, entity, entry, value, len, &out);
	if (rc < 0 || out.skipped)
		return rc;
	n->applied_entries++;
	n->applied_bytes += len;
	mount_compact_note(n->compact, len);
	for (size_t i = 0; i < out.n_results; i++)
		if (paxos_id_node(out.results[i].cmd_id) == n->self)
			mount_req_applied(n, &out.results[i]);
	invalidate(n, &out);
	for (size_t i = 0; i < out.n_unlinked; i++)
		if (!util_u64map_get(&n->opens, out.unlinked[i]))
			mount_inode_release(n, out.unlinked[i]);
	mount_retain_applied(n, entity, entry, out.meta.chain_crc, len);
	if (entity == FS_NAMESPACE && n->deferred.len)
		mount_apply_retry_deferred(n);
	return 0;
}

void mount_apply(struct mount_node *n, uint64_t entity, uint64_t entry, const uint8_t *value,
		 size_t len)
{
	struct store_apply_meta m;
	uint64_t applied = 0;
	int rc;

	if (mount_snapshot_exporting(n, entity)) {
		defer(n, entity); /* an export of it is streaming: keep its state still */
		return;
	}
	rc = fs_applied(n->fs, entity, &m);
	if (rc == 0)
		applied = m.applied_entry;
	else if (rc != -ENOENT) {
		LOG_ERR("entity %llu: cannot read its apply cursor: %s", (unsigned long long)entity,
			strerror(-rc));
		return;
	}
	for (uint64_t e = applied + 1; e <= entry; e++) {
		struct store_record rec = {0};
		if (e == entry && value) {
			rc = apply_entry(n, entity, e, value, len);
		} else {
			rc = store_get_record(n->store, entity, e, &rec);
			if (rc == 0 && !rec.chosen) {
				/* Chosen (the engine says so) but this node's record holds
				 * no chosen value yet: the engine fetches it; try later. */
				rc = -EAGAIN;
			}
			if (rc == 0)
				rc = apply_entry(n, entity, e, rec.value, rec.value_len);
			free(rec.value);
		}
		if (rc == -EAGAIN || rc == -ENOSPC || rc == -ENOENT) {
			defer(n, entity);
			break;
		}
		if (rc < 0) {
			LOG_ERR("entity %llu entry %llu cannot be applied: %s",
				(unsigned long long)entity, (unsigned long long)e, strerror(-rc));
			break;
		}
	}
	if (n->waiting)
		mount_req_recheck(n);
}

static int catch_up_cb(void *arg, uint64_t entity, const struct store_paxos_meta *pm)
{
	struct mount_node *n = arg;
	struct store_apply_meta am;
	int rc = fs_applied(n->fs, entity, &am);
	if ((rc == 0 && am.applied_entry < pm->chosen_entry) || rc == -ENOENT)
		if (pm->chosen_entry > 0)
			util_u64map_put(&n->deferred, entity, (void *)1);
	return 0;
}

void mount_apply_catch_up(struct mount_node *n)
{
	int rc = store_scan_entities(n->store, 0, catch_up_cb, n);
	if (rc < 0)
		LOG_ERR("listing entities to re-apply: %s", strerror(-rc));
	/* The namespace first: files wait for their inodes. */
	if (util_u64map_get(&n->deferred, FS_NAMESPACE)) {
		struct store_paxos_meta pm;
		util_u64map_del(&n->deferred, FS_NAMESPACE);
		if (store_get_paxos_meta(n->store, FS_NAMESPACE, &pm) == 0)
			mount_apply(n, FS_NAMESPACE, pm.chosen_entry, NULL, 0);
	}
	mount_apply_retry_deferred(n);
}

void mount_apply_retry_deferred(struct mount_node *n)
{
	struct util_u64map todo = n->deferred;
	size_t pos = 0;
	uint64_t entity;
	void *v;

	/* Entities that fail again are deferred anew into a fresh map. */
	util_u64map_init(&n->deferred);
	while (util_u64map_next(&todo, &pos, &entity, &v)) {
		struct store_paxos_meta pm;
		if (store_get_paxos_meta(n->store, entity, &pm) == 0 && pm.chosen_entry > 0)
			mount_apply(n, entity, pm.chosen_entry, NULL, 0);
	}
	util_u64map_close(&todo);
}

void mount_inode_release(struct mount_node *n, uint64_t ino)
{
	struct stat st;
	int rc;

	if (util_u64map_get(&n->opens, ino))
		return;
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
