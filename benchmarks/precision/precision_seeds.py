"""Is int8's cost on IMDB a property of its features or of one draw of head seeds?

    python benchmarks/precision/precision_seeds.py [--data imdb,sst5] [--draws 5]

precision_accuracy.py trains the recipe once per cache, with head seeds 0..k-1. The difference it
reports (int8 - fp32 test accuracy) then mixes the features' effect with the luck of those seeds.
Here the same recipe is trained on the same two caches (fp32 and int8, made by
precision_accuracy.py) with `--draws` disjoint sets of seeds, fixed before any run: ensemble
base seeds 0, k, 2k, ... (k = the ensemble's size; draw 0 is precision_accuracy.py's own run).
Reported per draw: validation and test accuracy of each precision and the paired difference; over
the draws: the mean difference and its standard deviation. Nothing is chosen on these numbers.
Writes benchmarks/results/precision_seeds.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from statistics import mean, stdev

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import cpu_model  # noqa: E402  (benchmarks/ is on sys.path)
from precision_accuracy import DATA, train_and_score

ROOT = Path(__file__).resolve().parents[2]


def ensemble_size(train_args: list[str]) -> int:
    return int(train_args[train_args.index("--ensemble") + 1]) if "--ensemble" in train_args else 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="imdb,sst5")
    parser.add_argument("--draws", type=int, default=5)
    args = parser.parse_args()
    out_path = ROOT / "benchmarks" / "results" / "precision_seeds.json"
    result = {"data_sets": {}}
    for name in args.data.split(","):
        spec = DATA[name]
        caches = {"fp32": spec["fp32"], "int8": ROOT / "runs" / f"precision-{name}-int8" / "cache"}
        for cache in caches.values():
            if not (cache / "manifest.json").exists():
                raise SystemExit(f"{cache}: missing; run benchmarks/precision/precision_accuracy.py first")
        k = ensemble_size(spec["train"])
        draws, commands = [], []
        for draw in range(args.draws):
            seed = draw * k
            row = {"seed": seed}
            for precision, cache in caches.items():
                model = ROOT / "runs" / f"precision-seeds-{name}-{precision}-model"
                row[precision] = train_and_score(cache, model, [*spec["train"], "--seed", str(seed)], commands)
            row["test_int8_minus_fp32"] = round(row["int8"]["test_accuracy"] - row["fp32"]["test_accuracy"], 4)
            row["val_int8_minus_fp32"] = round(row["int8"]["val_accuracy"] - row["fp32"]["val_accuracy"], 4)
            draws.append(row)
            print(json.dumps({name: row}), file=sys.stderr, flush=True)
        diffs = [d["test_int8_minus_fp32"] for d in draws]
        result["data_sets"][name] = {
            "train_args": spec["train"], "caches": {p: str(c.relative_to(ROOT)) for p, c in caches.items()},
            "draws": draws,
            "test_int8_minus_fp32_mean": round(mean(diffs), 4),
            "test_int8_minus_fp32_sd": round(stdev(diffs), 4) if len(diffs) > 1 else None,
            "test_accuracy_mean": {p: round(mean(d[p]["test_accuracy"] for d in draws), 5) for p in caches},
            "commands": commands,
        }
    result.update(encoder="all-MiniLM-L6-v2 (imported), frozen", machine={"cpu": cpu_model(), "cores": os.cpu_count()},
                  date=time.strftime("%Y-%m-%d"),
                  command="python benchmarks/precision/precision_seeds.py " + " ".join(sys.argv[1:]))
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
