# tools/ — (empty so far)
