/* tools/wire.c — packing and checking summaries (tools/wire.h). */
#include "tools/wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int verify_wire_pack(const struct verify_entity *e, struct verify_wire_entity *w)
{
	memset(w, 0, sizeof(*w));
	paxfs__verify_entity__init(&w->m);
	if (e->n_log) {
		w->items = calloc(e->n_log, sizeof(*w->items));
		w->item_ptrs = calloc(e->n_log, sizeof(*w->item_ptrs));
		if (!w->items || !w->item_ptrs)
			goto nomem;
	}
	if (e->n_damage) {
		w->damage = calloc(e->n_damage, sizeof(*w->damage));
		w->damage_ptrs = calloc(e->n_damage, sizeof(*w->damage_ptrs));
		if (!w->damage || !w->damage_ptrs)
			goto nomem;
	}
	w->m.entity = e->entity;
	w->m.state = e->state;
	w->m.reason.data = (uint8_t *)e->reason;
	w->m.reason.len = strnlen(e->reason, sizeof(e->reason));
	w->m.has_paxos = e->has_paxos;
	w->m.chosen_entry = e->paxos.chosen_entry;
	w->m.trimmed_entry = e->paxos.trimmed_entry;
	w->m.trimmed_crc = e->paxos.trimmed_crc;
	w->m.has_apply = e->has_apply;
	w->m.applied_entry = e->apply.applied_entry;
	w->m.chain_crc = e->apply.chain_crc;
	w->m.state_digest = e->apply.state_digest;
	for (size_t i = 0; i < e->n_log; i++) {
		Paxfs__VerifyLogEntry *it = &w->items[i];
		paxfs__verify_log_entry__init(it);
		it->entry = e->log[i].entry;
		it->value_id = e->log[i].value_id;
		it->value_crc = e->log[i].value_crc;
		it->value_len = e->log[i].value_len;
		w->item_ptrs[i] = it;
	}
	w->m.n_log = e->n_log;
	w->m.log = w->item_ptrs;
	w->m.log_truncated = e->log_truncated;
	for (size_t i = 0; i < e->n_damage; i++) {
		Paxfs__VerifyDamage *d = &w->damage[i];
		paxfs__verify_damage__init(d);
		d->entry = e->damage[i].entry;
		d->what.data = (uint8_t *)e->damage[i].what;
		d->what.len = strnlen(e->damage[i].what, sizeof(e->damage[i].what));
		w->damage_ptrs[i] = d;
	}
	w->m.n_damage = e->n_damage;
	w->m.damage = w->damage_ptrs;
	w->m.deep = e->deep;
	w->m.deep_digest = e->deep_digest;
	w->m.deep_error = (uint32_t)(e->deep_err < 0 ? -e->deep_err : 0);
	w->m.applying = e->applying;
	w->m.marked_bad = e->marked_bad;
	return 0;
nomem:
	verify_wire_close(w);
	return -ENOMEM;
}

void verify_wire_close(struct verify_wire_entity *w)
{
	free(w->items);
	free(w->item_ptrs);
	free(w->damage);
	free(w->damage_ptrs);
	memset(w, 0, sizeof(*w));
}

/* Copies a bytes field into a NUL-terminated buffer; false when it does not fit. */
static bool copy_text(char *dst, size_t size, const ProtobufCBinaryData *src)
{
	if (src->len >= size)
		return false;
	if (src->len)
		memcpy(dst, src->data, src->len);
	dst[src->len] = '\0';
	/* A NUL inside would hide the rest from a person: refuse it. */
	return strlen(dst) == src->len;
}

#define BAD(...)                                                                                   \
	do {                                                                                       \
		snprintf(why, whylen, __VA_ARGS__);                                                \
		return -EBADMSG;                                                                   \
	} while (0)

int verify_wire_unpack(const Paxfs__VerifyEntity *m, struct verify_entity *out, char *why,
		       size_t whylen)
{
	verify_entity_init(out, m->entity);
	if (m->entity == 0)
		BAD("a summary of entity 0");
	if (m->state > FS_ENTITY_BAD)
		BAD("entity %llu: unknown state %u", (unsigned long long)m->entity, m->state);
	out->state = m->state;
	if (!copy_text(out->reason, sizeof(out->reason), &m->reason))
		BAD("entity %llu: a bad reason of %zu bytes", (unsigned long long)m->entity,
		    m->reason.len);
	out->has_paxos = m->has_paxos;
	out->paxos.chosen_entry = m->chosen_entry;
	out->paxos.trimmed_entry = m->trimmed_entry;
	out->paxos.trimmed_crc = m->trimmed_crc;
	out->has_apply = m->has_apply;
	out->apply.applied_entry = m->applied_entry;
	out->apply.chain_crc = m->chain_crc;
	out->apply.state_digest = m->state_digest;
	if (m->n_log > VERIFY_LOG_MAX)
		BAD("entity %llu: %zu log entries (at most %d)", (unsigned long long)m->entity,
		    m->n_log, VERIFY_LOG_MAX);
	if (m->n_log) {
		out->log = malloc(m->n_log * sizeof(*out->log));
		if (!out->log)
			return -ENOMEM;
		out->cap_log = m->n_log;
	}
	for (size_t i = 0; i < m->n_log; i++) {
		const Paxfs__VerifyLogEntry *it = m->log[i];
		if (it->entry == 0 || (i > 0 && it->entry <= out->log[i - 1].entry))
			BAD("entity %llu: log entries out of order", (unsigned long long)m->entity);
		if (it->value_len == 0 && it->value_crc != 0)
			BAD("entity %llu entry %llu: an empty value with a CRC",
			    (unsigned long long)m->entity, (unsigned long long)it->entry);
		out->log[i] = (struct verify_log_item){
		    .entry = it->entry,
		    .value_id = it->value_id,
		    .value_crc = it->value_crc,
		    .value_len = it->value_len,
		};
		out->n_log++;
	}
	out->log_truncated = m->log_truncated;
	if (m->n_damage > VERIFY_DAMAGE_MAX)
		BAD("entity %llu: %zu damage notes (at most %d)", (unsigned long long)m->entity,
		    m->n_damage, VERIFY_DAMAGE_MAX);
	for (size_t i = 0; i < m->n_damage; i++) {
		char what[VERIFY_WHAT_MAX];
		if (!copy_text(what, sizeof(what), &m->damage[i]->what))
			BAD("entity %llu: a damage note of %zu bytes",
			    (unsigned long long)m->entity, m->damage[i]->what.len);
		if (verify_entity_add_damage(out, m->damage[i]->entry, "%s", what) < 0)
			return -ENOMEM;
	}
	out->deep = m->deep;
	out->deep_digest = m->deep_digest;
	if (m->deep_error > 4095)
		BAD("entity %llu: deep error %u is no errno", (unsigned long long)m->entity,
		    m->deep_error);
	out->deep_err = -(int)m->deep_error;
	out->applying = m->applying;
	out->marked_bad = m->marked_bad;
	return 0;
}
