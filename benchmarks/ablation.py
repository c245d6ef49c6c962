"""Stage-two ablation on a cache with every layer and several poolings stored.

    python benchmarks/ablation.py runs/minilm-seq-len-512-truncation-headtail-pooling-meanmaxcls/cache

Sweeps pooling (mean, max, cls, all three) x layers (all, last) x layer mix (concat, learned) with
the seed's head and training settings, choosing on the validation split only; then evaluates the
single best configuration on the test split. Writes benchmarks/results/ablation_<cache name>.json.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(cache: str) -> None:
    name = Path(cache).parent.name
    out = Path("runs") / f"ablation-{name}"
    cmd = [sys.executable, "cli.py", "sweep", "--cache", cache, "--out", str(out),
           "--pooling", "mean", "--pooling", "max", "--pooling", "cls", "--pooling", "mean,max,cls",
           "--layers", "all", "--layers", "last", "--layer-mix", "concat,learned", "--evaluate-best", "--json"]
    t0 = time.perf_counter()
    sweep = json.loads(subprocess.run(cmd, stdout=subprocess.PIPE, check=True, text=True, cwd=ROOT).stdout)
    trials = json.loads((ROOT / out / "results.json").read_text())["trials"]
    best_config = json.loads((ROOT / out / "best" / "config.json").read_text())
    result = {
        "cache": cache, "extract": best_config["cache"]["manifest"]["features"],
        "command": "python " + " ".join(cmd[1:]), "seconds": round(time.perf_counter() - t0, 1),
        "trials": [{k: t[k] for k in ("pooling", "layers", "layer_mix", "val_accuracy", "val_loss", "best_epoch")}
                   for t in trials],
        "best": {k: sweep["best"][k] for k in ("pooling", "layers", "layer_mix", "val_accuracy")},
        "best_layer_weights": best_config["result"].get("layer_weights"),
        "best_test_accuracy": sweep["test"]["accuracy"], "best_test_loss": sweep["test"]["loss"],
        "date": time.strftime("%Y-%m-%d"),
    }
    path = ROOT / "benchmarks" / "results" / f"ablation_{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])
