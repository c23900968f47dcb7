#!/usr/bin/env bash
# tests/system/wrong_secret.sh — a node started with another secret than the
# cluster's does not mount and exit 0 to fail every operation later (issue
# 14): the command that starts it fails and says which file to fix. With the
# right secret it joins again.
source "$(dirname "$0")/lib.sh"
cluster_up

PAXFS=$PAXFS_BUILDDIR/mount/paxfs
"$CLUSTER" stop "$C" 3
sed 's/^secret_file.*/secret_file = other.key/' "$C/cluster.conf" >"$C/other.conf"
(umask 077 && head -c 32 /dev/urandom | base64 >"$C/other.key")

start=$SECONDS
out=$(timeout 30 "$PAXFS" -o "node=3,data=$C/data/3,log=$_tmp/bad.log" "$C/other.conf" "$C/mnt/3" 2>&1)
rc=$?
took=$((SECONDS - start))
check "paxfs with the wrong secret exits non-zero (rc $rc)" -- test $rc -ne 0 -a $rc -ne 124
check "... and says so: $out" -- grep -q "refuse this node's proof of the cluster secret" <<<"$out"
check "... naming the secret file" -- grep -q "other.key" <<<"$out"
check "... within a few seconds (took ${took}s)" -- test $took -le 6
check "... and leaves nothing mounted" -- sh -c "! mountpoint -q '$C/mnt/3'"

check "with the cluster's secret node 3 comes back" -- "$CLUSTER" start "$C" 3
check "... and works" -- wait_until 20 sh -c "echo joined > '$C/mnt/3/f' && test \"\$(cat '$C/mnt/1/f')\" = joined"

# a node whose peers are all down still starts (it may be the first one up)
"$CLUSTER" stop "$C" 1
"$CLUSTER" stop "$C" 2
"$CLUSTER" stop "$C" 3
check "a node starts alone while the others are down" -- "$CLUSTER" start "$C" 1
check "the others come back" -- sh -c "'$CLUSTER' start '$C' 2 && '$CLUSTER' start '$C' 3"
verify_cluster
