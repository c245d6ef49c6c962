"""Sweeps (parallel, resumable, reported) and the exported serving SavedModel."""
from __future__ import annotations

import csv
import json

import h5py
import numpy as np
import pytest

from helpers import assert_clean_error, run_cli


@pytest.mark.slow
def test_sweep_runs_the_grid_in_parallel_and_resumes(extracted, runner, cli_main, tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", "--cache", extracted, "--out", out, "--lr", "1e-3,3e-3", "--hidden", "16,8;32",
            "--dropout", "0.1", "--epochs", 3, "--batch-size", 32, "--workers", 2, "--json"]
    r = run_cli(runner, cli_main, *args)
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert (summary["trials"], summary["ran"], summary["kept"]) == (4, 4, 0)
    assert r.stderr.count("trial ") >= 4 and "left" in r.stderr
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4
    accs = [float(row["val_accuracy"]) for row in rows]
    assert accs == sorted(accs, reverse=True)
    assert {row["hidden"] for row in rows} == {"16,8", "32"} and {row["dropout"] for row in rows} == {"0.1,0.1", "0.1"}
    results = json.loads((out / "results.json").read_text())
    assert results["trials"][0]["val_accuracy"] == summary["best"]["val_accuracy"] == accs[0]
    assert "versions" in results and "sweep" in results["command"]
    assert (out / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    # The best model is a normal model dir.
    r = run_cli(runner, cli_main, "evaluate", "--cache", extracted, "--model-dir", out / "best", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["n"] == 200
    best_config = json.loads((out / "best" / "config.json").read_text())
    assert best_config["result"]["val_accuracy"] == accs[0]

    # Interrupted sweep: forget one finished trial; only that one runs again.
    log = out / "trials.jsonl"
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20])  # the last line cut mid-write
    r = run_cli(runner, cli_main, *args[:-1], "--evaluate-best", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert (summary["trials"], summary["ran"], summary["kept"]) == (4, 1, 3)
    assert 0 <= summary["test"]["accuracy"] <= 1 and summary["test"]["n"] == 200


@pytest.mark.slow
def test_sweep_random_trials_sample_the_grid(extracted, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "sweep", "--cache", extracted, "--out", tmp_path / "s", "--lr", "1e-3,2e-3,3e-3",
                "--batch-size", "16,32", "--epochs", 1, "--trials", 2, "--workers", 1, "--hidden", "8",
                "--dropout", "0.1", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["trials"] == 2


@pytest.mark.slow
def test_sweep_compares_single_heads_with_ensembles(extracted, runner, cli_main, tmp_path):
    out = tmp_path / "s"
    r = run_cli(runner, cli_main, "sweep", "--cache", extracted, "--out", out, "--ensemble", "1,2", "--epochs", 2,
                "--hidden", "8", "--dropout", "0.1", "--workers", 1, "--json")
    assert r.exit_code == 0, r.output
    with open(out / "results.csv") as f:
        rows = {row["ensemble"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"1", "2"} and len(rows["2"]["best_epoch"].split(",")) == 2
    best = json.loads((out / "best" / "config.json").read_text())
    assert best["head"]["ensemble"] == json.loads(r.stdout)["best"]["ensemble"]


def test_sweep_rejects_unmatched_dropout(extracted, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "sweep", "--cache", extracted, "--out", tmp_path / "s",
                "--hidden", "8,4", "--dropout", "0.1,0.2,0.3")
    assert_clean_error(r, "--dropout")


def _serve(path, texts):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  the only import the exported model needs
    loaded = tf.saved_model.load(str(path))
    return loaded.signatures["serving_default"](text=tf.constant(texts))["positive_probability"].numpy()


def _two_stage_probs(cache, model_dir, split, n):
    """The head applied to the features `extract` cached, and the texts they came from."""
    import keras

    from mlbert.train.inputs import InputSpec, select
    config = json.loads((model_dir / "config.json").read_text())
    spec = InputSpec.from_dict(config["input"])
    with h5py.File(next(cache.glob(f"{split}-00000-*.h5"))) as f:
        ids = [i.decode() for i in f["ids"][:n]]
        features = {p: f["features" if i == 0 else f"features_{p}"][:n]
                    for i, p in enumerate(json.loads((cache / "manifest.json").read_text())["features"]["poolings"])}
    model = keras.models.load_model(model_dir / "model.keras")
    return ids, model.predict(select(features, spec), verbose=0).ravel()


def _texts(archive, ids):
    from mlbert.data.sources.imdb import read_imdb
    reviews = read_imdb(archive, ["train", "test"])
    by_id = {i: t for r in reviews.values() for i, t in zip(r.ids, r.texts)}
    return [by_id[i] for i in ids]


@pytest.mark.slow
def test_export_matches_the_two_stage_path(trained, extracted, tiny_archive, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "export", "--model-dir", trained, "--out", tmp_path / "serving")
    assert r.exit_code == 0, r.output
    ids, expected = _two_stage_probs(extracted, trained, "test", 24)
    texts = _texts(tiny_archive, ids)
    assert max(len(t.split()) for t in texts) > 64, "needs a review longer than the sequence length"
    np.testing.assert_allclose(_serve(tmp_path / "serving", texts), expected, atol=1e-5)
    r = run_cli(runner, cli_main, "export", "--model-dir", trained, "--out", tmp_path / "serving")
    assert_clean_error(r, "already holds an exported model", "--overwrite")
    r = run_cli(runner, cli_main, "export", "--model-dir", trained, "--out", tmp_path / "serving", "--overwrite")
    assert r.exit_code == 0, r.output
    np.testing.assert_allclose(_serve(tmp_path / "serving", texts), expected, atol=1e-5)


@pytest.mark.parametrize("flags,train_flags", [
    (["--windows", "--stride", "10", "--pooling", "mean,max,cls"], ["--layers", "last"]),
    (["--truncation", "head+tail", "--pooling", "max"], ["--layers", "last"]),
    (["--truncation", "tail", "--pooling", "mean,cls"], ["--pooling", "mean,cls", "--layer-mix", "learned"]),
    (["--pooling", "mean"], ["--ensemble", "2"]),
])
@pytest.mark.slow
def test_export_matches_for_windows_and_head_tail(tiny_models, tiny_archive, runner, cli_main, tmp_path, flags,
                                                  train_flags):
    cache, model = tmp_path / "c", tmp_path / "m"
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", cache, "--limit", 40, "--seq-len", 24,
                "--encoder", tiny_models["encoder"], "--preprocessor", tiny_models["preprocessor"], *flags)
    assert r.exit_code == 0, r.output
    r = run_cli(runner, cli_main, "train", "--cache", cache, "--model-dir", model, "--epochs", 2,
                "--hidden", "8", "--dropout", "0.1", *train_flags, "--json")
    assert r.exit_code == 0, r.output
    assert run_cli(runner, cli_main, "export", "--model-dir", model, "--out", tmp_path / "s").exit_code == 0
    ids, expected = _two_stage_probs(cache, model, "test", 16)
    np.testing.assert_allclose(_serve(tmp_path / "s", _texts(tiny_archive, ids)), expected, atol=1e-5)
