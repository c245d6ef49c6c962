"""Stage two at scale: `mlbert train` on synthetic caches of 100k, 300k and 1M reviews, peak memory
and speed.

    python benchmarks/train/scale.py                 # 100k, 300k, 1M reviews (about 20 GB of caches)
    python benchmarks/train/scale.py --sizes 20000   # a quick look

The caches are SYNTHETIC, written in the real cache format through the project's own shard writer
and manifest (extract/cache): 6,912 float16 features a review (three poolings of 6 layers x 384, the
best IMDB recipe's shape), N(0, 1) noise with a planted linear signal, so that a head can learn the
labels (about 90 % reachable), and ~300 hashed n-gram ids a review drawn from a 500,000-id vocabulary,
20 of them from a pool of each class's own ids. 80 % of train is training, 20 % validation (carved by
id hash, as train does).

Each run is one `mlbert train` process (the installed command, as a user runs it), its peak resident
memory read from the kernel (wait4), one epoch each: one head, a ten-head ensemble, the lexical
channel (early-stopped as usual). FLOP utilisation is against this
machine's fp32 matmul rate measured in the same run (bench.matmul_peak). Writes
benchmarks/results/scale.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import MLBERT, RESULTS, ROOT, cpu_model  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from helpers import synthetic_cache  # noqa: E402  (the tests' writer of synthetic caches)

POOLINGS, LAYERS, HIDDEN = ("mean", "max", "cls"), 6, 384
DIM = LAYERS * HIDDEN


def make_cache(out: Path, n: int, seed: int = 0) -> Path:
    """A synthetic cache of n train reviews (and 1 % as many test ones), kept when complete."""
    if (out / "manifest.json").exists():
        m = json.loads((out / "manifest.json").read_text())
        if m["splits"] and all(s.get("complete") for s in m["splits"].values()):
            return out
    return synthetic_cache(out, n, seed=seed, progress=True)


def run(args: list[str]) -> tuple[dict, float, int]:
    """One CLI run: (its --json result, wall seconds, peak RSS in bytes, from the kernel)."""
    cmd = [MLBERT, *args, "--json"]
    print("$ mlbert " + " ".join(args), file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return json.loads(out), time.perf_counter() - t0, usage.ru_maxrss * 1024


def head_flop_per_sample(dim: int, hidden=(256, 128, 64)) -> float:
    """Forward and backward matmul FLOP of one head per training row: forward 2*in*out per layer,
    backward 4*in*out, except the first layer, whose input gradient is never needed (2*in*out)."""
    sizes = [dim, *hidden, 1]
    layers = list(zip(sizes[:-1], sizes[1:]))
    return sum(2 * a * b for a, b in layers) + 2 * layers[0][0] * layers[0][1] + sum(4 * a * b for a, b in layers[1:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--work", default=str(ROOT / "runs" / "scale"))
    parser.add_argument("--runs", default="head,lexical")
    parser.add_argument("--ensemble-sizes", default="100000", help="sizes that also train a ten-head ensemble")
    a = parser.parse_args()
    import tensorflow as tf

    from bench import matmul_peak

    peak, bandwidth = matmul_peak(tf), memory_bandwidth()
    work = Path(a.work)
    rows = []
    for n in [int(s) for s in a.sizes.split(",")]:
        cache = make_cache(work / f"cache-{n}", n)
        cache_bytes = sum(f.stat().st_size for f in cache.glob("train-*.h5"))
        kinds = a.runs.split(",") + (["ensemble"] if str(n) in a.ensemble_sizes.split(",") else [])
        for kind in kinds:
            flags = {"head": ["--epochs", "1"], "ensemble": ["--epochs", "1", "--ensemble", "10"],
                     "lexical": ["--channel", "lexical"]}[kind]
            result, wall, rss = run(["train", "--cache", str(cache), "--model-dir", str(work / f"model-{n}-{kind}"),
                                     "--pooling", "mean,max,cls", *flags, "--overwrite"])
            row = {"reviews": n, "run": kind, "train_rows": result["train_size"], "val_rows": result["val_size"],
                   "cache_train_gb": round(cache_bytes / 1e9, 2), "peak_rss_gb": round(rss / 1e9, 3),
                   "wall_seconds": round(wall, 1), "val_accuracy": result["val_accuracy"]}
            if kind != "lexical":
                heads = 10 if kind == "ensemble" else 1
                spe = result["seconds_per_epoch"]
                flop = head_flop_per_sample(len(POOLINGS) * DIM) * heads * result["train_size"] / spe
                steps = -(-result["train_size"] // 64)
                # Adam reads the weights, both moments and the gradient and writes three of them back:
                # 7 float32 passes over every weight at every step, whatever the arithmetic costs.
                adam = steps * 7 * 4 * heads * head_parameters(len(POOLINGS) * DIM) / bandwidth
                row.update(seconds_per_epoch=spe, samples_per_s=round(result["train_size"] / spe),
                           gflop_per_s=round(flop / 1e9, 1), flop_utilisation=round(flop / peak, 3),
                           adam_memory_bound_seconds=round(adam, 1),
                           matmul_bound_seconds=round(head_flop_per_sample(len(POOLINGS) * DIM) * heads
                                                      * result["train_size"] / peak, 1))
            else:
                row.update(lexical=result["lexical"])
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
            write(rows, peak, bandwidth)


def head_parameters(dim: int, hidden=(256, 128, 64)) -> int:
    sizes = [dim, *hidden, 1]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])) + 2 * sum(hidden)  # + BatchNorm's scale, shift


def write(rows: list[dict], peak: float, bandwidth: float) -> None:
    """Into results/scale.json, replacing earlier runs of the same size and kind."""
    path = RESULTS / "scale.json"
    before = json.loads(path.read_text()) if path.exists() else {"runs": []}
    old = [{"matmul_peak_gflop_per_s": before.get("matmul_peak_gflop_per_s"),
            "memory_gb_per_s": before.get("memory_gb_per_s"), **r} for r in before["runs"]]
    for r in rows:  # the rates each run's utilisation and bounds were computed against
        r.setdefault("matmul_peak_gflop_per_s", round(peak / 1e9, 1))
        r.setdefault("memory_gb_per_s", round(bandwidth / 1e9, 1))
    new = {(r["reviews"], r["run"]) for r in rows}
    runs = [r for r in old if (r["reviews"], r["run"]) not in new] + rows
    out = {"script": "benchmarks/train/scale.py", "synthetic": True, "matmul_peak_gflop_per_s": round(peak / 1e9, 1),
           "memory_gb_per_s": round(bandwidth / 1e9, 1), "machine": {"cpu": cpu_model(), "cores": os.cpu_count()},
           "date": time.strftime("%Y-%m-%d"), "runs": sorted(runs, key=lambda r: (r["reviews"], r["run"]))}
    path.write_text(json.dumps(out, indent=2) + "\n")


def memory_bandwidth(size: int = 2**28) -> float:
    """Bytes/s of a large array copy, read plus write: what bounds Adam's update of many weights."""
    import numpy as np

    a, b = np.ones(size // 4, np.float32), np.empty(size // 4, np.float32)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t0)
    return 2 * size / best


if __name__ == "__main__":
    main()
