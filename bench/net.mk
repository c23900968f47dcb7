# bench/net — (not yet)
