#!/usr/bin/env bash
# tests/system/fsx.sh — random reads, writes, truncates, appends, renames and
# unlinks from all three mounts against an in-memory model (tests/system/fsx.c),
# checked on every mount after each step. PAXFS_FSX_SEED=n replays one seed.
source "$(dirname "$0")/lib.sh"
prog=$PAXFS_BUILDDIR/tests/system/fsx
[[ -x $prog ]] || { echo "1..0 # SKIP $prog not built"; exit 0; }
cluster_up
seeds=${PAXFS_FSX_SEED:-"$((RANDOM * 32768 + RANDOM)) $((RANDOM * 32768 + RANDOM)) $((RANDOM * 32768 + RANDOM))"}
for seed in $seeds; do
	out=$("$prog" "$seed" 400 "$C/mnt/1" "$C/mnt/2" "$C/mnt/3")
	status=$?
	ok $status "fsx seed $seed (PAXFS_FSX_SEED=$seed replays it)"
	[[ $status -ne 0 ]] && grep '^#\|not ok' <<<"$out"
done
verify_cluster
