# tests/system/lib.sh — shared by the system tests: TAP output, a cluster of
# real mounts made with scripts/cluster in a temporary directory, and its
# teardown on every exit (trap). Source it, then call cluster_up.
#
# Every wait is bounded; only processes this test started are signalled
# (scripts/cluster does it by the pids it recorded).

set -u
: "${PAXFS_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${PAXFS_BUILDDIR:=$PAXFS_SRCDIR}"
export PAXFS_SRCDIR PAXFS_BUILDDIR
CLUSTER="$PAXFS_SRCDIR/scripts/cluster"
VERIFY="$PAXFS_BUILDDIR/tools/paxfs-verify"

_tap_n=0
_tap_failed=0
_tmp=""
C="" # the cluster dir; mounts are $C/mnt/1 ...

# ok COND-STATUS DESCRIPTION: one TAP line from the exit status of the last command.
ok() {
	local status=$1
	shift
	_tap_n=$((_tap_n + 1))
	if [[ $status -eq 0 ]]; then
		echo "ok $_tap_n - $*"
	else
		echo "not ok $_tap_n - $*"
		_tap_failed=$((_tap_failed + 1))
	fi
}

# check DESCRIPTION -- COMMAND...: runs COMMAND, one TAP line; its output is
# shown (as TAP comments) only when it fails.
check() {
	local desc=$1 out status
	shift
	[[ ${1:-} == -- ]] && shift
	out=$("$@" 2>&1)
	status=$?
	ok "$status" "$desc"
	[[ $status -ne 0 ]] && printf '%s\n' "$out" | sed 's/^/# /' | tail -n 40
	return 0
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

diag() { printf '# %s\n' "$*"; }


_cleanup() {
	local rc=$?
	if [[ -n $C && -f $C/cluster.conf ]]; then
		if ((_tap_failed > 0)); then
			for log in "$C"/log/*.log; do
				[[ -f $log ]] || continue
				echo "# --- tail of $log"
				tail -n 30 "$log" | sed 's/^/# /'
			done
		fi
		"$CLUSTER" down "$C" >/dev/null 2>&1 || true
	fi
	[[ -n $_tmp ]] && rm -rf "$_tmp"
	echo "1..$_tap_n"
	((_tap_failed > 0)) && exit 1
	exit "$rc"
}

# cluster_up [-n N] [-o OPTS]: a fresh cluster in a temp dir; sets C.
cluster_up() {
	[[ $(id -u) -eq 0 ]] || skip_all "needs root for FUSE mounts with allow_other"
	[[ -c /dev/fuse ]] || skip_all "no /dev/fuse"
	_tmp=$(mktemp -d /tmp/paxfs-test.XXXXXX)
	C=$_tmp/c
	trap _cleanup EXIT
	trap 'exit 130' INT TERM
	if ! "$CLUSTER" up "$C" "$@" >"$_tmp/up.log" 2>&1; then
		ok 1 "cluster up"
		sed 's/^/# /' "$_tmp/up.log"
		exit 1
	fi
}

# wait_until SECONDS COMMAND...: polls COMMAND every 50 ms until it succeeds.
wait_until() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 20; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

# prom_check FILE: the Prometheus text format (0.0.4), line by line, strictly.
# Every family has HELP then TYPE (counter, gauge or histogram) before its
# samples, appears once, and its samples are contiguous; a sample is
# name{label="value",...} value, with a name of its family (counters end in
# _total); values are numbers. A histogram's series each have _bucket
# samples with le last, ascending and cumulative, ending with le="+Inf",
# then _sum, then _count equal to the +Inf bucket. At least 20 samples.
prom_check() {
	awk '
	function fail(msg) { print "line " NR ": " msg ": " $0; bad = 1; exit 1 }
	/^# HELP / { if ($3 in seen) fail("family again"); seen[$3] = 1; help = $3; next }
	/^# TYPE / {
		if ($3 != help) fail("TYPE without its HELP")
		if ($4 != "counter" && $4 != "gauge" && $4 != "histogram") fail("unknown type")
		if ($4 == "counter" && $3 !~ /_total$/) fail("a counter not named _total")
		if (type == "histogram" && last != "count") fail("a histogram series without _count")
		fam = $3; type = $4; series = ""; last = "count"; next
	}
	/^#/ { fail("a comment that is neither HELP nor TYPE") }
	{
		if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\} [0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/)
			fail("not name{labels} value")
		name = $0; sub(/\{.*/, "", name)
		labels = $0; sub(/^[^{]*\{/, "", labels); sub(/\} [^ ]*$/, "", labels)
		value = $NF + 0
		n++
		if (type != "histogram") {
			if (name != fam) fail("a sample outside its family")
			next
		}
		if (name == fam "_bucket") {
			if (labels !~ /(^|,)le="[^"]*"$/) fail("a bucket whose last label is not le")
			le = labels; sub(/.*le="/, "", le); sub(/"$/, "", le)
			key = labels; sub(/,?le="[^"]*"$/, "", key)
			if (key != series) {
				if (last != "count") fail("a new series before the last one ended")
				if ((fam SUBSEP key) in done) fail("a series again")
				series = key; prev_le = ""; prev = 0
			} else {
				if (last != "bucket") fail("a bucket after _sum or _count")
				if (prev_le == "+Inf") fail("a bucket after +Inf")
				if (le != "+Inf" && le + 0 <= prev_le + 0) fail("le not ascending")
			}
			if (le != "+Inf" && le !~ /^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) fail("le not a number")
			if (value < prev) fail("buckets not cumulative")
			prev_le = le; prev = value; last = "bucket"
		} else if (name == fam "_sum") {
			if (labels != series || last != "bucket" || prev_le != "+Inf")
				fail("_sum not right after its series le=\"+Inf\" bucket")
			last = "sum"
		} else if (name == fam "_count") {
			if (labels != series || last != "sum") fail("_count not right after its _sum")
			if (value != prev) fail("_count differs from the le=\"+Inf\" bucket " prev)
			done[fam, series] = 1; last = "count"
		} else {
			fail("a sample outside its histogram family")
		}
	}
	END {
		if (bad) exit 1
		if (type == "histogram" && last != "count") { print "a histogram series without _count at the end"; exit 1 }
		if (n < 20) { print "only " n " samples"; exit 1 }
	}
	' "$1"
}

# verify_cluster: how every test ends. paxfs-verify must find the nodes
# agreeing (exit 0) with nothing to report; a node still catching up (lag) is
# given up to 30 s, a divergence (exit 1) fails at once. One TAP line; the
# report is shown when it fails. Not built: a note, not a failure.
verify_cluster() {
	local out="" status=0 until=$((SECONDS + 30))
	if [[ ! -x $VERIFY ]]; then
		diag "paxfs-verify not built: the nodes were not verified"
		return 0
	fi
	while :; do
		out=$("$VERIFY" --quiet "$C/cluster.conf" 2>"$_tmp/verify.err")
		status=$?
		[[ $status -eq 0 && -z $out ]] && break
		[[ $status -eq 1 ]] && break
		((SECONDS >= until)) && break
		sleep 0.5
	done
	[[ $status -eq 0 && -n $out ]] && status=3 # still lagging after 30 s
	ok "$status" "paxfs-verify finds the nodes agreeing"
	if [[ $status -ne 0 ]]; then
		printf '%s\n' "$out" | head -n 40 | sed 's/^/# /'
		head -n 10 "$_tmp/verify.err" | sed 's/^/# /'
	fi
	return 0
}
