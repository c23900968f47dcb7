#!/usr/bin/env bash
# tests/system/write_behind.sh — the local-disk contract of write() (mount/wbuf.h,
# DESIGN.md Durability): writes are buffered on the node and chosen when
# fsync() or close() returns. Many small writes become few Paxos entries;
# close-to-open holds across nodes; the writing node itself sees its
# buffered writes (read, stat); fsync'd data survives kill -9 of the writer's
# node; and without a majority close() fails instead of reporting success.
source "$(dirname "$0")/lib.sh"
cluster_up -o timeout=3
m1=$C/mnt/1

# writes COUNT SIZE PATH: COUNT sequential writes of SIZE bytes, then close.
writes() {
	python3 - "$@" <<'PY'
import os, sys
count, size, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for i in range(count):
    os.write(fd, bytes([65 + i % 26]) * (size - 1) + b"\n")
os.close(fd)
PY
}
writes 256 4096 "$_tmp/expect"

# 1. How many entries 256 writes of 4 KiB and a close cost: counted on node 3,
# restarted first so that its counter holds only this.
"$CLUSTER" stop "$C" 3 >/dev/null
"$CLUSTER" start "$C" 3 >/dev/null
check "256 writes of 4 KiB and close on node 1" -- writes 256 4096 "$m1/small"
check "node 3 reads all of it after open (close-to-open)" -- cmp "$_tmp/expect" "$C/mnt/3/small"
check "node 2 too" -- cmp "$_tmp/expect" "$C/mnt/2/small"
"$CLUSTER" stop "$C" 3 >/dev/null
entries=$(sed -n 's/.*applied \([0-9]*\) entries (.*since start.*/\1/p' "$C/log/3.log" | tail -n 1)
diag "node 3 applied ${entries:-?} entries for create + 256 writes + close"
check "far fewer entries than writes (${entries:-?} < 32)" -- test "${entries:-999}" -lt 32
check "node 3 comes back" -- "$CLUSTER" start "$C" 3

# 2. The writing node sees its own buffered writes before close.
check "read and stat on the writing node, before close, see the data" -- python3 - "$m1/own" <<'PY'
import os, sys
path = sys.argv[1]
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
data = b"".join(bytes([97 + i % 26]) * 1000 for i in range(50))
for i in range(50):
    os.write(fd, data[i * 1000:(i + 1) * 1000])
os.pwrite(fd, b"XYZ", 10)  # an overwrite of buffered data: later data wins
data = data[:10] + b"XYZ" + data[13:]
assert os.fstat(fd).st_size == len(data), ("fstat", os.fstat(fd).st_size)
assert os.stat(path).st_size == len(data), ("stat", os.stat(path).st_size)
assert os.pread(fd, len(data), 0) == data, "pread on the same handle"
with open(path, "rb") as f:
    assert f.read() == data, "read through another handle"
os.truncate(path, 100)  # a truncate after buffered writes keeps their order
assert os.fstat(fd).st_size == 100
os.close(fd)
with open(path, "rb") as f:
    assert f.read() == data[:100], "after truncate and close"
PY
check "node 2 reads what node 1 left" -- test "$(head -c 100 "$C/mnt/2/own" | md5sum)" = "$(head -c 100 "$m1/own" | md5sum)"

# 3. fsync'd data survives a kill -9 of the writer's node (the fd still open).
python3 - "$m1/synced" "$_tmp/synced.ready" <<'PY' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
for i in range(100):
    os.write(fd, b"synced line %04d\n" % i)
os.fsync(fd)
open(sys.argv[2], "w").close()
time.sleep(60)
PY
holder=$!
wait_until 20 test -e "$_tmp/synced.ready"
"$CLUSTER" kill "$C" 1 >/dev/null
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
for i in $(seq 0 99); do printf 'synced line %04d\n' "$i"; done >"$_tmp/synced"
check "fsync'd data is on node 2 after kill -9 of node 1" -- cmp "$_tmp/synced" "$C/mnt/2/synced"
check "... and on node 3" -- cmp "$_tmp/synced" "$C/mnt/3/synced"
check "node 1 restarts" -- "$CLUSTER" start "$C" 1

# 4. Without a majority, close() fails: nothing unchosen is reported written.
check "close() without a majority fails with EIO" -- python3 - "$m1/nomaj" "$CLUSTER" "$C" <<'PY'
import errno, os, subprocess, sys
path, cluster, c = sys.argv[1:4]
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
for node in ("2", "3"):
    subprocess.run([cluster, "stop", c, node], check=True, stdout=subprocess.DEVNULL)
try:
    for i in range(10):
        os.write(fd, b"x" * 4096)
except OSError as e:
    sys.exit("write failed, not close: %s" % e)
try:
    os.close(fd)
except OSError as e:
    if e.errno in (errno.EIO, errno.ETIMEDOUT):
        sys.exit(0)
    sys.exit("close failed with %s" % e)
sys.exit("close() reported success without a majority")
PY
check "node 2 comes back" -- "$CLUSTER" start "$C" 2
check "node 3 comes back" -- "$CLUSTER" start "$C" 3
check "writes work again" -- wait_until 20 sh -c "echo again > '$m1/nomaj'"
check "node 2 reads the new content" -- wait_until 20 sh -c "test \"\$(cat '$C/mnt/2/nomaj')\" = again"
verify_cluster
