#!/usr/bin/env bash
# tests/system/posix.sh — POSIX semantics and errnos on real mounts (tests/system/posix.c).
source "$(dirname "$0")/lib.sh"
prog=$PAXFS_BUILDDIR/tests/system/posix
[[ -x $prog ]] || { echo "1..0 # SKIP $prog not built"; exit 0; }
cluster_up
# (not a pipe: the loop must run in this shell, where ok counts)
while IFS= read -r line; do
	# renumber into this script's TAP stream
	case $line in
	"ok "*) ok 0 "${line#ok * - }" ;;
	"not ok "*) ok 1 "${line#not ok * - }" ;;
	"Bail out!"*) ok 1 "$line" ;;
	esac
done < <("$prog" "$C/mnt/1" "$C/mnt/2")
verify_cluster
