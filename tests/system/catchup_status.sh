#!/usr/bin/env bash
# tests/system/catchup_status.sh — paxfsctl status while a node catches up:
# the node says how long its catch-up round has run and estimates how long
# it still needs (text and JSON), and says it is idle once it is done.
# The serving nodes send at most 1 MiB/s (-o catchup_rate=1), so the
# catch-up of 32 MiB written while node 3 was down lasts long enough to look
# (a first burst of up to 16 fetches of 1 MiB goes at once: mount/snapshot.h).
source "$(dirname "$0")/lib.sh"
CTL="$PAXFS_BUILDDIR/tools/paxfsctl"
[[ -x $CTL ]] || skip_all "paxfsctl not built"
cluster_up -o catchup_rate=1
conf=$C/cluster.conf

"$CLUSTER" stop "$C" 3
for i in $(seq 1 32); do
	head -c 1M /dev/urandom >"$C/mnt/1/f$i"
done
sync "$C/mnt/1/f32"
check "node 3 restarts" -- "$CLUSTER" start "$C" 3

# Node 3, seen in both forms while it shows an estimate (bounded: 300 polls).
seen_text="" seen_json=""
for ((i = 0; i < 300; i++)); do
	[[ -z $seen_text ]] && seen_text=$("$CTL" status "$conf" 2>/dev/null |
		grep -E "^node 3 .*catching up \(.*\) for [0-9]+s, about [0-9]+(s|m[0-9]+s) left" || true)
	[[ -z $seen_json ]] && seen_json=$("$CTL" status --json "$conf" 2>/dev/null | python3 -c '
import json, sys
n = [x for x in json.load(sys.stdin)["nodes"] if x["id"] == 3][0]
if n.get("catchup_eta_ms", 0) > 0 and n["catchup_round_ms"] > 0 and n["catchup_round_done"] > 0:
    print(n["catchup_eta_ms"])
' 2>/dev/null || true)
	[[ -n $seen_text && -n $seen_json ]] && break
	sleep 0.1
done
check "text: node 3 is catching up, for how long and about how long is left" -- test -n "$seen_text"
check "json: catchup_round_ms, catchup_round_done and catchup_eta_ms" -- test -n "$seen_json"
if [[ -n $seen_text ]]; then
	diag "$seen_text"
else
	"$CTL" status "$conf" | sed 's/^/# /'
fi

idle() { "$CTL" status "$conf" | grep -q "^node 3 .*catch-up idle"; }
check "node 3 finishes and says it is idle" -- wait_until 120 idle
check "node 3 holds the files" -- cmp "$C/mnt/1/f32" "$C/mnt/3/f32"
verify_cluster
