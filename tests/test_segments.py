"""Which tokens each review keeps (head, tail, head+tail and windows, on reviews of every length), and
per-segment caches: every window's features (extract --segments) or every token's (extract --tokens),
and the heads over them (train --segments)."""
from __future__ import annotations

import numpy as np
import pytest

LENGTHS = [0, 1, 5, 126, 127, 128, 200, 509, 510, 511, 1000, 3000]


@pytest.fixture(scope="module")
def tokens():
    import tensorflow as tf
    values = np.concatenate([np.arange(n) for n in LENGTHS]).astype(np.int32)
    return tf.RaggedTensor.from_row_lengths(values, LENGTHS)


def _by_review(tokens, budget, truncation, windows, stride, head=0):
    from mlbert.extract.features.segments import segment_tokens
    seg, review = segment_tokens(tokens, budget, truncation, windows, stride, head)
    seg, review = seg.to_list(), review.numpy().tolist()
    return [[s for s, r in zip(seg, review) if r == i] for i in range(len(LENGTHS))]


@pytest.mark.parametrize("budget,truncation,head", [(126, "head", 0), (126, "tail", 0), (510, "head+tail", 128),
                                                    (126, "head+tail", 32), (254, "head+tail", 64)])
def test_truncation_keeps_the_right_tokens(tokens, budget, truncation, head):
    for n, (kept,) in zip(LENGTHS, _by_review(tokens, budget, truncation, False, 1, head)):
        if truncation == "head":
            expected = list(range(min(n, budget)))
        elif truncation == "tail":
            expected = list(range(max(0, n - budget), n))
        else:
            expected = list(range(n)) if n <= budget else list(range(head)) + list(range(n - (budget - head), n))
        assert kept == expected, (n, budget, truncation)


@pytest.mark.parametrize("budget,stride", [(126, 63), (510, 255), (5, 5), (8, 3)])
def test_windows_cover_every_token(tokens, budget, stride):
    for n, windows in zip(LENGTHS, _by_review(tokens, budget, "head", True, stride)):
        assert set(x for w in windows for x in w) == set(range(n))
        assert all(len(w) == min(budget, n) for w in windows)
        assert windows[-1][-1:] == ([n - 1] if n else [])
        starts = [w[0] for w in windows if w]
        assert starts == sorted(starts)


def test_windows_pool_back_to_the_masked_mean_over_all_their_tokens():
    import tensorflow as tf

    from mlbert.extract.features.segments import combine_windows
    pooled = {"mean": tf.constant([[1.0], [3.0], [10.0]]), "max": tf.constant([[1.0], [5.0], [2.0]])}
    out = combine_windows(pooled, tf.constant([2.0, 6.0, 4.0]), tf.constant([0, 0, 1], tf.int64), 2)
    np.testing.assert_allclose(out["mean"].numpy(), [[(2 * 1 + 6 * 3) / 8], [10.0]])
    np.testing.assert_allclose(out["max"].numpy(), [[5.0], [2.0]])


# Per-segment caches (extract --segments): every window's features stored beside the review's.

def _extract(runner, cli_main, tiny_models, tiny_archive, out, *flags):
    from helpers import run_cli

    return run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", out, "--limit", 30, "--seq-len", 24,
                   "--windows", "--stride", 10, "--pooling", "mean,max", "--encoder", tiny_models["encoder"],
                   "--preprocessor", tiny_models["preprocessor"], "--json", *flags)


def _made(name, tmp_path_factory, runner, cli_main, tiny_models, tiny_archive, *flags):
    """A per-segment cache of _extract's settings with these flags, in a folder of the module's."""
    out = tmp_path_factory.mktemp(name) / "cache"
    r = _extract(runner, cli_main, tiny_models, tiny_archive, out, *flags)
    assert r.exit_code == 0, r.output
    return out


def _cut(manifest, ids, tiny_models, tiny_archive):
    """(tokens of each segment, review of each segment) as the featurizer cuts the train reviews `ids`
    with the cache's settings."""
    import tensorflow as tf
    import tensorflow_text  # noqa: F401

    from mlbert.data.sources.imdb import read_imdb
    from mlbert.extract.encoders import handles
    from mlbert.extract.features.featurizer import segments_of, tokenize
    from mlbert.extract.features.settings import FeatureSettings

    texts = dict(zip(*(lambda r: (r.ids, r.texts))(read_imdb(tiny_archive, ["train"])["train"])))
    preprocessor = handles.load(str(tiny_models["preprocessor"]), "the tiny preprocessor", "preprocessor")
    tokens = tokenize(preprocessor, tf.constant([texts[i] for i in ids]))
    segments, review = segments_of(tokens, FeatureSettings.from_dict(manifest["features"]))
    return segments.row_lengths().numpy(), review.numpy()


