#!/usr/bin/env bash
# tests/system/catchup_status.sh — a node catching up, paced, and what
# paxfsctl status says meanwhile. The serving nodes send at most 1 MiB/s
# (-o catchup_rate=1), so the catch-up of 8 MiB written while node 3 was down
# takes at least 5 s (the bucket holds 2 MiB, one answer may go beyond it),
# and every byte goes once: a FETCH held by the pacer is answered FETCH_WAIT,
# so node 3 neither asks the other node too nor proposes at the entry (which
# every node would answer with the value, outside the rate: 2x the data in
# 2 s before). Meanwhile node 3 says how long its catch-up round has run
# and about how long it still needs (text and JSON); idle once it is done.
source "$(dirname "$0")/lib.sh"
CTL="$PAXFS_BUILDDIR/tools/paxfsctl"
[[ -x $CTL ]] || skip_all "paxfsctl not built"
cluster_up -o catchup_rate=1
conf=$C/cluster.conf

"$CLUSTER" stop "$C" 3
for i in $(seq 1 8); do
	head -c 1M /dev/urandom >"$C/mnt/1/f$i"
done
sync "$C/mnt/1/f8"
since=$(stat -c %s "$C/log/3.log")
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
check "node 3 holds the files" -- cmp "$C/mnt/1/f8" "$C/mnt/3/f8"
finished() { tail -c +"$((since + 1))" "$C/log/3.log" | grep -q "catch-up finished"; }
wait_until 10 finished
took=$(tail -c +"$((since + 1))" "$C/log/3.log" | grep -o 'catch-up finished: .* in [0-9.]* s' |
	tail -n 1 | sed 's/.* in \([0-9.]*\) s$/\1/')
check "the catch-up kept to the rate: at least 5 s for 8 MiB (took ${took:-?} s)" -- \
	python3 -c "import sys; sys.exit(0 if float('${took:-0}') >= 5 else 1)"
sent=$("$CTL" status --json "$conf" | python3 -c '
import json, sys
print(sum(p["bytes_out"] for n in json.load(sys.stdin)["nodes"] if n["id"] != 3
          for p in n["peers"] if p["id"] == 3))')
check "the servers sent node 3 each byte once: $sent bytes for 8 MiB (at most 9.5 MiB)" -- \
	test "$sent" -le $((19 << 19))
verify_cluster
