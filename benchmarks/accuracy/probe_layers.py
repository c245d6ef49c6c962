"""What each encoder layer holds, per task: `mlbert probe` (a logistic regression on each layer
alone, each pooling's layers together, and everything together; L2 chosen on validation) on the
caches of docs/results.md, validation figures only.

    python benchmarks/accuracy/probe_layers.py sst5   # SST-5, five classes (its own validation split)
    python benchmarks/accuracy/probe_layers.py sst2   # SST-2: SST-5's sentences without neutral, two classes
    python benchmarks/accuracy/probe_layers.py imdb   # IMDB, 128-token windows averaged, int8 encoder

Each cache is extracted once under runs/ (a rerun reuses it); the encoder is all-MiniLM-L6-v2
(6 layers x 384), frozen. SST-2 is written from sst5.jsonl as GLUE's SST-2 is defined from the
treebank: neutral sentences dropped, the two negative and the two positive classes merged
(whole sentences only, not GLUE's phrase-level training rows). Writes
benchmarks/results/probe_layers.json, one run per task, with the figure in runs/probe-<task>/.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import ENCODERS, SHARED, SST5_LABELS, cli, cpu_model, record_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ENCODER = ROOT / "runs" / "encoder-minilm"
SST5 = SHARED / "data/sst5/sst5.jsonl"
SST2 = ROOT / "runs" / "sst2" / "sst2.jsonl"
TASKS = {
    "sst5": {"data": SST5, "cache": ROOT / "runs" / "sst5-minilm" / "cache",
             "extract": ["--labels", SST5_LABELS, "--seq-len", "128",
                         "--pooling", "mean,max,cls", "--ngrams", "3"]},
    "sst2": {"data": SST2, "cache": ROOT / "runs" / "sst2" / "cache",
             "extract": ["--labels", "negative,positive", "--seq-len", "128", "--pooling", "mean,max,cls"]},
    "imdb": {"data": SHARED / "data/imdb/aclImdb_v1.tar.gz", "cache": ROOT / "runs" / "imdb-best" / "cache",
             "extract": ["--seq-len", "128", "--windows", "--stride", "126", "--pooling", "mean,max,cls",
                         "--ngrams", "3", "--precision", "int8"]},
}
MERGED = {"very negative": "negative", "negative": "negative", "positive": "positive", "very positive": "positive"}


def write_sst2() -> None:
    """SST-2's sentences from SST-5's file, written whole (temporary name, then rename)."""
    if SST2.exists():
        return
    SST2.parent.mkdir(parents=True, exist_ok=True)
    tmp = SST2.with_suffix(".tmp")
    with open(SST5) as src, open(tmp, "w") as out:
        for line in src:
            row = json.loads(line)
            if row["label"] in MERGED:
                out.write(json.dumps({**row, "label": MERGED[row["label"]]}) + "\n")
    tmp.rename(SST2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=sorted(TASKS))
    args = parser.parse_args()
    task = TASKS[args.task]
    if args.task == "sst2":
        write_sst2()
    commands = []
    if not (ENCODER / "encoder").exists():
        commands.append(cli("import-encoder", str(ENCODERS["minilm"][0]), "--out", str(ENCODER))[2])
    extracted, _, shown = cli("extract", "--data", str(task["data"]), "--out", str(task["cache"]), "--encoder",
                              str(ENCODER / "encoder"), "--preprocessor", str(ENCODER / "preprocessor"),
                              *task["extract"])
    commands.append(shown)
    figure = ROOT / "runs" / f"probe-{args.task}"
    probed, seconds, shown = cli("probe", "--cache", str(task["cache"]), "--plot", str(figure), "--overwrite")
    commands.append(shown)
    record_run("probe_layers", args.task, {
        "task": args.task, "encoder": "all-MiniLM-L6-v2 (pretrained), frozen", "extract_flags": task["extract"],
        "rows": {split: entry["total"] for split, entry in extracted["splits"].items()},
        **{k: probed[k] for k in ("labels", "poolings", "num_layers", "hidden_size", "train_rows", "val_rows",
                                  "validation", "l2_grid", "probes", "best")},
        "probe_seconds": round(seconds, 1), "cpu": cpu_model(), "commands": commands,
    }, source="benchmarks/accuracy/probe_layers.py")
    print(json.dumps(probed["best"]))


if __name__ == "__main__":
    main()
