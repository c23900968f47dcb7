#!/usr/bin/env bash
# tests/system/locks.sh — flock and fcntl locks hold across the nodes: an
# exclusive flock on node 1 keeps node 2 out until it is released (unlock,
# close, kill -9 of the holder); a blocked flock on node 2 gets the lock as
# soon as node 1 lets go; 3 nodes x N flock-protected increments of one
# counter add up exactly; fcntl byte ranges conflict across nodes only where
# they overlap, F_GETLK on another node reports the holder's range, and
# closing the file releases them; a node killed while holding a lock keeps it
# until it comes back, and then lets it go.
source "$(dirname "$0")/lib.sh"
cluster_up

m1=$C/mnt/1 m2=$C/mnt/2 m3=$C/mnt/3
: "${PAXFS_LOCK_INCREMENTS:=200}"
echo 0 >"$m1/counter"
: >"$m1/lock"
: >"$m1/ranges"

# holder FILE READY CODE: runs python code using f: holds what the code takes
# until killed; touches READY once it holds it.
holder() {
	local file=$1 ready=$2 code=$3
	python3 -c "
import fcntl, os, sys, time
f = open(sys.argv[1], 'r+')
$code
open(sys.argv[2], 'w').close()
time.sleep(120)
" "$file" "$ready" 2>>"$_tmp/holder.err" &
	HOLDER=$!
	wait_until 10 test -e "$ready"
}

# ---- flock across nodes ------------------------------------------------------

holder "$m1/lock" "$_tmp/r1" 'fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)'
check "node 1 holds an exclusive flock" -- test -e "$_tmp/r1"
check "flock -x -n on node 2 fails while node 1 holds it" -- bash -c "! flock -x -n '$m2/lock' true"
check "flock -s -n on node 3 fails while node 1 holds it" -- bash -c "! flock -s -n '$m3/lock' true"
check "flock -x -n by another process on node 1 fails" -- bash -c "! flock -x -n '$m1/lock' true"
kill -9 "$HOLDER"
wait "$HOLDER" 2>/dev/null
# (release comes after close: the kernel does not wait for it)
check "after kill -9 of the holder, node 2 gets the flock" -- wait_until 5 flock -x -n "$m2/lock" true

# shared flocks on two nodes at once; exclusive refused meanwhile
holder "$m1/lock" "$_tmp/r2" 'fcntl.flock(f, fcntl.LOCK_SH)'
check "shared flock on node 2 beside node 1's shared one" -- flock -s -n "$m2/lock" true
check "exclusive flock on node 3 refused while one is shared" -- bash -c "! flock -x -n '$m3/lock' true"
kill -9 "$HOLDER"
wait "$HOLDER" 2>/dev/null

# a blocked flock on node 2 is woken when node 1 unlocks
holder "$m1/lock" "$_tmp/r3" 'fcntl.flock(f, fcntl.LOCK_EX)'
start=$(date +%s%N)
flock -x -w 20 "$m2/lock" -c "date +%s%N >'$_tmp/got'" &
waiter=$!
sleep 1
check "the waiter on node 2 is still blocked while node 1 holds the lock" -- test ! -e "$_tmp/got"
released=$(date +%s%N)
kill -9 "$HOLDER"
wait "$HOLDER" 2>/dev/null
wait "$waiter"
check "the blocked flock on node 2 got the lock (exit $?)" -- test -e "$_tmp/got"
if [[ -e $_tmp/got ]]; then
	ms=$((($(cat "$_tmp/got") - released) / 1000000))
	check "...within 2 s of the release (${ms} ms)" -- test "$ms" -lt 2000
fi

# a signal interrupts a blocked flock
holder "$m1/lock" "$_tmp/r4" 'fcntl.flock(f, fcntl.LOCK_EX)'
python3 -c "
import fcntl, signal, sys
class Alarm(Exception):
    pass
def ring(*a):
    raise Alarm()
signal.signal(signal.SIGALRM, ring)
signal.alarm(1)
f = open(sys.argv[1], 'r+')
try:
    fcntl.flock(f, fcntl.LOCK_EX)
    sys.exit(1)
except Alarm:
    sys.exit(0)
