"""Stage two: train the Keras head on cached features."""
