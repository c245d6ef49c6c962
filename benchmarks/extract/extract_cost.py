"""What each extraction option costs: our `extract` on the same N real reviews, all-MiniLM-L6-v2.

    python benchmarks/extract/extract_cost.py [--n 1000] [--repeats 3]

Options: 128 head (the seed's cut), 128 windows with stride 126 (side by side, so every token is
encoded once), 256 head+tail, 512 head, 512 head+tail, 512 windows with stride 510 (side by side)
and with the default stride 255 (half-overlapping windows); and 128 windows with the lexical
channel (--ngrams 3), with and without every window's own features (--segments). Pooling mean,max,cls throughout
(pooling is free next to the encoder).
Each run is end to end through `run_extract` (model loading and HDF5 writing included), best of
--repeats (default 3) with the options interleaved. Writes benchmarks/results/extract_cost.json.
Run it on a quiet machine.
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
from bench import cpu_model, ensure_encoder, review_file  # noqa: E402  (benchmarks/ is on sys.path)
from extract_throughput import ours  # noqa: E402

POOLINGS = ("mean", "max", "cls")
OPTIONS = {
    "128 head": dict(seq_len=128, truncation="head"),
    "128 windows, stride 126": dict(seq_len=128, windows=True, stride=126),
    "256 head+tail": dict(seq_len=256, truncation="head+tail"),
    "512 head": dict(seq_len=512, truncation="head"),
    "512 head+tail": dict(seq_len=512, truncation="head+tail"),
    "512 windows, stride 510": dict(seq_len=512, windows=True, stride=510),
    "512 windows, stride 255": dict(seq_len=512, windows=True, stride=255),
    # The lexical channel on top of the best setting: what --ngrams 3 adds to stage one.
    "128 windows, stride 126, n-grams 3": dict(seq_len=128, windows=True, stride=126, ngrams=3),
    # ... and every window's features kept beside the review's (--segments).
    "128 windows, stride 126, n-grams 3, segments": dict(seq_len=128, windows=True, stride=126, ngrams=3,
                                                         segments=True),
}


def _cache_bytes(cache: Path) -> int:
    return sum(f.stat().st_size for f in cache.iterdir())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", help="options to run, ';'-separated labels; the run is then added to "
                                       "extract_cost.json's only_runs, leaving the full table alone")
    args = parser.parse_args()
    options = {k: v for k, v in OPTIONS.items() if not args.only or k in args.only.split(";")}

    import tensorflow as tf

    from mlbert.extract.encoders import handles
    from mlbert.extract import runtimes
    from mlbert.extract.features.featurizer import Featurizer, segments_of
    from mlbert.extract.features.settings import FeatureSettings

    reviews, work, jsonl = review_file(args.n, "extract-cost-")
    folder = ensure_encoder("minilm")
    probe = Featurizer(handles.load(str(folder / "preprocessor"), "--preprocessor", "preprocessor"),
                       runtimes.load("tensorflow", "fp32", str(folder / "encoder")), FeatureSettings())
    values, lengths = probe.tokenize(reviews.texts)
    best = {label: float("inf") for label in options}
    for r in range(args.repeats):  # options interleaved, so a slow spell of the machine hits several, not one twice
        for i, (label, option) in enumerate(options.items()):
            seconds = ours(folder, jsonl, work / f"cache-{i}-{r}", {**option, "poolings": POOLINGS})
            best[label] = min(best[label], seconds)
            print(f"{label}: {seconds:.1f} s", file=sys.stderr, flush=True)
    rows = []
    for label, option in options.items():
        settings = FeatureSettings(**option, poolings=POOLINGS)
        segments, _ = segments_of(tf.RaggedTensor.from_row_lengths(values, lengths), settings)
        row = {"option": label, "settings": settings.to_dict(), "reviews": len(reviews),
               "sequences_per_review": round(int(segments.nrows()) / len(reviews), 3),
               "tokens_per_review": round((int(segments.row_lengths().numpy().sum()) + 2 * int(segments.nrows()))
                                          / len(reviews), 1),
               "seconds": round(best[label], 2), "reviews_per_s": round(len(reviews) / best[label], 1),
               "cache_bytes_per_review": round(_cache_bytes(work / f"cache-{list(options).index(label)}-0")
                                               / len(reviews))}
        rows.append(row)
    payload = {"encoder": "all-MiniLM-L6-v2", "repeats": args.repeats, "results": rows,
               "review_tokens_mean": round(float(lengths.mean()), 1),
               "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                           "gpu": bool(tf.config.list_physical_devices("GPU"))},
               "command": "python benchmarks/extract/extract_cost.py " + " ".join(sys.argv[1:]),
               "date": time.strftime("%Y-%m-%d")}
    path = ROOT / "benchmarks" / "results" / "extract_cost.json"
    if args.only:
        full = json.loads(path.read_text()) if path.exists() else {}
        payload = {**full, "only_runs": [*full.get("only_runs", []), payload]}
    else:
        payload["only_runs"] = json.loads(path.read_text()).get("only_runs", []) if path.exists() else []
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
