"""Print README's tables from benchmarks/results/: the IMDB results (imdb_results.json, from imdb_results.py)
the extraction throughput (extract_throughput.json, from extract_throughput.py), the cost of each
extraction option (extract_cost.json, from extract_cost.py) and the stage-two ablations (ablation.json)."""
from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"


def header(*columns: str) -> None:
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))


def results() -> None:
    header("Encoder (frozen)", "Features", "Test accuracy", "Test loss", "Val accuracy", "Extract, 50k reviews",
           "Train")
    print("| Seed write-up: TF Hub small_bert L-4/H-128/A-2 | 128 tokens, mean of 4 layers, 512-d | 72.62 % "
          "| 0.5332 | n/a | re-run every epoch | ~150 s/epoch |")
    path = RESULTS / "imdb_results.json"
    rows = list(json.loads(path.read_text())["runs"].values()) if path.exists() else []
    # In the order of validation accuracy, the figure every choice was made on.
    for r in sorted(rows, key=lambda r: r["val_accuracy"]):
        args = " ".join(r["extract_args"]) or "--seq-len 128 (the seed's setup)"
        train_args = r.get("train_args") or []
        if train_args:
            args += "`; train `" + " ".join(train_args)
        poolings = len(train_args[train_args.index("--pooling") + 1].split(",")) if "--pooling" in train_args else 1
        dim = f"{poolings} x {r['feature_dim']}-d" if poolings > 1 else f"{r['feature_dim']}-d"
        print(f"| {r['encoder']} | `{args}`, {dim} | {100 * r['test_accuracy']:.2f} % "
              f"| {r['test_loss']:.4f} | {100 * r['val_accuracy']:.2f} % "
              f"| {r['extract_encode_seconds']:.0f} s ({r['extract_reviews_per_s']:.0f} reviews/s, "
              f"{r['device']}, {r['machine']['cores']} cores) | {_train_cost(r)} |")


def _train_cost(r: dict) -> str:
    """Seconds per epoch of the head; the whole stage two for rows that record it."""
    if r.get("train_seconds") is not None:
        per_epoch = f", {r['seconds_per_epoch']:.2f} s/epoch" if r.get("seconds_per_epoch") else ""
        return f"{r['train_seconds']:.0f} s{per_epoch}"
    return f"{r['seconds_per_epoch']:.2f} s/epoch"


def throughput() -> None:
    path = RESULTS / "extract_throughput.json"
    if not path.exists():
        return
    names = {"minilm": "all-MiniLM-L6-v2", "random": "random L-4/H-128/A-2"}
    print()
    header("Encoder", "Tokens", "Speed-up (median)", "Speed-up (best of)", "Baseline MFU (median)",
           "Ours MFU (median)", "Ours MFU (fastest / highest peak)", "Ours reviews/s (fastest)")
    for r in json.loads(path.read_text())["results"]:
        print(f"| {names[r['encoder']]} | {r['seq_len']} {r['truncation']} | {r['speedup_median']:.2f}x "
              f"| {r['speedup_best_of']:.2f}x | {100 * r['baseline_mfu_median']:.1f} % "
              f"| {100 * r['ours_mfu_median']:.1f} % | {100 * r['ours_mfu_vs_highest_peak']:.1f} % "
              f"| {r['ours_reviews_per_s_best']} |")


def costs() -> None:
    path = RESULTS / "extract_cost.json"
    if not path.exists():
        return
    d = json.loads(path.read_text())
    print()
    header(f"Extraction option ({d['encoder']})", "Sequences / review", "Tokens encoded / review", "Reviews/s")
    for r in d["results"]:
        print(f"| {r['option']} | {r['sequences_per_review']} | {r['tokens_per_review']} | {r['reviews_per_s']} |")


def ablations() -> None:
    path = RESULTS / "ablation.json"
    for name, d in (json.loads(path.read_text())["runs"].items() if path.exists() else []):
        f, inputs, head = d["extract"], d["inputs"], d["head"]
        cut = f"windows, stride {f['stride']}" if f.get("windows") else f["truncation"]
        print(f"\nStage-two ablation on `{f['seq_len']}` tokens, `{cut}` (ablation.json, run {name}). Sweep 1, the inputs, "
              f"with the seed's head; its best on validation scores {100 * inputs['best_test_accuracy']:.2f} % "
              f"on test (loss {inputs['best_test_loss']:.4f}):")
        print()
        header("Pooling", "Layers", "Layer mix", "Standardize", "Val accuracy", "Val loss")
        for t in inputs["trials"]:
            print(f"| {'+'.join(t['pooling'])} | {t['layers']} | {t['layer_mix']} "
                  f"| {'on' if t['standardize'] else 'off'} | {100 * t['val_accuracy']:.2f} % | {t['val_loss']:.4f} |")
        print(f"\nSweep 2, the head, on the best inputs; its best on validation scores "
              f"{100 * head['best_test_accuracy']:.2f} % on test (loss {head['best_test_loss']:.4f}):")
        print()
        header("Learning rate", "Patience", "Hidden", "Dropout", "Best epoch", "Val accuracy", "Val loss")
        for t in head["trials"]:
            print(f"| {t['lr']:g} | {t['patience']} | {','.join(map(str, t['hidden']))} "
                  f"| {','.join(map(str, t['dropout']))} | {t['best_epoch']} | {100 * t['val_accuracy']:.2f} % "
                  f"| {t['val_loss']:.4f} |")


if __name__ == "__main__":
    results()
    throughput()
    costs()
    ablations()
