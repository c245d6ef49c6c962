"""What the benchmark scripts share: where the data and models are, the encoders they import, the
installed command, the machine's CPU, feature fidelity, and the one timing loop (variants alternate,
round after round, so that the machine's drift falls on all alike). Scripts import it by name: their
folder is first on sys.path when they run."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent


SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))


ENCODERS = {
    "minilm": (SHARED / "models/all-MiniLM-L6-v2", []),
    "random": (SHARED / "models/bert_uncased_L-4_H-128_A-2-config-only", ["--random"]),
}


# SST-5's classes in their order (very negative .. very positive): every SST-5 extraction's --labels.
SST5_LABELS = "very negative,negative,neutral,positive,very positive"


MLBERT = str(Path(sys.executable).parent / "mlbert")  # the installed command (make's .venv has it)


def cli(*args: str) -> tuple[dict, float, str]:
    cmd = [MLBERT, *args, "--json"]
    shown = "mlbert " + " ".join(args)
    print(f"$ {shown}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, stdout=subprocess.PIPE, check=True, text=True, cwd=ROOT).stdout
    return json.loads(out), time.perf_counter() - t0, shown


RESULTS = ROOT / "benchmarks" / "results"


def runs_of(script: str) -> dict:
    """The runs a script has recorded in results/<script>.json, by key."""
    path = RESULTS / f"{script}.json"
    return json.loads(path.read_text())["runs"] if path.exists() else {}


def record_run(script: str, key: str, result: dict, source: str | None = None) -> None:
    """Keep one run in results/<script>.json (its flags are inside the run), written whole; source:
    the script's path in the repository (default benchmarks/<script>.py)."""
    runs = {**runs_of(script), key: result}
    path = RESULTS / f"{script}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"script": source or f"benchmarks/{script}.py", "runs": runs}, indent=2) + "\n")
    os.replace(tmp, path)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def ensure_encoder(name: str) -> Path:
    import mlbert

    folder = ROOT / "runs" / f"encoder-{name}"
    if not (folder / "encoder").exists():
        source, flags = ENCODERS[name]
        mlbert.import_encoder(source, folder, random="--random" in flags)
    return folder


def review_file(n: int, prefix: str):
    """The first n IMDB test reviews (seeded order), and the same as a JSONL file for `extract`."""
    from mlbert.data.sources.imdb import read_imdb

    reviews = read_imdb(SHARED / "data/imdb/aclImdb_v1.tar.gz", ["test"], limit=n)["test"]
    work = Path(tempfile.mkdtemp(prefix=prefix))
    jsonl = work / "reviews.jsonl"
    jsonl.write_text("".join(json.dumps({"text": t, "label": int(y), "split": "test"}) + "\n"
                             for t, y in zip(reviews.texts, reviews.labels)))
    return reviews, work, jsonl


def similarity(a, b) -> dict:
    import numpy as np

    a, b = a.astype(np.float64), b.astype(np.float64)
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)
    return {"max_abs_diff": float(np.abs(a - b).max()), "cosine_min": float(cos.min()),
            "cosine_mean": float(cos.mean())}


def fidelity(reference: dict, other: dict, poolings, digits: int = 3) -> dict:
    """{pooling: similarity of other's features to reference's, per text}, rounded for a JSON
    result: cosines to 5 decimals, the largest absolute difference to `digits`."""
    out = {}
    for pooling in poolings:
        n = len(reference[pooling])
        found = similarity(reference[pooling].reshape(n, -1), other[pooling].reshape(n, -1))
        out[pooling] = {"cosine_mean": round(found["cosine_mean"], 5), "cosine_min": round(found["cosine_min"], 5),
                        "max_abs_diff": round(found["max_abs_diff"], digits)}
    return out


def matmul_peak(tf, size: int = 4096, repeats: int = 3) -> float:
    a = tf.random.normal([size, size])
    b = tf.random.normal([size, size])
    tf.matmul(a, b).numpy()  # warm up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        tf.matmul(a, b).numpy()
        best = min(best, time.perf_counter() - t0)
    return 2 * size ** 3 / best


def encoder_flops(lengths, layers: int, hidden: int, intermediate: int) -> float:
    """Matmul and attention FLOPs of the encoder over sequences of the given real lengths."""
    import numpy as np
    n = np.asarray(lengths, np.float64)
    per_layer = 2 * n * (4 * hidden * hidden + 2 * hidden * intermediate) + 4 * n * n * hidden
    return float(layers * per_layer.sum())


def int8_runtime(ir_dir):
    """The int8 encoder quantised into ir_dir, on OpenVINO."""
    from mlbert.extract import runtimes

    return runtimes.load("openvino", "int8", "", ir_dir=ir_dir)


def alternate(featurizers: dict, texts: list[str], rounds: int = 2) -> tuple[dict, dict]:
    """Each featurizer on the same texts, alternating `rounds` times. Returns ({name: seconds per
    round}, {name: features})."""
    seconds, outputs = {name: [] for name in featurizers}, {}
    for _ in range(rounds):
        for name, featurizer in featurizers.items():
            t0 = time.perf_counter()
            outputs[name] = featurizer.features(texts)
            seconds[name].append(time.perf_counter() - t0)
            print(f"{name}: {seconds[name][-1]:.2f} s", file=sys.stderr, flush=True)
    return seconds, outputs


def timed_rows(seconds: dict, outputs: dict, poolings, base, name_key: str, base_label: str) -> list[dict]:
    """alternate()'s results per variant: best and median seconds, the median over rounds of
    `base`'s seconds over the variant's, and the largest absolute difference of its features from
    `base`'s."""
    import numpy as np

    return [{name_key: name, "seconds_best": round(min(s), 2), "seconds_median": round(median(s), 2),
             f"speedup_vs_{base_label}_median": round(median(b / x for b, x in zip(seconds[base], s)), 3),
             f"max_abs_diff_vs_{base_label}": max(float(np.abs(outputs[name][p] - outputs[base][p]).max())
                                                  for p in poolings),
             "seconds": [round(x, 2) for x in s]} for name, s in seconds.items()]


def compare(variants: dict, texts: list[str], rounds: int, poolings, base, name_key: str,
            base_label: str) -> list[dict]:
    """Each variant warmed up on the first 64 texts (a first call's one-time costs stay out of the
    timed runs), then alternate() and timed_rows()."""
    for variant in variants.values():
        variant.features(texts[:64])
    seconds, outputs = alternate(variants, texts, rounds)
    return timed_rows(seconds, outputs, poolings, base, name_key, base_label)
