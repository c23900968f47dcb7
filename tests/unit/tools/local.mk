# tests/unit/tools — (no tests yet)
