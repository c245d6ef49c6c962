"""Using a trained head: metrics on a cached split (`scoring`), a classifier for new texts
(`classifier`, behind `mlbert.load` and `predict`), and the serving SavedModel (`serving`)."""
