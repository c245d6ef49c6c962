"""Write an encoder and its preprocessor as two SavedModels with the TF Hub BERT interfaces."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import tensorflow as tf

from extract.bert_model import BertConfig, BertEncoder
from extract.bert_preprocessor import BertPreprocessor


def _flat_signature(encoder: BertEncoder):
    """Signatures take only flat tensors: the per-layer list becomes encoder_output_0, _1, ..."""
    @tf.function(input_signature=[{
        name: tf.TensorSpec([None, None], tf.int32, name=name)
        for name in ("input_word_ids", "input_mask", "input_type_ids")}])
    def serve(inputs):
        out = encoder(inputs)
        flat = {f"encoder_output_{i}": t for i, t in enumerate(out["encoder_outputs"])}
        return {**flat, "sequence_output": out["sequence_output"], "pooled_output": out["pooled_output"]}
    return serve.get_concrete_function()


def save_encoder_pair(config: BertConfig, weights: dict[str, np.ndarray], vocab_path: Path,
                      lower_case: bool, out_dir: Path, provenance: dict) -> Path:
    """Write OUT/encoder and OUT/preprocessor (plus OUT/provenance.json), whole or not at all."""
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        encoder = BertEncoder(config, weights)
        tf.saved_model.save(encoder, str(tmp / "encoder"), signatures={"serving_default": _flat_signature(encoder)})
        preprocessor = BertPreprocessor(vocab_path, lower_case=lower_case)
        preprocessor.trace_for_saving()
        tf.saved_model.save(preprocessor, str(tmp / "preprocessor"),
                            signatures={"serving_default": preprocessor.__call__.get_concrete_function()})
        (tmp / "provenance.json").write_text(json.dumps(
            {**provenance, "config": config.to_dict(), "lower_case": lower_case}, indent=2) + "\n")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir
