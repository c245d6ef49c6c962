"""What the tests share: the tiny encoder's vocabulary and config, a tiny IMDB archive, the real CLI run
in-process, and the check of a clean error. Fixtures live in conftest.py."""
from __future__ import annotations

import gzip
import io
import json
import os
import random
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MLBERT = str(Path(sys.executable).parent / "mlbert")  # the installed console script

SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
IMDB_ARCHIVE = SHARED / "data/imdb/aclImdb_v1.tar.gz"
MINILM = SHARED / "models/all-MiniLM-L6-v2"

POSITIVE = ["great", "wonderful", "excellent", "superb", "loved", "brilliant", "moving", "beautiful"]
NEGATIVE = ["terrible", "awful", "boring", "waste", "hated", "dull", "stupid", "worst"]
NEUTRAL = ["the", "movie", "film", "was", "a", "plot", "actor", "story", "and", "it", "this", "of",
           "scene", "director", "i", "watched", "with", "my", "friend", "ending", "music", "cast", "br"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCT = [".", ",", "!", "?", "'", "<", ">", "/", "##s", "##ed", "##ing"]
VOCAB = SPECIALS + PUNCT + POSITIVE + NEGATIVE + NEUTRAL

TINY_CONFIG = {"architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
               "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
               "intermediate_size": 32, "max_position_embeddings": 512, "type_vocab_size": 2,
               "layer_norm_eps": 1e-12, "vocab_size": len(VOCAB)}


def review(rng: random.Random, label: int, length: int) -> str:
    cue = POSITIVE if label else NEGATIVE
    words = [rng.choice(cue) if rng.random() < 0.3 else rng.choice(NEUTRAL) for _ in range(length)]
    return " ".join(words).capitalize() + ". <br /><br />" + rng.choice(cue).capitalize() + "!"


def make_archive(path: Path, per_label: int = 40, seed: int = 0, extra: dict[str, bytes] | None = None) -> Path:
    """aclImdb_v1.tar.gz with per_label reviews per label per split; lengths vary from 3 to 300 words."""
    rng = random.Random(seed)
    files = {}
    for split in ("train", "test"):
        for label, name in ((1, "pos"), (0, "neg")):
            for i in range(per_label):
                rating = rng.choice([7, 8, 9, 10] if label else [1, 2, 3, 4])
                files[f"aclImdb/{split}/{name}/{i}_{rating}.txt"] = review(
                    rng, label, rng.choice([3, 10, 40, 120, 300])).encode()
    files.update(extra or {})
    files["aclImdb/README"] = b"tiny test copy"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def run_cli(runner, cli_main, *args, input=None):
    """Run the real CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    return runner.invoke(cli_main, [str(a) for a in args], input=input, catch_exceptions=False)


def assert_clean_error(result, *needles):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def synthetic_cache(out: Path, n: int, poolings=("mean", "max", "cls"), layers: int = 6, hidden: int = 384,
                    feature_dtype: str = "float16", shard_size: int = 4000, seed: int = 0, test: int | None = None,
                    per_review: int = 300, progress: bool = False, signal_layer: int | None = None) -> Path:
    """A SYNTHETIC cache in the real format, written through the project's shard writer and
    manifest: n train reviews (and `test`, default 1 % of n, at least 1,000), features N(0, 1) with a
    planted linear signal that a head can learn (about 90 % reachable), and per_review hashed n-gram
    ids from a 500,000-id vocabulary, 20 of them from a pool of each class's own ids (30 % of
    reviews carry the other class's). signal_layer: the signal in that layer's columns alone (of
    every pooling)."""
    import numpy as np

    from mlbert.common.provenance import versions
    from mlbert.extract.cache import manifest as cache_manifest
    from mlbert.extract.cache import writer
    from mlbert.extract.cache.shards import feature_arrays, write_shard
    from mlbert.extract.features.settings import FeatureSettings
    from mlbert.extract.pipeline.units import shard_attrs

    vocab, signal, pool = 500_000, 20, 2000
    dim = layers * hidden
    settings = FeatureSettings(poolings=tuple(poolings), feature_dtype=feature_dtype, ngrams=3)
    fields = {"encoder": {"handle": "synthetic"}, "preprocessor": {"handle": "synthetic"},
              "settings": settings.to_dict(), "data": {"synthetic": n, "seed": seed}, "limit": None,
              "order_seed": 0, "shard_size": shard_size}
    features = {"encoder": "synthetic", "preprocessor": "synthetic", **settings.to_dict(), "num_layers": layers,
                "hidden_size": hidden, "dim": dim,
                "datasets": {p: cache_manifest.dataset_name(p, poolings[0]) for p in poolings}}
    out.mkdir(parents=True, exist_ok=True)
    manifest = writer.new_manifest(fields, features, {"synthetic": n}, ["neg", "pos"])
    manifest.update(versions=versions(), command=f"tests/helpers.py synthetic_cache {n}")
    rng = np.random.default_rng(seed)
    width = len(poolings) * dim
    direction = rng.standard_normal(width) / np.sqrt(width)
    if signal_layer is not None:
        in_layer = (np.arange(width) % dim) // hidden == signal_layer
        direction = np.where(in_layer, direction, 0) / np.sqrt(in_layer.mean())
    pools = rng.choice(vocab, (2, pool), replace=False).astype(np.int32)
    for split, total in (("train", n), ("test", test if test is not None else max(1000, n // 100))):
        count = max(1, -(-total // shard_size))
        entry = {"counts": {}, "shards": [], "complete": False}
        manifest["splits"][split] = entry
        seen = np.zeros(2, np.int64)
        for i in range(count):
            lo, hi = i * shard_size, min(total, (i + 1) * shard_size)
            m = hi - lo
            x = rng.standard_normal((m, width), dtype=np.float32)
            y = (x @ direction * 3 + rng.standard_normal(m) > 0).astype(np.int8)
            pooled = {p: x[:, k * dim:(k + 1) * dim].reshape(m, layers, hidden) for k, p in enumerate(poolings)}
            ids = np.concatenate([rng.integers(0, vocab, (m, per_review - signal), dtype=np.int32),
                                  np.take_along_axis(pools[y], rng.integers(0, pool, (m, signal)), 1)], axis=1)
            flip = rng.random(m) < 0.3
            ids[flip, -signal:] = np.take_along_axis(pools[1 - y[flip]], rng.integers(0, pool, (flip.sum(), signal)), 1)
            ids.sort(axis=1)
            distinct = np.concatenate([np.ones((m, 1), bool), ids[:, 1:] != ids[:, :-1]], axis=1)
            name = cache_manifest.shard_name(split, i, count)
            digest = write_shard(out / name, feature_arrays(pooled, settings), y,
                                 [f"{split}-{seed}-{lo + j}" for j in range(m)],
                                 shard_attrs(split, i, count, manifest["fingerprint"]),
                                 (ids[distinct], distinct.sum(axis=1).astype(np.int32)))
            entry["shards"].append({"file": name, "count": m, "sha256": digest})
            seen += np.bincount(y, minlength=2)
            if progress:
                print(f"{out.name} {split}: shard {i + 1}/{count}", file=sys.stderr, flush=True)
        entry["counts"] = {"total": total, "labels": {"neg": int(seen[0]), "pos": int(seen[1])}}
        writer.complete(entry, None)
        writer.write(str(out), manifest)
    return out


def write_corpus(folder, rows_per_file=23, seed=0):
    """Three JSON Lines files (one gzipped), a CSV with quoted multi-line texts, a Parquet file of small
    row groups. Returns {file name: [(text, label), ...]} in file order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    words = "good bad great awful film plot the a was".split()
    written = {}

    def rows():
        return [(" ".join(rng.choice(words) for _ in range(rng.randint(2, 12))), rng.choice(["neg", "pos"]))
                for _ in range(rows_per_file)]

    for i in range(2):
        written[f"a-{i}.jsonl"] = rows()
        (folder / f"a-{i}.jsonl").write_text("".join(json.dumps({"text": t, "label": lab}) + "\n"
                                                     for t, lab in written[f"a-{i}.jsonl"]))
    written["b.jsonl.gz"] = rows()
    (folder / "b.jsonl.gz").write_bytes(gzip.compress("".join(
        json.dumps({"text": t, "label": lab}) + "\n\n" for t, lab in written["b.jsonl.gz"]).encode()))
    written["c.csv"] = [(f'{t}, "quoted"\nsecond line', lab) for t, lab in rows()]
    (folder / "c.csv").write_text("text,label\n" + "".join(
        '"' + t.replace('"', '""') + f'",{lab}\n' for t, lab in written["c.csv"]))
    written["d.parquet"] = rows()
    pq.write_table(pa.Table.from_pylist([{"text": t, "label": lab} for t, lab in written["d.parquet"]]),
                   folder / "d.parquet", row_group_size=5)
    return written


def agrees_across_paths(model, cache, tiny_archive, runner, cli_main, tmp_path, poolings, lexical=False,
                        segments=False):
    """Cached features, evaluate, load().probabilities on new texts and the exported SavedModel give
    the same probabilities (the first 12 test reviews'). Returns the served outputs and every cached
    test review's probabilities."""
    import numpy as np
    import pytest
    import tensorflow as tf
    import tensorflow_text  # noqa: F401

    import mlbert
    from mlbert.data.sources.imdb import read_imdb
    from mlbert.extract.cache.read import read_split
    from mlbert.train.model_dir import load_predictor

    predictor, _ = load_predictor(model)
    features, labels, ids, _ = read_split(cache, "test", poolings=poolings, lexical=lexical, segments=segments)
    cached = predictor.probabilities(features)
    r = run_cli(runner, cli_main, "evaluate", "--cache", cache, "--model-dir", model, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["accuracy"] == pytest.approx(np.mean(cached.argmax(1) == labels))
    texts = dict(zip(*(lambda x: (x.ids, x.texts))(read_imdb(tiny_archive, ["test"])["test"])))
    sample = [texts[i] for i in ids[:12]]
    np.testing.assert_allclose(mlbert.load(model).probabilities(sample), cached[:12], atol=1e-5)
    assert run_cli(runner, cli_main, "export", "--model-dir", model, "--out", tmp_path / "s").exit_code == 0
    served = tf.saved_model.load(str(tmp_path / "s")).signatures["serving_default"](text=tf.constant(sample))
    np.testing.assert_allclose(served["probabilities"].numpy(), cached[:12], atol=1e-5)
    return served, cached
