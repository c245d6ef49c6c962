"""The next int8 recipe candidate on full IMDB, judged on validation only.

    python benchmarks/int8_mixed_imdb.py

int8_mixed.json found that leaving the first and the last layer's FFN down projection in
floating point brings the features 29 % closer to fp32 at 0.995x int8's speed. Does it close the
gap in accuracy? The candidate encoder (int8_mixed.quantize_ignoring on the built-in corpus, as
extract calibrates) is placed in a temporary int8 store under the key extract looks up
(extract/encoders/int8_store.py), so the real `mlbert extract --precision int8` runs with it.
Only the IMDB *train* split is extracted (128-token windows, stride 126, mean+max+[CLS]), and the
recipe of precision_accuracy.py (ten heads, mean+max+[CLS]) is trained on it: `train` carves the
same seeded validation rows from it as from the full caches, so its validation accuracy compares
with the fp32 and int8 rows of precision_accuracy.json. No test review is read.
Writes benchmarks/results/int8_mixed_imdb.json.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from extract_throughput import ensure_encoder  # noqa: E402
from imdb_results import SHARED, cli, cpu_model  # noqa: E402
from int8_mixed import ffn_down_names, quantize_ignoring  # noqa: E402
from precision_accuracy import DATA  # noqa: E402


def main() -> None:
    import openvino as ov

    from mlbert.extract.encoders import handles, int8_store, runtime
    from mlbert.extract.features.featurizer import Featurizer
    from mlbert.extract.features.settings import FeatureSettings

    folder = ensure_encoder("minilm")
    encoder, preprocessor = str(folder / "encoder"), str(folder / "preprocessor")
    pre = handles.load(preprocessor, "--preprocessor", "preprocessor")
    enc = handles.load(encoder, "--encoder", "encoder")
    settings = FeatureSettings(seq_len=128, windows=True, stride=126, poolings=("mean", "max", "cls"))
    calibration = Featurizer(pre, enc, settings).calibration_batches(runtime.calibration_texts(),
                                                                     runtime.CALIBRATION_SEQUENCES)
    down = ffn_down_names(ov.convert_model(encoder))
    ignored = [down[0], down[-1]]
    store = Path(tempfile.mkdtemp(prefix="int8-mixed-store-"))
    os.environ["MLBERT_CACHE_DIR"] = str(store)  # the extract subprocess finds the candidate there
    ir = quantize_ignoring(encoder, calibration, ignored, Path(tempfile.mkdtemp()))
    key = int8_store.key(handles.identity(encoder), handles.identity(preprocessor), settings.seq_len)
    int8_store.keep(key, ir, {"max_positions": handles.check_pair(pre, enc, preprocessor, encoder),
                              "recipe": runtime.RECIPE + f"; float: {', '.join(ignored)}"})
    assert int8_store.lookup(key), "the candidate must be where extract looks"

    spec = DATA["imdb"]
    cache = ROOT / "runs" / "int8-mixed-imdb" / "cache"
    commands = []
    summary, wall, shown = cli("extract", "--data", str(spec["data"]), "--out", str(cache), "--encoder", encoder,
                               "--preprocessor", preprocessor, *spec["extract"], "--precision", "int8",
                               "--splits", "train")
    commands.append(shown)
    trained, train_wall, shown = cli("train", "--cache", str(cache), "--model-dir", str(cache.parent / "model"),
                                     "--overwrite", *spec["train"])
    commands.append(shown)
    before = json.loads((ROOT / "benchmarks" / "results" / "precision_accuracy.json").read_text())["data_sets"]["imdb"]
    result = {
        "candidate": {"float_matmuls": ignored, "val_accuracy": trained["val_accuracy"],
                      "extract_train_seconds": summary["splits"]["train"]["seconds"],
                      "train_seconds": round(train_wall, 1)},
        "compare_val_accuracy": {"fp32": before["fp32"]["val_accuracy"],
                                 "int8 (all matmuls)": before["int8"]["val_accuracy"]},
        "data": f"IMDB train split of {SHARED / 'data/imdb/aclImdb_v1.tar.gz'}; validation carved by train",
        "commands": commands, "cpu": cpu_model(), "date": time.strftime("%Y-%m-%d"),
        "versions": {"openvino": ov.__version__}, "command": "python benchmarks/int8_mixed_imdb.py",
    }
    out = ROOT / "benchmarks" / "results" / "int8_mixed_imdb.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
