# tests/unit/fs — (no tests yet)
