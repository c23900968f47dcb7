#!/usr/bin/env bash
# tests/faults/write_visibility.sh — regression (tests/faults "wipe", seed 21,
# a stale read), and what the local-disk contract of write-behind changed.
#
# Writes go through the kernel's page cache (write-through mode): the kernel
# copies a write's data into the pages it has cached before it sends the
# write to the daemon, so a reader on the writing node may see the data
# before a majority has it, as on a local disk (README, Semantics). What
# must still hold: a write that fails is not served on once its failure is
# reported (its pages are dropped first), and no other node ever sees it.
#
# Node 1 is cut off (its fault file drops every message to and from its
# peers), so a write there waits and then fails with EIO; a reader on node
# 1 with the file open reads it before the write (the old value), while it
# waits (the old value, or the new one when the kernel's cached page
# answers: the local disk's contract), and after close() reported the
# failure (the old value).
source "$(dirname "$0")/../system/lib.sh"
cluster_up -o timeout=3

f1=$C/mnt/1/reg
old=$(printf 'old value %054d' 0)
new=$(printf 'new value %054d' 0)
printf '%s' "$old" >"$f1"
check "node 2 sees the file" -- wait_until 10 grep -q "old value" "$C/mnt/2/reg"

faults=$_tmp/faults.1
: >"$faults"
"$CLUSTER" stop "$C" 1
check "node 1 restarts with a fault file" -- env PAXFS_OPTS="test_faults=$faults" \
	"$CLUSTER" start "$C" 1
# A reader opens the file now (before the write) and reads it twice: once
# at once (its pages are cached), once while the write is waiting.
cat >"$_tmp/reader.py" <<'PY'
import os, sys, time
def wait_for(name):
    while not os.path.exists(sys.argv[2] + name):
        time.sleep(0.05)
fd = os.open(sys.argv[1], os.O_RDONLY)
reads = [os.pread(fd, 4096, 0)]
open(sys.argv[2] + ".ready", "w").close()
wait_for(".go")
reads.append(os.pread(fd, 4096, 0))
wait_for(".go2")
reads.append(os.pread(fd, 4096, 0))
os.close(fd)
with open(sys.argv[2], "w") as f:
    f.write("".join(r.decode() + "\n" for r in reads))
PY
python3 "$_tmp/reader.py" "$f1" "$_tmp/read" &
reader=$!
wait_until 10 test -e "$_tmp/read.ready"

# The writer opens before node 1 is cut off (an open is a read barrier and
# would fail), and writes after.
cat >"$_tmp/writer.py" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
open(sys.argv[3] + ".ready", "w").close()
while not os.path.exists(sys.argv[3] + ".go"):
    time.sleep(0.05)
try:
    os.pwrite(fd, sys.argv[2].encode(), 0)
    os.close(fd)  # write-behind: the write is chosen, or fails, by close()
    rc = 0
except OSError as e:
    rc = e.errno
with open(sys.argv[3], "w") as f:
    f.write("%d\n" % rc)
PY
python3 "$_tmp/writer.py" "$f1" "$new" "$_tmp/wrc" &
writer=$!
wait_until 10 test -e "$_tmp/wrc.ready"
printf 'drop 2\ndrop 3\n' >"$faults.new" && mv "$faults.new" "$faults"
sleep 0.5
touch "$_tmp/wrc.go"
sleep 1
touch "$_tmp/read.go"
wait "$writer"
check "the write fails by close() (no majority)" -- test "$(cat "$_tmp/wrc")" = 5 # EIO
touch "$_tmp/read.go2"
wait "$reader"
check "a reader on node 1 read the old value before the write" -- \
	test "$(sed -n 1p "$_tmp/read")" = "$old"
check "a read while the write waits for a majority returns the old or the new value" -- \
	grep -qxF -e "$old" -e "$new" <(sed -n 2p "$_tmp/read")
check "after close() failed, that reader's cached page no longer holds the write" -- \
	test "$(sed -n 3p "$_tmp/read")" = "$old"
sed -n 3p "$_tmp/read" | grep -q "new value" && diag "it saw a write that was never chosen"
: >"$faults.new" && mv "$faults.new" "$faults"
check "node 2 never saw the write" -- test "$(cat "$C/mnt/2/reg")" = "$old"
