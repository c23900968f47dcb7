#!/usr/bin/env bash
# bench/verify.sh — how long paxfs-verify takes on a cluster with many files.
#
#   bench/verify.sh [FILES [MIB [WRITERS]]]          defaults: 10000 files, 1024 MiB, 4 writers
#   bench/verify.sh --fill [FILES [MIB [WRITE_KIB]]]  default WRITE_KIB: 4
#
# Makes a 3-node cluster in a temporary directory (scripts/cluster, as root),
# writes FILES files holding MIB MiB in all through the mounts (spread over
# the three nodes) -- or, with --fill, has bench/verify_fill make the three
# data dirs directly (the same layout, without FUSE and Paxos: writing 1 GiB
# through the mounts takes long) and starts the nodes on them --
# waits until paxfs-verify finds the nodes agreeing, then
# times: paxfs-verify online (3 runs), online --deep (1 run), and, with the
# nodes stopped, --offline (1 run). Always tears the cluster down. Uses the
# binaries of $PAXFS_BUILDDIR (default ./build). Run it by hand, with nice:
# it is a benchmark, not a test.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
: "${PAXFS_BUILDDIR:=$top/build}"
export PAXFS_BUILDDIR
fill=0
[[ ${1:-} == --fill ]] && { fill=1; shift; }
files=${1:-10000} mib=${2:-1024} writers=${3:-4}
verify=$PAXFS_BUILDDIR/tools/paxfs-verify
cluster=$top/scripts/cluster
[[ -x $verify ]] || { echo "bench/verify: build first ($verify missing)" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "bench/verify: needs root (FUSE mounts)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/paxfs-bench-verify.XXXXXX)
C=$tmp/c
trap '"$cluster" down "$C" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
"$cluster" up "$C" >"$tmp/up.log" 2>&1 || { cat "$tmp/up.log"; exit 1; }

size=$((mib * 1024 * 1024 / files))
start=$SECONDS
if ((fill)); then
	echo "filling the data dirs: $files files of $size bytes ($mib MiB), $writers KiB per entry..."
	"$cluster" down "$C" >/dev/null 2>&1
	rm -rf "$C/data/1" "$C/data/2" "$C/data/3"
	name=$(sed -n 's/^cluster *= *//p' "$C/cluster.conf")
	nice "$PAXFS_BUILDDIR/bench/verify_fill" "$name" "$C/data" 3 "$files" "$mib" "$writers" || exit 1
	chmod 700 "$C/data"/*
	for n in 1 2 3; do "$cluster" start "$C" "$n" || exit 1; done
	writers=0
fi
head -c "$size" /dev/urandom >"$tmp/block"
((writers)) && echo "writing $files files of $size bytes ($mib MiB) with $writers writers..."
for ((w = 0; w < writers; w++)); do
	(
		node=$((w % 3 + 1))
		mkdir -p "$C/mnt/$node/w$w"
		for ((i = w; i < files; i += writers)); do
			# each file differs: its number first, then the block
			{ printf '%08d' "$i"; tail -c +9 "$tmp/block"; } >"$C/mnt/$node/w$w/f$i" || exit 1
		done
	) &
done
wait
echo "written in $((SECONDS - start)) s"
du -sh "$C/data" | sed 's/^/data dirs: /'

echo "waiting until the nodes agree..."
for ((i = 0; i < 120; i++)); do
	out=$("$verify" --quiet "$C/cluster.conf" 2>&1) && [[ -z $out ]] && break
	sleep 1
done
[[ -n $out ]] && printf 'still reported:\n%s\n' "$out"

t() { # t LABEL CMD...: wall time of one run
	local s e
	s=$(date +%s.%N)
	"${@:2}" >"$tmp/out" 2>&1
	local rc=$?
	e=$(date +%s.%N)
	printf '%-28s %6.2f s  (exit %d)  %s\n' "$1" "$(echo "$e - $s" | bc)" "$rc" \
		"$(grep -m1 '^compared' "$tmp/out")"
}
for r in 1 2 3; do t "online, run $r" "$verify" "$C/cluster.conf"; done
t "online --deep" "$verify" --deep "$C/cluster.conf"
"$cluster" down "$C" >/dev/null 2>&1
t "offline" "$verify" --offline "$C/data/1" "$C/data/2" "$C/data/3"
