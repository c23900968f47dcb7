#!/usr/bin/env bash
# tests/format.sh — `make format` leaves the tree unchanged: every .c and .h
# file git tracks is exactly as clang-format (with .clang-format) writes it.
# TAP: one line; the files that differ are listed when it fails.
set -u
: "${PAXFS_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$PAXFS_SRCDIR" || exit 1
command -v clang-format >/dev/null || { echo "1..0 # SKIP clang-format is not installed"; exit 0; }
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "1..0 # SKIP not a git checkout"; exit 0; }
echo "1..1"
bad=()
while IFS= read -r f; do
	clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git ls-files '*.c' '*.h')
if ((${#bad[@]} == 0)); then
	echo "ok 1 - make format leaves the tree unchanged"
else
	echo "not ok 1 - make format would change ${#bad[@]} files (run make format)"
	printf '# %s\n' "${bad[@]}"
fi
