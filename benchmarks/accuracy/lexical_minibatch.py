"""The lexical channel's mini-batch training (train/lexical.py) on real IMDB: batch size and step
against validation accuracy, to choose LexicalConfig's defaults. Validation only (the cache's train
split, 20 % carved by id hash as `train` does); the test split is not read.

    python benchmarks/accuracy/lexical_minibatch.py CACHE [--l2 5e-5]

CACHE: an IMDB cache extracted with --ngrams 3 (benchmarks/accuracy/imdb_results.py makes one).
Writes benchmarks/results/lexical_minibatch.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import RESULTS, cpu_model  # noqa: E402

# (batch, lr); batch 0 is the full-batch training the lexical model had before streaming (one step an
# epoch over every training row, lr 0.02, at most 300 steps, patience 20).
GRID = [(0, 0.02), (1024, 0.02), (1024, 0.005), (1024, 0.002), (4096, 0.02)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cache")
    parser.add_argument("--l2", type=float, default=1e-4)
    parser.add_argument("--grid", default=None, help="BATCH:LR,... instead of the built-in grid")
    a = parser.parse_args()
    from mlbert.extract.cache.read import open_split
    from mlbert.train.lexical import LexicalConfig, fit_lexical
    from mlbert.train.rows import carve

    train, validation = carve(open_split(a.cache, "train", lexical=True), 0.2, 0)
    grid = [tuple(float(v) for v in g.split(":")) for g in a.grid.split(",")] if a.grid else GRID
    out = RESULTS / "lexical_minibatch.json"
    old = json.loads(out.read_text())["runs"] if out.exists() else []
    rows = []
    for batch, lr in grid:
        cfg = dataclasses.replace(LexicalConfig(), batch=int(batch), lr=lr, l2=a.l2)
        if not batch:
            cfg = dataclasses.replace(cfg, batch=len(train), epochs=300, patience=20)
        t0 = time.perf_counter()
        _, h = fit_lexical(train, validation, 2, cfg)
        best = h["best_evaluation"] - 1
        row = {"batch": int(batch) or "full", "lr": lr, "l2": a.l2, "val_accuracy": h["val_accuracy"][best],
               "val_loss": h["val_loss"][best], "best_step": h["best_step"], "epochs": h["epochs"],
               "seconds": round(time.perf_counter() - t0, 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)
        out.write_text(json.dumps({"script": "benchmarks/accuracy/lexical_minibatch.py", "cache": str(a.cache),
                                   "machine": {"cpu": cpu_model()}, "date": time.strftime("%Y-%m-%d"),
                                   "runs": old + rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
