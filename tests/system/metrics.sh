#!/usr/bin/env bash
# tests/system/metrics.sh — every node of a local cluster serves Prometheus
# text at http://ADDR/metrics, ADDR its config's metrics.N line (issue 14,
# mount/metrics.h): 200 with Content-Type text/plain; version=0.0.4, the
# format strictly (tests/system/lib.sh: prom_check, histograms included), its
# own samples only, up and uptime, FUSE request counters that move with
# what the mount does and histograms whose +Inf bucket is their _count, the
# store's fsyncs timed; another path is 404. A metrics port in use: the node
# does not start and names the config line.
source "$(dirname "$0")/lib.sh"
cluster_up

conf=$C/cluster.conf
PAXFS=$PAXFS_BUILDDIR/mount/paxfs

# scrape URL OUT: the body into OUT; prints "STATUS CONTENT-TYPE".
scrape() {
	python3 - "$1" "$2" <<'EOF'
import sys, urllib.request, urllib.error
url, out = sys.argv[1], sys.argv[2]
try:
    r = urllib.request.urlopen(url, timeout=10)
    status, ctype, body = r.status, r.headers.get("Content-Type"), r.read()
except urllib.error.HTTPError as e:
    status, ctype, body = e.code, e.headers.get("Content-Type"), e.read()
open(out, "wb").write(body)
print(status, ctype)
EOF
}

# value FILE SAMPLE: the value of the sample named exactly (name{labels}), or "".
value() { awk -v s="$2" 'index($0, s " ") == 1 { print $NF }' "$1"; }

addr=()
for i in 1 2 3; do
	addr[i]=$(sed -n "s/^metrics\.$i *= *\([^ #]*\).*/\1/p" "$conf")
done
check "scripts/cluster gave every node a metrics address" -- \
	test -n "${addr[1]}" -a -n "${addr[2]}" -a -n "${addr[3]}"

# Something for the counters to count, on node 1's mount.
echo hello >"$C/mnt/1/f"
sync "$C/mnt/1/f"
cat "$C/mnt/1/f" >/dev/null

for i in 1 2 3; do
	got=$(scrape "http://${addr[i]}/metrics" "$_tmp/m$i")
	check "node $i: GET /metrics is 200 text/plain; version=0.0.4 ($got)" -- \
		test "$got" = "200 text/plain; version=0.0.4"
	check "... in Prometheus text format" -- prom_check "$_tmp/m$i"
	check "... its own samples only" -- sh -c "! grep -v '^#' '$_tmp/m$i' | grep -v 'cluster=\"local\",node=\"$i\"'"
	check "... paxfs_up 1" -- test "$(value "$_tmp/m$i" "paxfs_up{cluster=\"local\",node=\"$i\"}")" = 1
	check "... votes" -- test "$(value "$_tmp/m$i" "paxfs_voting{cluster=\"local\",node=\"$i\"}")" = 1
	check "... an uptime" -- grep -Eq "^paxfs_uptime_seconds\{cluster=\"local\",node=\"$i\"\} [0-9]+$" "$_tmp/m$i"
	check "... its peers up" -- test "$(value "$_tmp/m$i" "paxfs_peers_up{cluster=\"local\",node=\"$i\"}")" = 2
	check "... a FUSE histogram per operation" -- \
		test "$(grep -c "^paxfs_fuse_request_seconds_count{cluster=\"local\",node=\"$i\",op=\"[a-z]*\"} " "$_tmp/m$i")" -ge 30
	n=$(value "$_tmp/m$i" "paxfs_fsync_seconds_count{cluster=\"local\",node=\"$i\"}")
	check "... the store's fsyncs timed ($n)" -- test "${n:-0}" -gt 0
done

m=$_tmp/m1
lbl='cluster="local",node="1"'
for op in create write flush release open; do
	n=$(value "$m" "paxfs_fuse_requests_total{$lbl,op=\"$op\"}")
	check "node 1 counted its FUSE $op requests (${n:-none})" -- test "${n:-0}" -gt 0
	check "... each in its $op histogram" -- \
		test "$(value "$m" "paxfs_fuse_request_seconds_count{$lbl,op=\"$op\"}")" = "$n"
	check "... none failed" -- test "$(value "$m" "paxfs_fuse_request_errors_total{$lbl,op=\"$op\"}")" = 0
