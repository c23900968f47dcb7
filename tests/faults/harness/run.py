"""tests/faults/harness/run.py — one schedule's run: a fresh network and
cluster, the workload's files, the clients, the faults, the healing, the
wait for convergence and the verdict.

    setup ─▶ clients start ─▶ schedule (faults for D seconds) ─▶ clients stop
          ─▶ heal (every link, every node up) ─▶ converge (all nodes serve the
             same files; timed) ─▶ paxfs-verify ─▶ checker ─▶ summary line

Whatever a schedule does to the nodes (kill, start, stop, pause, resume)
or to the links (net.apply, the daemons' delay and loss) is also written into
a timeline: (time, nodes up, bad links), which the checker needs to tell a
stall (an operation that failed or hung while a majority was up) from an
operation that met a real outage.

Everything the run made is taken down in close(), whatever happened: client
processes and daemons (by the pids it started), mounts, namespaces, and the
temporary directory (kept, without the data dirs, when the run failed, so
that the logs and histories can be read).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from . import checker, client, netns
from .cluster import Cluster, NodeFailed

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tests/faults
REPO = os.path.dirname(os.path.dirname(HERE))


class Skip(Exception):
    """Raised by a schedule's prepare step when this machine cannot run it
    (a missing tool): the schedule is reported as skipped, with the reason."""


def find_binary(name):
    """$PAXFS_BUILDDIR/<name>, else the first build dir of the tree that has it."""
    src = os.path.dirname(os.path.dirname(HERE))
    for d in (os.environ.get("PAXFS_BUILDDIR"), os.path.join(src, "build"),
              os.path.join(src, "build-check-werror"), src):
        if d and os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    return None


class Run:
    def __init__(self, name, nodes, seed, duration, opts="", log=None, keep=False,
                 registers=4, appends=2, tag="a"):
        self.name = name
        self.nodes = list(range(1, nodes + 1))
        self.seed = seed
        self.duration = duration
        self.keep = keep
        self.registers = registers
        self.appends = appends
        self.tmp = tempfile.mkdtemp(prefix="paxfs-faults-%s." % name)
        self.logf = open(os.path.join(self.tmp, "run.log"), "a", buffering=1)
        self.echo = log
        self.t0 = time.monotonic()
        self.net = netns.Net("pxf%d%s-" % (os.getpid(), tag), self.nodes)
        binary = find_binary("mount/paxfs")
        if not binary:
            raise RuntimeError("no mount/paxfs: build first (or set PAXFS_BUILDDIR)")
        self.builddir = os.path.dirname(os.path.dirname(binary))
        self.verify_bin = find_binary("tools/paxfs-verify")
        self.cluster = Cluster(os.path.join(self.tmp, "c"), self.net, binary, self.nodes,
                               opts=opts, log=self.note)
        self.clients = []  # (Popen, history path)
        self.initial = {}
        self.extra = {}    # schedule-specific figures for the summary
        self.failures = []  # what went wrong outside the checker
        self.next_client = 1
        self.mounts = []    # file systems the schedule mounted (a small disk…)
        self.cleanups = []  # the schedule's own teardown, run once the daemons are down
        self.data_extra = []  # data dirs outside c/data (removed with them)
        self.unstartable = set()  # nodes that failed to start (a failure already)
        self.timeline = []  # [(time, nodes up, bad links)]: see _track
        self.paused = set()
        self.impaired = set()  # nodes whose disk is full: not serving, by design
        self._track()

    # ---- the timeline -------------------------------------------------------------

    def _mark(self, down=None):
        """Appends the state in force now; `down`: a node counted down from
        now on, whatever its process says (a kill about to be sent)."""
        up = frozenset(i for i in self.nodes if self.cluster.running(i) and
                       i not in self.paused and i not in self.impaired and i != down)
        bad = set(self.net.cut) | set(self.net.loss)
        for i, c in self.cluster.ctl.items():
            for peer in list(c.get("delay", {})) + [p for p, v in c.get("loss", {}).items() if v]:
                bad.add((min(i, peer), max(i, peer)))
        self.timeline.append((time.monotonic(), up, frozenset(bad)))

    def impair(self, i, on):
        """Node i's disk is full (on) or has room again: while it is full the
        node stops voting and its operations may fail (README, Errors), so
        the liveness check counts it as down. Also a disk that may die at its
        next write (powercut: a torn write armed) until the node is back."""
        (self.impaired.add if on else self.impaired.discard)(i)
        self._mark()

    def _track(self):
        """Wraps what changes the nodes or the links so that every change
        is marked: a node is down from just before it is killed, stopped or
        paused, and up once it answers again."""
        c, net = self.cluster, self.net

        def before(fn, pause=None):
            def wrapped(i, *a, **kw):
                self._mark(down=i)
                if pause is not None:
                    (self.paused.add if pause else self.paused.discard)(i)
                try:
                    return fn(i, *a, **kw)
                finally:
                    self._mark()
            return wrapped

        def after(fn, pause=None):
            def wrapped(*a, **kw):
                try:
                    return fn(*a, **kw)
                finally:
                    if pause is not None:
                        self.paused.discard(a[0])
                    self._mark()
            return wrapped

        c.kill = before(c.kill)
        c.stop = before(c.stop)
        c.pause = before(c.pause, pause=True)
        c.resume = after(c.resume, pause=False)
        c.start = after(c.start)
        c.write_ctl = after(c.write_ctl)
        net.apply = after(net.apply)

    # ---- log -----------------------------------------------------------------

    def note(self, msg):
        line = "%7.2f %s" % (time.monotonic() - self.t0, msg)
        self.logf.write(line + "\n")
        if self.echo:
            self.echo(line)

    def fail(self, msg):
        self.failures.append(msg)
        self.note("FAILURE: " + msg)

    # ---- setup -----------------------------------------------------------------

    def setup(self):
        self.note("network: namespaces %s*, nodes %s" % (self.net.prefix, self.nodes))
        self.net.up()
        self.cluster.up()
        w = os.path.join(self.cluster.mnt(1), "w")
        os.makedirs(os.path.join(w, "f"))
        for k in range(self.registers):
            v = ("init:%d" % k).ljust(client.REG_SIZE - 1, ".") + "\n"
            with open(os.path.join(w, "reg.%d" % k), "w") as f:
                f.write(v)
            self.initial["reg.%d" % k] = v
        for k in range(self.appends):
            open(os.path.join(w, "app.%d" % k), "w").close()
            self.initial["app.%d" % k] = ""
        t = self.converge(60)
        if t is None:
            raise RuntimeError("the nodes do not agree on the workload's files after setup")
        self.note("cluster up, workload files on every node")

    # ---- clients ---------------------------------------------------------------

    def start_clients(self, per_node=2, nodes=None, duration=None, **kw):
        """Starts `per_node` clients on each of `nodes` (default all). kw: extra
        client options (mix=..., think_ms=..., bulk_size=..., ...)."""
        out = []
        for n in nodes or self.nodes:
            for _ in range(per_node):
                cid = self.next_client
                self.next_client += 1
                hist = os.path.join(self.tmp, "history.%d.jsonl" % cid)
                args = [sys.executable, "-m", "harness.client", "--mount", self.cluster.mnt(n),
                        "--node", str(n), "--client", str(cid), "--seed", str(self.seed),
                        "--duration", str(duration or self.duration + 5), "--out", hist,
                        "--registers", str(self.registers), "--appends", str(self.appends)]
                for k, v in kw.items():
                    args += ["--" + k.replace("_", "-"), str(v)]
                p = subprocess.Popen(args, cwd=HERE, stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf)
                self.clients.append((p, hist))
                out.append(p)
        return out

    def stop_clients(self, procs=None, grace=60):
        """Asks clients to stop (SIGTERM: they finish the operation in hand),
        waits at most `grace` seconds, then kills the rest (their last
        operation stays without a result: uncertain)."""
        procs = procs or [p for p, _ in self.clients]
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        end = time.monotonic() + grace
        for p in procs:
            try:
                p.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.fail("a client (pid %d) was still in an operation %d s after it was asked "
                          "to stop: a hung system call" % (p.pid, grace))
                p.kill()
                p.wait(timeout=30)

    def wait_clients(self, procs, timeout):
        end = time.monotonic() + timeout
        for p in procs:
            try:
                p.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                return False
        return True

    # ---- healing and convergence ----------------------------------------------

    def heal(self):
        """Every link up, every node running: a node that cannot start is a
        failure (with its log's last lines), not a harness error."""
        self.net.heal()
        self.net.apply()
        for i in self.nodes:
            self.cluster.resume(i)
            self.cluster.clear_ctl(i)
        for i in self.nodes:
            if not self.cluster.running(i) and i not in self.unstartable:
                since = self.cluster.log_size(i)
                try:
                    self.cluster.start(i)
                except NodeFailed as e:
                    self.unstartable.add(i)
                    self.note(str(e))
                    self.fail("node %d does not start after healing: %s" % (
                        i, self.cluster.why_not_started(i, since)))

    def snapshot(self, i, timeout=120):
        try:
            p = subprocess.run([sys.executable, "-m", "harness.snapshot", self.cluster.mnt(i)],
                               cwd=HERE, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"files": {}, "errors": {".": "timeout"}}
        if p.returncode != 0:
            return {"files": {}, "errors": {".": p.stderr.decode(errors="replace")[-200:]}}
        return json.loads(p.stdout)

    def snapshots(self, timeout=120):
        """Snapshots of every node, taken at once (one child process each)."""
        procs = {}
        for i in self.nodes:
            procs[i] = subprocess.Popen([sys.executable, "-m", "harness.snapshot",
                                         self.cluster.mnt(i)], cwd=HERE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = {}
        end = time.monotonic() + timeout
        for i, p in procs.items():
            try:
                so, se = p.communicate(timeout=max(0.1, end - time.monotonic()))
                out[i] = json.loads(so) if p.returncode == 0 else {
                    "files": {}, "errors": {".": se.decode(errors="replace")[-200:]}}
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                out[i] = {"files": {}, "errors": {".": "timeout"}}
        return out

    def converge(self, timeout):
        """Waits until every node serves the same files without errors.
        Returns the seconds it took, or None (self.last_snaps has the last look)."""
        start = time.monotonic()
        while True:
            # a node that could not start is a failure already: the others must agree
            snaps = {i: s for i, s in self.snapshots(timeout=max(5, timeout)).items()
                     if i not in self.unstartable}
            self.last_snaps = snaps
            if not snaps:
                return None
            first = snaps[min(snaps)]["files"]
            if all(not s["errors"] for s in snaps.values()) and \
                    all(s["files"] == first for s in snaps.values()):
                return time.monotonic() - start
            for i, s in snaps.items():  # what keeps them apart, for the log
                if s["errors"]:
                    self.note("converge: node %d: %d errors reading, e.g. %s" % (
                        i, len(s["errors"]), dict(list(s["errors"].items())[:3])))
            diff = [p for p in set().union(*(s["files"] for s in snaps.values()))
                    if len(set(s["files"].get(p) for s in snaps.values())) > 1]
            if diff:
                self.note("converge: %d files differ, e.g. %s" % (len(diff), sorted(diff)[:3]))
            if time.monotonic() - start > timeout:
                for i, s in snaps.items():
                    if s["errors"]:
                        self.note("node %d: errors reading: %s" % (
                            i, dict(list(s["errors"].items())[:5])))
                return None
            time.sleep(0.5)

    def verify(self, attempts=10):
        """paxfs-verify CONFIG from the hub namespace: 0 agree, 1 diverge,
        2 could not check; None when the tool is not built."""
        if not self.verify_bin:
            return None
        last = None
        for attempt in range(attempts):
            p = subprocess.run(["nsenter", "--net=" + self.net.ns_path(), "--", self.verify_bin,
                                self.cluster.conf], capture_output=True, text=True, timeout=300)
            last = p
            if p.returncode != 2:
                break
            time.sleep(2)  # a node may still be catching up or amnesic
        self.note("paxfs-verify: exit %d\n%s" % (last.returncode, (last.stdout + last.stderr)[-3000:]))
        return last.returncode

    # ---- the verdict -------------------------------------------------------------

    def judge(self, converge_s, verify_rc):
        ops = checker.load_history([h for _, h in self.clients])
        # a node that could not start is a failure already (below); what the
        # others hold is still judged
        finals = {i: s["files"] for i, s in self.last_snaps.items()
                  if i not in self.unstartable}
        with open(os.path.join(self.tmp, "finals.json"), "w") as f:
            json.dump({"finals": finals, "initial": self.initial}, f)
        res = checker.check(ops, finals, self.initial)
        checker.check_liveness(res, ops, self.timeline, self.nodes)
        for p in res.problems:
            self.note("checker: " + p)
        if converge_s is None:
            res.divergence = max(res.divergence, 1)
            res.problem("divergence", "the nodes did not converge after healing")
        if verify_rc not in (None, 0):
            res.divergence += 1
            res.problem("divergence", "paxfs-verify exited %d" % verify_rc)
        # first: the checker's findings may fill the list
        res.problems[:0] = ["failure: %s" % f for f in self.failures]
        return res

    def summary(self, res, converge_s, verify_rc):
        ok = res.ok and not self.failures
        fields = [("schedule", self.name), ("nodes", len(self.nodes)), ("seed", self.seed),
                  ("duration", "%ds" % self.duration), ("ops", res.ops),
                  ("acked_writes", res.acked_writes), ("reads", res.reads), ("lost", res.lost),
                  ("stale_reads", res.stale_reads), ("divergence", res.divergence),
                  ("corrupt", res.corrupt), ("stalls", res.stalls),
                  ("converge", "%.1fs" % converge_s if converge_s is not None else "never"),
                  ("verify", {None: "not-built", 0: "agree", 1: "DIVERGE", 2: "UNCHECKED"}.get(
                      verify_rc, str(verify_rc)))]
        fields += list(self.extra.items())
        fields.append(("result", "PASS" if ok else "FAIL"))
        return ok, " ".join("%s=%s" % kv for kv in fields)

    # ---- teardown -----------------------------------------------------------------

    def close(self, failed):
        for p, _ in self.clients:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    pass
        try:
            self.cluster.down()
        finally:
            for fn in reversed(self.cleanups):
                try:
                    fn()
                except Exception as e:  # the rest must still be taken down
                    self.note("cleanup failed: %r" % e)
            self.net.close()
            for d in self.mounts:
                subprocess.run(["umount", "-l", d], capture_output=True, timeout=30)
            if failed or self.keep:
                if not self.keep:  # logs and histories stay, data dirs go
                    shutil.rmtree(os.path.join(self.tmp, "c", "data"), ignore_errors=True)
                    for d in self.data_extra:
                        shutil.rmtree(d, ignore_errors=True)
                    for d in self.mounts:
                        shutil.rmtree(d, ignore_errors=True)
                self.note("kept %s" % self.tmp)
                self.logf.close()
            else:
                self.logf.close()
                shutil.rmtree(self.tmp, ignore_errors=True)
