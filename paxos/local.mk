# paxos/ — (empty so far)
