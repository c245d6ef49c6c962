"""The int8 recipe with the first and last FFN down projections in float, on IMDB validation.

    python benchmarks/precision/int8_mixed_imdb.py

int8_mixed.json found that leaving the first and the last layer's FFN down projection in
floating point brings the features 29 % closer to fp32 at 0.995x int8's speed. Does it close the
gap in accuracy? Run as a candidate before it became the recipe (recipe.float_matmuls); now the
real `mlbert extract --precision int8` quantises it, in a fresh int8 store of this run.
Only the IMDB *train* split is extracted (128-token windows, stride 126, mean+max+[CLS]), and the
recipe of precision_accuracy.py (ten heads, mean+max+[CLS]) is trained on it: `train` carves the
same seeded validation rows from it as from the full caches, so its validation accuracy compares
with the fp32 and all-int8 rows of results/archive/precision_accuracy_recipe_v1.json. No test review is read.
Writes benchmarks/results/int8_mixed_imdb.json.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import SHARED, cli, cpu_model, ensure_encoder  # noqa: E402  (benchmarks/ is on sys.path)
from precision_accuracy import DATA  # noqa: E402


def main() -> None:
    import openvino as ov

    from mlbert.extract.int8 import recipe


    folder = ensure_encoder("minilm")
    encoder, preprocessor = str(folder / "encoder"), str(folder / "preprocessor")
    ignored = recipe.float_matmuls(ov.convert_model(encoder))
    os.environ["MLBERT_CACHE_DIR"] = tempfile.mkdtemp(prefix="int8-mixed-store-")  # quantised afresh

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
    # The all-int8 recipe's run (precision_accuracy.json holds the shipped recipe's since).
    before = json.loads((ROOT / "benchmarks" / "results" / "archive" / "precision_accuracy_recipe_v1.json").read_text())
    before = before["data_sets"]["imdb"]
    result = {
        "candidate": {"float_matmuls": ignored, "val_accuracy": trained["val_accuracy"],
                      "extract_train_seconds": summary["splits"]["train"]["seconds"],
                      "train_seconds": round(train_wall, 1)},
        "compare_val_accuracy": {"fp32": before["fp32"]["val_accuracy"],
                                 "int8 (all matmuls)": before["int8"]["val_accuracy"]},
        "data": f"IMDB train split of {SHARED / 'data/imdb/aclImdb_v1.tar.gz'}; validation carved by train",
        "commands": commands, "cpu": cpu_model(), "date": time.strftime("%Y-%m-%d"),
        "versions": {"openvino": ov.__version__}, "command": "python benchmarks/precision/int8_mixed_imdb.py",
    }
    out = ROOT / "benchmarks" / "results" / "int8_mixed_imdb.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
