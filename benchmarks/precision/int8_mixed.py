"""Which matmuls to leave out of int8 for features closer to fp32, and at what speed?

    python benchmarks/precision/int8_mixed.py [--n 200]

The int8 encoder's features differ from fp32's through its int8 matmuls (int8_float_ops.json:
the float ops' precision does not matter). This quantises the encoder as `extract` does (recipe,
built-in corpus), except that NNCF's ignored scope leaves some matmuls in floating point (bf16,
OpenVINO's default on this CPU), and measures each variant against TensorFlow fp32 on N IMDB
*train* reviews after the first 64 (no test review, no labels), 128-token windows, stride 126:
per pooling the mean and lowest cosine and the largest absolute difference, and the best of two
alternating timed runs of Featurizer.features. Variants (run when extract quantised every matmul;
its recipe now is first_last_ffn_down, recipe.float_matmuls) (all-MiniLM-L6-v2: six layers, each with
a fused QKV, an attention output, an FFN up and an FFN down matmul):
- all: every matmul int8 (what extract does);
- ffn_down: the six FFN down projections (their inputs are GELU outputs, where BERT quantisation
  is known to lose most) kept in floating point: a third of the encoder's dense FLOPs;
- first_last_ffn_down: only the first and the last layer's.
Writes benchmarks/results/int8_mixed.json.
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
from bench import SHARED, alternate, cpu_model, ensure_encoder, fidelity, int8_runtime  # noqa: E402  (the script's folder)

POOLINGS = ("mean", "max", "cls")


# The scripts that measured the first recipe (every matmul int8) keep measuring it, so their committed
# results stay reproducible: they pass float_names=[] to runtime.quantize and record this.
ALL_INT8_RECIPE = ("nncf.quantize transformer, no SmoothQuant, no bias correction, 192 sequences, "
                   "every matmul int8 (recipe v1)")


def held_out(n: int):
    """What int8_mixed.py and int8_float_ops.py measure on: (encoder folder, preprocessor, fp32
    featurizer, the N IMDB train reviews after the first 64, their fp32 features, calibration
    batches as extract cuts them)."""
    from mlbert.data.sources import read_source
    from mlbert.extract.encoders import handles
    from mlbert.extract import runtimes
    from mlbert.extract.int8 import calibration as int8_calibration
    from mlbert.extract.features.featurizer import Featurizer
    from mlbert.extract.features.settings import FeatureSettings

    folder = ensure_encoder("minilm")
    texts = read_source(str(SHARED / "data/imdb/aclImdb_v1.tar.gz"), ["train"], seed=0,
                        limit=64 + n)["train"].texts[64:]
    pre = handles.load(str(folder / "preprocessor"), "--preprocessor", "preprocessor")
    enc = runtimes.load("tensorflow", "fp32", str(folder / "encoder"))
    fp32 = Featurizer(pre, enc, FeatureSettings(seq_len=128, windows=True, stride=126, poolings=POOLINGS))
    calibration = fp32.calibration_batches(int8_calibration.texts(), int8_calibration.SEQUENCES)
    return folder, pre, fp32, texts, fp32.features(texts), calibration


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()

    import nncf
    import openvino as ov

    from mlbert.extract.features.featurizer import Featurizer
    from mlbert.extract.int8 import recipe

    folder, pre, fp32, texts, reference, calibration = held_out(args.n)
    settings = fp32.settings

    down = recipe.ffn_down_projections(ov.convert_model(str(folder / "encoder")))
    variants = {"all": [], "ffn_down": down, "first_last_ffn_down": [down[0], down[-1]]}
    featurizers = {}
    for name, ignored in variants.items():
        ir = recipe.quantize(str(folder / "encoder"), calibration, Path(tempfile.mkdtemp()), float_names=ignored)
        featurizers[name] = Featurizer(pre, int8_runtime(ir), settings)
    seconds, outputs = alternate(featurizers, texts)
    best = {name: min(s) for name, s in seconds.items()}
    rows = []
    for name, ignored in variants.items():
        row = {"variant": name, "float_matmuls": ignored, "best_seconds": round(best[name], 2),
               "speed_vs_all": round(best["all"] / best[name], 3)}
        row["fidelity"] = fidelity(reference, outputs[name], POOLINGS)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    result = {"reviews": args.n, "data": "IMDB train split, after the first 64 reviews (seeded order)",
              "encoder": "all-MiniLM-L6-v2 (imported)", "settings": "seq_len 128, windows, stride 126",
              "recipe": ALL_INT8_RECIPE + ", variants as named", "rows": rows,
              "versions": {"openvino": ov.__version__, "nncf": nncf.__version__}, "cpu": cpu_model(),
              "date": time.strftime("%Y-%m-%d"), "command": "python benchmarks/precision/int8_mixed.py " + " ".join(sys.argv[1:])}
    out = ROOT / "benchmarks" / "results" / "int8_mixed.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
