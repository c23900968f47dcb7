/* mount/progress.h — background catch-up made visible: log lines while a
 * node catches up on what changed while it was away.
 *
 * Every PROGRESS_INTERVAL_MS, while the engine lists peers' entities
 * (scans), has entities queued or being fetched, or the applier has entries
 * it could not apply yet, one line says how far it got:
 *
 *   catch-up: 120 entities queued, 16 being fetched, 35 caught up, 2 peer listings
 *             open, 0 entities waiting to apply; in the last 2.0 s applied 230
 *             entries (1.2 MiB), installed 21 file states (62.0 MiB)
 *
 * and once all of that is done, one line:
 *
 *   catch-up finished: 171 entities caught up, 1480 entries (9.1 MiB) applied,
 *             160 file states (300.1 MiB) installed in 10.3 s
 *
 * (Entries come from peers' logs; a file whose log a peer trimmed past what
 * this node has comes whole: its state, mount/snapshot.h.)
 *
 * A start counts as the beginning of a catch-up (the engine lists every
 * peer's entities after a start), so every start ends with one "finished"
 * line, even when there was nothing to do. A partition that heals starts
 * another round. */
#ifndef PAXFS_MOUNT_PROGRESS_H
#define PAXFS_MOUNT_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#define PROGRESS_INTERVAL_MS 2000

struct mount_node;

/* Starts the progress timer (n->base must exist); its state is n->progress,
 * freed by mount_progress_stop (also after a failed start). Returns 0 or
 * -ENOMEM. */
int mount_progress_start(struct mount_node *n);
void mount_progress_stop(struct mount_node *n);

/* The catch-up round under way: for how long (ms) and how many entities it
 * caught up so far, given the engine's catchup_done now (struct
 * paxos_stats). false when none is (paxfsctl status: its estimate). */
bool mount_progress_round(const struct mount_node *n, uint64_t catchup_done, uint64_t *elapsed_ms,
			  uint64_t *caught_up);

#endif
