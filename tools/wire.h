/* tools/wire.h — entity summaries on the wire (proto/verify.proto) and back.
 *
 * The daemon packs struct verify_entity into VerifyEntity messages; the
 * client unpacks them and checks everything a summary promises (entries
 * rising, states and sizes in range), so that a node answering garbage is
 * reported as such ("could not check") and never compared. */
#ifndef PAXFS_TOOLS_WIRE_H
#define PAXFS_TOOLS_WIRE_H

#include <stddef.h>

#include "proto/verify.pb-c.h"
#include "tools/summary.h"

/* A VerifyEntity built from a summary, with the arrays it points into. */
struct verify_wire_entity {
	Paxfs__VerifyEntity m;
	Paxfs__VerifyLogEntry *items;
	Paxfs__VerifyLogEntry **item_ptrs;
	Paxfs__VerifyDamage *damage;
	Paxfs__VerifyDamage **damage_ptrs;
};

/* Fills w->m from e. The message borrows e's strings: e must outlive it.
 * 0 or -ENOMEM (w is then closed). */
int verify_wire_pack(const struct verify_entity *e, struct verify_wire_entity *w);
void verify_wire_close(struct verify_wire_entity *w);

/* Reads a received VerifyEntity into *out (initialised here; close it even
 * on failure). -EBADMSG with the reason in why (a bad state, log entries
 * not rising, too many items, an over-long text), or -ENOMEM. */
int verify_wire_unpack(const Paxfs__VerifyEntity *m, struct verify_entity *out, char *why,
		       size_t whylen);

#endif
