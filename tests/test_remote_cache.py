"""A cache at a URL rather than a local folder: extract, check-cache, train and evaluate take it unchanged.

The URL filesystem here is TensorFlow's real in-memory one (ram://), reached through the same
tf.io.gfile calls that serve gs://; it lives in this process, which is where CliRunner runs the CLI.
"""
from __future__ import annotations

import json
import uuid

import numpy as np
import pytest
import tensorflow as tf

from helpers import run_cli


def _extract_args(out, tiny_archive, tiny_models, *extra):
    return ["extract", "--data", tiny_archive, "--out", out, "--encoder", tiny_models["encoder"],
            "--preprocessor", tiny_models["preprocessor"], "--seq-len", 64, "--pooling", "mean,max",
            "--batch-size", 16, "--shard-size", 80, "--json", *extra]


def _same_features(a, b):
    from mlbert.extract.cache.read import read_split

    for split in ("train", "test"):
        (af, al, aids, _), (bf, bl, bids, _) = (read_split(c, split, poolings=["mean", "max"]) for c in (a, b))
        assert aids == bids and np.array_equal(al, bl)
        for p in ("mean", "max"):
            np.testing.assert_allclose(bf[p], af[p], atol=1e-6, rtol=0)


@pytest.mark.slow
def test_cache_at_a_url_works_end_to_end(extracted, tiny_models, tiny_archive, runner, cli_main, tmp_path):
    out = f"ram://{uuid.uuid4().hex}/cache"
    args = _extract_args(out, tiny_archive, tiny_models)
    r = run_cli(runner, cli_main, *args)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["cache"] == out
    names = tf.io.gfile.listdir(out)
    assert "manifest.json" in names and "test-00002-of-00003.h5" in names
    assert not [n for n in names if ".tmp-" in n]
    _same_features(extracted, out)
    assert run_cli(runner, cli_main, "check-cache", out).exit_code == 0

    r = run_cli(runner, cli_main, "train", "--cache", out, "--model-dir", tmp_path / "m", "--epochs", 2, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "m" / "config.json").read_text())["cache"]["path"] == out
    r = run_cli(runner, cli_main, "evaluate", "--cache", out, "--model-dir", tmp_path / "m", "--json")
    assert r.exit_code == 0, r.output
    test_reviews = json.loads((extracted / "manifest.json").read_text())["splits"]["test"]["counts"]["total"]
    assert json.loads(r.stdout)["n"] == test_reviews

    # A lost shard: check-cache names it by its URL; the same command rewrites only that shard.
    lost = f"{out}/train-00001-of-00003.h5"
    tf.io.gfile.remove(lost)
    r = run_cli(runner, cli_main, "check-cache", out)
    assert r.exit_code != 0 and lost in r.output
    before = {n: tf.io.gfile.GFile(f"{out}/{n}", "rb").read() for n in tf.io.gfile.listdir(out) if n.endswith(".h5")}
    r = run_cli(runner, cli_main, *args)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["splits"]["test"]["skipped"]
    assert tf.io.gfile.exists(lost)
    assert all(tf.io.gfile.GFile(f"{out}/{n}", "rb").read() == data for n, data in before.items())
    assert run_cli(runner, cli_main, "check-cache", out).exit_code == 0

    # A corrupted shard at the URL is refused with its name, as a local one is.
    with tf.io.gfile.GFile(lost, "wb") as f:
        f.write(b"not hdf5")
    r = run_cli(runner, cli_main, "train", "--cache", out, "--model-dir", tmp_path / "m2")
    assert r.exit_code == 2 and lost in r.stderr and "Traceback" not in r.output


@pytest.mark.slow
def test_beam_writes_a_cache_at_a_url(extracted, tiny_models, tiny_archive, runner, cli_main):
    pytest.importorskip("apache_beam", reason="apache-beam is an optional extra: pip install '.[beam]'")
    out = f"ram://{uuid.uuid4().hex}/cache"
    # Threads, not processes: ram:// is this process's memory, as a bucket is everyone's.
    r = run_cli(runner, cli_main, *_extract_args(out, tiny_archive, tiny_models, "--runner", "beam",
                                                 "--beam-option", "direct_num_workers=2",
                                                 "--beam-option", "direct_running_mode=multi_threading"))
    assert r.exit_code == 0, r.output
    assert not [n for n in tf.io.gfile.listdir(out) if ".tmp-" in n]
    _same_features(extracted, out)
    assert run_cli(runner, cli_main, "check-cache", out).exit_code == 0


def test_url_with_unknown_scheme_is_one_clear_line(tiny_models, tiny_archive, runner, cli_main):
    r = run_cli(runner, cli_main, *_extract_args("nosuchfs://bucket/cache", tiny_archive, tiny_models))
    assert r.exit_code == 2
    assert r.stderr.startswith("error: nosuchfs://bucket/cache") and "Traceback" not in r.output
    r = run_cli(runner, cli_main, "check-cache", "nosuchfs://bucket/cache")
    assert r.exit_code == 2 and "nosuchfs://" in r.stderr
