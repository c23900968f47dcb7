/* paxos/codec.h — wire formats of the engine: PaxosBatch (proto/paxos.proto)
 * and paxfs.Value (proto/command.proto). The only part of paxos/ that knows
 * protobuf.
 *
 * Decoding never trusts its input: anything malformed — bytes that do not
 * parse, a message type out of range, a missing value where one is required,
 * a ballot or entry of 0 where one is required — is -EBADMSG, never an
 * assertion and never a half-filled result.
 */
#ifndef PAXFS_PAXOS_CODEC_H
#define PAXFS_PAXOS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "paxos/paxos.h"
#include "proto/paxos.pb-c.h"

/* ---- paxfs.Value: a list of (command id, body) ------------------------- */

/* Bytes one command of `body_len` adds to an encoded Value. */
size_t paxos_codec_cmd_size(size_t body_len);

/* Writes one command (paxos_codec_cmd_size(len) bytes) at `out`; returns the
 * end of what it wrote. A Value is the concatenation of its commands; the
 * empty Value (no commands) is the no-op. */
uint8_t *paxos_codec_put_cmd(uint8_t *out, uint64_t id, const void *body, size_t len);

/* Calls cb for each command of an encoded Value, in order; body points into
 * `value`. Returns 0, cb's non-zero return, or -EBADMSG (nothing is called
 * for a malformed Value: it is checked whole first). */
typedef int (*paxos_value_cmd_cb)(void *arg, uint64_t id, const uint8_t *body, size_t len);
int paxos_codec_value_foreach(const uint8_t *value, size_t len, paxos_value_cmd_cb cb, void *arg);

/* ---- PaxosBatch ------------------------------------------------------------ */

/* Packs msgs[0..n) into one PaxosBatch. On success *buf is malloc'd (free())
 * and *len its size. -ENOMEM. */
int paxos_codec_encode(const struct paxos_msg *msgs, size_t n, uint8_t **buf, size_t *len);

/* Appends msgs[0..n) to the encoded batch in *buf (growing it with realloc;
 * *len bytes used of *cap). PaxosBatches concatenate: the daemon appends each
 * step's messages for a peer as they come and sends the buffer once per loop
 * turn, as one batch. On -ENOMEM *buf is unchanged. */
int paxos_codec_append(const struct paxos_msg *msgs, size_t n, uint8_t **buf, size_t *len,
		       size_t *cap);

/* Builds the protobuf-c struct of a batch (for embedding in an Envelope).
 * Values and items are borrowed from msgs: keep them alive while *out is used.
 * Free with paxos_codec_proto_free. -ENOMEM. */
int paxos_codec_to_proto(const struct paxos_msg *msgs, size_t n, Paxfs__PaxosBatch **out);
void paxos_codec_proto_free(Paxfs__PaxosBatch *b);

/* The end of the run of b's messages from `from` whose batch encodes in at
 * most max_bytes: > from (a message bigger than max_bytes goes alone).
 * A turn's messages to one peer can exceed any frame (catch-up values and
 * ACCEPTs of 4 MiB values): the sender cuts them into batches that fit. */
size_t paxos_codec_batch_fit(const Paxfs__PaxosBatch *b, size_t from, size_t max_bytes);

/* A decoded batch: msgs[0..n), whose values and items point into the
 * protobuf structure (no copy). */
struct paxos_codec_msgs {
	struct paxos_msg *msgs;
	size_t n;
	Paxfs__PaxosBatch *pb; /* owned when decoded from bytes */
	int owns_pb;
};

/* Unpacks and checks a PaxosBatch. On success fills *out (free with
 * paxos_codec_msgs_free); -EBADMSG for malformed input, -ENOMEM.
 *
 * Unpacking costs at most util_decode_limit(len) bytes (32 x len + 64 KiB,
 * util/budget.h), as net_frame_decode does for a whole frame: a batch that
 * would need more (many tiny messages: a type alone is 4 bytes on the wire
 * and ~260 in memory) is -EBADMSG. The conversion below adds less than
 * that again. */
int paxos_codec_decode(const uint8_t *buf, size_t len, struct paxos_codec_msgs *out);

/* Checks and converts an already unpacked batch (e.g. from an Envelope);
 * the messages point into `b`, which must outlive *out. -EBADMSG, -ENOMEM.
 * Allocates one struct paxos_msg (144 bytes) per message, no more than the
 * Paxfs__PaxosMsg protobuf-c built for it (176, checked at compile time):
 * for a batch decoded under a limit (net_frame_decode, paxos_codec_decode)
 * the copy costs less than the decode did. */
int paxos_codec_from_proto(const Paxfs__PaxosBatch *b, struct paxos_codec_msgs *out);

void paxos_codec_msgs_free(struct paxos_codec_msgs *m);

/* Checks one message as the decoder does (0 or -EBADMSG); the engine applies
 * the same checks to every message it receives. */
int paxos_codec_check_msg(const struct paxos_msg *m);

#endif
