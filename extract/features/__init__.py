"""Texts to pooled per-layer features: the settings, which tokens the encoder sees, and the one
featurising path that extract, predict and export share."""
