"""tests/faults/harness/lazyfs.py — a node's data dir on LazyFS: power cuts
and torn writes, for the powercut schedule.

LazyFS (upstream dsrhaslab/lazyfs; a copy is kept beside the repository, in
../shared/lazyfs) is a FUSE file system that keeps every write in its own
cache until the writer fsyncs it. One instance per node, all of it in BASE:

    BASE/r               its root: where the node's files really are
    BASE/m               its mount: the node's data dir (-o data=BASE/m)
    BASE/lazyfs.toml     BASE/faults.fifo   BASE/done.fifo
    BASE/lazyfs.N.log    its log, one per start (LazyFS truncates its log)

Commands go to faults.fifo, one line each and one at a time: LazyFS reads
at most 100 bytes at once, so two commands in the pipe together, or one of
100 bytes or more, are garbage. What it does with them:

- clear-cache: drops every write not fsynced (a power cut); LazyFS then
  writes "finished::clear-cache" to done.fifo, which this object keeps open
  for reading as long as LazyFS lives (LazyFS's command thread blocks until
  done.fifo has a reader);
- unsynced-data-report: lists in its log what a clear would drop;
- torn-op on a file: the next write to it persists only some of its parts,
  then LazyFS kills itself (a power cut in the middle of a write), so the
  mount is dead until remount().

Paths in commands are as LazyFS sees them: BASE/r/NAME.
Every wait is bounded; close() unmounts and stops LazyFS by its pid.
"""
import os
import re
import select
import shutil
import signal
import subprocess
import time

# what /work/shared/lazyfs/build needs (it installs them itself as root,
# with a download; scripts/setup installs them beforehand)
PACKAGES = ("cmake", "g++", "libfuse3-dev", "libtoml11-dev", "libspdlog-dev")
MAX_COMMAND = 99  # LazyFS reads 100 bytes at most, the newline included


def source_dir(repo):
    """(the LazyFS copy to build, whether it is there): $PAXFS_LAZYFS_SRC,
    else ../shared/lazyfs beside the repository (read-only in CI)."""
    d = os.environ.get("PAXFS_LAZYFS_SRC") or os.path.join(repo, "..", "shared", "lazyfs")
    d = os.path.abspath(d)
    return d, os.access(os.path.join(d, "build"), os.X_OK)


def missing_packages():
    out = []
    for p in PACKAGES:
        try:
            r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True,
                               text=True, timeout=30)
        except FileNotFoundError:
            return list(PACKAGES)
        if "install ok installed" not in r.stdout:
            out.append(p)
    return out


def _signature(src):
    newest = 0.0
    for dirpath, _, files in os.walk(src):
        for name in files:
            try:
                newest = max(newest, os.lstat(os.path.join(dirpath, name)).st_mtime)
            except OSError:
                pass
    return "%s %.6f\n" % (src, newest)


def build(src, out, timeout=1200):
    """Builds LazyFS from `src` into `out` (under the build tree), unless the
    build there is of the same source. Returns out; raises with the tail of
    the build's output when it fails."""
    stamp = os.path.join(out, ".source")
    sig = _signature(src)
    try:
        with open(stamp) as f:
            if f.read() == sig and os.access(os.path.join(out, "lazyfs"), os.X_OK):
                return out
    except OSError:
        pass
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    logpath = out + ".build.log"
    with open(logpath, "w") as logf:
        try:
            p = subprocess.run([os.path.join(src, "build"), out], stdin=subprocess.DEVNULL,
                               stdout=logf, stderr=subprocess.STDOUT, timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout after %d s" % timeout
    if rc != 0 or not os.access(os.path.join(out, "lazyfs"), os.X_OK):
        with open(logpath, errors="replace") as f:
            tail = "".join(f.readlines()[-15:])
        raise RuntimeError("building LazyFS (%s/build %s) failed (%s):\n%s" % (src, out, rc, tail))
    with open(stamp, "w") as f:
        f.write(sig)
    return out


def _mounted(path):
    path = os.path.realpath(path)
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) > 2 and parts[1] == path and parts[2].startswith("fuse"):
                return True
    return False


class LazyFSError(Exception):
    pass


