"""Sweeps (parallel, resumable, reported) and the exported serving SavedModel."""
from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from helpers import MLBERT, ROOT, assert_clean_error, run_cli


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
    """The head applied to the features `extract` cached (with the model's temperature, when it was
    calibrated), and the ids of the reviews they came from."""
    import keras

    from mlbert.train.inputs import InputSpec, select
    config = json.loads((model_dir / "config.json").read_text())
    spec = InputSpec.from_dict(config["input"])
    with h5py.File(next(cache.glob(f"{split}-00000-*.h5"))) as f:
        ids = [i.decode() for i in f["ids"][:n]]
        features = {p: f["features" if i == 0 else f"features_{p}"][:n]
                    for i, p in enumerate(json.loads((cache / "manifest.json").read_text())["features"]["poolings"])}
    model = keras.models.load_model(model_dir / "model.keras")
    raw = model.predict(select(features, spec), verbose=0).ravel().astype(np.float64)
    temperature = (config.get("calibration") or {}).get("temperature")
    if temperature is None:
        return ids, raw
    # The model's temperature divides the log-odds (written out here, apart from the package's code).
    p = np.clip(raw, 1e-7, 1 - 1e-7)
    return ids, 1 / (1 + np.exp(-np.log(p / (1 - p)) / temperature))


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
    temperature = json.loads((trained / "config.json").read_text())["calibration"]["temperature"]
    assert abs(temperature - 1) > 1e-3, "a temperature of 1 would not show that export applies it"
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
    (["--pooling", "mean"], ["--head", "linear", "--no-calibrate"]),
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


# Sweeps never hang: workers start from the package, not the caller's main module; a dead worker is
# reported; a grid too large is refused before anything is built.
@pytest.mark.slow
def test_the_readme_sweep_runs_from_a_script_without_a_main_guard(extracted, tmp_path):
    script = tmp_path / "sweep_it.py"
    script.write_text("import mlbert\n"
                      f"r = mlbert.sweep({str(extracted)!r}, 'sweep', lr=[1e-3, 5e-4], epochs=1, hidden='8', "
                      "dropout='0.1', workers=1)\nprint(r['trials'])\n")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "2" and "RuntimeError" not in r.stderr


@pytest.mark.slow
def test_python_cli_py_sweep_runs_from_a_clone(extracted, tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "cli.py"), "sweep", "--cache", str(extracted), "--out", "s",
                        "--lr", "1e-3,5e-4", "--epochs", "1", "--hidden", "8", "--dropout", "0.1", "--workers", "1",
                        "--json"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)["trials"] == 2


@pytest.mark.slow
def test_a_sweep_worker_killed_mid_trial_is_reported_not_waited_for(extracted, tmp_path):
    cmd = [MLBERT, "sweep", "--cache", str(extracted), "--out", str(tmp_path / "s"), "--lr", "1e-3,2e-3",
           "--epochs", "30", "--patience", "30", "--batch-size", "4", "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    children = []
    while time.time() < deadline and not children:
        assert proc.poll() is None, proc.communicate()
        ps = subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True).stdout
        children = [int(p) for p in ps.split()]
        time.sleep(0.2)
    time.sleep(3)  # into its start-up or its first trial: either way it dies unasked
    os.kill(children[0], signal.SIGKILL)  # as the out-of-memory killer would
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2, stderr
    assert f"worker process (pid {children[0]}) was killed by signal 9" in stderr.splitlines()[-1]
    assert "Traceback" not in stderr


def test_a_huge_grid_is_refused_at_once_and_trials_sample_it_without_building_it(extracted, tmp_path):
    import mlbert
    from mlbert.train.sweep import expand_grid, grid_with_defaults

    huge = {"lr": [float(i) for i in range(1, 1001)], "batch_size": list(range(1, 1001))}
    start = time.time()
    with pytest.raises(mlbert.BadInput, match=r"1,000,000 combinations \(1000 --lr x 1000 --batch-size\).*--trials"):
        mlbert.sweep(extracted, tmp_path / "s", epochs=1, **huge)
    assert not (tmp_path / "s").exists()
    configs = expand_grid(grid_with_defaults(huge), 3, seed=0)
    assert len(set(configs)) == 3 and all(c.lr in huge["lr"] for c in configs)
    assert expand_grid(grid_with_defaults(huge), 3, seed=0) == configs, "seeded"
    assert time.time() - start < 30
    with pytest.raises(mlbert.BadInput, match="--trials 20000: one sweep runs at most 10,000"):
        expand_grid(grid_with_defaults(huge), 20000, seed=0)


def test_a_grid_mixing_the_heads_skips_what_the_linear_head_cannot_take():
    import mlbert
    from mlbert.train.sweep import expand_grid, grid_with_defaults

    grid = {"head": ["mlp", "linear"], "ensemble": [1, 3], "lr": [1e-3, 5e-4], "layer_mix": ["concat", "mean"]}
    configs = expand_grid(grid_with_defaults(grid), None, seed=0)
    mlp = [c for c in configs if c.head == "mlp"]
    linear = [c for c in configs if c.head == "linear"]
    assert len(mlp) == 8  # every combination
    # One linear trial: no ensemble, no layer mix, and the learning rate means nothing to it.
    assert len(linear) == 1 and linear[0].ensemble == 1 and linear[0].layer_mix == "concat"
    with pytest.raises(mlbert.BadInput, match="--head linear needs --ensemble 1"):
        expand_grid(grid_with_defaults({"head": ["linear"], "ensemble": [3]}), None, seed=0)


@pytest.mark.parametrize("options, needle", [
    ({"trials": "2"}, "--trials '2': must be an integer"),
    ({"workers": 1.5}, "--workers 1.5: must be an integer"),
    ({"evaluate_best": "yes"}, "--evaluate-best 'yes': must be True or False"),
    ({"hidden": [[8, "a"]]}, "--hidden [8, 'a']: not a comma-separated list of int values"),
    ({"epochs": [1.5]}, "--epochs 1.5: must be an integer"),
])
def test_sweep_option_types_are_checked_before_anything_is_written(extracted, tmp_path, options, needle):
    import mlbert

    with pytest.raises(mlbert.BadInput, match=re.escape(needle)):
        mlbert.sweep(extracted, tmp_path / "s", **options)
    assert not (tmp_path / "s").exists()
