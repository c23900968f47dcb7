#!/usr/bin/env bash
# tests/system/setattr_carry.sh — a setattr right after buffered writes
# carries them (mount_wbuf_carry, fs_cmd_write_setattr): write + fchmod is one
# Paxos entry, not two, as tar -x, cp -p and rsync -a do for every file. The
# result is the same as before on every node: data, mode, owner and times;
# and a SUID file written by a user loses the bit before its chmod applies.
source "$(dirname "$0")/lib.sh"
cluster_up

m1=$C/mnt/1
addr=$(sed -n 's/^metrics\.1 *= *\([^ #]*\).*/\1/p' "$C/cluster.conf")
# applied: the entries node 1 has applied since it started.
applied() {
	python3 - "http://$addr/metrics" <<'EOF'
import sys, urllib.request
for line in urllib.request.urlopen(sys.argv[1], timeout=10).read().decode().splitlines():
    if line.startswith("paxfs_applied_entries_total{"):
        print(line.split()[-1])
EOF
}
mkdir "$m1/d"
sleep 0.3 # the mkdir's entry is applied everywhere

# 1. create, write 4 KiB, fchmod, fchown, close, utime: four entries
# (create, write + chmod, chown, utime); five when the write goes alone.
before=$(applied)
check "create, write, fchmod, fchown, utime, close on node 1" -- python3 - "$m1/d/f" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, b"x" * 4095 + b"\n")
os.fchmod(fd, 0o640)
os.fchown(fd, 1234, 5678)
os.close(fd)
os.utime(sys.argv[1], ns=(1_000_000_000, 2_000_000_000))
EOF
after=$(applied)
diag "node 1 applied $((after - before)) entries for it"
check "four entries: the write went with the chmod ($((after - before)))" -- \
	test "$((after - before))" -eq 4
for i in 2 3; do
	check "node $i: the data" -- test "$(head -c 4095 "$C/mnt/$i/d/f" | tr -d x | wc -c)" -eq 0
	check "node $i: size, mode, owner, mtime" -- \
		test "$(stat -c '%s %a %u %g %Y' "$C/mnt/$i/d/f")" = "4096 640 1234 5678 2"
done

# 2. A user's write to a SUID file clears the bit; the chmod after it (in
# the same entry) sets what it asks.
chmod o+rx "$_tmp"
install -m 04755 -o 65534 /dev/null "$m1/d/suid"
check "a user writes the SUID file, then chmods it 4711" -- \
	setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 - "$m1/d/suid" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, b"data\n")
os.fchmod(fd, 0o4711)
os.close(fd)
EOF
check "node 2: mode 4711 and the data" -- \
	test "$(stat -c %a "$C/mnt/2/d/suid")-$(cat "$C/mnt/2/d/suid")" = "4711-data"

# 3. tar -xp of a tree: every node has the files, modes and times of the
# archive.
src=$_tmp/src
mkdir -p "$src/a/b"
for i in $(seq 1 40); do
	head -c $((i * 300)) /dev/urandom >"$src/a/f$i"
	chmod $((600 + i % 8 * 10 + i % 5)) "$src/a/f$i"
	touch -d "@$((1000000 + i))" "$src/a/f$i"
done
echo tail >"$src/a/b/g"
tar -C "$src" -cf "$_tmp/t.tar" .
mkdir "$m1/t"
check "tar -xp on node 1" -- tar -C "$m1/t" -xpf "$_tmp/t.tar"
listing() { (cd "$1" && find . -type f -printf '%p %s %m %Ts\n' | sort && find . -type f -exec md5sum {} + | sort); }
listing "$src" >"$_tmp/want"
for i in 1 2 3; do
	check "node $i: the tree as archived" -- cmp "$_tmp/want" <(listing "$C/mnt/$i/t")
done
verify_cluster
