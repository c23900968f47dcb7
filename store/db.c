/* store/db.c — thin helpers over the leveldb C API: error mapping, checked
 * point reads, bounded range iteration.
 *
 * Invariant: every leveldb errptr is freed with leveldb_free exactly once,
 * and every leveldb error reaches the caller as a negative errno, never 0. */
#include <errno.h>
#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include <string.h>

#include "store/frame.h"
#include "store/internal.h"
#include "store/keys.h"
#include "util/log.h"

int store_ldb_errno(const char *msg)
{
	if (!msg)
		return -EIO;
	/* leveldb's PosixLockOrUnlock/LockFile: "IO error: lock <dir>/LOCK: ..."
	 * for another process (fcntl) and "... already held by process" for a
	 * second open in this one. */
	if (!strncmp(msg, "IO error: lock ", 15))
		return -EBUSY;
	if (strstr(msg, "No space left on device") || strstr(msg, "Disk quota exceeded"))
		return -ENOSPC;
	if (!strncmp(msg, "Corruption: ", 12))
		return -EBADMSG;
	if (!strncmp(msg, "Invalid argument: ", 18))
		return -EINVAL;
	return -EIO;
}

int store_ldb_error(char *msg, const char *what)
{
	int rc = store_ldb_errno(msg);
	LOG_ERR("store: %s: %s", what, msg ? msg : "unknown leveldb error");
	leveldb_free(msg);
	return rc;
}

int store_db_get(leveldb_t *db, const leveldb_readoptions_t *ro, const void *key, size_t klen,
		 char **raw, const uint8_t **payload, size_t *plen)
{
	char *err = NULL, name[160];
	size_t len = 0;
	char *v;
	int rc;

	*raw = NULL;
	v = leveldb_get(db, ro, key, klen, &len, &err);
	if (err) {
		/* A damaged table block is "Corruption: block checksum mismatch". */
		store_key_describe(key, klen, name, sizeof(name));
		char what[200];
		snprintf(what, sizeof(what), "read %s", name);
		return store_ldb_error(err, what);
	}
	if (!v)
		return -ENOENT;
	rc = store_frame_open(key, klen, v, len, payload, plen);
	if (rc) {
		leveldb_free(v);
		return rc;
	}
	*raw = v;
	return 0;
}

int store_db_range(leveldb_t *db, const leveldb_readoptions_t *ro, const void *lo, size_t lolen,
		   const void *hi, size_t hilen, store_range_fn fn, void *arg)
{
	leveldb_iterator_t *it = leveldb_create_iterator(db, ro);
	const char *k, *v;
	size_t klen, vlen, n;
	char *err = NULL;
	int rc = 0;

	for (leveldb_iter_seek(it, lo, lolen); leveldb_iter_valid(it); leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		if (hi) {
			n = klen < hilen ? klen : hilen;
			int c = memcmp(k, hi, n);
			if (c > 0 || (c == 0 && klen >= hilen))
				break;
		}
		v = leveldb_iter_value(it, &vlen);
		rc = fn(arg, (const uint8_t *)k, klen, (const uint8_t *)v, vlen);
		if (rc)
			break;
	}
	/* An iterator stops early (invalid) on a damaged block: that is an
	 * error, not the end of the range. */
	leveldb_iter_get_error(it, &err);
	if (err) {
		int e = store_ldb_error(err, "scan");
		if (!rc)
			rc = e;
	}
	leveldb_iter_destroy(it);
	return rc;
}

bool store_key_increment(uint8_t *key, size_t len)
{
	for (size_t i = len; i-- > 0;) {
		if (++key[i] != 0)
			return true;
	}
	return false;
}

int store_db_get_msg(leveldb_t *db, const leveldb_readoptions_t *ro, const void *key, size_t klen,
		     const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	const uint8_t *payload;
	char *raw, name[160];
	size_t plen;
	int rc;

	*out = NULL;
	rc = store_db_get(db, ro, key, klen, &raw, &payload, &plen);
	if (rc)
		return rc;
	*out = protobuf_c_message_unpack(desc, NULL, plen, payload);
	leveldb_free(raw);
	if (!*out) {
		store_key_describe(key, klen, name, sizeof(name));
		LOG_ERR("store: damaged %s: its checksum holds but it does not decode as %s", name,
			desc->name);
		return -EBADMSG;
	}
	return 0;
}
