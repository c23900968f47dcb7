#!/usr/bin/env bash
# tests/system/failed_sync.sh — a node whose disk fails an fsync stops at
# once, says why and exits non-zero (after a failed sync nobody knows what
# the page cache holds: going on could serve or vote on what was lost); the
# others go on; restarted, it recovers from its disk and catches up.
# The failure comes from tests/system/failsync.c, preloaded into node 3.
source "$(dirname "$0")/lib.sh"
command -v cc >/dev/null || skip_all "no C compiler for the fsync shim"
cluster_up

shim=$_tmp/failsync.so
trigger=$_tmp/fail-syncs-now
check "the fsync shim builds" -- cc -shared -fPIC -o "$shim" "$PAXFS_SRCDIR/tests/system/failsync.c" -ldl

# Node 3 again, started by this test (its pid and exit status are ours).
"$CLUSTER" stop "$C" 3 >/dev/null 2>&1
bin=$PAXFS_BUILDDIR/mount/paxfs
opts="node=3,data=$C/data/3,allow_other,default_permissions"
log=$C/log/3.log
# An ASan build's runtime must come first; it is told not to insist.
LD_PRELOAD=$shim PAXFS_TEST_FAILSYNC=$trigger \
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
	"$bin" -f -o "$opts" "$C/cluster.conf" "$C/mnt/3" >>"$log" 2>&1 </dev/null &
pid=$!
mounted() { grep -qs " $C/mnt/3 fuse" /proc/mounts && stat "$C/mnt/3/." >/dev/null; }
check "node 3 starts with the shim" -- wait_until 20 mounted
check "a write on node 3 before the failure" -- sh -c "echo before >'$C/mnt/3/before'"

touch "$trigger"
if { echo after >"$C/mnt/3/after"; } 2>/dev/null; then refused=1; else refused=0; fi
ok "$refused" "a write on node 3 whose sync fails is not acknowledged"
gone() { ! kill -0 "$pid" 2>/dev/null; }
check "node 3 stops by itself" -- wait_until 15 gone
status=0
gone && { wait "$pid"; status=$?; }
diag "node 3 exited with status $status"
check "with a non-zero exit status" -- test "$status" -ne 0
check "its log says the sync failed and that it stopped" -- \
	grep -q "syncing the store failed.*stopping" "$log"
kill -9 "$pid" 2>/dev/null

check "node 1 goes on" -- sh -c "echo others >'$C/mnt/1/others'"
rm -f "$trigger"
check "node 3 restarts and recovers from its disk" -- "$CLUSTER" start "$C" 3
check "it has what was acknowledged before the failure" -- grep -qx before "$C/mnt/3/before"
check "and what the others wrote meanwhile" -- wait_until 10 grep -qx others "$C/mnt/3/others"
verify_cluster
