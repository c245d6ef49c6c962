"""How fast the ordinal head's thresholds must learn, on SST-5's validation split only.

    python benchmarks/accuracy/ordinal_thresholds.py

`train --ordinal` learns its K - 1 thresholds in units of train/head.py's THRESHOLD_UNITS: a
weight in units of U moves U times as far per Adam step. This trains the ordinal head (mean
pooling, five MLP heads, everything else at its default) on runs/sst5-minilm/cache (made by
sst5_results.py) with U = 1, 10, 30 and 100, in this process, and records each validation accuracy
and loss, beside the softmax head's with the same options. Writes
benchmarks/results/ordinal_thresholds.json. The test split is not read.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import cpu_model, record_run  # noqa: E402  (benchmarks/ is on sys.path)

ROOT = Path(__file__).resolve().parents[2]
UNITS = (1.0, 10.0, 30.0, 100.0)


def main() -> None:
    import mlbert
    from mlbert.train import head

    cache = ROOT / "runs" / "sst5-minilm" / "cache"
    options = {"pooling": "mean", "head": "mlp", "ensemble": 5}
    rows, shipped = [], head.THRESHOLD_UNITS
    for units in (None, *UNITS):
        head.THRESHOLD_UNITS = units or shipped
        result = mlbert.train(cache, ROOT / "runs" / "ordinal_thresholds" / str(units), overwrite=True,
                              ordinal=units is not None, **options)
        rows.append({"head": "softmax" if units is None else "ordinal", "threshold_units": units,
                     "val_accuracy": result["val_accuracy"], "val_loss": result["val_loss"],
                     "best_epoch": result["best_epoch"]})
        print(rows[-1], file=sys.stderr, flush=True)
    head.THRESHOLD_UNITS = shipped
    record_run("ordinal_thresholds", "sst5", {
        "cache": str(cache.relative_to(ROOT)), "options": options, "results": rows, "shipped": shipped,
        "machine": {"cpu": cpu_model()}, "date": time.strftime("%Y-%m-%d"),
        "command": "python benchmarks/accuracy/ordinal_thresholds.py"}, "benchmarks/accuracy/ordinal_thresholds.py")


if __name__ == "__main__":
    main()