done
check "... a write's time is in seconds, not zero" -- \
	awk -v s="paxfs_fuse_request_seconds_sum{$lbl,op=\"create\"}" 'index($0, s " ") == 1 { exit !($NF > 0 && $NF < 30) } ' "$m"
n=$(value "$_tmp/m2" "paxfs_fuse_requests_total{cluster=\"local\",node=\"2\",op=\"create\"}")
check "node 2 answered no create: its mount made none (${n:-none})" -- test "$n" = 0
# Proposals, conflicts and retries: node 1 proposed the create (namespace)
# and the write (the new file's entry 1, at round 0: it created the file).
p=$(value "$m" "paxfs_proposals_total{$lbl}")
fast=$(value "$m" "paxfs_proposals_fast_total{$lbl}")
check "node 1 counted its proposals (${p:-none}), one at least at round 0 (${fast:-none})" -- \
	test "${p:-0}" -ge 2 -a "${fast:-0}" -ge 1 -a "${fast:-0}" -le "${p:-0}"
for fam in paxfs_phase1_rounds_total paxfs_proposals_preempted_total \
	paxfs_proposals_lost_total paxfs_proposal_resends_total; do
	check "... and $fam ($(value "$m" "$fam{$lbl}"))" -- \
		grep -Eq "^$fam\\{$lbl\\} [0-9]+$" "$m"
done

before=$(value "$m" "paxfs_fuse_requests_total{$lbl,op=\"mkdir\"}")
before_err=$(value "$m" "paxfs_fuse_request_errors_total{$lbl,op=\"lookup\"}")
mkdir "$C/mnt/1/d"
ls "$C/mnt/1/nothing" >/dev/null 2>&1
scrape "http://${addr[1]}/metrics" "$_tmp/again" >/dev/null
after=$(value "$_tmp/again" "paxfs_fuse_requests_total{$lbl,op=\"mkdir\"}")
check "a mkdir moves the mkdir counter ($before -> $after)" -- test "$after" -eq $((before + 1))
n=$(value "$_tmp/again" "paxfs_fuse_request_errors_total{$lbl,op=\"lookup\"}")
check "a lookup of a missing name counts as an error ($before_err -> $n)" -- test "$n" -gt "$before_err"

got=$(scrape "http://${addr[1]}/other" "$_tmp/404")
check "another path is 404 ($got)" -- test "${got%% *}" = 404
got=$(scrape "http://${addr[1]}/" "$_tmp/404")
check "... / too ($got)" -- test "${got%% *}" = 404
got=$(scrape "http://${addr[1]}/metrics?x=1" "$_tmp/q")
check "a query string is ignored ($got)" -- test "${got%% *}" = 200

# Node 3's metrics port taken by another program: node 3 refuses to start and
# names the config line; once the port is free it starts.
"$CLUSTER" stop "$C" 3
port=${addr[3]##*:}
line=$(grep -n "^metrics\.3 " "$conf" | cut -d: -f1)
python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past the scrapes TIME_WAIT
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
time.sleep(120)' "$port" &
holder=$!
trap 'kill "$holder" 2>/dev/null; _cleanup' EXIT
wait_until 10 sh -c "ss -Htln 'sport = :$port' | grep -q ."
out=$(timeout 30 "$PAXFS" -o "node=3,data=$C/data/3,log=$_tmp/3.log" "$conf" "$C/mnt/3" 2>&1)
rc=$?
check "a metrics port in use: node 3 does not start (rc $rc)" -- test $rc -ne 0 -a $rc -ne 124
check "... naming the config line: $out" -- \
	grep -q "cluster.conf:$line: metrics.3 = ${addr[3]}: cannot listen there: Address already in use" <<<"$out"
check "... and leaves nothing mounted" -- sh -c "! mountpoint -q '$C/mnt/3'"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
trap _cleanup EXIT
check "with the port free node 3 starts" -- "$CLUSTER" start "$C" 3
got=$(scrape "http://${addr[3]}/metrics" "$_tmp/m3b")
check "... and serves its metrics ($got)" -- test "${got%% *}" = 200
verify_cluster
