"""Stage-two speed: seconds per epoch of the seed's head, and a 24-trial sweep, on cached features.

    python benchmarks/train/train_speed.py runs/random/cache      # 25,000 train reviews, 512-d features

Writes benchmarks/results/train_speed.json. The cache is any made by `extract` (the results
script benchmarks/accuracy/imdb_results.py leaves runs/random/cache, 512-d, and runs/minilm/cache, 2304-d).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MLBERT = str(Path(sys.executable).parent / "mlbert")  # the installed command
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(cache: str) -> None:
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
    from bench import cpu_model
    from mlbert.data.split import stratified_split
    from mlbert.extract.cache.read import read_split
    from mlbert.train.config import HeadConfig
    from mlbert.train.fit import fit_head
    from mlbert.train.inputs import InputSpec

    features, labels, _, manifest = read_split(Path(cache), "train")
    x, y = features["mean"], labels.astype("float32")
    tr, va = stratified_split(y, 0.2, 0)
    # Fixed 6 epochs (patience above the limit) so the figure is per epoch, compile time shown apart.
    info = manifest["features"]
    spec = InputSpec(("mean",), tuple(range(info["num_layers"])), info["num_layers"], info["hidden_size"])
    _, history = fit_head((x[tr], y[tr]), (x[va], y[va]), HeadConfig(epochs=6, patience=10), spec, 2)
    epoch_seconds = history["epoch_seconds"]

    sweep_dir = Path("runs") / "bench-sweep"
    cmd = [MLBERT, "sweep", "--cache", cache, "--out", str(sweep_dir),
           "--lr", "1e-3,5e-4,1e-4", "--batch-size", "64,128", "--dropout", "0.4,0.3,0.2;0.2",
           "--hidden", "256,128,64;512,128,32", "--json"]
    subprocess.run(["rm", "-rf", str(sweep_dir)], check=True, cwd=ROOT)
    t0 = time.perf_counter()
    sweep = json.loads(subprocess.run(cmd, stdout=subprocess.PIPE, check=True, text=True, cwd=ROOT).stdout)
    sweep_seconds = time.perf_counter() - t0
    result = {
        "cache": cache, "train_reviews": int(len(tr)), "val_reviews": int(len(va)), "feature_dim": int(x.shape[1]),
        "head": "seed's: 256/128/64, BatchNorm, ReLU, Dropout 0.4/0.3/0.2, Adam 5e-4, batch 64",
        "epoch_seconds": epoch_seconds,
        "first_epoch_seconds": epoch_seconds[0],
        "steady_epoch_seconds": round(float(np.median(epoch_seconds[1:])), 3),
        "sweep_trials": sweep["trials"], "sweep_wall_seconds": round(sweep_seconds, 1),
        "sweep_command": "mlbert " + " ".join(cmd[1:]),
        "sweep_best_val_accuracy": sweep["best"]["val_accuracy"],
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count()},
        "date": time.strftime("%Y-%m-%d"),
    }
    out = ROOT / "benchmarks" / "results" / "train_speed.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/random/cache")
