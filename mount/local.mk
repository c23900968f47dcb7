# mount/ — (empty so far)
