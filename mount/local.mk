# mount/ — the paxfs daemon (built once paxos/, net/ and fs/ have landed)
