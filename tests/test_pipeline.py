"""The two-stage pipeline end to end through the real CLI: extract -> train -> evaluate -> predict."""
from __future__ import annotations

import json
import re

import h5py
import numpy as np
import pytest

from helpers import make_archive, run_cli


def test_extract_writes_shards_and_manifest(extracted, tiny_models):
    manifest = json.loads((extracted / "manifest.json").read_text())
    info = manifest["features"]
    assert (info["num_layers"], info["hidden_size"], info["dim"]) == (2, 16, 32)
    assert info["seq_len"] == 64 and info["poolings"] == ["mean", "max"] and info["truncation"] == "head"
    assert info["encoder"] == str(tiny_models["encoder"].resolve())
    assert manifest["fingerprint_fields"]["encoder"]["sha256"]
    assert manifest["data"]["kind"] == "imdb-archive"
    assert {"tensorflow", "h5py", "numpy"} <= set(manifest["versions"])
    assert "extract" in manifest["command"]
    train = manifest["splits"]["train"]
    assert train["complete"] and train["counts"]["total"] == 202
    assert train["counts"]["empty"] == 1 and train["counts"]["replaced_utf8"] == 1
    shard = train["shards"][0]
    assert shard["file"] == "train-00000-of-00001.h5"
    with h5py.File(extracted / shard["file"]) as f:
        assert f["features"].shape == (202, 32) and f["features"].dtype == np.float32
        assert f["features_max"].shape == (202, 32)
        assert f["labels"].dtype == np.int8 and sorted(set(f["labels"][...])) == [0, 1]
        ids = [i.decode() for i in f["ids"][...]]
    assert len(set(ids)) == 202 and {"train/neg/900_1", "train/pos/900_10"} <= set(ids)
    assert all(i.split("/")[0] == "train" and i.split("/")[1] in ("pos", "neg") for i in ids)
    assert not list(extracted.glob(".*tmp*")), "no temporary files may be left behind"


def test_pooled_values_equal_an_independent_masked_mean(extracted, tiny_models, tiny_archive):
    """Recompute a few reviews directly: pack at seq_len, run the encoder, masked mean in numpy."""
    import tensorflow as tf
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401

    from mlbert.data.sources.imdb import read_imdb

    with h5py.File(extracted / "test-00000-of-00001.h5") as f:
        ids = [i.decode() for i in f["ids"][...]]
        cached_mean, cached_max = f["features"][...], f["features_max"][...]
    texts = dict(zip(read_imdb(tiny_archive, ["test"])["test"].ids, read_imdb(tiny_archive, ["test"])["test"].texts))
    pick = [0, 1, 7, 30]
    pre, enc = hub.load(str(tiny_models["preprocessor"])), hub.load(str(tiny_models["encoder"]))
    packed = pre.bert_pack_inputs([pre.tokenize(tf.constant([texts[ids[i]] for i in pick]))], seq_length=64)
    mask = packed["input_mask"].numpy().astype(bool)
    assert (mask.sum(1) < 64).any() and (mask.sum(1) == 64).any(), "fixture must mix short and truncated reviews"
    for layer, out in enumerate(enc(packed)["encoder_outputs"]):
        out = out.numpy()
        for row, i in enumerate(pick):
            tokens = out[row][mask[row]]
            np.testing.assert_allclose(cached_mean[i, layer * 16:(layer + 1) * 16], tokens.mean(0), atol=1e-5)
            np.testing.assert_allclose(cached_max[i, layer * 16:(layer + 1) * 16], tokens.max(0), atol=1e-5)


