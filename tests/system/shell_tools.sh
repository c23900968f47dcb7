#!/usr/bin/env bash
# tests/system/shell_tools.sh — ordinary shell tools on one mount; the other
# two mounts must show exactly the same tree (names, types, modes, sizes,
# link counts, mtimes, contents), and paxfs-verify must find them agreeing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tree.sh"
cluster_up

m1=$C/mnt/1 m2=$C/mnt/2 m3=$C/mnt/3
src=$_tmp/src
mkdir -p "$src/d1/d2" "$src/empty"
for i in $(seq 1 20); do seq 1 $((i * 37)) >"$src/d1/file$i"; done
head -c 300000 /dev/urandom >"$src/d1/d2/random.bin"
ln -s ../file1 "$src/d1/d2/link"
chmod 640 "$src/d1/file2"
touch -d '2001-02-03 04:05:06' "$src/d1/file3"

check "mkdir -p" -- mkdir -p "$m1/a/b/c/d"
check "cp -a of a tree" -- cp -a "$src" "$m1/tree"
check "the copy reads back as the source" -- diff -r "$src" "$m1/tree"
check "mv within a directory" -- mv "$m1/tree/d1/file4" "$m1/tree/d1/file4.moved"
check "mv across directories" -- mv "$m1/tree/d1/file5" "$m1/a/b/c/file5"
check "mv of a directory" -- mv "$m1/a/b/c/d" "$m1/tree/d"
check "ln (hard link)" -- ln "$m1/tree/d1/file6" "$m1/tree/hard6"
check "ln -s" -- ln -s tree/d1/file7 "$m1/sym7"
check "readlink" -- test "$(readlink "$m1/sym7")" = tree/d1/file7
check "chmod" -- chmod 600 "$m1/tree/d1/file8"
check "chown" -- chown 1234:5678 "$m1/tree/d1/file9"
check "touch -d" -- touch -d '1999-12-31 23:59:59' "$m1/tree/d1/file10"
check "truncate (shrink)" -- truncate -s 100 "$m1/tree/d1/file11"
check "truncate (grow)" -- truncate -s 100000 "$m1/tree/d1/file12"
check "dd with seek (sparse)" -- dd if=/dev/urandom of="$m1/sparse" bs=4096 count=3 seek=5000 conv=notrunc status=none
check "sparse file size" -- test "$(stat -c %s "$m1/sparse")" -eq $((5003 * 4096))
check "holes read as zeros" -- cmp -n 4096 /dev/zero "$m1/sparse"
check "sed -i" -- sed -i 's/^1$/one/' "$m1/tree/d1/file13"
check "sed -i result" -- grep -qx one "$m1/tree/d1/file13"
check "> redirection" -- sh -c "echo first > '$m1/redir'"
check ">> redirection" -- sh -c "echo second >> '$m1/redir'"
check "cat" -- test "$(cat "$m1/redir")" = "$(printf 'first\nsecond')"
check "tar -c of the tree" -- tar -C "$m1" -cf "$_tmp/t.tar" tree
check "tar -x into the mount" -- tar -C "$m1/a" -xf "$_tmp/t.tar"
check "tar round trip" -- diff -r "$m1/tree" "$m1/a/tree"
check "find" -- test "$(find "$m1/tree" -type f | wc -l)" -eq "$(find "$m1/a/tree" -type f | wc -l)"
check "du" -- du -s "$m1/tree"
check "mkfifo" -- mkfifo "$m1/fifo"
check "fifo type" -- test -p "$m1/fifo"
check "rm -r" -- rm -r "$m1/a/tree/d1"
check "rm -r removed it" -- test ! -e "$m1/a/tree/d1"
if command -v git >/dev/null; then
	check "git init + commit + log" -- sh -c "cd '$m1' && git init -q repo && cd repo &&
		git config user.email t@example.com && git config user.name t &&
		echo hello > README && git add README && git commit -qm first &&
		echo more >> README && git commit -qam second &&
		test \$(git log --oneline | wc -l) -eq 2 && git fsck --no-progress >/dev/null"
fi

# The other mounts see the same tree (remote changes may take a moment).
check "mount 2 shows the same tree" -- wait_until 10 same_tree "$m1" "$m2"
check "mount 3 shows the same tree" -- wait_until 10 same_tree "$m1" "$m3"
same_tree "$m1" "$m3" | head -n 20 | sed 's/^/# /'
verify_cluster
