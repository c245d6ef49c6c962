"""`evaluate`: a head's metrics on a cached split, and the figures of `--plot`."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..common.errors import BadInput
from ..common.folders import check_target, write_folder
from ..common.options import parse
from ..common.provenance import api_call, record
from ..extract.cache.manifest import differences, labels_of, read_manifest
from ..common.progress import Progress
from ..extract.cache.read import open_split
from ..train.metrics import ECE_BINS, classification_metrics, reliability
from ..train.model_dir import load_predictor, model_labels
from .options import EVALUATE

FIGURES_FORMAT = "multilayer-bert-sentiment/figures"
FIGURES_MARKER = "figures.json"

# What must agree between the cache a head was trained on and one it is evaluated on.
FEATURE_KEYS = ("encoder", "preprocessor", "settings")


def _check_same_features(trained: dict, cache, manifest: dict) -> None:
    # Whether a cache also holds every window's or token's features changes none of its reviews'
    # features: a model of either reads either (open_split refuses a --segments model a cache without
    # the per-segment features it reads).
    old, new = (_same_keys(f["fingerprint_fields"]) for f in (trained, manifest))
    differ = differences(old, new)
    if differ:
        raise BadInput(f"--cache {cache}: its features were made differently from the model's training cache "
                       f"({', '.join(differ)} differ); evaluate on a cache extracted with the same settings")


def _same_keys(fields: dict) -> dict:
    found = {k: fields.get(k) for k in FEATURE_KEYS}
    if found["settings"]:
        found["settings"] = {k: v for k, v in found["settings"].items() if k not in ("segments", "tokens")}
    return found


def evaluate(cache, model_dir, command: str | None = None, **options) -> dict:
    """Accuracy, loss, precision, recall, F1, ROC AUC, the confusion matrix and the calibration
    figures (ECE, Brier score, log loss; the model's temperature) of the model on a cached split;
    with plot, figures in that folder (new, empty, or figures of ours with overwrite). Returns the
    `evaluate --json` object. Options: EVALUATE."""
    o = parse(EVALUATE, options, "evaluate")
    split, plot, overwrite = o["split"], o["plot"], o["overwrite"]
    if plot is not None:
        check_target(plot, "--plot", "figures", FIGURES_MARKER, FIGURES_FORMAT, overwrite)
    command = command or api_call("evaluate", {"cache": str(cache), "model_dir": str(model_dir)})
    predictor, config = load_predictor(model_dir)
    manifest = read_manifest(cache)
    _check_same_features(config["cache"]["manifest"], cache, manifest)
    classes = model_labels(config)
    # By name: a split may hold fewer classes than the model knows (a test set without one of them).
    unknown = [name for name in labels_of(manifest) if name not in classes]
    if unknown:
        raise BadInput(f"--cache {cache}: its label {unknown[0]!r} is not one of the model's ({', '.join(classes)}); "
                       "evaluate on a cache of the same labelled data")
    to_model = np.array([classes.index(name) for name in labels_of(manifest)], np.int64)
    reader = open_split(cache, split, list(predictor.spec.poolings), predictor.reads_ngrams, manifest,
                        predictor.reads_segments)
    if not len(reader):
        raise BadInput(f"--cache {cache}: split '{split}' is empty")
    probs, labels = [], []
    progress = Progress(f"evaluate {split}", len(reader)) if len(reader.shards) > 1 else None
    for chunk in reader.chunks():  # a shard at a time: memory holds one shard and the probabilities
        probs.append(np.asarray(predictor.probabilities(chunk.features), np.float64))
        labels.append(to_model[chunk.labels])
        if progress is not None:
            progress.update(sum(map(len, labels)))
    if progress is not None:
        progress.finish()
    probs, labels = np.concatenate(probs), np.concatenate(labels)
    result = {"split": split, "cache": str(cache), "model_dir": str(model_dir),
              **classification_metrics(labels, probs, classes), "ece_bins": ECE_BINS,
              "temperature": (config.get("calibration") or {}).get("temperature")}
    if plot is not None:
        result["plots"] = _plots(Path(model_dir), Path(plot), split, labels, probs, result, overwrite, command)
    return result


def _plots(model_dir: Path, plot_dir: Path, split: str, labels, probs, metrics: dict, overwrite: bool,
           command: str) -> list[str]:
    from ..train.plots import learning_curves
    from .plots import confusion_matrix_plot, reliability_plot, roc_plot

    names = ["learning_curves.png", "confusion_matrix.png", "reliability.png"] + (
        ["roc_curve.png"] if metrics["auc"] is not None else [])
    classes = metrics["labels"]

    def build(tmp: Path) -> None:
        learning_curves(json.loads((model_dir / "history.json").read_text()), tmp / names[0])
        confusion_matrix_plot(metrics, f"Confusion matrix, {split} split", tmp / names[1])
        reliability_plot(reliability(labels, probs), metrics["temperature"], f"Reliability, {split} split",
                         tmp / names[2])
        if metrics["auc"] is not None:  # undefined when the split holds one class only
            roc_plot(labels, probs, classes, f"ROC curve, {split} split", tmp / names[3])
        (tmp / FIGURES_MARKER).write_text(json.dumps({"format": FIGURES_FORMAT, "model_dir": str(model_dir),
                                                      "split": split, **record(command)}, indent=2) + "\n")

    write_folder(plot_dir, build, "--plot", "figures", FIGURES_MARKER, FIGURES_FORMAT, overwrite)
    return [str(plot_dir / name) for name in names]
