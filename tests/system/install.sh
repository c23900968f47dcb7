#!/usr/bin/env bash
# tests/system/install.sh — `make install` puts everything in place (the
# programs, the mount helper, the man pages, the systemd unit, the sample
# configs; the sample cluster config is the example of paxfs.conf(5)) and
# `make uninstall` takes it away; the installed helper makes
# `mount -t fuse.paxfs` and an fstab line mount a node for real, which
# findmnt then finds as fuse.paxfs, and umount stops.
#
# mount(8) looks for helpers in /sbin only: for the real mount the helper of
# an install under the test's temp dir is put at /sbin/mount.fuse.paxfs for
# the length of the test (never over one this test did not put there).
source "$(dirname "$0")/lib.sh"
[[ -f $PAXFS_BUILDDIR/Makefile ]] || skip_all "no build dir with a Makefile"
cluster_up

d=$_tmp/inst
prefix=/opt/paxfs-test
# mounthelperdir as configure sets it by default (make distcheck's build
# configures ${prefix}/sbin instead: data/local.mk).
make -s -C "$PAXFS_BUILDDIR" install DESTDIR="$d" prefix=$prefix mounthelperdir=/sbin >"$_tmp/make.log" 2>&1
check "make install DESTDIR=... prefix=$prefix" -- test $? -eq 0
for f in sbin/paxfs bin/paxfsctl bin/paxfs-verify share/man/man8/paxfs.8 share/man/man8/paxfsctl.8 \
	share/man/man8/paxfs-verify.8 share/man/man5/paxfs.conf.5 lib/systemd/system/paxfs@.service \
	share/doc/paxfs/cluster.conf.example share/doc/paxfs/paxfs.env.example; do
	check "installs $prefix/$f" -- test -s "$d$prefix/$f"
done
check "installs the mount helper where mount(8) looks: /sbin/mount.fuse.paxfs" -- test -x "$d/sbin/mount.fuse.paxfs"
check "... which runs the installed paxfs" -- grep -q "^paxfs='$prefix/sbin/paxfs'$" "$d/sbin/mount.fuse.paxfs"
check "the unit runs it in the foreground" -- \
	grep -q "^ExecStart=$prefix/sbin/paxfs -f -o node=\${PAXFS_NODE} \$PAXFS_ARGS $prefix/etc/paxfs/%i.conf \${PAXFS_MOUNTPOINT}$" "$d$prefix/lib/systemd/system/paxfs@.service"
check "... restarts it on failure, after the network" -- \
	sh -c 'grep -q "^Restart=on-failure$" "$1" && grep -q "^After=network-online.target$" "$1" && grep -q "^Type=simple$" "$1"' _ "$d$prefix/lib/systemd/system/paxfs@.service"
for m in paxfs paxfsctl paxfs-verify; do
	check "man page $m(8) renders without warnings, with every section" -- sh -c '
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l --warnings "$1" 2>&1 >/dev/null)
		[ -z "$out" ] || { echo "$out"; exit 1; }
		text=$(MANWIDTH=80 man -l "$1" 2>/dev/null)
		for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" FILES EXAMPLES "SEE ALSO"; do
			printf "%s\n" "$text" | grep -q "^$s" || { echo "no $s"; exit 1; }
		done' _ "$d$prefix/share/man/man8/$m.8"
done
conf5=$d$prefix/share/man/man5/paxfs.conf.5
check "man page paxfs.conf(5) renders without warnings, with every section" -- sh -c '
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l --warnings "$1" 2>&1 >/dev/null)
	[ -z "$out" ] || { echo "$out"; exit 1; }
	text=$(MANWIDTH=80 man -l "$1" 2>/dev/null)
	for s in NAME SYNOPSIS DESCRIPTION SYNTAX KEYS "NODE IDS" DIAGNOSTICS FILES EXAMPLES "SEE ALSO"; do
		printf "%s\n" "$text" | grep -q "^$s" || { echo "no $s"; exit 1; }
	done' _ "$conf5"
check "... names the installed sample config" -- grep -q "$prefix/share/doc/paxfs/cluster.conf.example" "$conf5"
for m in paxfs paxfsctl paxfs-verify; do
	check "$m(8) points to paxfs.conf(5)" -- grep -q '^\.BR paxfs\.conf (5)' "$d$prefix/share/man/man8/$m.8"
done
# The sample config and the page agree: the page's example holds the
# sample's settings, line for line and in the same order.
sample=$d$prefix/share/doc/paxfs/cluster.conf.example
page_example=$(MANWIDTH=200 man -l "$conf5" 2>/dev/null | sed -n '/^EXAMPLES/,/^[A-Z]/p' |
	sed -n 's/^ *\(cluster\|secret_file\|node\.[0-9]*\) *= *\([^ #]*\).*/\1 = \2/p' |
	awk '/^cluster = /{n++} n == 1') # the first example (the next one is certificates)
