"""The lexical channel: n-grams cached once by extract, a naive-Bayes weighted logistic regression on
them, and the fused model, through train, evaluate, predict, sweep and export."""
from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from helpers import agrees_across_paths, assert_clean_error, run_cli


def _models(tiny_models):
    return ["--encoder", tiny_models["encoder"], "--preprocessor", tiny_models["preprocessor"]]


@pytest.fixture(scope="module")
def lexical_cache(tmp_path_factory, tiny_models, tiny_archive, runner, cli_main):
    out = tmp_path_factory.mktemp("lexical") / "cache"
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", out, "--seq-len", 32, "--ngrams", 3,
                "--pooling", "mean,max", *_models(tiny_models))
    assert r.exit_code == 0, r.output
    return out


def test_extract_caches_the_ngrams_once(lexical_cache, tiny_archive, runner, cli_main):
    from mlbert.data.sources.imdb import read_imdb
    from mlbert.extract.cache.read import read_split
    from mlbert.extract.features.lexical import lexical_features

    manifest = json.loads((lexical_cache / "manifest.json").read_text())
    assert manifest["features"]["ngrams"] == 3 and manifest["fingerprint_fields"]["settings"]["ngrams"] == 3
    with h5py.File(lexical_cache / "test-00000-of-00001.h5") as f:
        assert f["ngram_ids"].dtype == np.int32 and f["ngram_counts"].shape == (200,)
    features, _, ids, _ = read_split(lexical_cache, "test", lexical=True)
    texts = dict(zip(*(lambda r: (r.ids, r.texts))(read_imdb(tiny_archive, ["test"])["test"])))
    again_ids, again_counts = lexical_features([texts[i] for i in ids[:7]], 3)
    sub = features["ngrams"].take(range(7))
    np.testing.assert_array_equal(sub.counts, again_counts)
    np.testing.assert_array_equal(sub.ids, again_ids)
    assert run_cli(runner, cli_main, "check-cache", lexical_cache).exit_code == 0


