# net/ — (empty so far)
