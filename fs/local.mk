# fs/ — (empty so far)
