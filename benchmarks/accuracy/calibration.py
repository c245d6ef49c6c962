"""Calibration on real data: a model's test ECE, Brier score, log loss and accuracy before and after
its temperature (fitted on validation by `train`), for the best recipes of docs/results.md.

    python benchmarks/accuracy/calibration.py sst5    # SST-5: fused, mean pooling, ten heads
    python benchmarks/accuracy/calibration.py imdb    # IMDB: fused, mean+max+[CLS] windows, ten heads

Each task extracts its cache once (kept under runs/; a rerun reuses it), trains the model through
the installed `mlbert` command as a user would, and evaluates it. "Before" is the same model's raw
probabilities on the same test rows (the channel loaded without its temperature), so the two
differ by the temperature alone. Writes benchmarks/results/calibration.json, one run per task.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import ENCODERS, SHARED, SST5_LABELS, cli, cpu_model, record_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ENCODER = ROOT / "runs" / "encoder-minilm"
TASKS = {
    "sst5": {"data": SHARED / "data/sst5/sst5.jsonl", "cache": ROOT / "runs" / "sst5-minilm" / "cache",
             "extract": ["--labels", SST5_LABELS, "--seq-len", "128",
                         "--pooling", "mean,max,cls", "--ngrams", "3"],
             "train": ["--channel", "fused", "--pooling", "mean", "--ensemble", "10"]},
    "imdb": {"data": SHARED / "data/imdb/aclImdb_v1.tar.gz", "cache": ROOT / "runs" / "imdb-best" / "cache",
             "extract": ["--seq-len", "128", "--windows", "--stride", "126", "--pooling", "mean,max,cls",
                         "--ngrams", "3", "--precision", "int8"],
             "train": ["--pooling", "mean,max,cls", "--ensemble", "10", "--channel", "fused", "--lexical-l2", "5e-5",
                       "--refit-lexical"]},
}


def raw_test_metrics(cache: Path, model_dir: Path) -> dict:
    """The model's metrics on test without its temperature."""
    from mlbert.extract.cache.manifest import labels_of, read_manifest
    from mlbert.extract.cache.read import open_split
    from mlbert.train import channels
    from mlbert.train.metrics import classification_metrics
    from mlbert.train.model_dir import read_config

    config = read_config(model_dir)
    raw = channels.check(channels.channel_of(config)).load(model_dir, config)  # not wrapped in its temperature
    manifest = read_manifest(cache)
    to_model = np.array([config["labels"].index(n) for n in labels_of(manifest)])
    reader = open_split(cache, "test", list(raw.spec.poolings), raw.reads_ngrams, manifest)
    probs, labels = [], []
    for chunk in reader.chunks():
        probs.append(np.asarray(raw.probabilities(chunk.features), np.float64))
        labels.append(to_model[chunk.labels])
    return classification_metrics(np.concatenate(labels), np.concatenate(probs), config["labels"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=sorted(TASKS))
    args = parser.parse_args()
    task = TASKS[args.task]
    commands = []
    if not (ENCODER / "encoder").exists():
        commands.append(cli("import-encoder", str(ENCODERS["minilm"][0]), "--out", str(ENCODER))[2])
    _, _, shown = cli("extract", "--data", str(task["data"]), "--out", str(task["cache"]), "--encoder",
                      str(ENCODER / "encoder"), "--preprocessor", str(ENCODER / "preprocessor"), *task["extract"])
    commands.append(shown)
    model = task["cache"].parent / "calibrated"
    trained, train_seconds, shown = cli("train", "--cache", str(task["cache"]), "--model-dir", str(model),
                                        *task["train"], "--overwrite")
    commands.append(shown)
    after, _, shown = cli("evaluate", "--cache", str(task["cache"]), "--model-dir", str(model))
    commands.append(shown)
    before = raw_test_metrics(task["cache"], model)
    keys = ("accuracy", "macro_f1", "ece", "brier", "log_loss")
    record_run("calibration", args.task, {
        "task": args.task, "encoder": "all-MiniLM-L6-v2 (pretrained), frozen", "train_flags": task["train"],
        "calibration": trained["calibration"], "val_accuracy": trained["val_accuracy"],
        "test_before": {k: before[k] for k in keys}, "test_after": {k: after[k] for k in keys},
        "labels_unchanged": before["confusion"] == after["confusion"], "test_rows": after["n"],
        "train_seconds": round(train_seconds, 1), "cpu": cpu_model(), "commands": commands},
        source="benchmarks/accuracy/calibration.py")
    print({k: (before[k], after[k]) for k in keys})


if __name__ == "__main__":
    main()
