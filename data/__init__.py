"""Dataset sources: the IMDB archive or folder, TensorFlow Datasets, and the errors for bad input."""
