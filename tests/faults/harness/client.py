"""tests/faults/harness/client.py — one client of the workload: a process that
works on one node's mount and writes down every operation it issued and
every result it got (its history), for tests/faults/harness/checker.py.

    python3 -m harness.client --mount M --node N --client C --seed S
                              --duration SECONDS --out HISTORY [--mix ...]

The files it works on, under M/w (made by the harness before the clients
start; see workload.py):

    w/reg.K    registers: fixed-size records, overwritten in place by one
               pwrite at offset 0 (one FUSE write, one command: atomic) and
               read whole. Every value is unique: "C:SEQ:RANDOM" padded.
    w/app.K    append logs: one line "C:SEQ" per O_APPEND write.
               The "fsync" share of the mix is a register write or an
               append that calls fsync() before close() (recorded as a
               write or an append with "sync": true).
    w/f/c-C-SEQ  files this client creates (O_CREAT|O_EXCL, then one write),
    w/f/r-C-SEQ  and later renames (only its own, so names never race).
    w/big-C-SEQ  bulk files (--bulk): a few MiB each, content from the seed.

History: JSON lines, flushed as they are written. An operation is one line
when issued ({"t": "i", "k": key, "op": ..., "s": start}) and one when it
returned ({"t": "r", "k": key, "e": end, "ok": bool, "err": "EIO", ...}).
Times are CLOCK_MONOTONIC seconds, one clock for every client of the machine.
An operation with no result line (the client was killed during it) is as
uncertain as one that failed: it may or may not have happened.
"""
import argparse
import errno
import hashlib
import json
import os
import random
import signal
import sys
import time

REG_SIZE = 64
stop = False


def on_term(sig, frame):
    global stop
    stop = True


def reg_value(client, seq, rng):
    v = "%d:%d:%08x" % (client, seq, rng.getrandbits(32))
    return (v + "." * (REG_SIZE - 1 - len(v)) + "\n").encode()


def bulk_content(name, size):
    """Deterministic content of a bulk file: blocks of sha256 chains."""
    out = bytearray()
    h = hashlib.sha256(name.encode()).digest()
    block = h * 128  # 4 KiB
    i = 0
    while len(out) < size:
        out += hashlib.sha256(h + i.to_bytes(8, "little")).digest()[:8] + block[8:]
        i += 1
    return bytes(out[:size])


class History:
    def __init__(self, path, client, node):
        self.f = open(path, "a", buffering=1)
        self.client = client
        self.node = node
        self.n = 0

    def invoke(self, op, **kw):
        self.n += 1
        key = "%d.%d" % (self.client, self.n)
        rec = {"t": "i", "k": key, "c": self.client, "n": self.node, "op": op,
               "s": time.monotonic()}
        rec.update(kw)
        self.f.write(json.dumps(rec) + "\n")
        return key

    def result(self, key, ok, err=None, **kw):
        rec = {"t": "r", "k": key, "e": time.monotonic(), "ok": ok}
        if err:
            rec["err"] = err
        rec.update(kw)
        self.f.write(json.dumps(rec) + "\n")


def errname(e):
    if isinstance(e, OSError) and e.errno:
        return errno.errorcode.get(e.errno, str(e.errno))
    return type(e).__name__


def do_write(path, data, sync=False):
    fd = os.open(path, os.O_WRONLY)
    try:
        n = os.pwrite(fd, data, 0)
        if n != len(data):
            raise OSError(errno.EIO, "short write %d of %d" % (n, len(data)))
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def do_read(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, 1 << 16, 0)
    finally:
        os.close(fd)