def test_features_do_not_depend_on_batching(extracted, tiny_models, tiny_archive, tmp_path, runner, cli_main):
    out = tmp_path / "cache_b3"
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", out, "--splits", "test",
                "--encoder", tiny_models["encoder"], "--preprocessor", tiny_models["preprocessor"],
                "--seq-len", 64, "--pooling", "mean,max", "--batch-size", 3)
    assert r.exit_code == 0, r.output
    with h5py.File(extracted / "test-00000-of-00001.h5") as a, h5py.File(out / "test-00000-of-00001.h5") as b:
        assert list(a["ids"][...]) == list(b["ids"][...])
        np.testing.assert_allclose(a["features"][...], b["features"][...], atol=1e-5)
        np.testing.assert_allclose(a["features_max"][...], b["features_max"][...], atol=1e-5)


def test_shards_split_a_large_split(tiny_models, tiny_archive, tmp_path, runner, cli_main):
    import mlbert
    from mlbert.extract.cache.read import read_split

    mlbert.extract(tiny_archive, tmp_path / "c", encoder=str(tiny_models["encoder"]),
                   preprocessor=str(tiny_models["preprocessor"]), splits=["test"], seq_len=32, shard_size=80)
    names = sorted(p.name for p in (tmp_path / "c").glob("*.h5"))
    assert names == ["test-00000-of-00003.h5", "test-00001-of-00003.h5", "test-00002-of-00003.h5"]
    features, labels, ids, _ = read_split(tmp_path / "c", "test")
    assert features["mean"].shape == (200, 32) and len(set(ids)) == 200 and labels.sum() == 100


def test_train_writes_a_self_describing_model_dir(trained):
    for name in ("model.keras", "config.json", "history.json", "learning_curves.png"):
        assert (trained / name).exists(), name
    config = json.loads((trained / "config.json").read_text())
    assert config["head"]["hidden"] == [256, 128, 64] and config["head"]["dropout"] == [0.4, 0.3, 0.2]
    assert config["cache"]["manifest"]["features"]["dim"] == 32 and config["input"]["poolings"] == ["mean"]
    history = json.loads((trained / "history.json").read_text())
    best = history["best_epoch"] - 1
    assert history["val_accuracy"][best] == max(history["val_accuracy"])
    assert (trained / "learning_curves.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_beats_chance_and_reports_all_metrics(trained, extracted, runner, cli_main):
    r = run_cli(runner, cli_main, "evaluate", "--cache", extracted, "--model-dir", trained, "--json")
    assert r.exit_code == 0, r.output
    metrics = json.loads(r.stdout)
    assert {"accuracy", "loss", "precision", "recall", "f1", "auc", "n"} <= set(metrics)
    assert metrics["n"] == 200
    assert metrics["accuracy"] >= 0.75, metrics
    assert metrics["auc"] >= 0.8, metrics
    cm = metrics["confusion_matrix"]
    assert cm["tp"] + cm["tn"] + cm["fp"] + cm["fn"] == 200
    table = run_cli(runner, cli_main, "evaluate", "--cache", extracted, "--model-dir", trained).stdout
    assert "| Test Accuracy |" in table and "| Test Loss |" in table and "Confusion matrix" in table


def test_evaluate_loss_matches_keras(trained, extracted):
    from mlbert.train.model_dir import load_model_dir
    import mlbert
    from mlbert.extract.cache.read import read_split
    from mlbert.train.inputs import InputSpec, select

    ours = mlbert.evaluate(extracted, trained)
    model, config = load_model_dir(trained)
    features, labels, _, _ = read_split(extracted, "test")
    import keras
    import numpy as np

    x = select(features, InputSpec.from_dict(config["input"]))
    model.compile(loss="binary_crossentropy", metrics=["accuracy"])  # the model dir keeps no optimizer
    _, accuracy = model.evaluate(x, labels.astype("float32"), verbose=0)
    # The model dir's temperature divides the head's log-odds (written out here); Keras scores the result.
    p = np.clip(model.predict(x, verbose=0).ravel().astype(np.float64), 1e-7, 1 - 1e-7)
    calibrated = 1 / (1 + np.exp(-np.log(p / (1 - p)) / config["calibration"]["temperature"]))
    loss = float(keras.losses.BinaryCrossentropy()(labels.astype("float32"), calibrated.astype("float32")))
    assert ours["loss"] == pytest.approx(loss, abs=1e-4)
    assert ours["accuracy"] == pytest.approx(accuracy, abs=1e-6)


def test_predict_labels_new_text(trained, runner, cli_main):
    r = run_cli(runner, cli_main, "predict", "--model-dir", trained, "--json",
                "great wonderful excellent superb loved brilliant", "terrible awful boring waste hated worst")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [row["label"] for row in rows] == ["pos", "neg"]
    assert all(0.5 <= row["confidence"] <= 1 for row in rows)
    table = run_cli(runner, cli_main, "predict", "--model-dir", trained, input="loved it, superb\nawful, hated it\n")
    assert table.exit_code == 0 and "| Review | Prediction | Confidence |" in table.stdout
    assert table.stdout.count("| \"") == 2


def test_rerun_keeps_a_complete_cache(extracted, tiny_models, tiny_archive, runner, cli_main):
    before = {p.name: p.stat().st_mtime_ns for p in extracted.glob("*.h5")}
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", extracted, "--json",
                "--encoder", tiny_models["encoder"], "--preprocessor", tiny_models["preprocessor"],
                "--seq-len", 64, "--pooling", "mean,max", "--batch-size", 16)
    assert r.exit_code == 0, r.output
    assert all(s["skipped"] for s in json.loads(r.stdout)["splits"].values())
    assert before == {p.name: p.stat().st_mtime_ns for p in extracted.glob("*.h5")}


