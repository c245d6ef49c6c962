"""Fixtures built at test time: a tiny BERT encoder and preprocessor as real SavedModels, and a tiny
IMDB archive in the official aclImdb layout whose labels a head can learn.

The tests import the installed package `mlbert` (make test installs it, editable), never the
repository through sys.path, so they see what a user's installation sees."""
from __future__ import annotations

import atexit
import io
import json
import os
import random
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MLBERT = str(Path(sys.executable).parent / "mlbert")  # the installed console script
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# int8 encoders quantised by the tests are kept in a folder of this run, never in the user's cache.
os.environ["MLBERT_CACHE_DIR"] = tempfile.mkdtemp(prefix="mlbert-test-cache-")
atexit.register(shutil.rmtree, os.environ["MLBERT_CACHE_DIR"], ignore_errors=True)

SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
IMDB_ARCHIVE = SHARED / "data/imdb/aclImdb_v1.tar.gz"
MINILM = SHARED / "models/all-MiniLM-L6-v2"

POSITIVE = ["great", "wonderful", "excellent", "superb", "loved", "brilliant", "moving", "beautiful"]
NEGATIVE = ["terrible", "awful", "boring", "waste", "hated", "dull", "stupid", "worst"]
NEUTRAL = ["the", "movie", "film", "was", "a", "plot", "actor", "story", "and", "it", "this", "of",
           "scene", "director", "i", "watched", "with", "my", "friend", "ending", "music", "cast", "br"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCT = [".", ",", "!", "?", "'", "<", ">", "/", "##s", "##ed", "##ing"]
VOCAB = SPECIALS + PUNCT + POSITIVE + NEGATIVE + NEUTRAL

TINY_CONFIG = {"architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
               "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
               "intermediate_size": 32, "max_position_embeddings": 512, "type_vocab_size": 2,
               "layer_norm_eps": 1e-12, "vocab_size": len(VOCAB)}


def review(rng: random.Random, label: int, length: int) -> str:
    cue = POSITIVE if label else NEGATIVE
    words = [rng.choice(cue) if rng.random() < 0.3 else rng.choice(NEUTRAL) for _ in range(length)]
    return " ".join(words).capitalize() + ". <br /><br />" + rng.choice(cue).capitalize() + "!"


def make_archive(path: Path, per_label: int = 40, seed: int = 0, extra: dict[str, bytes] | None = None) -> Path:
    """aclImdb_v1.tar.gz with per_label reviews per label per split; lengths vary from 3 to 300 words."""
    rng = random.Random(seed)
    files = {}
    for split in ("train", "test"):
        for label, name in ((1, "pos"), (0, "neg")):
            for i in range(per_label):
                rating = rng.choice([7, 8, 9, 10] if label else [1, 2, 3, 4])
                files[f"aclImdb/{split}/{name}/{i}_{rating}.txt"] = review(
                    rng, label, rng.choice([3, 10, 40, 120, 300])).encode()
    files.update(extra or {})
    files["aclImdb/README"] = b"tiny test copy"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


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


def run_cli(runner, cli_main, *args, input=None):
    """Run the real CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    return runner.invoke(cli_main, [str(a) for a in args], input=input, catch_exceptions=False)


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
