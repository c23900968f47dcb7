/* store/keys.h — the store's key layout: encoding, parsing, naming for logs.
 *
 * Invariant: integers are big-endian and every key starts with a one-byte
 * tag, so leveldb's bytewise order is (tag, entity, entry, value id) order
 * and all keys of one kind and one entity are one contiguous range:
 *
 *   "\0format"                           store format (once per data dir)
 *   "\0node"                             node meta
 *   'A' entity:8                         apply meta  (fs/ apply cursor)
 *   'M' entity:8                         paxos meta  (engine state)
 *   'P' entity:8 entry:8                 PLog record
 *   'S' fs-key...                        fs state    (fs/ owns the rest)
 *   'V' entity:8 entry:8 value_id:8      a large value, stored once
 *
 *   'P' 00..05 00..01 | 'P' 00..05 00..02 | ... | 'P' 00..06 00..01 | ...
 *    └─ entity 5, entry 1 ─┘               entity 6 starts after all of 5
 */
#ifndef PAXFS_STORE_KEYS_H
#define PAXFS_STORE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_key_tag {
	STORE_TAG_SYSTEM = 0x00, /* "\0format", "\0node" */
	STORE_TAG_APPLY_META = 'A',
	STORE_TAG_PAXOS_META = 'M',
	STORE_TAG_RECORD = 'P',
	STORE_TAG_STATE = 'S',
	STORE_TAG_VALUE = 'V',
};

#define STORE_KEY_FORMAT     "\0format"
#define STORE_KEY_FORMAT_LEN 7
#define STORE_KEY_NODE       "\0node"
#define STORE_KEY_NODE_LEN   5

#define STORE_KEY_ENTITY_LEN 9  /* tag + entity */
#define STORE_KEY_RECORD_LEN 17 /* tag + entity + entry */
#define STORE_KEY_VALUE_LEN  25 /* tag + entity + entry + value id */
#define STORE_KEY_MAX        25 /* longest fixed-layout key */

/* Writes tag + entity into k (STORE_KEY_ENTITY_LEN bytes); returns the length. */
size_t store_key_entity(uint8_t *k, enum store_key_tag tag, uint64_t entity);

/* 'P' entity entry (STORE_KEY_RECORD_LEN bytes); returns the length. */
size_t store_key_record(uint8_t *k, uint64_t entity, uint64_t entry);

/* 'V' entity entry value_id (STORE_KEY_VALUE_LEN bytes); returns the length. */
size_t store_key_value(uint8_t *k, uint64_t entity, uint64_t entry, uint64_t value_id);

/* Parse a key of the given tag and fixed layout. False when the key has
 * another tag or length (the caller decides whether that is corruption).
 * Output pointers may be NULL. */
bool store_key_parse_entity(const void *k, size_t len, enum store_key_tag tag, uint64_t *entity);
bool store_key_parse_record(const void *k, size_t len, uint64_t *entity, uint64_t *entry);
bool store_key_parse_value(const void *k, size_t len, uint64_t *entity, uint64_t *entry,
			   uint64_t *value_id);

/* Names a key for a person, e.g. "record entity=5 entry=7" or
 * "state 'S' 2f 61 62..." (always NUL-terminated, truncated to buflen). */
void store_key_describe(const void *k, size_t len, char *buf, size_t buflen);

#endif
