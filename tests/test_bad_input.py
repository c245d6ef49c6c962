"""Bad input: one clear line on stderr naming what is wrong, exit code 2, no traceback, nothing half-written."""
from __future__ import annotations

import json
import tarfile

import pytest

from helpers import assert_clean_error, make_archive, run_cli


@pytest.fixture
def models(tiny_models):
    return ["--encoder", tiny_models["encoder"], "--preprocessor", tiny_models["preprocessor"]]


def test_data_path_missing(runner, cli_main, tmp_path, models):
    r = run_cli(runner, cli_main, "extract", "--data", tmp_path / "nope.tar.gz", "--out", tmp_path / "c", *models)
    assert_clean_error(r, "nope.tar.gz", "no such file")
    assert not (tmp_path / "c").exists()


def test_data_not_an_archive(runner, cli_main, tmp_path, models):
    junk = tmp_path / "junk.tar.gz"
    junk.write_text("this is not an archive")
    r = run_cli(runner, cli_main, "extract", "--data", junk, "--out", tmp_path / "c", *models)
    assert_clean_error(r, "junk.tar.gz")


def test_archive_without_imdb_layout(runner, cli_main, tmp_path, models):
    path = tmp_path / "other.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        (tmp_path / "a.txt").write_text("hello")
        tar.add(tmp_path / "a.txt", arcname="something/a.txt")
    r = run_cli(runner, cli_main, "extract", "--data", path, "--out", tmp_path / "c", *models)
    assert_clean_error(r, "not an IMDB archive")


@pytest.mark.slow
def test_unpacked_folder_works_like_the_archive(runner, cli_main, tmp_path, models, tiny_archive):
    with tarfile.open(tiny_archive) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    r = run_cli(runner, cli_main, "extract", "--data", tmp_path / "unpacked" / "aclImdb", "--out", tmp_path / "c",
                "--splits", "test", "--limit", 10, "--json", *models)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["splits"]["test"]["total"] == 10


@pytest.mark.slow
def test_out_holding_another_cache_is_refused_then_overwritten(runner, cli_main, tmp_path, models, tiny_archive):
    out = tmp_path / "c"
    args = ["extract", "--data", tiny_archive, "--out", out, "--splits", "test", "--limit", 8, *models]
    assert run_cli(runner, cli_main, *args, "--seq-len", 32).exit_code == 0
    before = (out / "manifest.json").read_text()
    r = run_cli(runner, cli_main, *args, "--seq-len", 48)
    assert_clean_error(r, "other settings", "settings", "--overwrite")
    assert (out / "manifest.json").read_text() == before, "the old cache must be untouched"
    r = run_cli(runner, cli_main, *args, "--seq-len", 48, "--overwrite")
    assert r.exit_code == 0, r.output
    assert json.loads((out / "manifest.json").read_text())["features"]["seq_len"] == 48


def test_out_with_foreign_files_is_refused(runner, cli_main, tmp_path, models, tiny_archive):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", out, "--overwrite", *models)
    assert_clean_error(r, "not empty")
    assert (out / "thesis.tex").read_text() == "precious"


@pytest.mark.slow
def test_other_encoder_is_refused(runner, cli_main, tmp_path, models, tiny_archive, tiny_bert_folder):
    import mlbert

    other = tmp_path / "other"
    mlbert.import_encoder(tiny_bert_folder, other, random=True, seed=7)
    out = tmp_path / "c"
    common = ["extract", "--data", tiny_archive, "--out", out, "--splits", "test", "--limit", 4]
    assert run_cli(runner, cli_main, *common, *models).exit_code == 0
    r = run_cli(runner, cli_main, *common, "--encoder", other / "encoder", "--preprocessor", models[3])
    assert_clean_error(r, "encoder")


def test_train_on_a_folder_that_is_not_a_cache(runner, cli_main, tmp_path):
    (tmp_path / "x").mkdir()
    r = run_cli(runner, cli_main, "train", "--cache", tmp_path / "x", "--model-dir", tmp_path / "m")
    assert_clean_error(r, "not a feature cache")
    r = run_cli(runner, cli_main, "train", "--cache", tmp_path / "missing", "--model-dir", tmp_path / "m")
    assert_clean_error(r, "no such cache")
    assert not (tmp_path / "m").exists()


