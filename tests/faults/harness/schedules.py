"""tests/faults/harness/schedules.py — the fault schedules. Each one gets a
Run whose cluster is up and whose workload files exist, runs its clients and
its faults for about r.duration seconds, stops the clients and returns;
run.py then heals everything, waits for convergence and judges. Schedules
put their own figures (catch-up time, storage ratio…) in r.extra and their
own failures (a promise the checker cannot see) through r.fail().

Randomness comes only from `rng` (seeded): a failing run is replayed with
the seed its summary line printed.
"""
import os
import subprocess
import time

from .cluster import NodeFailed


def _sleep_until(t):
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)


def _groups_desc(groups):
    return " | ".join(",".join(str(x) for x in g) for g in groups)


# ---- random partitions, lossy and slow links -----------------------------------

def partitions(r, rng, short):
    """Every 1.5-5 s one of: a node isolated; a minority cut from a majority;
    a bridge (two nodes that cannot talk, a third that talks to both); for 5
    nodes a ring of partial links; lossy links (packet loss in nftables); slow
    links (message delay in the daemon); or everything healed."""
    nodes = r.nodes
    n = len(nodes)
    procs = r.start_clients(per_node=2)
    end = time.monotonic() + r.duration
    kinds = ["isolate", "split", "bridge", "lossy", "slow", "heal"]
    if n >= 5:
        kinds.append("ring")
    counts = {}
    while time.monotonic() < end:
        kind = rng.choice(kinds)
        counts[kind] = counts.get(kind, 0) + 1
        r.net.heal()
        for i in nodes:
            r.cluster.write_ctl(i, delay={}, loss={})
        shuffled = nodes[:]
        rng.shuffle(shuffled)
        if kind == "isolate":
            groups = [shuffled[1:], [shuffled[0]]]
            r.net.partition(groups)
            desc = "isolate node %d" % shuffled[0]
        elif kind == "split":
            k = (n - 1) // 2
            groups = [shuffled[k:], shuffled[:k]]
            r.net.partition(groups)
            desc = "split %s" % _groups_desc(groups)
        elif kind == "bridge":
            a, b = shuffled[0], shuffled[1]
            r.net.set_cut(a, b)
            desc = "bridge: %d and %d cannot talk, the others talk to both" % (a, b)
        elif kind == "ring":
            for i, a in enumerate(shuffled):
                for j, b in enumerate(shuffled):
                    if i < j and (j - i) % n not in (1, n - 1):
                        r.net.set_cut(a, b)
            desc = "ring %s: each node talks to its two neighbours only" % shuffled
        elif kind == "lossy":
            links = [(a, b) for a in nodes for b in nodes if a < b]
            rng.shuffle(links)
            picked = links[:rng.randint(1, len(links))]
            for a, b in picked:
                r.net.set_loss(a, b, rng.choice([5, 10, 20, 35]))
            desc = "packet loss %s" % r.net.describe()
        elif kind == "slow":
            a = shuffled[0]
            ms = rng.choice([20, 50, 150, 400])
            for b in nodes:
                if b != a:
                    # both directions of every link of node a
                    r.cluster.write_ctl(b, delay={a: (ms, ms // 2)},
                                        loss={a: rng.choice([0, 0, 5, 20])})
            r.cluster.write_ctl(a, delay={b: (ms, ms // 2) for b in nodes if b != a})
            desc = "node %d's links delayed %d ms (+ jitter), some messages lost" % (a, ms)
        else:
            desc = "healed"
        r.net.apply()
        r.note("partitions: " + desc)
        time.sleep(rng.uniform(1.5, 5.0))
    r.note("partitions: %s" % counts)
    r.stop_clients(procs)


# ---- kill -9 and restart -------------------------------------------------------------

def kills(r, rng, short):
    """Every 1-4 s a random running node gets SIGKILL (never more than a
    minority down at once) and is restarted 0.5-4 s later; sometimes the
    node a client was just writing through."""
    nodes = r.nodes
    maxdown = (len(nodes) - 1) // 2
    procs = r.start_clients(per_node=2)
    end = time.monotonic() + r.duration
    restarts = []  # (time, node)
    kills_done = 0
    next_kill = time.monotonic() + rng.uniform(1, 3)
    while True:
        now = time.monotonic()
        restarts.sort()
        if restarts and restarts[0][0] <= now:
            _, i = restarts.pop(0)
            r.note("kills: restart node %d" % i)
            r.cluster.start(i)
            continue
        if now >= end and not restarts:
            break
        if now >= next_kill and now < end and len(restarts) < maxdown:
            up = [i for i in nodes if r.cluster.running(i)]
            i = rng.choice(up)
            r.note("kills: kill -9 node %d" % i)
            r.cluster.kill(i)
            kills_done += 1
            restarts.append((now + rng.uniform(0.5, 4), i))
            next_kill = now + rng.uniform(1, 4)
            continue
        wake = min([t for t, _ in restarts] + [next_kill if now < end else end + 3600])
        time.sleep(max(0.05, min(0.5, wake - now)))
    r.extra["kills"] = kills_done
    r.stop_clients(procs)


# ---- clock jumps ---------------------------------------------------------------------

def clock(r, rng, short):
    """Every 1-4 s a random node's wall clock jumps (forward or back, by
    seconds to days) or returns; the engine runs on the monotonic clock, so
    nothing may change but the timestamps in new commands."""
    procs = r.start_clients(per_node=2)
    end = time.monotonic() + r.duration
    jumps = 0
    while time.monotonic() < end:
        i = rng.choice(r.nodes)
        off = rng.choice([0, 1, -1]) * rng.choice([5000, 3600 * 1000, 86400 * 1000,
                                                    30 * 86400 * 1000])
        r.cluster.write_ctl(i, clock_offset_ms=off)
        r.note("clock: node %d's clock is now %+.0f s off" % (i, off / 1000))
        jumps += 1
        time.sleep(rng.uniform(1, 4))
    r.extra["jumps"] = jumps
    r.stop_clients(procs)


# ---- a node down while a lot is written, then catching up --------------------

def _latencies(histories, t0, t1, nodes):
    """Durations of the acknowledged small operations that began in [t0, t1)."""
    from . import checker
    ops = checker.load_history(histories)
    return [o.e - o.s for o in ops if o.acked and t0 <= o.s < t1 and o.node in nodes
            and o.op in ("write", "read", "append", "create")]


def _pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))]


def catchup(r, rng, short):
    """The last node is stopped for `down_for` seconds (full run: minutes)
    while the others write `volume` bytes (bulk files of 1-4 MiB) besides the
    small workload; then it is restarted. It
    must catch up in the background with its progress in its log, the
    others' small operations must not slow down beyond 5x at the median, and
    it must be current within `limit` seconds."""
    nodes = r.nodes
    late = nodes[-1]
    others = nodes[:-1]
    volume = (40 if short else 300) << 20
    limit = 120 if short else 600
    down_for = 0 if short else 150  # seconds the node stays down, at least
    fg = r.start_clients(per_node=1, nodes=others, duration=36000,
                         mix="write=40,read=40,append=10,create=10", think_ms=20)
    hist = [h for _, h in r.clients]
    base_t0 = time.monotonic()
    time.sleep(4 if short else 10)
    base_t1 = time.monotonic()
    r.note("catchup: stop node %d" % late)
    t_down = time.monotonic()
    r.cluster.stop(late)
    per = volume // (2 * len(others))
    bulk = r.start_clients(per_node=2, nodes=others, duration=36000,
                           bulk_size=rng.choice([1, 2, 4]) << 20, bulk_bytes=per)
    t_bulk = time.monotonic()
    if not r.wait_clients(bulk, 1800):
        r.fail("bulk writers did not finish in 30 min")
    written_s = time.monotonic() - t_bulk
    r.note("catchup: %d MiB written in %.1f s with node %d down" % (volume >> 20, written_s, late))
    # minutes away: the small workload goes on meanwhile
    _sleep_until(t_down + down_for)
    r.extra["down"] = "%.0fs" % (time.monotonic() - t_down)
    hist = [h for _, h in r.clients]
    since = r.cluster.log_size(late)
    t_start = time.monotonic()
    r.cluster.start(late)
    done_at = None
    progress = 0
    while time.monotonic() - t_start < limit:
        progress = len(r.cluster.log_lines(late, "catch-up: ", since))
        if r.cluster.log_has(late, "catch-up finished", since):
            done_at = time.monotonic()
            break
        time.sleep(0.5)
    t_end = time.monotonic()
    if done_at is None:
        r.fail("node %d did not report its catch-up finished within %d s" % (late, limit))
    r.stop_clients(fg)
    base = _latencies(hist, base_t0, base_t1, others)
    during = _latencies(hist, t_start, t_end, others)
    p50b, p50d = _pct(base, 50), _pct(during, 50)
    p99b, p99d = _pct(base, 99), _pct(during, 99)
    r.extra["written"] = "%dMiB" % (volume >> 20)
    r.extra["catchup"] = "%.1fs" % (done_at - t_start) if done_at else "never"
    r.extra["catchup_rate"] = "%.1fMiB/s" % ((volume >> 20) / (done_at - t_start)) \
        if done_at else "-"
    r.extra["progress_lines"] = progress
    r.extra["fg_p50"] = "%.1f->%.1fms" % (p50b * 1000, p50d * 1000)
    r.extra["fg_p99"] = "%.1f->%.1fms" % (p99b * 1000, p99d * 1000)
    # a progress line every 2 s (mount/progress.h): a catch-up that took
    # longer than two intervals must have shown at least one
    if done_at and done_at - t_start > 5 and progress < 1:
        r.fail("node %d caught up in %.1f s without any progress line in its log"
               % (late, done_at - t_start))
    # the others' small operations: at most 5x slower at the median (or
    # 10 ms more), whatever the catch-up moves (mount: -o catchup_rate).
    # Not in the short run: make check runs other tests beside it.
    if not short and during and base and p50d > max(5 * p50b, p50b + 0.010):
        r.fail("the others' median operation went from %.1f ms to %.1f ms while node %d "
               "caught up" % (p50b * 1000, p50d * 1000, late))
    for l in r.cluster.log_lines(late, "catch-up", since)[-3:]:
        r.note("catchup: node %d: %s" % (late, l))


# ---- a wiped node re-learns before it votes ------------------------------------

def wipe(r, rng, short):
    """A node is killed, its data dir deleted, and restarted while a
    minority of the others is cut off, so that the nodes it can reach are a
    majority only with its vote. It must not vote (it cannot have re-learned
    from everyone), so no change may succeed on those nodes; once healed it
    re-learns, votes again, and holds every acknowledged write. Then a second
    wipe, of another node, with every link up."""
    nodes = r.nodes
    n = len(nodes)
    victim = nodes[-1]
    procs = r.start_clients(per_node=2)
    time.sleep(r.duration * 0.2)
    r.note("wipe: kill -9 node %d and delete its data dir" % victim)
    r.cluster.kill(victim)
    r.cluster.wipe(victim)
    # cut a minority of the others off, so that only with the victim's vote
    # would the rest be a majority
    cut = nodes[:n // 2]
    rest = [i for i in nodes if i not in cut]
    majority_without_victim = len(rest) - 1 > n // 2
    r.net.partition([rest, cut])
    r.net.apply()
    since = r.cluster.log_size(victim)
    r.cluster.start(victim)
    t_window = time.monotonic()
    time.sleep(max(3, r.duration * 0.2))
    relearned_early = r.cluster.log_has(victim, "voting again", since)
    t_window_end = time.monotonic()
    r.note("wipe: node(s) %s cut off for %.1f s; the wiped node %s" % (
        cut, t_window_end - t_window, "re-learned (wrong: it cannot have heard everyone)"
        if relearned_early else "did not vote"))
    if relearned_early:
        r.fail("wiped node %d cleared its amnesia while node(s) %s were unreachable"
               % (victim, cut))
    r.net.heal()
    r.net.apply()
    t_heal = time.monotonic()
    while time.monotonic() - t_heal < 60 and not r.cluster.log_has(victim, "voting again", since):
        time.sleep(0.2)
    relearn = time.monotonic() - t_heal
    if not r.cluster.log_has(victim, "voting again", since):
        r.fail("wiped node %d did not re-learn within 60 s of healing" % victim)
    r.extra["relearn"] = "%.1fs" % relearn
    # nothing may have been acknowledged through the window on the nodes
    # that were a majority only with the victim's vote
    if not majority_without_victim:
        from . import checker
        ops = checker.load_history([h for _, h in r.clients])
        bad = [o for o in ops if o.acked and o.op not in ("read",) and o.node in rest
               and o.s > t_window + 1 and o.e < t_window_end]
        r.extra["acked_in_window"] = len(bad)
        if bad:
            r.fail("%d changes were acknowledged while only the wiped node's vote could make a "
                   "majority, e.g. %r" % (len(bad), bad[0]))
    time.sleep(r.duration * 0.2)
    victim2 = nodes[1] if n > 1 else victim
    r.note("wipe: kill -9 node %d and delete its data dir (every link up)" % victim2)
    r.cluster.kill(victim2)
    r.cluster.wipe(victim2)
    since2 = r.cluster.log_size(victim2)
    t2 = time.monotonic()
    r.cluster.start(victim2)
    while time.monotonic() - t2 < 60 and not r.cluster.log_has(victim2, "voting again", since2):
        time.sleep(0.2)
    if not r.cluster.log_has(victim2, "voting again", since2):
        r.fail("wiped node %d did not re-learn within 60 s" % victim2)
    r.extra["relearn2"] = "%.1fs" % (time.monotonic() - t2)
    time.sleep(r.duration * 0.2)
    r.stop_clients(procs)


# ---- a full disk ---------------------------------------------------------------------

def disk_full_prepare(r, short):
    """The last node's data dir lives on a small tmpfs of its own."""
    i = r.nodes[-1]
    disk = os.path.join(r.tmp, "disk")
    os.makedirs(disk)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm,mode=0700" % (256 if short else 512),
                    "tmpfs", disk], check=True, timeout=30)
    r.mounts.append(disk)
    r.disk = disk
    r.cluster.data_dirs[i] = os.path.join(disk, "data")


def _fill(path):
    """Fills the filesystem of `path` with a file there; returns its size."""
    size = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (1 << 20, 4096):
            buf = b"\0" * chunk
            while True:
                try:
                    n = os.write(fd, buf)
                except OSError:
                    break
                size += n
                if n < chunk:
                    break
    finally:
        os.close(fd)
    return size


def disk_full(r, rng, short):
    """The disk of the last node fills up while everyone writes: its writes
    fail (ENOSPC or EIO) or it stops voting, the others go on; after space
    returns it catches up."""
    i = r.nodes[-1]
    procs = r.start_clients(per_node=2)
    time.sleep(r.duration * 0.25)
    filler = os.path.join(r.disk, "filler")
    r.impair(i, True)
    size = _fill(filler)
    t_full = time.monotonic()
    r.note("disk-full: node %d's disk is full (filler %d MiB)" % (i, size >> 20))
    time.sleep(r.duration * 0.5)
    t_free = time.monotonic()
    os.unlink(filler)
    r.impair(i, False)
    r.note("disk-full: space is back on node %d" % i)
    time.sleep(r.duration * 0.25)
    r.stop_clients(procs)
    from . import checker
    ops = checker.load_history([h for _, h in r.clients])
    full = [o for o in ops if t_full + 1 < o.s and o.e is not None and o.e < t_free
            and o.op != "read"]
    others_ok = sum(1 for o in full if o.acked and o.node != i)
    mine_ok = sum(1 for o in full if o.acked and o.node == i)
    mine_err = {}
    for o in full:
        if o.node == i and not o.acked:
            k = "%s/%s" % (o.op, o.err)
            mine_err[k] = mine_err.get(k, 0) + 1
    r.extra["full_others_acked"] = others_ok
    r.extra["full_self_acked"] = mine_ok
    r.extra["full_self_errors"] = ",".join("%s:%d" % kv for kv in sorted(mine_err.items())) or "-"
    if not others_ok:
        r.fail("no change succeeded on the other nodes while node %d's disk was full" % i)
    if not r.cluster.running(i):
        r.fail("node %d exited when its disk filled up:\n%s" % (i, r.cluster.tail(i)))


# ---- bounded storage -------------------------------------------------------------------

def retention(r, rng, short):
    """Rewrites the same files (`live` bytes in all) ten times; afterwards
    every node's data dir must be below 3x the live data."""
    live = (20 if short else 100) << 20
    size = 1 << 20
    writers = 2 * len(r.nodes)
    names = max(1, live // (size * writers))
    rounds = 10
    procs = r.start_clients(per_node=2, duration=36000, bulk_size=size, bulk_names=names,
                            bulk_bytes=names * size * rounds)
    if not r.wait_clients(procs, 3600):
        r.fail("the rewriting clients did not finish in an hour")
    r.stop_clients(procs)
    since = {i: r.cluster.log_size(i) for i in r.nodes}
    live = names * size * writers
    # Trimming follows the applies; the store gives the room of what was
    # trimmed back when it compacts (mount/compact.h), once the node is idle.
    t = time.monotonic()
    while time.monotonic() - t < 60 and not all(
            r.cluster.log_has(i, "compacted the store", since[i]) for i in r.nodes):
        time.sleep(1)
    r.extra["settle"] = "%.0fs" % (time.monotonic() - t)
    worst = 0
    sizes = []
    for i in r.nodes:
        used = r.cluster.du(i)
        sizes.append(used)
        worst = max(worst, used / float(live))
    r.extra["live"] = "%dMiB" % (live >> 20)
    r.extra["data_dirs"] = "/".join("%dMiB" % (s >> 20) for s in sizes)
    r.extra["ratio"] = "%.2f" % worst
    if worst >= 3:
        r.fail("a data dir holds %.2fx the live data (limit 3x)" % worst)


# ---- power cuts and torn writes (LazyFS under every data dir) -----------------------

# the clients' mix: registers and appends also with fsync() before close()
POWERCUT_MIX = "write=25,read=30,append=15,create=10,rename=10,fsync=10"
# torn writes, in turn: (parts persisted, of how many equal parts). A hole in
# the middle first (sectors written out of order), then a prefix, then a
# hole at the start.
TORN = [("1,3", 3), ("1", 2), ("2", 3)]
TORN_WAIT = 30  # seconds for the armed write to come


def powercut_prepare(r, short):
    """Every node's data dir on a LazyFS mount of its own (harness/lazyfs.py),
    LazyFS built under the build tree. Skips when the LazyFS copy or the
    packages its build needs are missing."""
    from . import lazyfs
    from .run import REPO, Skip
    src, there = lazyfs.source_dir(REPO)
    if not there:
        raise Skip("no LazyFS copy in %s (no %s/build; $PAXFS_LAZYFS_SRC names another): "
                   "power cuts need it" % (src, src))
    missing = lazyfs.missing_packages()
    if missing:
        raise Skip("building LazyFS needs %s (scripts/setup installs them)" % " ".join(missing))
    out = os.path.join(r.builddir, "tests", "faults", "lazyfs")
    t = time.monotonic()
    bindir = lazyfs.build(src, out)
    r.note("powercut: LazyFS from %s in %s (%.1f s)" % (src, bindir, time.monotonic() - t))
    r.lazy = {}
    r.cleanups.append(lambda: [lz.close() for lz in r.lazy.values()])
    for i in r.nodes:
        lz = lazyfs.LazyFS(bindir, os.path.join(r.tmp, "lz%d" % i),
                           cache_size="512mb" if short else "1gb", log=r.note)
        r.lazy[i] = lz
        r.data_extra.append(lz.root)
        # the longest command this run sends must fit LazyFS's 100-byte read
        longest = "lazyfs::torn-op::file=%s/000000.log::persist=1,3::parts=3" % lz.root
        if len(longest) > lazyfs.MAX_COMMAND - 1:
            raise RuntimeError("the run's directory %s is too long a path for LazyFS's commands "
                               "(%d bytes, at most %d): set TMPDIR to a shorter one"
                               % (r.tmp, len(longest), lazyfs.MAX_COMMAND - 1))
        lz.start()
        r.cluster.data_dirs[i] = lz.mnt
    r.note("powercut: LazyFS mounted under every data dir: %s" % ", ".join(
        r.lazy[i].mnt for i in r.nodes))


def _store_kind(name):
    if name.endswith(".log") and name[:-4].isdigit():
        return "log"
    if name.endswith(".ldb") or name.endswith(".sst"):
        return "table"
    if name.startswith("MANIFEST-"):
        return "manifest"
    if name in ("LOG", "LOG.old"):
        return "info-log"
    return name


def _newest_log(root):
    logs = [n for n in os.listdir(root) if n.endswith(".log") and n[:-4].isdigit()]
    return max(logs, key=lambda n: int(n[:-4])) if logs else None


def _restart(r, victims, why, st):
    """Starts the victims again; False (and a failure naming the log line
    that says why) when one does not start."""
    ok = True
    for i in victims:
        since = r.cluster.log_size(i)
        try:
            r.cluster.start(i)
        except NodeFailed as e:
            r.note(str(e))
            r.unstartable.add(i)
            r.fail("node %d does not start %s: %s" % (i, why, r.cluster.why_not_started(i, since)))
            ok = False
            continue
        st["restarts"] += 1
        for l in r.cluster.log_lines(i, "store: ", since):
            r.note("powercut: node %d: %s" % (i, l))
            if "dropped a torn tail" in l:
                st["tails_dropped"] += 1
            if "moved the files of the damaged store" in l:
                st["set_aside"] += 1
    return ok


def _power_cut(r, rng, victims, st):
    """SIGKILL the victims' daemons (each reaped), drop what their disks
    had not synced, start them again."""
    r.note("powercut: power cut on node(s) %s" % ",".join(map(str, victims)))
    for i in victims:
        r.cluster.kill(i)
    for i in victims:
        lz = r.lazy[i]
        n, files = lz.unsynced_report()
        lz.clear_cache()
        st["dropped"] += n
        for f in files:
            st["dropped_kinds"].add(_store_kind(f))
        r.note("powercut: node %d: dropped %d unsynced bytes, in %s" % (
            i, n, ", ".join(files) or "no file"))
    st["cuts"] += 1
    st["node_cuts"] += len(victims)
    time.sleep(rng.uniform(0.5, 2.0))
    return _restart(r, victims, "after a power cut", st)


def _torn_write(r, rng, i, persist, parts, st):
    """The next write to node i's newest leveldb log persists only some of
    its parts, and LazyFS dies with it (all that node's unsynced data
    gone). The daemon's store write fails, so it must stop; then LazyFS is
    mounted again on the same root and the node started."""
    lz = r.lazy[i]
    since = r.cluster.log_size(i)
    r.note("powercut: torn write on node %d: parts %s of %d of the next write to its newest log"
           % (i, persist, parts))
    # down for the liveness check from now: once armed, its disk may die at
    # any write, and its operations fail until it is back
    r.impair(i, True)
    armed = []
    end = time.monotonic() + TORN_WAIT
    while time.monotonic() < end and lz.alive():
        name = _newest_log(lz.root)
        if name and name not in armed:  # leveldb may have switched to a new log meanwhile
            lz.arm_torn(name, persist, parts)
            armed.append(name)
            r.note("powercut: node %d: torn-op armed on %s" % (i, name))
        lz.wait_dead(0.2)
    if lz.alive():
        # the write never came: clear the armed faults with a power cut that
        # restarts LazyFS too, so they cannot fire later
        r.fail("torn write on node %d: no write to %s within %d s" % (
            i, "/".join(armed) or "any leveldb log", TORN_WAIT))
        r.cluster.kill(i)
        lz.clear_cache()
        lz.close()
        lz.start()
        ok = _restart(r, [i], "after a power cut", st)
        r.impair(i, False)
        return ok
    st["torn"] += 1
    for l in lz.torn_lines():
        r.note("powercut: node %d: LazyFS: %s" % (i, l))
    p = r.cluster.procs.get(i)
    try:
        p.wait(timeout=30)
        st["self_stopped"] += 1
        errs = r.cluster.log_lines(i, " error ", since)
        r.note("powercut: node %d stopped by itself (exit %s): %s" % (
            i, p.returncode, errs[0] if errs else "(no error in its log)"))
    except subprocess.TimeoutExpired:
        r.note("powercut: node %d still runs 30 s after its data dir died: kill -9" % i)
        r.cluster.kill(i)
    lz.remount()
    ok = _restart(r, [i], "after a torn write of its newest log", st)
    r.impair(i, False)
    return ok


def powercut(r, rng, short):
    """Under the mixed load (with fsyncs), power cuts: on one node, on two,
    then on all of them (SIGKILL, reaped, LazyFS drops what was not
    fsynced, restart), then a torn write of one node's newest leveldb log
    (LazyFS persists part of the write and dies; remounted, restarted).
    --short: one round; else rounds until the duration is over (two at
    least), each torn write of another shape. Something unsynced must have
    been dropped in some cut."""
    nodes = r.nodes
    st = {"cuts": 0, "node_cuts": 0, "dropped": 0, "dropped_kinds": set(), "torn": 0,
          "self_stopped": 0, "restarts": 0, "tails_dropped": 0, "set_aside": 0}
    procs = r.start_clients(per_node=2, duration=36000, mix=POWERCUT_MIX)
    end = time.monotonic() + r.duration
    rounds = 0
    ok = True
    while ok:
        persist, parts = TORN[rounds % len(TORN)]
        rounds += 1
        for kind, k in (("cut", 1), ("cut", 2), ("cut", len(nodes)), ("torn", 1)):
            time.sleep(rng.uniform(1.5, 3.5) if short else rng.uniform(2, 5))
            victims = sorted(rng.sample(nodes, k))
            if kind == "cut":
                ok = _power_cut(r, rng, victims, st)
            else:
                ok = _torn_write(r, rng, victims[0], persist, parts, st)
            if not ok:
                break
        if short or (time.monotonic() >= end and rounds >= 2):
            break
    if ok:
        time.sleep(2)  # load on the restarted nodes
    r.stop_clients(procs)
    r.extra["rounds"] = rounds
    r.extra["cuts"] = st["cuts"]
    r.extra["node_cuts"] = st["node_cuts"]
    r.extra["dropped"] = "%dB" % st["dropped"]
    r.extra["dropped_in"] = ",".join(sorted(st["dropped_kinds"])) or "-"
    r.extra["torn"] = st["torn"]
    r.extra["torn_self_stopped"] = st["self_stopped"]
    r.extra["tails_dropped"] = st["tails_dropped"]
    r.extra["set_aside"] = st["set_aside"]
    if ok and not st["dropped"]:
        r.fail("no power cut dropped anything: LazyFS had no unsynced data at any cut")


SCHEDULES = {
    "partitions": (partitions, None),
    "kills": (kills, None),
    "clock": (clock, None),
    "catchup": (catchup, None),
    "wipe": (wipe, None),
    "disk-full": (disk_full, disk_full_prepare),
    "retention": (retention, None),
    "powercut": (powercut, powercut_prepare),
}
