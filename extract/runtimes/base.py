"""The one interface every encoder runtime implements: encode batches of segments, say what you are."""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, Protocol

# One batch of the featurizer's feed: (token ids int32 [tokens], segment lengths int64 [segments],
# padded length int32 []), every segment's tokens one after the other.
Batch = tuple


def batch_signature() -> list:
    """A Batch as a tf.function's input signature: one trace for every batch shape (a retrace of the
    encoder costs as much as encoding a hundred short reviews)."""
    import tensorflow as tf

    return [tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int64), tf.TensorSpec([], tf.int32)]
# pack(values, row_lengths, seq_length) -> the encoder's inputs {input_word_ids, input_mask,
# input_type_ids}; pool(encoder_outputs, input_mask) -> {pooling: [batch, layers, hidden], "tokens"}.
# Both are plain TensorFlow code, traced by the runtime into its own graphs.
Pack = Callable[..., dict]
Pool = Callable[..., dict]
Encode = Callable[[Iterable[Batch]], Iterator[dict]]


class EncoderRuntime(Protocol):
    name: str  # as the registry and the manifest spell it: "tensorflow", "openvino"
    precision: str  # "fp32", "bf16", "int8"

    def pipeline(self, pack: Pack, pool: Pool) -> Encode:
        """A function from an iterable of batches to each batch's pooled outputs (tensors), in
        order, built once per featurizer. Each result is valid until the next is asked for: a
        runtime may reuse its output buffer."""

    def describe(self) -> dict:
        """What the manifest records about the runtime: at least name, version and precision."""
