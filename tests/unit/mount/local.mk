# tests/unit/mount — (no tests yet)
