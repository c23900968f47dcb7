/* mount/faults.h — test-only fault injection into a running daemon (issue 7).
 *
 * With `-o test_faults=FILE` the daemon reads FILE at start and again within
 * FAULTS_POLL_MS of every change to it (it is polled: inode, size, mtime),
 * and puts in force what it says, one rule per line:
 *
 *   delay PEER MS [JITTER]   messages from PEER reach the engine MS ms late,
 *                            plus a random 0..JITTER ms (link order is kept)
 *   loss PEER PERCENT        each message to or from PEER is lost with this
 *                            probability (0..100)
 *   drop PEER                every message to and from PEER is lost
 *   clock_offset_ms N        N ms (may be negative) are added to the wall
 *                            clock: the timestamps of new commands jump
 *   block_loop_ms N          the event loop sleeps N ms once, when the file
 *                            is read (a stand-in for a callback that runs
 *                            long: mount/loopwatch.h)
 *   # a comment, and empty lines
 *
 * PEER is a node id or '*' (every peer). A rule for a peer replaces that
 * peer's earlier rule of the same kind; what a file does not say is off.
 * A file that does not parse is refused as a whole, with one log line
 * naming file:line, and the rules in force stay; a missing file means no
 * faults. The engine's own clock is CLOCK_MONOTONIC and is never offset:
 * a wall-clock jump may only change timestamps, as on a real machine.
 *
 * Messages to and from clients (paxfs-verify) are never touched. Without
 * the option none of this exists: no timer, no filter. */
#ifndef PAXFS_MOUNT_FAULTS_H
#define PAXFS_MOUNT_FAULTS_H

#include <stddef.h>
#include <stdint.h>

#define FAULTS_POLL_MS 100

struct mount_node;

struct mount_faults_rules {
	uint32_t delay_ms[256]; /* by peer id */
	uint32_t jitter_ms[256];
	uint8_t loss_pct[256]; /* 100: every message is lost */
	int64_t clock_offset_ms;
	uint32_t block_loop_ms;
};

/* Parses the text of a fault file (NUL-terminated) into *out (every rule
 * off first). Returns 0, or -EINVAL with "LINE: what is wrong" in err. */
int mount_faults_parse(const char *text, struct mount_faults_rules *out, char *err, size_t errlen);

/* Starts watching `path` for node n (n->mesh must exist): reads it now,
 * installs the net filter and the poll timer. Returns 0 or -ENOMEM (a file
 * that cannot be read or parsed is only logged). */
int mount_faults_start(struct mount_node *n, const char *path);

/* Stops watching and removes the filter (before the mesh is freed). */
void mount_faults_stop(struct mount_node *n);

/* The wall-clock offset in force, in ns (0 without the option). */
int64_t mount_faults_wall_offset_ns(void);

#endif
