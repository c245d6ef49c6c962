"""Calibrated probabilities: the temperature fitted on validation, stored in the model dir and applied
by evaluate, predict and load() alike (export: tests/test_sweep_export.py); the labels unchanged;
the calibration figures (ECE, Brier score, log loss) and the reliability diagram."""
from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import run_cli


def _by_hand(raw: np.ndarray, temperature: float) -> np.ndarray:
    """Two-class probabilities with the log-odds divided by the temperature, written out here."""
    p = np.clip(raw[:, 1], 1e-7, 1 - 1e-7)
    q = 1 / (1 + np.exp(-np.log(p / (1 - p)) / temperature))
    return np.stack([1 - q, q], axis=1)


def _raw_channel(model_dir):
    from mlbert.train import channels
    from mlbert.train.model_dir import read_config

    config = read_config(model_dir)
    return channels.check(channels.channel_of(config)).load(model_dir, config), config


def _cached(cache, split, poolings):
    from mlbert.extract.cache.read import open_split

    reader = open_split(cache, split, poolings, False)
    features, labels = {p: [] for p in poolings}, []
    for chunk in reader.chunks():
        for p in poolings:
            features[p].append(chunk.features[p])
        labels.append(chunk.labels)
    return {p: np.concatenate(v) for p, v in features.items()}, np.concatenate(labels)


def test_the_stored_temperature_is_applied_by_evaluate_and_predict(trained, extracted, tiny_archive):
    import mlbert
    from mlbert.data.sources.imdb import read_imdb

    raw, config = _raw_channel(trained)
    temperature = config["calibration"]["temperature"]
    assert config["calibration"]["fitted_on"] == "validation" and abs(temperature - 1) > 1e-3
    features, labels = _cached(extracted, "test", list(raw.spec.poolings))
    expected = _by_hand(np.asarray(raw.probabilities(features)), temperature)
    result = mlbert.evaluate(extracted, trained)
    assert result["temperature"] == temperature
    picked = np.clip(expected[np.arange(len(labels)), labels], 1e-7, 1 - 1e-7)
    assert result["log_loss"] == pytest.approx(-np.mean(np.log(picked)), abs=1e-6)
    assert result["brier"] == pytest.approx(np.mean((expected[:, 1] - labels) ** 2), abs=1e-6)

    texts = read_imdb(tiny_archive, ["test"])["test"].texts[:6]
    clf = mlbert.load(trained)
    np.testing.assert_allclose(clf.probabilities(texts), _by_hand(np.asarray(raw.probabilities(clf.features(texts))),
                                                                  temperature), atol=1e-6)
    confidences = [r["confidence"] for r in clf.predict(texts)]
    np.testing.assert_allclose(confidences, clf.probabilities(texts).max(axis=1), atol=1e-9)


def test_calibrated_and_raw_models_give_the_same_labels(trained, extracted):
    import mlbert

    raw, config = _raw_channel(trained)
    features, _ = _cached(extracted, "test", list(raw.spec.poolings))
    before = np.asarray(raw.probabilities(features))
    after = _by_hand(before, config["calibration"]["temperature"])
    assert not np.allclose(before, after)  # the confidences moved ...
    np.testing.assert_array_equal(before.argmax(axis=1), after.argmax(axis=1))  # ... the labels did not
    calibrated = mlbert.evaluate(extracted, trained)
    assert calibrated["confusion"] == {"labels": config["labels"],
                                       "matrix": np.bincount(2 * _cached(extracted, "test", ["mean"])[1]
                                                             + before.argmax(axis=1), minlength=4)
                                       .reshape(2, 2).tolist()}


def test_no_calibrate_keeps_the_raw_probabilities(extracted, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "m", "--epochs", 3,
                "--hidden", "8", "--dropout", "0.1", "--no-calibrate", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["calibration"] is None
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["calibration"] is None and config["head"]["calibrate"] is False
    r = run_cli(runner, cli_main, "evaluate", "--cache", extracted, "--model-dir", tmp_path / "m", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["temperature"] is None
    r = run_cli(runner, cli_main, "evaluate", "--cache", extracted, "--model-dir", tmp_path / "m")
    assert "| Temperature | none (raw) |" in r.stdout and "| ECE (15 bins) |" in r.stdout


def test_the_fitted_temperature_lowers_the_validation_log_loss():
    from mlbert.train.metrics import accuracy_and_loss
    from mlbert.train.temperature import fit_temperature, scaled

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 2000)
    logits = rng.standard_normal((2000, 3)) + 1.5 * np.eye(3)[y]
    overconfident = np.exp(4 * logits) / np.exp(4 * logits).sum(axis=1, keepdims=True)
    fitted = fit_temperature(overconfident, y)
    assert 2 < fitted["temperature"] < 8  # the scores were sharpened 4x
    assert fitted["val_log_loss"] < fitted["val_log_loss_raw"] and fitted["val_ece"] < fitted["val_ece_raw"]
    after = np.asarray(scaled(overconfident, fitted["temperature"]))
    assert accuracy_and_loss(y, after)[0] == accuracy_and_loss(y, overconfident)[0]
    for t in (fitted["temperature"] * 0.9, fitted["temperature"] * 1.1):  # a minimum, not just lower
        assert accuracy_and_loss(y, np.asarray(scaled(overconfident, t)))[1] > fitted["val_log_loss"]


def test_ece_and_brier_on_rows_worked_by_hand():
    from mlbert.train.metrics import brier, reliability

    probs = np.array([[0.1, 0.9], [0.2, 0.8], [0.9, 0.1], [0.4, 0.6]])
    labels = np.array([1, 0, 0, 1])
    # Confidences 0.9, 0.8, 0.9, 0.6: bins of width 1/15; 0.9 (twice, both right) -> |1 - 0.9| * 2,
    # 0.8 (wrong) -> 0.8, 0.6 (right) -> 0.4; ECE = (0.2 + 0.8 + 0.4) / 4.
    diagram = reliability(labels, probs)
    assert diagram["ece"] == pytest.approx(0.35) and sum(diagram["counts"]) == 4
    assert brier(labels, probs) == pytest.approx((0.01 + 0.64 + 0.01 + 0.16) / 4)
    three = np.array([[0.7, 0.2, 0.1]])
    assert brier([0], three) == pytest.approx(0.09 + 0.04 + 0.01)


def test_plot_adds_a_reliability_diagram(trained, extracted, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "evaluate", "--cache", extracted, "--model-dir", trained, "--plot",
                tmp_path / "figures", "--json")
    assert r.exit_code == 0, r.output
    figure = tmp_path / "figures" / "reliability.png"
    assert str(figure) in json.loads(r.stdout)["plots"]
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.stat().st_size > 10_000
