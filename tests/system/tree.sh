# tests/system/tree.sh — a canonical listing of a directory tree, one line
# per entry: path, type, mode, size (files), link count, mtime (ns), content
# digest or link target. Two trees are identical when their listings are.
# Directory sizes and link counts are left out for directories (they are the
# file system's own bookkeeping); atimes are left out (reads change them).

tree_listing() {
	local root=$1
	(cd "$root" && find . -mindepth 1 -printf '%P\t%y\t%m\t%n\t%T@\t%s\t%l\n' | LC_ALL=C sort |
		while IFS=$'\t' read -r path type mode nlink mtime size target; do
			case $type in
			f) printf '%s f %s %s %s %s %s\n' "$path" "$mode" "$nlink" "$mtime" "$size" \
				"$(sha1sum <"$path" | cut -c1-40)" ;;
			d) printf '%s d %s %s\n' "$path" "$mode" "$mtime" ;;
			l) printf '%s l %s %s -> %s\n' "$path" "$nlink" "$mtime" "$target" ;;
			*) printf '%s %s %s %s %s\n' "$path" "$type" "$mode" "$nlink" "$mtime" ;;
			esac
		done)
}

# same_tree A B: succeeds when the listings are equal; prints a diff otherwise.
same_tree() {
	diff <(tree_listing "$1") <(tree_listing "$2")
}
