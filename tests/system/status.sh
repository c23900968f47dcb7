#!/usr/bin/env bash
# tests/system/status.sh — paxfsctl status and metrics on a real 3-node
# cluster: all up (exit 0, three voting lines, JSON that parses), metrics in
# Prometheus text format (HELP and TYPE before every family, every sample
# `name{labels} value`), two nodes stopped (exit 1, naming both as down and
# why), back up (exit 0); usage errors exit 2. The mounts show as fuse.paxfs.
source "$(dirname "$0")/lib.sh"
CTL="$PAXFS_BUILDDIR/tools/paxfsctl"
[[ -x $CTL ]] || skip_all "paxfsctl not built"
cluster_up

conf=$C/cluster.conf
check "the mounts are fuse.paxfs, source paxfs:local" -- \
	test "$(findmnt -rn -t fuse.paxfs -o SOURCE,TARGET | grep -c "^paxfs:local $C/mnt/")" -eq 3

out=$("$CTL" status "$conf")
rc=$?
check "status: all up, exit 0" -- test $rc -eq 0
check "... the cluster is available" -- grep -q "^cluster local: 3 of 3 nodes voting, a majority is 2: available$" <<<"$out"
for i in 1 2 3; do
	check "... node $i: up and voting" -- grep -Eq "^node $i 127\.0\.0\.1:[0-9]+: up [0-9]+s \(incarnation [0-9]+, paxfs [^)]+\), voting," <<<"$out"
done
check "... each node sees both peers up" -- test "$(grep -Ec 'peers [0-9],[0-9] up, disk' <<<"$out")" -eq 3
check "... and its disk" -- test "$(grep -Ec 'disk [0-9.]+ [KMGT]?i?B free of [0-9.]+ [KMGT]?i?B, store' <<<"$out")" -eq 3
[[ $rc -ne 0 ]] && printf '%s\n' "$out" | sed 's/^/# /'

json=$("$CTL" status --json "$conf")
check "status --json parses, available, three voting nodes" -- python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["available"] and d["voting"] == 3 and d["majority"] == 2, d
assert [n["id"] for n in d["nodes"]] == [1, 2, 3]
assert all(n["reachable"] and n["voting"] and len(n["peers"]) == 2 for n in d["nodes"])
' "$json"

# A write, so that counters move.
echo hello >"$C/mnt/1/f"
sync "$C/mnt/1/f"

"$CTL" metrics "$conf" >"$_tmp/metrics"
rc=$?
check "metrics: exit 0" -- test $rc -eq 0
check "... Prometheus text format" -- prom_check "$_tmp/metrics"
check "... paxfs_up 1 for each node" -- test "$(grep -c '^paxfs_up{cluster="local",node="[123]"} 1$' "$_tmp/metrics")" -eq 3
check "... per-peer bytes" -- grep -Eq '^paxfs_peer_sent_bytes_total\{cluster="local",node="1",peer="2"\} [1-9][0-9]*$' "$_tmp/metrics"
check "... node 1 applied the write" -- grep -Eq '^paxfs_applied_entries_total\{cluster="local",node="1"\} [1-9][0-9]*$' "$_tmp/metrics"
"$CTL" metrics "$conf" 2 >"$_tmp/metrics2"
check "metrics NODE: that node alone" -- sh -c "! grep -v '^#' '$_tmp/metrics2' | grep -qv 'node=\"2\"'"
check "... in the same format" -- prom_check "$_tmp/metrics2"

"$CLUSTER" stop "$C" 2
"$CLUSTER" stop "$C" 3
out=$("$CTL" status --timeout 3 "$conf")
rc=$?
check "two nodes stopped: exit 1" -- test $rc -eq 1
check "... no majority" -- grep -q "^cluster local: 1 of 3 nodes voting, a majority is 2: NO MAJORITY" <<<"$out"
check "... node 1 up, its peers down" -- grep -Eq "^node 1 .*: up .*peers 2,3 down" <<<"$out"
for i in 2 3; do
	check "... node $i down, and why" -- grep -Eq "^node $i 127\.0\.0\.1:[0-9]+: DOWN: unreachable: .*(refused|attempt)" <<<"$out"
done
printf '%s\n' "$out" | sed 's/^/# /'
"$CTL" metrics --timeout 3 "$conf" >"$_tmp/metrics3"
rc=$?
check "metrics with two down: exit 1" -- test $rc -eq 1
check "... paxfs_up 0 for them" -- test "$(grep -c '^paxfs_up{cluster="local",node="[23]"} 0$' "$_tmp/metrics3")" -eq 2
check "... still the format" -- prom_check "$_tmp/metrics3"

check "node 2 comes back" -- "$CLUSTER" start "$C" 2
check "status: a majority again, exit 0" -- wait_until 20 "$CTL" status "$conf"

"$CTL" >/dev/null 2>&1
check "no command: exit 2" -- test $? -eq 2
"$CTL" stats "$conf" >/dev/null 2>&1
check "an unknown command: exit 2" -- test $? -eq 2
"$CTL" status "$C/nothing.conf" >/dev/null 2>"$_tmp/err"
check "a config that does not load: exit 2" -- test $? -eq 2
check "... saying why" -- grep -q "nothing.conf" "$_tmp/err"
"$CTL" metrics "$conf" 9 >/dev/null 2>"$_tmp/err"
check "metrics of a node not in the config: exit 2" -- test $? -eq 2
"$CTL" status --json --timeout x "$conf" >/dev/null 2>&1
check "a bad timeout: exit 2" -- test $? -eq 2

check "node 3 comes back" -- "$CLUSTER" start "$C" 3
verify_cluster
