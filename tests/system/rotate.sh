#!/usr/bin/env bash
# tests/system/rotate.sh — rotating the cluster secret without stopping the
# cluster (issue 16, docs/security.md "Rotating the secret"): three rolling
# restarts of a 3-node cluster, one node at a time, while a writer keeps
# writing through a node that is up, and checks every write:
#   (1) next_secret_file = NEW everywhere,
#   (2) secret_file = NEW, next_secret_file = OLD,
#   (3) next_secret_file dropped.
# Each node's log must name the keys it accepts (by key id) at every step;
# at the end every node takes only NEW, paxfs-verify agrees, no write
# failed, every write reads back the same on every node, and a client with
# the OLD secret is refused.
source "$(dirname "$0")/lib.sh"
CTL="$PAXFS_BUILDDIR/tools/paxfsctl"
[[ -x $CTL ]] || skip_all "paxfsctl not built"
cluster_up

conf=$C/cluster.conf
W=$_tmp/writer
mkdir -p "$W" "$_tmp/tools"
(umask 077 && head -c 32 /dev/urandom | base64 >"$C/new.key")
(umask 077 && cp "$C/cluster.key" "$_tmp/tools/old.key")
{
	echo "cluster = local"
	echo "secret_file = old.key"
	grep '^node\.' "$conf"
} >"$_tmp/tools/old.conf"

# key_id FILE: the key id docs/security.md defines (the first 8 bytes of
# HKDF-SHA256(secret, salt "paxfs-key-id-v1", info cluster name), in hex),
# computed here on its own to check what the nodes log.
key_id() {
	python3 -c '
import hashlib, hmac, sys
ikm = open(sys.argv[1], "rb").read().rstrip(b"\r\n")
prk = hmac.new(b"paxfs-key-id-v1", ikm, hashlib.sha256).digest()
print(hmac.new(prk, b"local\x01", hashlib.sha256).digest()[:8].hex())' "$1"
}
OLD=$(key_id "$C/cluster.key")
NEW=$(key_id "$C/new.key")
diag "old key id $OLD, new key id $NEW"

# set_keys SECRET [NEXT]: the secret lines of the shared config, which
# each node reads when it (re)starts.
set_keys() {
	sed -i '/^secret_file =/d; /^next_secret_file =/d' "$conf"
	sed -i "1a secret_file = $1" "$conf"
	[[ -n ${2:-} ]] && sed -i "2a next_secret_file = $2" "$conf"
	return 0
}

voting() {
	"$CTL" status --json "$conf" 2>/dev/null |
		python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["voting"] == d["nodes_configured"] == 3 else 1)'
}

# ---- the writer --------------------------------------------------------------
# Writes one file at a time through the mount named in $W/target (which is
# never the node being restarted), reads it back, and records every write
# in $W/ok or $W/failed. Bounded: stops at $W/stop, or after 3000 writes or
# 600 s.
mkdir "$C/mnt/1/rot"
# set_target I: atomically, as the writer reads it at every write
set_target() { echo "$1" >"$W/target.new" && mv "$W/target.new" "$W/target"; }
set_target 1
: >"$W/ok"
: >"$W/failed"
writer() {
	local n=0 t end=$((SECONDS + 600))
	while [[ ! -e $W/stop ]] && ((n < 3000 && SECONDS < end)); do
		n=$((n + 1))
		t=$(cat "$W/target")
		echo "$t" >"$W/using.new" && mv "$W/using.new" "$W/using"
		if printf 'write %d via node %d\n' "$n" "$t" >"$C/mnt/$t/rot/f.$n" 2>>"$W/errors" &&
			[[ $(cat "$C/mnt/$t/rot/f.$n" 2>>"$W/errors") == "write $n via node $t" ]]; then
			echo "$n $t" >>"$W/ok"
		else
			echo "$n $t" >>"$W/failed"
		fi
		sleep 0.05
	done
}
writer &
wpid=$!
writes() { wc -l <"$W/ok"; }
more_writes_than() { (($(writes) > $1)); }

