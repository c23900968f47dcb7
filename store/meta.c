/* store/meta.c — node meta and the two per-entity metas.
 *
 *   "\0node"     -> NodeMeta    who this data dir belongs to
 *   'M' entity   -> PaxosMeta   the engine's per-entity state
 *   'A' entity   -> ApplyMeta   fs/'s apply cursor and chained checksum
 *
 * Invariant: a meta handed to a caller passed its frame checksum and decoded;
 * a missing one is -ENOENT with *out zeroed, never stale data.
 */
#include <errno.h>
#include <string.h>

#include "proto/record.pb-c.h"
#include "store/frame.h"
#include "store/internal.h"
#include "store/keys.h"
#include "util/log.h"

/* Reads and decodes one message of the store; see store_db_get_msg. */
static int get_msg(struct store *s, const void *key, size_t klen,
		   const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	leveldb_t *db;
	int rc = store_db_enter(s, &db);
	if (rc)
		return rc;
	rc = store_db_get_msg(db, s->ro, key, klen, desc, out);
	store_db_leave(s);
	return rc;
}

/* ---- node ---------------------------------------------------------------- */

int store_get_node(struct store *s, struct store_node *out)
{
	Paxfs__NodeMeta *m;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = get_msg(s, STORE_KEY_NODE, STORE_KEY_NODE_LEN, &paxfs__node_meta__descriptor,
		     (ProtobufCMessage **)&m);
	if (rc)
		return rc;
	len = strlen(m->cluster);
	if (len >= sizeof(out->cluster)) {
		LOG_ERR("store: damaged node: cluster name of %zu bytes (at most %zu)", len,
			sizeof(out->cluster) - 1);
		rc = -EBADMSG;
	} else {
		memcpy(out->cluster, m->cluster, len + 1);
		out->node_id = m->node_id;
		out->boot_count = m->boot_count;
		out->id_base = m->id_base;
		out->amnesia = m->amnesia;
	}
	paxfs__node_meta__free_unpacked(m, NULL);
	return rc;
}

void store_batch_put_node(struct store_batch *b, const struct store_node *n)
{
	Paxfs__NodeMeta m = PAXFS__NODE_META__INIT;
	char cluster[sizeof(n->cluster)];

	/* The struct's buffer need not be terminated: take at most 63 bytes. */
	memcpy(cluster, n->cluster, sizeof(cluster));
	cluster[sizeof(cluster) - 1] = '\0';
	m.cluster = cluster;
	m.node_id = n->node_id;
	m.boot_count = n->boot_count;
	m.id_base = n->id_base;
	m.amnesia = n->amnesia;
	store_batch_put_msg(b, STORE_KEY_NODE, STORE_KEY_NODE_LEN, &m.base);
}

int store_put_node(struct store *s, const struct store_node *n)
{
	struct store_batch *b = store_batch_new();
	int rc;
	if (!b)
		return -ENOMEM;
	store_batch_put_node(b, n);
	rc = store_write(s, b, true);
	store_batch_free(b);
	return rc;
}

/* ---- entity metas ---------------------------------------------------------- */

static void paxos_meta_from(struct store_paxos_meta *out, const Paxfs__PaxosMeta *m)
{
	out->chosen_entry = m->chosen_entry;
	out->chosen_proposer = m->chosen_proposer;
	out->trimmed_entry = m->trimmed_entry;
	out->trimmed_crc = m->trimmed_crc;
	out->vote_after = m->vote_after;
	out->born = m->born;
}

int store_get_paxos_meta(struct store *s, uint64_t entity, struct store_paxos_meta *out)
{
	uint8_t key[STORE_KEY_ENTITY_LEN];
	Paxfs__PaxosMeta *m;
	int rc;

	memset(out, 0, sizeof(*out));
	store_key_entity(key, STORE_TAG_PAXOS_META, entity);
	rc = get_msg(s, key, sizeof(key), &paxfs__paxos_meta__descriptor, (ProtobufCMessage **)&m);
	if (rc)
		return rc;
	paxos_meta_from(out, m);
	paxfs__paxos_meta__free_unpacked(m, NULL);
	return 0;
}

