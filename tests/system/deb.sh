#!/usr/bin/env bash
# tests/system/deb.sh — the Debian package (debian/, issue 14): the tracked
# source (git ls-files) copied to a temp dir builds with
# `dpkg-buildpackage -us -uc -b`; the .deb holds the programs, the mount
# helper where mount(8) looks, the man pages, the systemd unit template and
# the sample configs, depends on fuse3 and the shared libraries, and has no
# maintainer script that enables or starts anything; its programs, unpacked
# with dpkg-deb -x (never installed on this machine), run against the
# system's libraries and print the version of configure.ac.
#
# Part of the long run only: PAXFS_DEB=1 (a minute or more of build; it
# installs dpkg-dev and debhelper if missing, scripts/setup --deb).
source "$(dirname "$0")/lib.sh"

[[ ${PAXFS_DEB:-0} == 1 ]] || skip_all "the package build is in the long run only (PAXFS_DEB=1)"
top=$(git -C "$PAXFS_SRCDIR" rev-parse --show-toplevel 2>/dev/null)
if [[ -z $top || ! $top -ef $PAXFS_SRCDIR ]]; then
	skip_all "$PAXFS_SRCDIR is not a git checkout (the package is built from git ls-files)"
fi

_tmp=$(mktemp -d /tmp/paxfs-deb.XXXXXX)
trap _cleanup EXIT
trap 'exit 130' INT TERM
start=$SECONDS

check "scripts/setup --deb (dpkg-dev, debhelper)" -- "$PAXFS_SRCDIR/scripts/setup" --deb
version=$(sed -n 's/^AC_INIT(\[paxfs\], \[\([^]]*\)\].*/\1/p' "$PAXFS_SRCDIR/configure.ac")
check "configure.ac has a version: '$version'" -- test -n "$version"
src=$_tmp/paxfs-$version
mkdir -p "$src"
check "git ls-files copied to $src" -- sh -c \
	'git -C "$1" ls-files -z | (cd "$1" && xargs -0 cp -P --parents -t "$2")' _ "$PAXFS_SRCDIR" "$src"
debversion=$(cd "$src" && dpkg-parsechangelog -S Version 2>/dev/null)
check "debian/changelog's version $debversion is configure.ac's $version" -- test "$debversion" = "$version"

# The build is a make of its own, not a part of make check's: none of the
# jobserver of the make that runs this test.
unset MAKEFLAGS MFLAGS MAKELEVEL
t=$SECONDS
(cd "$src" && dpkg-buildpackage -us -uc -b -j"${PAXFS_CHECK_JOBS:-2}" >"$_tmp/build.log" 2>&1)
rc=$?
check "dpkg-buildpackage -us -uc -b ($((SECONDS - t)) s)" -- sh -c \
	'[ "$1" -eq 0 ] || { tail -n 40 "$2"; exit 1; }' _ "$rc" "$_tmp/build.log"
deb=$_tmp/paxfs_${debversion}_$(dpkg --print-architecture).deb
check "it made $(basename "$deb")" -- test -s "$deb"
[[ -s $deb ]] || exit 1

