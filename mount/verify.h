/* mount/verify.h — answering paxfs-verify over a client link.
 *
 * A client (net/: a link with handle >= NET_CLIENT_HANDLE_MIN that proved
 * the cluster secret) may only ask questions: a VerifyRequest gets a
 * VerifyReply (proto/verify.proto); anything else from a client is refused
 * and its link closed. */
#ifndef PAXFS_MOUNT_VERIFY_H
#define PAXFS_MOUNT_VERIFY_H

#include <stdint.h>

#include "mount/node.h"

/* An envelope from client `from`. Returns 0, or a negative errno that makes
 * net close the link (a message a client may not send). */
int mount_verify_on_client(struct mount_node *n, uint32_t from, const Paxfs__Envelope *env);

#endif
