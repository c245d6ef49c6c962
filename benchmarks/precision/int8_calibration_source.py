"""What the int8 encoder is calibrated on: the user's own reviews, or the built-in corpus.

    python benchmarks/precision/int8_calibration_source.py [--n 200]

The built-in corpus (extract/encoders/calibration.txt, about 3,900 words written for this project)
makes the quantised encoder independent of the data, so it can be made once per encoder and kept
(extract/int8/store.py). This checks that it costs no fidelity. all-MiniLM-L6-v2
imported, the first recipe of `extract --precision int8` (runtime.quantize, at most 192 sequences,
every matmul int8), with which the committed results were measured.
Calibration sources:
- imdb: the first IMDB *train* reviews (seeded order), cut as the cache's settings say, as extract
  did before the corpus;
- sst5: the first SST-5 train sentences, padded short sequences (another domain and length);
- corpus: full windows over the built-in corpus, as extract does now.
Fidelity is measured per text against TensorFlow fp32, on texts none of the sources saw: the next
N IMDB train reviews (128-token windows, stride 126; and the first 512 tokens as head+tail) and the
first N SST-5 validation sentences (128 head). No test split is read and no labels are used.
Reported per pooling (mean, max, [CLS]): mean and lowest cosine, largest absolute difference.
Writes benchmarks/results/int8_calibration_source.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import SHARED, cpu_model, ensure_encoder, fidelity, int8_runtime  # noqa: E402  (benchmarks/ is on sys.path)
from int8_mixed import ALL_INT8_RECIPE  # noqa: E402

POOLINGS = ("mean", "max", "cls")
CALIBRATION_REVIEWS = 64  # IMDB reviews whose windows give the 192 calibration sequences


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()

    import nncf
    import openvino as ov

    from mlbert.data.sources import read_source
    from mlbert.extract.encoders import handles
    from mlbert.extract import runtimes
    from mlbert.extract.int8 import calibration as int8_calibration, recipe
    from mlbert.extract.features.featurizer import Featurizer
    from mlbert.extract.features.settings import FeatureSettings

    folder = ensure_encoder("minilm")
    imdb = read_source(str(SHARED / "data/imdb/aclImdb_v1.tar.gz"), ["train"], seed=0,
                       limit=CALIBRATION_REVIEWS + args.n)["train"].texts
    sst5 = read_source(str(SHARED / "data/sst5/sst5.jsonl"), ["train", "validation"], seed=0)
    pre = handles.load(str(folder / "preprocessor"), "--preprocessor", "preprocessor")
    enc = runtimes.load("tensorflow", "fp32", str(folder / "encoder"))

    windows = FeatureSettings(seq_len=128, windows=True, stride=126, poolings=POOLINGS)
    probes = {  # name: (settings, texts)
        "imdb_windows_128": (windows, imdb[CALIBRATION_REVIEWS:]),
        "imdb_headtail_512": (FeatureSettings(seq_len=512, truncation="head+tail", poolings=POOLINGS),
                              imdb[CALIBRATION_REVIEWS:]),
        "sst5_head_128": (FeatureSettings(seq_len=128, poolings=POOLINGS), sst5["validation"].texts[:args.n]),
    }
    references = {name: Featurizer(pre, enc, s).features(texts) for name, (s, texts) in probes.items()}

    def sources(seq_len: int) -> dict:
        fp32 = Featurizer(pre, enc, dataclasses.replace(windows, seq_len=seq_len, stride=seq_len - 2))
        n = int8_calibration.SEQUENCES
        own = probes["imdb_windows_128" if seq_len == 128 else "imdb_headtail_512"][0]  # the cache's settings
        return {"imdb": fp32.packed_batches(imdb[:CALIBRATION_REVIEWS], n, settings=own),
                "sst5": fp32.packed_batches(sst5["train"].texts, n,
                                            settings=FeatureSettings(seq_len=seq_len, poolings=POOLINGS)),
                "corpus": fp32.calibration_batches(int8_calibration.texts(), n)}  # what extract does

    rows = []
    for seq_len in (128, 512):
        for source, batches in sources(seq_len).items():
            ir = Path(tempfile.mkdtemp())
            t0 = time.perf_counter()
            recipe.quantize(str(folder / "encoder"), batches, ir, float_names=[])
            row = {"calibrated_at_seq_len": seq_len, "source": source,
                   "sequences": sum(len(b["input_mask"]) for b in batches),
                   "quantize_seconds": round(time.perf_counter() - t0, 1), "fidelity": {}}
            int8 = int8_runtime(ir)
            for name, (settings, texts) in probes.items():
                if settings.seq_len != seq_len:
                    continue
                out = Featurizer(pre, int8, settings).features(texts)
                for pooling, found in fidelity(references[name], out, POOLINGS).items():
                    row["fidelity"][f"{name}/{pooling}"] = found
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    result = {"held_out": f"{args.n} IMDB train reviews after the first {CALIBRATION_REVIEWS}; "
              f"the first {args.n} SST-5 validation sentences", "encoder": "all-MiniLM-L6-v2 (imported)",
              "recipe": ALL_INT8_RECIPE, "rows": rows,
              "versions": {"openvino": ov.__version__, "nncf": nncf.__version__},
              "cpu": cpu_model(), "date": time.strftime("%Y-%m-%d"),
              "command": "python benchmarks/precision/int8_calibration_source.py " + " ".join(sys.argv[1:])}
    out = ROOT / "benchmarks" / "results" / "int8_calibration_source.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
