"""The learning curve of the two BERT heads: the MLP of the original recipe against the linear head
(logistic regression, L2 chosen on validation), trained on 16, 64, 256, 1,024 and all training
examples per class, several seeded draws each.

    python benchmarks/accuracy/learning_curve.py sst5
    python benchmarks/accuracy/learning_curve.py imdb

Each draw is what a user with k labelled examples per class gets from `mlbert train` with its
defaults: k rows of each label drawn from the training pool, of which train's own rule
(train/rows.py: 20 % per label, by id hash) holds out validation for early stopping or the L2
choice. Every model is then scored on a fixed selection set, which no model trains or stops on,
and which is where the default head for small data is chosen; and on the test split, which is
only reported. Selection set: SST-5's validation split (1,101 sentences); for IMDB, 20 % of the
train split carved by train's rule (5,000 reviews), the training pool being the other 20,000.

Features: the caches of benchmarks/accuracy/calibration.py (all-MiniLM-L6-v2, frozen; mean
pooling, all six layers, 2,304-d; IMDB's reviews as 128-token windows averaged, int8 encoder).
Models are trained in-process through the same channel code `train` runs (no model dirs are
written). Writes benchmarks/results/learning_curve.json, one run per task.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import cpu_model, record_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CACHES = {"sst5": ROOT / "runs" / "sst5-minilm" / "cache", "imdb": ROOT / "runs" / "imdb-best" / "cache"}
SIZES = (16, 64, 256, 1024, None)  # per class; None: the whole training pool
DRAWS = {16: 5, 64: 5, 256: 5, 1024: 3, None: 3}
HEADS = ("mlp", "linear")
VAL_FRACTION = 0.2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=sorted(CACHES))
    parser.add_argument("--sizes", default=",".join("all" if s is None else str(s) for s in SIZES))
    args = parser.parse_args()
    sizes = [None if s == "all" else int(s) for s in args.sizes.split(",")]

    from mlbert.common.digest import id_hashes
    from mlbert.extract.cache.manifest import labels_of, read_manifest
    from mlbert.extract.cache.read import open_split
    from mlbert.train import channels, rows
    from mlbert.train.channels.base import probabilities_of
    from mlbert.train.config import HeadConfig
    from mlbert.train.metrics import classification_metrics
    from mlbert.train.run import input_spec, read_training_splits

    cache = CACHES[args.task]
    manifest = read_manifest(cache)
    classes = labels_of(manifest)
    data = read_training_splits(cache, ["mean"])
    if data.validation is not None:
        pool, selection = rows.every(data.train), rows.every(data.validation)
        selection_from = "the validation split"
    else:
        pool, selection = rows.carve(data.train, VAL_FRACTION, 0)
        selection_from = "20 % of train by train's rule (split seed 0)"
    test = rows.every(open_split(cache, "test", ["mean"], False, manifest))
    pool_ids = np.array(pool.ids())
    runs, started = [], time.perf_counter()
    for k in sizes:
        for draw in range(DRAWS[k]):
            drawn = pool if k is None else rows.sample(pool, seed=draw, per_label=k)
            ids = pool_ids if k is None else np.array(drawn.ids())
            held = rows.held_out(drawn.labels(), id_hashes(list(ids), draw), VAL_FRACTION)
            train_rows, val_rows = rows.restrict(drawn, ~held), rows.restrict(drawn, held)
            for head in HEADS:
                cfg = HeadConfig(head=head, seed=draw, pooling=("mean",))
                spec = input_spec(cfg, manifest)
                t0 = time.perf_counter()
                channel = channels.new(cfg, spec, classes)
                channel.fit(train_rows, val_rows)
                seconds = time.perf_counter() - t0
                scores = {}
                for name, part in (("selection", selection), ("test", test)):
                    probs, y = probabilities_of(channel, part)
                    m = classification_metrics(y, probs, classes)
                    scores[name] = {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}
                summary = channel.summary()
                runs.append({"per_class": k, "draw": draw, "head": head, "train_rows": len(train_rows),
                             "val_rows": len(val_rows), "own_val_accuracy": channel.val_accuracy(),
                             "selection": scores["selection"], "test": scores["test"],
                             "l2": (summary.get("linear") or {}).get("l2"), "best_epoch": summary["best_epoch"],
                             "seconds": round(seconds, 2)})
                print(f"k={k} draw={draw} {head}: selection {scores['selection']['accuracy']:.4f} "
                      f"test {scores['test']['accuracy']:.4f} ({seconds:.1f} s)", file=sys.stderr, flush=True)
    record_run("learning_curve", args.task, {
        "task": args.task, "encoder": "all-MiniLM-L6-v2 (pretrained), frozen", "cache": str(cache.relative_to(ROOT)),
        "features": "mean pooling, all layers", "labels": classes, "pool_rows": len(pool),
        "selection_rows": len(selection), "selection_from": selection_from, "test_rows": len(test),
        "val_fraction": VAL_FRACTION, "draws": {("all" if k is None else str(k)): DRAWS[k] for k in sizes},
        "summary": summarise(runs, sizes), "runs": runs, "seconds": round(time.perf_counter() - started, 1),
        "cpu": cpu_model(), "command": f"python benchmarks/accuracy/learning_curve.py {args.task}",
    }, source="benchmarks/accuracy/learning_curve.py")


def summarise(runs: list[dict], sizes) -> list[dict]:
    """Per size and head: mean, standard deviation (over draws), min and max of each score."""
    found = []
    for k in sizes:
        for head in HEADS:
            mine = [r for r in runs if r["per_class"] == k and r["head"] == head]
            row = {"per_class": "all" if k is None else k, "head": head, "draws": len(mine)}
            for part in ("selection", "test"):
                for metric in ("accuracy", "macro_f1"):
                    v = np.array([r[part][metric] for r in mine])
                    row[f"{part}_{metric}"] = {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                                               "min": float(v.min()), "max": float(v.max())}
            found.append(row)
    return found


if __name__ == "__main__":
    main()
