"""A trained model dir ready for new texts: its encoder loaded once, checked to be the one it was
trained on. `mlbert.load(model_dir)` returns one; `predict` uses one."""
from __future__ import annotations

import numpy as np

from ..data.errors import BadInput
from ..extract.encoders import handles
from ..extract.features.featurizer import Featurizer
from ..extract.features.settings import FeatureSettings
from ..train.inputs import InputSpec, select
from ..train.model_dir import load_model_dir

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


def load_models(manifest: dict):
    """(preprocessor, encoder) a model was trained with, after checking they are unchanged."""
    check_models_unchanged(manifest)
    info = manifest["features"]
    return (handles.load(info["preprocessor"], "preprocessor recorded in the model dir", "preprocessor"),
            handles.load(info["encoder"], "encoder recorded in the model dir", "encoder"))


class Classifier:
    """predict(texts), probabilities(texts) and features(texts) for a model dir, with the encoder
    and preprocessor loaded once."""

    def __init__(self, model_dir, batch_size: int = 64):
        self.model_dir = str(model_dir)
        self.model, self.config = load_model_dir(model_dir)
        manifest = self.config["cache"]["manifest"]
        self.spec = InputSpec.from_dict(self.config["input"])
        # Every pooling the training cache stored, so features() rows equal the cache's rows.
        settings = FeatureSettings.from_dict(manifest["features"])
        preprocessor, encoder = load_models(manifest)
        self.featurizer = Featurizer(preprocessor, encoder, settings, batch_size=batch_size)

    def features(self, texts: list[str]) -> dict[str, np.ndarray]:
        """{pooling: float32 [n, layers * hidden]}: the pooled per-layer features, laid out as in the cache."""
        texts = _as_texts(texts)
        pooled = self.featurizer.features(texts)
        return {p: v.reshape(len(v), -1) for p, v in pooled.items()}

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """float32 [n]: each text's positive-class probability."""
        texts = _as_texts(texts)
        if not texts:
            return np.zeros(0, np.float32)
        x = select(self.features(texts), self.spec)
        return self.model.predict(x, batch_size=1024, verbose=0).ravel()

    def predict(self, texts: list[str]) -> list[dict]:
        """One result per text: text, label, confidence and positive_probability."""
        texts = _as_texts(texts)
        rows = []
        for text, p in zip(texts, self.probabilities(texts)):
            positive = bool(p > 0.5)
            rows.append({"text": text, "label": "Positive" if positive else "Negative",
                         "confidence": float(p if positive else 1 - p), "positive_probability": float(p)})
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


def predict(model_dir, texts: list[str], batch_size: int = 64) -> list[dict]:
    return Classifier(model_dir, batch_size=batch_size).predict(texts)


