"""Each option declared once: the API checks keywords and types from the declaration, and the CLI's
options are made from the same list."""
from __future__ import annotations

import re

import pytest

import mlbert
from helpers import run_cli


def test_an_unknown_keyword_names_the_nearest_option(tmp_path):
    with pytest.raises(mlbert.BadInput, match="unknown option 'seqlen'; did you mean 'seq_len'"):
        mlbert.extract(tmp_path / "x.csv", tmp_path / "c", seqlen=32)
    with pytest.raises(mlbert.BadInput, match="unknown option 'epoch'; did you mean 'epochs'"):
        mlbert.train(tmp_path / "c", tmp_path / "m", epoch=3)
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("call, needle", [
    (lambda p: mlbert.extract(p / "x.csv", p / "c", seq_len="32"), "--seq-len '32': must be an integer, not str"),
    (lambda p: mlbert.extract(p / "x.csv", p / "c", windows="yes"), "--windows 'yes': must be True or False"),
    (lambda p: mlbert.extract(p / "x.csv", p / "c", split_ratio="0.2"), "--split-ratio '0.2': must be a number"),
    (lambda p: mlbert.extract(p / "x.csv", p / "c", precision="fp16"), "--precision fp16: choose one of"),
    (lambda p: mlbert.train(p / "c", p / "m", epochs=1.5), "--epochs 1.5: must be an integer, not float"),
    (lambda p: mlbert.train(p / "c", p / "m", standardize="no"), "--standardize 'no': must be True or False"),
])
def test_a_value_of_the_wrong_type_is_one_bad_input_naming_the_option(tmp_path, call, needle):
    with pytest.raises(mlbert.BadInput, match=re.escape(needle)):
        call(tmp_path)


def test_numpy_numbers_and_paths_are_taken(tmp_path):
    import numpy as np

    from mlbert.common.options import Option

    assert Option("seq_len", "int", 128, "").check(np.int64(64)) == 64
    assert Option("lr", "float", 5e-4, "").check(np.float32(1e-3)) == np.float32(1e-3)
    assert Option("encoder", "str", "x", "").check(tmp_path) == str(tmp_path)


def test_the_cli_offers_every_declared_extract_option(runner, cli_main):
    from mlbert.extract.pipeline.options import EXTRACT

    shown = " ".join(run_cli(runner, cli_main, "extract", "--help").stdout.split())  # unwrapped
    for option in EXTRACT:
        assert "--" + option.name.replace("_", "-") in shown, option.name
    assert "[default: 128]" in shown and "[default: every split the data has" in shown


def test_the_cli_offers_every_head_option_and_the_channel_names_match_the_registry(runner, cli_main):
    from mlbert.train import channels
    from mlbert.train.config import CHANNEL_NAMES, options

    shown = " ".join(run_cli(runner, cli_main, "train", "--help").stdout.split())
    for option in options():
        assert "--" + option.name.replace("_", "-") in shown, option.name
    assert "--standardize / --no-standardize" in shown and "[default: 0.2]" in shown
    assert channels.NAMES == CHANNEL_NAMES


def test_export_and_import_encoder_check_their_keywords_too(tmp_path):
    with pytest.raises(mlbert.BadInput, match="export: unknown option 'overwite'; did you mean 'overwrite'"):
        mlbert.export(tmp_path / "m", tmp_path / "s", overwite=True)
    with pytest.raises(mlbert.BadInput, match=re.escape("--seed '1': must be an integer, not str")):
        mlbert.import_encoder(tmp_path / "hf", tmp_path / "enc", seed="1")
