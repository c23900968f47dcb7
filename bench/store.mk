# bench/store — (not yet)
