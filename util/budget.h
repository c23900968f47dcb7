/* util/budget.h — an allocator with a byte budget, for decoding peer input.
 *
 * protobuf-c's unpack allocates a whole C struct (and a pointer slot) for
 * every element of a repeated message field, whatever the element costs on
 * the wire: an empty PaxosMsg is 2 bytes there and ~260 in memory. A frame
 * from a peer is therefore decoded through a budget: the allocator hands out
 * memory until `limit` bytes are spent, then returns NULL, and protobuf-c
 * fails the unpack and frees what it had (its functions have the signatures
 * of ProtobufCAllocator's alloc and free; util/ does not include protobuf-c):
 *
 *   struct util_budget b;
 *   util_budget_init(&b, util_decode_limit(len));
 *   ProtobufCAllocator a = {util_budget_alloc, util_budget_free, &b};
 *   m = protobuf_c_message_unpack(desc, &a, len, buf);   NULL: b.over says why
 *   ...
 *   protobuf_c_message_free_unpacked(m, &a);    (b may be gone by then)
 *
 * The budget is spent, never refunded: what an unpack frees before it
 * returns (its scratch slabs) still counts, so the peak of a decode is
 * bounded too. Each block is charged what glibc's malloc takes for it (size
 * plus its 8-byte header, rounded up to 16, at least 32 bytes), so the limit
 * is real memory, not requested bytes. */
#ifndef PAXFS_UTIL_BUDGET_H
#define PAXFS_UTIL_BUDGET_H

#include <stdbool.h>
#include <stddef.h>

/* Decoding a message of `len` wire bytes may cost at most
 * UTIL_DECODE_FACTOR x len + UTIL_DECODE_SLACK bytes of memory.
 *
 * Measured on 1 MiB frames (tests/unit/net/test_net_frame.c prints them):
 * the most legitimate traffic costs is 24 x its size — a batch of TRIMMED
 * or FETCH messages with 1-byte ids, 10 bytes each on the wire; PROMISE,
 * REJECT, BARRIER, BARRIER_ACK batches 17-18 x, ACCEPTED 12 x, SCAN 11 x,
 * SCAN_REPLY items 5 x, verify replies 5-15 x, values ~1 x. Empty repeated
 * elements cost 68-132 x (an empty PaxosMsg or VerifyEntity: 132 x), SCANs
 * that are a bare type 66 x: refused. The slack covers small frames. */
#define UTIL_DECODE_FACTOR 32
#define UTIL_DECODE_SLACK  (64u << 10)
/* ...and never more than this, whatever the size: a 64 MiB frame
 * (max_frame) of small messages is no legitimate traffic, while one of
 * values costs about its size. */
#define UTIL_DECODE_MAX ((size_t)256 << 20)

/* min(UTIL_DECODE_FACTOR x len + UTIL_DECODE_SLACK, UTIL_DECODE_MAX). */
size_t util_decode_limit(size_t len);

struct util_budget {
	size_t limit; /* bytes it may hand out in all */
	size_t spent; /* bytes charged so far (<= limit) */
	bool over;    /* an allocation was refused for want of budget */
	bool oom;     /* malloc itself failed (not a property of the input) */
};

/* A budget of `limit` bytes, none spent. */
void util_budget_init(struct util_budget *b, size_t limit);

/* What one block of `size` bytes is charged. */
size_t util_budget_cost(size_t size);

/* malloc(size) charged to the budget `b` (a struct util_budget *): NULL,
 * with b->over set, when the charge would pass b->limit (or when b is
 * NULL), or when malloc fails. */
void *util_budget_alloc(void *b, size_t size);

/* free(p): the budget (which may be NULL or gone) is not refunded. */
void util_budget_free(void *b, void *p);

#endif
