"""The driver's memory on Beam's DaskRunner, against the corpus size: it must stay flat.

    python benchmarks/extract/dask_driver_memory.py [--sizes 20000,200000] [--files 16]

SYNTHETIC reviews (random words of the seed model's vocabulary, 20 to 200 words each) in FILES
JSON Lines files; the seed model's architecture (4 layers, hidden 128) with random weights;
--seq-len 32; the DaskRunner on the LocalCluster extract starts. Each size runs `mlbert.extract` in a fresh
process, whose own peak RSS (getrusage RUSAGE_SELF: the driver only, not the worker processes) is
what is reported, with the planning pass's seconds (the driver streams every file once) timed in
another fresh process. Writes benchmarks/results/dask_driver_memory.json.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import RESULTS, SHARED, cpu_model, ensure_encoder  # noqa: E402

DASK = "runner=apache_beam.runners.dask.dask_runner.DaskRunner"

EXTRACT = """
import json, resource, sys, time
import mlbert
t0 = time.perf_counter()
summary = mlbert.extract(sys.argv[1], sys.argv[2], encoder=sys.argv[3], preprocessor=sys.argv[4], seq_len=32,
                         runner="beam", beam_option=[sys.argv[5]])
print(json.dumps({"seconds": time.perf_counter() - t0, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "reviews": sum(s["total"] for s in summary["splits"].values())}))
"""

PLAN = """
import json, resource, sys, time
from mlbert.data.sources.corpus import plan_corpus
t0 = time.perf_counter()
corpus = plan_corpus(sys.argv[1], None, 4000, None, "text", "label", 0.2, None, 0)
print(json.dumps({"seconds": time.perf_counter() - t0, "slices": len(corpus.slices),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_corpus(n: int, files: int, folder: Path) -> int:
    words = [w for w in (SHARED / "models/bert_uncased_L-4_H-128_A-2-config-only/vocab.txt").read_text().split()
             if w.isalpha()]
    rng = random.Random(0)
    folder.mkdir(parents=True)
    per = -(-n // files)
    for f in range(files):
        with open(folder / f"part-{f:02d}.jsonl", "w") as out:
            for _ in range(min(per, n - f * per)):
                text = " ".join(rng.choices(words, k=rng.randint(20, 200)))
                out.write(json.dumps({"text": text, "label": rng.choice(["neg", "pos"])}) + "\n")
    return sum(p.stat().st_size for p in folder.iterdir())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20000,200000")
    parser.add_argument("--files", type=int, default=16)
    args = parser.parse_args()
    encoder = ensure_encoder("random")
    work = Path(tempfile.mkdtemp(prefix="dask-memory-"))
    runs = {}
    for n in map(int, args.sizes.split(",")):
        corpus = work / f"corpus-{n}"
        size = write_corpus(n, args.files, corpus)
        python = [sys.executable, "-c"]
        plan = json.loads(subprocess.run(python + [PLAN, str(corpus)], check=True, capture_output=True,
                                         text=True).stdout.strip().splitlines()[-1])
        run = json.loads(subprocess.run(python + [EXTRACT, str(corpus), str(work / f"cache-{n}"),
                                                  str(encoder / "encoder"), str(encoder / "preprocessor"), DASK],
                                        check=True, stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1])
        assert run["reviews"] == n
        runs[n] = {"corpus_mb": round(size / 2**20, 1), "driver_peak_rss_mb": round(run["peak_rss_mb"], 1),
                   "extract_seconds": round(run["seconds"], 1), "reviews_per_s": round(n / run["seconds"], 1),
                   "planning_seconds": round(plan["seconds"], 2), "planning_peak_rss_mb": round(plan["peak_rss_mb"], 1),
                   "slices": plan["slices"]}
        print(n, runs[n], file=sys.stderr, flush=True)
    sizes = sorted(runs)
    result = {
        "data": "SYNTHETIC: random vocabulary words, 20-200 per review, labels at random",
        "files": args.files, "encoder": "bert_uncased_L-4_H-128_A-2 architecture, random weights", "seq_len": 32,
        "runner": "DaskRunner, the LocalCluster extract starts", "runs": {str(n): runs[n] for n in sizes},
        "driver_peak_ratio_largest_to_smallest": round(runs[sizes[-1]]["driver_peak_rss_mb"] /
                                                       runs[sizes[0]]["driver_peak_rss_mb"], 3),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count()},
        "command": "python benchmarks/extract/dask_driver_memory.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
    }
    (RESULTS / "dask_driver_memory.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
