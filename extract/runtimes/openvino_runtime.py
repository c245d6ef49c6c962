"""The encoder on OpenVINO: the SavedModel converted (`openvino.convert_model`) and run in fp32 or
bf16, or the int8 encoder quantised by extract/int8/ (OpenVINO IR, two files).

Only the encoder call moves: tokenising, segmenting, batching and pooling stay in TensorFlow, in
the featurizer's graphs, so one featurising path serves every runtime. The encoder's outputs come
back into TensorFlow in place, without a copy.
"""
from __future__ import annotations

import collections
import os
import threading
from pathlib import Path

import numpy as np

from ...common.errors import BadInput
from ..encoders import handles
from .base import batch_signature

IR_XML, IR_BIN = "encoder-int8.xml", "encoder-int8.bin"  # the int8 encoder, in a cache and a model dir
INSTALL = "pip install 'multilayer-bert-sentiment[fast]'"


def openvino_module(why: str):
    """openvino, or one clear line naming the option that needs it (why: e.g. '--precision int8')."""
    try:
        import openvino
    except ImportError:
        raise BadInput(f"{why}: OpenVINO is not installed; install it with `{INSTALL}` "
                       "(or `pip install openvino nncf`), or use --precision fp32")
    return openvino


class OpenVinoRuntime:
    """Called between the featurizer's TensorFlow graphs, not inside one: `stream` keeps one batch in
    flight per OpenVINO stream while TensorFlow packs and pools."""
    name = "openvino"

    def __init__(self, compiled, num_layers: int, precision: str):
        self.compiled, self.num_layers, self.precision = compiled, num_layers, precision
        count = compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")
        self.requests = [compiled.create_infer_request() for _ in range(max(1, count))]
        self.outputs = [compiled.output(f"encoder_output_{i}") for i in range(num_layers)]
        # The requests serve one caller at a time: threads sharing a loaded model (a server) wait.
        self._lock = threading.Lock()

    def pipeline(self, pack, pool):
        import tensorflow as tf

        pack_graph = tf.function(pack, input_signature=batch_signature())

        # One trace for every batch shape: the layers come stacked, [layers, batch, length, hidden].
        @tf.function(input_signature=[tf.TensorSpec([None, None, None, None], tf.float32),
                                      tf.TensorSpec([None, None], tf.int32)])
        def pool_graph(outputs, mask):
            return pool(tf.unstack(outputs, num=self.num_layers), mask)

        def encode(feed):
            packed = ({k: v.numpy() for k, v in pack_graph(*batch).items()} for batch in feed)
            for inputs, layers in self.stream(packed):
                yield pool_graph(in_place(layers), tf.constant(inputs["input_mask"], tf.int32))
        return encode

    def stream(self, batches):
        """(packed, [layers, batch, length, hidden] float32 array) for each packed batch (numpy
        inputs), in order. The array is valid until the next item is asked for; it is 64-byte
        aligned, as TensorFlow needs to use memory in place (in_place).

        Up to one batch per infer request runs at a time: OpenVINO's throughput mode gives each of its
        streams a share of the cores and its own batch, and the caller packs and pools meanwhile.
        The next batch is taken only when a request is free.
        """
        free, pending, buffer = list(self.requests), collections.deque(), None

        def finished():
            nonlocal buffer
            request, packed = pending.popleft()
            request.wait()
            layers = [request.get_tensor(o).data for o in self.outputs]
            # One copy out of the request's buffers (its next batch overwrites them), into memory
            # reused from batch to batch: a new array each time costs its page faults again.
            size = len(layers) * layers[0].size
            if buffer is None or buffer.size < size:
                buffer = _aligned(size)
            stacked = np.stack(layers, out=buffer[:size].reshape((len(layers), *layers[0].shape)))
            free.append(request)
            return packed, stacked

        with self._lock:
            try:
                for packed in batches:
                    if not free:
                        yield finished()
                    request = free.pop()
                    request.start_async({name: np.asarray(packed[name], np.int32)
                                         for name in ("input_word_ids", "input_mask", "input_type_ids")})
                    pending.append((request, packed))
                while pending:
                    yield finished()
            finally:  # stopped early (an error, Ctrl-C): no request may still write into its buffers
                for request, _ in pending:
                    request.wait()

    def describe(self) -> dict:
        import openvino

        return {"name": self.name, "version": openvino.__version__, "precision": self.precision,
                "float_ops": str(self.compiled.get_property("INFERENCE_PRECISION_HINT"))}


def _aligned(size: int, alignment: int = 64) -> np.ndarray:
    """A float32 array of `size` starting at an `alignment`-byte boundary."""
    raw = np.empty(size + alignment // 4, np.float32)
    start = (-raw.ctypes.data % alignment) // 4
    return raw[start:start + size]


def _layer_count(model) -> int:
    # The last layer's output also answers to "sequence_output", and may appear twice.
    names = {name for output in model.outputs for name in output.get_names()}
    return sum(1 for name in names if name.startswith("encoder_output_"))


def converted(handle: str, precision: str):
    ov = openvino_module(f"--precision {precision}")
    try:
        model = ov.convert_model(handles.local_folder(handle))
    except BadInput:
        raise
    except Exception as e:  # the converter raises many types; all mean "this SavedModel cannot run there"
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise BadInput(f"--precision {precision}: OpenVINO cannot convert --encoder {handle} ({first}); use "
                       "--precision fp32 on TensorFlow, or an encoder made by `mlbert import-encoder`")
    if not _layer_count(model):
        raise BadInput(f"--precision {precision}: --encoder {handle} has no per-layer outputs (encoder_output_N) "
                       "in its serving signature; use --precision fp32 on TensorFlow, or an encoder made by "
                       "`mlbert import-encoder`")
    return ov, model


def _compile(ov, model, precision: str) -> "OpenVinoRuntime":
    # Throughput mode: several streams, each with its own batch (see OpenVinoRuntime.stream).
    config = {"INFERENCE_NUM_THREADS": os.cpu_count() or 1, "PERFORMANCE_HINT": "THROUGHPUT"}
    if precision in ("fp32", "bf16"):
        # OpenVINO's CPU default is bf16 where the CPU has it: say which one is meant.
        config["INFERENCE_PRECISION_HINT"] = "f32" if precision == "fp32" else "bf16"
    return OpenVinoRuntime(ov.Core().compile_model(model, "CPU", config), _layer_count(model), precision)


def load(handle: str, precision: str, ir_dir=None, flag: str = "--encoder") -> OpenVinoRuntime:
    """fp32 or bf16: the SavedModel converted and compiled for that precision. int8: the quantised
    encoder in ir_dir (IR_XML, IR_BIN)."""
    if precision != "int8":
        ov, model = converted(handle, precision)
        return _compile(ov, model, precision)
    ov = openvino_module("--precision int8")
    xml = Path(ir_dir) / IR_XML
    try:
        model = ov.Core().read_model(str(xml))
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise BadInput(f"{xml}: cannot read the int8 encoder ({first}); extract again with --overwrite")
    return _compile(ov, model, "int8")


def in_place(array: np.ndarray):
    """A numpy array as a tensor on the same memory where TensorFlow can use it in place (C-ordered,
    64-byte aligned, as _aligned makes them); tf.constant copies."""
    import tensorflow as tf

    if array.flags.c_contiguous and array.ctypes.data % 64 == 0:
        return tf.experimental.dlpack.from_dlpack(array.__dlpack__())
    return tf.constant(array)
