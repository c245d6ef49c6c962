"""The fixtures, built at test time (the helpers they use are in helpers.py): a tiny BERT encoder and
preprocessor as real SavedModels, and a tiny IMDB archive in the official aclImdb layout whose
labels a head can learn.

The tests import the installed package `mlbert` (make test installs it, editable), never the
repository through sys.path, so they see what a user's installation sees."""
from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from helpers import TINY_CONFIG, VOCAB, make_archive, run_cli

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# int8 encoders quantised by the tests are kept in a folder of this run, never in the user's cache.
os.environ["MLBERT_CACHE_DIR"] = tempfile.mkdtemp(prefix="mlbert-test-cache-")
atexit.register(shutil.rmtree, os.environ["MLBERT_CACHE_DIR"], ignore_errors=True)


@pytest.fixture(scope="session")
def tiny_bert_folder(tmp_path_factory) -> Path:
    """A Hugging Face-style folder with config and vocab only (weights come from --random)."""
    folder = tmp_path_factory.mktemp("tiny_bert")
    (folder / "config.json").write_text(json.dumps(TINY_CONFIG))
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    return folder


@pytest.fixture(scope="session")
def tiny_models(tiny_bert_folder, tmp_path_factory) -> dict[str, Path]:
    """The tiny encoder and preprocessor, written by the project's own import (random weights)."""
    import mlbert

    out = tmp_path_factory.mktemp("tiny_models") / "bert"
    mlbert.import_encoder(tiny_bert_folder, out, random=True, seed=1)
    return {"encoder": out / "encoder", "preprocessor": out / "preprocessor"}


@pytest.fixture(scope="session")
def tiny_archive(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("archive")
    return make_archive(folder / "aclImdb_v1.tar.gz", per_label=100, extra={
        "aclImdb/train/neg/900_1.txt": b"",  # empty review
        "aclImdb/train/pos/900_10.txt": b"Great \xff\xfe movie, wonderful!",  # not UTF-8
    })


@pytest.fixture(scope="session")
def runner():
    from click.testing import CliRunner
    return CliRunner()


@pytest.fixture(scope="session")
def cli_main():
    from mlbert.cli import cli
    return cli


@pytest.fixture(scope="session")
def extracted(tiny_models, tiny_archive, tmp_path_factory, runner, cli_main) -> Path:
    """A cache of the tiny archive: train and test, mean and max pooling, seq_len 64."""
    out = tmp_path_factory.mktemp("cache") / "cache"
    result = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", out,
                     "--encoder", tiny_models["encoder"], "--preprocessor", tiny_models["preprocessor"],
                     "--seq-len", 64, "--pooling", "mean,max", "--batch-size", 16)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def trained(extracted, tmp_path_factory, runner, cli_main) -> Path:
    model_dir = tmp_path_factory.mktemp("model") / "model"
    result = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", model_dir,
                     "--epochs", 40, "--patience", 8, "--lr", 3e-3, "--batch-size", 16, "--json")
    assert result.exit_code == 0, result.output
    return model_dir
