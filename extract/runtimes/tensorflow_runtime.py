"""The encoder as a TensorFlow SavedModel, called inside one graph with the packing and pooling."""
from __future__ import annotations

import collections
from concurrent.futures import ThreadPoolExecutor

import tensorflow as tf

from ..encoders import handles
from .base import batch_signature

# Batches encoded at once, each graph in its own thread: one graph at a time leaves the cores idle in
# its serial stretches (docs/benchmarks.md, "Two batches in flight").
IN_FLIGHT = 2


class TensorFlowRuntime:
    name = "tensorflow"
    precision = "fp32"

    def __init__(self, model, in_flight: int = IN_FLIGHT):
        self.model = model  # the SavedModel, with the TF Hub BERT encoder interface
        self.in_flight = in_flight

    def pipeline(self, pack, pool):
        @tf.function(input_signature=batch_signature())
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
