# bench/fs — (not yet)
