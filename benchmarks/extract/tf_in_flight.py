"""How many batches should the TensorFlow fp32 encoder run at once?

    python benchmarks/extract/tf_in_flight.py [--n 1000] [--rounds 3] [--configs head,windows] [--in-flight 1,2]

The fp32 featurizer (all-MiniLM-L6-v2 imported) on the first N IMDB test reviews (seeded order),
Featurizer.features timed (tokenising, encoding, pooling; no model loading), with `in_flight`
batches encoded at once, each graph (packing, encoder, pooling) in its own thread
(Featurizer._encoded). Rounds alternate the variants, so that the machine's drift falls on all
alike. Reported per config: best and median seconds, the median speed-up over one batch at a time
within a round, and the largest absolute difference of the features from one batch at a time's.
Writes benchmarks/results/tf_in_flight.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import compare, cpu_model, ensure_encoder, review_file  # noqa: E402  (benchmarks/ is on sys.path)

CONFIGS = {"head": dict(seq_len=128, truncation="head", poolings=("mean",)),
           "windows": dict(seq_len=128, windows=True, stride=126, poolings=("mean", "max", "cls"))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--configs", default="head,windows")
    parser.add_argument("--in-flight", default="1,2")
    args = parser.parse_args()

    import tensorflow as tf

    from mlbert.extract.encoders import handles
    from mlbert.extract import runtimes
    from mlbert.extract.features.featurizer import Featurizer
    from mlbert.extract.runtimes.tensorflow_runtime import TensorFlowRuntime
    from mlbert.extract.features.settings import FeatureSettings

    folder = ensure_encoder("minilm")
    reviews, _, _ = review_file(args.n, "mlbert-in-flight-")
    texts = list(reviews.texts)
    pre = handles.load(str(folder / "preprocessor"), "--preprocessor", "preprocessor")
    encoder = runtimes.load("tensorflow", "fp32", str(folder / "encoder"))
    counts = [int(c) for c in args.in_flight.split(",")]
    results = []
    for config in args.configs.split(","):
        settings = FeatureSettings(**CONFIGS[config])
        variants = {}
        for count in counts:
            variants[count] = Featurizer(pre, TensorFlowRuntime(encoder.model, in_flight=count), settings)
        rows = compare(variants, texts, args.rounds, settings.poolings, counts[0], "in_flight", str(counts[0]))
        results.append({"config": config, "settings": settings.to_dict(), "rows": rows})
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    result = {"reviews": args.n, "data": "IMDB test split, first reviews in the seeded order",
              "encoder": "all-MiniLM-L6-v2 (imported), TensorFlow fp32", "rounds": args.rounds,
              "results": results, "versions": {"tensorflow": tf.__version__}, "cpu": cpu_model(),
              "cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d"),
              "command": "python benchmarks/extract/tf_in_flight.py " + " ".join(sys.argv[1:])}
    out = ROOT / "benchmarks" / "results" / "tf_in_flight.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
