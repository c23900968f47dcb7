#!/usr/bin/env bash
# tests/system/crash.sh — kill -9 of a node while two others write; restart it:
# it catches up by itself, and no write that returned success is missing or
# different anywhere. Then the same with the node that was writing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tree.sh"
cluster_up

ledger=$_tmp/ledger
mkdir -p "$ledger"

# writer NODE TAG SECONDS: writes small files; records each one that succeeded.
writer() {
	local node=$1 tag=$2 until=$((SECONDS + $3)) i=0
	while ((SECONDS < until)); do
		i=$((i + 1))
		local v="$tag $i $RANDOM$RANDOM"
		if printf '%s\n' "$v" >"$C/mnt/$node/$tag.$i" 2>/dev/null; then
			printf '%s\n' "$v" >"$ledger/$tag.$i"
		fi
	done
}

writer 1 a 6 &
w1=$!
writer 2 b 6 &
w2=$!
sleep 2
"$CLUSTER" kill "$C" 3
sleep 2
check "node 3 restarts after kill -9" -- "$CLUSTER" start "$C" 3
wait $w1 $w2

writer 1 c 5 &
w1=$!
sleep 1.5
"$CLUSTER" kill "$C" 2 # it was serving its own writer a moment ago
sleep 1
check "node 2 restarts after kill -9" -- "$CLUSTER" start "$C" 2
wait $w1

acked=$(ls "$ledger" | wc -l)
diag "$acked writes were acknowledged"
check "writes were acknowledged during the crashes" -- test "$acked" -gt 50
missing() {
	local node=$1 bad=0 f
	for f in "$ledger"/*; do
		cmp -s "$f" "$C/mnt/$node/${f##*/}" || bad=$((bad + 1))
	done
	[[ $bad -eq 0 ]] || { echo "node $node: $bad acknowledged writes missing or different"; return 1; }
}
for node in 1 2 3; do
	check "node $node holds every acknowledged write" -- wait_until 30 missing $node
done
check "the three trees are identical" -- wait_until 30 bash -c "
	. '$PAXFS_SRCDIR/tests/system/tree.sh'
	same_tree '$C/mnt/1' '$C/mnt/2' >/dev/null && same_tree '$C/mnt/1' '$C/mnt/3' >/dev/null"
same_tree "$C/mnt/1" "$C/mnt/2" | head -n 10 | sed 's/^/# 1 vs 2: /'
same_tree "$C/mnt/1" "$C/mnt/3" | head -n 10 | sed 's/^/# 1 vs 3: /'
verify_cluster
