"""First real results: the whole pipeline on full IMDB (25,000 train, 25,000 test) in the seed's setup.

    python benchmarks/accuracy/imdb_results.py minilm   # all-MiniLM-L6-v2, pretrained, 6 x 384 = 2304-d
    python benchmarks/accuracy/imdb_results.py random   # random L-4/H-128/A-2, the control, 512-d

Each run calls the CLI exactly as a user would (import-encoder, extract, train, evaluate) and writes
benchmarks/results/imdb_<name>.json with test accuracy and loss, validation accuracy, extraction
wall time and reviews/s, seconds per training epoch, and the machine.
Extra arguments after the name go to `extract` (e.g. --seq-len 512 --truncation head+tail); those
after a `--` go to `train` (e.g. -- --pooling mean,max,cls), with their own model dir and JSON.
Run again when runs/<name-and-flags>/cache is complete, it verifies and keeps that cache (and the
extraction figures first measured for it) and retrains and re-evaluates the head.
"""
from __future__ import annotations

import json
import os
import platform
import resource
import sys
from pathlib import Path
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import ENCODERS, ROOT, SHARED, cli, cpu_model, record_run, runs_of  # noqa: E402  (benchmarks/ is on sys.path)


def slug(args: list[str]) -> str:
    return "-".join(a.strip("-").replace("+", "").replace(",", "") for a in args)


def main(name: str, extra: list[str], train_args: list[str]) -> None:
    source, flags = ENCODERS[name]
    tag = name + ("-" + slug(extra) if extra else "")
    work = ROOT / "runs" / tag
    model = work / ("model-" + slug(train_args) if train_args else "model")
    model_src = ROOT / "runs" / f"encoder-{name}"
    data = str(SHARED / "data/imdb/aclImdb_v1.tar.gz")
    commands = []
    if not (model_src / "encoder").exists():
        _, _, shown = cli("import-encoder", str(source), "--out", str(model_src), *flags)
        commands.append(shown)
    extract_args = ["extract", "--data", data, "--out", str(work / "cache"), "--encoder", str(model_src / "encoder"),
                    "--preprocessor", str(model_src / "preprocessor"), *extra]
    manifest_path = work / "cache" / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    if manifest and manifest["splits"] and all(s.get("complete") for s in manifest["splits"].values()):
        # A complete cache of this run (its folder name spells the extract flags) is verified and
        # kept; delete the folder to measure its extraction again.
        cli("check-cache", str(work / "cache"))
        # The encoding time of each split is in the manifest, measured when the cache was made.
        extract, extract_wall = {
            "dim": manifest["features"]["dim"], "device": manifest["machine"]["device"],
            "splits": {k: {"total": v["counts"]["total"], "seconds": v.get("seconds", 0), "skipped": True}
                       for k, v in manifest["splits"].items()}}, 0.0
        commands.append("mlbert " + " ".join(extract_args))
    else:
        extract, extract_wall, shown = cli(*extract_args)
        commands.append(shown)
    # Peak resident memory of the children so far: import-encoder and extract.
    peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    trained, _, shown = cli("train", "--cache", str(work / "cache"), "--model-dir", str(model), *train_args,
                            "--overwrite")
    commands.append(shown)
    test, _, shown = cli("evaluate", "--cache", str(work / "cache"), "--model-dir", str(model))
    commands.append(shown)
    reviews = sum(s["total"] for s in extract["splits"].values())
    encode_seconds = sum(s["seconds"] for s in extract["splits"].values())
    key = f"{tag}{'-train-' + slug(train_args) if train_args else ''}"  # the flags are in the run too
    measured = {"extract_reviews": reviews, "extract_wall_seconds": round(extract_wall, 1),
                "extract_encode_seconds": round(encode_seconds, 1),
                "extract_reviews_per_s": round(reviews / encode_seconds, 1) if encode_seconds else None,
                "extract_peak_rss_mb": round(peak_rss_mb), "extract_date": time.strftime("%Y-%m-%d")}
    # The run that made the cache may have had train flags of its own: any result of this cache will do.
    runs = runs_of("imdb_results")
    earlier = [runs[k] for k in [key, tag, *sorted(k for k in runs if k.startswith(f"{tag}-train-"))] if k in runs]
    earlier = [e for e in earlier if e.get("extract_encode_seconds")]
    if all(s["skipped"] for s in extract["splits"].values()) and earlier and not encode_seconds:
        # The cache was complete and kept (same fingerprint): its extraction figures are those
        # measured when it was made, recorded by the earlier run of this script.
        measured = {k: earlier[0].get(k) for k in measured}
        measured["extract_date"] = earlier[0].get("extract_date", earlier[0].get("date"))
    result = {
        "encoder": {"minilm": "all-MiniLM-L6-v2 (pretrained, imported from Hugging Face safetensors)",
                    "random": "random L-4/H-128/A-2 (config only, seed 0): the control"}[name],
        "extract_args": extra,
        "train_args": train_args,
        "feature_dim": extract["dim"],
        "test_accuracy": test["accuracy"], "test_loss": test["loss"], "test_auc": test["auc"],
        "test_f1": test["f1"], "val_accuracy": trained["val_accuracy"], "val_loss": trained["val_loss"],
        "best_epoch": trained["best_epoch"], "epochs_run": trained["epochs_run"],
        "ensemble": trained.get("ensemble"),  # each head's validation accuracy, for an ensemble
        "channel": trained.get("channel", "bert"),
        "lexical": trained.get("lexical"), "fusion": trained.get("fusion"),
        "head_val_accuracy": trained.get("head_val_accuracy"),
        "seconds_per_epoch": trained["seconds_per_epoch"], "train_seconds": trained["seconds"],
        **measured,
        "device": extract["device"],
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "platform": platform.platform()},
        "commands": commands,
        "date": time.strftime("%Y-%m-%d"),
    }
    record_run("imdb_results", key, result, source="benchmarks/accuracy/imdb_results.py")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ENCODERS:
        sys.exit(f"usage: python benchmarks/accuracy/imdb_results.py {{{','.join(ENCODERS)}}} [extract flags] [-- train flags]")
    args = sys.argv[2:]
    cut = args.index("--") if "--" in args else len(args)
    main(sys.argv[1], args[:cut], args[cut + 1:])
