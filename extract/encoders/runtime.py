"""Where the encoder runs: TensorFlow in fp32 (the SavedModel as it is), or OpenVINO in bf16 or int8.

OpenVINO reads the same SavedModel (`openvino.convert_model`). bf16 runs it with bfloat16 matmuls
(AVX-512 BF16, AMX); int8 with weights and activations quantised by NNCF's post-training
quantisation (transformer preset without SmoothQuant and bias correction), calibrated on the
built-in corpus (calibration.txt), except the first and the last layer's FFN down projection; those
and the float ops run at OpenVINO's default precision for the CPU (bf16 where the CPU has it).
Only the encoder call moves: tokenising, segmenting, batching and pooling stay in TensorFlow, so
one featurising path serves every precision. The int8 model is written once (OpenVINO IR), kept on
the machine (int8_store.py), with the cache and then with every model dir trained on it, so predict
encodes exactly as extract did.
"""
from __future__ import annotations

import collections
import contextlib
import logging
import os
import sys
import threading
from pathlib import Path

import numpy as np

from ...common.digest import sha256_file
from ...common.errors import BadInput
from . import handles

IR_XML, IR_BIN = "encoder-int8.xml", "encoder-int8.bin"
# int8 calibrates on at most 192 sequences of the built-in corpus. 192 sequences of IMDB windows
# without SmoothQuant and bias correction came closest to fp32 (benchmarks/results/
# int8_calibration.json: cosine 0.9987; 0.9980 with them, at four times the seconds). The corpus
# in place of the data's own reviews loses nothing measurable (int8_calibration_source.json: mean
# cosine to fp32 0.99876 against 0.99877 on IMDB windows, 0.99664 against 0.99665 on SST-5).
CALIBRATION_SEQUENCES = 192
CALIBRATION_CORPUS = Path(__file__).with_name("calibration.txt")
# What shapes the quantised encoder besides the models and the corpus: a change here must give a new
# int8_store key.
RECIPE = (f"nncf.quantize transformer, no SmoothQuant, no bias correction, {CALIBRATION_SEQUENCES} sequences, "
          "first and last FFN down projections in float, v2")
INSTALL = "pip install 'multilayer-bert-sentiment[fast]'"


def _openvino(precision: str):
    try:
        import openvino
    except ImportError:
        raise BadInput(f"--precision {precision}: OpenVINO is not installed; install it with `{INSTALL}` "
                       "(or `pip install openvino nncf`), or use --precision fp32")
    return openvino


class OpenVinoEncoder:
    """A BERT encoder on OpenVINO. `in_graph` is False: the featurizer calls it between its
    TensorFlow graphs, not inside one, through `stream`, which keeps one batch in flight per
    OpenVINO stream."""
    in_graph = False

    def __init__(self, compiled, num_layers: int, precision: str):
        self.compiled, self.num_layers, self.precision = compiled, num_layers, precision
        count = compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")
        self.requests = [compiled.create_infer_request() for _ in range(max(1, count))]
        self.outputs = [compiled.output(f"encoder_output_{i}") for i in range(num_layers)]
        # The requests serve one caller at a time: threads sharing a loaded model (a server) wait.
        self._lock = threading.Lock()

    def stream(self, batches):
        """(packed, [layers, batch, length, hidden] float32 array) for each packed batch (numpy
        inputs), in order. The array is valid until the next item is asked for; it is 64-byte
        aligned, as TensorFlow needs to use memory in place (see featurizer._in_place).

        Up to one batch per infer request runs at a time: OpenVINO's throughput mode gives each of its
        streams a share of the cores and its own batch, and the caller packs and pools meanwhile.
        With the outputs passed in place, 1.2x the speed of one batch at a time on all cores, the
        same features (benchmarks/results/openvino_streams.json). The next batch is taken only when
        a request is free.
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
        """What the manifest records about the runtime."""
        import openvino

        return {"name": "openvino", "version": openvino.__version__, "precision": self.precision,
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


def _converted(handle: str, precision: str):
    ov = _openvino(precision)
    try:
        model = ov.convert_model(handles.local_folder(handle))
    except BadInput:
        raise
    except Exception as e:  # the converter raises many types; all mean "this SavedModel cannot run there"
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise BadInput(f"--precision {precision}: OpenVINO cannot convert --encoder {handle} ({first}); use "
                       "--precision fp32, or an encoder made by `mlbert import-encoder`")
    if not _layer_count(model):
        raise BadInput(f"--precision {precision}: --encoder {handle} has no per-layer outputs (encoder_output_N) "
                       "in its serving signature; use --precision fp32, or an encoder made by `mlbert import-encoder`")
    return ov, model


def _compile(ov, model, precision: str) -> OpenVinoEncoder:
    # Throughput mode: several streams, each with its own batch (see OpenVinoEncoder.stream).
    config = {"INFERENCE_NUM_THREADS": os.cpu_count() or 1, "PERFORMANCE_HINT": "THROUGHPUT"}
    if precision in ("fp32", "bf16"):
        # OpenVINO's CPU default is bf16 where the CPU has it: say which one is meant.
        config["INFERENCE_PRECISION_HINT"] = "f32" if precision == "fp32" else "bf16"
    return OpenVinoEncoder(ov.Core().compile_model(model, "CPU", config), _layer_count(model), precision)


def openvino_encoder(handle: str, precision: str) -> OpenVinoEncoder:
    """fp32 or bf16: the SavedModel converted and compiled for that precision."""
    ov, model = _converted(handle, precision)
    return _compile(ov, model, precision)


def calibration_texts() -> list[str]:
    """The built-in calibration corpus: English reviews of films, books, products and places, and
    some plain prose, written for this project. Its passages, and all of them joined into one text
    so that windows over it fill every position up to the sequence length."""
    passages = [p.strip() for p in CALIBRATION_CORPUS.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    return passages + [" ".join(passages)]


def calibration_record() -> dict:
    """What a cache's manifest records about how its int8 encoder was calibrated."""
    return {"texts": "built-in corpus (mlbert/extract/encoders/calibration.txt)",
            "corpus_sha256": sha256_file(CALIBRATION_CORPUS), "recipe": RECIPE}


