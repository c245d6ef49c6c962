"""The linear head (train/linear.py): a logistic regression solved by L-BFGS, its L2 weight chosen
on validation; it trains, evaluates, predicts and refits (export: tests/test_sweep_export.py)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import assert_clean_error, run_cli, synthetic_cache


def test_the_linear_head_trains_evaluates_and_predicts(extracted, tiny_archive, runner, cli_main, tmp_path):
    import mlbert
    from mlbert.data.sources.imdb import read_imdb

    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "m", "--head", "linear",
                "--l2", "1e-3,1e-1", "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    assert result["linear"]["l2"] in (1e-3, 1e-1) and result["linear"]["grid"] == [1e-1, 1e-3]
    assert result["calibration"]["temperature"] > 0
    model = json.loads((tmp_path / "m" / "config.json").read_text())
    assert model["head"]["head"] == "linear"
    r = run_cli(runner, cli_main, "evaluate", "--cache", extracted, "--model-dir", tmp_path / "m", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["accuracy"] > 0.5
    texts = read_imdb(tiny_archive, ["test"])["test"].texts[:4]
    predictions = mlbert.load(tmp_path / "m").predict(texts)
    assert [p["label"] for p in predictions] and all(p["label"] in ("neg", "pos") for p in predictions)


def test_the_linear_head_finds_the_optimum_of_a_planted_linear_signal(tmp_path):
    import mlbert

    cache = synthetic_cache(tmp_path / "c", 3000, poolings=("mean",), layers=2, hidden=16, shard_size=1000)
    linear = mlbert.train(cache, tmp_path / "linear", head="linear")
    refit = mlbert.train(cache, tmp_path / "refit", head="linear", refit=True)
    assert refit["refit"]["rows"] == 3000
    # The planted signal is linear, with about 90 % of it reachable.
    for model in ("linear", "refit"):
        assert mlbert.evaluate(cache, tmp_path / model)["accuracy"] > 0.83
    from mlbert.train.linear import Blocks, _loss_and_gradient
    from mlbert.train.rows import every
    from mlbert.extract.cache.read import open_split
    from mlbert.train.inputs import InputSpec

    spec = InputSpec(("mean",), (0, 1), 2, 16)
    blocks = Blocks(every(open_split(cache, "train", ["mean"], False)), spec, None)
    theta = np.random.default_rng(0).standard_normal(33) * 0.1
    loss, grad = _loss_and_gradient(blocks, theta, 32, 1, 1e-3, len(blocks.labels))
    step = 1e-6 * np.eye(33)[5]  # the gradient agrees with the loss's finite difference
    ahead = _loss_and_gradient(blocks, theta + step, 32, 1, 1e-3, len(blocks.labels))[0]
    assert (ahead - loss) / 1e-6 == pytest.approx(grad[5], rel=1e-3, abs=1e-6)


def test_the_linear_head_refuses_an_ensemble_and_a_layer_mix(extracted, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "m", "--head", "linear",
                "--ensemble", "3")
    assert_clean_error(r, "--head linear --ensemble 3", "--ensemble 1")
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "m", "--head", "linear",
                "--layer-mix", "learned")
    assert_clean_error(r, "--layer-mix learned", "concat")
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "m", "--head", "tree")
    assert r.exit_code == 2 and "tree" in r.output
    assert not (tmp_path / "m").exists()


def test_the_default_head_is_linear_on_small_data_and_the_mlp_otherwise(tmp_path):
    import mlbert
    from mlbert.train.config import AUTO_LINEAR_BELOW, HeadConfig

    cache = synthetic_cache(tmp_path / "c", 600, poolings=("mean",), layers=2, hidden=8)
    result = mlbert.train(cache, tmp_path / "m")  # 240 training rows per class
    assert result["head"] == "linear" and result["linear"]["l2"] is not None
    assert result["head_choice"]["asked"] == "auto" and result["head_choice"]["training_rows_per_class"] == 240
    assert json.loads((tmp_path / "m" / "config.json").read_text())["head"]["head"] == "linear"
    assert mlbert.train(cache, tmp_path / "e", ensemble=2)["head"] == "mlp"  # an ensemble asks for the MLP
    assert mlbert.train(cache, tmp_path / "x", head="mlp")["head_choice"] is None

    auto = HeadConfig()
    assert auto.head == "auto"
    assert auto.with_head(AUTO_LINEAR_BELOW - 0.5).head == "linear"
    assert auto.with_head(AUTO_LINEAR_BELOW).head == "mlp"
    for asked_for_the_mlp in ({"lr": 1e-3}, {"hidden": (64,), "dropout": (0.1,)}, {"epochs": 5},
                              {"layer_mix": "mean"}, {"ensemble": 3}):
        assert HeadConfig(**asked_for_the_mlp).with_head(10).head == "mlp", asked_for_the_mlp
    assert HeadConfig(head="mlp").with_head(10).head == "mlp"
