#!/usr/bin/env python3
"""tests/faults/test_checker.py — the history checker must catch what it is
for: each case is a small hand-made history and final state, with the one
fault it must report (or none). TAP output; needs nothing but python3.

A checker that passes everything would pass every fault schedule too: these
cases are what make the schedules' "lost=0 stale_reads=0" mean something.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import checker  # noqa: E402

# The cases judge time as the -Werror build does (2 s); make check sets
# PAXFS_SANITIZE for the sanitize build, where the checker judges no time:
# the cases that check that are marked.
checker.STALL_S = 2.0

REG = "reg.0"
INIT = {REG: "init\n", "app.0": ""}

n_test = 0
failed = 0


class H:
    """Builds a history: H().write(...).read(...); times are explicit."""

    def __init__(self):
        self.ops = []
        self.k = 0

    def op(self, op, s, e, ok=True, node=1, **kw):
        self.k += 1
        o = checker.Op({"k": str(self.k), "c": node, "n": node, "op": op, "s": s, **kw})
        if e is not None:
            o.e, o.ok = e, ok
            if not ok:
                o.err = "EIO"
        self.ops.append(o)
        return self

    def write(self, v, s, e, ok=True, node=1, f=REG):
        return self.op("write", s, e, ok, node, f=f, v=v)

    def read(self, got, s, e, node=1, f=REG):
        self.op("read", s, e, True, node, f=f)
        self.ops[-1].got = got
        return self

    def append(self, v, s, e, ok=True, node=1, f="app.0"):
        return self.op("append", s, e, ok, node, f=f, v=v)

    def create(self, name, v, s, e, ok=True, node=1):
        return self.op("create", s, e, ok, node, f=name, v=v)

    def rename(self, old, new, s, e, ok=True, node=1):
        return self.op("rename", s, e, ok, node, f=old, to=new)

    def bulk(self, name, sha, s, e, ok=True, node=1):
        return self.op("bulk", s, e, ok, node, f=name, sha=sha)


def finals(reg="init\n", app="", extra=None, nodes=(1, 2, 3)):
    d = {REG: reg, "app.0": app}
    d.update(extra or {})
    return {n: dict(d) for n in nodes}


def case(name, h, fin, expect, timeline=None, nodes=(1, 2, 3)):
    """expect: {"lost": n, ...} counts that must be exactly so; others 0.
    timeline: also judge liveness (checker.check_liveness) on it."""
    global n_test, failed
    n_test += 1
    res = checker.check(h.ops, fin, INIT)
    if timeline is not None:
        checker.check_liveness(res, h.ops, timeline, list(nodes))
    r = res.as_dict()
    want = {"lost": 0, "stale_reads": 0, "divergence": 0, "corrupt": 0, "stalls": 0}
    want.update(expect)
    got = {k: r[k] for k in want}
    ok = got == want
    print("%s %d - %s" % ("ok" if ok else "not ok", n_test, name))
    if not ok:
        failed += 1
        print("#   want %s\n#   got  %s" % (want, got))
        for p in r["problems"]:
            print("#   " + p)


# ---- registers -------------------------------------------------------------------
case("a read of the latest completed write is fine",
     H().write("a\n", 1, 2).read("a\n", 3, 4), finals("a\n"), {})
case("a read of a write still in flight is fine",
     H().write("a\n", 1, 5).read("a\n", 2, 3), finals("a\n"), {})
case("a read of the value before a write in flight is fine",
     H().write("a\n", 1, 5).read("init\n", 2, 3), finals("a\n"), {})
case("a read of an overwritten value is stale",
     H().write("a\n", 1, 2).write("b\n", 3, 4).read("a\n", 5, 6), finals("b\n"),
     {"stale_reads": 1})
case("a read of the initial value after a completed write is stale",
     H().write("a\n", 1, 2).read("init\n", 3, 4), finals("a\n"), {"stale_reads": 1})
case("a read of a value no write produced is caught",
     H().write("a\n", 1, 2).read("zzz\n", 3, 4), finals("a\n"), {"stale_reads": 1})
case("a read of a write that began after the read ended is caught",
     H().read("a\n", 1, 2).write("a\n", 3, 4), finals("a\n"), {"stale_reads": 1})
case("reads going back in time are caught (R1 saw b, a later R2 saw the older a)",
     H().write("a\n", 1, 2).write("b\n", 3, 9).read("b\n", 4, 5).read("a\n", 6, 7),
     finals("b\n"), {"stale_reads": 1})
case("a failed write may be read, even long after it failed",
     H().write("a\n", 1, 2, ok=False).read("init\n", 3, 4).read("a\n", 5, 6), finals("a\n"),
     {})
case("but once read, the value before it may not come back",
     H().write("a\n", 1, 2, ok=False).read("a\n", 3, 4).read("init\n", 5, 6), finals("a\n"),
     {"stale_reads": 1})
case("a failed write proves nothing overwritten",
     H().write("a\n", 1, 2).write("b\n", 3, 4, ok=False).read("a\n", 5, 6), finals("a\n"), {})
case("a final value older than an acknowledged write is a lost write",
     H().write("a\n", 1, 2).write("b\n", 3, 4), finals("a\n"), {"lost": 3})
case("a final value no write produced is corruption",
     H().write("a\n", 1, 2), finals("x\n"), {"corrupt": 3})

# ---- appends -----------------------------------------------------------------------
case("acknowledged appends present once, in order: fine",
     H().append("1\n", 1, 2).append("2\n", 3, 4), finals(app="1\n2\n"), {})
case("a missing acknowledged append is lost",
     H().append("1\n", 1, 2).append("2\n", 3, 4), finals(app="1\n"), {"lost": 3})
case("an append twice is corruption",
     H().append("1\n", 1, 2), finals(app="1\n1\n"), {"corrupt": 3})
case("a failed append may be there once",
     H().append("1\n", 1, 2, ok=False), finals(app="1\n"), {})
case("appends out of real-time order are caught",
     H().append("1\n", 1, 2).append("2\n", 3, 4), finals(app="2\n1\n"), {"corrupt": 3})
case("a line never appended is caught",
     H(), finals(app="x\n"), {"corrupt": 3})

# ---- creates and renames --------------------------------------------------------------
case("an acknowledged create is there",
     H().create("c-1-1", "v\n", 1, 2), finals(extra={"f/c-1-1": "v\n"}), {})
case("a missing acknowledged create is lost",
     H().create("c-1-1", "v\n", 1, 2), finals(), {"lost": 3})
case("an acknowledged rename moved it",
     H().create("c-1-1", "v\n", 1, 2).rename("c-1-1", "r-1-3", 3, 4),
     finals(extra={"f/r-1-3": "v\n"}), {})
case("an acknowledged rename that did not happen is lost",
     H().create("c-1-1", "v\n", 1, 2).rename("c-1-1", "r-1-3", 3, 4),
     finals(extra={"f/c-1-1": "v\n"}), {"lost": 3})
case("a file under both names is corruption",
     H().create("c-1-1", "v\n", 1, 2).rename("c-1-1", "r-1-3", 3, 4, ok=False),
     finals(extra={"f/c-1-1": "v\n", "f/r-1-3": "v\n"}), {"corrupt": 3})
case("a failed create may leave an empty file",
     H().create("c-1-1", "v\n", 1, 2, ok=False), finals(extra={"f/c-1-1": ""}), {})
case("a file nobody created is caught",
     H(), finals(extra={"f/zz": ""}), {"corrupt": 3})

# ---- bulk files ----------------------------------------------------------------------------
case("a bulk file with the last acknowledged content is fine",
     H().bulk("big-1-1", "aa", 1, 2).bulk("big-1-1", "bb", 3, 4),
     finals(extra={"big-1-1": "sha256:bb"}), {})
case("a bulk file with older content is a lost write",
     H().bulk("big-1-1", "aa", 1, 2).bulk("big-1-1", "bb", 3, 4),
     finals(extra={"big-1-1": "sha256:aa"}), {"lost": 3})

# ---- divergence ----------------------------------------------------------------------------
fin = finals("a\n")
fin[2][REG] = "b\n"
case("nodes that hold different values diverge",
     H().write("a\n", 1, 2, ok=False).write("b\n", 1, 2, ok=False, node=2), fin,
     {"divergence": 1})

# ---- liveness: stalls while a majority is up -------------------------------------------
FIVE = (1, 2, 3, 4, 5)
ALL = frozenset(FIVE)
NONE = frozenset()
# nodes 4 and 5 killed at 10 and 11, back at 40: a majority is up throughout
KILLS = [(0, ALL, NONE), (10, ALL - {5}, NONE), (11, ALL - {4, 5}, NONE), (40, ALL, NONE)]
fin5 = finals(nodes=FIVE)


def failed_with(h, err):
    h.ops[-1].err = err
    return h


case("an operation that fails while a majority is up is a stall",
     H().write("a\n", 12, 42, ok=False), fin5, {"stalls": 1}, KILLS, FIVE)
case("one that succeeds after 30 s while a majority is up is a stall too",
     H().write("a\n", 12, 42), finals("a\n", nodes=FIVE), {"stalls": 1}, KILLS, FIVE)
checker.STALL_S = checker.INF
case("sanitize build: one that succeeds after 30 s is no stall there",
     H().write("a\n", 12, 42), finals("a\n", nodes=FIVE), {}, KILLS, FIVE)
case("sanitize build: one that fails is a stall there too",
     H().write("a\n", 12, 42, ok=False), fin5, {"stalls": 1}, KILLS, FIVE)
checker.STALL_S = 2.0
case("one that takes 1.5 s is fine",
     H().write("a\n", 12, 13.5), finals("a\n", nodes=FIVE), {}, KILLS, FIVE)
case("a failure with three of five nodes down proves nothing",
     H().write("a\n", 12, 42, ok=False), fin5, {},
     KILLS[:2] + [(11, frozenset({1, 2}), NONE), (40, ALL, NONE)], FIVE)
case("nor on a node cut from the others",
     H().write("a\n", 12, 42, ok=False), fin5, {},
     [(0, ALL, frozenset({(1, k) for k in (2, 3, 4, 5)}))], FIVE)
case("nor on a node that was killed during it",
     H().write("a\n", 12, 42, ok=False, node=4), fin5, {}, KILLS, FIVE)
case("nor just after the majority formed (connections come back)",
     H().write("a\n", 10.5, 42, ok=False), fin5, {},
     [(0, frozenset({1, 2}), NONE), (10, frozenset({1, 2, 3}), NONE)], FIVE)
case("a lossy link inside the only majority proves nothing",
     H().write("a\n", 12, 42, ok=False), fin5, {},
     [(0, frozenset({1, 2, 3}), frozenset({(2, 3)}))], FIVE)
case("a full disk is a legitimate failure",
     failed_with(H().write("a\n", 12, 12.1, ok=False), "ENOSPC"), fin5, {}, KILLS, FIVE)

print("1..%d" % n_test)
sys.exit(1 if failed else 0)
