"""tests/faults/harness/cluster.py — the paxfs daemons of one run, each in its
node's network namespace.

    ROOT/cluster.conf  node.I = 10.99.0.I:7100     ROOT/cluster.key
    ROOT/data/I        data dir of node I           ROOT/mnt/I  its FUSE mount
    ROOT/log/I.log     its log (every start appends) ROOT/ctl/I  its fault file

A daemon is started as `nsenter --net=NS paxfs -f ...`: it enters only the
network namespace, so its FUSE mount is made in (and visible from) the mount
namespace of the test, and clients use it as any local mount. nsenter execs
paxfs, so the pid kept is the daemon's own; only those pids are signalled.

The fault file (-o test_faults=ROOT/ctl/I) is how the test reaches into a
running daemon: message delay and loss per peer and a wall-clock offset
(mount/faults.h says what it may hold).

Every wait here is bounded; anything that may touch a mount (which can hang
while its daemon is stopped) runs in a child process with a timeout.
"""
import os
import shutil
import signal
import subprocess
import time

from . import netns


def _mounted(mnt):
    mnt = os.path.realpath(mnt)
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) > 2 and parts[1] == mnt and parts[2].startswith("fuse"):
                return True
    return False


def _answers(mnt, timeout=3):
    try:
        return subprocess.run(["stat", "-t", mnt], capture_output=True,
                              timeout=timeout).returncode == 0
    except subprocess.TimeoutExpired:
        return False


class NodeFailed(Exception):
    pass


