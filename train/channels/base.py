"""The one interface of a model's channel: fit from the cache's arrays, probabilities in numpy, the
same probabilities as TensorFlow ops for the exported graph, save and load in the model dir."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

import numpy as np

from ...extract.cache.manifest import labels_of

if TYPE_CHECKING:
    from ..rows import Rows  # what fit and refit read: rows streamed from the cache shard by shard

# What probabilities reads: one chunk's features, {pooling: [n, layers * hidden]}, "ngrams" (an
# Ngrams) and "segments" (a Segments of the same poolings, or of "token") when the channel reads them.


def probabilities_of(channel, rows) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities [n, classes], labels [n]) of Rows, a chunk at a time."""
    probs, labels = [], []
    for features, y in rows.chunks():
        probs.append(np.asarray(channel.probabilities(features), np.float64))
        labels.append(y)
    if not probs:
        return np.zeros((0, len(channel.labels))), np.zeros(0, np.int8)
    return np.concatenate(probs), np.concatenate(labels)


def model_labels(config: dict) -> list[str]:
    """A model dir's class names; model dirs written before labels were recorded hold neg and pos."""
    return list(config.get("labels") or labels_of(config["cache"]["manifest"]))


class ServingInputs(Protocol):
    """What the exported graph offers a channel for a batch of texts [n]."""
    text: object  # tf.string [n]
    pooled: Callable  # pooled(poolings) -> {pooling: [n, layers, hidden]}: the featurizer's path, in graph
    # segments(poolings) -> ({pooling: [windows, layers, hidden]} or {"token": [tokens, layers, hidden]},
    # int32 [rows]: each row's review): what the cache stores per segment, in graph
    segments: Callable
    ngram_ids: Callable  # ngram_ids() -> ragged [n, (ids)]: the lexical channel's n-grams, in graph


class Channel(Protocol):
    name: str
    files: tuple[str, ...]  # what it writes into a model dir (checked on reading one)
    reads_bert: bool  # needs the encoder: the BERT features at training, the encoder at prediction
    reads_ngrams: bool
    reads_segments: bool  # reads every window's features ("segments" in the features; train --segments)

    def fit(self, train: "Rows", validation: "Rows", verbose: int = 0) -> None:
        """Learn on the training rows, choosing what early stopping chooses on the validation rows."""

    def refit(self, everything: "Rows", parts: str, verbose: int = 0) -> None:
        """Learn again on every row for the steps chosen by fit; parts 'all', or 'lexical' alone."""

    def probabilities(self, features: dict) -> np.ndarray:
        """float [n, classes] for cached features."""

    def serving_probabilities(self, inputs: ServingInputs):
        """The same probabilities as TensorFlow ops, float64 [n, classes], for the exported graph."""

    def summary(self) -> dict:
        """What `train` reports of it: best_epoch, epochs_run, seconds_per_epoch, layer_weights,
        ensemble, head_val_accuracy, lexical, fusion (None where it has none)."""

    def history(self) -> dict:
        """Its learning curves, for history.json."""

    def save(self, folder: Path) -> None: ...