def test_lexical_model_alone_needs_no_encoder_and_learns(lexical_cache, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "train", "--cache", lexical_cache, "--model-dir", tmp_path / "m", "--channel",
                "lexical", "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    assert result["best_epoch"] is None and result["lexical"]["vocab"] > 10
    assert not (tmp_path / "m" / "model.keras").exists() and (tmp_path / "m" / "lexical.npz").exists()
    r = run_cli(runner, cli_main, "evaluate", "--cache", lexical_cache, "--model-dir", tmp_path / "m", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["accuracy"] >= 0.8, r.output
    r = run_cli(runner, cli_main, "predict", "--model-dir", tmp_path / "m", "--json",
                "great wonderful excellent loved", "terrible awful boring hated")
    assert [row["label"] for row in json.loads(r.stdout)] == ["pos", "neg"]


@pytest.mark.slow
def test_fused_model_agrees_across_evaluate_predict_and_export(lexical_cache, tiny_archive, runner, cli_main,
                                                               tmp_path):
    model = tmp_path / "m"
    r = run_cli(runner, cli_main, "train", "--cache", lexical_cache, "--model-dir", model, "--channel", "fused",
                "--epochs", 3, "--lr", 3e-3, "--batch-size", 16, "--ensemble", 2, "--refit", "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    assert 0 <= result["fusion"]["weight"] <= 1 and result["fusion"]["temperature"] > 0
    assert result["refit"]["rows"] == 202 and result["refit"]["lexical_steps"] == result["lexical"]["best_step"]
    served, cached = agrees_across_paths(model, lexical_cache, tiny_archive, runner, cli_main, tmp_path, ["mean"],
                                         lexical=True)
    np.testing.assert_allclose(served["positive_probability"].numpy(), cached[:12, 1], atol=1e-5)


@pytest.mark.slow
def test_a_stacked_fused_model_learns_on_out_of_fold_scores_and_exports_what_it_evaluates(
        lexical_cache, tiny_archive, runner, cli_main, tmp_path):
    model = tmp_path / "m"
    r = run_cli(runner, cli_main, "train", "--cache", lexical_cache, "--model-dir", model, "--channel", "fused",
                "--fusion", "stack", "--stack-folds", 3, "--epochs", 3, "--lr", 3e-3, "--batch-size", 16, "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    fusion = result["fusion"]
    assert fusion["kind"] == "stack" and fusion["folds"] == 3
    assert fusion["rows"] == result["train_size"]  # learned on the training rows' out-of-fold scores
    assert np.asarray(fusion["coef"]).shape == (2, 1) and len(fusion["bias"]) == 1
    assert np.asarray(fusion["coef"])[1, 0] > 0  # the lexical log-odds, which learn this data, count for it
    config = json.loads((model / "config.json").read_text())
    assert config["head"]["fusion"] == "stack" and config["fusion"] == fusion
    agrees_across_paths(model, lexical_cache, tiny_archive, runner, cli_main, tmp_path, ["mean"], lexical=True)


def test_stacking_needs_a_fused_model(lexical_cache, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "train", "--cache", lexical_cache, "--model-dir", tmp_path / "m", "--channel",
                "lexical", "--fusion", "stack")
    assert_clean_error(r, "--fusion stack", "--channel fused")
    r = run_cli(runner, cli_main, "train", "--cache", lexical_cache, "--model-dir", tmp_path / "m", "--channel",
                "fused", "--fusion", "stack", "--stack-folds", 1)
    assert_clean_error(r, "--stack-folds")
    assert not (tmp_path / "m").exists()


def test_a_cache_without_ngrams_is_a_clear_error_for_lexical_and_fused(extracted, runner, cli_main, tmp_path):
    for channel in ("lexical", "fused"):
        r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / channel, "--channel",
                    channel)
        assert_clean_error(r, "no lexical channel", "--ngrams 3")
        assert not (tmp_path / channel).exists()


@pytest.mark.slow
def test_sweep_compares_the_channels(lexical_cache, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "sweep", "--cache", lexical_cache, "--out", tmp_path / "s", "--channel",
                "bert,lexical,fused", "--epochs", 2, "--hidden", "8", "--dropout", "0.1", "--workers", 1,
                "--evaluate-best", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    rows = json.loads((tmp_path / "s" / "results.json").read_text())["trials"]
    assert sorted(row.get("channel", "bert") for row in rows) == ["bert", "fused", "lexical"]
    assert summary["test"]["n"] == 200


@pytest.mark.slow
def test_three_classes_fused(tmp_path, tiny_models, runner, cli_main):
    from test_labels import _three_class_rows, _write_jsonl

    data = _write_jsonl(tmp_path / "three.jsonl", _three_class_rows())
    r = run_cli(runner, cli_main, "extract", "--data", data, "--out", tmp_path / "c", "--seq-len", 32, "--ngrams", 2,
                *_models(tiny_models))
    assert r.exit_code == 0, r.output
    r = run_cli(runner, cli_main, "train", "--cache", tmp_path / "c", "--model-dir", tmp_path / "m", "--channel",
                "fused", "--epochs", 3, "--json")
    assert r.exit_code == 0, r.output
    r = run_cli(runner, cli_main, "evaluate", "--cache", tmp_path / "c", "--model-dir", tmp_path / "m", "--json")
    m = json.loads(r.stdout)
    assert m["labels"] == ["negative", "neutral", "positive"] and m["accuracy"] > 0.5


class _Shards:
    """Rows' one method that count_ngrams reads, over chunks given here."""

    def __init__(self, chunks):
        self._chunks = chunks

    def chunks(self, features=True):
        yield from self._chunks


def test_naive_bayes_ratios_and_scores_by_hand():
    from mlbert.extract.cache.shards import Ngrams
    from mlbert.train.lexical import LexicalModel, count_ngrams, nb_ratios

    vocab = np.array([3, 7, 9], np.int32)
    docs = Ngrams(np.array([3, 7, 7, 9, 3, 9], np.int32), np.array([2, 2, 2], np.int32))
    y = np.array([1, 0, 1])
    # Two shards, counted one after the other and merged.
    ids, counts = count_ngrams(_Shards([({"ngrams": docs.take([0, 1])}, y[:2]), ({"ngrams": docs.take([2])}, y[2:])]),
                               2)
    np.testing.assert_array_equal(ids, vocab)
    np.testing.assert_array_equal(counts, [[0, 2], [1, 1], [1, 1]])  # reviews holding each id: neg, pos
    ratios = nb_ratios(counts)[:, 0]
    p, q = np.array([1 + 2, 1 + 1, 1 + 1]), np.array([1 + 0, 1 + 1, 1 + 1])  # counts per id in pos / neg docs
    np.testing.assert_allclose(ratios, np.log(p / p.sum()) - np.log(q / q.sum()), rtol=1e-6)
    model = LexicalModel(vocab, np.array([[1.0], [2.0], [4.0]], np.float32), np.array([0.5], np.float32))
    unknown = Ngrams(np.array([3, 8, 9], np.int32), np.array([3], np.int32))  # 8 is not in the vocabulary
    np.testing.assert_allclose(model.scores(unknown), [[0.5 + 1 + 4]])


def test_vocabulary_index_finds_what_a_binary_search_finds():
    from mlbert.train.lexical import VocabIndex

    rng = np.random.default_rng(0)
    vocab = np.unique(rng.integers(0, 2**31 - 1, 50_000)).astype(np.int32)
    vocab = np.unique(np.concatenate([vocab, vocab[:100] + 1]))  # neighbours share a range
    ids = np.concatenate([vocab[rng.integers(0, len(vocab), 20_000)], rng.integers(0, 2**31 - 1, 5_000),
                          [0, 2**31 - 2]]).astype(np.int32)
    cols, known = VocabIndex(vocab).columns(ids)
    where = np.minimum(np.searchsorted(vocab, ids), len(vocab) - 1)
    expected = vocab[where] == ids
    np.testing.assert_array_equal(known, expected)
    np.testing.assert_array_equal(cols[known], where[expected])
    assert not VocabIndex(vocab[:0]).columns(ids)[1].any()
    crowded = np.arange(1000, 3000, 2, dtype=np.int32)  # ids in a few ranges: the binary search
    cols, known = VocabIndex(crowded).columns(np.array([999, 1000, 1001, 2998, 5000], np.int32))
    assert known.tolist() == [False, True, False, True, False] and cols[[1, 3]].tolist() == [0, 999]
