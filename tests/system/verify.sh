#!/usr/bin/env bash
# tests/system/verify.sh — paxfs-verify on a real cluster.
#
#   a healthy cluster after a mixed workload: exit 0, nothing reported;
#   writes going on during the check: never a divergence;
#   a node stopped while writes go on: "could not check" (exit 2) for it,
#   the others compared; offline: it is lag (exit 0); restarted, it catches
#   up and verify says exit 0 again;
#   damage planted on stopped nodes with paxfs-corrupt (a rewritten chosen
#   value, a rewritten state, a flipped byte in a log record): exit 1 naming
#   entity, entry and node, offline and online after the restart; a node
#   serving a damaged entity answers EIO rather than wrong data;
#   bad input: a node that does not exist, a wrong secret, a data dir that
#   is not a paxfs store, a data dir a running node holds.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tree.sh"
CORRUPT=$PAXFS_BUILDDIR/tools/paxfs-corrupt
[[ -x $VERIFY && -x $CORRUPT ]] || skip_all "paxfs-verify or paxfs-corrupt not built"
cluster_up

conf=$C/cluster.conf
m1=$C/mnt/1 m2=$C/mnt/2 m3=$C/mnt/3

# finds OUTPUT KIND ENTITY ENTRY NODE: a DIVERGENCE line of that kind that
# names the entity, the entry and the node.
finds() {
	local out=$1 kind=$2 entity=$3 entry=$4 node=$5 line nodes
	while IFS= read -r line; do
		[[ $line == "DIVERGENCE entity $entity "* && $line == *" entry $entry nodes "* &&
			$line == *"[$kind]"* ]] || continue
		nodes=$(sed -n 's/.* entry [0-9]* nodes \([0-9,]*\) \[.*/\1/p' <<<"$line")
		[[ ,$nodes, == *,$node,* ]] && return 0
	done <<<"$out"
	echo "no [$kind] finding for entity $entity entry $entry node $node in:"
	printf '%s\n' "$out"
	return 1
}

# within SECONDS COMMAND...: retries COMMAND until it succeeds, for at most
# SECONDS of wall time (a verify run itself takes a while).
within() {
	local until=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS >= until)) && return 1
		sleep 0.2
	done
}

# says TEXT REGEX: TEXT has a line matching REGEX (shows TEXT when not).
says() {
	grep -qE -- "$2" <<<"$1" && return 0
	echo "no line matches '$2' in:"
	printf '%s\n' "$1"
	return 1
}

# clean: exit 0 and nothing to report (no lag either).
clean() {
	local out
	out=$("$VERIFY" --quiet "$conf" 2>/dev/null) && [[ -z $out ]]
}

# ---- a mixed workload ---------------------------------------------------------------
mkdir -p "$m1/dir/sub" "$m2/other"
for i in $(seq 1 12); do seq 1 $((i * 50)) >"$C/mnt/$((i % 3 + 1))/dir/f$i"; done
head -c 200000 /dev/urandom >"$m2/dir/big"
for i in 1 2 3; do echo "from $i" >>"$C/mnt/$i/dir/shared"; done
mv "$m3/dir/f1" "$m3/dir/sub/f1"
ln "$m1/dir/f2" "$m2/other/hard2"
ln -s ../dir/f3 "$m1/other/sym3"
chmod 600 "$m2/dir/f4"
truncate -s 10 "$m3/dir/f5"
truncate -s 100000 "$m1/dir/f6"
touch -d '2001-02-03 04:05:06' "$m2/dir/f7"
mkfifo "$m1/other/fifo"
rm "$m2/dir/f8"
rmdir "$m3/dir/sub" 2>/dev/null; mkdir "$m3/gone" && rmdir "$m3/gone"
if command -v setfattr >/dev/null; then
	setfattr -n user.note -v hello "$m1/dir/f9"
	setfattr -n user.dir -v d "$m2/dir"
fi
# more entities than one page of answers (512). From one mount: creates from
# several nodes at once contend for the namespace (and are much slower).
mkdir "$m1/many"
for i in $(seq 1 700); do echo "$i" >"$m1/many/f$i"; done
# unlinked while open on node 1 only: reclaimed on 2 and 3, live on 1
exec 8<"$m1/dir/f10"
rm "$m1/dir/f10"
check "the mounts show the same tree" -- wait_until 10 same_tree "$m1" "$m2"
check "a healthy cluster: exit 0, nothing reported" -- within 15 clean
out=$("$VERIFY" "$conf" 2>&1)
check "the report counts what it compared" -- says "$out" "^compared 7[0-9][0-9] entities: .* 0 divergent"
diag "$(grep compared <<<"$out")"
if command -v python3 >/dev/null; then
	check "--json is one JSON object saying exit 0" -- sh -c "'$VERIFY' --json '$conf' |
		python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"exit\"]==0 and not d[\"findings\"] and len(d[\"nodes\"])==3'"
