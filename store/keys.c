/* store/keys.c — key encoding (see keys.h for the layout and its order). */
#include "store/keys.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util/endian.h"

size_t store_key_entity(uint8_t *k, enum store_key_tag tag, uint64_t entity)
{
	k[0] = (uint8_t)tag;
	util_put_be64(k + 1, entity);
	return STORE_KEY_ENTITY_LEN;
}

size_t store_key_record(uint8_t *k, uint64_t entity, uint64_t entry)
{
	k[0] = STORE_TAG_RECORD;
	util_put_be64(k + 1, entity);
	util_put_be64(k + 9, entry);
	return STORE_KEY_RECORD_LEN;
}

size_t store_key_value(uint8_t *k, uint64_t entity, uint64_t entry, uint64_t value_id)
{
	k[0] = STORE_TAG_VALUE;
	util_put_be64(k + 1, entity);
	util_put_be64(k + 9, entry);
	util_put_be64(k + 17, value_id);
	return STORE_KEY_VALUE_LEN;
}

bool store_key_parse_entity(const void *key, size_t len, enum store_key_tag tag, uint64_t *entity)
{
	const uint8_t *k = key;
	if (len != STORE_KEY_ENTITY_LEN || k[0] != (uint8_t)tag)
		return false;
	if (entity)
		*entity = util_get_be64(k + 1);
	return true;
}

bool store_key_parse_record(const void *key, size_t len, uint64_t *entity, uint64_t *entry)
{
	const uint8_t *k = key;
	if (len != STORE_KEY_RECORD_LEN || k[0] != STORE_TAG_RECORD)
		return false;
	if (entity)
		*entity = util_get_be64(k + 1);
	if (entry)
		*entry = util_get_be64(k + 9);
	return true;
}

bool store_key_parse_value(const void *key, size_t len, uint64_t *entity, uint64_t *entry,
			   uint64_t *value_id)
{
	const uint8_t *k = key;
	if (len != STORE_KEY_VALUE_LEN || k[0] != STORE_TAG_VALUE)
		return false;
	if (entity)
		*entity = util_get_be64(k + 1);
	if (entry)
		*entry = util_get_be64(k + 9);
	if (value_id)
		*value_id = util_get_be64(k + 17);
	return true;
}

/* Appends up to 24 bytes of k as hex, with "..." when there is more. */
static void describe_hex(const uint8_t *k, size_t len, char *buf, size_t buflen, size_t used)
{
	size_t n = len < 24 ? len : 24;
	for (size_t i = 0; i < n && used + 4 < buflen; i++)
		used += (size_t)snprintf(buf + used, buflen - used, "%s%02x", i ? " " : "", k[i]);
	if (n < len && used + 4 < buflen)
		snprintf(buf + used, buflen - used, "...");
}

void store_key_describe(const void *key, size_t len, char *buf, size_t buflen)
{
	const uint8_t *k = key;
	uint64_t entity, entry, value_id;
	int n;

	if (!buflen)
		return;
	buf[0] = '\0';
	if (len == STORE_KEY_FORMAT_LEN && !memcmp(k, STORE_KEY_FORMAT, len)) {
		snprintf(buf, buflen, "format");
	} else if (len == STORE_KEY_NODE_LEN && !memcmp(k, STORE_KEY_NODE, len)) {
		snprintf(buf, buflen, "node");
	} else if (store_key_parse_entity(k, len, STORE_TAG_PAXOS_META, &entity)) {
		snprintf(buf, buflen, "paxos-meta entity=%" PRIu64, entity);
	} else if (store_key_parse_entity(k, len, STORE_TAG_APPLY_META, &entity)) {
		snprintf(buf, buflen, "apply-meta entity=%" PRIu64, entity);
	} else if (store_key_parse_record(k, len, &entity, &entry)) {
		snprintf(buf, buflen, "record entity=%" PRIu64 " entry=%" PRIu64, entity, entry);
	} else if (store_key_parse_value(k, len, &entity, &entry, &value_id)) {
		snprintf(buf, buflen,
			 "value entity=%" PRIu64 " entry=%" PRIu64 " value_id=%#" PRIx64, entity,
			 entry, value_id);
	} else if (len >= 1 && k[0] == STORE_TAG_STATE) {
		n = snprintf(buf, buflen, "state key [");
		if (n > 0 && (size_t)n < buflen)
			describe_hex(k + 1, len - 1, buf, buflen, (size_t)n);
		n = (int)strlen(buf);
		if ((size_t)n + 2 <= buflen)
			snprintf(buf + n, buflen - (size_t)n, "]");
	} else {
		n = snprintf(buf, buflen, "unknown key [");
		if (n > 0 && (size_t)n < buflen)
			describe_hex(k, len, buf, buflen, (size_t)n);
		n = (int)strlen(buf);
		if ((size_t)n + 2 <= buflen)
			snprintf(buf + n, buflen - (size_t)n, "]");
	}
}
