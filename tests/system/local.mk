# tests/system — (not yet)
