#!/usr/bin/env bash
# tests/system/close_to_open.sh — a file written and closed on one node is read
# in full by an open that starts afterwards on another node, every time: new
# files, rewrites in place, and the editor pattern (write a temporary file,
# rename it over the old one).
source "$(dirname "$0")/lib.sh"
cluster_up

rounds=60
bad_new=0 bad_rewrite=0 bad_rename=0
for r in $(seq 1 $rounds); do
	w=$((r % 3 + 1)) rd=$(((r + 1) % 3 + 1))
	v="round $r $(head -c 2000 /dev/urandom | base64 -w0)"
	printf '%s' "$v" >"$C/mnt/$w/new$r"
	[[ $(cat "$C/mnt/$rd/new$r" 2>/dev/null) == "$v" ]] || bad_new=$((bad_new + 1))
	printf '%s' "$v" >"$C/mnt/$w/same"
	got=$(cat "$C/mnt/$rd/same" 2>&1)
	if [[ $got != "$v" ]]; then
		bad_rewrite=$((bad_rewrite + 1))
		diag "round $r: wrote ${#v} bytes on node $w, node $rd read ${#got}: '${got:0:40}'"
	fi
	printf '%s' "$v" >"$C/mnt/$w/tmp.$r" && mv "$C/mnt/$w/tmp.$r" "$C/mnt/$w/target"
	[[ $(cat "$C/mnt/$rd/target" 2>/dev/null) == "$v" ]] || bad_rename=$((bad_rename + 1))
done
check "a new file is read in full on another node ($rounds rounds, $bad_new stale)" -- test $bad_new -eq 0
check "a rewritten file is read in full on another node ($bad_rewrite stale)" -- test $bad_rewrite -eq 0
check "a file renamed over the old one is read on another node ($bad_rename stale)" -- test $bad_rename -eq 0
verify_cluster
