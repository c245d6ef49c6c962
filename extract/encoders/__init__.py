"""Encoders: a BERT in plain TensorFlow, a WordPiece preprocessor, Hugging Face checkpoint import,
SavedModels with the TF Hub BERT interfaces, and loading any of them by handle."""