@pytest.mark.skipif(not __import__("helpers").IMDB_ARCHIVE.exists(),
                    reason="the real IMDB archive (../shared/data/imdb) is not present in this clone")
@pytest.mark.slow
def test_real_imdb_archive(tiny_models, tmp_path, runner, cli_main):
    from helpers import IMDB_ARCHIVE
    from mlbert.data.sources.imdb import read_imdb

    splits = read_imdb(IMDB_ARCHIVE, ["train", "test"])
    for split, reviews in splits.items():
        assert reviews.counts()["total"] == 25000
        assert reviews.counts()["labels"] == {"neg": 12500, "pos": 12500}
        assert len(set(reviews.ids)) == 25000
    r = run_cli(runner, cli_main, "extract", "--data", IMDB_ARCHIVE, "--out", tmp_path / "c", "--limit", 200,
                "--encoder", tiny_models["encoder"], "--preprocessor", tiny_models["preprocessor"], "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    for split in ("train", "test"):
        assert (summary["splits"][split]["total"], summary["splits"][split]["labels"]["pos"]) == (200, 100)
    with h5py.File(tmp_path / "c" / "train-00000-of-00001.h5") as f:
        assert f["features"].shape == (200, 32)
        assert f["ids"][0].decode() == splits["train"].ids[0]


def test_evaluate_plot_writes_figures(trained, extracted, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "evaluate", "--cache", extracted, "--model-dir", trained, "--plot", tmp_path / "fig",
                "--json")
    assert r.exit_code == 0, r.output
    for name in ("learning_curves.png", "confusion_matrix.png", "roc_curve.png"):
        assert (tmp_path / "fig" / name).read_bytes()[:4] == b"\x89PNG", name


def test_roc_auc_and_curve_agree_with_brute_force():
    from mlbert.train.metrics import roc_auc, roc_curve

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.round(rng.random(300) * 0.5 + y * 0.3, 2)  # rounded: many ties
    pos, neg = p[y == 1], p[y == 0]
    brute = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg))
    assert roc_auc(y, p) == pytest.approx(brute, abs=1e-12)
    fpr, tpr = roc_curve(y, p)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert np.trapezoid(tpr, fpr) == pytest.approx(brute, abs=1e-12)


