# tests/unit/paxos — (no tests yet)
