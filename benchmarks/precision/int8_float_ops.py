"""Does the int8 encoder get closer to fp32 with its floating-point ops in fp32?

    python benchmarks/precision/int8_float_ops.py [--n 200]

OpenVINO runs the ops NNCF leaves unquantised (LayerNorm, softmax, GELU, ...) in bf16 on a CPU
that has it, which `extract --precision int8` keeps. This compiles the same quantised encoder (the
first recipe, every matmul int8, on the built-in corpus extract uses; all-MiniLM-L6-v2 imported) twice, with that default and
with INFERENCE_PRECISION_HINT f32, and measures each against TensorFlow fp32 on N IMDB *train*
reviews (after the first 64; no test review, no labels), 128-token windows with stride 126: per
pooling the mean and lowest cosine and the largest absolute difference, and the best of two
alternating timed runs. Writes benchmarks/results/int8_float_ops.json.
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
from bench import alternate, cpu_model, fidelity  # noqa: E402  (benchmarks/ is on sys.path)
from int8_mixed import ALL_INT8_RECIPE, POOLINGS, held_out  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()

    import openvino as ov

    from mlbert.extract.int8 import recipe
    from mlbert.extract.runtimes import openvino_runtime
    from mlbert.extract.features.featurizer import Featurizer

    folder, pre, fp32, texts, reference, calibration = held_out(args.n)
    settings = fp32.settings
    ir = Path(tempfile.mkdtemp())
    recipe.quantize(str(folder / "encoder"), calibration, ir, float_names=[])

    core = ov.Core()
    featurizers, hints = {}, {}
    for name, hint in (("default (bf16 float ops)", None), ("f32 float ops", "f32")):
        model = core.read_model(str(ir / openvino_runtime.IR_XML))
        config = {"INFERENCE_NUM_THREADS": os.cpu_count() or 1, "PERFORMANCE_HINT": "LATENCY"}
        if hint:
            config["INFERENCE_PRECISION_HINT"] = hint
        compiled = core.compile_model(model, "CPU", config)
        encoder = openvino_runtime.OpenVinoRuntime(compiled, openvino_runtime._layer_count(model), "int8")
        featurizers[name] = Featurizer(pre, encoder, settings)
        hints[name] = str(compiled.get_property("INFERENCE_PRECISION_HINT"))
    seconds, outputs = alternate(featurizers, texts)
    best = {name: min(s) for name, s in seconds.items()}
    rows = []
    for name, hint in hints.items():
        rows.append({"variant": name, "float_ops": hint, "best_seconds": round(best[name], 2),
                     "fidelity": fidelity(reference, outputs[name], POOLINGS)})
    result = {"reviews": args.n, "data": "IMDB train split, after the first 64 reviews (seeded order)",
              "encoder": "all-MiniLM-L6-v2 (imported)", "settings": "seq_len 128, windows, stride 126",
              "recipe": ALL_INT8_RECIPE, "rows": rows, "versions": {"openvino": ov.__version__},
              "cpu": cpu_model(), "date": time.strftime("%Y-%m-%d"),
              "command": "python benchmarks/precision/int8_float_ops.py " + " ".join(sys.argv[1:])}
    out = ROOT / "benchmarks" / "results" / "int8_float_ops.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