sample_settings=$(sed -n 's/^ *\([^#= ][^= ]*\) *= *\([^ #]*\).*/\1 = \2/p' "$sample")
check "the page's example has cluster, secret_file and node lines: $(echo $page_example)" -- \
	sh -c 'printf "%s\n" "$1" | grep -q "^cluster = " && printf "%s\n" "$1" | grep -q "^secret_file = " &&
		printf "%s\n" "$1" | grep -q "^node\.[0-9]* = "' _ "$page_example"
check "the sample config's settings are those of the page's example" -- \
	test "$sample_settings" = "$page_example"
check "the installed paxfsctl works" -- "$d$prefix/bin/paxfsctl" status "$C/cluster.conf"
check "the sample config loads (but for its secret file)" -- sh -c \
	"'$d$prefix/bin/paxfsctl' status '$d$prefix/share/doc/paxfs/cluster.conf.example' 2>&1 | grep -q 'demo.key'"
make -s -C "$PAXFS_BUILDDIR" uninstall DESTDIR="$d" prefix=$prefix mounthelperdir=/sbin >>"$_tmp/make.log" 2>&1
check "make uninstall" -- test $? -eq 0
check "... leaves no file behind" -- test -z "$(find "$d" -type f)"

# ---- mount -t fuse.paxfs and fstab, for real ------------------------------------------
helper=/sbin/mount.fuse.paxfs
marker="# installed by paxfs tests/system/install.sh"
if [[ -e $helper ]] && ! grep -qx "$marker" "$helper"; then
	diag "$helper exists and is not this test's: not replacing it"
	verify_cluster
	exit 0
fi
r=$_tmp/root
make -s -C "$PAXFS_BUILDDIR" install prefix="$r" mounthelperdir="$r/sbin" >>"$_tmp/make.log" 2>&1
check "make install prefix=$r" -- test $? -eq 0
{ cat "$r/sbin/mount.fuse.paxfs"; echo "$marker"; } >"$helper.tmp" && chmod 755 "$helper.tmp" && mv "$helper.tmp" "$helper"
trap 'rm -f "$helper"; _cleanup' EXIT

node3_pid() { grep -lz -- "$C/mnt/3" /proc/[0-9]*/cmdline 2>/dev/null | sed -n 's|/proc/\([0-9]*\)/cmdline|\1|p' | head -n 1; }
unmount3() {
	local pid
	pid=$(node3_pid)
	umount "$C/mnt/3" || return 1
	for _ in $(seq 1 100); do
		[[ -z $pid ]] || ! kill -0 "$pid" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

echo from-node-1 >"$C/mnt/1/hello"
"$CLUSTER" stop "$C" 3
out=$(mount -t fuse.paxfs "$C/cluster.conf" "$C/mnt/3" \
	-o node=3,data="$C/data/3",allow_other,_netdev,nofail,x-systemd.device-timeout=10s 2>&1)
check "mount -t fuse.paxfs CONFIG DIR -o node=3,...,_netdev,nofail,x-systemd...: $out" -- test $? -eq 0
check "findmnt -t fuse.paxfs finds it, source paxfs:local" -- \
	test "$(findmnt -rn -t fuse.paxfs -o SOURCE -M "$C/mnt/3")" = paxfs:local
check "... nosuid,nodev, as paxfs mounts by default" -- \
	sh -c "findmnt -rn -o OPTIONS -M '$C/mnt/3' | grep -q 'nosuid,nodev'"
check "it reads what node 1 wrote" -- wait_until 10 grep -qx from-node-1 "$C/mnt/3/hello"
check "it writes" -- sh -c "echo from-node-3 > '$C/mnt/3/back'"
check "... and node 1 reads it" -- wait_until 10 grep -qx from-node-3 "$C/mnt/1/back"
check "paxfsctl: all three voting" -- "$PAXFS_BUILDDIR/tools/paxfsctl" status "$C/cluster.conf"
verify_cluster
check "umount stops the node" -- unmount3

echo "$C/cluster.conf $C/mnt/3 fuse.paxfs node=3,data=$C/data/3,allow_other,_netdev,noauto 0 0" >"$_tmp/fstab"
out=$(mount -T "$_tmp/fstab" "$C/mnt/3" 2>&1)
check "an fstab line mounts it (mount --fstab FILE DIR): $out" -- test $? -eq 0
check "findmnt -t fuse.paxfs finds it" -- findmnt -t fuse.paxfs -M "$C/mnt/3"
check "it reads node 1's file" -- wait_until 10 grep -qx from-node-1 "$C/mnt/3/hello"
check "umount stops it" -- unmount3

out=$(mount -t fuse.paxfs "$C/cluster.conf" "$C/mnt/3" -o allow_other 2>&1)
check "without node=: mount fails" -- test $? -ne 0
check "... saying what to give: $out" -- grep -q "node=ID" <<<"$out"
check "and nothing is mounted" -- sh -c "! findmnt -M '$C/mnt/3' >/dev/null"
