"""`extract --precision fp32|bf16|int8` end to end, side by side on the same real reviews.

    python benchmarks/precision/precision_speed.py [--n 2000] [--repeats 3] [--configs windows,head]

On the first N IMDB test reviews (seeded order), all-MiniLM-L6-v2 imported, for each config
(windows: 128-token windows, stride 126, mean+max+[CLS], the best IMDB setting; head: the first
128 tokens, mean pooling) and each precision, `mlbert.extract` into a fresh cache folder, in one
process after an untimed warm-up of each. Rounds alternate the precisions, so the machine's drift
(up to 1.7x here) falls on all alike. Per run:
- wall: the whole call, model loading and HDF5 writing included: what a user waits for a new cache
  of N reviews. int8 runs twice per round: `int8` with the quantised encoder kept on the machine
  from an earlier run (extract/int8/store.py: every int8 cache but the first of an encoder
  and --seq-len), and `int8-cold` with an empty store, so quantising (conversion and calibration on
  the built-in corpus) is included: the first int8 cache of an encoder on a machine;
- encode: the seconds extract reports for the split (reading, tokenising, encoding, pooling and
  writing shards): what every further review costs once the models are loaded and quantised.
Reported: reviews/s (median and best), the median speed-up over fp32 within a round, and model
FLOP utilisation (encoder matmul and attention FLOPs of the real tokens per second) against the
peak of a large matmul in that precision and runtime, measured just before each run (fp32:
TensorFlow; bf16 and int8: OpenVINO, int8 as u8 x i8).
Writes benchmarks/results/precision_speed.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import ENCODERS, cpu_model, encoder_flops, ensure_encoder, review_file  # noqa: E402  (benchmarks/ is on sys.path)

CONFIGS = {"windows": dict(seq_len=128, windows=True, stride=126, pooling="mean,max,cls"),
           "head": dict(seq_len=128, truncation="head", pooling="mean")}


def matmul_peak(precision: str, size: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of a size x size matmul in the runtime that runs this precision: TensorFlow for fp32
    (4096 x 4096, as extract_throughput.py measures it); OpenVINO for bf16 and for int8 (u8 x i8, the
    kind NNCF's quantised encoder runs)."""
    if precision == "fp32":
        import tensorflow as tf

        from bench import matmul_peak as tensorflow_peak

        return tensorflow_peak(tf)
    import numpy as np
    import openvino as ov
    import openvino.opset13 as ops

    param = ops.parameter([size, size], np.float32, name="x")
    x, w = param, ops.constant(np.random.default_rng(0).standard_normal((size, size)).astype(np.float32))
    if precision == "int8":
        x = ops.fake_quantize(x, np.float32(0), np.float32(4), np.float32(0), np.float32(4), 256)
        w = ops.fake_quantize(w, np.float32(-4), np.float32(4), np.float32(-4), np.float32(4), 255)
    config = {"INFERENCE_NUM_THREADS": os.cpu_count() or 1,
              "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32"}
    compiled = ov.Core().compile_model(ov.Model([ops.matmul(x, w, False, True)], [param]), "CPU", config)
    request = compiled.create_infer_request()
    a = np.abs(np.random.default_rng(1).standard_normal((size, size))).astype(np.float32)
    request.infer({0: a})
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        request.infer({0: a})
        best = min(best, time.perf_counter() - t0)
    return 2 * size ** 3 / best


