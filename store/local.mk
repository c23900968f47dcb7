# store/ — (empty so far)
