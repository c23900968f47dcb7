# tests/sim — (not yet)
