"""Stage one on Beam's DirectRunner against the local path, on the same real reviews.

    python benchmarks/extract/beam_vs_local.py [--n 2000] [--model minilm] [--workers 2]

Both run through `mlbert.extract` on the first N test reviews of ../shared/data/imdb (seeded order)
with the imported encoder at seq_len 128; writes benchmarks/results/beam_vs_local.json, including
the largest difference between the two caches' features.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import SHARED, cpu_model, ensure_encoder  # noqa: E402  (benchmarks/ is on sys.path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    import numpy as np

    import mlbert
    from mlbert.extract.cache.read import read_split

    folder = ensure_encoder(args.model)
    data = str(SHARED / "data/imdb/aclImdb_v1.tar.gz")
    work = Path(tempfile.mkdtemp(prefix="beam-bench-"))
    common = dict(data=data, encoder=str(folder / "encoder"), preprocessor=str(folder / "preprocessor"),
                  splits=["test"], seq_len=128, limit=args.n, shard_size=500)
    timings = {}
    for name, extra in (("local", {}), ("beam", {"runner": "beam", "beam_option": (
            f"direct_num_workers={args.workers}", "direct_running_mode=multi_processing")})):
        t0 = time.perf_counter()
        mlbert.extract(out=work / name, **common, **extra)
        timings[name] = time.perf_counter() - t0
    local = read_split(work / "local", "test")
    beam = read_split(work / "beam", "test")
    assert local[2] == beam[2]
    result = {
        "reviews": args.n, "encoder": args.model, "seq_len": 128,
        "local_seconds": round(timings["local"], 1), "beam_seconds": round(timings["beam"], 1),
        "local_reviews_per_s": round(args.n / timings["local"], 1),
        "beam_reviews_per_s": round(args.n / timings["beam"], 1),
        "beam_workers": args.workers, "runner": "DirectRunner, multi_processing",
        "max_abs_feature_difference": float(np.abs(local[0]["mean"] - beam[0]["mean"]).max()),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count()},
        "command": "python benchmarks/extract/beam_vs_local.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
    }
    (ROOT / "benchmarks" / "results" / "beam_vs_local.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
