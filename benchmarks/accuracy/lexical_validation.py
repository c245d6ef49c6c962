"""The lexical model's options, and both channels' learning curves, on validation rows only.

    python benchmarks/accuracy/lexical_validation.py CACHE

On a two-class cache made with --ngrams (validation: 20 % of train, split seed 0, as `train` holds
out): (1) the lexical model's L2 weight and minimum document frequency, each setting's validation
accuracy and loss; (2) with the best setting, the validation accuracy when training on a quarter,
half, three quarters and all of the training rows; (3) the same curve for one BERT head (seed 0,
mean+max+[CLS]). A curve still rising at all of the rows says refitting on more rows (train
--refit: the validation rows too, a quarter more) can be expected to help. Writes
benchmarks/results/lexical_validation.json. The test split is not read.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import cpu_model  # noqa: E402  (benchmarks/ is on sys.path)

ROOT = Path(__file__).resolve().parents[2]
L2 = (5e-5, 1e-4, 2e-4, 4e-4)
MIN_DF = (2, 3)
SHARES = (0.25, 0.5, 0.75, 1.0)


def main(cache: str) -> None:
    from mlbert.data.split import stratified_split
    from mlbert.extract.cache.read import read_split
    from mlbert.train.config import HeadConfig
    from mlbert.train.fit import fit_model
    from mlbert.train.inputs import InputSpec, select
    from mlbert.train.lexical import LexicalConfig, fit_lexical

    features, labels, _, _ = read_split(cache, "train", lexical=True)
    y_all = labels.astype(np.int64)
    tr, va = stratified_split(y_all, 0.2, 0)
    ng, y, ngv, yv = features["ngrams"].take(tr), y_all[tr], features["ngrams"].take(va), y_all[va]

    def run(cfg, rows=None):
        rows = np.arange(len(y)) if rows is None else rows
        t0 = time.perf_counter()
        _, h = fit_lexical(ng.take(rows), y[rows], ngv, yv, 2, cfg)
        best = h["best_step"] - 1
        row = {"l2": cfg.l2, "min_df": cfg.min_df, "train_rows": int(len(rows)), "vocab": h["vocab"],
               "best_step": h["best_step"], "val_accuracy": h["val_accuracy"][best], "val_loss": h["val_loss"][best],
               "seconds": round(time.perf_counter() - t0, 1)}
        print(json.dumps(row), file=sys.stderr, flush=True)
        return row

    grid = [run(LexicalConfig(l2=l2, min_df=min_df)) for l2 in L2 for min_df in MIN_DF]
    best = max(grid, key=lambda r: (r["val_accuracy"], -r["val_loss"]))
    chosen = LexicalConfig(l2=best["l2"], min_df=best["min_df"])
    curve = []
    for share in SHARES:
        rows, _ = stratified_split(y, 1 - share, 1) if share < 1 else (np.arange(len(y)), None)
        curve.append({"share": share, **run(chosen, rows)})
    head_curve = []
    poolings = ("mean", "max", "cls")
    bert, _, _, manifest = read_split(cache, "train", poolings=list(poolings))
    info = manifest["features"]
    spec = InputSpec(poolings, tuple(range(info["num_layers"])), info["num_layers"], info["hidden_size"])
    x_all = select(bert, spec)
    x, xv = x_all[tr], x_all[va]
    for share in SHARES:
        rows, _ = stratified_split(y, 1 - share, 1) if share < 1 else (np.arange(len(y)), None)
        t0 = time.perf_counter()
        _, _, summary = fit_model(x[rows], y[rows].astype(np.float32), xv, yv.astype(np.float32),
                                  HeadConfig(pooling=poolings), spec, 2)
        head_curve.append({"share": share, "train_rows": int(len(rows)), "val_accuracy": summary["val_accuracy"],
                           "val_loss": summary["val_loss"], "best_epoch": summary["best_epoch"],
                           "seconds": round(time.perf_counter() - t0, 1)})
        print(json.dumps(head_curve[-1]), file=sys.stderr, flush=True)
    result = {"cache": cache, "train_rows": int(len(y)), "val_rows": int(len(yv)), "grid": grid,
              "best": {"l2": best["l2"], "min_df": best["min_df"]}, "learning_curve": curve,
              "head_learning_curve": head_curve,
              "machine": {"cpu": cpu_model(), "cores": os.cpu_count()}, "date": time.strftime("%Y-%m-%d"),
              "command": "python benchmarks/accuracy/lexical_validation.py " + cache}
    out = ROOT / "benchmarks" / "results" / "lexical_validation.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])
