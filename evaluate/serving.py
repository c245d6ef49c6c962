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
from ..common.provenance import api_call, record
from ..extract.features.featurizer import text_features
from ..extract.features.lexical import ngram_ids
from ..extract.features.settings import FeatureSettings
from ..train.fusion import EPS
from ..train.model_dir import Predictor, load_predictor
from .classifier import load_models

FORMAT = "multilayer-bert-sentiment/export"
MARKER = "assets.extra/export.json"


def signature(labels) -> dict:
    outputs = {"probabilities": f"float32 [batch, {len(labels)}], classes in the order of 'labels'",
               "label": "string [batch]"}
    if len(labels) == 2:
        outputs["positive_probability"] = f"float32 [batch], the probability of '{labels[1]}'"
    return {"inputs": {"text": "string [batch]"}, "outputs": outputs, "labels": list(labels)}


class ServingModel(tf.Module):
    """The model dir's predictor as one graph: the head on the pooled features, the lexical model on
    the n-gram ids, or both fused, with the same functions and numbers as train/model_dir.Predictor."""

    def __init__(self, preprocessor, encoder, predictor: Predictor, settings: FeatureSettings):
        super().__init__(name="sentiment")
        self.preprocessor, self.encoder, self.head = preprocessor, encoder, predictor.head
        self.settings, self.spec, self.labels = settings, predictor.spec, list(predictor.labels)
        fusion = predictor.fusion or {"weight": 1.0, "temperature": 1.0}
        self.weight, self.temperature = float(fusion["weight"]), float(fusion["temperature"])
        self.lexical = None
        if predictor.lexical is not None:
            lexical = predictor.lexical
            self.lexical = {"vocab": tf.Variable(lexical.vocab, trainable=False, name="lexical_vocab"),
                            "weights": tf.Variable(lexical.weights, trainable=False, name="lexical_weights"),
                            "bias": tf.Variable(lexical.bias, trainable=False, name="lexical_bias")}

    def _head_probabilities(self, text):
        spec = self.spec
        pooled = text_features(self.preprocessor, self.encoder, self.settings, text, spec.poolings)
        n = tf.shape(text)[0]
        x = tf.concat([tf.reshape(tf.gather(pooled[p], list(spec.layers), axis=1), [n, -1])
                       for p in spec.poolings], axis=1)
        out = tf.cast(self.head(x, training=False), tf.float64)
        return tf.concat([1.0 - out, out], axis=1) if len(self.labels) == 2 else out

    def _lexical_scores(self, text):
        ids = ngram_ids(text, self.settings.ngrams)
        vocab, weights = self.lexical["vocab"], self.lexical["weights"]
        values = tf.cast(ids.values, tf.int32)
        cols = tf.minimum(tf.searchsorted(vocab, values), tf.shape(vocab)[0] - 1)
        known = tf.equal(tf.gather(vocab, cols), values)
        found = tf.where(known[:, None], tf.gather(weights, cols), tf.zeros([1, tf.shape(weights)[1]]))
        summed = tf.math.unsorted_segment_sum(found, ids.value_rowids(), tf.shape(text, tf.int64)[0])
        return tf.cast(summed + self.lexical["bias"], tf.float64)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(self, text):
        if self.lexical is None:
            probs = self._head_probabilities(text)
        else:
            scores = self._lexical_scores(text)
            if self.head is not None:
                p = tf.clip_by_value(self._head_probabilities(text), EPS, 1 - EPS)
                bert = tf.math.log(p[:, 1:] / p[:, :1]) if len(self.labels) == 2 else tf.math.log(p)
                scores = self.temperature * (self.weight * bert + (1 - self.weight) * scores)
            if len(self.labels) == 2:
                positive = tf.sigmoid(scores)
                probs = tf.concat([1.0 - positive, positive], axis=1)
            else:
                probs = tf.nn.softmax(scores, axis=1)
        probs = tf.cast(probs, tf.float32)
        result = {"probabilities": probs, "label": tf.gather(tf.constant(self.labels), tf.argmax(probs, axis=1))}
        if len(self.labels) == 2:
            result["positive_probability"] = probs[:, 1]
        return result


def export(model_dir, out, *, overwrite: bool = False, command: str | None = None) -> dict:
    """Write one SavedModel (TF Serving ready) from raw text to the positive probability into out."""
    command = command or api_call("export", {"model_dir": str(model_dir), "out": str(out)})
    model_dir, out = Path(model_dir), Path(out)
    target = dict(option="--out", kind="an exported model", marker=MARKER, fmt=FORMAT, overwrite=overwrite)
    check_target(out, **target)
    predictor, config = load_predictor(model_dir)
    manifest = config["cache"]["manifest"]
    preprocessor, encoder = (None, None)
    if predictor.head is not None:
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
            "encoder_precision": "fp32" if predictor.head is not None else None,
            **({"note": f"the head was trained on {trained} features; the exported encoder runs in fp32 "
                        "(TF Serving has no OpenVINO runtime)"} if trained != "fp32" and predictor.head is not None
               else {})}