@pytest.fixture(scope="module")
def per_segment(tiny_models, tiny_archive, tmp_path_factory, runner, cli_main):
    return _made("per_segment", tmp_path_factory, runner, cli_main, tiny_models, tiny_archive, "--segments")


@pytest.mark.slow
def test_a_per_segment_cache_round_trips_every_window_and_is_fingerprinted(per_segment, tiny_models, tiny_archive,
                                                                          runner, cli_main, tmp_path):
    import json

    from helpers import run_cli
    from mlbert.extract.cache.read import read_split

    manifest = json.loads((per_segment / "manifest.json").read_text())
    assert manifest["features"]["segments"] is True
    assert manifest["fingerprint_fields"]["settings"]["segments"] is True
    plain = tmp_path / "plain"
    assert _extract(runner, cli_main, tiny_models, tiny_archive, plain).exit_code == 0
    other = json.loads((plain / "manifest.json").read_text())
    assert "segments" not in other["fingerprint_fields"]["settings"] and other["fingerprint"] != manifest["fingerprint"]

    features, _, ids, _ = read_split(per_segment, "train", ["mean", "max"], segments=True)
    segments = features["segments"]
    # As many windows per review as the featurizer cuts from its tokens ...
    _, review = _cut(manifest, ids, tiny_models, tiny_archive)
    np.testing.assert_array_equal(segments.counts, np.bincount(review, minlength=len(ids)))
    assert segments.counts.max() > 1, "needs a review of several windows"
    # ... whose max pooling combines to the review's own features, exactly.
    starts = np.concatenate([[0], np.cumsum(segments.counts)])
    combined = np.stack([segments.values["max"][a:b].max(axis=0) for a, b in zip(starts[:-1], starts[1:])])
    np.testing.assert_array_equal(combined, features["max"])
    assert segments.values["mean"].shape == (int(segments.counts.sum()), features["mean"].shape[1])
    picked = segments.take([3, 0])
    np.testing.assert_array_equal(picked.values["mean"][:segments.counts[3]],
                                  segments.values["mean"][starts[3]:starts[4]])
    r = run_cli(runner, cli_main, "check-cache", per_segment)
    assert r.exit_code == 0, r.output
    r = run_cli(runner, cli_main, "check-cache", plain)
    assert r.exit_code == 0, r.output


def test_segments_need_windows_and_a_cache_that_has_them(extracted, tiny_models, tiny_archive, runner, cli_main,
                                                          tmp_path):
    from helpers import assert_clean_error, run_cli
    from mlbert.common.errors import BadInput
    from mlbert.extract.cache.read import open_split

    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", tmp_path / "c", "--segments",
                "--encoder", tiny_models["encoder"], "--preprocessor", tiny_models["preprocessor"])
    assert_clean_error(r, "--segments", "--windows")
    assert not (tmp_path / "c").exists()
    with pytest.raises(BadInput, match="no per-segment features"):
        open_split(extracted, "train", segments=True)


# Heads over per-segment features (train --segments mean|max|attention).

def _segment_heads(pool, n_classes=2, heads=2):
    from mlbert.train.head import Heads

    layer = Heads(heads, [5, 4], [0.0, 0.0], n_classes, 6, seeds=list(range(heads)), segments=pool)
    layer.build((None, 6))
    return layer


@pytest.mark.parametrize("pool", ["mean", "max", "attention"])
def test_a_segment_head_pools_each_review_over_its_own_windows_alone(pool):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 6)).astype(np.float32)
    review = np.array([0, 0, 0, 1, 2, 2, 2], np.int32)  # windows per review: 3, 1, 3
    layer = _segment_heads(pool)
    if pool == "attention":
        layer.attention.assign(rng.normal(size=(2, 4)).astype(np.float32))
    together = np.asarray(layer.logits(x, review=review))
    assert together.shape == (3, 2)
    # A review's logits depend on its windows only: alone, or beside other reviews, they are the same.
    for r, (lo, hi) in enumerate([(0, 3), (3, 4), (4, 7)]):
        alone = np.asarray(layer.logits(x[lo:hi], review=np.zeros(hi - lo, np.int32)))
        np.testing.assert_allclose(alone[0], together[r], rtol=1e-5, atol=1e-6)
    # ... and in any order of its windows.
    shuffled = np.asarray(layer.logits(x[[2, 0, 1, 3, 6, 4, 5]], review=review))
    np.testing.assert_allclose(shuffled, together, rtol=1e-5, atol=1e-6)


