/* mount/storage.c — the engine's storage callbacks (paxos_storage_ops),
 * read straight from the store. The turn writes every step's records at
 * once (unsynced), so these reads see every update already returned, as
 * paxos/paxos.h requires. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mount/node.h"

static int load_meta(void *ctx, uint64_t entity, struct paxos_meta *out)
{
	struct mount_node *n = ctx;
	struct store_paxos_meta m;
	int rc = store_get_paxos_meta(n->store, entity, &m);
	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	out->chosen_entry = m.chosen_entry;
	out->chosen_proposer = m.chosen_proposer;
	out->trimmed_entry = m.trimmed_entry;
	out->trimmed_crc = m.trimmed_crc;
	out->vote_after = m.vote_after;
	out->born = m.born;
	return 0;
}

static void to_paxos(const struct store_record *s, struct paxos_record *p)
{
	p->promised = s->promised;
	p->accepted = s->accepted;
	p->value_id = s->value_id;
	p->chosen = s->chosen;
	p->value = s->value;
	p->value_len = s->value_len;
}

static int load_record(void *ctx, uint64_t entity, uint64_t entry, struct paxos_record *out)
{
	struct mount_node *n = ctx;
	struct store_record r;
	int rc = store_get_record(n->store, entity, entry, &r);
	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	to_paxos(&r, out); /* the value's ownership passes to the engine */
	return 0;
}

struct scan_ctx {
	paxos_record_cb cb;
	void *arg;
};

static int scan_one(void *arg, uint64_t entry, const struct store_record *rec)
{
	struct scan_ctx *sc = arg;
	struct paxos_record p;
	to_paxos(rec, &p);
	return sc->cb(sc->arg, entry, &p);
}

static int scan_records(void *ctx, uint64_t entity, uint64_t from, paxos_record_cb cb, void *arg)
{
	struct mount_node *n = ctx;
	struct scan_ctx sc = {cb, arg};
	return store_scan_records(n->store, entity, from, UINT64_MAX, true, scan_one, &sc);
}

struct list_ctx {
	uint64_t *ids;
	size_t max, n;
};

static int list_one(void *arg, uint64_t entity, const struct store_paxos_meta *m)
{
	struct list_ctx *lc = arg;
	(void)m;
	lc->ids[lc->n++] = entity;
	return lc->n == lc->max ? 1 : 0;
}

static int list_entities(void *ctx, uint64_t after, uint64_t *ids, size_t max, size_t *n_out)
{
	struct mount_node *n = ctx;
	struct list_ctx lc = {ids, max, 0};
	int rc = max ? store_scan_entities(n->store, after, list_one, &lc) : 0;
	*n_out = lc.n;
	return rc < 0 ? rc : 0;
}

const struct paxos_storage_ops mount_storage_ops = {
    .load_meta = load_meta,
    .load_record = load_record,
    .scan_records = scan_records,
    .list_entities = list_entities,
};
