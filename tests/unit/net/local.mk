# tests/unit/net — (no tests yet)
