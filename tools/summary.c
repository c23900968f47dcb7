/* tools/summary.c — summarising the entities of one store (tools/summary.h).
 *
 * Everything here reads; the one write is fs_mark_bad for an entity whose
 * state a deep check found damaged, which is what the node itself does when
 * it meets damage. */
#include "tools/summary.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Records probed one by one after a scan stopped at a damaged one. */
#define PROBE_MAX 4096

void verify_entity_init(struct verify_entity *e, uint64_t entity)
{
	memset(e, 0, sizeof(*e));
	e->entity = entity;
}

void verify_entity_close(struct verify_entity *e)
{
	free(e->log);
	free(e->damage);
	e->log = NULL;
	e->damage = NULL;
	e->n_log = e->cap_log = e->n_damage = e->cap_damage = 0;
}

void verify_entity_move(struct verify_entity *dst, struct verify_entity *src)
{
	*dst = *src;
	src->log = NULL;
	src->damage = NULL;
	src->n_log = src->cap_log = src->n_damage = src->cap_damage = 0;
}

int verify_entity_add_log(struct verify_entity *e, const struct verify_log_item *it)
{
	if (e->n_log == e->cap_log) {
		size_t cap = e->cap_log ? e->cap_log * 2 : 8;
		struct verify_log_item *p = realloc(e->log, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		e->log = p;
		e->cap_log = cap;
	}
	e->log[e->n_log++] = *it;
	return 0;
}

int verify_entity_add_damage(struct verify_entity *e, uint64_t entry, const char *fmt, ...)
{
	va_list ap;
	if (e->n_damage >= VERIFY_DAMAGE_MAX)
		return 0;
	if (e->n_damage == e->cap_damage) {
		size_t cap = e->cap_damage ? e->cap_damage * 2 : 2;
		struct verify_damage *p = realloc(e->damage, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		e->damage = p;
		e->cap_damage = cap;
	}
	struct verify_damage *d = &e->damage[e->n_damage++];
	d->entry = entry;
	va_start(ap, fmt);
	vsnprintf(d->what, sizeof(d->what), fmt, ap);
	va_end(ap);
	return 0;
}

const char *verify_state_name(uint32_t state)
{
	switch (state) {
	case FS_ENTITY_LIVE:
		return "live";
	case FS_ENTITY_PENDING:
		return "pending";
	case FS_ENTITY_DEAD:
		return "dead";
	case FS_ENTITY_INSTALLING:
		return "installing";
	case FS_ENTITY_BAD:
		return "bad";
	default:
		return "unknown";
	}
}

/* ---- the log --------------------------------------------------------- */

struct log_scan {
	struct verify_entity *e;
	size_t max;
	uint64_t last; /* the last entry the scan delivered */
};

static int log_cb(void *arg, uint64_t entry, const struct store_record *rec)
{
	struct log_scan *ls = arg;
	struct verify_log_item it;

	ls->last = entry;
	if (!rec->chosen)
		return 0; /* accepted only: nothing to compare yet */
	if (ls->e->n_log >= ls->max) {
		ls->e->log_truncated = true;
		return 0; /* go on: the rest is still checked for damage */
	}
	it.entry = entry;
	it.value_id = rec->value_id;
	it.value_crc = rec->value_len ? rec->value_crc : 0;
	it.value_len = rec->value_len;
	return verify_entity_add_log(ls->e, &it);
}

/* The scan stopped on a damaged record after ls->last: find which one by
 * reading the next entries one at a time. 0 with *bad = the entry (0: not
 * found, e.g. a damaged key), or -EIO / -ENOMEM. */
static int find_damaged(struct store *st, uint64_t entity, uint64_t last, uint64_t *bad)
{
	*bad = 0;
	for (uint64_t e = last + 1; e > last && e <= last + PROBE_MAX; e++) {
		struct store_record r;
		int rc = store_get_record(st, entity, e, &r);
		free(r.value);
		if (rc == -ENOENT)
			continue;
		if (rc == -EBADMSG) {
			*bad = e;
			return 0;
		}
		if (rc < 0)
			return rc == -ENOMEM ? rc : -EIO;
		return 0; /* a good record: the damage sits between two entries */
	}
	return 0;
}

static int summarise_log(struct store *st, const struct verify_summary_opts *opt,
			 struct verify_entity *e)
{
	struct log_scan ls = {.e = e, .max = opt->log_max ? opt->log_max : VERIFY_LOG_MAX};
	uint64_t from = e->has_paxos ? e->paxos.trimmed_entry + 1 : 1;
	int rc;

	if (from == 0)
		return 0; /* trimmed through UINT64_MAX: nothing can be left */
	for (size_t round = 0; round <= VERIFY_DAMAGE_MAX; round++) {
		uint64_t bad;
		ls.last = from - 1;
		rc = store_scan_records(st, e->entity, from, UINT64_MAX, opt->deep, log_cb, &ls);
		if (rc == 0)
			return 0;
		if (rc == -ENOMEM)
			return rc;
		if (rc != -EBADMSG)
			return -EIO;
		if ((rc = find_damaged(st, e->entity, ls.last, &bad)) < 0)
			return rc;
		if (!bad) {
			rc = verify_entity_add_damage(e, 0,
						      "a damaged log record after entry %llu "
						      "(the rest of its log was not read)",
						      (unsigned long long)ls.last);
			return rc;
		}
		rc = verify_entity_add_damage(e, bad,
					      opt->deep
						  ? "its log record or value fails its checksum"
						  : "its log record fails its checksum");
		if (rc < 0)
			return rc;
		if (bad == UINT64_MAX)
			return 0;
		from = bad + 1;
	}
	return 0;
}

/* ---- one entity -------------------------------------------------------- */

static int summarise_deep(struct fs *fs, const struct verify_summary_opts *opt,
			  struct verify_entity *e)
{
	int rc;
	/* Only live state has a digest to hold it to: a dead (reclaimed)
	 * entity may keep keys a crash left for a later sweep. */
	if (!opt->deep || e->state != FS_ENTITY_LIVE || !e->has_apply)
		return 0;
	e->deep = true;
	rc = fs_digest_recompute(fs, e->entity, &e->deep_digest);
	if (rc == -EBADMSG) {
		/* fs/ marked it bad on the way */
		e->deep_err = rc;
		e->marked_bad = true;
		return verify_entity_add_damage(e, 0, "a state record fails its checksum");
	}
	if (rc < 0) {
		e->deep_err = rc;
		return 0;
	}
	if (e->deep_digest != e->apply.state_digest && opt->mark_bad) {
		fs_mark_bad(fs, e->entity,
			    "its state does not match the digest kept with it at entry %llu "
			    "(found by paxfs-verify --deep)",
			    (unsigned long long)e->apply.applied_entry);
		e->marked_bad = true;
	}
	return 0;
}

int verify_summarise(struct store *st, struct fs *fs, const struct fs_entity_info *info,
		     const struct verify_summary_opts *opt, struct verify_entity *out)
{
	int rc;

	verify_entity_init(out, info->entity);
	out->state = info->state;
	if (info->state == FS_ENTITY_BAD)
		snprintf(out->reason, sizeof(out->reason), "%s", info->reason);
	out->has_apply = info->has_meta;
	if (info->has_meta)
		out->apply = info->meta;

	rc = store_get_paxos_meta(st, info->entity, &out->paxos);
	if (rc == 0) {
		out->has_paxos = true;
	} else if (rc == -EBADMSG) {
		memset(&out->paxos, 0, sizeof(out->paxos));
		if ((rc = verify_entity_add_damage(out, 0, "its Paxos meta fails its checksum")) <
		    0)
			return rc;
	} else if (rc != -ENOENT) {
		return rc == -ENOMEM ? rc : -EIO;
	}
	if ((rc = summarise_log(st, opt, out)) < 0)
		return rc;
	if ((rc = summarise_deep(fs, opt, out)) < 0)
		return rc;
	if (opt->applying)
		out->applying = opt->applying(opt->applying_arg, info->entity);
	return 0;
}

struct find_one {
	uint64_t want;
	bool found;
	struct fs_entity_info info;
};

static int find_one_cb(void *arg, const struct fs_entity_info *info)
{
	struct find_one *f = arg;
	if (info->entity == f->want) {
		f->info = *info;
		f->found = true;
	}
	return 1;
}

int verify_summarise_entity(struct store *st, struct fs *fs, uint64_t entity,
			    const struct verify_summary_opts *opt, struct verify_entity *out)
{
	struct find_one f = {.want = entity};
	int rc;

	verify_entity_init(out, entity);
	if (entity == 0)
		return -EINVAL;
	rc = fs_entities(fs, entity - 1, find_one_cb, &f);
	if (rc < 0)
		return rc == -ENOMEM ? rc : -EIO;
	if (!f.found) {
		memset(&f.info, 0, sizeof(f.info));
		f.info.entity = entity;
	}
	return verify_summarise(st, fs, &f.info, opt, out);
}

struct walk {
	struct store *st;
	struct fs *fs;
	const struct verify_summary_opts *opt;
	verify_entity_cb cb;
	void *arg;
	int err; /* a failure of ours, not the callback's value */
};

static int walk_cb(void *arg, const struct fs_entity_info *info)
{
	struct walk *w = arg;
	struct verify_entity e;
	int rc = verify_summarise(w->st, w->fs, info, w->opt, &e);
	if (rc < 0) {
		verify_entity_close(&e);
		w->err = rc;
		return 1;
	}
	rc = w->cb(w->arg, &e);
	verify_entity_close(&e);
	return rc;
}

int verify_summarise_from(struct store *st, struct fs *fs, uint64_t after,
			  const struct verify_summary_opts *opt, verify_entity_cb cb, void *arg)
{
	struct walk w = {st, fs, opt, cb, arg, 0};
	int rc = fs_entities(fs, after, walk_cb, &w);
	/* fs_entities returns the callback's value as it is, or -EIO. */
	return w.err ? w.err : rc;
}
