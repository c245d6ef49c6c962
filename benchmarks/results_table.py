"""Print README's results table from benchmarks/results/imdb_*.json (written by imdb_results.py)."""
from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    print("| Encoder (frozen) | Features | Test accuracy | Test loss | Val accuracy | Extract, 50k reviews "
          "| Seconds / epoch |")
    print("|---|---|---|---|---|---|---|")
    print("| Seed write-up: TF Hub small_bert L-4/H-128/A-2 | 128 tokens, mean of 4 layers, 512-d | 72.62 % "
          "| 0.5332 | n/a | re-run every epoch | ~150 |")
    rows = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("imdb_*.json"))]
    for r in sorted(rows, key=lambda r: r["test_accuracy"]):
        args = " ".join(r["extract_args"]) or "--seq-len 128 (the seed's setup)"
        print(f"| {r['encoder']} | `{args}`, {r['feature_dim']}-d | {100 * r['test_accuracy']:.2f} % "
              f"| {r['test_loss']:.4f} | {100 * r['val_accuracy']:.2f} % "
              f"| {r['extract_encode_seconds']:.0f} s ({r['extract_reviews_per_s']:.0f} reviews/s, "
              f"{r['device']}, {r['machine']['cores']} cores) | {r['seconds_per_epoch']:.2f} |")


if __name__ == "__main__":
    main()
