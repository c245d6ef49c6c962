"""The models of an extract run, loaded and checked before any cache is touched: the preprocessor,
the encoder on its runtime (created by the one factory, extract/runtimes), and for int8 the
quantised encoder, found or made."""
from __future__ import annotations

import contextlib
import os
import shutil
import sys

from ...common.errors import BadInput
from ...common.provenance import now
from .. import runtimes
from ..cache import encoder_ir
from ..encoders import handles
from ..features.featurizer import Featurizer
from ..int8 import calibration, recipe, store
from ..runtimes.openvino_runtime import IR_BIN, IR_XML


@contextlib.contextmanager
def first_batch_errors(encoder: str, preprocessor: str):
    import tensorflow as tf

    try:
        yield
    except (tf.errors.OpError, ValueError, TypeError, KeyError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise BadInput(f"--encoder {encoder}: encoding a first batch failed ({first}); pass a BERT encoder with "
                       f"the TF Hub interface, made for --preprocessor {preprocessor}")


def checked_featurizer(request, identities: dict, probe: list[str], resume: dict | None, scratch: str) -> Featurizer:
    """The featurizer for the request, its models checked against each other and the settings and a
    first batch (probe) encoded: any of these failing must leave an existing cache as it was.

    The SavedModel is checked in TensorFlow (its vocabulary and positions; on the TensorFlow runtime
    that is the featurizer). The int8 encoder is the resumed cache's own, else the one kept on this
    machine (extract/int8/store.py), else quantised now; it ends up in `scratch` either way, and a
    kept one spares loading the TensorFlow encoder at all.
    """
    settings, batch_size = request.settings, request.batch_size
    pre = handles.load(request.preprocessor, "--preprocessor", "preprocessor")
    name, ir_dir = settings.runtime_name, None
    if settings.precision == "int8":
        ir_dir = int8_encoder_dir(request, identities, pre, resume, scratch)
    else:
        featurizer, _ = tensorflow_featurizer(request, pre)
        with first_batch_errors(request.encoder, request.preprocessor):
            featurizer.features(list(probe))
        if name == "tensorflow":
            return featurizer
    with first_batch_errors(request.encoder, request.preprocessor):
        featurizer = Featurizer(pre, runtimes.load(name, settings.precision, request.encoder, ir_dir), settings,
                                batch_size=batch_size)
        featurizer.features(list(probe))
    return featurizer


def tensorflow_featurizer(request, pre) -> tuple[Featurizer, int | None]:
    """The SavedModel on TensorFlow, checked against the preprocessor and the settings. Returns the
    featurizer and the encoder's maximum sequence length (None when unknown)."""
    runtime = runtimes.load("tensorflow", "fp32", request.encoder)
    max_positions = handles.check_pair(pre, runtime.model, request.preprocessor, request.encoder)
    request.settings.validate(max_positions)
    with first_batch_errors(request.encoder, request.preprocessor):
        return Featurizer(pre, runtime, request.settings, batch_size=request.batch_size), max_positions


def int8_encoder_dir(request, identities: dict, pre, resume: dict | None, scratch: str) -> str:
    """A folder holding the int8 encoder (IR_XML, IR_BIN) for this cache: see checked_featurizer.
    identities: the cache's record of the encoder and the preprocessor (handle and digest)."""
    if resume:  # made, checked and calibrated when the cache was created
        return str(encoder_ir.fetch(request.out, resume, scratch))
    identities = {role: identities[role] for role in ("encoder", "preprocessor")}
    settings = request.settings
    entry = store.key(identities["encoder"], identities["preprocessor"], settings.seq_len)
    kept = store.lookup(entry)
    if kept:
        settings.validate(kept["max_positions"])
        for name in (IR_XML, IR_BIN):
            shutil.copyfile(os.path.join(kept["folder"], name), os.path.join(scratch, name))
        print(f"extract: int8 encoder quantised earlier for this encoder, from {kept['folder']}",
              file=sys.stderr, flush=True)
        return scratch
    tensorflow, max_positions = tensorflow_featurizer(request, pre)
    batches = tensorflow.calibration_batches(calibration.texts(), calibration.SEQUENCES)
    sequences = sum(len(b["input_mask"]) for b in batches)
    print(f"extract: quantising the encoder to int8 (once for this encoder and --seq-len), calibrated on "
          f"{sequences} sequences of the built-in corpus", file=sys.stderr, flush=True)
    recipe.quantize(request.encoder, batches, scratch)
    store.keep(entry, scratch, {**identities, "seq_len": settings.seq_len, "max_positions": max_positions,
                                "recipe": recipe.RECIPE, "calibration_sequences": sequences, "created": now()})
    return scratch
