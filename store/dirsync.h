/* store/dirsync.h — the store's sync point: its log files, oldest first.
 *
 * The store never asks leveldb for a synced write: it writes unsynced and
 * then syncs the log files itself (store_dirsync_sync), so that a failed
 * write (a full disk: nothing reached the page cache) and a failed sync
 * (what the page cache holds is unknown) are told apart. A synced leveldb
 * write would fdatasync the current log file and nothing else. Two things
 * would then still only be in the page cache:
 *
 *   - the directory entry of a log file created when the memtable filled up
 *     (leveldb syncs the directory only for a new MANIFEST), and
 *   - the unsynced tail of the previous log file: non-synced batches written
 *     just before the switch, which the background flush has not yet turned
 *     into a synced table.
 *
 * A power cut would then keep a later synced batch but lose earlier ones,
 * breaking "a synced write makes every batch before it durable", which the
 * apply/trim order of docs/decisions.md relies on. This file closes the gap:
 * an inotify watch on the data dir sees every new "<n>.log", and
 * store_dirsync_sync() then fdatasyncs every older log still present and
 * fsyncs the directory before it fdatasyncs the newest log, so that the
 * older logs are on disk before anything newer is. Without inotify it does
 * that at every call (correct, slower).
 *
 * Invariant: when store_dirsync_sync() returns 0, every log file that ever
 * held a batch written before the call is durable with its name, or was
 * already replaced by a table that leveldb synced.
 */
#ifndef PAXFS_STORE_DIRSYNC_H
#define PAXFS_STORE_DIRSYNC_H

#include <stdbool.h>

struct store_dirsync {
	int dirfd;     /* the data dir, O_RDONLY|O_DIRECTORY */
	int ifd;       /* inotify watching it for new files; -1: unavailable */
	bool pending;  /* a new log file was seen and not yet made durable */
	int newest_fd; /* the newest log file as of the last scan; -1: none yet */
};

/* Opens the directory and the watch. Returns 0 or a negative errno (the
 * directory cannot be opened). A missing inotify is logged, not an error. */
int store_dirsync_init(struct store_dirsync *d, const char *dir);
void store_dirsync_close(struct store_dirsync *d);

/* Reads the watch's events without blocking and remembers a new log file.
 * Cheap (one read(2)); call after every write so the queue never overflows. */
void store_dirsync_poll(struct store_dirsync *d);

/* The sync point: polls the watch; if a new log file appeared since the last
 * successful call (or cannot be ruled out), fdatasyncs every log file but the
 * newest and fsyncs the directory; then fdatasyncs the newest log. One
 * fdatasync when no log appeared. Returns 0, or a negative errno when a sync
 * failed (the store must then stop: see store.h, store_write). */
int store_dirsync_sync(struct store_dirsync *d);

/* fsyncs the directory now (after open, which creates files). */
int store_dirsync_dir(struct store_dirsync *d);

#endif
