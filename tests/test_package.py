"""The installed package: one import name (mlbert) beside Hugging Face's `evaluate`, a Python API
for notebooks, and `python cli.py` from a clone."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers import ROOT

# `make test` downloads Hugging Face evaluate's wheel here (pip download --no-deps), so the test runs offline.
WHEELS = Path(sys.prefix) / "wheels"


def _site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def _top_level(site: Path) -> set[str]:
    """Names importable from site-packages: packages, modules and .pth hooks, not metadata."""
    return {p.name.removesuffix(".py") for p in site.iterdir()
            if not p.name.endswith((".dist-info", ".egg-info")) and p.name != "__pycache__"}


def _pip(*args):
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], check=True,
                   capture_output=True, text=True)


def test_wheel_installs_one_name_with_its_data_beside_hugging_face_evaluate(tmp_path):
    hf = sorted(WHEELS.glob("evaluate-*.whl"))
    if not hf:
        pytest.skip(f"no Hugging Face evaluate wheel in {WHEELS}; `make test` downloads it")
    # Build from a copy of the sources, so the build leaves nothing in the working tree.
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv*", "runs", "build", "*.egg-info",
                                                             "__pycache__", ".pytest_cache"))
    _pip("wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(tmp_path / "dist"), str(src))
    ours = next((tmp_path / "dist").glob("multilayer_bert_sentiment-*.whl"))

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    _pip("--python", str(python), "install", "--no-deps", "--no-index", str(hf[0]))
    site = _site_packages(venv)
    before = _top_level(site)
    hf_init = (site / "evaluate" / "__init__.py").read_bytes()
    with zipfile.ZipFile(hf[0]) as wheel:
        assert wheel.read("evaluate/__init__.py") == hf_init

    _pip("--python", str(python), "install", "--no-deps", "--no-index", str(ours))
    assert _top_level(site) - before == {"mlbert"}
    assert (site / "evaluate" / "__init__.py").read_bytes() == hf_init, "Hugging Face's evaluate must stay whole"
    assert (venv / "bin" / "mlbert").exists()
    corpus = site / "mlbert" / "extract" / "int8" / "calibration.txt"  # int8's calibration texts
    assert corpus.read_bytes() == (ROOT / "extract" / "int8" / "calibration.txt").read_bytes()
    # The package imports without its dependencies: TensorFlow only loads when a function needs it.
    shown = subprocess.run([str(python), "-c", "import mlbert, mlbert.train.config; "
                                               "print(mlbert.__file__, callable(mlbert.extract))"],
                           check=True, capture_output=True, text=True).stdout.split()
    assert Path(shown[0]).parent == site / "mlbert" and shown[1] == "True"

    _pip("--python", str(python), "uninstall", "--yes", "multilayer-bert-sentiment")
    assert _top_level(site) == before
    assert (site / "evaluate" / "__init__.py").read_bytes() == hf_init


def test_the_tests_use_the_installed_package_not_the_repository_path():
    import importlib.util

    import mlbert

    assert str(ROOT) not in [str(Path(p).resolve()) for p in sys.path if p]
    for name in ("data", "extract", "train", "evaluate", "cli"):
        assert importlib.util.find_spec(name) is None, f"'{name}' is importable as a top-level name"
    assert Path(mlbert.__file__).resolve().parent == ROOT  # the editable install maps mlbert to this clone


@pytest.mark.slow
def test_api_end_to_end_in_one_process(tiny_models, tiny_archive, tmp_path):
    import mlbert

    cache, model = tmp_path / "cache", tmp_path / "model"
    summary = mlbert.extract(tiny_archive, cache, encoder=str(tiny_models["encoder"]),
                             preprocessor=str(tiny_models["preprocessor"]), seq_len=48, pooling="mean,max",
                             batch_size=16)
    assert summary["splits"]["train"]["total"] == 202 and summary["dim"] == 32
    result = mlbert.train(cache, model, epochs=30, patience=6, lr=3e-3, batch_size=16, pooling=["mean", "max"])
    assert result["val_accuracy"] > 0.5 and Path(result["model_dir"]) == model
    metrics = mlbert.evaluate(cache, model)
    assert metrics["n"] == 200 and metrics["accuracy"] >= 0.7

    clf = mlbert.load(model)
    texts = ["great wonderful excellent superb loved brilliant", "terrible awful boring waste hated worst"]
    rows = clf.predict(texts)
    assert [r["label"] for r in rows] == ["pos", "neg"]
    features = clf.features(texts)
    assert set(features) == {"mean", "max"} and features["mean"].shape == (2, 32)
    # features() rows are the cache's rows: the same review gives the same vector.
    from mlbert.data.sources.imdb import read_imdb
    from mlbert.extract.cache.read import read_split

    cached, _, ids, _ = read_split(cache, "test", poolings=["mean", "max"])
    by_id = dict(zip(*(lambda r: (r.ids, r.texts))(read_imdb(tiny_archive, ["test"])["test"])))
    again = clf.features([by_id[ids[0]], by_id[ids[5]]])
    np.testing.assert_allclose(again["max"], cached["max"][[0, 5]], atol=1e-5)

    # Each artifact records the call that made it, not a command left over from an earlier one.
    manifest = json.loads((cache / "manifest.json").read_text())
    config = json.loads((model / "config.json").read_text())
    assert manifest["command"].startswith("mlbert.extract(") and "seq_len=48" in manifest["command"]
    assert config["command"].startswith("mlbert.train(") and "epochs=30" in config["command"]
    second = tmp_path / "model2"
    mlbert.train(cache, second, epochs=2, seed=3)
    assert json.loads((second / "config.json").read_text())["command"] == (
        f"mlbert.train(cache={str(cache)!r}, model_dir={str(second)!r}, epochs=2, seed=3)")
    assert json.loads((model / "config.json").read_text())["command"] == config["command"]
    # The functions keep their names after every subpackage has been imported.
    import mlbert.evaluate.scoring  # noqa: F401
    import mlbert.extract.pipeline.run  # noqa: F401
    import mlbert.train.run  # noqa: F401
    assert all(callable(getattr(mlbert, name)) for name in mlbert.__all__)


def test_api_bad_input_raises_bad_input(extracted, tmp_path):
    import mlbert

    with pytest.raises(mlbert.BadInput, match="--lr"):
        mlbert.train(extracted, tmp_path / "m", lr=float("nan"))
    with pytest.raises(mlbert.BadInput, match="unknown option 'learning_rate'"):
        mlbert.train(extracted, tmp_path / "m", learning_rate=1e-3)
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_python_cli_py_from_a_clone_and_the_console_script(tmp_path):
    from helpers import MLBERT

    for cmd in ([sys.executable, str(ROOT / "cli.py"), "--help"], [MLBERT, "--help"]):
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "mlbert extract" in r.stdout and "import-encoder" in r.stdout


@pytest.mark.parametrize("call, needle", [
    (lambda m, p: m.train(5, p / "m"), "--cache 5: must be a path"),
    (lambda m, p: m.evaluate(p, 5), "--model-dir 5: must be a path"),
    (lambda m, p: m.load(p, batch_size="8"), "--batch-size '8': must be an integer"),
    (lambda m, p: m.load(None), "--model-dir None: must be a path"),
    (lambda m, p: m.sweep(p, ["s"]), "--out ['s']: must be a path"),
    (lambda m, p: m.export(p, 3.0), "--out 3.0: must be a path"),
    (lambda m, p: m.import_encoder("", p / "e"), "--src '': must be a path"),
    (lambda m, p: m.extract("x.csv", "c", seq_len="32"), "--seq-len '32': must be an integer, not str"),
    (lambda m, p: m.train(p, p / "m", epochs=1.5), "--epochs 1.5: must be an integer, not float"),
])
def test_api_arguments_of_the_wrong_type_are_one_bad_input_naming_the_option(tmp_path, call, needle):
    import mlbert

    with pytest.raises(mlbert.BadInput, match=re.escape(needle)):
        call(mlbert, tmp_path)