" "$m2/lock"
check "SIGALRM interrupts a blocked flock on node 2 with EINTR" -- test $? -eq 0
check "...and node 2 did not get the lock after all" -- bash -c "! flock -x -n '$m2/lock' true"
kill -9 "$HOLDER"
wait "$HOLDER" 2>/dev/null
[[ -s $_tmp/holder.err ]] && sed 's/^/# holder: /' "$_tmp/holder.err"

# ---- the counter -------------------------------------------------------------

t0=$SECONDS
pids=()
for i in 1 2 3; do
	m=$C/mnt/$i
	(
		for ((k = 0; k < PAXFS_LOCK_INCREMENTS; k++)); do
			flock -x "$m/lock" -c "n=\$(cat '$m/counter'); echo \$((n + 1)) >'$m/counter'" || exit 1
		done
	) &
	pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
want=$((3 * PAXFS_LOCK_INCREMENTS))
got=$(cat "$m2/counter")
check "3 nodes x $PAXFS_LOCK_INCREMENTS flock-protected increments = $want (got $got, $fails failed, $((SECONDS - t0)) s)" -- test "$got" = "$want" -a $fails -eq 0

# ---- fcntl byte ranges -------------------------------------------------------

holder "$m1/ranges" "$_tmp/r5" 'fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)'
check "node 1 holds bytes 0..9 exclusively" -- test -e "$_tmp/r5"
cat >"$_tmp/rangetry.py" <<'PY'
import fcntl, sys
f = open(sys.argv[1], 'r+')
op = fcntl.LOCK_SH if len(sys.argv) > 4 else fcntl.LOCK_EX
fcntl.lockf(f, op | fcntl.LOCK_NB, int(sys.argv[3]), int(sys.argv[2]))
PY
rangetry() { python3 "$_tmp/rangetry.py" "$1/ranges" "$2" "$3" ${4:-}; }
norange() { ! rangetry "$@" 2>/dev/null; }
check "node 2 locks bytes 10..19 beside it" -- rangetry "$m2" 10 10
check "node 2 cannot lock bytes 5..14" -- norange "$m2" 5 10
check "node 3 cannot take a shared lock of byte 9" -- norange "$m3" 9 1 sh
check "node 3 takes a shared lock of bytes 10..1000" -- rangetry "$m3" 10 991 sh
getlk=$(python3 -c "
import fcntl, os, struct, sys
f = open(sys.argv[1], 'r+')
fl = struct.pack('hhqqi', fcntl.F_WRLCK, os.SEEK_SET, 5, 1, 0)
t, w, s, l, p = struct.unpack('hhqqi', fcntl.fcntl(f, fcntl.F_GETLK, fl))
print('unlocked' if t == fcntl.F_UNLCK else '%s %d %d' % ('w' if t == fcntl.F_WRLCK else 'r', s, l))
" "$m3/ranges" 2>&1)
check "F_GETLK on node 3 reports node 1's write lock of 0..9 (got: $getlk)" -- test "$getlk" = "w 0 10"
kill -9 "$HOLDER"
wait "$HOLDER" 2>/dev/null
check "after the holder died, node 2 locks bytes 0..9" -- rangetry "$m2" 0 10

# close releases POSIX locks: a process locks, closes, and stays alive
holder "$m1/ranges" "$_tmp/r6" 'fcntl.lockf(f, fcntl.LOCK_EX, 0, 0); f.close()'
check "a POSIX lock is gone once its process closed the file" -- rangetry "$m2" 0 0
kill -9 "$HOLDER"
wait "$HOLDER" 2>/dev/null

# ---- a node that dies holding a lock -----------------------------------------

holder "$m1/lock" "$_tmp/r7" 'fcntl.flock(f, fcntl.LOCK_EX)'
check "node 1 holds the flock again" -- test -e "$_tmp/r7"
"$CLUSTER" kill "$C" 1 >/dev/null 2>&1
check "while node 1 is down, its lock stays: node 2 cannot take it" -- bash -c "! flock -x -n '$m2/lock' true"
kill -9 "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
check "node 1 starts again" -- "$CLUSTER" start "$C" 1
check "once node 1 is back, the lock of its earlier life goes (node 2 takes it)" -- \
	wait_until 20 flock -x -n "$m2/lock" true
grep -h "releasing the locks" "$C/log/1.log" | sed 's/^/# /'

verify_cluster