fi
check "--deep agrees too" -- "$VERIFY" --quiet --deep "$conf"
exec 8<&-

# ---- writes going on during the check ------------------------------------------------
# writer NODE: appends on NODE for 5 s; node 1 also creates and renames
# (namespace changes from one node: from several at once they contend).
writer() {
	local until=$((SECONDS + 5)) i=0
	while ((SECONDS < until)); do
		i=$((i + 1))
		echo "line $i" >>"$C/mnt/$1/dir/busy$1"
		[[ $1 -eq 1 ]] || continue
		echo "$i" >"$C/mnt/$1/dir/new$1.$((i % 20))"
		mv "$C/mnt/$1/dir/new$1.$((i % 20))" "$C/mnt/$1/dir/moved$1" 2>/dev/null
	done
}
writer 1 &
w1=$!
writer 2 &
w2=$!
statuses=""
while kill -0 $w1 2>/dev/null || kill -0 $w2 2>/dev/null; do
	"$VERIFY" --quiet "$conf" >"$_tmp/busy.out" 2>&1
	st=$?
	statuses+="$st "
	cat "$_tmp/busy.out" >>"$_tmp/busy.all" # lag may be reported (exit 0)
	sleep 0.02
done
wait $w1 $w2
diag "checks while writing, by exit status: $(tr -s ' ' '\n' <<<"${statuses% }" | sort | uniq -c | xargs)"
check "checks while writes go on: never a divergence, always exit 0" -- \
	test -n "$statuses" -a -z "${statuses//[0 ]/}"
[[ -s $_tmp/busy.all ]] && sort "$_tmp/busy.all" | uniq -c | sort -rn | head -n 5 | sed 's/^/# reported while writing: /'
check "after the writes: exit 0, nothing reported" -- within 15 clean

# ---- a node stopped while writes go on -------------------------------------------------
"$CLUSTER" stop "$C" 3
for i in $(seq 1 10); do echo "while 3 is away $i" >"$m1/dir/away$i"; done
echo more >>"$m2/dir/shared"
# more entries than the log keeps (retention 1000): node 3 will need a snapshot
for i in $(seq 1 2300); do echo "entry $i"; done | while IFS= read -r l; do echo "$l" >>"$m1/dir/long"; done
out=$("$VERIFY" "$conf" 2>&1)
st=$?
check "a stopped node: exit 2" -- test $st -eq 2
check "... naming it and why" -- grep -q "COULD NOT CHECK node 3 .*unreachable" <<<"$out"
check "... while the others are compared" -- says "$out" "^  node 1 .* [0-9]+ entities"
check "... both of them" -- says "$out" "^  node 2 .* [0-9]+ entities"
check "... and agree" -- says "$out" " 0 divergent"
check "node 3 restarts" -- "$CLUSTER" start "$C" 3
check "it catches up: exit 0, nothing reported" -- within 30 clean
check "... the long file too (past the others' trim point)" -- cmp -s "$m1/dir/long" "$m3/dir/long"
grep -h "installed the state" "$C"/log/3.log | head -n 3 | sed 's/^/# node 3: /'

# ---- bad input ---------------------------------------------------------------------------
port=$(sed -n 's/^node\.3 *= *[^:]*:\([0-9]*\)$/\1/p' "$conf")
cp "$conf" "$_tmp/four.conf"
sed -i "s|^secret_file = .*|secret_file = $C/cluster.key|" "$_tmp/four.conf"
echo "node.4 = 127.0.0.1:$((port + 50))" >>"$_tmp/four.conf"
out=$("$VERIFY" "$_tmp/four.conf" 2>&1)
st=$?
check "a node that does not exist: exit 2" -- test $st -eq 2
check "... named" -- says "$out" "^COULD NOT CHECK node 4 .*unreachable"
check "... the others compared" -- says "$out" "^  node 3 .* [0-9]+ entities"
head -c 32 /dev/urandom >"$_tmp/wrong.key"
chmod 600 "$_tmp/wrong.key"
sed "s|^secret_file = .*|secret_file = $_tmp/wrong.key|" "$conf" >"$_tmp/wrong.conf"
out=$("$VERIFY" "$_tmp/wrong.conf" 2>&1)
st=$?
check "a wrong secret: exit 2" -- test $st -eq 2
check "... saying so" -- says "$out" "^COULD NOT CHECK node 1 .*secret differs"
mkdir -p "$_tmp/notastore"
echo hello >"$_tmp/notastore/readme"
out=$("$VERIFY" --offline "$_tmp/notastore" 2>&1)
st=$?
check "a data dir that is not a paxfs store: exit 2" -- test $st -eq 2
check "... saying so" -- says "$out" "not a paxfs data dir"
out=$("$VERIFY" --offline "$C/data/1" "$C/data/2" 2>&1)
st=$?
check "the data dir of a running node: exit 2" -- test $st -eq 2
check "... refused as in use" -- says "$out" "^COULD NOT CHECK .*in use: a running paxfs"

