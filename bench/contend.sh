#!/usr/bin/env bash
# bench/contend.sh [RUNS] — the engine's figures on a real 3-node cluster
# (scripts/cluster on this machine): write latency and fdatasyncs per write,
# and writers on three nodes contending for one entity. Run as root from a
# built tree; PAXFS_BUILDDIR picks the build (default ./build), or PAXFS_BIN
# and FSBENCH name the two binaries (to compare an older build).
#
#   fsync-lat         median and p99 us of a 4 KiB write + fsync on node 1
#   fdatasync/write   per node: fsync + fdatasync calls (strace -c) during
#                     200 of those writes, divided by 200
#   create x3         three writers (one per node) each creating COUNT files
#                     in ONE directory at once (the namespace entity is
#                     contended): aggregate files/s, and how many failed
#   append x3         3 writers x 1000 O_APPEND lines into one file (one per
#                     node, bench/fsbench append): seconds, lines found
#
# Each figure is the median over RUNS runs (default 3), every run on a fresh
# cluster. The machine's cores and disk are shared: compare builds run close
# together in time.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${PAXFS_BUILDDIR:-$top/build}
fsbench=${FSBENCH:-$build/bench/fsbench}
export PAXFS_BIN=${PAXFS_BIN:-$build/mount/paxfs}
runs=${1:-3}
count=${CREATE_COUNT:-300}
[[ -x $fsbench && -x $PAXFS_BIN ]] || { echo "bench/contend.sh: build first" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "bench/contend.sh: run as root (FUSE mounts)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/paxfs-contend.XXXXXX)
C=$tmp/cluster
cleanup() {
	[[ -f $C/cluster.conf ]] && "$top/scripts/cluster" down "$C" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

declare -A res

median() { tr ' ' '\n' | { grep . || true; } | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
now() { date +%s.%N; }

# creator DIR TAG COUNT: creates COUNT files of 4 KiB; prints how many failed.
creator() {
	perl -e 'use Fcntl; my ($d, $t, $n) = @ARGV; my $bad = 0; my $buf = "c" x 4096;
		for my $i (1 .. $n) {
			if (sysopen(my $f, "$d/$t$i", O_WRONLY | O_CREAT | O_EXCL, 0644)) {
				$bad++ unless syswrite($f, $buf) == 4096; close($f);
			} else { $bad++; }
		}
		print "$bad\n";' "$1" "$2" "$3"
}

for r in $(seq 1 "$runs"); do
	rm -rf "$C"
	"$top/scripts/cluster" up "$C" >/dev/null
	m1=$C/mnt/1
	read -r med p99 < <("$fsbench" fsync-lat "$m1" 300)
	res[lat]+=" $med"
	res[p99]+=" $p99"

	# fdatasyncs per write on every node, during 200 writes on node 1
	for i in 1 2 3; do
		strace -c -f -e trace=fsync,fdatasync -o "$tmp/strace.$i" -p "$(cat "$C/run/$i.pid")" &
		echo $! >"$tmp/strace.$i.pid"
	done
	sleep 1
	"$fsbench" fsync-lat "$m1" 200 >/dev/null
	sleep 0.5
	for i in 1 2 3; do
		kill -INT "$(cat "$tmp/strace.$i.pid")"
		wait "$(cat "$tmp/strace.$i.pid")" 2>/dev/null || true
		calls=$(awk '$NF == "fsync" || $NF == "fdatasync" {s += $4} END {print s + 0}' "$tmp/strace.$i")
		res[sync$i]+=" $(echo "scale=2; $calls / 200" | bc)"
	done

	mkdir "$m1/dir"
	sleep 0.5
	t=$(now)
	for i in 1 2 3; do
		creator "$C/mnt/$i/dir" "n${i}_" "$count" >"$tmp/bad.$i" &
	done
	wait
	dt=$(echo "$(now) - $t" | bc -l)
	bad=$(cat "$tmp"/bad.? | awk '{s += $1} END {print s}')
	res[create]+=" $(echo "scale=1; (3 * $count - $bad) / $dt" | bc)"
	res[create_bad]+=" $bad"

	t=$(now)
	for i in 1 2 3; do
		"$fsbench" append "$C/mnt/$i/app" 1000 "w$i" >/dev/null &
	done
	wait
	res[app]+=" $(echo "$(now) - $t" | bc -l)"
	sleep 0.5
	res[app_lines]+=" $(wc -l <"$m1/app")"
	"$top/scripts/cluster" down "$C" >/dev/null
done

printf 'bench/contend: %s runs, medians (%s)\n' "$runs" "$PAXFS_BIN"
printf '  4 KiB write + fsync        median %s us, p99 %s us\n' \
	"$(median <<<"${res[lat]}")" "$(median <<<"${res[p99]}")"
printf '  fdatasync+fsync per write  node 1: %s, node 2: %s, node 3: %s\n' \
	"$(median <<<"${res[sync1]}")" "$(median <<<"${res[sync2]}")" "$(median <<<"${res[sync3]}")"
printf '  3 nodes x %s creates, one directory: %s files/s, failed: %s\n' "$count" \
	"$(median <<<"${res[create]}")" "${res[create_bad]# }"
printf '  3 nodes x 1000 appends, one file: %.2f s, lines: %s\n' \
	"$(median <<<"${res[app]}")" "${res[app_lines]# }"
