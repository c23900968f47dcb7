#!/usr/bin/env bash
# tests/lint_includes.sh — the module boundaries of STYLE.md, checked on the
# #include lines: each module includes only the project folders and the
# outside libraries its row allows; and the pure modules (paxos/, node/,
# fs/) read no clock and no randomness of their own; and mount/ answers FUSE
# requests only through mount/reply.h, which times them for the metrics.
# (The linker checks the rest: each module's unit tests link its library
# alone.) TAP: a line per module, then one for the clocks, one for the answers.
set -u
: "${PAXFS_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$PAXFS_SRCDIR" || exit 1

# module | project folders it may include | outside headers it may include
# (a pattern over the path inside <...>; "-" none). paxos/ reaches proto/
# only in its codec (paxos/codec.h); tools/corrupt.c, a test tool that
# damages data dirs, opens leveldb itself. net/ runs TLS with OpenSSL
# (DESIGN.md: "OpenSSL for TLS on the mesh"; issue 16).
rules=(
	"util|util|-"
	"store|store proto util|leveldb/|protobuf-c/"
	"paxos|paxos util|-"
	"net|net proto util|event2/|openssl/|protobuf-c/"
	"fs|fs store proto util|protobuf-c/"
	"node|node paxos fs proto util|-"
	"tools|tools store net fs proto util|event2/|protobuf-c/"
)
exceptions=(
	'paxos/codec.h:"proto/'
	'tools/corrupt.c:<leveldb/'
)
forbidden_outside='event2/|leveldb/|fuse|openssl/|protobuf-c/'

echo "1..$((${#rules[@]} + 2))"
n=0
for rule in "${rules[@]}"; do
	IFS='|' read -r mod folders allowed_outside <<<"$rule"
	n=$((n + 1))
	bad=()
	while IFS= read -r hit; do
		file=${hit%%:*}
		inc=${hit#*:}
		skip=0
		for e in "${exceptions[@]}"; do
			[[ $file == "${e%%:*}" && $inc == *"${e#*:}"* ]] && skip=1
		done
		((skip)) && continue
		if [[ $inc =~ \#include\ \"([a-z]+)/ ]]; then
			[[ " $folders " == *" ${BASH_REMATCH[1]} "* ]] || bad+=("$hit")
		elif [[ $inc =~ \#include\ \<([^>]+)\> ]]; then
			path=${BASH_REMATCH[1]}
			if [[ $path =~ ^($forbidden_outside) ]]; then
				[[ $allowed_outside != - && $path =~ ^($allowed_outside) ]] || bad+=("$hit")
			fi
		fi
	done < <(grep -H '^#include' "$mod"/*.c "$mod"/*.h 2>/dev/null)
	if ((${#bad[@]} == 0)); then
		echo "ok $n - $mod/ includes only what STYLE.md allows"
	else
		echo "not ok $n - $mod/ includes what STYLE.md does not allow"
		printf '# %s\n' "${bad[@]}"
	fi
done
n=$((n + 1))
clocks=$(grep -nE 'clock_gettime|gettimeofday|[^_a-z]time\(NULL\)|[^_a-z]s?rand\(' paxos/*.c node/*.c fs/*.c)
if [[ -z $clocks ]]; then
	echo "ok $n - paxos/, node/ and fs/ read no clock and no randomness of their own"
else
	echo "not ok $n - paxos/, node/ or fs/ read a clock or randomness"
	printf '# %s\n' "$clocks"
fi
n=$((n + 1))
replies=$(grep -n 'fuse_reply_[a-z]*(' mount/*.c | grep -v '^[^:]*:[0-9]*:\s*\(/\*\|\*\)')
if [[ -z $replies ]]; then
	echo "ok $n - mount/ answers FUSE requests through mount/reply.h only"
else
	echo "not ok $n - mount/ calls fuse_reply_* itself (use mount_reply_* of mount/reply.h)"
	printf '# %s\n' "$replies"
fi
