"""Scoring a trained head: metrics on a cached split, and predictions for new text."""
