# tests/faults — (not yet)
