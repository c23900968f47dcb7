#!/usr/bin/env bash
# tests/faults/kill_busy.sh — regression (tests/faults "kills", seed 7): a node
# killed with SIGKILL while its clients are busy must die, and come back.
#
# The daemon's notify thread used to invalidate cached pages and names of
# files that other nodes changed. A page invalidation waits for the page
# lock a local writer holds while it waits for the daemon's answer, a name
# invalidation for the directory lock a local create holds: after a kill -9
# the thread slept there forever, the process never finished dying, kept
# /dev/fuse open, and the mount, its clients and the data dir's lock hung
# until someone aborted the connection by hand.
#
# Here node 1's clients write to files and create names that node 2 changes
# at the same time; node 1 is killed again and again, and each time it must
# be gone within 5 s and start again.
source "$(dirname "$0")/../system/lib.sh"
cluster_up

# load NODE TAG STOPFILE: rewrites shared files and creates names until
# STOPFILE exists or the mount is gone.
load() {
	local m=$C/mnt/$1 tag=$2 i=0
	while [[ ! -e $3 ]]; do
		i=$((i + 1))
		{ printf "%s %d\n" "$tag" "$i" >"$m/shared.$((i % 3))"; } 2>/dev/null || [[ -d $m/d ]] ||
			return 0
		{ : >"$m/d/$tag.$((i % 50))"; } 2>/dev/null
		rm -f "$m/d/$tag.$(((i + 25) % 50))" 2>/dev/null
	done
}
mkdir -p "$C/mnt/1/d"

# unwedge: what an operator would have to do (abort the FUSE connection)
unwedge() { umount -f "$C/mnt/1" 2>/dev/null; umount -l "$C/mnt/1" 2>/dev/null; }

load 2 b "$_tmp/stop" &
l2=$!
died=0
for round in 1 2 3 4 5 6 7 8 9 10; do
	load 1 a "$_tmp/stop.$round" &
	l1=$!
	sleep 1.5
	pid=$(cat "$C/run/1.pid")
	kill -KILL "$pid"
	for ((i = 0; i < 50; i++)); do
		[[ -d /proc/$pid ]] || break
		sleep 0.1
	done
	if [[ -d /proc/$pid ]]; then
		diag "round $round: node 1 (pid $pid) still there 5 s after SIGKILL:"
		for t in /proc/$pid/task/*; do diag "  thread ${t##*/}: $(cat "$t/wchan" 2>/dev/null)"; done
		unwedge
		touch "$_tmp/stop.$round"
		wait "$l1" 2>/dev/null
		break
	fi
	died=$((died + 1))
	touch "$_tmp/stop.$round"
	wait "$l1" 2>/dev/null
	rm -f "$C/run/1.pid"
	"$CLUSTER" start "$C" 1 >/dev/null 2>&1 || { diag "node 1 did not restart"; break; }
done
touch "$_tmp/stop"
wait "$l2"
ok "$([[ $died -eq 10 ]]; echo $?)" "a busy node dies of SIGKILL within 5 s, ten times in a row"
check "node 1 serves again" -- wait_until 30 stat "$C/mnt/1/d"
