"""Does the fp32 encoder run faster at 128 tokens with another batch size?

    python benchmarks/extract/batch_budget.py [--n 600] [--sizes 8,16,32,64] [--repeats 3]

`extract` batches a fixed token budget: --batch-size sequences of 128 tokens (default 32). At
128-token heads nearly every sequence is full, so the seed-style baseline's padding cannot be
saved (benchmarks/extract/extract_throughput.py) and the only lever left in our path is how the encoder
is called. This times Featurizer.features (tokenising, encoding, pooling; TensorFlow fp32,
all-MiniLM-L6-v2 imported) on the first N IMDB test reviews (seeded order) at 128 head, mean
pooling, for each batch size, the sizes alternating, after an untimed warm-up of each.
Writes benchmarks/results/batch_budget.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import cpu_model, ensure_encoder, review_file  # noqa: E402  (benchmarks/ is on sys.path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--sizes", default="8,16,32,64")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import tensorflow as tf

    from mlbert.extract.encoders import handles
    from mlbert.extract import runtimes
    from mlbert.extract.features.featurizer import Featurizer
    from mlbert.extract.features.settings import FeatureSettings

    folder = ensure_encoder("minilm")
    texts = review_file(args.n, "batch-budget-")[0].texts
    pre = handles.load(str(folder / "preprocessor"), "--preprocessor", "preprocessor")
    enc = runtimes.load("tensorflow", "fp32", str(folder / "encoder"))
    settings = FeatureSettings(seq_len=128, poolings=("mean",))
    sizes = [int(s) for s in args.sizes.split(",")]
    featurizers = {size: Featurizer(pre, enc, settings, batch_size=size) for size in sizes}
    for featurizer in featurizers.values():
        featurizer.features(texts[:200])
    seconds = {size: [] for size in sizes}
    for _ in range(args.repeats):
        for size, featurizer in featurizers.items():
            t0 = time.perf_counter()
            featurizer.features(texts)
            seconds[size].append(round(time.perf_counter() - t0, 2))
            print(json.dumps({"batch_size": size, "seconds": seconds[size][-1]}), file=sys.stderr, flush=True)
    default = 32 if 32 in sizes else sizes[0]
    rows = [{"batch_size": size, "seconds": seconds[size],
             "reviews_per_s_median": round(len(texts) / median(seconds[size]), 1),
             "reviews_per_s_best": round(len(texts) / min(seconds[size]), 1),
             f"speedup_vs_{default}_median": round(median(a / b for a, b in zip(seconds[default], seconds[size])), 3)}
            for size in sizes]
    result = {"reviews": len(texts), "data": "IMDB test split, first reviews in the seeded order",
              "encoder": "all-MiniLM-L6-v2 (imported)", "settings": "seq_len 128, head, mean pooling, fp32",
              "rows": rows, "versions": {"tensorflow": tf.__version__}, "cpu": cpu_model(),
              "date": time.strftime("%Y-%m-%d"),
              "command": "python benchmarks/extract/batch_budget.py " + " ".join(sys.argv[1:])}
    out = ROOT / "benchmarks" / "results" / "batch_budget.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
