"""How to quantise the encoder to int8: calibration size and NNCF's optional algorithms, chosen by
the pooled features' fidelity to fp32 and by the seconds quantisation adds to every new cache.

    python benchmarks/precision/int8_calibration.py [--n 200]

all-MiniLM-L6-v2 imported, 128-token windows with stride 126. Calibration texts are the first
reviews of the IMDB *train* split (seeded order); fidelity is measured on the next N train reviews,
so no test review is read. No labels are used: the criterion is the mean-pooled features' cosine
to and largest absolute difference from TensorFlow fp32, per review.
Variants: calibration reviews 32 / 64 / 128 / 256; NNCF's transformer preset as it is (SmoothQuant
and fast bias correction on) or without SmoothQuant, or without both.
Writes benchmarks/results/int8_calibration.json.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import SHARED, cpu_model, ensure_encoder, int8_runtime  # noqa: E402  (benchmarks/ is on sys.path)

VARIANTS = [  # (calibration reviews, SmoothQuant, bias correction)
    (256, True, True), (64, True, True), (256, False, True), (64, False, True),
    (32, False, False), (64, False, False), (128, False, False), (256, False, False)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()

    import nncf
    import numpy as np
    import openvino as ov
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, AdvancedSmoothQuantParameters

    from mlbert.data.sources import read_source
    from mlbert.extract.encoders import handles
    from mlbert.extract import runtimes
    from mlbert.extract.runtimes import openvino_runtime
    from mlbert.extract.features.featurizer import Featurizer
    from mlbert.extract.features.settings import FeatureSettings

    folder = ensure_encoder("minilm")
    most = max(v[0] for v in VARIANTS)
    train = read_source(str(SHARED / "data/imdb/aclImdb_v1.tar.gz"), ["train"], seed=0, limit=most + args.n)
    texts = train["train"].texts
    calibration, held = texts[:most], texts[most:most + args.n]
    settings = FeatureSettings(seq_len=128, windows=True, stride=126, poolings=("mean",))
    pre = handles.load(str(folder / "preprocessor"), "--preprocessor", "preprocessor")
    enc = runtimes.load("tensorflow", "fp32", str(folder / "encoder"))
    fp32 = Featurizer(pre, enc, settings)
    reference = fp32.features(held)["mean"].reshape(len(held), -1).astype(np.float64)
    rows = []
    for reviews, smooth_quant, bias_correction in VARIANTS:
        batches = fp32.packed_batches(calibration[:reviews])
        model = ov.convert_model(str(folder / "encoder"))
        advanced = AdvancedQuantizationParameters(
            smooth_quant_alphas=AdvancedSmoothQuantParameters() if smooth_quant else
            AdvancedSmoothQuantParameters(matmul=-1), disable_bias_correction=not bias_correction)
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):
            quantized = nncf.quantize(model, nncf.Dataset(batches), model_type=nncf.ModelType.TRANSFORMER,
                                      subset_size=len(batches), advanced_parameters=advanced)
        seconds = time.perf_counter() - t0
        ir = Path(tempfile.mkdtemp())
        ov.save_model(quantized, str(ir / openvino_runtime.IR_XML), compress_to_fp16=False)
        out = Featurizer(pre, int8_runtime(ir), settings).features(held)["mean"]
        out = out.reshape(len(held), -1).astype(np.float64)
        cos = (reference * out).sum(1) / (np.linalg.norm(reference, axis=1) * np.linalg.norm(out, axis=1))
        rows.append({"calibration_reviews": reviews, "calibration_batches": len(batches),
                     "smooth_quant": smooth_quant, "bias_correction": bias_correction,
                     "quantize_seconds": round(seconds, 1), "cosine_mean": round(float(cos.mean()), 5),
                     "cosine_min": round(float(cos.min()), 5),
                     "max_abs_diff": round(float(np.abs(reference - out).max()), 3)})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    result = {"held_out_reviews": args.n, "data": "IMDB train split (calibration: the first reviews; "
              "fidelity: the next ones)", "encoder": "all-MiniLM-L6-v2 (imported)",
              "settings": "seq_len 128, windows, stride 126, mean pooling", "variants": rows,
              "versions": {"openvino": ov.__version__, "nncf": nncf.__version__},
              "cpu": cpu_model(), "date": time.strftime("%Y-%m-%d"),
              "command": "python benchmarks/precision/int8_calibration.py " + " ".join(sys.argv[1:])}
    out = ROOT / "benchmarks" / "results" / "int8_calibration.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
