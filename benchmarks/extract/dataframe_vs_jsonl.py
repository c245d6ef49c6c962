"""Data from memory against the same rows in a file: `mlbert.extract(df, ...)` on a pandas DataFrame
of real IMDB reviews, and `mlbert.extract("reviews.jsonl", ...)` on the same rows written to JSON
Lines, with all-MiniLM-L6-v2 at --seq-len 128.

    python benchmarks/extract/dataframe_vs_jsonl.py [--n 2000]

The first N IMDB test reviews (seeded order), each with its label. Row i of the frame is line i + 1
of the file, so each review's features are compared by row: the largest absolute difference, and
whether every array is equal to the bit. Also the seconds of each extraction (one run each, not
interleaved: a sanity figure, not a speed comparison). Writes benchmarks/results/dataframe_vs_jsonl.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import RESULTS, SHARED, cpu_model, ensure_encoder  # noqa: E402


def features_by_row(cache: Path, offset: int) -> dict[int, dict[str, np.ndarray]]:
    """{row number: {dataset: features}} of every split; ids are 'row-i' (memory) or 'line-n' (file)."""
    import h5py

    found = {}
    for shard in sorted(cache.glob("*.h5")):
        with h5py.File(shard) as f:
            names = [k for k in f if k.startswith("features")]
            for j, i in enumerate(f["ids"][...]):
                found[int(i.decode().rsplit("-", 1)[1]) - offset] = {k: f[k][j] for k in names}
    return found


def main() -> None:
    import pandas

    import mlbert
    from mlbert.data.sources.imdb import read_imdb

    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    encoder = ensure_encoder("minilm")
    models = {"encoder": str(encoder / "encoder"), "preprocessor": str(encoder / "preprocessor"), "seq_len": 128}
    reviews = read_imdb(SHARED / "data/imdb/aclImdb_v1.tar.gz", ["test"], limit=args.n)["test"]
    names = list(reviews.classes)
    frame = pandas.DataFrame({"text": list(reviews.texts), "label": [names[y] for y in reviews.labels]})
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "reviews.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in frame.to_dict("records")))
        t0 = time.perf_counter()
        mlbert.extract(frame, tmp / "memory", **models)
        memory_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        mlbert.extract(str(path), tmp / "file", **models)
        file_seconds = time.perf_counter() - t0
        memory, file = features_by_row(tmp / "memory", 0), features_by_row(tmp / "file", 1)
        manifest = json.loads((tmp / "memory" / "manifest.json").read_text())
    assert memory.keys() == file.keys(), "the two caches hold different rows"
    difference = max(float(np.max(np.abs(memory[i][k].astype(np.float64) - file[i][k].astype(np.float64))))
                     for i in memory for k in memory[i])
    equal = all(np.array_equal(memory[i][k], file[i][k]) for i in memory for k in memory[i])
    result = {"script": "benchmarks/extract/dataframe_vs_jsonl.py", "data": f"the first {args.n} IMDB test reviews "
              "(real), as a pandas DataFrame and as JSON Lines", "encoder": "all-MiniLM-L6-v2, --seq-len 128",
              "rows": len(memory), "splits": {k: v["counts"]["total"] for k, v in manifest["splits"].items()},
              "max_abs_difference": difference, "bit_identical": equal,
              "seconds": {"dataframe": round(memory_seconds, 1), "jsonl": round(file_seconds, 1)},
              "data_fingerprint": manifest["fingerprint_fields"]["data"]["kind"], "cpu": cpu_model()}
    (RESULTS / "dataframe_vs_jsonl.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