def run_extract(folder: Path, jsonl: Path, out: Path, config: dict, precision: str) -> tuple[float, float]:
    import mlbert

    kept = os.environ["MLBERT_CACHE_DIR"]
    if precision == "int8-cold":  # an empty store of kept int8 encoders: this run quantises
        os.environ["MLBERT_CACHE_DIR"] = str(out.parent / f"{out.name}-store")
    try:
        t0 = time.perf_counter()
        summary = mlbert.extract(jsonl, out, encoder=str(folder / "encoder"),
                                 preprocessor=str(folder / "preprocessor"), splits=["test"],
                                 precision=precision.removesuffix("-cold"), **config)
        wall = time.perf_counter() - t0
    finally:
        os.environ["MLBERT_CACHE_DIR"] = kept
    shutil.rmtree(out.parent / f"{out.name}-store", ignore_errors=True)
    shutil.rmtree(out)  # ours, just made: keeps the disk from filling over the rounds
    return wall, summary["splits"]["test"]["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--configs", default="windows,head")
    parser.add_argument("--precisions", default="fp32,bf16,int8,int8-cold")
    args = parser.parse_args()

    import tensorflow as tf

    from mlbert.extract.encoders import handles
    from mlbert.extract.encoders.bert_model import BertConfig
    from mlbert.extract import runtimes
    from mlbert.extract.features.featurizer import Featurizer, segments_of
    from mlbert.extract.features.settings import FeatureSettings

    precisions = args.precisions.split(",")
    folder = ensure_encoder("minilm")
    cfg = BertConfig.from_json(ENCODERS["minilm"][0] / "config.json")
    reviews, work, jsonl = review_file(args.n, "precision-speed-")
    os.environ["MLBERT_CACHE_DIR"] = str(work / "store")  # not the user's: the warm-up fills it
    warm = work / "warm.jsonl"
    warm.write_text("".join(jsonl.read_text().splitlines(keepends=True)[:100]))
    pre = handles.load(str(folder / "preprocessor"), "--preprocessor", "preprocessor")
    enc = runtimes.load("tensorflow", "fp32", str(folder / "encoder"))
    peaks = {p: [] for p in precisions}
    results = []
    for key in args.configs.split(","):
        config = CONFIGS[key]
        settings = FeatureSettings(seq_len=128, windows=config.get("windows", False), stride=config.get("stride"))
        values, lengths = Featurizer(pre, enc, settings).tokenize(reviews.texts)
        segments, _ = segments_of(tf.RaggedTensor.from_row_lengths(values, lengths), settings)
        real = segments.row_lengths().numpy() + 2  # [CLS] and [SEP]
        flops = encoder_flops(real, cfg.num_hidden_layers, cfg.hidden_size, cfg.intermediate_size)
        for precision in precisions:  # untimed: a process's first call pays one-time costs; int8 is kept
            run_extract(folder, warm, work / f"warm-{key}-{precision}", config, precision)
        runs = {p: [] for p in precisions}
        for repeat in range(args.repeats):
            for precision in precisions:
                peak = matmul_peak(precision.removesuffix("-cold"))
                peaks[precision].append(peak)
                wall, encode = run_extract(folder, jsonl, work / f"cache-{key}-{precision}-{repeat}", config,
                                           precision)
                runs[precision].append({"wall_seconds": round(wall, 2), "encode_seconds": round(encode, 2),
                                        "peak_gflops": round(peak / 1e9, 1),
                                        "mfu_wall": round(flops / wall / peak, 3),
                                        "mfu_encode": round(flops / encode / peak, 3)})
                print(json.dumps({"config": key, "precision": precision, "repeat": repeat, **runs[precision][-1]}),
                      file=sys.stderr, flush=True)
        row = {"config": key, **config, "reviews": len(reviews), "real_tokens": int(real.sum()),
               "encoder_gflop": round(flops / 1e9, 1), "precisions": {}}
        for precision in precisions:
            r = runs[precision]
            entry = {"wall_reviews_per_s_median": round(len(reviews) / median(x["wall_seconds"] for x in r), 1),
                     "wall_reviews_per_s_best": round(len(reviews) / min(x["wall_seconds"] for x in r), 1),
                     "encode_reviews_per_s_median": round(len(reviews) / median(x["encode_seconds"] for x in r), 1),
                     "encode_reviews_per_s_best": round(len(reviews) / min(x["encode_seconds"] for x in r), 1),
                     "mfu_wall_median": median(x["mfu_wall"] for x in r),
                     "mfu_encode_median": median(x["mfu_encode"] for x in r), "runs": r}
            if "fp32" in runs:
                for kind in ("wall", "encode"):
                    entry[f"{kind}_speedup_vs_fp32_median"] = round(median(
                        a[f"{kind}_seconds"] / b[f"{kind}_seconds"] for a, b in zip(runs["fp32"], r)), 2)
            row["precisions"][precision] = entry
        results.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "precisions"}), file=sys.stderr, flush=True)
    import openvino

    payload = {
        "reviews": args.n, "data": "IMDB test split, first reviews in the seeded order",
        "encoder": "all-MiniLM-L6-v2 (imported)", "repeats": args.repeats, "results": results,
        "matmul_peak_gflops": {p: {"max": round(max(v) / 1e9, 1), "min": round(min(v) / 1e9, 1)}
                               for p, v in peaks.items()},
        "versions": {"tensorflow": tf.__version__, "openvino": openvino.__version__},
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count()},
        "command": "python benchmarks/precision/precision_speed.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
    }
    shutil.rmtree(work, ignore_errors=True)
    out = ROOT / "benchmarks" / "results" / "precision_speed.json"
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
