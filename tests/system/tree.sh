# tests/system/tree.sh — a canonical listing of a directory tree, one line
# per entry: path, type, mode, size (files), link count, mtime (ns), content
# digest or link target. Two trees are identical when their listings are.
# Directory sizes and link counts are left out for directories (they are the
# file system's own bookkeeping); atimes are left out (reads change them).
# One python3 process walks the tree (a sha1sum per file took a minute for a
# few thousand files on a loaded machine).

tree_listing() {
	python3 - "$1" <<'PY'
import hashlib, os, stat, sys
root = sys.argv[1]
out = []
for dirpath, dirs, files in os.walk(root):
    for name in dirs + files:
        full = os.path.join(dirpath, name)
        rel = os.path.relpath(full, root)
        st = os.lstat(full)
        mode = "%o" % stat.S_IMODE(st.st_mode)
        mtime = "%d.%09d" % divmod(st.st_mtime_ns, 10**9)
        if stat.S_ISREG(st.st_mode):
            h = hashlib.sha1()
            with open(full, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            out.append("%s f %s %d %s %d %s" % (rel, mode, st.st_nlink, mtime, st.st_size, h.hexdigest()))
        elif stat.S_ISDIR(st.st_mode):
            out.append("%s d %s %s" % (rel, mode, mtime))
        elif stat.S_ISLNK(st.st_mode):
            out.append("%s l %d %s -> %s" % (rel, st.st_nlink, mtime, os.readlink(full)))
        else:
            out.append("%s %o %s %d %s" % (rel, stat.S_IFMT(st.st_mode), mode, st.st_nlink, mtime))
lines = sorted(l.encode("utf-8", "surrogateescape") for l in out)
sys.stdout.buffer.write(b"".join(l + b"\n" for l in lines))
PY
}

# same_tree A B: succeeds when the listings are equal; prints a diff otherwise.
same_tree() {
	diff <(tree_listing "$1") <(tree_listing "$2")
}
