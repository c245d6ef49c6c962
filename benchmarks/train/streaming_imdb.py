"""Stage two before and after streaming (issue 28) on real IMDB: the best recipes trained by the old
code and by this one on the same cache, interleaved; test accuracy, train seconds, peak memory.

    git worktree add ../old 3928c88      # the code before streaming
    python benchmarks/train/streaming_imdb.py CACHE --before ../old [--seeds 0,1]

CACHE: full IMDB (25k/25k) extracted with all-MiniLM-L6-v2, `--seq-len 128 --windows --stride 126
--pooling mean,max,cls --ngrams 3` (any --precision). The old code carves validation rows with a
stratified permutation, this one by id hash: validation figures differ in rows, test figures are
comparable. Each run is one `train` then `evaluate` process pair; peak RSS is train's, from the
kernel. Writes benchmarks/results/streaming_imdb.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import MLBERT, RESULTS, ROOT, cpu_model  # noqa: E402

RECIPES = {
    "bert-1-head": ["--pooling", "mean,max,cls"],
    "lexical": ["--channel", "lexical", "--lexical-l2", "5e-5", "--refit-lexical"],
    "bert-10-heads": ["--pooling", "mean,max,cls", "--ensemble", "10"],
    "fused-best": ["--pooling", "mean,max,cls", "--ensemble", "10", "--channel", "fused", "--lexical-l2", "5e-5",
                   "--refit-lexical"],
}


def run(command: list[str]) -> tuple[dict, float, int]:
    print("$ " + " ".join(command), file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(command + ["--json"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"failed: {' '.join(command)}")
    return json.loads(out), time.perf_counter() - t0, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cache")
    parser.add_argument("--before", required=True, help="a checkout of the code before streaming (3928c88)")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--codes", default="before,after")
    parser.add_argument("--work", default=str(ROOT / "runs" / "streaming_imdb"))
    a = parser.parse_args()
    codes = {"before": [sys.executable, str(Path(a.before).resolve() / "cli.py")], "after": [MLBERT]}
    out = RESULTS / "streaming_imdb.json"
    rows = json.loads(out.read_text())["runs"] if out.exists() else []
    for recipe in a.recipes.split(","):
        for seed in a.seeds.split(","):
            for code in a.codes.split(","):  # interleaved: before, after, before, ...
                cmd = codes[code]
                model = Path(a.work) / f"{recipe}-{code}-seed{seed}"
                trained, wall, rss = run([*cmd, "train", "--cache", a.cache, "--model-dir", str(model),
                                          *RECIPES[recipe], "--seed", seed, "--overwrite"])
                test, _, _ = run([*cmd, "evaluate", "--cache", a.cache, "--model-dir", str(model)])
                row = {"recipe": recipe, "code": code, "seed": int(seed), "test_accuracy": test["accuracy"],
                       "test_loss": test["loss"], "val_accuracy": trained["val_accuracy"],
                       "head_val_accuracy": trained.get("head_val_accuracy"),
                       "train_seconds": trained["seconds"], "train_wall_seconds": round(wall, 1),
                       "seconds_per_epoch": trained["seconds_per_epoch"], "epochs_run": trained["epochs_run"],
                       "train_peak_rss_gb": round(rss / 1e9, 2), "lexical": trained.get("lexical"),
                       "fusion": trained.get("fusion"), "date": time.strftime("%Y-%m-%d")}
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
                out.write_text(json.dumps({"script": "benchmarks/train/streaming_imdb.py", "cache": a.cache,
                                           "machine": {"cpu": cpu_model(), "cores": os.cpu_count()},
                                           "runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
