#!/usr/bin/env bash
# tests/system/mount_errors.sh — mistakes at mount time get an error that
# says what to do (issue 14): a non-empty mount point is refused (its files
# would be hidden) unless -o nonempty; a missing mount point says so; a data
# dir whose parents are missing is created with them (the log file beside
# it used to take the blame).
source "$(dirname "$0")/lib.sh"
cluster_up

PAXFS=$PAXFS_BUILDDIR/mount/paxfs
"$CLUSTER" stop "$C" 3
echo precious >"$C/mnt/3/file"
out=$(timeout 30 "$PAXFS" -o "node=3,data=$C/data/3,log=$_tmp/3.log" "$C/cluster.conf" "$C/mnt/3" 2>&1)
rc=$?
check "a non-empty mount point is refused (rc $rc)" -- test $rc -ne 0 -a $rc -ne 124
check "... saying so: $out" -- grep -q "is not empty: its files would be hidden.*-o nonempty" <<<"$out"
check "... and nothing is mounted over the file" -- test "$(cat "$C/mnt/3/file")" = precious
out=$(timeout 30 "$PAXFS" -o "node=3,data=$C/data/3" "$C/cluster.conf" "$_tmp/no/such/dir" 2>&1)
check "a missing mount point says so: $out" -- grep -q "no/such/dir: No such file or directory (create it with mkdir)" <<<"$out"
rm "$C/mnt/3/file"
check "node 3 mounts on its emptied mount point" -- "$CLUSTER" start "$C" 3

# node 3 again, its data dir lost, the new one's parents missing; in the
# background, so its log goes to DATA.log beside the data dir
"$CLUSTER" stop "$C" 3
trap 'fusermount3 -u "$C/mnt/3" 2>/dev/null; _cleanup' EXIT
data=$_tmp/deep/er/data3
out=$(timeout 30 "$PAXFS" -o "node=3,data=$data,allow_other" "$C/cluster.conf" "$C/mnt/3" 2>&1)
rc=$?
check "a data dir with missing parents is created with them (rc $rc: $out)" -- test $rc -eq 0 -a -d "$data"
check "... its log beside it" -- test -s "$data.log"
check "... and the node serves" -- \
	wait_until 30 sh -c "echo fresh > '$C/mnt/3/g' && test \"\$(cat '$C/mnt/1/g')\" = fresh"
fusermount3 -u "$C/mnt/3"
check "... and stops when unmounted" -- wait_until 20 grep -q "stopped" "$data.log"