class Cluster:
    def __init__(self, root, net, binary, nodes, opts="", log=print):
        self.root = root
        self.net = net
        self.bin = binary
        self.nodes = list(nodes)
        self.opts = opts
        self.log = log
        self.procs = {}          # node -> Popen of its daemon
        self.extra_opts = {}     # node -> extra -o options for its next starts
        self.ctl = {}            # node -> dict of fault-file settings
        self.data_dirs = {}      # node -> data dir, where not ROOT/data/I
        for d in ("data", "mnt", "log", "ctl"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        with open(self.conf, "w") as f:
            f.write("# made by tests/faults\ncluster = faults\nsecret_file = cluster.key\n")
            for i in self.nodes:
                f.write("node.%d = %s:%d\n" % (i, netns.addr(i), netns.PORT))
        fd = os.open(os.path.join(root, "cluster.key"), os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, os.urandom(32).hex().encode() + b"\n")
        os.close(fd)
        for i in self.nodes:
            self.write_ctl(i)

    @property
    def conf(self):
        return os.path.join(self.root, "cluster.conf")

    def mnt(self, i):
        return os.path.join(self.root, "mnt", str(i))

    def data(self, i):
        return self.data_dirs.get(i) or os.path.join(self.root, "data", str(i))

    def logfile(self, i):
        return os.path.join(self.root, "log", "%d.log" % i)

    def ctlfile(self, i):
        return os.path.join(self.root, "ctl", str(i))

    # ---- the fault file ----------------------------------------------------

    def write_ctl(self, i, **changes):
        """Updates node i's fault file: delay={peer: (ms, jitter)},
        loss={peer: percent}, clock_offset_ms=N. Written atomically (rename),
        read by the daemon within about 100 ms."""
        c = self.ctl.setdefault(i, {"delay": {}, "loss": {}, "clock_offset_ms": 0})
        c.update(changes)
        lines = ["# tests/faults: faults of node %d" % i]
        for peer, (ms, jitter) in sorted(c["delay"].items()):
            lines.append("delay %d %d %d" % (peer, ms, jitter))
        for peer, pct in sorted(c["loss"].items()):
            lines.append("loss %d %d" % (peer, pct))
        lines.append("clock_offset_ms %d" % c["clock_offset_ms"])
        tmp = self.ctlfile(i) + ".new"
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.rename(tmp, self.ctlfile(i))

    def clear_ctl(self, i):
        self.write_ctl(i, delay={}, loss={}, clock_offset_ms=0)

    # ---- life cycle --------------------------------------------------------

    def running(self, i):
        p = self.procs.get(i)
        return p is not None and p.poll() is None

    def pid(self, i):
        return self.procs[i].pid if self.running(i) else None

    def clear_mount(self, i):
        if _mounted(self.mnt(i)):
            subprocess.run(["fusermount3", "-u", "-z", self.mnt(i)], capture_output=True,
                           timeout=30)
            if _mounted(self.mnt(i)):
                subprocess.run(["umount", "-l", self.mnt(i)], capture_output=True, timeout=30)

    def start(self, i, wait=60):
        if self.running(i):
            raise NodeFailed("node %d is already running" % i)
        self.clear_mount(i)
        os.makedirs(self.mnt(i), exist_ok=True)
        opts = "node=%d,data=%s,allow_other,default_permissions,test_faults=%s" % (
            i, self.data(i), self.ctlfile(i))
        if self.opts:
            opts += "," + self.opts
        if self.extra_opts.get(i):
            opts += "," + self.extra_opts[i]
        logf = open(self.logfile(i), "a")
        logf.write("==== tests/faults: start node %d at %.3f\n" % (i, time.monotonic()))
        logf.flush()
        p = subprocess.Popen(["nsenter", "--net=" + self.net.ns_path(i), "--", self.bin, "-f",
                              "-o", opts, self.conf, self.mnt(i)],
                             stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        self.procs[i] = p
        end = time.monotonic() + wait
        while time.monotonic() < end:
            if p.poll() is not None:
                raise NodeFailed("node %d exited with %s while starting:\n%s" % (
                    i, p.returncode, self.tail(i)))
            if _mounted(self.mnt(i)) and _answers(self.mnt(i)):
                return
            time.sleep(0.1)
        raise NodeFailed("node %d did not answer within %ds:\n%s" % (i, wait, self.tail(i)))

    def abort_mount(self, i):
        """Aborts node i's FUSE connection (umount -f), as an operator would
        to free a daemon that cannot die: only to clean up after a failure."""
        subprocess.run(["umount", "-f", self.mnt(i)], capture_output=True, timeout=30)

    def kill(self, i):
        """SIGKILL: the dead mount stays behind, as after a real crash."""
        p = self.procs.get(i)
        if p and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.abort_mount(i)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    pass
                raise NodeFailed("node %d did not die of SIGKILL within 30 s (its FUSE "
                                 "connection had to be aborted)" % i)

    def stop(self, i, wait=30):
        """SIGTERM: the daemon unmounts itself; SIGKILL if it does not exit."""
        p = self.procs.get(i)
        if p and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                self.log("node %d did not stop within %d s: killing it" % (i, wait))
                self.kill(i)
        self.clear_mount(i)

    def pause(self, i):
        if self.running(i):
            os.kill(self.procs[i].pid, signal.SIGSTOP)

    def resume(self, i):
        if self.running(i):
            os.kill(self.procs[i].pid, signal.SIGCONT)

    def wipe(self, i):
        """Deletes node i's data dir (the node must not be running)."""
        assert not self.running(i)
        path = self.data(i)
        if os.path.ismount(path):
            for name in os.listdir(path):
                p = os.path.join(path, name)
                shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
        else:
            shutil.rmtree(path, ignore_errors=True)

    def up(self):
        for i in self.nodes:
            self.start(i)

    def down(self):
        for i in self.nodes:
            self.resume(i)
        for i in self.nodes:
            p = self.procs.get(i)
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
        end = time.monotonic() + 20
        for i in self.nodes:
            p = self.procs.get(i)
            if p:
                try:
                    p.wait(timeout=max(0.1, end - time.monotonic()))
                except subprocess.TimeoutExpired:
                    p.kill()
                    try:
                        p.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        self.log("node %d does not die: aborting its FUSE connection" % i)
                        self.abort_mount(i)
                        p.wait(timeout=30)
        for i in self.nodes:
            self.clear_mount(i)

    # ---- looking at it -----------------------------------------------------

    def tail(self, i, n=30):
        try:
            with open(self.logfile(i), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def log_has(self, i, text, since=0):
        """True when node i's log holds `text` after byte offset `since`."""
        try:
            with open(self.logfile(i), "rb") as f:
                f.seek(since)
                return text.encode() in f.read()
        except OSError:
            return False

    def why_not_started(self, i, since=0):
        """The line of node i's log (after byte offset `since`) that says why
        it did not start: store damage first, else its last line."""
        lines = self.log_lines(i, "", since)
        for l in lines:
            if any(w in l for w in ("Corruption", "damaged", "checksum mismatch")):
                return l
        lines = [l for l in lines if l.strip()]
        return lines[-1] if lines else "(nothing in its log)"

    def log_size(self, i):
        try:
            return os.path.getsize(self.logfile(i))
        except OSError:
            return 0

    def log_lines(self, i, text, since=0):
        try:
            with open(self.logfile(i), "rb") as f:
                f.seek(since)
                return [l.decode(errors="replace").rstrip("\n") for l in f if text.encode() in l]
        except OSError:
            return []

    def du(self, i):
        """Bytes used by node i's data dir."""
        total = 0
        for dirpath, _, files in os.walk(self.data(i)):
            for name in files:
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
                except OSError:
                    pass
        return total
