"""Per-token caches (extract --tokens) and heads over tokens (train --segments on such a cache): every
token's features stored beside the review's, read back as each review's segments, and a head that
pools over them trains, evaluates, predicts and exports alike."""
from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import agrees_across_paths, assert_clean_error, run_cli


def _extract(runner, cli_main, tiny_models, tiny_archive, out, *flags):
    # Windows of 24 tokens: the tiny reviews' long ones are cut in several, whose tokens all count.
    return run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", out, "--limit", 30, "--seq-len", 24,
                   "--windows", "--stride", 10, "--pooling", "mean,max", "--encoder", tiny_models["encoder"],
                   "--preprocessor", tiny_models["preprocessor"], "--json", *flags)


@pytest.fixture(scope="module")
def per_token(tiny_models, tiny_archive, tmp_path_factory, runner, cli_main):
    out = tmp_path_factory.mktemp("per_token") / "cache"
    r = _extract(runner, cli_main, tiny_models, tiny_archive, out, "--tokens", "--ngrams", 2)
    assert r.exit_code == 0, r.output
    return out


@pytest.mark.slow
def test_a_token_cache_holds_every_token_the_encoder_saw_and_is_fingerprinted(per_token, tiny_models, tiny_archive,
                                                                              runner, cli_main, tmp_path):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401

    from mlbert.data.sources.imdb import read_imdb
    from mlbert.extract.cache.read import read_split
    from mlbert.extract.encoders import handles
    from mlbert.extract.features.featurizer import segments_of, tokenize
    from mlbert.extract.features.settings import FeatureSettings

    manifest = json.loads((per_token / "manifest.json").read_text())
    assert manifest["features"]["tokens"] is True and manifest["fingerprint_fields"]["settings"]["tokens"] is True
    assert manifest["features"]["segment_datasets"] == {"token": "segment_token"}
    plain = tmp_path / "plain"
    assert _extract(runner, cli_main, tiny_models, tiny_archive, plain, "--ngrams", 2).exit_code == 0
    other = json.loads((plain / "manifest.json").read_text())
    assert "tokens" not in other["fingerprint_fields"]["settings"] and other["fingerprint"] != manifest["fingerprint"]

    features, _, ids, _ = read_split(per_token, "train", ["mean", "max", "token"], segments=True)
    segments = features["segments"]
    assert list(segments.values) == ["token"]
    # Each review's tokens are its windows' tokens, each window with its [CLS] and [SEP] ...
    texts = dict(zip(*(lambda r: (r.ids, r.texts))(read_imdb(tiny_archive, ["train"])["train"])))
    preprocessor = handles.load(str(tiny_models["preprocessor"]), "the tiny preprocessor", "preprocessor")
    tokens = tokenize(preprocessor, tf.constant([texts[i] for i in ids]))
    windows, review = segments_of(tokens, FeatureSettings.from_dict(manifest["features"]))
    expected = np.bincount(review.numpy(), weights=windows.row_lengths().numpy() + 2, minlength=len(ids))
    np.testing.assert_array_equal(segments.counts, expected)
    assert np.bincount(review.numpy()).max() > 1, "needs a review of several windows"
    # ... and pool back to the review's own features: their max exactly, their mean (the windows'
    # token-weighted mean) to rounding.
    starts = np.concatenate([[0], np.cumsum(segments.counts)])
    per_review = [segments.values["token"][a:b] for a, b in zip(starts[:-1], starts[1:])]
    np.testing.assert_array_equal(np.stack([t.max(axis=0) for t in per_review]), features["max"])
    np.testing.assert_allclose(np.stack([t.mean(axis=0) for t in per_review]), features["mean"], atol=1e-5)
    assert run_cli(runner, cli_main, "check-cache", per_token).exit_code == 0


def test_a_cache_keeps_windows_or_tokens_not_both(tiny_models, tiny_archive, runner, cli_main, tmp_path):
    r = _extract(runner, cli_main, tiny_models, tiny_archive, tmp_path / "c", "--segments", "--tokens")
    assert_clean_error(r, "--segments and --tokens", "choose one")
    assert not (tmp_path / "c").exists()


@pytest.mark.slow
def test_a_fused_head_over_tokens_trains_evaluates_predicts_and_exports_alike(per_token, tiny_models, tiny_archive,
                                                                              runner, cli_main, tmp_path):
    from mlbert.train.channels.bert import load_head

    model = tmp_path / "m"
    r = run_cli(runner, cli_main, "train", "--cache", per_token, "--model-dir", model, "--segments", "attention",
                "--channel", "fused", "--ensemble", 2, "--epochs", 4, "--lr", 3e-3, "--batch-size", 8, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["head"] == "mlp"
    config = json.loads((model / "config.json").read_text())
    # The head reads each token's features, whatever the review-level poolings.
    assert config["input"]["poolings"] == ["token"] and config["input"]["segments"] is True
    agrees_across_paths(model, per_token, tiny_archive, runner, cli_main, tmp_path, ["token"], lexical=True,
                        segments=True)
    heads = next(layer for layer in load_head(model).layers if hasattr(layer, "attention"))
    assert np.abs(np.asarray(heads.attention)).max() > 0
    # A cache without the tokens cannot feed it: one clear error.
    plain = tmp_path / "plain"
    assert _extract(runner, cli_main, tiny_models, tiny_archive, plain, "--ngrams", 2).exit_code == 0
    r = run_cli(runner, cli_main, "evaluate", "--cache", plain, "--model-dir", model)
    assert_clean_error(r, "no per-segment features", "--tokens")


@pytest.mark.slow
def test_a_sweep_mixes_heads_over_tokens_and_over_reviews(per_token, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "sweep", "--cache", per_token, "--out", tmp_path / "s", "--segments",
                "none,attention", "--head", "mlp", "--epochs", 2, "--batch-size", 8, "--workers", 1, "--json")
    assert r.exit_code == 0, r.output
    trials = json.loads((tmp_path / "s" / "results.json").read_text())["trials"]
    inputs = sorted(tuple(json.loads((tmp_path / "s" / "trials" / t["key"] / "config.json").read_text())
                          ["input"]["poolings"]) for t in trials)
    assert inputs == [("mean",), ("token",)]


@pytest.mark.slow
def test_a_shuffle_buffer_of_tokens_is_sized_by_their_measured_bytes(per_token, monkeypatch):
    from mlbert.extract.cache.read import open_split
    from mlbert.train import rows
    from mlbert.train.inputs import InputSpec, head_inputs

    manifest = json.loads((per_token / "manifest.json").read_text())
    spec = InputSpec(("token",), tuple(range(manifest["features"]["num_layers"])),
                     manifest["features"]["num_layers"], manifest["features"]["hidden_size"], True)
    every = rows.every(open_split(per_token, "train", ["token"], segments=True))
    first = next(every.chunks(features=True))[0]
    per_review = head_inputs(first, spec).nbytes / len(first["segments"])
    monkeypatch.setattr(rows, "SHUFFLE_BYTES", int(per_review * 8) + 1)  # two batches of four reviews
    buffers = list(every.shuffled(lambda f: head_inputs(f, spec), None, 4, seed=0))
    assert len(buffers) > 1 and [len(y) for _, y in buffers[:-1]] == [8] * (len(buffers) - 1)
    assert sum(len(x) for x, _ in buffers) == len(every) and len(buffers[-1][1]) <= 8