class LazyFS:
    def __init__(self, bindir, base, cache_size="512mb", log=print):
        self.bin = os.path.join(bindir, "lazyfs")
        self.libdir = bindir
        self.base = base
        self.root = os.path.join(base, "r")
        self.mnt = os.path.join(base, "m")
        self.conf = os.path.join(base, "lazyfs.toml")
        self.fifo = os.path.join(base, "faults.fifo")
        self.done = os.path.join(base, "done.fifo")
        self.cache_size = cache_size
        self.log = log
        self.proc = None
        self.done_fd = None
        self.done_buf = b""
        self.starts = 0
        self.logfile = None
        os.makedirs(self.root, mode=0o700)
        os.makedirs(self.mnt, mode=0o700)
        os.chmod(self.root, 0o700)  # the node's data dir: paxfs refuses one others may read
        for f in (self.fifo, self.done):
            os.mkfifo(f, 0o600)

    # ---- life cycle --------------------------------------------------------

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=60):
        """Mounts LazyFS on BASE/m (root BASE/r) and waits until its command
        thread listens."""
        if self.alive():
            raise LazyFSError("LazyFS of %s is already running" % self.base)
        self._clear_mount()
        self.starts += 1
        self.logfile = os.path.join(self.base, "lazyfs.%d.log" % self.starts)
        with open(self.conf, "w") as f:
            f.write("[faults]\nfifo_path=\"%s\"\nfifo_path_completed=\"%s\"\n"
                    "[cache]\napply_eviction=false\n"
                    "[cache.simple]\ncustom_size=\"%s\"\nblocks_per_page=1\n"
                    "[filesystem]\nlog_all_operations=false\nlogfile=\"%s\"\n"
                    % (self.fifo, self.done, self.cache_size, self.logfile))
        self._close_done()
        # before LazyFS starts: its command thread opens done.fifo for writing
        self.done_fd = os.open(self.done, os.O_RDONLY | os.O_NONBLOCK)
        self.done_buf = b""
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = self.libdir + (
            ":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        out = open(os.path.join(self.base, "stdout.log"), "a")
        out.write("==== tests/faults: start %d at %.3f\n" % (self.starts, time.monotonic()))
        out.flush()
        self.proc = subprocess.Popen([self.bin, self.mnt, "--config-path", self.conf,
                                      "-o", "allow_other", "-o", "modules=subdir",
                                      "-o", "subdir=" + self.root, "-f"],
                                     stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, env=env)
        out.close()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise LazyFSError("LazyFS on %s exited with %s while starting:\n%s" % (
                    self.mnt, self.proc.returncode, self.tail()))
            if _mounted(self.mnt) and "waiting for fault commands" in self._log_text():
                return
            time.sleep(0.1)
        raise LazyFSError("LazyFS on %s did not come up within %d s:\n%s" % (
            self.mnt, timeout, self.tail()))

    def wait_dead(self, timeout):
        """True once the LazyFS process has exited (it kills itself after a
        torn write)."""
        if self.proc is None:
            return True
        try:
            self.proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def remount(self):
        """After LazyFS died: clears the dead mount and mounts the same root
        again (what the disk kept)."""
        if self.alive():
            raise LazyFSError("remount of a LazyFS that is still running (%s)" % self.mnt)
        self.start()

    def close(self):
        """Unmounts and stops LazyFS (by its pid: SIGKILL if an unmount does
        not end it within 10 s). The node using it must be stopped first."""
        try:
            if self.alive():
                subprocess.run(["fusermount3", "-u", self.mnt], capture_output=True, timeout=30)
                if not self.wait_dead(10):
                    self.proc.send_signal(signal.SIGKILL)
                    self.wait_dead(30)
            self._clear_mount()
        finally:
            self._close_done()

    def _clear_mount(self):
        if _mounted(self.mnt):
            subprocess.run(["fusermount3", "-u", "-z", self.mnt], capture_output=True, timeout=30)
            if _mounted(self.mnt):
                subprocess.run(["umount", "-l", self.mnt], capture_output=True, timeout=30)

    def _close_done(self):
        if self.done_fd is not None:
            os.close(self.done_fd)
            self.done_fd = None

    # ---- commands --------------------------------------------------------------

    def _log_text(self, since=0):
        try:
            with open(self.logfile, "rb") as f:
                f.seek(since)
                return f.read().decode(errors="replace")
        except (OSError, TypeError):
            return ""

    def _log_size(self):
        try:
            return os.path.getsize(self.logfile)
        except OSError:
            return 0

    def tail(self, n=15):
        lines = self._log_text().splitlines()
        if not lines:
            try:
                with open(os.path.join(self.base, "stdout.log"), errors="replace") as f:
                    lines = f.read().splitlines()
            except OSError:
                pass
        return "\n".join(lines[-n:])

    def command(self, cmd):
        if len(cmd) > MAX_COMMAND - 1:
            raise LazyFSError("LazyFS command of %d bytes (at most %d; a shorter $TMPDIR "
                              "makes paths shorter): %s" % (len(cmd), MAX_COMMAND - 1, cmd))
        if not self.alive():
            raise LazyFSError("LazyFS on %s is not running (command %s)" % (self.mnt, cmd))
        fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, (cmd + "\n").encode())
        finally:
            os.close(fd)

    def _wait_log(self, since, pattern, timeout, what):
        end = time.monotonic() + timeout
        while True:
            was_alive = self.alive()  # dead before the read: the log is complete
            text = self._log_text(since)
            m = re.search(pattern, text)
            if m:
                return text, m
            if time.monotonic() > end or not was_alive:
                raise LazyFSError("LazyFS on %s: no answer to %s within %d s:\n%s" % (
                    self.mnt, what, timeout, self.tail()))
            time.sleep(0.05)

    def unsynced_report(self, timeout=20):
        """Asks what a clear would drop: (bytes, [files]) as LazyFS reports
        them (the files by their names in the root)."""
        since = self._log_size()
        self.command("lazyfs::unsynced-data-report")
        text, m = self._wait_log(
            since, r"report: total number of bytes un-fsynced: (\d+) bytes|"
            r"report: all data blocks are synced", timeout, "unsynced-data-report")
        files = sorted(set(os.path.basename(f) for f in re.findall(r"=> file: '([^']*)'", text)))
        return int(m.group(1) or 0), files

    def clear_cache(self, timeout=30):
        """Drops every write not fsynced and waits until LazyFS says it did."""
        self.command("lazyfs::clear-cache")
        end = time.monotonic() + timeout
        while b"finished::clear-cache\n" not in self.done_buf:
            left = end - time.monotonic()
            if left <= 0:
                raise LazyFSError("LazyFS on %s did not finish clear-cache within %d s:\n%s" % (
                    self.mnt, timeout, self.tail()))
            r, _, _ = select.select([self.done_fd], [], [], min(left, 0.5))
            if r:
                try:
                    chunk = os.read(self.done_fd, 4096)
                except BlockingIOError:
                    chunk = None
                if chunk:
                    self.done_buf += chunk
                elif not self.alive():
                    raise LazyFSError("LazyFS on %s died during clear-cache:\n%s" % (
                        self.mnt, self.tail()))
                else:
                    time.sleep(0.05)  # no writer yet: select says readable at EOF
        self.done_buf = self.done_buf.split(b"finished::clear-cache\n", 1)[1]

    def arm_torn(self, name, persist, parts, timeout=10):
        """The next write to root/NAME persists only parts `persist` (e.g.
        "1,3") of `parts` equal parts, then LazyFS kills itself."""
        since = self._log_size()
        self.command("lazyfs::torn-op::file=%s/%s::persist=%s::parts=%d" % (
            self.root, name, persist, parts))
        # the write may come (and LazyFS die) before LazyFS logs the fault as
        # configured: its persisted parts say it was, too
        text, m = self._wait_log(
            since, r"configured successfully|INVALID torn-op|will persist|Killing LazyFS",
            timeout, "torn-op")
        if "INVALID" in m.group(0):
            raise LazyFSError("LazyFS refused the torn-op on %s:\n%s" % (name, text))

    def torn_lines(self):
        """What LazyFS logged of the torn write it did (persisted parts)."""
        return [l for l in self._log_text().splitlines()
                if "will persist" in l or "Killing LazyFS" in l or "Added crash fault" in l]
