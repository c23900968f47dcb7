#!/usr/bin/env bash
# tests/system/minority.sh — two of three nodes stopped: a change on the third
# fails with EIO within the timeout (never "done" without a majority); data it
# holds stays readable through an open file; open() itself needs a majority
# and fails the same way; the log says why (no majority, which nodes, since
# when, the last error). Once the others are back, everything converges.
source "$(dirname "$0")/lib.sh"
cluster_up -o timeout=3

m1=$C/mnt/1
echo before >"$m1/held"
exec 7<"$m1/held"
"$CLUSTER" stop "$C" 2
"$CLUSTER" stop "$C" 3

start=$SECONDS
out=$(echo after 2>&1 >"$m1/held")
rc=$?
took=$((SECONDS - start))
check "a write without a majority fails" -- test $rc -ne 0
check "... with EIO ($out)" -- grep -q "Input/output error" <<<"$out"
check "... within the timeout (took ${took}s)" -- test $took -le 8
check "a file open before still reads" -- test "$(cat <&7)" = before
check "stat is served locally" -- stat "$m1/held"
check "open needs a majority: EIO" -- sh -c "! cat '$m1/held' 2>&1 | grep -q before"
exec 7<&-
check "node 1's log says there is no majority" -- \
	wait_until 10 grep -q "no majority: this node reaches 1 of 3 nodes, a majority is 2" "$C/log/1.log"
check "... naming the nodes it cannot reach and why" -- \
	grep -Eq "node 2 \(127.0.0.1:[0-9]+\): unreachable for [0-9]+ s \(.*(connect|closed).*\); node 3" "$C/log/1.log"

check "node 2 comes back" -- "$CLUSTER" start "$C" 2
check "node 3 comes back" -- "$CLUSTER" start "$C" 3
check "writes work again" -- wait_until 20 sh -c "echo again > '$m1/held'"
check "node 1's log says the majority is back" -- wait_until 10 grep -q "majority back: this node reaches" "$C/log/1.log"
check "node 2 reads the new content" -- wait_until 20 sh -c "test \"\$(cat '$C/mnt/2/held')\" = again"
check "node 3 reads the new content" -- wait_until 20 sh -c "test \"\$(cat '$C/mnt/3/held')\" = again"
verify_cluster
