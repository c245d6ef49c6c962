"""Issue 31's parts on and off, on IMDB and SST-5: the ordinal head, the stacked fusion, heads over
every window's features (IMDB), and the weighted fusion they are measured against; validation
picks, the test split scores only the pick.

    python benchmarks/accuracy/frozen_ablation.py sst5|imdb [--score-test]

Every configuration trains through the `mlbert` command on the cache its data set's best recipe
uses (runs/sst5-minilm/cache: all-MiniLM-L6-v2, 128 tokens, mean+max+[CLS], n-grams 1-3, made by
sst5_results.py; runs/imdb-best/cache: 128-token windows, stride 126, mean+max+[CLS], n-grams
1-3, int8, made by imdb_results.py). The per-segment rows read runs/imdb-segments/cache, the same
extraction with --segments (its command is in its manifest and docs/results.md); SST-5's sentences
are one window each, so per-segment heads would read what the review-level ones do. Validation
is SST-5's own split, or IMDB's 20 % carved from train by `train`'s rule. SST-5 rows also get the
validation split's macro F1 and neutral-class F1 (`mlbert evaluate --split validation`). With
--score-test, the configuration best on validation accuracy (ties: the lower validation loss) is
evaluated on the test split, and for more than two classes also the one best on validation macro
F1; only they (keyed by how many configurations they were chosen from, so that earlier picks stay
recorded).
The per-token rows (heads over every token's features, train --segments on a cache made with
extract --tokens) read runs/sst5-tokens/cache, which this script extracts when it is missing (the
same extraction as sst5_results.py's, with --tokens and --feature-dtype float16; its time and size
are recorded as the run "sst5: token cache").
Each run is kept in benchmarks/results/frozen_ablation.json as it finishes; a run already there
is not repeated.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import SHARED, SST5_LABELS, cli, cpu_model, ensure_encoder, record_run, runs_of  # noqa: E402  (on sys.path)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "frozen_ablation"
SEGMENTS = ROOT / "runs" / "imdb-segments" / "cache"
TOKENS = ROOT / "runs" / "sst5-tokens" / "cache"
BERT_SST5 = ["--head", "mlp", "--ensemble", "10"]
BERT_IMDB = ["--pooling", "mean,max,cls", "--ensemble", "10", "--head", "mlp"]
DATA = {
    "sst5": {
        "cache": ROOT / "runs" / "sst5-minilm" / "cache",
        # Round two's pick (docs/results.md): mean pooling, ten MLP heads.
        "base": ["--pooling", "mean", "--head", "mlp", "--ensemble", "10"],
        "configs": {
            "bert": [],
            "bert, ordinal": ["--ordinal"],
            "fused, weight": ["--channel", "fused"],
            "fused, weight, ordinal": ["--channel", "fused", "--ordinal"],
            "fused, stack": ["--channel", "fused", "--fusion", "stack"],
            "fused, stack, ordinal": ["--channel", "fused", "--fusion", "stack", "--ordinal"],
            "fused, weight, 30 heads": ["--channel", "fused", "--ensemble", "30"],
            # (cache, every flag): heads over every token's features, and the review's features of
            # the same cache they are measured against.
            "bert, token cache, review features": (TOKENS, [*BERT_SST5, "--pooling", "mean"]),
            "bert, tokens attention": (TOKENS, [*BERT_SST5, "--segments", "attention"]),
            "bert, tokens max": (TOKENS, [*BERT_SST5, "--segments", "max"]),
            "bert, tokens mean": (TOKENS, [*BERT_SST5, "--segments", "mean"]),
            "fused, weight, token cache, review features": (TOKENS, [*BERT_SST5, "--pooling", "mean", "--channel",
                                                                     "fused"]),
            "fused, weight, tokens attention": (TOKENS, [*BERT_SST5, "--segments", "attention", "--channel",
                                                         "fused"]),
            "fused, weight, tokens attention, ordinal": (TOKENS, [*BERT_SST5, "--segments", "attention",
                                                                  "--channel", "fused", "--ordinal"]),
        },
    },
    "imdb": {
        "cache": ROOT / "runs" / "imdb-best" / "cache",
        # The best fused recipe so far (docs/results.md).
        "base": ["--pooling", "mean,max,cls", "--ensemble", "10", "--channel", "fused", "--lexical-l2", "5e-5",
                 "--refit-lexical"],
        "configs": {
            "fused, weight": [],
            "fused, stack": ["--fusion", "stack"],
            "fused, weight, 30 heads": ["--ensemble", "30"],
            # (cache, every flag): heads over windows, and the BERT channel they are measured against.
            "bert": (SEGMENTS, BERT_IMDB),
            "bert, segments mean": (SEGMENTS, [*BERT_IMDB, "--segments", "mean"]),
            "bert, segments max": (SEGMENTS, [*BERT_IMDB, "--segments", "max"]),
            "bert, segments attention": (SEGMENTS, [*BERT_IMDB, "--segments", "attention"]),
            # The best of the three on validation, fused as the best recipe is.
            "fused, weight, segments attention": (SEGMENTS, ["--pooling", "mean,max,cls", "--ensemble", "10",
                                                             "--channel", "fused", "--lexical-l2", "5e-5",
                                                             "--refit-lexical", "--segments", "attention"]),
        },
    },
}


def _validation_f1(cache: Path, model: Path) -> dict:
    result, _, _ = cli("evaluate", "--cache", str(cache), "--model-dir", str(model), "--split", "validation")
    return {"val_macro_f1": result.get("macro_f1"),
            "val_neutral_f1": (result.get("per_class", {}).get("neutral") or {}).get("f1")}


def _token_cache() -> None:
    """runs/sst5-tokens/cache, extracted once: SST-5 with every token's features."""
    if (TOKENS / "manifest.json").exists():
        return
    encoder = ensure_encoder("minilm")
    result, seconds, shown = cli("extract", "--data", str(SHARED / "data/sst5/sst5.jsonl"), "--out", str(TOKENS),
                                 "--labels", SST5_LABELS, "--encoder", str(encoder / "encoder"), "--preprocessor",
                                 str(encoder / "preprocessor"), "--seq-len", "128", "--pooling", "mean,max,cls",
                                 "--ngrams", "3", "--tokens", "--feature-dtype", "float16")
    size = sum(f.stat().st_size for f in TOKENS.iterdir())
    record_run(SCRIPT, "sst5: token cache", {
        "data": "sst5", "command": shown, "seconds": round(seconds, 1), "bytes": size,
        "reviews": sum(s["total"] for s in result["splits"].values()), "machine": {"cpu": cpu_model()},
        "date": time.strftime("%Y-%m-%d")}, "benchmarks/accuracy/frozen_ablation.py")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", choices=sorted(DATA))
    parser.add_argument("--score-test", action="store_true")
    args = parser.parse_args()
    spec = DATA[args.data]
    if args.data == "sst5":
        _token_cache()
    done = runs_of(SCRIPT)
    for label, flags in spec["configs"].items():
        key = f"{args.data}: {label}"
        if key in done:
            continue
        cache, flags = flags if isinstance(flags, tuple) else (spec["cache"], [*spec["base"], *flags])
        if not (cache / "manifest.json").exists():
            print(f"{key}: skipped, {cache} is missing (made by the script named in this file's docstring)",
                  file=sys.stderr, flush=True)
            continue
        model = ROOT / "runs" / SCRIPT / args.data / label.replace(", ", "-").replace(" ", "-")
        command = ["train", "--cache", str(cache), "--model-dir", str(model), "--overwrite", *flags]
        t0 = time.perf_counter()
        result, _, shown = cli(*command)
        run = {"data": args.data, "config": label, "command": shown, "model_dir": str(model.relative_to(ROOT)),
               "val_accuracy": result["val_accuracy"], "val_loss": result["val_loss"],
               "val_size": result["val_size"], "stage_two_seconds": result["seconds"],
               "wall_seconds": round(time.perf_counter() - t0, 1), "fusion": result["fusion"],
               "head_val_accuracy": result["head_val_accuracy"],
               "lexical_val_accuracy": (result["lexical"] or {}).get("val_accuracy"),
               "cache": str(cache.relative_to(ROOT)), "machine": {"cpu": cpu_model()},
               "date": time.strftime("%Y-%m-%d")}
        if args.data == "sst5":
            run.update(_validation_f1(cache, model))
        record_run(SCRIPT, key, run, "benchmarks/accuracy/frozen_ablation.py")
        done = runs_of(SCRIPT)
        print(f"{key}: validation {run['val_accuracy']:.4f} (loss {run['val_loss']:.4f}), "
              f"{run['stage_two_seconds']:.0f} s", file=sys.stderr, flush=True)
    if not args.score_test:
        return
    mine = {k: r for k, r in done.items() if r["data"] == args.data and "config" in r}
    # The pick on validation accuracy; with more than two classes also the pick on validation macro
    # F1 (ties: the lower validation loss), each scored on test, nothing else.
    criteria = {"accuracy": "val_accuracy"}
    if all(r.get("val_macro_f1") is not None for r in mine.values()):
        criteria["macro F1"] = "val_macro_f1"
    for criterion, field in criteria.items():
        best = mine[max(mine, key=lambda k: (mine[k][field], -mine[k]["val_loss"]))]
        if not (ROOT / best["model_dir"] / "config.json").exists():  # a pick trained on another machine
            print(f"{args.data}: the {criterion} pick, {best['config']}, has no model in {best['model_dir']} here; "
                  "its test score is the earlier pick's in the results file", file=sys.stderr)
            continue
        test, _, shown = cli("evaluate", "--cache", best.get("cache", str(spec["cache"].relative_to(ROOT))),
                             "--model-dir", str(ROOT / best["model_dir"]))
        key = (f"{args.data}: test of the validation pick" + ("" if criterion == "accuracy" else f" on {criterion}")
               + f" of {len(mine)}")
        record_run(SCRIPT, key, {
            "data": args.data, "pick": best["config"], "criterion": criterion, "chosen_from": sorted(mine),
            "val_accuracy": best["val_accuracy"], "val_macro_f1": best.get("val_macro_f1"),
            "test_accuracy": test["accuracy"], "test_loss": test.get("loss"), "test_macro_f1": test.get("macro_f1"),
            "test_neutral_f1": (test.get("per_class", {}).get("neutral") or {}).get("f1"),
            "test_n": test.get("n"), "command": shown, "date": time.strftime("%Y-%m-%d")},
            "benchmarks/accuracy/frozen_ablation.py")
        print(f"{args.data}: the {criterion} pick, {best['config']}, test accuracy {test['accuracy']:.4f}",
              file=sys.stderr)

if __name__ == "__main__":
    main()
