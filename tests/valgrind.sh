#!/usr/bin/env bash
# tests/valgrind.sh — the unit tests of the pure modules once more, under
# valgrind memcheck: no invalid read or write, no use of uninitialised
# memory, no leak ("definitely lost"). One TAP case per program. Runs in the
# plain build only (valgrind and ASan do not mix).
set -u
: "${PAXFS_BUILDDIR:?}"
if [[ ${PAXFS_SANITIZE:-no} == yes ]]; then
	echo "1..0 # SKIP under ASan (the plain build runs it)"
	exit 0
fi
command -v valgrind >/dev/null || { echo "1..0 # SKIP valgrind not installed"; exit 0; }
programs=(
	tests/unit/util/test_util
	tests/unit/util/test_conf
	tests/unit/paxos/test_codec
	tests/unit/paxos/test_engine
	tests/unit/store/test_store_records
	tests/unit/fs/test_fs_ns
	tests/unit/fs/test_fs_file
	tests/unit/net/test_net_frame
	tests/unit/tools/test_verify_compare
)
n=0 failed=0
for p in "${programs[@]}"; do
	n=$((n + 1))
	log=$(mktemp)
	# Check forks one child per case: follow them. Timeouts are stretched for valgrind.
	if CK_TIMEOUT_MULTIPLIER=20 valgrind -q --trace-children=yes --error-exitcode=99 \
		--leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
		"$PAXFS_BUILDDIR/$p" >"$log" 2>&1 && ! grep -q '^not ok' "$log"; then
		echo "ok $n - $p is clean under valgrind"
	else
		echo "not ok $n - $p under valgrind"
		grep -E '==[0-9]+==|^not ok' "$log" | head -n 40 | sed 's/^/# /'
		failed=$((failed + 1))
	fi
	rm -f "$log"
done
echo "1..$n"