def test_attention_over_windows_starts_as_their_mean_and_learns_to_weigh_them():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 6)).astype(np.float32)
    review = np.array([0, 0, 0, 1, 2, 2, 2], np.int32)
    attention, mean = _segment_heads("attention"), _segment_heads("mean")
    np.testing.assert_allclose(np.asarray(attention.logits(x, review=review)),
                               np.asarray(mean.logits(x, review=review)), rtol=1e-5, atol=1e-6)
    attention.attention.assign(np.full((2, 4), 50.0, np.float32))  # sharp: about the max-scoring window
    assert not np.allclose(np.asarray(attention.logits(x, review=review)), np.asarray(mean.logits(x, review=review)),
                           atol=1e-3)
    # A review of one window is that window, whatever the pooling.
    for pool in ("mean", "max", "attention"):
        layer = _segment_heads(pool)
        one = np.asarray(layer.logits(x[3:4], review=np.zeros(1, np.int32)))
        np.testing.assert_allclose(one, np.asarray(mean.logits(x[3:4], review=np.zeros(1, np.int32))),
                                   rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def per_segment_ngrams(tiny_models, tiny_archive, tmp_path_factory, runner, cli_main):
    return _made("per_segment_ngrams", tmp_path_factory, runner, cli_main, tiny_models, tiny_archive, "--segments",
                 "--ngrams", 2, "--limit", 60)


@pytest.mark.slow
def test_an_attention_head_over_windows_trains_evaluates_predicts_and_exports_alike(per_segment, tiny_archive,
                                                                                     runner, cli_main, tmp_path):
    import json

    from helpers import agrees_across_paths, run_cli

    model = tmp_path / "m"
    r = run_cli(runner, cli_main, "train", "--cache", per_segment, "--model-dir", model, "--segments", "attention",
                "--pooling", "mean,max", "--ensemble", 2, "--epochs", 4, "--lr", 3e-3, "--batch-size", 8, "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    assert result["head"] == "mlp" and result["best_epoch"] and 0 <= result["val_accuracy"] <= 1
    config = json.loads((model / "config.json").read_text())
    assert config["head"]["segments"] == "attention" and config["input"]["segments"] is True
    _, cached = agrees_across_paths(model, per_segment, tiny_archive, runner, cli_main, tmp_path, ["mean", "max"],
                                    segments=True)
    # The attention vectors trained away from zero: the head weighs windows, not their plain mean.
    from mlbert.train.channels.bert import load_head
    heads = next(layer for layer in load_head(model).layers if hasattr(layer, "attention"))
    assert np.abs(np.asarray(heads.attention)).max() > 0
    assert cached.shape[1] == 2


@pytest.mark.slow
def test_a_fused_model_over_windows_with_refit_agrees_across_paths(per_segment_ngrams, tiny_archive, runner, cli_main,
                                                                    tmp_path):
    import json

    from helpers import agrees_across_paths, run_cli

    model = tmp_path / "m"
    r = run_cli(runner, cli_main, "train", "--cache", per_segment_ngrams, "--model-dir", model, "--segments", "max",
                "--pooling", "mean,max", "--channel", "fused", "--epochs", 3, "--lr", 3e-3, "--batch-size", 8,
                "--refit", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["refit"]["rows"] == json.loads(r.stdout)["train_size"] + json.loads(r.stdout)["val_size"]
    agrees_across_paths(model, per_segment_ngrams, tiny_archive, runner, cli_main, tmp_path, ["mean", "max"],
                        lexical=True, segments=True)


def test_a_segment_head_needs_a_per_segment_cache_and_the_mlp(extracted, runner, cli_main, tmp_path):
    from helpers import assert_clean_error, run_cli

    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "m", "--segments", "mean")
    assert_clean_error(r, "no per-segment features", "--segments")
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "m", "--segments", "mean",
                "--head", "linear")
    assert_clean_error(r, "--head linear --segments mean")
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "m", "--segments", "sum")
    assert r.exit_code == 2 and "--segments" in r.output
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_a_review_level_model_evaluates_alike_on_caches_with_and_without_segments(per_segment, tiny_models,
                                                                                   tiny_archive, runner, cli_main,
                                                                                   tmp_path):
    import json

    from helpers import run_cli

    plain = tmp_path / "plain"
    assert _extract(runner, cli_main, tiny_models, tiny_archive, plain).exit_code == 0
    model = tmp_path / "m"
    r = run_cli(runner, cli_main, "train", "--cache", per_segment, "--model-dir", model, "--head", "mlp",
                "--epochs", 2, "--batch-size", 8, "--json")
    assert r.exit_code == 0, r.output
    results = []
    for cache in (per_segment, plain):
        r = run_cli(runner, cli_main, "evaluate", "--cache", cache, "--model-dir", model, "--json")
        assert r.exit_code == 0, r.output
        results.append(json.loads(r.stdout))
    assert results[0]["accuracy"] == results[1]["accuracy"] and results[0]["loss"] == pytest.approx(results[1]["loss"])


