#!/usr/bin/env bash
# tests/faults/disk_full.sh — a full disk on one node (tests/faults "disk-full"):
# a write through a file it had open, and its fsync (write-behind: the error
# comes at fsync or close), fail with ENOSPC, not a bare EIO (the first may
# get EIO: a change in flight when the engine stopped may still be chosen,
# "not known to be done"); the other nodes go on; once space is back the
# node catches up by itself.
source "$(dirname "$0")/../system/lib.sh"
cluster_up -o timeout=5

disk=$C/data/3
"$CLUSTER" stop "$C" 3
mv "$disk" "$_tmp/data3"
mkdir "$disk"
if ! mount -t tmpfs -o size=64m,mode=0700 tmpfs "$disk"; then
	ok 1 "mount a small tmpfs for node 3"
	exit 1
fi
trap '"$CLUSTER" down "$C" >/dev/null 2>&1; umount -l "$disk" 2>/dev/null; _cleanup' EXIT
cp -a "$_tmp/data3/." "$disk/"
check "node 3 starts on its small disk" -- "$CLUSTER" start "$C" 3
echo before >"$C/mnt/1/f"
check "node 3 sees the file" -- wait_until 10 grep -q before "$C/mnt/3/f"

cat >"$_tmp/writer.py" <<'PY'
import errno, os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
open(sys.argv[2] + ".ready", "w").close()
while not os.path.exists(sys.argv[2] + ".go"):
    time.sleep(0.05)
res = []
for attempt in range(2):  # the second meets the engine down: the disk is still full
    try:
        os.pwrite(fd, b"during\n" * (1 << 17), 0)  # 1 MiB: more than any slack
        os.fsync(fd)  # buffered until here (write-behind)
        res.append("ok")
    except OSError as e:
        res.append(errno.errorcode.get(e.errno, str(e.errno)))
    time.sleep(0.3)
open(sys.argv[2], "w").write(" ".join(res) + "\n")
PY
python3 "$_tmp/writer.py" "$C/mnt/3/f" "$_tmp/res" &
writer=$!
wait_until 10 test -e "$_tmp/res.ready"
# fill the disk (dd stops at ENOSPC)
dd if=/dev/zero of="$disk/filler" bs=1M status=none 2>/dev/null
dd if=/dev/zero of="$disk/filler2" bs=4k status=none 2>/dev/null
touch "$_tmp/res.go"
wait "$writer"
got=$(cat "$_tmp/res")
check "writes on the full node fail with ENOSPC (the first may be EIO)" -- \
	test "$got" = "ENOSPC ENOSPC" -o "$got" = "EIO ENOSPC"
diag "the writes got: $(cat "$_tmp/res")"
check "the other nodes go on" -- bash -c "echo others >'$C/mnt/1/g' && grep -q others '$C/mnt/2/g'"
check "node 3 is still running" -- bash -c "kill -0 \$(cat '$C/run/3.pid')"
rm -f "$disk/filler" "$disk/filler2"
check "once space is back, node 3 catches up" -- wait_until 30 grep -q others "$C/mnt/3/g"
check "and writes again" -- bash -c "echo after >'$C/mnt/3/h' && grep -q after '$C/mnt/1/h'"
