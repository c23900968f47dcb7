#!/usr/bin/env bash
# tests/system/nosuid.sh — mounts are nosuid,nodev unless -o suid,dev (issue
# 16): a SUID-root program or a device node that any node puts on the
# replicated tree must not give root or a device on every other node. A
# SUID-root copy of id(1) run by another user keeps that user's euid, a
# device node does not open; a node restarted with -o suid,dev (and another
# option, to see the user's options still reach the mount) shows neither
# flag, and there both work again: the checks above can fail.
source "$(dirname "$0")/lib.sh"
cluster_up

m1=$C/mnt/1 m2=$C/mnt/2
chmod o+x "$_tmp" "$C" "$C/mnt"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
flags() { findmnt -rn -o OPTIONS -M "$1" | tr , '\n'; }
has_flag() { flags "$1" | grep -qx "$2"; }
lacks_both() { ! flags "$1" | grep -qx -e nosuid -e nodev; }

check "findmnt shows nosuid ($(findmnt -rn -o OPTIONS -M "$m2"))" -- has_flag "$m2" nosuid
check "... and nodev" -- has_flag "$m2" nodev

cp /usr/bin/id "$m1/id" && chmod 4755 "$m1/id"
mknod -m 666 "$m1/zero" c 1 5
check "node 2 sees the SUID-root id" -- wait_until 10 test -u "$m2/id" -a -c "$m2/zero"
euid=$(as_nobody "$m2/id" -u 2>&1)
check "a SUID-root program run by uid 65534 does not get euid 0 (euid $euid)" -- test "$euid" = 65534
check "a device node does not open" -- sh -c "! head -c 4 '$m2/zero' >/dev/null 2>&1"

"$CLUSTER" stop "$C" 2
check "node 2 restarts with -o suid,dev,noatime" -- env PAXFS_OPTS=suid,dev,noatime "$CLUSTER" start "$C" 2
check "findmnt shows neither nosuid nor nodev ($(findmnt -rn -o OPTIONS -M "$m2"))" -- \
	lacks_both "$m2"
check "... and the other option (noatime)" -- has_flag "$m2" noatime
euid=$(as_nobody "$m2/id" -u 2>&1)
check "there the SUID-root program gets euid 0 (euid $euid)" -- test "$euid" = 0
check "... and the device node opens" -- sh -c "test \"\$(head -c 4 '$m2/zero' | od -An -tx1 | tr -d ' ')\" = 00000000"
check "node 1 is still nosuid,nodev" -- sh -c "findmnt -rn -o OPTIONS -M '$m1' | grep -q nosuid,nodev"
verify_cluster
