#!/usr/bin/env bash
# tests/faults/wipe_boot.sh — regression (found reading the "wipe" schedule's
# logs): a node whose data dir was lost must not reuse the ids of a recent
# life. A new store restarted the boot count (then the ids' prefix) from 1,
# so a wiped node handed out the command ids of its first life again, and an
# unfinished command of that life, chosen after the wipe, could answer a new
# request with an old result. Ids are now node << 56 | seq above a base per
# start, from the wall clock (docs/decisions.md, "Value ids and command ids").
#
# Node 3 restarts a few times, then loses its data dir: its new id base must
# be above every one it used before (each life's ids stay below the next
# base), and it must work.
source "$(dirname "$0")/../system/lib.sh"
cluster_up

bases() { sed -n 's/.*node 3: Paxos engine started (boot [0-9]*, id base \([0-9]*\).*/\1/p' "$C/log/3.log"; }
for _ in 1 2 3; do
	"$CLUSTER" stop "$C" 3
	"$CLUSTER" start "$C" 3 >/dev/null || break
done
before=$(bases | sort -n | uniq)
diag "id bases before the wipe: $(echo $before)"
"$CLUSTER" kill "$C" 3
rm -rf "$C/data/3"
check "node 3 starts on an empty data dir" -- "$CLUSTER" start "$C" 3
after=$(bases | tail -n 1)
diag "id base after the wipe: $after"
below=0
[[ -n $after ]] || below=1
for b in $before; do [[ -n $after ]] && ((b >= after)) && below=1; done
ok "$below" "the wiped node's id base is above those of its earlier lives"
check "node 3 re-learns and votes again" -- wait_until 30 bash -c "tail -n 5 '$C/log/3.log' | grep -q 'voting again'"
echo hello >"$C/mnt/3/f"
check "a write through the wiped node reaches the others" -- wait_until 10 grep -q hello "$C/mnt/1/f"
