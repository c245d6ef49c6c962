"""The ordinal head (train/head.py Heads(ordinal=True)): a cumulative-link model whose logits are
class log-probabilities."""
from __future__ import annotations

import numpy as np


def _ordinal_heads(classes=5, heads=3):
    from mlbert.train.head import Heads

    layer = Heads(heads, [8], [0.0], classes, 6, seeds=list(range(heads)), ordinal=True)
    layer.build((None, 6))
    return layer


def test_ordinal_logits_are_log_probabilities_that_sum_to_one():
    layer = _ordinal_heads()
    x = np.random.default_rng(0).normal(size=(32, 6)).astype(np.float32)
    z = np.asarray(layer.logits(x))
    assert z.shape == (32, 3, 5)
    np.testing.assert_allclose(np.exp(z).sum(axis=-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.asarray(layer(x)).sum(axis=-1), 1.0, atol=1e-5)


def test_ordinal_thresholds_stay_increasing_and_a_higher_score_never_predicts_a_lower_class():
    layer = _ordinal_heads()
    layer.cut_gaps.assign(np.full(layer.cut_gaps.shape, -8.0, np.float32))  # gaps near zero, still positive
    t = np.asarray(layer.thresholds())
    assert (np.diff(t, axis=1) > 0).all()
    from mlbert.train.head import THRESHOLD_UNITS as units  # thresholds are learned in these units

    layer.cut_first.assign(np.full(layer.cut_first.shape, -6.0 / units, np.float32))
    layer.cut_gaps.assign(np.full(layer.cut_gaps.shape, np.log(np.expm1(3.0 / units)), np.float32))  # 3 apart
    np.testing.assert_allclose(np.asarray(layer.thresholds())[0], [-6, -3, 0, 3], atol=1e-4)
    scores = np.linspace(-10, 10, 200, dtype=np.float32)[:, None, None] * np.ones((1, 3, 1), np.float32)
    predicted = np.asarray(layer._ordinal_log_probabilities(scores)).argmax(axis=-1)
    assert (np.diff(predicted, axis=0) >= 0).all()
    assert set(predicted[:, 0]) == set(range(5))  # every class is reached along the scale


def test_two_classes_ignore_ordinal():
    from mlbert.train.head import Heads

    layer = Heads(1, [4], [0.0], 2, 6, seeds=[0], ordinal=True)
    assert not layer.ordinal and layer.outputs_per_head == 1
