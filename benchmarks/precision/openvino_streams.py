"""How the featurizer drives the OpenVINO encoder: one batch at a time, or a batch per stream?

    python benchmarks/precision/openvino_streams.py [--n 2000] [--rounds 3] [--configs head,windows]

The int8 encoder (extract's recipe, quantised here on the built-in corpus; all-MiniLM-L6-v2
imported) on the first N IMDB test reviews (seeded order), Featurizer.features timed (tokenising,
encoding, pooling; no model loading), rounds alternating the variants so that the machine's drift
falls on all alike:
- `one batch, copied`: OpenVINO's latency mode (every core on one batch) and one infer request, the
  outputs copied into TensorFlow by tf.constant: the path before OpenVinoEncoder.stream, except
  that the stream packs the next batch while the encoder runs where that path packed in between;
- `one batch`: the same, the outputs handed to TensorFlow in place (featurizer._in_place);
- `batch per stream`: throughput mode, one request per stream (2 on 2 cores) kept busy while
  TensorFlow packs and pools: what extract, predict and load() do now.
Reported per config: the best and median seconds, the median speed-up over `one batch, copied`
within a round, and the largest absolute difference of the features from that variant's.
Writes benchmarks/results/openvino_streams.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import compare, cpu_model, ensure_encoder, int8_runtime, review_file  # noqa: E402  (benchmarks/ is on sys.path)

CONFIGS = {"head": dict(seq_len=128, truncation="head", poolings=("mean",)),
           "windows": dict(seq_len=128, windows=True, stride=126, poolings=("mean", "max", "cls"))}
BEFORE = "one batch, copied"


class Copied:
    """A featurizer whose outputs reach TensorFlow through tf.constant, as before _in_place."""

    def __init__(self, featurizer):
        self.featurizer = featurizer

    def features(self, texts):
        import tensorflow as tf

        from mlbert.extract.features import featurizer as module

        with mock.patch.object(module, "_in_place", tf.constant):
            return self.featurizer.features(texts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--configs", default="head,windows")
    args = parser.parse_args()

    import openvino as ov

    from mlbert.extract.encoders import handles
    from mlbert.extract import runtimes
    from mlbert.extract.int8 import calibration, recipe
    from mlbert.extract.runtimes import openvino_runtime
    from mlbert.extract.features.featurizer import Featurizer
    from mlbert.extract.features.settings import FeatureSettings

    folder = ensure_encoder("minilm")
    reviews, _, _ = review_file(args.n, "mlbert-streams-")
    texts = list(reviews.texts)
    pre = handles.load(str(folder / "preprocessor"), "--preprocessor", "preprocessor")
    tf_encoder = runtimes.load("tensorflow", "fp32", str(folder / "encoder"))
    calibrate = Featurizer(pre, tf_encoder, FeatureSettings(seq_len=128))
    ir = Path(tempfile.mkdtemp(prefix="mlbert-streams-"))
    recipe.quantize(str(folder / "encoder"), calibrate.calibration_batches(
        calibration.texts(), calibration.SEQUENCES), ir)

    def latency_encoder():
        core = ov.Core()
        model = core.read_model(str(ir / openvino_runtime.IR_XML))
        compiled = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": os.cpu_count() or 1,
                                                     "PERFORMANCE_HINT": "LATENCY"})
        return openvino_runtime.OpenVinoRuntime(compiled, openvino_runtime._layer_count(model), "int8")

    results = []
    for config in args.configs.split(","):
        settings = FeatureSettings(**CONFIGS[config])
        variants = {BEFORE: Copied(Featurizer(pre, latency_encoder(), settings)),
                    "one batch": Featurizer(pre, latency_encoder(), settings),
                    "batch per stream": Featurizer(pre, int8_runtime(ir), settings)}
        rows = compare(variants, texts, args.rounds, settings.poolings, BEFORE, "variant", "before")
        for row in rows:
            variant = variants[row["variant"]]
            row["infer_requests"] = len(getattr(variant, "featurizer", variant).encoder.requests)
        results.append({"config": config, "settings": settings.to_dict(), "rows": rows})
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    result = {"reviews": args.n, "data": "IMDB test split, first reviews in the seeded order",
              "encoder": "all-MiniLM-L6-v2 (imported), int8 (extract's recipe)", "rounds": args.rounds,
              "results": results, "versions": {"openvino": ov.__version__}, "cpu": cpu_model(),
              "cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d"),
              "command": "python benchmarks/precision/openvino_streams.py " + " ".join(sys.argv[1:])}
    out = ROOT / "benchmarks" / "results" / "openvino_streams.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
