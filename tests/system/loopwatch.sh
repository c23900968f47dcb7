#!/usr/bin/env bash
# tests/system/loopwatch.sh — a node whose event loop was blocked says so:
# one warning line with how long, and paxfsctl status and metrics count it
# (mount/loopwatch.h). The block is injected (test_faults: block_loop_ms).
source "$(dirname "$0")/lib.sh"
CTL="$PAXFS_BUILDDIR/tools/paxfsctl"
[[ -x $CTL ]] || skip_all "paxfsctl not built"
cluster_up

faults=$_tmp/faults.1
: >"$faults"
"$CLUSTER" stop "$C" 1
check "node 1 restarts with a fault file" -- env PAXFS_OPTS="test_faults=$faults" \
	"$CLUSTER" start "$C" 1
blocks() {
	"$CTL" status --json "$C/cluster.conf" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["nodes"][0]["loop_blocks"])'
}
check "a new node's loop was never blocked" -- test "$(blocks)" = 0

echo "block_loop_ms 1500" >"$faults"
check "node 1 logs the block and how long it took" -- \
	wait_until 20 grep -Eq "warn node 1: the event loop was blocked for 1[4-9][0-9]{2} ms" "$C/log/1.log"
check "status counts it" -- test "$(blocks)" = 1
check "metrics show it" -- bash -c "'$CTL' metrics '$C/cluster.conf' |
	grep -Eq '^paxfs_loop_blocked_max_ms\{cluster=\"local\",node=\"1\"\} 1[4-9][0-9]{2}$'"
check "the other nodes were not blocked" -- \
	bash -c "! grep -q 'event loop was blocked' '$C/log/2.log' '$C/log/3.log'"
echo hello >"$C/mnt/1/f" && sync "$C/mnt/1/f"
check "node 1 serves after the block" -- wait_until 10 grep -qx hello "$C/mnt/2/f"
verify_cluster
