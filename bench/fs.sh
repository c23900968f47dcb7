#!/usr/bin/env bash
# bench/fs.sh [RUNS] — paxfs (3 nodes on this machine, sharing its disk and
# cores) next to the local filesystem, as one table of medians over RUNS runs
# (default 3). Run as root from a built tree (make, or scripts/check):
#
#   bench/fs.sh            PAXFS_BUILDDIR picks the build (default ./build)
#
# Every figure is measured the same way on both: the "local" column uses one
# directory on the disk that holds /tmp, the paxfs column a fresh cluster made
# by scripts/cluster (node 1 writes, node 2 reads, node 3 removes). The tree
# for tar is /usr/share/perl, /usr/share/perl5 and /usr/include/linux.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${PAXFS_BUILDDIR:-$top/build}
fsbench=$build/bench/fsbench
runs=${1:-3}
[[ -x $fsbench ]] || { echo "bench/fs.sh: build first ($fsbench missing)" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "bench/fs.sh: run as root (FUSE mounts, drop_caches)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/paxfs-bench.XXXXXX)
C=$tmp/cluster
cleanup() {
	[[ -f $C/cluster.conf ]] && PAXFS_BUILDDIR=$build "$top/scripts/cluster" down "$C" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

tar -C / -cf "$tmp/tree.tar" usr/share/perl usr/share/perl5 usr/include/linux 2>/dev/null
tree_files=$(tar -tf "$tmp/tree.tar" | grep -vc '/$')

declare -A res # res[metric,target] = space-separated values of every run

t0() { date +%s.%N; }
since() { echo "$(date +%s.%N) - $1" | bc -l; }
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# measure TARGET A B C RUN: A, B, C are the three "nodes" (one dir locally).
measure() {
	local tg=$1 a=$2/r$5 b=$3/r$5 c=$4/r$5 t
	mkdir -p "$a"
	sleep 0.5 # the directory reaches the others
	res[fsync,$tg]+=" $("$fsbench" fsync-lat "$a" 500 | cut -d' ' -f1)"
	res[seqw,$tg]+=" $("$fsbench" seq-write "$a/big" 256)"
	drop_caches
	res[seqr,$tg]+=" $("$fsbench" seq-read "$b/big")"
	mkdir "$a/many"
	res[create,$tg]+=" $("$fsbench" create "$a/many" 2000)"
	drop_caches
	t=$(t0); ls -l "$b/many" >/dev/null; res[ls,$tg]+=" $(since "$t")"
	t=$(t0); rm -rf "$c/many"; res[rm,$tg]+=" $(since "$t")"
	mkdir "$a/tree"
	t=$(t0); tar -C "$a/tree" -xf "$tmp/tree.tar"; res[tarx,$tg]+=" $(since "$t")"
	t=$(t0); tar -C "$b" -cf - tree >/dev/null; res[tarc,$tg]+=" $(since "$t")"
	t=$(t0)
	local pids=()
	"$fsbench" append "$a/app" 1000 a >/dev/null & pids+=($!)
	"$fsbench" append "$b/app" 1000 b >/dev/null & pids+=($!)
	"$fsbench" append "$c/app" 1000 c >/dev/null & pids+=($!)
	wait "${pids[@]}"
	res[app,$tg]+=" $(since "$t")"
	local lines
	lines=$(wc -l <"$a/app")
	[[ $lines -eq 3000 ]] || echo "bench/fs.sh: $tg run $5: $lines of 3000 appended lines!" >&2
	res[flock,$tg]+=" $("$fsbench" flock "$a/lock" 200)"
	res[handover,$tg]+=" $("$fsbench" handover "$a/lock" "$b/lock" 50)"
	if [[ $tg == paxfs ]]; then
		mkdir "$a/vis"
		sleep 0.2
		res[vis,$tg]+=" $("$fsbench" visible "$a/vis" "$b/vis" 200)"
	fi
	rm -rf "$a/big" "$a/tree" "$a/lock"
}

mkdir -p "$tmp/local"
PAXFS_BUILDDIR=$build "$top/scripts/cluster" up "$C" >/dev/null

# Peak memory of a node: VmHWM counts the leveldb tables that leveldb maps
# into memory to read them (page cache, shared, dropped under pressure), so
# the node's own memory (RssAnon) is sampled too, every 0.2 s, for the whole run.
sample_anon() {
	local peak=0 kb i
	while [[ -f $tmp/sampling ]]; do
		for i in 1 2 3; do
			kb=$(awk '/RssAnon/ {print $2}' "/proc/$(cat "$C/run/$i.pid")/status" 2>/dev/null || echo 0)
			((kb > peak)) && peak=$kb && echo "$peak" >"$tmp/anon_peak"
		done
		sleep 0.2
	done
}
touch "$tmp/sampling"
echo 0 >"$tmp/anon_peak"
sample_anon &
sampler=$!
for r in $(seq 1 "$runs"); do
	measure local "$tmp/local" "$tmp/local" "$tmp/local" "$r"
	measure paxfs "$C/mnt/1" "$C/mnt/2" "$C/mnt/3" "$r"
done
rm -f "$tmp/sampling"
wait "$sampler"
rss=0
for i in 1 2 3; do
	kb=$(awk '/VmHWM/ {print $2}' "/proc/$(cat "$C/run/$i.pid")/status")
	((kb > rss)) && rss=$kb
done

median() { tr ' ' '\n' | { grep . || true; } | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

row() { # row METRIC LABEL UNIT KIND(time|rate) TARGET
	local l p ratio
	l=$(median <<<"${res[$1,local]:-}")
	p=$(median <<<"${res[$1,paxfs]:-}")
	if [[ -n $l && $4 == time ]]; then
		ratio=$(printf '%.2fx' "$(echo "$p / $l" | bc -l)")
	elif [[ -n $l ]]; then
		ratio=$(printf '%.2fx' "$(echo "$l / $p" | bc -l)")
	else
		ratio=-
		l=-
	fi
	printf '%-42s %12s %12s %9s   %s\n' "$2 ($3)" "$l" "$p" "$ratio" "$5"
}

echo "paxfs bench/fs: $runs runs, medians; ratio = how many times slower paxfs is"
printf '%-42s %12s %12s %9s   %s\n' "measure" "local" "paxfs" "ratio" "target"
row fsync "4 KiB write + fsync, median" "us" time "<= 800 us"
row seqw "256 MiB sequential write + fsync" "MB/s" rate ">= 250 MB/s"
row seqr "sequential read, other node, cold" "MB/s" rate ">= 1000 MB/s"
row create "create 2000 files of 4 KiB" "files/s" rate ">= 1000 files/s"
row ls "ls -l of them on another node" "s" time "<= 0.1 s"
row rm "rm -rf of them on a third node" "s" time "<= 2 s"
row tarx "tar -x of $tree_files files" "s" time "<= 10x local"
row tarc "tar -c of them from another node" "s" time ""
row app "3 writers x 1000 appends" "s" time "<= 3 s, none lost"
row vis "create on one node, readable on another" "us" time "<= 1000 us"
row flock "flock lock + unlock, one node" "us" time "<= 2 rounds"
row handover "flock hand-over to another node's waiter" "us" time "<= 1 ms + 1 round"
fs=$(median <<<"${res[fsync,paxfs]:-}")
printf '%-42s %12s %12s\n' "  ...as 4 KiB write + fsync rounds" "" \
	"$(printf '%.2f, %.2f' "$(echo "$(median <<<"${res[flock,paxfs]}") / $fs" | bc -l)" \
		"$(echo "$(median <<<"${res[handover,paxfs]}") / $fs" | bc -l)")"
printf '%-42s %12s %12s %9s   %s\n' "peak memory of a node, own (MB)" "-" "$(($(cat "$tmp/anon_peak") / 1024))" "-" "<= 200 MB"
printf '%-42s %12s %12s\n' "peak RSS incl. mapped leveldb tables (MB)" "-" "$((rss / 1024))"
