"""SST-5 (five sentiment classes, sentence level) end to end with all-MiniLM-L6-v2, frozen.

    python benchmarks/accuracy/sst5_results.py [--workers 2]

Through the installed `mlbert` command, as a user would: import the encoder, extract
../shared/data/sst5/sst5.jsonl (train 8,544, validation 1,101, test 2,210 sentences; classes in the
order very negative .. very positive; with the lexical channel, --ngrams 3), then:

1. a sweep of BERT heads whose every choice is made on the validation split; only its best is
   scored on test (`--evaluate-best`);
2. the channels compared with that head: BERT alone, the lexical model alone, and both fused
   (`--channel bert,lexical,fused`). All three are reported, so all three are scored on test;
   the one kept is the best on validation.

Writes benchmarks/results/sst5_results.json: test accuracy and macro F1, the options chosen and
their validation accuracy, every trial, extraction and training times, the commands.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import ENCODERS, SHARED, SST5_LABELS, cli, cpu_model  # noqa: E402  (benchmarks/ is on sys.path)

ROOT = Path(__file__).resolve().parents[2]
# The grid, all chosen on validation: which poolings the head reads, learning rate, dropout, and
# one head against an ensemble of five.
GRID = ["--pooling", "mean", "--pooling", "mean,max,cls", "--lr", "5e-4,1e-4", "--dropout", "0.4,0.3,0.2;0.5",
        "--ensemble", "1,5"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", default="2")
    args = parser.parse_args()
    data = SHARED / "data/sst5/sst5.jsonl"
    encoder = ROOT / "runs" / "encoder-minilm"
    work = ROOT / "runs" / "sst5-minilm"
    commands = []
    if not (encoder / "encoder").exists():
        commands.append(cli("import-encoder", str(ENCODERS["minilm"][0]), "--out", str(encoder))[2])
    extract, extract_wall, shown = cli("extract", "--data", str(data), "--out", str(work / "cache"), "--labels",
                                       SST5_LABELS, "--encoder", str(encoder / "encoder"), "--preprocessor",
                                       str(encoder / "preprocessor"), "--seq-len", "128", "--pooling", "mean,max,cls",
                                       "--ngrams", "3", "--overwrite")
    commands.append(shown)
    t0 = time.perf_counter()
    sweep, _, shown = cli("sweep", "--cache", str(work / "cache"), "--out", str(work / "sweep"), *GRID,
                          "--workers", args.workers, "--evaluate-best")
    sweep_seconds = time.perf_counter() - t0
    commands.append(shown)
    trials = json.loads((work / "sweep" / "results.json").read_text())["trials"]
    test, best = sweep["test"], sweep["best"]
    # 2. The channels, with the head chosen above.
    head = ["--pooling", ",".join(best["pooling"]), "--lr", str(best["lr"]),
            "--dropout", ",".join(map(str, best["dropout"])), "--ensemble", str(best["ensemble"])]
    t0 = time.perf_counter()
    channels, _, shown = cli("sweep", "--cache", str(work / "cache"), "--out", str(work / "channels"), *head,
                             "--channel", "bert,lexical,fused", "--workers", args.workers)
    channels_seconds = time.perf_counter() - t0
    commands.append(shown)
    rows = {}
    for row in json.loads((work / "channels" / "results.json").read_text())["trials"]:
        model = work / "channels" / "trials" / row["key"]
        scored, _, shown = cli("evaluate", "--cache", str(work / "cache"), "--model-dir", str(model))
        commands.append(shown)
        rows[row.get("channel", "bert")] = {
            "val_accuracy": row["val_accuracy"], "test_accuracy": scored["accuracy"],
            "test_macro_f1": scored["macro_f1"], "fusion": row.get("fusion"), "train_seconds": row["seconds"]}
    kept = channels["best"].get("channel", "bert")
    result = {
        "data": "SST-5, sentence level (train 8,544, validation 1,101, test 2,210)",
        "encoder": "all-MiniLM-L6-v2 (pretrained, imported from Hugging Face safetensors), frozen",
        "extract": {"seq_len": 128, "pooling": "mean,max,cls", "labels": extract["labels"],
                    "seconds": round(sum(s["seconds"] for s in extract["splits"].values()), 1),
                    "wall_seconds": round(extract_wall, 1),
                    "sentences": {k: v["total"] for k, v in extract["splits"].items()}},
        "best": {k: best[k] for k in ("pooling", "lr", "dropout", "ensemble", "hidden", "val_accuracy", "val_loss",
                                      "best_epoch")},
        "test_accuracy": test["accuracy"], "test_macro_f1": test["macro_f1"], "test_weighted_f1": test["weighted_f1"],
        "test_loss": test["loss"], "test_per_class": test["per_class"], "test_confusion": test["confusion"],
        "trials": [{k: t[k] for k in ("pooling", "lr", "dropout", "ensemble", "val_accuracy", "val_loss")}
                   for t in trials],
        "sweep_seconds": round(sweep_seconds, 1),
        "channels": rows, "channel_kept": kept, "channels_seconds": round(channels_seconds, 1),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "platform": platform.platform()},
        "commands": commands, "date": time.strftime("%Y-%m-%d"),
    }
    out = ROOT / "benchmarks" / "results" / "sst5_results.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
