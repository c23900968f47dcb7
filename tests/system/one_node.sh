#!/usr/bin/env bash
# tests/system/one_node.sh — a cluster of one node is a cluster: its new
# store has nobody to re-learn from, so it votes at once (issue 14: every
# operation hung for the timeout and failed with EIO), and it keeps its
# files across a restart.
source "$(dirname "$0")/lib.sh"
cluster_up -n 1 -o timeout=5

m1=$C/mnt/1
start=$SECONDS
check "a file is created and written" -- sh -c "echo alone > '$m1/f'"
check "... at once (took $((SECONDS - start))s)" -- test $((SECONDS - start)) -le 2
check "a directory and a rename" -- sh -c "mkdir '$m1/d' && mv '$m1/f' '$m1/d/g'"
check "it reads back" -- test "$(cat "$m1/d/g")" = alone
check "paxfs-verify does not call it amnesic" -- sh -c "! '$VERIFY' '$C/cluster.conf' 2>&1 | grep -q amnesia"
check "the node restarts" -- "$CLUSTER" stop "$C" 1
check "... and comes back" -- "$CLUSTER" start "$C" 1
check "the file survived the restart" -- test "$(cat "$m1/d/g")" = alone
check "writes go on" -- sh -c "echo again >> '$m1/d/g'"
check "... and read back" -- test "$(tail -n 1 "$m1/d/g")" = again
verify_cluster
