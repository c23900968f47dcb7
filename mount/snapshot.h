/* mount/snapshot.h — moving one entity's state to a node behind the trim point.
 *
 * The engine asks for it (struct paxos_snapshot_req) when a peer answers a
 * fetch with "trimmed". This node then asks that peer for the entity's state
 * (SnapshotRequest); the peer streams it as SnapshotPieces made by
 * fs_export_next, pausing when the link's queue is full; this node feeds
 * them to fs_install_chunk and, after the last, tells the engine
 * SNAPSHOT_INSTALLED (or SNAPSHOT_FAILED: the engine asks again later).
 *
 * While an export of an entity is out, this node does not apply entries of
 * that entity (the export must not see the state change under it): the
 * applier defers them until the stream ends. */
#ifndef PAXFS_MOUNT_SNAPSHOT_H
#define PAXFS_MOUNT_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "mount/node.h"

int mount_snapshots_new(struct mount_node *n);
void mount_snapshots_free(struct mount_node *n);

/* The engine wants `req->entity` from node `req->from`. */
void mount_snapshot_fetch(struct mount_node *n, const struct paxos_snapshot_req *req);

/* Envelopes from peers. Return 0 or -EBADMSG (the link is then closed). */
int mount_snapshot_on_request(struct mount_node *n, uint32_t from, const Paxfs__SnapshotRequest *m);
int mount_snapshot_on_piece(struct mount_node *n, uint32_t from, const Paxfs__SnapshotPiece *m);

/* A peer's queue drained: resume the exports to it. */
void mount_snapshot_writable(struct mount_node *n, uint32_t peer);

/* Catch-up served by log entries is paced with the exports (-o catchup_rate):
 * `bytes` of values were just sent in CHOSEN messages (charged to the
 * bucket). A FETCH from `from` (borrowed; it carries no value) is stepped
 * now, alone, when the bucket holds tokens and no FETCH waits; else the
 * asker is told FETCH_WAIT and the FETCH is kept (one per asker and entity)
 * and stepped when tokens are back. So at most one answer (fetch_max_bytes)
 * goes beyond the rate, and the asker does not work around the wait. */
void mount_snapshot_charge(struct mount_node *n, size_t bytes);
void mount_snapshot_on_fetch(struct mount_node *n, uint32_t from, const struct paxos_msg *m);

/* True while this node streams `entity` to a peer (applies wait). */
bool mount_snapshot_exporting(struct mount_node *n, uint64_t entity);

#endif
