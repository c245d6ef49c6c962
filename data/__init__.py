"""Where reviews come from (`sources/`: tfds, the IMDB archive, CSV / JSON Lines files) and the
one stratified split (`split`). Only `common` lies below."""