int store_get_apply_meta(struct store *s, uint64_t entity, struct store_apply_meta *out)
{
	uint8_t key[STORE_KEY_ENTITY_LEN];
	Paxfs__ApplyMeta *m;
	int rc;

	memset(out, 0, sizeof(*out));
	store_key_entity(key, STORE_TAG_APPLY_META, entity);
	rc = get_msg(s, key, sizeof(key), &paxfs__apply_meta__descriptor, (ProtobufCMessage **)&m);
	if (rc)
		return rc;
	out->applied_entry = m->applied_entry;
	out->chain_crc = m->chain_crc;
	out->state_digest = m->state_digest;
	paxfs__apply_meta__free_unpacked(m, NULL);
	return 0;
}

void store_batch_put_paxos_meta(struct store_batch *b, uint64_t entity,
				const struct store_paxos_meta *pm)
{
	Paxfs__PaxosMeta m = PAXFS__PAXOS_META__INIT;
	uint8_t key[STORE_KEY_ENTITY_LEN];

	m.chosen_entry = pm->chosen_entry;
	m.chosen_proposer = pm->chosen_proposer;
	m.trimmed_entry = pm->trimmed_entry;
	m.trimmed_crc = pm->trimmed_crc;
	m.vote_after = pm->vote_after;
	m.born = pm->born;
	store_key_entity(key, STORE_TAG_PAXOS_META, entity);
	store_batch_put_msg(b, key, sizeof(key), &m.base);
}

void store_batch_put_apply_meta(struct store_batch *b, uint64_t entity,
				const struct store_apply_meta *am)
{
	Paxfs__ApplyMeta m = PAXFS__APPLY_META__INIT;
	uint8_t key[STORE_KEY_ENTITY_LEN];

	m.applied_entry = am->applied_entry;
	m.chain_crc = am->chain_crc;
	m.state_digest = am->state_digest;
	store_key_entity(key, STORE_TAG_APPLY_META, entity);
	store_batch_put_msg(b, key, sizeof(key), &m.base);
}

struct entity_scan {
	store_entity_cb cb;
	void *arg;
};

static int entity_one(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct entity_scan *c = arg;
	struct store_paxos_meta pm;
	const uint8_t *payload;
	Paxfs__PaxosMeta *m;
	uint64_t entity;
	char name[160];
	size_t plen;
	int rc;

	if (!store_key_parse_entity(key, klen, STORE_TAG_PAXOS_META, &entity)) {
		store_key_describe(key, klen, name, sizeof(name));
		LOG_ERR("store: damaged key in the paxos-meta range: %s", name);
		return -EBADMSG;
	}
	rc = store_frame_open(key, klen, val, vlen, &payload, &plen);
	if (rc)
		return rc;
	m = paxfs__paxos_meta__unpack(NULL, plen, payload);
	if (!m) {
		store_key_describe(key, klen, name, sizeof(name));
		LOG_ERR("store: damaged %s: its checksum holds but it does not decode", name);
		return -EBADMSG;
	}
	paxos_meta_from(&pm, m);
	paxfs__paxos_meta__free_unpacked(m, NULL);
	return c->cb(c->arg, entity, &pm);
}

int store_scan_entities(struct store *s, uint64_t after, store_entity_cb cb, void *arg)
{
	uint8_t lo[STORE_KEY_ENTITY_LEN], hi[1] = {STORE_TAG_PAXOS_META + 1};
	struct entity_scan c = {.cb = cb, .arg = arg};
	leveldb_t *db;
	int rc;

	if (after == UINT64_MAX)
		return 0;
	store_key_entity(lo, STORE_TAG_PAXOS_META, after + 1);
	rc = store_db_enter(s, &db);
	if (rc)
		return rc;
	rc = store_db_range(db, s->ro, lo, sizeof(lo), hi, sizeof(hi), entity_one, &c);
	store_db_leave(s);
	return rc;
}
