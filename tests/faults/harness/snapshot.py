"""tests/faults/harness/snapshot.py — what one node's mount holds of the
workload's files, as JSON on stdout:

    python3 -m harness.snapshot MOUNT
    {"files": {"reg.0": "...", "app.0": "...", "f/c-3-17": "...",
               "big-4-2": "sha256:<hex>"}, "errors": {"path": "EIO"}}

Small files are given whole (decoded with backslash escapes), bulk files
(big-*) by their SHA-256. Run it as a child process with a timeout: a mount
whose daemon is stopped makes every access hang.
"""
import errno
import hashlib
import json
import os
import sys


def read(path, digest):
    with open(path, "rb") as f:
        if not digest:
            return f.read().decode(errors="backslashreplace")
        h = hashlib.sha256()
        while True:
            b = f.read(1 << 20)
            if not b:
                return "sha256:" + h.hexdigest()
            h.update(b)


def main():
    w = os.path.join(sys.argv[1], "w")
    files, errors = {}, {}
    todo = [""]
    while todo:
        rel = todo.pop()
        try:
            names = sorted(os.listdir(os.path.join(w, rel)))
        except OSError as e:
            errors[rel or "."] = errno.errorcode.get(e.errno, str(e.errno))
            continue
        for name in names:
            r = os.path.join(rel, name) if rel else name
            p = os.path.join(w, r)
            try:
                if os.path.isdir(p):
                    todo.append(r)
                else:
                    files[r] = read(p, name.startswith("big-"))
            except OSError as e:
                errors[r] = errno.errorcode.get(e.errno, str(e.errno))
    json.dump({"files": files, "errors": errors}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
