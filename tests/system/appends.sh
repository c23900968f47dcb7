#!/usr/bin/env bash
# tests/system/appends.sh — `>>` from the three mounts at once into one file:
# every line lands exactly once, whole, and every mount reads the same file.
source "$(dirname "$0")/lib.sh"
cluster_up

lines=300
for i in 1 2 3; do
	(for j in $(seq 1 $lines); do echo "node $i line $j padding-to-make-the-line-longer"; done >>"$C/mnt/$i/log") &
done
wait
total=$((3 * lines))
check "every line is there once" -- test "$(sort "$C/mnt/1/log" | uniq | wc -l)" -eq $total
check "no line twice" -- test "$(wc -l <"$C/mnt/1/log")" -eq $total
check "no line torn" -- test "$(grep -cvE '^node [123] line [0-9]+ padding-to-make-the-line-longer$' "$C/mnt/1/log")" -eq 0
for i in 1 2 3; do
	check "node $i wrote all its lines in order" -- sh -c "grep '^node $i ' '$C/mnt/1/log' | cut -d' ' -f4 | sort -nc"
done
check "mount 2 reads the same file" -- cmp "$C/mnt/1/log" "$C/mnt/2/log"
check "mount 3 reads the same file" -- cmp "$C/mnt/1/log" "$C/mnt/3/log"
verify_cluster