# Per-token caches (extract --tokens): every token's features stored as the per-segment features,
# and heads over them (train --segments on such a cache).

@pytest.fixture(scope="module")
def per_token(tiny_models, tiny_archive, tmp_path_factory, runner, cli_main):
    return _made("per_token", tmp_path_factory, runner, cli_main, tiny_models, tiny_archive, "--tokens", "--ngrams", 2)


@pytest.mark.slow
def test_a_token_cache_holds_every_token_the_encoder_saw_and_is_fingerprinted(per_token, tiny_models, tiny_archive,
                                                                              runner, cli_main, tmp_path):
    import json

    from helpers import run_cli
    from mlbert.extract.cache.read import read_split

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
    lengths, review = _cut(manifest, ids, tiny_models, tiny_archive)
    np.testing.assert_array_equal(segments.counts, np.bincount(review, weights=lengths + 2, minlength=len(ids)))
    assert np.bincount(review).max() > 1, "needs a review of several windows"
    # ... and pool back to the review's own features: their max exactly, their mean (the windows'
    # token-weighted mean) to rounding.
    starts = np.concatenate([[0], np.cumsum(segments.counts)])
    per_review = [segments.values["token"][a:b] for a, b in zip(starts[:-1], starts[1:])]
    np.testing.assert_array_equal(np.stack([t.max(axis=0) for t in per_review]), features["max"])
    np.testing.assert_allclose(np.stack([t.mean(axis=0) for t in per_review]), features["mean"], atol=1e-5)
    assert run_cli(runner, cli_main, "check-cache", per_token).exit_code == 0


def test_a_cache_keeps_windows_or_tokens_not_both(tiny_models, tiny_archive, runner, cli_main, tmp_path):
    from helpers import assert_clean_error

    r = _extract(runner, cli_main, tiny_models, tiny_archive, tmp_path / "c", "--segments", "--tokens")
    assert_clean_error(r, "--segments and --tokens", "choose one")
    assert not (tmp_path / "c").exists()


@pytest.mark.slow
def test_a_fused_head_over_tokens_trains_evaluates_predicts_and_exports_alike(per_token, tiny_models, tiny_archive,
                                                                              runner, cli_main, tmp_path):
    import json

    from helpers import agrees_across_paths, assert_clean_error, run_cli
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
    import json

    from helpers import run_cli

    r = run_cli(runner, cli_main, "sweep", "--cache", per_token, "--out", tmp_path / "s", "--segments",
                "none,attention", "--head", "mlp", "--epochs", 2, "--batch-size", 8, "--workers", 1, "--json")
    assert r.exit_code == 0, r.output
    trials = json.loads((tmp_path / "s" / "results.json").read_text())["trials"]
    inputs = sorted(tuple(json.loads((tmp_path / "s" / "trials" / t["key"] / "config.json").read_text())
                          ["input"]["poolings"]) for t in trials)
    assert inputs == [("mean",), ("token",)]


@pytest.mark.slow
def test_a_shuffle_buffer_of_tokens_is_sized_by_their_measured_bytes(per_token, monkeypatch):
    import json

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