def do_append(path, data, sync=False):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        n = os.write(fd, data)
        if n != len(data):
            raise OSError(errno.EIO, "short append %d of %d" % (n, len(data)))
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def do_create(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        n = os.write(fd, data)
        if n != len(data):
            raise OSError(errno.EIO, "short write %d of %d" % (n, len(data)))
    finally:
        os.close(fd)


def do_bulk(path, data, chunk=1 << 20):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for off in range(0, len(data), chunk):
            part = data[off:off + chunk]
            n = os.pwrite(fd, part, off)
            if n != len(part):
                raise OSError(errno.EIO, "short write")
    finally:
        os.close(fd)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mount", required=True)
    ap.add_argument("--node", type=int, required=True)
    ap.add_argument("--client", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--registers", type=int, default=4)
    ap.add_argument("--appends", type=int, default=2)
    ap.add_argument("--mix", default="write=30,read=35,append=15,create=10,rename=10")
    ap.add_argument("--think-ms", type=float, default=10)
    ap.add_argument("--bulk-size", type=int, default=0, help="bytes per bulk file")
    ap.add_argument("--bulk-bytes", type=int, default=0, help="stop after this many bulk bytes")
    ap.add_argument("--bulk-names", type=int, default=0,
                    help="rewrite this many bulk names in turn (0: always new names)")
    a = ap.parse_args()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    rng = random.Random(a.seed * 1000003 + a.client)
    h = History(a.out, a.client, a.node)
    w = os.path.join(a.mount, "w")
    mix = []
    for part in a.mix.split(","):
        name, weight = part.split("=")
        if name not in ("write", "read", "append", "create", "rename", "fsync"):
            ap.error("--mix: no operation '%s'" % name)
        mix.append((name, float(weight)))
    total = sum(x for _, x in mix)
    deadline = time.monotonic() + a.duration
    seq = 0
    mine = []  # (name) created and acknowledged, not renamed yet
    bulk_done = 0

    while not stop and time.monotonic() < deadline:
        seq += 1
        if a.bulk_size:
            if a.bulk_bytes and bulk_done >= a.bulk_bytes:
                break
            if a.bulk_names:
                name = "big-%d-%d" % (a.client, seq % a.bulk_names)
                tag = "%s.%d" % (name, seq)
            else:
                name = tag = "big-%d-%d" % (a.client, seq)
            data = bulk_content(tag, a.bulk_size)
            k = h.invoke("bulk", f=name, size=len(data),
                         sha=hashlib.sha256(data).hexdigest())
            try:
                do_bulk(os.path.join(w, name), data)
                h.result(k, True)
                bulk_done += len(data)
            except OSError as e:
                h.result(k, False, errname(e))
                time.sleep(0.2)
            continue

        x = rng.uniform(0, total)
        for op, weight in mix:
            x -= weight
            if x <= 0:
                break
        if op == "rename" and not mine:
            op = "create"
        sync = False
        if op == "fsync":
            op, sync = rng.choice(["write", "append"]), True
        extra = {"sync": True} if sync else {}
        try:
            if op == "write":
                f = "reg.%d" % rng.randrange(a.registers)
                v = reg_value(a.client, seq, rng)
                k = h.invoke("write", f=f, v=v.decode(), **extra)
                do_write(os.path.join(w, f), v, sync)
                h.result(k, True)
            elif op == "read":
                f = "reg.%d" % rng.randrange(a.registers)
                k = h.invoke("read", f=f)
                got = do_read(os.path.join(w, f))
                h.result(k, True, got=got.decode(errors="backslashreplace"))
            elif op == "append":
                f = "app.%d" % rng.randrange(a.appends)
                line = "%d:%d\n" % (a.client, seq)
                k = h.invoke("append", f=f, v=line, **extra)
                do_append(os.path.join(w, f), line.encode(), sync)
                h.result(k, True)
            elif op == "create":
                name = "c-%d-%d" % (a.client, seq)
                v = "created %d %d\n" % (a.client, seq)
                k = h.invoke("create", f=name, v=v)
                do_create(os.path.join(w, "f", name), v.encode())
                h.result(k, True)
                mine.append(name)
            elif op == "rename":
                old = mine.pop(rng.randrange(len(mine)))
                new = "r-%d-%d" % (a.client, seq)
                k = h.invoke("rename", f=old, to=new)
                os.rename(os.path.join(w, "f", old), os.path.join(w, "f", new))
                h.result(k, True)
        except OSError as e:
            h.result(k, False, errname(e))
            # a dead or unreachable mount: do not spin
            time.sleep(0.3 if e.errno in (errno.ENOTCONN, errno.EIO, errno.ENOENT) else 0.05)
        if a.think_ms:
            time.sleep(rng.uniform(0, a.think_ms) / 1000.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