def ffn_down_projections(model) -> list[str]:
    """The FFN down projections of an OpenVINO model of a BERT encoder, first layer first: the
    matmuls by a weight (a constant) that narrow their input, intermediate size to hidden size.
    The encoder's other dense matmuls (query/key/value, attention output, FFN up) keep or widen it."""
    names = []
    for op in model.get_ordered_ops():
        if op.get_type_name() != "MatMul" or op.input_value(1).get_node().get_type_name() != "Constant":
            continue
        width_in, width_out = op.input(0).get_partial_shape()[-1], op.get_output_partial_shape(0)[-1]
        if width_in.is_static and width_out.is_static and width_in.get_length() > width_out.get_length():
            names.append(op.get_friendly_name())
    return names


def float_matmuls(model) -> list[str]:
    """The matmuls the int8 recipe leaves in floating point: the first and the last layer's FFN
    down projection. Their inputs are GELU outputs, where BERT quantisation loses most; these two
    alone bring the features 29 % closer to fp32 at 0.995x the speed of all-int8 (benchmarks/
    results/int8_mixed.json), all six halve the distance but cost 11 % of the speed."""
    down = ffn_down_projections(model)
    return list(dict.fromkeys(down[:1] + down[-1:]))


@contextlib.contextmanager
def _nncf_on_stderr():
    """NNCF writes progress bars and its log (a handler made on its import, bound to the process's
    stdout) where --json output goes: both go to stderr meanwhile, and its log only from warnings
    up (its INFO lines list node numbers of the graph, which tell a user nothing)."""
    logger = logging.getLogger("nncf")
    handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    streams, level = [h.stream for h in handlers], logger.level
    try:
        logger.setLevel(logging.WARNING)
        for handler in handlers:
            handler.setStream(sys.stderr)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        logger.setLevel(level)
        for handler, stream in zip(handlers, streams):
            handler.setStream(stream)


def quantize(handle: str, calibration: list[dict], out_dir, float_names: list[str] | None = None) -> Path:
    """int8: quantise the converted SavedModel on calibration batches (packed numpy inputs) and write
    the IR to out_dir/encoder-int8.xml and .bin. Returns out_dir. `float_names`, the matmuls left in
    floating point, defaults to the recipe's (float_matmuls); benchmarks pass others to compare."""
    ov, model = _converted(handle, "int8")
    try:
        import nncf
    except ImportError:
        raise BadInput(f"--precision int8: NNCF is not installed; install it with `{INSTALL}` "
                       "(or `pip install nncf`), or use --precision fp32")
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, AdvancedSmoothQuantParameters

    advanced = AdvancedQuantizationParameters(smooth_quant_alphas=AdvancedSmoothQuantParameters(matmul=-1),
                                              disable_bias_correction=True)
    ignored = float_matmuls(model) if float_names is None else float_names
    with _nncf_on_stderr():
        quantized = nncf.quantize(model, nncf.Dataset(calibration), model_type=nncf.ModelType.TRANSFORMER,
                                  subset_size=len(calibration), advanced_parameters=advanced,
                                  ignored_scope=nncf.IgnoredScope(names=ignored) if ignored else None)
    out_dir = Path(out_dir)
    ov.save_model(quantized, str(out_dir / IR_XML), compress_to_fp16=False)
    return out_dir


def int8_encoder(ir_dir) -> OpenVinoEncoder:
    """The quantised encoder written by quantize()."""
    ov = _openvino("int8")
    xml = Path(ir_dir) / IR_XML
    try:
        model = ov.Core().read_model(str(xml))
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise BadInput(f"{xml}: cannot read the int8 encoder ({first}); extract again with --overwrite")
    return _compile(ov, model, "int8")