@pytest.mark.parametrize("mix", ["mean", "learned"])
@pytest.mark.slow
def test_layer_mix_trains_and_reports_weights(extracted, runner, cli_main, tmp_path, mix):
    model_dir = tmp_path / "m"
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", model_dir, "--epochs", 3,
                "--layer-mix", mix, "--pooling", "mean,max", "--lr", 3e-3, "--json")
    assert r.exit_code == 0, r.output
    weights = json.loads(r.stdout)["layer_weights"]
    assert set(weights) == {"0", "1"} and sum(weights.values()) == pytest.approx(1.0, abs=1e-5)
    if mix == "mean":
        assert weights == {"0": 0.5, "1": 0.5}
    else:
        assert weights["0"] != pytest.approx(0.5, abs=1e-4), "learned weights move from uniform"
    r = run_cli(runner, cli_main, "evaluate", "--cache", extracted, "--model-dir", model_dir, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["n"] == 200


def test_train_on_chosen_layers(extracted, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "m", "--epochs", 1,
                "--layers", "-1", "--json")
    assert r.exit_code == 0, r.output
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["input"]["layers"] == [1] and config["input"]["dim"] == 16
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "n", "--layers", "5")
    assert r.exit_code == 2 and "layer 5 does not exist" in r.stderr


@pytest.mark.parametrize("windows", [False, True])
@pytest.mark.slow
def test_features_do_not_depend_on_bucketing(tiny_models, tiny_archive, windows):
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401

    from mlbert.data.sources.imdb import read_imdb
    from mlbert.extract.features.featurizer import Featurizer
    from mlbert.extract.features.settings import FeatureSettings
    from mlbert.extract.runtimes.tensorflow_runtime import TensorFlowRuntime

    texts = read_imdb(tiny_archive, ["test"], limit=40)["test"].texts
    pre, enc = hub.load(str(tiny_models["preprocessor"])), TensorFlowRuntime(hub.load(str(tiny_models["encoder"])))
    settings = FeatureSettings(seq_len=24 if windows else 64, windows=windows, stride=10,
                               poolings=("mean", "max", "cls"))
    a = Featurizer(pre, enc, settings, batch_size=1, bucket=8).features(texts)
    b = Featurizer(pre, enc, settings, batch_size=50, bucket=64).features(texts)
    for p in settings.poolings:
        assert a[p].shape == (40, 2, 16)
        np.testing.assert_allclose(a[p], b[p], atol=1e-5)


def test_features_do_not_depend_on_batches_in_flight(tiny_models, tiny_archive):
    """TensorFlow encodes IN_FLIGHT batches at once, each in its own thread: one at a time, two
    (the default) and four give the same features, each review's in its own row."""
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401

    from mlbert.data.sources.imdb import read_imdb
    from mlbert.extract.features.featurizer import Featurizer
    from mlbert.extract.features.settings import FeatureSettings
    from mlbert.extract.runtimes import tensorflow_runtime as module

    assert module.IN_FLIGHT == 2
    texts = read_imdb(tiny_archive, ["test"], limit=40)["test"].texts
    pre, model = hub.load(str(tiny_models["preprocessor"])), hub.load(str(tiny_models["encoder"]))
    enc = module.TensorFlowRuntime(model)
    settings = FeatureSettings(seq_len=64, poolings=("mean", "cls"))
    found = {}
    for count in (1, 2, 4):
        runtime = module.TensorFlowRuntime(model, in_flight=count)
        found[count] = Featurizer(pre, runtime, settings, batch_size=1, bucket=8).features(texts)  # small batches
    for count in (2, 4):
        for p in settings.poolings:
            np.testing.assert_array_equal(found[count][p], found[1][p])
    one_by_one = Featurizer(pre, enc, settings).features(texts[:3])
    np.testing.assert_allclose(found[2]["mean"][:3], one_by_one["mean"], atol=1e-5)


