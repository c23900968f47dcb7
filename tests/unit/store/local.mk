# tests/unit/store — (no tests yet)
