"""Stage one on Beam's DaskRunner (and DirectRunner) against the local runner, end to end, on real reviews.

    python benchmarks/extract/dask_throughput.py [--n 2000] [--files 8] [--rounds 3]

The first N IMDB test reviews (seeded order) are written to FILES JSON Lines files, a corpus that
the workers read themselves. Each round runs, one after another, `mlbert extract` on the local
runner, on the DaskRunner (the LocalCluster extract starts: one single-threaded worker process per core) and
on the DirectRunner (two worker processes), with all-MiniLM-L6-v2 at --seq-len 128. Reviews/s is N
over the command's wall time, start to exit: the model check, the cluster, the workers' model loads
and the manifest included. Writes benchmarks/results/dask_throughput.json, with the median of each
runner, the ratios to local, and the largest feature difference between the caches.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import MLBERT, RESULTS, SHARED, cpu_model, ensure_encoder  # noqa: E402

RUNNERS = {
    "local": [],
    "dask": ["--runner", "beam", "--beam-option", "runner=apache_beam.runners.dask.dask_runner.DaskRunner"],
    "direct": ["--runner", "beam", "--beam-option", "direct_num_workers=2",
               "--beam-option", "direct_running_mode=multi_processing"],
}


def write_corpus(n: int, files: int, folder: Path) -> None:
    from mlbert.data.sources.imdb import read_imdb

    reviews = read_imdb(SHARED / "data/imdb/aclImdb_v1.tar.gz", ["test"], limit=n)["test"]
    folder.mkdir(parents=True)
    per = -(-n // files)
    for f in range(files):
        rows = range(f * per, min(n, (f + 1) * per))
        (folder / f"part-{f:02d}.jsonl").write_text("".join(
            json.dumps({"text": reviews.texts[i], "label": reviews.classes[reviews.labels[i]], "split": "test"}) + "\n"
            for i in rows))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runners", default="local,dask,direct")
    args = parser.parse_args()

    import numpy as np

    from mlbert.extract.cache.read import read_split

    encoder = ensure_encoder("minilm")
    work = Path(tempfile.mkdtemp(prefix="dask-throughput-"))
    write_corpus(args.n, args.files, work / "corpus")
    runners = args.runners.split(",")
    seconds = {name: [] for name in runners}
    for round_ in range(args.rounds):
        for name in runners:
            out = work / f"{name}-{round_}"
            cmd = [MLBERT, "extract", "--data", str(work / "corpus"), "--out", str(out),
                   "--encoder", str(encoder / "encoder"), "--preprocessor", str(encoder / "preprocessor"),
                   "--seq-len", "128", "--json", *RUNNERS[name]]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            seconds[name].append(time.perf_counter() - t0)
            print(f"round {round_} {name}: {seconds[name][-1]:.1f} s", file=sys.stderr, flush=True)
    local = read_split(work / "local-0", "test")
    median = {name: statistics.median(s) for name, s in seconds.items()}
    result = {
        "reviews": args.n, "files": args.files, "encoder": "all-MiniLM-L6-v2", "seq_len": 128,
        "rounds": args.rounds, "order": "interleaved: " + ", ".join(runners) + " in each round",
        "seconds": {name: [round(x, 1) for x in s] for name, s in seconds.items()},
        "median_seconds": {name: round(m, 1) for name, m in median.items()},
        "reviews_per_s": {name: round(args.n / m, 1) for name, m in median.items()},
        "ratio_to_local": {name: round(median["local"] / m, 3) for name, m in median.items()},
        "max_abs_feature_difference": {
            name: float(max(np.abs(read_split(work / f"{name}-0", "test")[0][p] - local[0][p]).max()
                            for p in local[0])) for name in runners},
        "workers": {"dask": f"LocalCluster, {os.cpu_count()} processes x 1 thread (the LocalCluster extract starts)",
                    "direct": "2 processes (multi_processing)"},
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count()},
        "command": "python benchmarks/extract/dask_throughput.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
    }
    (RESULTS / "dask_throughput.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