def test_evaluate_on_a_cache_without_the_split(runner, cli_main, tmp_path, models, tiny_archive, trained):
    out = tmp_path / "c"
    assert run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", out, "--splits", "train",
                   "--seq-len", 64, "--pooling", "mean,max", "--limit", 10, *models).exit_code == 0
    r = run_cli(runner, cli_main, "evaluate", "--cache", out, "--model-dir", trained)
    assert_clean_error(r, "no 'test' split", "--splits test")


def test_model_dir_missing(runner, cli_main, tmp_path, extracted):
    r = run_cli(runner, cli_main, "evaluate", "--cache", extracted, "--model-dir", tmp_path / "none")
    assert_clean_error(r, "no such folder")
    r = run_cli(runner, cli_main, "predict", "--model-dir", tmp_path / "none", "good")
    assert_clean_error(r, "no such folder")


def test_train_refuses_to_replace_without_overwrite(runner, cli_main, extracted, trained):
    before = (trained / "config.json").read_text()
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", trained)
    assert_clean_error(r, "--overwrite")
    assert (trained / "config.json").read_text() == before


def test_train_rejects_mismatched_hidden_and_dropout(runner, cli_main, extracted, tmp_path):
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "m",
                "--hidden", "8,4", "--dropout", "0.1")
    assert_clean_error(r, "--dropout")


def test_encoder_that_cannot_be_loaded(runner, cli_main, tmp_path, tiny_archive, tiny_models):
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", tmp_path / "c",
                "--encoder", tmp_path / "no-model", "--preprocessor", tiny_models["preprocessor"])
    assert_clean_error(r, "--encoder", "no-model", "SavedModel")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "saved_model.pb").write_bytes(b"garbage")
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", tmp_path / "c",
                "--encoder", broken, "--preprocessor", tiny_models["preprocessor"])
    assert_clean_error(r, "--encoder", "cannot load")
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())


def test_tf_hub_handle_offline_says_how_to_go_local(runner, cli_main, tmp_path, tiny_archive, tiny_models,
                                                     monkeypatch):
    # A cache dir of our own keeps hub from finding anything cached; offline, the download fails.
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "hub"))
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", tmp_path / "c", "--splits", "test",
                "--limit", 2, "--encoder", "https://tfhub.dev/tensorflow/does-not-exist/1",
                "--preprocessor", tiny_models["preprocessor"])
    assert_clean_error(r, "--encoder", "need internet", "local SavedModel")


def test_empty_and_invalid_utf8_reviews_are_counted_not_fatal(runner, cli_main, tmp_path, models):
    archive = make_archive(tmp_path / "a.tar.gz", per_label=3, extra={
        "aclImdb/test/neg/50_1.txt": b"",
        "aclImdb/test/pos/50_9.txt": b"\xc3\x28 bad bytes \xff",
        "aclImdb/test/pos/51_9.txt": b"nul \x00 inside",
    })
    r = run_cli(runner, cli_main, "extract", "--data", archive, "--out", tmp_path / "c", "--splits", "test",
                "--json", *models)
    assert r.exit_code == 0, r.output
    counts = json.loads((tmp_path / "c" / "manifest.json").read_text())["splits"]["test"]["counts"]
    assert counts == {"total": 9, "labels": {"neg": 4, "pos": 5}, "replaced_utf8": 1, "empty": 1}


def test_the_console_script_says_one_line_with_no_start_up_chatter(tmp_path):
    """TensorFlow's C++ start-up lines go to stderr before logging is set up: importing the CLI must
    not load TensorFlow, so that the command can mute them (common/quiet_tensorflow.py)."""
    import subprocess

    from helpers import MLBERT

    r = subprocess.run([MLBERT, "export", "--model-dir", str(tmp_path / "none"), "--out", str(tmp_path / "s")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"error: --model-dir {tmp_path / 'none'}: no such folder; train one "
                                             "with `mlbert train`"]
