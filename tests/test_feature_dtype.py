"""`extract --feature-dtype float16`: half the cache, the features rounded once, recorded in the
manifest and the fingerprint, never mixed with float32 shards; train, evaluate and predict read it."""
from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import assert_clean_error, run_cli


@pytest.fixture(scope="module")
def half(tiny_models, tiny_archive, tmp_path_factory, runner, cli_main):
    """The `extracted` cache's settings, stored in float16."""
    out = tmp_path_factory.mktemp("half") / "cache"
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", out, "--encoder", tiny_models["encoder"],
                "--preprocessor", tiny_models["preprocessor"], "--seq-len", 64, "--pooling", "mean,max",
                "--batch-size", 16, "--feature-dtype", "float16")
    assert r.exit_code == 0, r.output
    return out


def test_float16_cache_holds_the_float32_features_rounded(half, extracted):
    from mlbert.extract.cache.read import read_split

    for split in ("train", "test"):
        full, labels, ids, full_manifest = read_split(extracted, split, ["mean", "max"])
        rounded, labels16, ids16, manifest = read_split(half, split, ["mean", "max"])
        assert ids16 == ids and np.array_equal(labels16, labels)
        for p in ("mean", "max"):
            assert rounded[p].dtype == np.float16
            np.testing.assert_array_equal(rounded[p], full[p].astype(np.float16))
    assert manifest["features"]["feature_dtype"] == "float16" and "feature_dtype" not in full_manifest["features"]
    assert manifest["fingerprint"] != full_manifest["fingerprint"]
    import h5py

    def stored(cache):  # bytes of the feature datasets on disk
        return sum(h5py.File(f)[name].id.get_storage_size() for f in cache.glob("*.h5")
                   for name in ("features", "features_max"))
    assert stored(half) * 2 == stored(extracted)


def test_a_float32_shard_in_a_float16_cache_is_refused(half, tmp_path):
    import hashlib
    import shutil

    import h5py

    from mlbert.common.errors import BadInput
    from mlbert.extract.cache.read import read_split
    from mlbert.extract.cache.shards import read_shard, shard_bytes

    cache = tmp_path / "c"
    shutil.copytree(half, cache)
    manifest = json.loads((cache / "manifest.json").read_text())
    shard = manifest["splits"]["test"]["shards"][0]
    arrays, labels, ids = read_shard(cache, shard, manifest, ["features", "features_max"])
    with h5py.File(cache / shard["file"]) as f:
        attrs = dict(f.attrs)
    # A shard of this cache's own settings and fingerprint, but its features in float32.
    data = shard_bytes({k: v.astype(np.float32) for k, v in arrays.items()}, labels, ids, attrs)
    (cache / shard["file"]).write_bytes(data)
    shard["sha256"] = hashlib.sha256(data).hexdigest()
    (cache / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BadInput, match="holds float32, the manifest says float16"):
        read_split(cache, "test", ["mean", "max"])


def test_a_model_trained_on_float16_features_evaluates_and_predicts_alike(half, extracted, trained, tiny_archive,
                                                                          runner, cli_main, tmp_path):
    import mlbert
    from mlbert.data.sources.imdb import read_imdb
    from mlbert.extract.cache.read import read_split
    from mlbert.train.model_dir import load_predictor

    model = tmp_path / "m"
    r = run_cli(runner, cli_main, "train", "--cache", half, "--model-dir", model, "--pooling", "mean,max",
                "--epochs", 10, "--lr", 3e-3, "--batch-size", 16, "--json")
    assert r.exit_code == 0, r.output
    r = run_cli(runner, cli_main, "evaluate", "--cache", half, "--model-dir", model, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["accuracy"] > 0.6, r.output
    predictor, _ = load_predictor(model)
    features, _, ids, _ = read_split(half, "test", ["mean", "max"])
    texts = dict(zip(*(lambda x: (x.ids, x.texts))(read_imdb(tiny_archive, ["test"])["test"])))
    # New texts get the float16 rounding the head learned from.
    np.testing.assert_allclose(mlbert.load(model).probabilities([texts[i] for i in ids[:8]]),
                               predictor.probabilities({p: v[:8] for p, v in features.items()}), atol=1e-6)
    # A model trained on float32 features is not scored on float16 ones, nor the other way round.
    r = run_cli(runner, cli_main, "evaluate", "--cache", half, "--model-dir", trained)
    assert_clean_error(r, "settings.feature_dtype")
