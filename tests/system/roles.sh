#!/usr/bin/env bash
# tests/system/roles.sh — the read-only client credential on a real cluster
# (issue 16, docs/security.md "Roles"). The nodes' config gets
# client_secret_file; the tools get a config of their own with that client
# secret and a WRONG node secret (and another with no secret_file at all):
# paxfsctl status and paxfs-verify work with the client secret alone, the
# nodes log the client credential, a wrong client secret is refused, and
# paxfs will not run a node on a tools-only config.
source "$(dirname "$0")/lib.sh"
CTL="$PAXFS_BUILDDIR/tools/paxfsctl"
PAXFS=$PAXFS_BUILDDIR/mount/paxfs
[[ -x $CTL && -x $VERIFY ]] || skip_all "paxfsctl or paxfs-verify not built"
cluster_up

conf=$C/cluster.conf
tools=$_tmp/tools
mkdir -p "$tools"
(umask 077 && head -c 32 /dev/urandom | base64 >"$C/client.key")
(umask 077 && cp "$C/client.key" "$tools/ro.key")
(umask 077 && head -c 32 /dev/urandom | base64 >"$tools/wrong-node.key")
(umask 077 && head -c 32 /dev/urandom | base64 >"$tools/wrong-client.key")
nodes=$(grep '^node\.' "$conf")
# tools_conf NAME LINES...: a config for the tools: the cluster's nodes, and LINES
tools_conf() {
	local name=$1
	shift
	{
		echo "cluster = local"
		printf '%s\n' "$@"
		printf '%s\n' "$nodes"
	} >"$tools/$name"
}
tools_conf ro.conf "secret_file = wrong-node.key" "client_secret_file = ro.key"
tools_conf ro-only.conf "client_secret_file = ro.key"
tools_conf wrong.conf "client_secret_file = wrong-client.key"
tools_conf node-wrong.conf "secret_file = wrong-node.key"

# Nodes without client_secret_file do not take the client credential.
out=$("$CTL" status --timeout 3 "$tools/ro.conf" 2>&1)
rc=$?
check "nodes without client_secret_file refuse the client credential (rc $rc)" -- test $rc -ne 0
check "... and the tool says why" -- grep -q "client_secret_file" <<<"$out"
check "... and the node's log too" -- \
	wait_until 5 grep -q "does not accept (its config has no client_secret_file)" "$C/log/1.log"

# Give the nodes the client secret: one at a time, the cluster stays up.
echo "client_secret_file = client.key" >>"$conf"
for i in 1 2 3; do
	check "node $i restarts with client_secret_file" -- "$CLUSTER" stop "$C" "$i"
	check "... and is back" -- "$CLUSTER" start "$C" "$i"
done

echo hello >"$C/mnt/1/f"
sync "$C/mnt/1/f"

out=$("$CTL" status "$tools/ro.conf" 2>&1)
rc=$?
check "paxfsctl status with the client secret (and a wrong node secret): exit 0" -- test $rc -eq 0
check "... all three voting" -- grep -q "^cluster local: 3 of 3 nodes voting" <<<"$out"
[[ $rc -ne 0 ]] && printf '%s\n' "$out" | sed 's/^/# /'
check "... the nodes saw the client credential" -- \
	wait_until 5 grep -q "client [0-9]* (.*): connected (client credential)" "$C/log/1.log"
out=$("$CTL" status "$tools/ro-only.conf" 2>&1)
check "paxfsctl status with no secret_file at all: exit 0" -- test $? -eq 0
"$CTL" metrics "$tools/ro-only.conf" >"$_tmp/metrics"
check "paxfsctl metrics with the client secret: exit 0" -- test $? -eq 0

out=$(timeout 120 "$VERIFY" --quiet "$tools/ro.conf" 2>&1)
rc=$?
check "paxfs-verify with the client secret: exit 0, nothing reported (rc $rc)" -- test $rc -eq 0 -a -z "$out"
[[ $rc -ne 0 ]] && printf '%s\n' "$out" | head -n 20 | sed 's/^/# /'
out=$(timeout 120 "$VERIFY" --quiet "$tools/ro-only.conf" 2>&1)
check "paxfs-verify with no secret_file at all: exit 0" -- test $? -eq 0 -a -z "$out"

out=$("$CTL" status --timeout 3 "$tools/wrong.conf" 2>&1)
rc=$?
check "a wrong client secret is refused (rc $rc)" -- test $rc -ne 0
check "... the tool says authentication failed" -- grep -q "authentication" <<<"$out"
out=$("$CTL" status --timeout 3 "$tools/node-wrong.conf" 2>&1)
check "a wrong node secret without the client one is refused" -- test $? -ne 0

# A node will not run on the tools' credential.
mkdir -p "$_tmp/mnt4"
out=$(timeout 30 "$PAXFS" -o "node=1,data=$_tmp/data4" "$tools/ro-only.conf" "$_tmp/mnt4" 2>&1)
rc=$?
check "paxfs refuses a config without secret_file (rc $rc)" -- test $rc -ne 0 -a $rc -ne 124
check "... saying so: $out" -- grep -q "'secret_file' is missing: a node needs the node secret" <<<"$out"
check "the node secret put in the client secret file is refused" -- sh -c \
	"cp '$C/cluster.key' '$tools/ro.key' && ! '$CTL' status --timeout 3 '$tools/ro.conf' >/dev/null 2>&1"

verify_cluster
