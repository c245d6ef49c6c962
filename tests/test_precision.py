"""extract --precision int8 and bf16: the encoder call in OpenVINO, end to end on the tiny encoder.

OpenVINO and NNCF come with the `fast` extra, which `make test` installs; without them these tests
skip with that reason.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from helpers import MLBERT, run_cli

pytestmark = pytest.mark.slow  # every test here shares one int8 cache, quantised first

pytest.importorskip("openvino", reason="extract --precision needs the fast extra (pip install '.[fast]')")
pytest.importorskip("nncf", reason="extract --precision int8 needs the fast extra (pip install '.[fast]')")

FLAGS = ("--seq-len", 64, "--pooling", "mean,max", "--batch-size", 16)  # the `extracted` fixture's


def cosines(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def int8_cache(tiny_models, tiny_archive, tmp_path_factory, runner, cli_main):
    out = tmp_path_factory.mktemp("int8") / "cache"
    result = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", out, "--encoder",
                     tiny_models["encoder"], "--preprocessor", tiny_models["preprocessor"], *FLAGS,
                     "--precision", "int8", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # stdout is JSON alone: NNCF's progress bars went to stderr
    assert "quantising the encoder to int8" in result.stderr  # the test run's own store starts empty
    assert (summary["precision"], summary["runtime"]) == ("int8", "openvino")
    return out


def test_int8_manifest_records_runtime_and_covers_precision_in_fingerprint(int8_cache, extracted):
    manifest = json.loads((int8_cache / "manifest.json").read_text())
    fp32 = json.loads((extracted / "manifest.json").read_text())
    features = manifest["features"]
    assert features["precision"] == "int8"
    assert features["runtime"]["name"] == "openvino" and features["runtime"]["version"]
    from mlbert.common.digest import sha256_file
    from mlbert.extract.int8 import calibration, recipe

    assert features["runtime"]["calibration"]["corpus_sha256"] == sha256_file(calibration.CORPUS)
    assert features["runtime"]["calibration"]["recipe"] == recipe.RECIPE
    assert manifest["fingerprint_fields"]["settings"]["precision"] == "int8"
    assert manifest["fingerprint"] != fp32["fingerprint"]
    assert fp32["features"]["runtime"]["name"] == "tensorflow"
    assert sorted(features["encoder_ir"]) == ["encoder-int8.bin", "encoder-int8.xml"]
    for name in features["encoder_ir"]:
        assert (int8_cache / name).is_file()


def test_int8_recipe_keeps_the_first_and_last_ffn_down_projections_in_float(int8_cache, tiny_models):
    """The cache's int8 encoder: the FFN down projections recipe.float_matmuls names multiply by
    float weights; every other dense matmul by int8 weights (dequantised in the graph)."""
    import openvino as ov

    from mlbert.extract.int8 import recipe
    from mlbert.extract.runtimes.openvino_runtime import IR_XML

    converted = ov.convert_model(str(tiny_models["encoder"]))
    down = recipe.ffn_down_projections(converted)
    assert len(down) == 2 and recipe.float_matmuls(converted) == down  # the tiny encoder has two layers
    dense = {op.get_friendly_name() for op in converted.get_ordered_ops()
             if op.get_type_name() == "MatMul" and op.input_value(1).get_node().get_type_name() == "Constant"}
    assert len(dense) == 2 * 4 + 1  # per layer QKV, attention output, FFN up and down; the pooler
    quantized = ov.Core().read_model(str(int8_cache / IR_XML))
    weights = {op.get_friendly_name(): op.input_value(1).get_node() for op in quantized.get_ordered_ops()
               if op.get_friendly_name() in dense}
    assert weights.keys() == dense
    in_float = {name for name, node in weights.items()
                if node.get_type_name() == "Constant" and node.get_element_type() == ov.Type.f32}
    assert in_float == set(down)


def test_int8_features_are_close_to_fp32(int8_cache, extracted):
    """Per review, the pooled features' cosine to fp32's. On all-MiniLM-L6-v2 the int8 features sit at
    cosine 0.998 (mean pooling, benchmarks/results/encoder_runtimes.json); the tiny random encoder
    has no outlier-free activations to calibrate on, so it gets a looser bound: every review above
    0.95, the mean above 0.99. A wrong layer order, a dropped layer or unpooled padding gives far
    less."""
    from mlbert.extract.cache.read import read_split

    for split in ("train", "test"):
        fp32, labels, ids, _ = read_split(extracted, split, ["mean", "max"])
        int8, labels8, ids8, _ = read_split(int8_cache, split, ["mean", "max"])
        assert ids8 == ids and np.array_equal(labels8, labels)
        for pooling in ("mean", "max"):
            c = cosines(fp32[pooling], int8[pooling])
            assert c.min() > 0.95 and c.mean() > 0.99, (split, pooling, c.min(), c.mean())
            assert not np.array_equal(fp32[pooling], int8[pooling])  # the int8 path really ran


def test_int8_features_do_not_depend_on_batches_in_flight_or_threads(int8_cache, tiny_models):
    """The OpenVINO encoder streams batches, one per infer request: with one request, with three,
    and from two threads sharing one featurizer at once (a server), the same features."""
    import threading

    from mlbert.data.sources import read_source
    from mlbert.extract.cache.manifest import read_manifest
    from mlbert.extract import runtimes
    from mlbert.extract.encoders import handles
    from mlbert.extract.features.featurizer import Featurizer
    from mlbert.extract.features.settings import FeatureSettings

    texts = read_source(read_manifest(int8_cache)["data"]["path"], ["test"], seed=0)["test"].texts
    pre = handles.load(str(tiny_models["preprocessor"]), "--preprocessor", "preprocessor")
    settings = FeatureSettings(seq_len=64, poolings=("mean", "max"))

    def featurizer(requests: int) -> Featurizer:
        encoder = runtimes.load("openvino", "int8", "", ir_dir=int8_cache)
        encoder.requests = [encoder.compiled.create_infer_request() for _ in range(requests)]
        return Featurizer(pre, encoder, settings, batch_size=2)  # many batches, of 4 to 8 sequences

    one = featurizer(1).features(texts)
    shared = featurizer(3)
    three = shared.features(texts)
    results = {}

    def run(name, part):
        results[name] = shared.features(part)

    threads = [threading.Thread(target=run, args=(name, part)) for name, part in (("a", texts), ("b", texts[::-1]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for pooling in ("mean", "max"):
        np.testing.assert_allclose(three[pooling], one[pooling], rtol=0, atol=1e-6)
        np.testing.assert_allclose(results["a"][pooling], one[pooling], rtol=0, atol=1e-6)
        np.testing.assert_allclose(results["b"][pooling], one[pooling][::-1], rtol=0, atol=1e-6)


def test_int8_end_to_end_train_evaluate_predict(int8_cache, tmp_path, runner, cli_main):
    import mlbert
    from mlbert.extract.cache.read import read_split

    model = tmp_path / "model"
    result = run_cli(runner, cli_main, "train", "--cache", int8_cache, "--model-dir", model, "--epochs", 30,
                     "--patience", 6, "--lr", 3e-3, "--batch-size", 16, "--pooling", "mean,max", "--json")
    assert result.exit_code == 0, result.output
    assert (model / "encoder-int8.xml").is_file() and (model / "encoder-int8.bin").is_file()
    scored = run_cli(runner, cli_main, "evaluate", "--cache", int8_cache, "--model-dir", model, "--json")
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["accuracy"] > 0.8
    # load() encodes new texts with the model dir's int8 encoder: its features are the cache's.
    texts = ["a wonderful, great film", "an awful, boring mess"]
    classifier = mlbert.load(model)
    assert classifier.settings.precision == "int8"
    rows = classifier.predict(texts)
    assert [r["label"] for r in rows] == ["pos", "neg"]
    predicted = run_cli(runner, cli_main, "predict", "--model-dir", model, "--json", *texts)
    assert predicted.exit_code == 0, predicted.output
    assert [r["label"] for r in json.loads(predicted.stdout)] == ["pos", "neg"]
    cached, _, ids, _ = read_split(int8_cache, "test", ["mean"])
    # Re-encode a few cached test reviews and compare with their cached int8 features.
    from mlbert.data.sources import read_source
    from mlbert.extract.cache.manifest import read_manifest

    manifest = read_manifest(int8_cache)
    reviews = read_source(manifest["data"]["path"], ["test"], seed=0)["test"]
    index = {review_id: i for i, review_id in enumerate(reviews.ids)}
    picked = ids[:16]
    again = classifier.features([reviews.texts[index[i]] for i in picked])["mean"]
    c = cosines(cached["mean"][:16], again)
    assert c.min() > 0.999, c  # the same int8 weights; only the batch composition differs


def test_mixing_precisions_is_refused(int8_cache, extracted, trained, tiny_models, tiny_archive, runner,
                                      cli_main):
    # An fp32 run into the int8 cache: a cache made with other settings.
    result = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", int8_cache, "--encoder",
                     tiny_models["encoder"], "--preprocessor", tiny_models["preprocessor"], *FLAGS)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "settings.precision" in result.stderr
    assert "Traceback" not in result.stderr
    # An fp32 model on the int8 cache.
    result = run_cli(runner, cli_main, "evaluate", "--cache", int8_cache, "--model-dir", trained)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "settings.precision" in result.stderr


def test_int8_model_refuses_a_changed_encoder_copy(int8_cache, tmp_path, runner, cli_main):
    model = tmp_path / "model"
    assert run_cli(runner, cli_main, "train", "--cache", int8_cache, "--model-dir", model, "--epochs", 2).exit_code == 0
    weights = model / "encoder-int8.bin"
    data = bytearray(weights.read_bytes())
    data[100:104] = bytes(4 - i for i in range(4)) if data[100:104] != bytes([4, 3, 2, 1]) else b"\x00" * 4
    weights.unlink()  # a new file, not the cache's (the model dir's copy may be a hard link to it)
    weights.write_bytes(bytes(data))
    result = run_cli(runner, cli_main, "predict", "--model-dir", model, "a fine film")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "encoder-int8.bin" in result.stderr


def test_bf16_extract_runs_and_is_close_to_fp32(tiny_models, tiny_archive, extracted, tmp_path, runner, cli_main):
    from mlbert.extract.cache.read import read_split

    out = tmp_path / "bf16"
    result = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", out, "--encoder",
                     tiny_models["encoder"], "--preprocessor", tiny_models["preprocessor"], *FLAGS,
                     "--precision", "bf16", "--splits", "test", "--json")
    assert result.exit_code == 0, result.output
    fp32, _, ids, _ = read_split(extracted, "test", ["mean"])
    bf16, _, ids16, _ = read_split(out, "test", ["mean"])
    assert ids16 == ids
    # bfloat16 keeps 8 bits of mantissa: relative errors near 0.4 % per product.
    assert cosines(fp32["mean"], bf16["mean"]).min() > 0.99


def _int8_extract(runner, cli_main, tiny_models, tiny_archive, out, *flags):
    result = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", out, "--encoder",
                     tiny_models["encoder"], "--preprocessor", tiny_models["preprocessor"], "--batch-size", 16,
                     "--precision", "int8", "--splits", "test", *flags)
    assert result.exit_code == 0, result.output
    return result.stderr, json.loads((out / "manifest.json").read_text())["features"]["encoder_ir"]


def _kept_entry(cache) -> Path:
    """The int8 store's folder for the encoder a cache was extracted with (the test run's store)."""
    from mlbert.extract.int8 import store

    fields = json.loads((cache / "manifest.json").read_text())["fingerprint_fields"]
    return store.root() / store.key(fields["encoder"], fields["preprocessor"], fields["settings"]["seq_len"])


def test_int8_encoder_is_quantised_once_per_encoder_and_seq_len(int8_cache, tiny_models, tiny_archive, tmp_path,
                                                                runner, cli_main):
    """After the int8_cache fixture quantised (its stderr said so), a second int8 cache of the same
    encoder and --seq-len, with other settings, uses the kept encoder (no quantising, the same IR
    bytes); another --seq-len gets its own."""
    entry = _kept_entry(int8_cache)
    assert (entry / "int8-encoder.json").is_file()
    ir = json.loads((int8_cache / "manifest.json").read_text())["features"]["encoder_ir"]
    again, ir_again = _int8_extract(runner, cli_main, tiny_models, tiny_archive, tmp_path / "b", "--seq-len", 64,
                                    "--windows", "--stride", 40, "--pooling", "mean,cls")
    assert "quantising" not in again and "quantised earlier" in again
    assert ir_again == ir
    other, ir_other = _int8_extract(runner, cli_main, tiny_models, tiny_archive, tmp_path / "c", "--seq-len", 32)
    assert "quantising the encoder to int8" in other and ir_other != ir
    assert _kept_entry(tmp_path / "c") != entry and (_kept_entry(tmp_path / "c") / "int8-encoder.json").is_file()


def test_damaged_kept_int8_encoder_is_quantised_again_to_the_same_features(int8_cache, tiny_models, tiny_archive,
                                                                           tmp_path, monkeypatch, runner, cli_main):
    """Quantising on the built-in corpus is deterministic (the same weights; only OpenVINO's generated
    node names differ), so a cache's features do not depend on whether its int8 encoder was kept or
    made anew; a damaged kept copy is never used, and is replaced."""
    from mlbert.common.digest import sha256_file
    from mlbert.extract.cache.read import read_split

    kept = _kept_entry(int8_cache)
    store = tmp_path / "store"
    entry = store / "int8-encoders" / kept.name
    shutil.copytree(kept, entry)
    monkeypatch.setenv("MLBERT_CACHE_DIR", str(store))
    weights = entry / "encoder-int8.bin"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\x00" * 8)
    stderr, ir_again = _int8_extract(runner, cli_main, tiny_models, tiny_archive, tmp_path / "b", *FLAGS)
    assert "quantising the encoder to int8" in stderr
    ir = json.loads((int8_cache / "manifest.json").read_text())["features"]["encoder_ir"]
    assert ir_again["encoder-int8.bin"] == ir["encoder-int8.bin"]
    first, _, _, _ = read_split(int8_cache, "test", ["mean", "max"])
    remade, _, _, _ = read_split(tmp_path / "b", "test", ["mean", "max"])
    for pooling in ("mean", "max"):
        assert np.array_equal(first[pooling], remade[pooling])
    assert json.loads((entry / "int8-encoder.json").read_text())["files"] == ir_again  # whole again, the new one
    assert sha256_file(weights) == ir["encoder-int8.bin"]


def test_int8_extract_goes_on_when_the_store_cannot_be_written(tiny_models, tiny_archive, tmp_path):
    """Run as the installed command in its own process, where NNCF's log handler holds the real
    stdout: --json output must still be JSON alone while it quantises, and NNCF's INFO lines (graph
    node numbers) stay out of stderr."""
    blocker = tmp_path / "a-file"
    blocker.write_text("the user's, not a folder")
    out = tmp_path / "cache"
    done = subprocess.run([MLBERT, "extract", "--data", tiny_archive, "--out", out, "--encoder", tiny_models["encoder"],
                           "--preprocessor", tiny_models["preprocessor"], "--batch-size", "16", "--precision", "int8",
                           "--splits", "test", "--seq-len", "64", "--json"], capture_output=True, text=True,
                          env={**os.environ, "MLBERT_CACHE_DIR": str(blocker)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["precision"] == "int8"
    assert "quantising the encoder to int8" in done.stderr and "INFO:nncf" not in done.stderr
    assert "warning: cannot keep the int8 encoder" in done.stderr and "MLBERT_CACHE_DIR" in done.stderr
    assert blocker.read_text() == "the user's, not a folder"
    ir = json.loads((out / "manifest.json").read_text())["features"]["encoder_ir"]
    assert sorted(ir) == ["encoder-int8.bin", "encoder-int8.xml"]
