"""Stage-two ablation on a cache with every layer and several poolings stored.

    python benchmarks/accuracy/ablation.py runs/minilm-seq-len-512-truncation-headtail-pooling-meanmaxcls/cache

Two sweeps, every choice made on the validation split only:
1. inputs: pooling (mean, max, cls, all three) x layers (all, last) x layer mix (concat, learned)
   x feature standardisation (on, off), with the seed's head and training settings;
2. head: the best inputs of sweep 1 fixed, learning rate x patience x (hidden, dropout), the seed's
   values included.
The best of each sweep, and only those two, are then evaluated on the test split. Writes
benchmarks/results/ablation.json, one run per cache name.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import record_run  # noqa: E402  (benchmarks/ is on sys.path)

ROOT = Path(__file__).resolve().parents[2]
TRIAL_KEYS = ("pooling", "layers", "layer_mix", "standardize", "lr", "patience", "hidden", "dropout",
              "val_accuracy", "val_loss", "best_epoch")


def sweep(cache: str, out: Path, *grid: str) -> tuple[dict, list[str]]:
    cmd = [str(Path(sys.executable).parent / "mlbert"), "sweep", "--cache", cache, "--out", str(out), *grid, "--evaluate-best", "--json"]
    result = json.loads(subprocess.run(cmd, stdout=subprocess.PIPE, check=True, text=True, cwd=ROOT).stdout)
    return result, cmd


def summary(out: Path, result: dict, cmd: list[str]) -> dict:
    trials = json.loads((ROOT / out / "results.json").read_text())["trials"]
    best_config = json.loads((ROOT / out / "best" / "config.json").read_text())
    return {
        "command": "mlbert " + " ".join(cmd[1:]),
        "trials": [{k: t[k] for k in TRIAL_KEYS} for t in trials],
        "best": {k: result["best"][k] for k in TRIAL_KEYS[:-3] + ("val_accuracy",)},
        "best_layer_weights": best_config["result"].get("layer_weights"),
        "best_test_accuracy": result["test"]["accuracy"], "best_test_loss": result["test"]["loss"],
        "extract": best_config["cache"]["manifest"]["features"],
    }


def main(cache: str) -> None:
    name = Path(cache).parent.name
    base = Path("runs") / f"ablation-{name}"
    t0 = time.perf_counter()
    inputs, cmd = sweep(cache, base / "inputs",
                        "--pooling", "mean", "--pooling", "max", "--pooling", "cls", "--pooling", "mean,max,cls",
                        "--layers", "all", "--layers", "last", "--layer-mix", "concat,learned",
                        "--standardize", "on,off")
    first = summary(base / "inputs", inputs, cmd)
    b = inputs["best"]
    head, cmd = sweep(cache, base / "head", "--pooling", ",".join(b["pooling"]), "--layers", b["layers"],
                      "--layer-mix", b["layer_mix"], "--standardize", "on" if b["standardize"] else "off",
                      "--lr", "5e-4,2e-4,1e-4", "--patience", "2,4",
                      "--hidden", "256,128,64;512,256", "--dropout", "0.4,0.3,0.2;0.5")
    second = summary(base / "head", head, cmd)
    second.pop("extract")  # the same cache as sweep 1's
    result = {"cache": cache, "extract": first.pop("extract"), "inputs": first, "head": second,
              "seconds": round(time.perf_counter() - t0, 1), "date": time.strftime("%Y-%m-%d")}
    record_run("ablation", name, result, source="benchmarks/accuracy/ablation.py")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])