# ---- offline: a node behind is lag --------------------------------------------------------
# the files damaged below (inode number = entity id), read while mounted
e_value=$(stat -c %i "$m1/dir/f12") e_state=$(stat -c %i "$m1/dir/f3")
e_flip=$(stat -c %i "$m1/dir/f7") e_eio=$(stat -c %i "$m1/dir/f9") e_rot=$(stat -c %i "$m1/dir/big")
"$CLUSTER" stop "$C" 3
for i in $(seq 1 5); do echo "later $i" >>"$m1/dir/f11"; done
"$CLUSTER" down "$C"
out=$("$VERIFY" --offline "$C/data/1" "$C/data/2" "$C/data/3" 2>&1)
st=$?
check "offline, a node that stopped early: exit 0" -- test $st -eq 0
check "... reported as lag" -- grep -q "^LAG node 3: behind on" <<<"$out"
diag "$(grep -E '^LAG' <<<"$out")"

# ---- damage, planted on stopped nodes -------------------------------------------------------
entry_of() { sed -n 's/.* entry=\([0-9]*\):.*/\1/p' <<<"$1"; }
plant() {
	local out
	out=$("$CORRUPT" "$@" 2>&1) || { echo "# paxfs-corrupt $*: $out" >&2; echo 0; return; }
	entry_of "$out"
}
x_value=$(plant "$C/data/2" value "$e_value")
x_state=$(plant "$C/data/3" state "$e_state")
x_flip=$(plant "$C/data/1" flip-record "$e_flip")
x_eio=$(plant "$C/data/2" flip-state "$e_eio")
x_rot=$(plant "$C/data/3" state "$e_rot" --keep-digest)
diag "planted: value $e_value@$x_value on 2, state $e_state@$x_state on 3, flipped record $e_flip@$x_flip on 1, flipped state $e_eio on 2, rot $e_rot@$x_rot on 3"

out=$("$VERIFY" --offline "$C/data/1" "$C/data/2" "$C/data/3" 2>/dev/null)
st=$?
check "offline: the damage is divergence (exit 1)" -- test $st -eq 1
check "... a rewritten chosen value: entity, entry, node 2" -- finds "$out" value "$e_value" "$x_value" 2
check "... its state no longer replays from its log" -- finds "$out" replay "$e_value" "$x_value" 2
check "... a rewritten state: digest differs at its entry on node 3" -- finds "$out" digest "$e_state" "$x_state" 3
check "... a flipped byte in a log record on node 1" -- finds "$out" damage "$e_flip" "$x_flip" 1
check "... findings name the path" -- grep -q "entity $e_value (/dir/f12)" <<<"$out"

for i in 1 2 3; do
	check "node $i restarts on its damaged data" -- "$CLUSTER" start "$C" "$i"
done
out=$("$VERIFY" "$conf" 2>/dev/null)
st=$?
check "online after the restart: exit 1" -- test $st -eq 1
check "... the chosen value on node 2" -- finds "$out" value "$e_value" "$x_value" 2
check "... the state on node 3" -- finds "$out" digest "$e_state" "$x_state" 3
check "... the log record on node 1" -- finds "$out" damage "$e_flip" "$x_flip" 1

check "a damaged state record: node 2 answers EIO, not wrong data" -- \
	sh -c "cat '$m2/dir/f9' 2>&1 >/dev/null | grep -q 'Input/output error'"
check "... while node 1 serves the file" -- cmp -s "$m1/dir/f9" <(seq 1 450)
out=$("$VERIFY" "$conf" 2>/dev/null)
check "... and verify names it as refusing service on node 2" -- finds "$out" bad "$e_eio" "$x_eio" 2

out=$("$VERIFY" --deep "$conf" 2>/dev/null)
st=$?
check "--deep finds a state that rots under a valid checksum" -- finds "$out" deep "$e_rot" "$x_rot" 3
check "... after which node 3 answers EIO for it" -- \
	sh -c "cat '$m3/dir/big' 2>&1 >/dev/null | grep -q 'Input/output error'"
check "... and node 1 still serves it" -- cmp -s "$m1/dir/big" "$m2/dir/big"