@pytest.mark.slow
def test_standardize_uses_training_rows_only_and_travels_with_the_model(trained, extracted, runner, cli_main,
                                                                         tmp_path):
    from mlbert.train.model_dir import load_model_dir
    from mlbert.extract.cache.read import open_split, read_split
    from mlbert.train.rows import carve

    model, config = load_model_dir(trained)
    assert config["head"]["standardize"] is True
    features, labels, ids, _ = read_split(extracted, "train")
    training, _ = carve(open_split(extracted, "train"), config["head"]["val_fraction"], config["head"]["split_seed"])
    train_idx = np.flatnonzero(np.isin(ids, training.ids()))
    assert 0 < len(train_idx) < len(ids)
    layer = model.get_layer("standardize")
    np.testing.assert_allclose(np.ravel(layer.mean), features["mean"][train_idx].mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.ravel(layer.variance), features["mean"][train_idx].var(axis=0), rtol=1e-4, atol=1e-7)
    # The validation rows' own statistics differ, so this is not the whole split's mean.
    assert not np.allclose(np.ravel(layer.mean), features["mean"].mean(axis=0), rtol=0, atol=1e-7)

    raw = tmp_path / "raw"
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", raw, "--no-standardize",
                "--epochs", 2, "--json")
    assert r.exit_code == 0, r.output
    model, config = load_model_dir(raw)
    assert config["head"]["standardize"] is False
    assert "standardize" not in [layer.name for layer in model.layers]


def test_a_copied_dataset_keeps_its_cache_and_an_edited_one_does_not(extracted, tiny_models, tiny_archive, runner,
                                                                     cli_main, tmp_path):
    import shutil

    args = ["--out", extracted, "--json", "--encoder", tiny_models["encoder"], "--preprocessor",
            tiny_models["preprocessor"], "--seq-len", 64, "--pooling", "mean,max", "--batch-size", 16]
    copy = tmp_path / "elsewhere" / "aclImdb_v1.tar.gz"
    copy.parent.mkdir()
    shutil.copyfile(tiny_archive, copy)  # a new path and a new modification time, the same bytes
    r = run_cli(runner, cli_main, "extract", "--data", copy, *args)
    assert r.exit_code == 0, r.output
    assert all(s["skipped"] for s in json.loads(r.stdout)["splits"].values())

    edited = tmp_path / "edited.tar.gz"
    make_archive(edited, per_label=50, seed=1)
    r = run_cli(runner, cli_main, "extract", "--data", edited, *args)
    assert r.exit_code == 2 and re.search(r"\(data\.\w+(, data\.\w+)* differ\)", r.stderr), r.stderr


