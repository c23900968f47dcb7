#!/usr/bin/env bash
# tests/system/posix_tools.sh — the POSIX test tools of ../shared/posix on a
# 3-node cluster (issue 14): pjdfstest on a mount, with 0 failures among
# what passes on the local disk of the same machine; xfstests' fsx on one
# file, which must then be byte for byte the same on every node; fsstress
# with 4 processes, whose tree must then be the same on every node.
#
# Short by default (a few pjdfstest directories, fsx 10,000 operations,
# fsstress 4 x 500); PAXFS_POSIX_FULL=1 runs the long one (all of
# pjdfstest, fsx 1,000,000 operations, fsstress 4 x 2,000). PAXFS_POSIX_SEED
# replays a seed. The tools are built once per machine from
# $PAXFS_POSIX_SRC (default ../shared/posix beside the repository) into
# $PAXFS_POSIX_TOOLS (default /var/tmp/paxfs-posix-tools), where the local
# disk's pjdfstest results are kept too (the baseline of this machine).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tree.sh"

src=${PAXFS_POSIX_SRC:-$PAXFS_SRCDIR/../shared/posix}
[[ -x $src/build ]] || skip_all "no POSIX test tools at $src (set PAXFS_POSIX_SRC)"
tools=${PAXFS_POSIX_TOOLS:-/var/tmp/paxfs-posix-tools}
if ! out=$("$src/build" "$tools" 2>&1); then
	echo "not ok 1 - the POSIX test tools build"
	sed 's/^/# /' <<<"$out"
	echo "1..1"
	exit 1
fi
full=${PAXFS_POSIX_FULL:-0}
seed=${PAXFS_POSIX_SEED:-$((RANDOM * 32768 + RANDOM))}
if ((full)); then
	pjd_dirs=(all) fsx_ops=1000000 stress_ops=2000
else
	pjd_dirs=(chmod open truncate unlink utimensat) fsx_ops=10000 stress_ops=500
fi
cluster_up
m1=$C/mnt/1

# pjd_failures DIR: "file:assertion" for every failed assertion of the
# chosen pjdfstest directories run from DIR (a directory of the file system
# under test), one per line.
pjd_failures() {
	local dir=$1 t
	local -a files
	if [[ ${pjd_dirs[0]} == all ]]; then
		mapfile -t files < <(find "$tools/pjdfstest/tests" -name '*.t' | sort)
	else
		for t in "${pjd_dirs[@]}"; do
			mapfile -t -O "${#files[@]}" files < <(find "$tools/pjdfstest/tests/$t" -name '*.t' | sort)
		done
	fi
	for t in "${files[@]}"; do
		(cd "$dir" && timeout 600 prove -v "$t" 2>&1) |
			sed -n "s|^not ok \([0-9]*\).*|${t#"$tools"/pjdfstest/tests/}:\1|p"
	done
}

baseline=$tools/local-failures.$(tr ' ' _ <<<"${pjd_dirs[*]}")
if [[ ! -f $baseline ]]; then
	local_dir=$(mktemp -d /var/tmp/paxfs-pjd.XXXXXX)
	pjd_failures "$local_dir" >"$baseline.tmp" && mv "$baseline.tmp" "$baseline"
	rm -rf "$local_dir"
fi
local_fail=$(cat "$baseline")
mkdir "$m1/pjd"
mount_fail=$(pjd_failures "$m1/pjd")
new_fail=$(comm -13 <(sort <<<"$local_fail") <(sort <<<"$mount_fail"))
check "pjdfstest (${pjd_dirs[*]}): nothing fails that passes on the local disk" -- test -z "$new_fail"
[[ -n $new_fail ]] && head -n 20 <<<"$new_fail" | sed 's/^/# failed on the mount only: /'

# fsx with every operation it finds supported, mmap reads and writes too
fsx_out=$(cd "$m1" && timeout 1800 "$tools/xfstests/ltp/fsx" -q -N "$fsx_ops" -S "$seed" "$m1/fsx.file" 2>&1)
check "fsx $fsx_ops operations, seed $seed (PAXFS_POSIX_SEED=$seed replays it)" -- \
	grep -q "All $fsx_ops operations completed A-OK" <<<"$fsx_out"
tail -n 5 <<<"$fsx_out" | sed 's/^/# /'
for i in 2 3; do
	check "... the file is the same on node $i" -- wait_until 30 cmp "$m1/fsx.file" "$C/mnt/$i/fsx.file"
done
rm -f "$m1"/fsx.file*

mkdir "$m1/stress"
stress_out=$(timeout 1800 "$tools/xfstests/ltp/fsstress" -d "$m1/stress" -n "$stress_ops" -p 4 -s "$seed" 2>&1)
check "fsstress 4 x $stress_ops operations, seed $seed" -- test $? -eq 0
for i in 2 3; do
	check "... the tree is the same on node $i" -- wait_until 60 same_tree "$m1/stress" "$C/mnt/$i/stress"
done
same_tree "$m1/stress" "$C/mnt/3/stress" | head -n 10 | sed 's/^/# 1 vs 3: /'
verify_cluster
