"""train/fusion.py: the stacker of the fused channel, on scores whose answer is known."""
from __future__ import annotations

import numpy as np


def _channels(n=3000, classes=3, seed=0):
    """Two noisy views of the labels: the head's probabilities sharp on class 0, the lexical scores
    on the others, so that only a per-class mix of the two is right on every class."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    onehot = np.eye(classes)[y]
    head = 2.0 * onehot * (y == 0)[:, None] + rng.normal(0, 1, (n, classes))
    lexical = 2.0 * onehot * (y != 0)[:, None] + rng.normal(0, 1, (n, classes))
    head = np.exp(head) / np.exp(head).sum(axis=1, keepdims=True)
    return head, lexical, y


def test_the_stacker_weighs_each_class_of_each_channel():
    from mlbert.train.fusion import fit_fusion, fit_stack, fused_probabilities

    head, lexical, y = _channels()
    stack = fit_stack(head, lexical, y, folds=5)
    coef = np.asarray(stack["coef"])
    assert coef.shape == (6, 3) and len(stack["bias"]) == 3
    assert coef[0, 0] > coef[3, 0] and coef[4, 1] > coef[1, 1]  # each class from the channel that knows it
    test_head, test_lexical, test_y = _channels(seed=1)
    stacked = np.asarray(fused_probabilities(test_head, test_lexical, stack)).argmax(axis=1)
    weighted = np.asarray(fused_probabilities(test_head, test_lexical, fit_fusion(head, lexical, y))).argmax(axis=1)
    assert np.mean(stacked == test_y) > np.mean(weighted == test_y) + 0.02