contents=$(dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|')
expected=(
	/usr/sbin/paxfs /usr/bin/paxfsctl /usr/bin/paxfs-verify
	/sbin/mount.fuse.paxfs
	/lib/systemd/system/paxfs@.service
	/usr/share/man/man8/paxfs.8.gz /usr/share/man/man8/paxfsctl.8.gz
	/usr/share/man/man8/paxfs-verify.8.gz /usr/share/man/man5/paxfs.conf.5.gz
	/usr/share/doc/paxfs/cluster.conf.example /usr/share/doc/paxfs/paxfs.env.example
	/usr/share/doc/paxfs/copyright
)
for f in "${expected[@]}"; do
	check "the .deb holds $f" -- grep -qx -- "$f" <<<"$contents"
done
programs=$(dpkg-deb -c "$deb" | awk '$1 ~ /^-..x/ { print $NF }' | sed 's|^\./|/|' | sort | tr '\n' ' ')
check "its programs are those four, no test or bench program: $programs" -- \
	test "$programs" = "/sbin/mount.fuse.paxfs /usr/bin/paxfs-verify /usr/bin/paxfsctl /usr/sbin/paxfs "
check "it puts nothing in /etc (the operator writes the cluster's config)" -- \
	sh -c '! printf "%s\n" "$1" | grep "^/etc/."' _ "$contents"
check "Package: paxfs, Version: $version" -- sh -c \
	'[ "$(dpkg-deb -f "$1" Package)" = paxfs ] && [ "$(dpkg-deb -f "$1" Version)" = "$2" ]' _ "$deb" "$version"
depends=$(dpkg-deb -f "$deb" Depends)
check "Depends: fuse3 and the shared libraries: $depends" -- sh -c \
	'for p in fuse3 libfuse3-3 libevent-2.1-7 libevent-openssl-2.1-7 libleveldb1d libprotobuf-c1 libssl3 libc6; do
		printf "%s\n" "$1" | tr "," "\n" | grep -q "^ *$p\( \|$\)" || { echo "no $p"; exit 1; }
	done' _ "$depends"

mkdir -p "$_tmp/control"
dpkg-deb -e "$deb" "$_tmp/control"
check "no maintainer script enables or starts a unit, or makes a cluster" -- sh -c \
	'! cat "$1"/preinst "$1"/postinst "$1"/prerm "$1"/postrm 2>/dev/null |
		grep -E "systemctl (enable|start|restart)|deb-systemd-invoke (start|restart)|deb-systemd-helper enable|/etc/paxfs|/var/lib/paxfs|sbin/paxfs"' \
	_ "$_tmp/control"

root=$_tmp/root
dpkg-deb -x "$deb" "$root"
check "dpkg-deb -x unpacks it" -- test -x "$root/usr/sbin/paxfs"
for p in usr/sbin/paxfs usr/bin/paxfsctl usr/bin/paxfs-verify; do
	check "$p finds every library on the system (ldd)" -- sh -c \
		'out=$(ldd "$1") && ! printf "%s\n" "$out" | grep -E "not found|$2"' _ "$root/$p" "$_tmp"
done
# runs PROGRAM ARG PATTERN: PROGRAM ARG exits 0 and its output has a line matching PATTERN.
runs() {
	local out
	out=$("$1" "$2" 2>&1) || { printf 'exit %d\n%s\n' $? "$out"; return 1; }
	grep -q -- "$3" <<<"$out" || { printf '%s\n' "$out"; return 1; }
}
out=$("$root/usr/sbin/paxfs" --version 2>&1)
check "paxfs --version: $out" -- runs "$root/usr/sbin/paxfs" --version "^paxfs $version "
check "paxfs --help" -- runs "$root/usr/sbin/paxfs" --help "^usage: .*paxfs \[options\] CONFIG MOUNTPOINT"
check "paxfsctl --help" -- runs "$root/usr/bin/paxfsctl" --help "^usage: paxfsctl status"
check "paxfs-verify --help" -- runs "$root/usr/bin/paxfs-verify" --help "^usage: paxfs-verify"
check "the mount helper runs /usr/sbin/paxfs" -- grep -qx "paxfs='/usr/sbin/paxfs'" "$root/sbin/mount.fuse.paxfs"
check "... and mount -f (fake) makes it do nothing" -- \
	"$root/sbin/mount.fuse.paxfs" /etc/paxfs/none.conf "$_tmp/none" -f -o node=1,_netdev
check "the unit runs /usr/sbin/paxfs with /etc/paxfs/NAME.conf" -- grep -q \
	"^ExecStart=/usr/sbin/paxfs -f -o node=\${PAXFS_NODE} \$PAXFS_ARGS /etc/paxfs/%i.conf \${PAXFS_MOUNTPOINT}$" \
	"$root/lib/systemd/system/paxfs@.service"
check "paxfs.conf(5) names the packaged sample config" -- sh -c \
	'zcat "$1" | grep -q /usr/share/doc/paxfs/cluster.conf.example' _ "$root/usr/share/man/man5/paxfs.conf.5.gz"
check "the sample config loads (but for its secret file)" -- sh -c \
	'"$1" status "$2" 2>&1 | grep -q demo.key' _ "$root/usr/bin/paxfsctl" "$root/usr/share/doc/paxfs/cluster.conf.example"
diag "deb.sh took $((SECONDS - start)) s"
