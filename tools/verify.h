/* tools/verify.h — paxfs-verify: check that the nodes of a cluster agree.
 *
 *   online   verify_online(CONFIG): connect to every node as an
 *            authenticated client, ask each for pages of entity summaries
 *            (mount/verify.c answers with tools/summary.c), compare them
 *            (tools/compare.c), re-ask entities whose nodes were at
 *            different entries, name the paths of what differs;
 *   offline  verify_offline(DATADIR...): the same summaries read straight
 *            from stopped nodes' stores, the same comparator.
 *
 * Both fill a struct verify_result; tools/report.c prints it and says the
 * exit status: 0 the nodes agree (lag is reported, not an error), 1 they
 * diverge, 2 some node could not be checked (and no divergence was found
 * among the others). A divergence outranks a node that could not be
 * checked: what was proven wrong is the more important news.
 */
#ifndef PAXFS_TOOLS_VERIFY_H
#define PAXFS_TOOLS_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/compare.h"

#define VERIFY_EXIT_AGREE     0
#define VERIFY_EXIT_DIVERGE   1
#define VERIFY_EXIT_UNCHECKED 2

struct verify_opts {
	bool deep;           /* recompute digests, read every value */
	bool progress;       /* a progress line on stderr (the caller checks it is a tty) */
	unsigned timeout_ms; /* online: to connect, and (x6) for each answer; 0 = 10 s */
	unsigned rounds;     /* online: re-ask rounds for entities apart; 0 = 4 */
	unsigned page;       /* entities per page; 0 = 512 (64 with deep) */
};

struct verify_node_result {
	uint32_t id;      /* 0: unknown (a data dir that could not be read) */
	char where[320];  /* host:port, or the data dir */
	bool checked;     /* its summaries were compared */
	char reason[512]; /* !checked: why it could not be checked */
	int cmp_idx;      /* its index in the comparator, -1 if none */
	bool has_info;
	uint64_t boot_count;
	bool amnesia;
	uint64_t catchup_queued, catchup_active, catchup_done, apply_deferred;
};

struct verify_result {
	const char *mode; /* "online" or "offline" */
	char cluster[64];
	bool deep;
	struct verify_node_result *nodes;
	size_t n_nodes;
	struct verify_cmp *cmp; /* NULL when the check could not start */
	char error[512];        /* the whole check could not run: why */
	uint64_t elapsed_ms;
};

/* Each returns the exit status (VERIFY_EXIT_*) and fills *r (close it with
 * verify_result_close whatever happened). */
int verify_online(const char *config, const struct verify_opts *opt, struct verify_result *r);
int verify_offline(char *const *dirs, size_t n, const struct verify_opts *opt,
		   struct verify_result *r);
void verify_result_close(struct verify_result *r);

/* The exit status a result calls for. */
int verify_exit_code(const struct verify_result *r);

/* Reports (tools/report.c). Text: the counts, then the findings; quiet:
 * the findings only (nothing at all when the nodes agree and none lags). */
void verify_report_text(FILE *out, const struct verify_result *r, bool quiet);
void verify_report_json(FILE *out, const struct verify_result *r);

/* Shared by the drivers: a one-line progress report on stderr ("\r..."),
 * and its erasure. */
void verify_progress(const struct verify_result *r, const char *phase);
void verify_progress_clear(void);

#endif
