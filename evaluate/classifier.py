"""A trained model dir ready for new texts: its encoder loaded once, checked to be the one it was
trained on. `mlbert.load(model_dir)` returns one; `predict` uses one."""
from __future__ import annotations

import numpy as np

from ..common.errors import BadInput
from ..extract import runtimes
from ..extract.cache import encoder_ir
from ..extract.encoders import handles
from ..extract.features.featurizer import Featurizer
from ..extract.features.settings import FeatureSettings
from ..extract.cache.shards import Ngrams, Segments
from ..train.metrics import predicted
from ..train.model_dir import load_predictor

ROLES = ("encoder", "preprocessor")


def check_models_unchanged(manifest: dict) -> None:
    """The encoder and preprocessor a model was trained with must still be what their handles hold:
    a re-import into the same folder would silently change every feature the head sees."""
    recorded = manifest.get("fingerprint_fields", {})
    for role in ROLES:
        then = recorded.get(role) or {"handle": manifest["features"][role]}
        if "sha256" not in then:
            continue  # a TF Hub handle: its content is fixed by its URL
        now = handles.identity(then["handle"])
        if "sha256" not in now:
            raise BadInput(f"{role} recorded in the model dir, {then['handle']}: no such SavedModel folder "
                           "any more; restore it, or extract and train again with the encoder you have")
        if now["sha256"] != then["sha256"]:
            raise BadInput(f"{role} recorded in the model dir, {then['handle']}: its files have changed since "
                           "the model was trained (content digest differs), so its features would not be the "
                           "ones the head learned from; restore that encoder, or extract and train again")


def load_models(manifest: dict, model_dir, runtime: str | None = None):
    """(preprocessor, encoder runtime) a model was trained with, after checking they are unchanged:
    on the runtime and at the precision of its training cache (int8: the model dir's own copy of the
    quantised encoder), or on the runtime named (export: tensorflow, which TF Serving runs)."""
    check_models_unchanged(manifest)
    info = manifest["features"]
    settings = FeatureSettings.from_dict(info)
    precision = settings.precision if runtime is None else "fp32"
    if precision == "int8":
        encoder_ir.check(model_dir, manifest)
    preprocessor = handles.load(info["preprocessor"], "preprocessor recorded in the model dir", "preprocessor")
    return preprocessor, runtimes.load(runtime or settings.runtime_name, precision, info["encoder"], model_dir,
                                       "encoder recorded in the model dir")


class Classifier:
    """predict(texts), probabilities(texts) and features(texts) for a model dir, with the encoder
    and preprocessor loaded once."""

    def __init__(self, model_dir, batch_size: int = 64):
        self.model_dir = str(model_dir)
        self.predictor, self.config = load_predictor(model_dir)
        manifest = self.config["cache"]["manifest"]
        self.labels = self.predictor.labels
        # Every pooling the training cache stored, so features() rows equal the cache's rows.
        self.settings = FeatureSettings.from_dict(manifest["features"])
        self.featurizer = None
        if self.predictor.reads_bert:  # a lexical model needs no encoder
            preprocessor, encoder = load_models(manifest, model_dir)
            self.featurizer = Featurizer(preprocessor, encoder, self.settings, batch_size=batch_size)

    def features(self, texts: list[str]) -> dict:
        """{pooling: float32 [n, layers * hidden]}: the pooled per-layer features, laid out as in the
        cache; "ngrams" (the n-gram ids) and "segments" (every window's or token's features, a
        Segments) when the model reads them."""
        from ..extract.features.lexical import lexical_features

        texts = _as_texts(texts)
        features = {}
        if self.featurizer is not None:
            dtype = self.settings.feature_dtype  # a float16 cache's head learned from rounded features

            def laid_out(pooled):
                return {p: v.reshape(len(v), -1).astype(dtype) for p, v in pooled.items()}

            pooled, segments = self.featurizer.features_and_segments(*self.featurizer.tokenize(texts))
            features = laid_out(pooled)
            if self.predictor.reads_segments:
                features["segments"] = Segments(laid_out(segments[0]), segments[1])
        if self.predictor.reads_ngrams:
            features["ngrams"] = Ngrams(*lexical_features(texts, self.settings.ngrams))
        return features

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """float [n, classes]: each text's probability of each class, in the order of .labels."""
        texts = _as_texts(texts)
        if not texts:
            return np.zeros((0, len(self.labels)))
        return self.predictor.probabilities(self.features(texts))

    def predict(self, texts: list[str]) -> list[dict]:
        """One result per text: text, label (the most probable class), confidence (its probability) and
        every class's probability; two classes also give positive_probability (the second's)."""
        texts = _as_texts(texts)
        probs = self.probabilities(texts)
        rows = []
        for text, p, c in zip(texts, probs, predicted(probs) if len(texts) else []):
            row = {"text": text, "label": self.labels[c], "confidence": float(p[c]),
                   "probabilities": {name: float(v) for name, v in zip(self.labels, p)}}
            if len(self.labels) == 2:
                row["positive_probability"] = float(p[1])
            rows.append(row)
        return rows


def _as_texts(texts) -> list[str]:
    if isinstance(texts, str):
        return [texts]
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise BadInput(f"texts[{i}]: is {type(t).__name__}, not a string; pass a list of strings")
    return texts


def load(model_dir, batch_size: int = 64) -> Classifier:
    """A model dir as a Classifier whose encoder is loaded once."""
    return Classifier(model_dir, batch_size=batch_size)
