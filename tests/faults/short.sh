#!/usr/bin/env bash
# tests/faults/short.sh — the short version of tests/faults/run for make check:
# every schedule on 3 nodes, 15 s of faults each (powercut: one round of power
# cuts and a torn write; the first run builds LazyFS); a few minutes in all.
# TAP: one line per schedule with its summary. docs/faults.md has the full run.
exec "$(dirname "$0")/run" --short "$@"
