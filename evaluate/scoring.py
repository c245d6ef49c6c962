"""The `evaluate` and `predict` commands."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from data.errors import BadInput
from evaluate.metrics import binary_metrics
from evaluate.model_dir import load_model_dir
from extract.cache import read_manifest, read_split
from train.inputs import InputSpec, select

# What must agree between the cache a head was trained on and one it is evaluated on.
FEATURE_KEYS = ("encoder", "preprocessor", "settings")


def _check_same_features(trained: dict, cache: Path, manifest: dict) -> None:
    old, new = trained["fingerprint_fields"], manifest["fingerprint_fields"]
    differ = [k for k in FEATURE_KEYS if old.get(k) != new.get(k)]
    if differ:
        raise BadInput(f"--cache {cache}: its features were made differently from the model's training cache "
                       f"({', '.join(differ)} differ); evaluate on a cache extracted with the same settings")


def run_evaluate(cache, model_dir: Path, split: str = "test", plot_dir: Path | None = None) -> dict:
    model, config = load_model_dir(model_dir)
    manifest = read_manifest(cache)
    _check_same_features(config["cache"]["manifest"], cache, manifest)
    spec = InputSpec.from_dict(config["input"])
    features, labels, _, _ = read_split(cache, split, poolings=list(spec.poolings))
    if not len(labels):
        raise BadInput(f"--cache {cache}: split '{split}' is empty")
    probs = model.predict(select(features, spec), batch_size=1024, verbose=0).ravel()
    result = {"split": split, "cache": str(cache), "model_dir": str(model_dir), **binary_metrics(labels, probs)}
    if plot_dir is not None:
        result["plots"] = _plots(Path(model_dir), Path(plot_dir), split, labels, probs, result)
    return result


def _plots(model_dir: Path, plot_dir: Path, split: str, labels, probs, metrics: dict) -> list[str]:
    import json

    from evaluate.plots import confusion_matrix_plot, roc_plot
    from train.plots import learning_curves

    plot_dir.mkdir(parents=True, exist_ok=True)
    paths = [plot_dir / "learning_curves.png", plot_dir / "confusion_matrix.png", plot_dir / "roc_curve.png"]
    learning_curves(json.loads((model_dir / "history.json").read_text()), paths[0])
    confusion_matrix_plot(metrics, f"Confusion matrix, {split} split", paths[1])
    roc_plot(labels, probs, metrics["auc"], f"ROC curve, {split} split", paths[2])
    return [str(p) for p in paths]


def run_predict(model_dir: Path, texts: list[str], batch_size: int = 64) -> list[dict]:
    from extract import encoders
    from extract.features import FeatureSettings, Featurizer

    model, config = load_model_dir(model_dir)
    info = config["cache"]["manifest"]["features"]
    spec = InputSpec.from_dict(config["input"])
    # Only the poolings the head reads need computing.
    settings = dataclasses.replace(FeatureSettings.from_dict(info), poolings=spec.poolings)
    featurizer = Featurizer(encoders.load(info["preprocessor"], "preprocessor recorded in the model dir"),
                            encoders.load(info["encoder"], "encoder recorded in the model dir"),
                            settings, batch_size=batch_size)
    pooled = featurizer.features(texts)
    flat = {p: v.reshape(len(v), -1) for p, v in pooled.items()}
    probs = model.predict(select(flat, spec), batch_size=1024, verbose=0).ravel() if texts else np.zeros(0)
    rows = []
    for text, p in zip(texts, probs):
        positive = bool(p > 0.5)
        rows.append({"text": text, "label": "Positive" if positive else "Negative",
                     "confidence": float(p if positive else 1 - p), "positive_probability": float(p)})
    return rows
