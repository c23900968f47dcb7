#!/usr/bin/env bash
# tests/system/sqlite_locks.sh — SQLite in its default rollback-journal mode,
# written from two nodes at once: it coordinates through fcntl() POSIX locks
# on the database file (cluster-wide on paxfs: mount/lock.h) and re-reads
# the file after each lock (a grant drops the node's cached pages). Two
# writers, one on node 1 and one on node 2, each commit 100 transactions of
# one row, with SQLite's busy timeout for the other's locks; then every row
# is there exactly once and PRAGMA integrity_check is ok, read on node 3.
source "$(dirname "$0")/lib.sh"
python3 -c 'import sqlite3' 2>/dev/null || skip_all "python3 has no sqlite3"
cluster_up

cat >"$_tmp/writer.py" <<'PY'
import sqlite3, sys
path, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
db = sqlite3.connect(path, timeout=60)  # waits up to 60 s for the other's lock
db.execute("PRAGMA journal_mode=DELETE")
for i in range(n):
    with db:  # one transaction: BEGIN ... COMMIT
        db.execute("INSERT INTO t (who, i) VALUES (?, ?)", (who, i))
db.close()
PY

python3 - "$C/mnt/1/db.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA journal_mode=DELETE")
db.execute("CREATE TABLE t (who TEXT, i INTEGER, UNIQUE (who, i))")
db.commit()
db.close()
PY
check "the database exists on node 2" -- wait_until 10 test -s "$C/mnt/2/db.sqlite"

timeout 300 python3 "$_tmp/writer.py" "$C/mnt/1/db.sqlite" a 100 2>"$_tmp/a.err" &
a=$!
timeout 300 python3 "$_tmp/writer.py" "$C/mnt/2/db.sqlite" b 100 2>"$_tmp/b.err" &
b=$!
wait $a
ra=$?
wait $b
rb=$?
check "the writer on node 1 committed its 100 transactions" -- test $ra -eq 0
check "the writer on node 2 committed its 100 transactions" -- test $rb -eq 0
[[ $ra -eq 0 && $rb -eq 0 ]] || cat "$_tmp/a.err" "$_tmp/b.err" | head -n 20 | sed 's/^/# /'

out=$(timeout 60 python3 - "$C/mnt/3/db.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
print(db.execute("PRAGMA integrity_check").fetchone()[0])
for who in ("a", "b"):
    rows = [r[0] for r in db.execute("SELECT i FROM t WHERE who = ? ORDER BY i", (who,))]
    print(who, "ok" if rows == list(range(100)) else "rows %r" % rows[:20])
PY
)
check "integrity_check on node 3: ok" -- test "$(sed -n 1p <<<"$out")" = ok
check "every row of both writers, once" -- test "$(sed -n '2,3p' <<<"$out" | tr '\n' ' ')" = "a ok b ok "
[[ $(sed -n 1p <<<"$out") == ok ]] || sed 's/^/# /' <<<"$out"
check "no journal left behind" -- test ! -e "$C/mnt/3/db.sqlite-journal"
verify_cluster
