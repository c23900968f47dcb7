#!/usr/bin/env bash
# tests/system/tls_capture.sh — no file content or name crosses the network
# in clear (issue 16): while a 3-node cluster writes a file with a
# distinctive name and content, tcpdump captures the cluster's ports on
# loopback; the capture must hold the traffic (more bytes than the file,
# which had to cross to be read on the others) but neither the name nor
# the content.
source "$(dirname "$0")/lib.sh"
command -v tcpdump >/dev/null || skip_all "no tcpdump (scripts/setup installs it)"
cluster_up

# tcpdump is ours: stopped by its pid on every exit, before the cluster.
tcpdump_pid=""
trap '_rc=$?; [[ -n $tcpdump_pid ]] && kill "$tcpdump_pid" 2>/dev/null; (exit $_rc); _cleanup' EXIT

ports=$(sed -n 's/^node\.[0-9]* *= *[^:]*:\([0-9]*\).*/\1/p' "$C/cluster.conf")
filter="tcp and ($(sed 's/^/port /' <<<"$ports" | paste -sd' ' | sed 's/ port/ or port/g'))"
cap=$_tmp/lo.pcap
# --immediate-mode: without it packets reach tcpdump in blocks, retired by a
# timeout, and a block not yet retired when it stops is never written (a
# loaded run captured nothing).
tcpdump -i lo --immediate-mode -U -s 0 -w "$cap" "$filter" 2>"$_tmp/tcpdump.err" &
tcpdump_pid=$!
check "tcpdump captures the cluster's ports ($filter)" -- \
	wait_until 10 grep -q "listening on" "$_tmp/tcpdump.err"

name="tls-probe-name-$$-$RANDOM-x7q"
line="tls-probe-content-$$-$RANDOM-k3z"
for _ in $(seq 2000); do echo "$line"; done >"$_tmp/content" # ~70 KB
check "a file written on node 1" -- cp "$_tmp/content" "$C/mnt/1/$name"
check "... reads back the same on node 2" -- \
	wait_until 20 cmp "$_tmp/content" "$C/mnt/2/$name"
check "... and on node 3" -- wait_until 20 cmp "$_tmp/content" "$C/mnt/3/$name"
sync "$C/mnt/1/$name"
sleep 1
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" 2>/dev/null
tcpdump_pid=""

size=$(stat -c %s "$cap")
want=$(stat -c %s "$_tmp/content")
check "the capture holds the traffic ($size bytes, more than $want)" -- test "$size" -gt "$want"
check "the file name is not in the capture" -- sh -c "! grep -a -q -F '$name' '$cap'"
check "the file content is not in the capture" -- sh -c "! grep -a -q -F '$line' '$cap'"
check "nor a part of the name" -- sh -c "! grep -a -q -F 'tls-probe-' '$cap'"
verify_cluster
