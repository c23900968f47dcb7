/* mount/names.h — could the kernel have reached an inode through a stale name?
 *
 * The kernel resolves a path from its own dentry cache before it sends
 * open(). When another node renames or unlinks a name, this node invalidates
 * that dentry (mount/notify.c) — but a path walk that ran just before the
 * invalidation may still hand us the inode the old name led to. So for every
 * inode whose name another node changed, we remember when; and when we next
 * tell the kernel a name for it (lookup, readdirplus). An open of such an
 * inode whose name predates the change answers ESTALE: the kernel then walks
 * the path again with fresh lookups (LOOKUP_REVAL) and finds what the name
 * means now. Entries are forgotten once every dentry older than the change
 * has expired by itself (the kernel revalidates after the entry timeout). */
#ifndef PAXFS_MOUNT_NAMES_H
#define PAXFS_MOUNT_NAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "mount/node.h"

/* Another node's command moved or removed a name of `ino`. */
void mount_names_changed(struct mount_node *n, uint64_t ino);

/* This node just gave the kernel a name for `ino`. */
void mount_names_looked_up(struct mount_node *n, uint64_t ino);

/* True when the kernel's name for `ino` may be older than a change. */
bool mount_names_stale(struct mount_node *n, uint64_t ino);

/* Forgets changes older than any dentry the kernel may still trust. */
void mount_names_prune(struct mount_node *n);

void mount_names_close(struct mount_node *n);

#endif
