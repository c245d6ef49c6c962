"""Do int8 (and bf16) features train as good a head as fp32's? Full IMDB and SST-5.

    python benchmarks/precision/precision_accuracy.py [--precisions int8] [--data imdb,sst5]

Through the installed `mlbert` command, as a user would. For each data set, the fp32 cache the
results scripts made (benchmarks/accuracy/imdb_results.py with --windows --stride 126 --pooling
mean,max,cls --ngrams 3; benchmarks/accuracy/sst5_results.py) and a new cache of the same settings at each
precision; then the same recipe on every cache, chosen beforehand on validation with fp32 and not
tuned again:
- IMDB (25k / 25k): ten heads on mean+max+[CLS] (the best recipe; docs/results.md);
- SST-5 (8,544 / 1,101 / 2,210): the head sst5_results.py chose on validation (mean pooling,
  lr 5e-4, five heads).
Reported per cache: test accuracy (and macro F1), validation accuracy, extraction seconds; per
precision: the difference to fp32's test accuracy, and the pooled features' largest absolute
difference and cosine (per review: mean and min) against the fp32 cache, on the test split.
Writes benchmarks/results/precision_accuracy.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import ENCODERS, SHARED, SST5_LABELS, cli, cpu_model, fidelity  # noqa: E402  (benchmarks/ is on sys.path)

ROOT = Path(__file__).resolve().parents[2]
ENCODER = ROOT / "runs" / "encoder-minilm"
DATA = {
    "imdb": {"data": SHARED / "data/imdb/aclImdb_v1.tar.gz",
             "fp32": ROOT / "runs/minilm-seq-len-128-windows-stride-126-pooling-meanmaxcls-ngrams-3/cache",
             "extract": ["--seq-len", "128", "--windows", "--stride", "126", "--pooling", "mean,max,cls"],
             "train": ["--pooling", "mean,max,cls", "--ensemble", "10"]},
    "sst5": {"data": SHARED / "data/sst5/sst5.jsonl", "fp32": ROOT / "runs/sst5-minilm/cache",
             "extract": ["--seq-len", "128", "--pooling", "mean,max,cls", "--labels",
                         SST5_LABELS],
             "train": ["--pooling", "mean", "--lr", "5e-4", "--dropout", "0.4,0.3,0.2", "--ensemble", "5"]},
}


def feature_differences(fp32_cache: Path, other: Path) -> dict:
    from mlbert.extract.cache.read import read_split

    a, _, ids_a, manifest = read_split(fp32_cache, "test", ["mean", "max", "cls"])
    b, _, ids_b, _ = read_split(other, "test", ["mean", "max", "cls"])
    assert ids_a == ids_b, "the caches must hold the same reviews in the same order"
    return fidelity(a, b, ("mean", "max", "cls"), digits=4)


def train_and_score(cache: Path, model: Path, train_args: list[str], commands: list[str]) -> dict:
    trained, wall, shown = cli("train", "--cache", str(cache), "--model-dir", str(model), "--overwrite", *train_args)
    commands.append(shown)
    scored, _, shown = cli("evaluate", "--cache", str(cache), "--model-dir", str(model))
    commands.append(shown)
    return {"test_accuracy": scored["accuracy"], "test_macro_f1": scored.get("macro_f1"),
            "val_accuracy": trained["val_accuracy"], "train_seconds": round(wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--precisions", default="int8")
    parser.add_argument("--data", default="imdb,sst5")
    args = parser.parse_args()
    if not (ENCODER / "encoder").exists():
        cli("import-encoder", str(ENCODERS["minilm"][0]), "--out", str(ENCODER))
    out_path = ROOT / "benchmarks" / "results" / "precision_accuracy.json"
    result = json.loads(out_path.read_text()) if out_path.exists() else {}
    result.setdefault("data_sets", {})
    for name in args.data.split(","):
        spec = DATA[name]
        if not (spec["fp32"] / "manifest.json").exists():
            raise SystemExit(f"{spec['fp32']}: missing; run benchmarks/{'imdb' if name == 'imdb' else 'sst5'}"
                             "_results.py first")
        commands = []
        row = {"fp32": {"cache": str(spec["fp32"].relative_to(ROOT)),
                        **train_and_score(spec["fp32"], ROOT / "runs" / f"precision-{name}-fp32-model",
                                          spec["train"], commands)}}
        for precision in args.precisions.split(","):
            cache = ROOT / "runs" / f"precision-{name}-{precision}" / "cache"
            summary, wall, shown = cli("extract", "--data", str(spec["data"]), "--out", str(cache), "--encoder",
                                       str(ENCODER / "encoder"), "--preprocessor", str(ENCODER / "preprocessor"),
                                       *spec["extract"], "--precision", precision)
            commands.append(shown)
            scored = train_and_score(cache, cache.parent / "model", spec["train"], commands)
            runtime = json.loads((cache / "manifest.json").read_text())["features"]["runtime"]
            row[precision] = {
                "cache": str(cache.relative_to(ROOT)), **scored,
                "recipe": runtime.get("calibration", {}).get("recipe"),
                "test_accuracy_minus_fp32": round(scored["test_accuracy"] - row["fp32"]["test_accuracy"], 4),
                "extract_wall_seconds": round(wall, 1),
                "extract_seconds": {s: v["seconds"] for s, v in summary["splits"].items()},
                "features_vs_fp32": feature_differences(spec["fp32"], cache)}
            print(json.dumps({name: row[precision]}), file=sys.stderr, flush=True)
        row["train_args"] = spec["train"]
        row["commands"] = commands
        result["data_sets"][name] = row
    result.update(encoder="all-MiniLM-L6-v2 (imported), frozen", machine={"cpu": cpu_model(), "cores": os.cpu_count()},
                  date=time.strftime("%Y-%m-%d"),
                  command="python benchmarks/precision/precision_accuracy.py " + " ".join(sys.argv[1:]))
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
