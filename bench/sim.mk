# bench/sim — (not yet)
