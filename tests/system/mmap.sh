#!/usr/bin/env bash
# tests/system/mmap.sh — mmap of files open for writing (README, Semantics):
# a MAP_SHARED|PROT_WRITE mapping written on node 1 and msync'd is read on
# nodes 2 and 3; so is one written after its fd was closed; a read-only
# MAP_SHARED of an O_RDWR fd works; SQLite in WAL mode (which maps its -shm
# file) writes on one node and reads on another; a remote change is seen by
# a handle that stayed open for writing on this node. (xfstests' fsx with
# mmap reads and writes runs in tests/system/posix_tools.sh.)
source "$(dirname "$0")/lib.sh"
cluster_up
m1=$C/mnt/1

# 1. Written through a shared mapping, msync'd, closed: every node has it.
check "MAP_SHARED|PROT_WRITE on node 1: write, msync, close" -- python3 - "$m1/mapped" <<'PY'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, 3 * 4096 + 100)
m = mmap.mmap(fd, 3 * 4096 + 100, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
for i in range(3 * 4096 + 100):
    m[i] = 65 + i % 26
m.flush()  # msync(MS_SYNC)
m.close()
os.close(fd)
PY
python3 -c 'import sys; sys.stdout.buffer.write(bytes(65 + i % 26 for i in range(3 * 4096 + 100)))' \
	>"$_tmp/mapped"
check "node 2 reads the bytes written through the mapping" -- cmp "$_tmp/mapped" "$C/mnt/2/mapped"
check "node 3 too" -- cmp "$_tmp/mapped" "$C/mnt/3/mapped"

# 2. Stores made after the fd was closed are chosen when msync returns:
# node 2 reads them while the mapping is still there (no munmap, no close).
python3 - "$m1/late" "$_tmp/late" <<'PY' &
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, 8192)
m = mmap.mmap(fd, 8192, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
os.close(fd)
m[100:110] = b"after-fd-X"
m[5000:5010] = b"second-pg!"
m.flush()  # msync(MS_SYNC)
open(sys.argv[2] + ".ready", "w").close()
for _ in range(400):
    if os.path.exists(sys.argv[2] + ".go"):
        break
    time.sleep(0.05)
m.close()
PY
mapper=$!
wait_until 20 test -e "$_tmp/late.ready"
check "node 2 reads stores msync'd after close, the mapping still there" -- python3 - "$C/mnt/2/late" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
assert len(d) == 8192, len(d)
assert d[100:110] == b"after-fd-X" and d[5000:5010] == b"second-pg!", (d[100:110], d[5000:5010])
PY
touch "$_tmp/late.go"
wait "$mapper"

# 2b. Without msync, munmap sends the stores (chosen soon after, not waited for).
python3 - "$m1/unmapped" <<'PY'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, 4096)
m = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
os.close(fd)
m[0:8] = b"unmapped"
m.close()
PY
check "node 2 reads stores sent by munmap alone (within 5 s)" -- \
	wait_until 5 grep -q unmapped "$C/mnt/2/unmapped"

# 3. A read-only shared mapping of a file open for reading and writing.
check "read-only MAP_SHARED of an O_RDWR fd sees its own write()s" -- python3 - "$m1/rw" <<'PY'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, b"hello mmap" * 1000)
m = mmap.mmap(fd, 10000, mmap.MAP_SHARED, mmap.PROT_READ)
assert m[:10] == b"hello mmap" and m[9990:10000] == b"hello mmap"
os.pwrite(fd, b"HELLO", 0)
assert m[:5] == b"HELLO", m[:5]
m.close()
os.close(fd)
PY

# 4. A handle open for writing on node 1 sees a rewrite made on node 2 (same
# size: only the data and mtime change).
python3 - "$m1/shared" "$_tmp/shared" <<'PY' &
import os, sys, time
with open(sys.argv[1], "wb") as f:
    f.write(b"A" * 8192)
fd = os.open(sys.argv[1], os.O_RDWR)
assert os.pread(fd, 8192, 0) == b"A" * 8192  # now in the page cache
open(sys.argv[2] + ".ready", "w").close()
got = b""
for _ in range(200):  # 10 s
    got = os.pread(fd, 8192, 0)
    if got == b"B" * 8192:
        break
    time.sleep(0.05)
with open(sys.argv[2], "w") as f:
    f.write("ok\n" if got == b"B" * 8192 else "stale: %r\n" % got[:16])
PY
holder=$!
wait_until 20 test -e "$_tmp/shared.ready"
python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_WRONLY); os.pwrite(fd, b"B" * 8192, 0); os.close(fd)' \
	"$C/mnt/2/shared"
wait "$holder"
check "a writer's open handle on node 1 sees node 2's rewrite ($(cat "$_tmp/shared" 2>/dev/null))" -- \
	test "$(cat "$_tmp/shared" 2>/dev/null)" = ok

# 5. SQLite in WAL mode: its -shm file is a shared writable mapping.
check "SQLite WAL on node 1: 1000 rows" -- python3 - "$m1/db.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
with db:
    for i in range(1000):
        db.execute("INSERT INTO t VALUES (?, ?)", (i, "row %d" % i))
assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 1000
db.close()
PY
check "SQLite on node 2 reads the 1000 rows after the writer closed" -- python3 - "$C/mnt/2/db.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n, s = db.execute("SELECT count(*), sum(id) FROM t").fetchone()
assert (n, s) == (1000, 999 * 1000 // 2), (n, s)
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
db.close()
PY

# xfstests' fsx with mmap reads and writes: tests/system/posix_tools.sh.
verify_cluster
