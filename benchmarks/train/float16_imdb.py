"""float16 features against float32 on real IMDB: the same cache stored both ways, the same recipe
trained on each; test accuracy, cache size and train seconds.

    python benchmarks/train/float16_imdb.py CACHE [--recipe bert-10-heads] [--seeds 0]

The float16 cache is CACHE's shards rewritten through the project's shard writer with
`extract --feature-dtype float16`'s settings and fingerprint: `extract` rounds the encoder's float32
features to float16 when it writes a shard, which is exactly this cast of the float32 cache's
features, so the encoder need not run again. Writes benchmarks/results/float16_imdb.json.
"""
from __future__ import annotations

import argparse
import copy
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import MLBERT, RESULTS, ROOT, cpu_model  # noqa: E402
from streaming_imdb import RECIPES, run  # noqa: E402  (benchmarks/train/ is the script's folder)


def float16_copy(cache: Path, out: Path) -> Path:
    """CACHE's shards rewritten in float16, a manifest of their own (kept when complete)."""
    from mlbert.extract.cache import manifest as cache_manifest
    from mlbert.extract.cache import writer
    from mlbert.extract.cache.read import has_ngrams
    from mlbert.extract.cache.shards import NGRAM_COUNTS, NGRAM_IDS, read_shard, write_shard
    from mlbert.extract.pipeline.units import shard_attrs

    if (out / "manifest.json").exists():
        return out
    old = cache_manifest.read_manifest(cache)
    manifest = copy.deepcopy(old)
    manifest["fingerprint_fields"]["settings"]["feature_dtype"] = "float16"
    manifest["features"]["feature_dtype"] = "float16"
    manifest["fingerprint"] = cache_manifest.fingerprint(manifest["fingerprint_fields"])
    manifest["command"] = f"benchmarks/train/float16_imdb.py {cache}"
    names = list(old["features"]["datasets"].values())
    lexical = has_ngrams(old)
    tmp = out.with_name(out.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    for split, entry in manifest["splits"].items():
        for i, shard in enumerate(entry["shards"]):
            arrays, labels, ids = read_shard(cache, shard, old, names, lexical)
            features = {name: arrays[name].astype("float16") for name in names}
            ngrams = (arrays[NGRAM_IDS], arrays[NGRAM_COUNTS]) if lexical else None
            shard["sha256"] = write_shard(tmp / shard["file"], features, labels, ids,
                                          shard_attrs(split, i, len(entry["shards"]), manifest["fingerprint"]), ngrams)
            print(f"float16 copy: {split} shard {i + 1}/{len(entry['shards'])}", file=sys.stderr, flush=True)
    for f in cache.iterdir():  # the rest of the cache as it is: an int8 cache's own encoder files
        if f.is_file() and f.suffix != ".h5" and f.name != "manifest.json":
            shutil.copy2(f, tmp / f.name)
    writer.write(str(tmp), manifest)
    tmp.rename(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cache")
    parser.add_argument("--recipe", default="bert-10-heads")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--work", default=str(ROOT / "runs" / "float16_imdb"))
    parser.add_argument("--dtypes", default="float32,float16")
    a = parser.parse_args()
    work = Path(a.work)
    caches = {"float32": Path(a.cache), "float16": float16_copy(Path(a.cache), work / "cache-float16")}
    out = RESULTS / "float16_imdb.json"
    rows = json.loads(out.read_text())["runs"] if out.exists() else []
    for seed in a.seeds.split(","):
        for dtype in a.dtypes.split(","):
            cache = caches[dtype]
            model = work / f"{a.recipe}-{dtype}-seed{seed}"
            trained, wall, rss = run([MLBERT, "train", "--cache", str(cache), "--model-dir", str(model),
                                      *RECIPES[a.recipe], "--seed", seed, "--overwrite"])
            test, _, _ = run([MLBERT, "evaluate", "--cache", str(cache), "--model-dir", str(model)])
            rows.append({"recipe": a.recipe, "feature_dtype": dtype, "seed": int(seed),
                         "test_accuracy": test["accuracy"], "val_accuracy": trained["val_accuracy"],
                         "train_seconds": trained["seconds"], "train_peak_rss_gb": round(rss / 1e9, 2),
                         "cache_gb": round(sum(f.stat().st_size for f in cache.glob("*.h5")) / 1e9, 2)})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
            out.write_text(json.dumps(
                {"script": "benchmarks/train/float16_imdb.py", "cache": a.cache, "machine": {"cpu": cpu_model()},
                 "date": time.strftime("%Y-%m-%d"), "runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
