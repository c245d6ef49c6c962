"""The encoder runtimes behind one factory: which runtime a precision means, which pairs are refused,
and that each runtime gives the featurizer the same features."""
from __future__ import annotations

import numpy as np
import pytest

from mlbert import BadInput
from mlbert.extract import runtimes
from mlbert.extract.features.settings import FeatureSettings


def test_each_precision_has_its_default_runtime():
    assert runtimes.resolve(None, "fp32") == "tensorflow"
    assert runtimes.resolve(None, "bf16") == runtimes.resolve(None, "int8") == "openvino"
    assert runtimes.resolve("openvino", "fp32") == "openvino"


@pytest.mark.parametrize("runtime, precision, needle", [
    ("tensorflow", "int8", "--runtime tensorflow --precision int8: tensorflow runs fp32"),
    ("onnx", "fp32", "--runtime onnx: choose one of tensorflow, openvino"),
    (None, "fp16", "--precision fp16: choose one of fp32, bf16, int8"),
])
def test_a_runtime_that_cannot_run_the_precision_is_refused(runtime, precision, needle):
    with pytest.raises(BadInput, match=needle):
        runtimes.resolve(runtime, precision)
    with pytest.raises(BadInput, match=needle):
        FeatureSettings(runtime=runtime, precision=precision).validate()


def test_settings_record_the_runtime_only_when_it_is_not_the_precisions_own():
    assert "runtime" not in FeatureSettings().to_dict()
    assert "runtime" not in FeatureSettings(runtime="tensorflow").to_dict()
    moved = FeatureSettings(runtime="openvino").to_dict()
    assert moved["runtime"] == "openvino"
    assert FeatureSettings.from_dict(moved).runtime_name == "openvino"
    # A manifest's `features` holds the runtime's record where the settings hold its name.
    features = {**FeatureSettings().to_dict(), "runtime": {"name": "tensorflow", "version": "2"}}
    assert FeatureSettings.from_dict(features).to_dict() == FeatureSettings().to_dict()


def test_the_factory_loads_the_tensorflow_runtime(tiny_models):
    from mlbert.extract.encoders import handles
    from mlbert.extract.features.featurizer import Featurizer

    runtime = runtimes.load("tensorflow", "fp32", str(tiny_models["encoder"]))
    assert runtime.describe()["name"] == "tensorflow" and runtime.describe()["precision"] == "fp32"
    pre = handles.load(str(tiny_models["preprocessor"]), "--preprocessor", "preprocessor")
    features = Featurizer(pre, runtime, FeatureSettings(seq_len=16)).features(["a great film", "awful"])
    assert features["mean"].shape == (2, 2, 16)


@pytest.mark.slow
def test_openvino_fp32_gives_the_tensorflow_features_within_rounding(tiny_models):
    pytest.importorskip("openvino", reason="the openvino runtime needs the fast extra")
    from mlbert.extract.encoders import handles
    from mlbert.extract.features.featurizer import Featurizer

    pre = handles.load(str(tiny_models["preprocessor"]), "--preprocessor", "preprocessor")
    settings = FeatureSettings(seq_len=32, poolings=("mean", "max"))
    texts = ["a great film", "the worst, most boring plot " * 9, ""]
    found = {name: Featurizer(pre, runtimes.load(name, "fp32", str(tiny_models["encoder"])), settings).features(texts)
             for name in ("tensorflow", "openvino")}
    assert runtimes.load("openvino", "fp32", str(tiny_models["encoder"])).describe()["name"] == "openvino"
    for pooling in settings.poolings:
        np.testing.assert_allclose(found["openvino"][pooling], found["tensorflow"][pooling], atol=1e-4)