# restart I: moves the writer off node I, restarts I (which reads the
# config again), waits until all three vote; writes must go on while I is
# down.
restart() {
	local i=$1 other=$(($1 % 3 + 1)) c
	set_target "$other"
	wait_until 20 grep -qx "$other" "$W/using" || return 1
	"$CLUSTER" stop "$C" "$i" || return 1
	c=$(writes)
	wait_until 20 more_writes_than "$c" || { echo "no write while node $i was down"; return 1; }
	"$CLUSTER" start "$C" "$i" || return 1
	wait_until 30 voting || { echo "not all three vote after node $i restarted"; return 1; }
}

# accepts I WANT: the last "accepts node keys" line of node I's log ends so.
accepts() {
	local line
	line=$(grep "net($1): accepts node keys" "$C/log/$1.log" | tail -n 1)
	[[ ${line#*accepts node keys } == "$2" ]] || { echo "node $1: $line"; return 1; }
}

step() {
	local name=$1 want=$2 i
	for i in 1 2 3; do
		check "$name: node $i restarts, the cluster up all along" -- restart "$i"
		check "$name: node $i accepts $want" -- accepts "$i" "$want"
	done
}

set_keys cluster.key new.key
step "(1) add next_secret_file = NEW" "$OLD (secret_file, dialed with) and $NEW (next_secret_file)"
set_keys new.key cluster.key
step "(2) swap: secret_file = NEW, next_secret_file = OLD" \
	"$NEW (secret_file, dialed with) and $OLD (next_secret_file)"
# during the swap a node dialing with NEW was let in by one not yet swapped
check "(2) a node that had not swapped took a peer's NEW as its next_secret_file" -- \
	grep -q "link up (they dialed, key $NEW, our next_secret_file)" "$C"/log/[23].log
set_keys new.key
step "(3) drop next_secret_file" "$NEW (secret_file, dialed with)"

c=$(writes)
check "the writer still writes after the rotation" -- wait_until 20 more_writes_than "$c"
touch "$W/stop"
wait "$wpid"
n_ok=$(writes)
diag "$n_ok writes, $(wc -l <"$W/failed") failed"
check "no write failed ($(head -n 5 "$W/failed" | tr '\n' ' '))" -- test ! -s "$W/failed"
check "the writer wrote through every node" -- \
	sh -c "test \$(cut -d' ' -f2 '$W/ok' | sort -u | wc -l) -eq 3"

# every write reads back the same on every node
readback() {
	local i n t bad=0
	for i in 1 2 3; do
		while read -r n t; do
			[[ $(cat "$C/mnt/$i/rot/f.$n") == "write $n via node $t" ]] ||
				{ echo "node $i: f.$n wrong"; bad=1; }
		done <"$W/ok"
	done
	return "$bad"
}
check "all $n_ok writes read back on every node" -- readback

check "the config names only NEW" -- \
	sh -c "grep -q '^secret_file = new.key' '$conf' && ! grep -q next_secret_file '$conf'"
out=$("$CTL" status "$conf" 2>&1)
check "paxfsctl with NEW: all three voting" -- grep -q "^cluster local: 3 of 3 nodes voting" <<<"$out"
out=$("$CTL" status --timeout 3 "$_tmp/tools/old.conf" 2>&1)
rc=$?
check "a client with the OLD secret is refused (rc $rc)" -- test $rc -ne 0
check "... and told the secret differs" -- grep -q "secret differs" <<<"$out"
check "... and the node's log names both key ids" -- wait_until 5 grep -q \
	"the peer dials with secret key id $OLD; this node accepts $NEW (secret_file)" "$C/log/1.log"
check "no log holds a secret" -- sh -c "! grep -qF -e \"\$(cat '$C/cluster.key')\" -e \"\$(cat '$C/new.key')\" '$C'/log/*.log"
verify_cluster