@pytest.mark.slow
def test_refit_trains_the_kept_head_on_every_training_row(extracted, runner, cli_main, tmp_path):
    from mlbert.train.model_dir import load_model_dir
    from mlbert.extract.cache.read import read_split

    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "m", "--epochs", 6,
                "--patience", 3, "--lr", 3e-3, "--batch-size", 16, "--refit", "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    features, labels, _, _ = read_split(extracted, "train")
    assert result["refit"]["rows"] == len(labels) == result["train_size"] + result["val_size"]
    assert result["refit"]["epochs"] == result["best_epoch"]
    model, config = load_model_dir(tmp_path / "m")
    assert config["result"]["refit"] == result["refit"]
    # The kept head's standardisation comes from every training row, validation ones included.
    np.testing.assert_allclose(np.ravel(model.get_layer("standardize").mean), features["mean"].mean(axis=0),
                               rtol=1e-5, atol=1e-6)
    history = json.loads((tmp_path / "m" / "history.json").read_text())
    assert len(history["refit"]["loss"]) == result["best_epoch"]
    r = run_cli(runner, cli_main, "evaluate", "--cache", extracted, "--model-dir", tmp_path / "m", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["n"] == 200


@pytest.mark.slow
def test_ensemble_keeps_the_mean_of_its_heads(extracted, runner, cli_main, tmp_path):
    import keras

    from mlbert.train.model_dir import load_model_dir
    from mlbert.extract.cache.read import open_split, read_split
    from mlbert.train.rows import carve

    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "m", "--epochs", 4,
                "--lr", 3e-3, "--batch-size", 16, "--seed", 5, "--ensemble", 3, "--layer-mix", "learned", "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    assert result["ensemble"]["heads"] == 3 and result["ensemble"]["seeds"] == [5, 6, 7]
    assert len(result["best_epoch"]) == len(result["ensemble"]["member_val_accuracy"]) == 3
    assert sum(result["layer_weights"].values()) == pytest.approx(1.0, abs=1e-5)
    model, config = load_model_dir(tmp_path / "m")
    assert config["head"]["ensemble"] == 3
    features, labels, ids, _ = read_split(extracted, "train")
    x = features["mean"]
    logits = model.get_layer("positive").logits(model.get_layer("standardize")(x))  # [n, 3]: each head's
    heads = keras.ops.convert_to_numpy(keras.ops.sigmoid(logits)).T
    assert not np.allclose(heads[0], heads[1]), "the heads' seeds differ, so must their outputs"
    probs = model.predict(x, verbose=0).ravel()
    np.testing.assert_allclose(probs, np.mean(heads, axis=0), atol=1e-6)
    # The reported validation accuracy is the ensemble's own, on the validation rows of --split-seed 0.
    _, validation = carve(open_split(extracted, "train"), 0.2, 0)
    val = np.flatnonzero(np.isin(ids, validation.ids()))
    assert result["val_accuracy"] == pytest.approx(np.mean((probs[val] > 0.5) == labels[val]), abs=1e-6)
    assert (tmp_path / "m" / "learning_curves.png").read_bytes()[:4] == b"\x89PNG"
    r = run_cli(runner, cli_main, "evaluate", "--cache", extracted, "--model-dir", tmp_path / "m", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["n"] == 200
    r = run_cli(runner, cli_main, "predict", "--model-dir", tmp_path / "m", "a fine film", "--json")
    assert r.exit_code == 0, r.output

    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "n", "--epochs", 3,
                "--ensemble", 2, "--refit", "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    assert result["refit"]["epochs"] == result["best_epoch"] and len(result["best_epoch"]) == 2
    history = json.loads((tmp_path / "n" / "history.json").read_text())
    assert [len(h["loss"]) for h in history["refit"]["members"]] == result["best_epoch"]
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "o", "--ensemble", 0)
    assert r.exit_code == 2 and "--ensemble 0" in r.stderr


def test_extract_pipelines_run_without_tf_data_autotuning(tiny_models, tiny_archive):
    # With autotuning on, deleting an iterator could wait out the tuner's sleep (up to 41 s), with
    # the CPUs idle: 48 s of encoding once took 82 s. Both of extract's feeds must keep it off.
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401

    from mlbert.data.sources.imdb import read_imdb
    from mlbert.extract.features.featurizer import Featurizer, _encoder_feed
    from mlbert.extract.features.settings import FeatureSettings
    from mlbert.extract.runtimes.tensorflow_runtime import TensorFlowRuntime

    texts = read_imdb(tiny_archive, ["test"], limit=20)["test"].texts
    pre, enc = hub.load(str(tiny_models["preprocessor"])), TensorFlowRuntime(hub.load(str(tiny_models["encoder"])))
    featurizer = Featurizer(pre, enc, FeatureSettings(seq_len=32))
    token_batches = featurizer._token_batches(texts)
    assert token_batches.options().autotune.enabled is False
    values, lengths = featurizer.tokenize(texts)
    plan = featurizer._batch_plan(lengths)
    feed = _encoder_feed(plan, values, lengths)
    assert feed.options().autotune.enabled is False
    assert len(list(feed)) == len(plan)
