#!/usr/bin/env bash
# tests/system/modes.sh — tools that copy permissions keep modes exactly
# (issue 14): cp -p, cp -a, sed -i, rsync -a and tar -p carry POSIX ACLs,
# which paxfs does not implement; it refuses the ACL xattrs (EOPNOTSUPP), so
# the tools fall back to chmod, instead of storing an ACL that leaves files
# 0600 and directories 0700. Checked on another node, and as another user.
# And a user's write clears SUID/SGID.
source "$(dirname "$0")/lib.sh"
cluster_up

m1=$C/mnt/1 m2=$C/mnt/2 src=$_tmp/src
mkdir -p "$src/dir/sub"
echo one >"$src/file"
echo two >"$src/dir/sub/f"
chmod 0644 "$src/file" "$src/dir/sub/f"
chmod 0755 "$src/dir" "$src/dir/sub"
chmod 0640 "$src/dir/sub/f"
chmod o+rx "$_tmp"

mode() { stat -c %a "$1"; }
same_modes() { # DIR on node 2: the modes of src
	local d=$1
	[[ $(mode "$d/file") == 644 && $(mode "$d/dir") == 755 && $(mode "$d/dir/sub") == 755 &&
		$(mode "$d/dir/sub/f") == 640 ]]
}

cp -p "$src/file" "$m1/cp_p"
check "cp -p keeps 0644 (node 2 sees $(mode "$m2/cp_p"))" -- test "$(mode "$m2/cp_p")" = 644
cp -a "$src" "$m1/cp_a"
check "cp -a keeps every mode" -- same_modes "$m2/cp_a"
rsync -a "$src/" "$m1/rsync_a/"
check "rsync -a keeps every mode" -- same_modes "$m2/rsync_a"
tar -C "$src" -cf "$_tmp/t.tar" .
mkdir "$m1/tar_p" && tar -C "$m1/tar_p" -xpf "$_tmp/t.tar"
check "tar -xp keeps every mode" -- same_modes "$m2/tar_p"
cp "$src/file" "$m1/sed" && chmod 0644 "$m1/sed"
sed -i 's/one/uno/' "$m1/sed"
check "sed -i keeps 0644" -- test "$(mode "$m2/sed")" = 644
check "... and the change" -- test "$(cat "$m2/sed")" = uno
check "another user reads what cp -a copied" -- setpriv --reuid=65534 --regid=65534 --clear-groups cat "$m2/cp_a/file"
check "no ACL is stored" -- sh -c "! getfattr -d -m - -R '$m2' 2>/dev/null | grep -q posix_acl"
check "setting an ACL says it is not supported" -- \
	sh -c "setfattr -n system.posix_acl_access -v 0sAgAAAAEABgD/////BAAEAP////8gAAQA/////w== '$m1/sed' 2>&1 | grep -q 'not supported'"

# a write by a user without CAP_FSETID clears SUID, and SGID with group
# exec, as on a local disk (pjdfstest chmod/12.t); root's writes keep them
printf x >"$m1/suid" && chmod 06777 "$m1/suid"
printf x >"$m1/sgid_noexec" && chmod 02766 "$m1/sgid_noexec"
printf x >"$m1/root_writes" && chmod 06777 "$m1/root_writes"
printf x >"$m1/suid_buffered" && chmod 06777 "$m1/suid_buffered"
setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "echo y >> '$m1/suid'; echo y >> '$m1/sgid_noexec'"
setpriv --reuid=65534 --regid=65534 --clear-groups dd if=/dev/zero of="$m1/suid_buffered" bs=4k count=3 conv=notrunc status=none
echo y >>"$m1/root_writes"
dd if=/dev/zero of="$m1/root_writes" bs=4k count=3 conv=notrunc status=none
check "a user's write clears SUID and SGID (node 2 sees $(mode "$m2/suid"))" -- \
	wait_until 5 sh -c "test \$(stat -c %a '$m2/suid') = 777"
check "... also through write-behind ($(mode "$m2/suid_buffered"))" -- test "$(mode "$m2/suid_buffered")" = 777
check "... but not SGID without group exec ($(mode "$m2/sgid_noexec"))" -- test "$(mode "$m2/sgid_noexec")" = 2766
check "root's write keeps them ($(mode "$m2/root_writes"))" -- test "$(mode "$m2/root_writes")" = 6777
check "the writer's node sees it at once ($(mode "$m1/suid"))" -- test "$(mode "$m1/suid")" = 777
verify_cluster
