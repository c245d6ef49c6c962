"""`export`: one SavedModel from raw review strings to class probabilities and labels.

It chains the preprocessor, the frozen encoder, the segmenting and pooling of `extract` (the same
functions: extract/features/featurizer.py `text_features`) and the trained head, and loads with
`tf.saved_model.load` alone (plus `import tensorflow_text` for the tokenizer's ops). Its
`serving_default` signature takes `text` (string [batch]) and returns `probabilities` (float32
[batch, classes]) and `label` (string [batch], the most probable class); a two-class model also
returns `positive_probability` (float32 [batch], the second class's). Ready for TF Serving.

The encoder in it is always the fp32 TensorFlow SavedModel: TF Serving runs no OpenVINO model. A
head trained on bf16 or int8 features then sees fp32 features, close to but not exactly the ones it
learned from (docs/precision.md measures how close); the export says so in `encoder_precision`.
"""
from __future__ import annotations

import json
from pathlib import Path

import tensorflow as tf

from ..common.folders import check_target, write_folder
from ..common.options import parse
from ..common.provenance import api_call, record
from ..extract.features.featurizer import text_features, text_per_segment
from ..extract.features.lexical import ngram_ids
from ..extract.features.settings import FeatureSettings
from ..train.model_dir import load_predictor
from .classifier import load_models
from .options import EXPORT

FORMAT = "multilayer-bert-sentiment/export"
MARKER = "assets.extra/export.json"


def signature(labels) -> dict:
    outputs = {"probabilities": f"float32 [batch, {len(labels)}], classes in the order of 'labels'",
               "label": "string [batch]"}
    if len(labels) == 2:
        outputs["positive_probability"] = f"float32 [batch], the probability of '{labels[1]}'"
    return {"inputs": {"text": "string [batch]"}, "outputs": outputs, "labels": list(labels)}


class ServingModel(tf.Module):
    """The model dir's channel as one graph: the channel's own serving_probabilities, on the pooled
    features of `extract`'s path (text_features) and the n-gram ids of its lexical channel."""

    def __init__(self, preprocessor, encoder, channel, settings: FeatureSettings):
        super().__init__(name="sentiment")
        self.preprocessor, self.encoder, self.settings = preprocessor, encoder, settings
        self.labels = list(channel.labels)
        self.parts = channel.trackables()  # held here, so that the SavedModel saves them
        self._channel = channel

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(self, text):
        inputs = _Inputs(text, self)
        probs = tf.cast(self._channel.serving_probabilities(inputs), tf.float32)
        result = {"probabilities": probs, "label": tf.gather(tf.constant(self.labels), tf.argmax(probs, axis=1))}
        if len(self.labels) == 2:
            result["positive_probability"] = probs[:, 1]
        return result


class _Inputs:
    """What a channel reads in the graph (channels.ServingInputs)."""

    def __init__(self, text, model: ServingModel):
        self.text, self._model = text, model

    def pooled(self, poolings):
        m = self._model
        return self._as_stored(text_features(m.preprocessor, m.encoder, m.settings, self.text, poolings))

    def segments(self, poolings):
        m = self._model
        per_segment, review = text_per_segment(m.preprocessor, m.encoder, m.settings, self.text, poolings)
        return self._as_stored(per_segment), tf.cast(review, tf.int32)

    def _as_stored(self, pooled: dict) -> dict:
        if self._model.settings.feature_dtype == "float16":  # the rounding the head's training cache stored
            return {p: tf.cast(tf.cast(v, tf.float16), tf.float32) for p, v in pooled.items()}
        return pooled

    def ngram_ids(self):
        return ngram_ids(self.text, self._model.settings.ngrams)


def export(model_dir, out, command: str | None = None, **options) -> dict:
    """Write one SavedModel (TF Serving ready) from raw text to the positive probability into out.
    Options: EXPORT."""
    overwrite = parse(EXPORT, options, "export")["overwrite"]
    command = command or api_call("export", {"model_dir": str(model_dir), "out": str(out)})
    model_dir, out = Path(model_dir), Path(out)
    target = dict(option="--out", kind="an exported model", marker=MARKER, fmt=FORMAT, overwrite=overwrite)
    check_target(out, **target)
    predictor, config = load_predictor(model_dir)
    manifest = config["cache"]["manifest"]
    preprocessor, encoder = (None, None)
    if predictor.reads_bert:
        preprocessor, runtime = load_models(manifest, model_dir, runtime="tensorflow")
        encoder = runtime.model  # in the serving graph itself
    labels = predictor.labels
    serving = ServingModel(preprocessor, encoder, predictor, FeatureSettings.from_dict(manifest["features"]))

    def build(tmp: Path) -> None:
        tf.saved_model.save(serving, str(tmp), signatures={"serving_default": serving.serve.get_concrete_function()})
        (tmp / "assets.extra").mkdir(exist_ok=True)
        (tmp / MARKER).write_text(json.dumps({
            "format": FORMAT, "model_dir": str(model_dir.resolve()), "features": manifest["features"],
            "input": config["input"], "head": config["head"], "signature": signature(labels), **record(command)},
            indent=2) + "\n")

    write_folder(out, build, **target)
    trained = manifest["features"].get("precision", "fp32")
    return {"serving_model": str(out), "signature": "serving_default", "input": "text",
            "outputs": sorted(signature(labels)["outputs"]), "labels": labels,
            "encoder_precision": "fp32" if predictor.reads_bert else None,
            **({"note": f"the head was trained on {trained} features; the exported encoder runs in fp32 "
                        "(TF Serving has no OpenVINO runtime)"} if trained != "fp32" and predictor.reads_bert
               else {})}
