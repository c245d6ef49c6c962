"""The int8 recipe: NNCF's post-training quantisation of the converted SavedModel (transformer preset
without SmoothQuant and bias correction), calibrated on the built-in corpus, with the first and the
last layer's FFN down projection left in floating point; those and the float ops run at OpenVINO's
default precision for the CPU (bf16 where the CPU has it). docs/precision.md measures the choices.
"""
from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

from ...common.digest import sha256_file
from ...common.errors import BadInput
from ..runtimes.openvino_runtime import INSTALL, IR_XML, converted
from . import calibration

# What shapes the quantised encoder besides the models and the corpus: a change here must give a new
# store key.
RECIPE = (f"nncf.quantize transformer, no SmoothQuant, no bias correction, {calibration.SEQUENCES} sequences, "
          "first and last FFN down projections in float, v2")


def record() -> dict:
    """What a cache's manifest records about how its int8 encoder was made."""
    return {"texts": "built-in corpus (mlbert/extract/int8/calibration.txt)",
            "corpus_sha256": sha256_file(calibration.CORPUS), "recipe": RECIPE}


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
    alone bring the features closer to fp32 at almost no cost in speed (docs/precision.md)."""
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
    ov, model = converted(handle, "int8")
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


