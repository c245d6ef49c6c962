"""The encoder as a TensorFlow SavedModel, called inside one graph with the packing and pooling."""
from __future__ import annotations

import collections
from concurrent.futures import ThreadPoolExecutor

import tensorflow as tf

from ..encoders import handles

# Batches encoded at once, each graph in its own thread: one graph at a time leaves the cores idle in
# its serial stretches (docs/benchmarks.md, "Batches in flight").
IN_FLIGHT = 2


class TensorFlowRuntime:
    name = "tensorflow"
    precision = "fp32"

    def __init__(self, model, in_flight: int = IN_FLIGHT):
        self.model = model  # the SavedModel, with the TF Hub BERT encoder interface
        self.in_flight = in_flight

    def pipeline(self, pack, pool):
        # One trace for every batch shape: each retrace of the encoder costs a third of a second.
        @tf.function(input_signature=[tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int64),
                                      tf.TensorSpec([], tf.int32)])
        def encode_pool(values, row_lengths, seq_length):
            packed = pack(values, row_lengths, seq_length)
            return pool(self.model(packed)["encoder_outputs"], packed["input_mask"])

        def encode(feed):
            with ThreadPoolExecutor(self.in_flight) as threads:
                pending = collections.deque()
                for batch in feed:
                    if len(pending) == self.in_flight:
                        yield pending.popleft().result()
                    pending.append(threads.submit(encode_pool, *batch))
                while pending:
                    yield pending.popleft().result()
        return encode

    def describe(self) -> dict:
        return {"name": self.name, "version": tf.__version__, "precision": self.precision}


def load(handle: str, precision: str, ir_dir=None, flag: str = "--encoder") -> TensorFlowRuntime:
    return TensorFlowRuntime(handles.load(handle, flag, "encoder"))
