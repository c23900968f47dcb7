#!/usr/bin/env bash
# tests/system/lock_lease.sh — a dead or cut-off node's locks go when its
# lease runs out (-o lock_lease=3 on 3 nodes): node 1's daemon killed -9
# while one of its processes holds a flock, a blocked `flock -w` on node 2
# gets the lock within the lease bound; node 1's daemon stopped (SIGSTOP)
# while its process holds a flock: node 2 gets it and writes; node 1,
# continued, refuses its process' write (EIO) instead of overwriting node
# 2's data, which every node then reads. Times are printed; the bound
# asserted is 3 x lease, generous for a loaded machine (the design:
# 1.1 x lease + 1 s after the last renewal, docs/decisions.md "Locks").
source "$(dirname "$0")/lib.sh"
LEASE=3
cluster_up -o "lock_lease=$LEASE"

m1=$C/mnt/1 m2=$C/mnt/2 m3=$C/mnt/3
: >"$m1/lockA"
echo "node1-before" >"$m1/data"

# holder FILE READY CODE: python holding what CODE takes on f; touches READY.
holder() {
	local file=$1 ready=$2 code=$3
	python3 -c "
import errno, fcntl, os, sys, time
f = open(sys.argv[1], 'r+')
$code
" "$file" "$ready" "$_tmp" 2>>"$_tmp/holder.err" &
	HOLDER=$!
	wait_until 10 test -e "$ready"
}

# waiter MNT FILE OUT: a blocked flock -w (bounded) that records when it got
# the lock, and runs CMD under it.
waiter() {
	flock -x -w 20 "$1/$2" -c "date +%s%N >'$3'; ${4:-true}" &
	WAITER=$!
}

ms_since() { echo $((($(cat "$1") - $2) / 1000000)); }

# ---- a killed node ------------------------------------------------------------

holder "$m1/lockA" "$_tmp/rA" 'fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(120)'
check "node 1 holds an exclusive flock" -- test -e "$_tmp/rA"
check "node 2 cannot take it meanwhile" -- bash -c "! flock -x -n '$m2/lockA' true"
waiter "$m2" lockA "$_tmp/gotA"
sleep 0.5
killed=$(date +%s%N)
"$CLUSTER" kill "$C" 1 >/dev/null 2>&1
wait "$WAITER"
check "after node 1's daemon is killed -9, the blocked flock on node 2 gets the lock" -- \
	test -e "$_tmp/gotA"
if [[ -e $_tmp/gotA ]]; then
	ms=$(ms_since "$_tmp/gotA" "$killed")
	diag "a killed node's lock freed after ${ms} ms (lease ${LEASE} s)"
	check "...within 3 x lease of the kill (${ms} ms)" -- test "$ms" -le $((3 * LEASE * 1000))
fi
check "node 2 or 3 logged the end of node 1's lease" -- \
	grep -qs "node 1's lock lease (epoch [0-9]*, [0-9]* ms) ended" "$C/log/2.log" "$C/log/3.log"
kill -9 "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
check "node 1 starts again" -- "$CLUSTER" start "$C" 1

# ---- a stopped node (cut off, then back) ---------------------------------------

# holds the flock, has written under it; once told (go), writes again and
# says what the write, flush and close gave
holder "$m1/data" "$_tmp/rB" 'fcntl.flock(f, fcntl.LOCK_EX)
f.seek(0); f.write("node1-under-lock\n"); f.flush(); os.fsync(f.fileno())
open(sys.argv[2], "w").close()
for _ in range(600):
    if os.path.exists(sys.argv[3] + "/go"):
        break
    time.sleep(0.1)
res = "ok"
try:
    f.seek(0); f.write("node1-LATE-OVERWRITE\n"); f.flush(); os.fsync(f.fileno())
except OSError as e:
    res = errno.errorcode.get(e.errno, str(e.errno))
try:
    f.close()
except OSError as e:
    res = res if res != "ok" else errno.errorcode.get(e.errno, str(e.errno))
open(sys.argv[3] + "/late", "w").write(res)'
check "node 1 holds the flock on data and wrote under it" -- test -e "$_tmp/rB"
pid1=$(cat "$C/run/1.pid")
waiter "$m2" data "$_tmp/gotB" "printf 'node2-wrote\n' >'$m2/data'"
sleep 0.5
stopped=$(date +%s%N)
kill -STOP "$pid1"
wait "$WAITER"
st=$?
check "while node 1's daemon is stopped, node 2 gets the lock and writes (exit $st)" -- \
	test -e "$_tmp/gotB" -a "$st" -eq 0
if [[ -e $_tmp/gotB ]]; then
	ms=$(ms_since "$_tmp/gotB" "$stopped")
	diag "a stopped node's lock freed after ${ms} ms (lease ${LEASE} s)"
	check "...within 3 x lease of the stop (${ms} ms)" -- test "$ms" -le $((3 * LEASE * 1000))
fi
kill -CONT "$pid1"
touch "$_tmp/go"
check "node 1's process finished its late write" -- wait_until 30 test -s "$_tmp/late"
late=$(cat "$_tmp/late" 2>/dev/null)
check "node 1, continued, refused the late write with EIO (got: ${late:-nothing})" -- \
	test "$late" = EIO
wait "$HOLDER" 2>/dev/null
check "node 1 logged that it refuses I/O on the file" -- \
	grep -qs "I/O refused (EIO): this node's lock lease ran out" "$C/log/1.log"
for i in 1 2 3; do
	check "node $i reads node 2's data" -- \
		wait_until 20 bash -c "test \"\$(cat '$C/mnt/$i/data')\" = node2-wrote"
done
check "node 1 takes the lock again once its process closed the file" -- \
	flock -x -w 20 "$m1/data" true

verify_cluster
