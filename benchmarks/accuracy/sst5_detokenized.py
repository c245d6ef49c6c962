"""Does SST-5 read better with its Penn Treebank tokenisation undone? Validation only (issue 31).

    python benchmarks/accuracy/sst5_detokenized.py

SST-5's sentences come tokenised (`does n't`, `-lrb- sci-fi -rrb-`, `` `` ``, `funny ,`), which
all-MiniLM-L6-v2 never saw in training: its WordPiece tokenizer splits punctuation itself, so
the spaces around commas change nothing, but `does n't` becomes `does n ' t` where plain text
gives `doesn ' t`, and a bracket becomes `- l ##rb -`. This writes a copy of the data with those
joined back (the rules below) and trains the SST-5 recipe (mean pooling, ten MLP heads; BERT
alone and fused with the n-grams) through the `mlbert` command on both copies, each extracted
as sst5_results.py does (128 tokens, mean+max+[CLS], n-grams 1-3). The test split is not scored.
Writes benchmarks/results/sst5_detokenized.json. Each cache is kept in runs/ and reused.
"""
from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import SHARED, SST5_LABELS, cli, cpu_model, ensure_encoder, record_run  # noqa: E402  (on sys.path)

ROOT = Path(__file__).resolve().parents[2]
# Penn Treebank tokens back to plain text, in this order.
RULES = [(r" n't\b", "n't"), (r" '(s|re|ve|ll|d|m|em)\b", r"'\1"), (r"-lrb- ?", "("), (r" ?-rrb-", ")"),
         (r"-lsb- ?", "["), (r" ?-rsb-", "]"), (r"-lcb- ?", "{"), (r" ?-rcb-", "}"), (r"`` ?", '"'),
         (r" ?''", '"'), (r"` ", "'"), (r" ([.,!?;:%])", r"\1"), (r"\\/", "/")]
HEADS = ["--pooling", "mean", "--head", "mlp", "--ensemble", "10"]
CONFIGS = {"bert": [], "fused, weight": ["--channel", "fused"]}


def detokenized(text: str) -> str:
    for pattern, replacement in RULES:
        text = re.sub(pattern, replacement, text)
    return text


def main() -> None:
    source = SHARED / "data/sst5/sst5.jsonl"
    joined = ROOT / "runs" / "sst5-detok" / "sst5.jsonl"
    joined.parent.mkdir(parents=True, exist_ok=True)
    with open(source) as f, open(joined.with_suffix(".tmp"), "w") as out:
        for line in f:
            row = json.loads(line)
            out.write(json.dumps({**row, "text": detokenized(row["text"])}) + "\n")
    joined.with_suffix(".tmp").replace(joined)
    encoder = ensure_encoder("minilm")
    data = {"as distributed": (source, ROOT / "runs" / "sst5-minilm" / "cache"),
            "detokenized": (joined, ROOT / "runs" / "sst5-detok" / "cache")}
    for form, (path, cache) in data.items():
        if not (cache / "manifest.json").exists():
            cli("extract", "--data", str(path), "--out", str(cache), "--labels", SST5_LABELS, "--encoder",
                str(encoder / "encoder"), "--preprocessor", str(encoder / "preprocessor"), "--seq-len", "128",
                "--pooling", "mean,max,cls", "--ngrams", "3")
    for label, flags in CONFIGS.items():
        for form, (path, cache) in data.items():
            model = ROOT / "runs" / "sst5_detokenized" / f"{form.replace(' ', '-')}-{label.replace(', ', '-')}"
            result, _, shown = cli("train", "--cache", str(cache), "--model-dir", str(model), "--overwrite",
                                   *HEADS, *flags)
            scored, _, _ = cli("evaluate", "--cache", str(cache), "--model-dir", str(model), "--split", "validation")
            record_run("sst5_detokenized", f"{label}, {form}", {
                "text": form, "config": label, "command": shown, "val_accuracy": result["val_accuracy"],
                "val_loss": result["val_loss"], "val_macro_f1": scored.get("macro_f1"),
                "val_size": result["val_size"], "stage_two_seconds": result["seconds"],
                "cache": str(cache.relative_to(ROOT)), "machine": {"cpu": cpu_model()},
                "date": time.strftime("%Y-%m-%d")}, "benchmarks/accuracy/sst5_detokenized.py")
            print(f"{label}, {form}: validation {result['val_accuracy']:.4f} (loss {result['val_loss']:.4f})",
                  file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
