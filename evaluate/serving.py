"""`export`: one SavedModel from raw review strings to the positive-class probability.

It chains the preprocessor, the frozen encoder, the segmenting and pooling of `extract` (the same
functions: extract/features/featurizer.py `text_features`) and the trained head, and loads with
`tf.saved_model.load` alone (plus `import tensorflow_text` for the tokenizer's ops). Its
`serving_default` signature takes `text` (string [batch]) and returns `positive_probability`
(float32 [batch]), ready for TF Serving.
"""
from __future__ import annotations

import json
from pathlib import Path

import tensorflow as tf

from ..data.folders import check_target, write_folder
from ..data.provenance import api_call, record
from ..extract.features.featurizer import text_features
from ..extract.features.settings import FeatureSettings
from ..train.inputs import InputSpec
from ..train.model_dir import load_model_dir
from .classifier import load_models

FORMAT = "multilayer-bert-sentiment/export"
MARKER = "assets.extra/export.json"
SIGNATURE = {"inputs": {"text": "string [batch]"}, "outputs": {"positive_probability": "float32 [batch]"}}


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
        spec = self.spec
        pooled = text_features(self.preprocessor, self.encoder, self.settings, text, spec.poolings)
        n = tf.shape(text)[0]
        x = tf.concat([tf.reshape(tf.gather(pooled[p], list(spec.layers), axis=1), [n, -1])
                       for p in spec.poolings], axis=1)
        return {"positive_probability": tf.reshape(self.head(x, training=False), [-1])}


def export(model_dir, out, *, overwrite: bool = False, command: str | None = None) -> dict:
    """Write one SavedModel (TF Serving ready) from raw text to the positive probability into out."""
    command = command or api_call("export", {"model_dir": str(model_dir), "out": str(out)})
    model_dir, out = Path(model_dir), Path(out)
    target = dict(option="--out", kind="an exported model", marker=MARKER, fmt=FORMAT, overwrite=overwrite)
    check_target(out, **target)
    head, config = load_model_dir(model_dir)
    manifest = config["cache"]["manifest"]
    preprocessor, encoder = load_models(manifest)
    serving = ServingModel(preprocessor, encoder, head, FeatureSettings.from_dict(manifest["features"]),
                           InputSpec.from_dict(config["input"]))

    def build(tmp: Path) -> None:
        tf.saved_model.save(serving, str(tmp), signatures={"serving_default": serving.serve.get_concrete_function()})
        (tmp / "assets.extra").mkdir(exist_ok=True)
        (tmp / MARKER).write_text(json.dumps({
            "format": FORMAT, "model_dir": str(model_dir.resolve()), "features": manifest["features"],
            "input": config["input"], "head": config["head"], "signature": SIGNATURE, **record(command)},
            indent=2) + "\n")

    write_folder(out, build, **target)
    return {"serving_model": str(out), "signature": "serving_default", "input": "text",
            "output": "positive_probability"}
