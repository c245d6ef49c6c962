"""The `export` command: one SavedModel from raw review strings to the positive-class probability.

It chains the preprocessor, the frozen encoder, the segmenting and pooling of `extract` (the same
TensorFlow code, extract/segments.py) and the trained head, and loads with `tf.saved_model.load`
alone (plus `import tensorflow_text` for the tokenizer's ops). Its `serving_default` signature takes
`text` (string [batch]) and returns `positive_probability` (float32 [batch]), ready for TF Serving.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import tensorflow as tf

from data.errors import BadInput
from evaluate.model_dir import load_model_dir
from extract import encoders
from extract.features import FeatureSettings
from extract.provenance import now, versions
from extract.segments import combine_windows, pool_layers, segment_tokens
from train.inputs import InputSpec


class ServingModel(tf.Module):
    def __init__(self, preprocessor, encoder, head, settings: FeatureSettings, spec: InputSpec):
        super().__init__(name="sentiment")
        self.preprocessor = preprocessor
        self.encoder = encoder
        self.head = head
        self.settings = settings
        self.spec = spec

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(self, text):
        s, spec = self.settings, self.spec
        tokens = self.preprocessor.tokenize(text)
        if tokens.ragged_rank == 2:
            tokens = tokens.merge_dims(1, 2)
        segments, review = segment_tokens(tokens, s.budget, s.truncation, s.windows, s.window_stride())
        packed = self.preprocessor.bert_pack_inputs([segments], seq_length=s.seq_len)
        pooled = pool_layers(self.encoder(packed)["encoder_outputs"], packed["input_mask"], spec.poolings)
        counts = pooled.pop("tokens")
        if s.windows:
            pooled = combine_windows(pooled, counts, review, tokens.nrows())
        n = tf.shape(text)[0]
        x = tf.concat([tf.reshape(tf.gather(pooled[p], list(spec.layers), axis=1), [n, -1])
                       for p in spec.poolings], axis=1)
        return {"positive_probability": tf.reshape(self.head(x, training=False), [-1])}


def run_export(model_dir: Path, out: Path) -> dict:
    model_dir, out = Path(model_dir), Path(out)
    if out.exists():
        raise BadInput(f"--out {out}: already exists; choose a new folder (nothing was changed)")
    head, config = load_model_dir(model_dir)
    info = config["cache"]["manifest"]["features"]
    serving = ServingModel(encoders.load(info["preprocessor"], "preprocessor recorded in the model dir"),
                           encoders.load(info["encoder"], "encoder recorded in the model dir"), head,
                           FeatureSettings.from_dict(info), InputSpec.from_dict(config["input"]))
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tf.saved_model.save(serving, str(tmp), signatures={"serving_default": serving.serve.get_concrete_function()})
        (tmp / "assets.extra").mkdir(exist_ok=True)
        (tmp / "assets.extra" / "export.json").write_text(json.dumps({
            "model_dir": str(model_dir.resolve()), "features": info, "input": config["input"],
            "head": config["head"], "versions": versions(), "created": now(),
            "signature": {"inputs": {"text": "string [batch]"},
                          "outputs": {"positive_probability": "float32 [batch]"}}}, indent=2) + "\n")
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"serving_model": str(out), "signature": "serving_default", "input": "text",
            "output": "positive_probability"}
