# bench/ — (empty so far)
