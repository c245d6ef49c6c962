"""Any labels: two classes or more, named or numbered, a validation split from the data, and the
seed's binary head unchanged."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest

from helpers import NEGATIVE, NEUTRAL, POSITIVE, assert_clean_error, run_cli

THREE = {"negative": NEGATIVE, "neutral": NEUTRAL, "positive": POSITIVE}
FIVE = ["very negative", "negative", "neutral", "positive", "very positive"]


def _sentence(rng, cue, length=12):
    return " ".join(rng.choice(cue) if rng.random() < 0.4 else rng.choice(NEUTRAL) for _ in range(length))


def _three_class_rows(seed=0, per_class={"train": 30, "dev": 10, "test": 12}):
    rng = random.Random(seed)
    rows = []
    for split, n in per_class.items():
        for label, cue in THREE.items():
            rows += [{"text": _sentence(rng, cue, rng.choice([5, 12, 30])), "label": label, "split": split}
                     for _ in range(n)]
    rng.shuffle(rows)
    return rows


def _five_class_rows(seed=1, per_class=10):
    rng = random.Random(seed)
    cues = [NEGATIVE, NEGATIVE + NEUTRAL, NEUTRAL, POSITIVE + NEUTRAL, POSITIVE]
    return [{"text": _sentence(rng, cue), "label": name, "split": split}
            for split in ("train", "validation", "test") for name, cue in zip(FIVE, cues) for _ in range(per_class)]


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _models(tiny_models):
    return ["--encoder", tiny_models["encoder"], "--preprocessor", tiny_models["preprocessor"]]


@pytest.fixture(scope="module")
def three(tmp_path_factory, tiny_models, runner, cli_main):
    """A three-class cache with train, validation (from 'dev' rows) and test splits, and a model on it."""
    root = tmp_path_factory.mktemp("three")
    data = _write_jsonl(root / "three.jsonl", _three_class_rows())
    r = run_cli(runner, cli_main, "extract", "--data", data, "--out", root / "cache", "--seq-len", 32,
                "--pooling", "mean,max", *_models(tiny_models), "--json")
    assert r.exit_code == 0, r.output
    r = run_cli(runner, cli_main, "train", "--cache", root / "cache", "--model-dir", root / "model", "--epochs", 40,
                "--patience", 8, "--lr", 3e-3, "--batch-size", 16, "--pooling", "mean,max", "--json")
    assert r.exit_code == 0, r.output
    return {"root": root, "data": data, "cache": root / "cache", "model": root / "model", "train": json.loads(r.stdout)}


@pytest.mark.slow
def test_three_named_classes_with_their_own_validation_split(three):
    manifest = json.loads((three["cache"] / "manifest.json").read_text())
    assert manifest["labels"] == ["negative", "neutral", "positive"]
    assert set(manifest["splits"]) == {"train", "validation", "test"}
    assert manifest["splits"]["validation"]["counts"]["labels"] == {"negative": 10, "neutral": 10, "positive": 10}
    result = three["train"]
    assert result["validation"] == {"from": "split", "split": "validation"}
    assert (result["train_size"], result["val_size"]) == (90, 30)
    config = json.loads((three["model"] / "config.json").read_text())
    assert config["labels"] == ["negative", "neutral", "positive"]


@pytest.mark.slow
def test_three_classes_evaluate_reports_every_class(three, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "evaluate", "--cache", three["cache"], "--model-dir", three["model"], "--json",
                "--plot", tmp_path / "fig")
    assert r.exit_code == 0, r.output
    m = json.loads(r.stdout)
    assert m["n"] == 36 and m["labels"] == ["negative", "neutral", "positive"]
    assert m["accuracy"] > 0.5, m
    assert set(m["per_class"]) == set(m["labels"]) and all(v["support"] == 12 for v in m["per_class"].values())
    matrix = np.array(m["confusion"]["matrix"])
    assert matrix.shape == (3, 3) and matrix.sum() == 36 and np.trace(matrix) == round(m["accuracy"] * 36)
    f1 = [v["f1"] for v in m["per_class"].values()]
    assert m["macro_f1"] == pytest.approx(np.mean(f1)) and m["weighted_f1"] == pytest.approx(np.mean(f1))
    assert 0.5 < m["auc"] <= 1
    for name in ("confusion_matrix.png", "roc_curve.png", "learning_curves.png"):
        assert (tmp_path / "fig" / name).read_bytes()[:4] == b"\x89PNG"
    table = run_cli(runner, cli_main, "evaluate", "--cache", three["cache"], "--model-dir", three["model"]).stdout
    assert "| neutral |" in table and "Confusion matrix" in table and "ROC AUC (one-vs-rest, macro)" in table


@pytest.mark.slow
def test_three_classes_predict_and_export_agree_on_names_and_probabilities(three, runner, cli_main, tmp_path):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401

    import mlbert

    texts = ["great wonderful excellent superb loved", "terrible awful boring waste hated",
             "the movie was a film with a plot"]
    clf = mlbert.load(three["model"])
    rows = clf.predict(texts)
    assert all(set(row["probabilities"]) == {"negative", "neutral", "positive"} for row in rows)
    assert all(row["probabilities"][row["label"]] == row["confidence"] == max(row["probabilities"].values())
               for row in rows)
    assert all(sum(row["probabilities"].values()) == pytest.approx(1, abs=1e-5) for row in rows)
    assert [row["label"] for row in rows][:2] == ["positive", "negative"]
    r = run_cli(runner, cli_main, "predict", "--model-dir", three["model"], *texts)
    assert r.exit_code == 0 and "| positive |" in r.stdout and "| negative |" in r.stdout

    r = run_cli(runner, cli_main, "export", "--model-dir", three["model"], "--out", tmp_path / "serving", "--json")
    assert r.exit_code == 0, r.output
    served = tf.saved_model.load(str(tmp_path / "serving")).signatures["serving_default"](text=tf.constant(texts))
    np.testing.assert_allclose(served["probabilities"].numpy(), clf.probabilities(texts), atol=1e-5)
    assert [b.decode() for b in served["label"].numpy()] == [row["label"] for row in rows]
    assert "positive_probability" not in served


@pytest.mark.slow
def test_three_class_ensembles_refit_layer_mix_and_sweeps(three, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "train", "--cache", three["cache"], "--model-dir", tmp_path / "m", "--epochs", 3,
                "--ensemble", 2, "--refit", "--layer-mix", "learned", "--no-standardize", "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    assert result["refit"]["rows"] == 120 and len(result["best_epoch"]) == 2
    r = run_cli(runner, cli_main, "evaluate", "--cache", three["cache"], "--model-dir", tmp_path / "m", "--json")
    assert r.exit_code == 0 and len(json.loads(r.stdout)["confusion"]["matrix"]) == 3
    r = run_cli(runner, cli_main, "sweep", "--cache", three["cache"], "--out", tmp_path / "s", "--ensemble", "1,2",
                "--epochs", 2, "--hidden", "8", "--dropout", "0.1", "--workers", 1, "--evaluate-best", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["trials"] == 2 and summary["test"]["labels"] == ["negative", "neutral", "positive"]
    best = json.loads((tmp_path / "s" / "best" / "config.json").read_text())
    assert best["result"]["validation"]["from"] == "split"


@pytest.mark.slow
def test_val_fraction_is_refused_when_the_cache_has_a_validation_split(three, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "train", "--cache", three["cache"], "--model-dir", tmp_path / "m",
                "--val-fraction", 0.3)
    assert_clean_error(r, "--val-fraction 0.3", "own validation split")
    r = run_cli(runner, cli_main, "sweep", "--cache", three["cache"], "--out", tmp_path / "s", "--val-fraction", "0.3")
    assert_clean_error(r, "--val-fraction 0.3")


@pytest.mark.slow
def test_five_classes_in_the_order_given(tmp_path, tiny_models, runner, cli_main):
    data = _write_jsonl(tmp_path / "five.jsonl", _five_class_rows())
    cache = tmp_path / "c"
    r = run_cli(runner, cli_main, "extract", "--data", data, "--out", cache, "--seq-len", 32, "--labels",
                ",".join(FIVE), *_models(tiny_models), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["labels"] == FIVE
    r = run_cli(runner, cli_main, "train", "--cache", cache, "--model-dir", tmp_path / "m", "--epochs", 2, "--json")
    assert r.exit_code == 0, r.output
    r = run_cli(runner, cli_main, "evaluate", "--cache", cache, "--model-dir", tmp_path / "m", "--json")
    m = json.loads(r.stdout)
    assert m["labels"] == FIVE and list(m["per_class"]) == FIVE and np.array(m["confusion"]["matrix"]).shape == (5, 5)
    r = run_cli(runner, cli_main, "predict", "--model-dir", tmp_path / "m", "--json", "fine")
    assert list(json.loads(r.stdout)[0]["probabilities"]) == FIVE
    # Without --labels the classes are sorted names.
    r = run_cli(runner, cli_main, "extract", "--data", data, "--out", tmp_path / "sorted", "--seq-len", 32,
                *_models(tiny_models), "--json")
    assert json.loads(r.stdout)["labels"] == sorted(FIVE)


def test_a_label_outside_the_given_list_names_its_line(tmp_path, tiny_models, runner, cli_main):
    rows = _five_class_rows(per_class=2)
    rows[7]["label"] = "mixed"
    data = _write_jsonl(tmp_path / "five.jsonl", rows)
    r = run_cli(runner, cli_main, "extract", "--data", data, "--out", tmp_path / "c", "--labels", ",".join(FIVE),
                *_models(tiny_models))
    assert_clean_error(r, "five.jsonl:8", "'mixed'", "--labels")
    r = run_cli(runner, cli_main, "extract", "--data", tmp_path / "five.jsonl", "--out", tmp_path / "c",
                "--labels", "a,b,a", *_models(tiny_models))
    assert_clean_error(r, "--labels", "twice")


def test_integer_labels_sort_as_numbers_and_mixed_sentiment_spellings_mean_neg_pos(tmp_path, tiny_models, runner,
                                                                                 cli_main):
    stars = _write_jsonl(tmp_path / "stars.jsonl", [{"text": f"film {i}", "label": i % 10 + 1} for i in range(40)])
    r = run_cli(runner, cli_main, "extract", "--data", stars, "--out", tmp_path / "s", *_models(tiny_models), "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["labels"] == [str(i) for i in range(1, 11)]
    mixed = _write_jsonl(tmp_path / "mixed.jsonl", [{"text": f"film {i}", "label": label} for i, label in
                                                   enumerate(["pos", "1", "NEG", "negative", "0", "Positive"] * 3)])
    r = run_cli(runner, cli_main, "extract", "--data", mixed, "--out", tmp_path / "m", *_models(tiny_models), "--json")
    summary = json.loads(r.stdout)
    assert summary["labels"] == ["neg", "pos"]
    assert sum(s["labels"]["pos"] for s in summary["splits"].values()) == 9


def test_imdb_keeps_neg_and_pos_and_refuses_labels(extracted, tiny_archive, tiny_models, runner, cli_main, tmp_path):
    assert json.loads((extracted / "manifest.json").read_text())["labels"] == ["neg", "pos"]
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", tmp_path / "c", "--labels", "bad,good",
                *_models(tiny_models))
    assert_clean_error(r, "--labels", "CSV / JSONL")
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", tmp_path / "c", "--splits",
                "validation", *_models(tiny_models))
    assert_clean_error(r, "train and test only")


def test_the_binary_head_trains_as_the_write_ups(extracted):
    """Two classes train the write-up's head: Dense 256/128/64, BatchNorm, ReLU, Dropout, one sigmoid
    unit, Adam 5e-4, binary cross-entropy, rebuilt here in plain Keras. Started from the same weights
    and fed the same batches (dropout 0, the one random part), it ends an epoch with the same weights,
    within float rounding (our loss is computed from the logit, Keras's from the clipped probability)."""
    import dataclasses

    import keras
    import tensorflow as tf

    from mlbert.extract.cache.read import read_split
    from mlbert.train.config import HeadConfig
    from mlbert.train.fit import Trainer
    from mlbert.train.inputs import InputSpec

    features, labels, _, _ = read_split(extracted, "train")
    x, y = features["mean"], labels.astype("float32")
    cfg = dataclasses.replace(HeadConfig(), dropout=(0.0, 0.0, 0.0))
    ours = Trainer(cfg, InputSpec(("mean",), (0, 1), 2, x.shape[1] // 2), 2, None, [3])
    named = {w.name: w for w in ours.heads.weights}
    order = [f"{k}_{i}" for i in range(3) for k in ("kernel", "bias", "gamma", "beta", "moving_mean",
                                                       "moving_variance")] + ["out_kernel", "out_bias"]
    layers = [keras.Input(shape=(x.shape[1],))]
    for units, rate in zip((256, 128, 64), cfg.dropout):
        layers += [keras.layers.Dense(units), keras.layers.BatchNormalization(), keras.layers.Activation("relu"),
                   keras.layers.Dropout(rate)]
    seed = keras.Sequential(layers + [keras.layers.Dense(1, activation="sigmoid")])
    plain = [v for layer in seed.layers for v in layer.weights]  # each layer's own, in the recipe's order
    for name, v in zip(order, plain):
        v.assign(named[name].numpy().reshape(v.shape))  # our head axis, of size 1, dropped
    seed.compile(optimizer=keras.optimizers.Adam(learning_rate=5e-4), loss="binary_crossentropy")
    seed.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
    ours._train_buffer(tf.constant(x), tf.constant(y))
    assert len(plain) == len(order) == len(named)
    for name, b in zip(order, plain):
        if name.startswith("bias_"):
            # A bias before BatchNorm has a zero gradient but for rounding, which Adam scales up to
            # steps of its learning rate: both stay noise around zero.
            assert np.abs(named[name].numpy()).max() < 1e-3 and np.abs(b.numpy()).max() < 1e-3
            continue
        np.testing.assert_allclose(named[name].numpy().reshape(b.shape), b.numpy(), rtol=1e-3, atol=1e-5,
                                   err_msg=name)


@pytest.mark.slow
def test_an_ordinal_head_trains_evaluates_predicts_and_exports(three, runner, cli_main, tmp_path):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401

    import mlbert

    model = tmp_path / "ordinal"
    r = run_cli(runner, cli_main, "train", "--cache", three["cache"], "--model-dir", model, "--epochs", 30,
                "--patience", 8, "--lr", 3e-3, "--batch-size", 16, "--pooling", "mean,max", "--ordinal",
                "--ensemble", 2, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["head"] == "mlp"
    assert json.loads((model / "config.json").read_text())["head"]["ordinal"] is True
    import keras

    from mlbert.train.head import Heads
    heads = [layer for layer in keras.models.load_model(model / "model.keras").layers if isinstance(layer, Heads)]
    assert heads and heads[0].ordinal and np.asarray(heads[0].thresholds()).shape == (2, 2)
    r = run_cli(runner, cli_main, "evaluate", "--cache", three["cache"], "--model-dir", model, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["accuracy"] > 0.5  # three classes: chance is a third
    texts = ["great wonderful excellent superb loved", "terrible awful boring waste hated",
             "the movie was a film with a plot"]
    clf = mlbert.load(model)
    assert [row["label"] for row in clf.predict(texts)][:2] == ["positive", "negative"]
    r = run_cli(runner, cli_main, "export", "--model-dir", model, "--out", tmp_path / "serving", "--json")
    assert r.exit_code == 0, r.output
    served = tf.saved_model.load(str(tmp_path / "serving")).signatures["serving_default"](text=tf.constant(texts))
    np.testing.assert_allclose(served["probabilities"].numpy(), clf.probabilities(texts), atol=1e-5)


def test_the_linear_head_refuses_ordinal(extracted, runner, cli_main, tmp_path):
    # The options are refused before any cache is read: the fast tier's shared cache will do.
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "m", "--head",
                "linear", "--ordinal")
    assert_clean_error(r, "--ordinal", "--head mlp")
    assert not (tmp_path / "m").exists()
