"""Which tokens each review keeps: head, tail, head+tail and windows, on reviews of every length."""
from __future__ import annotations

import numpy as np
import pytest

LENGTHS = [0, 1, 5, 126, 127, 128, 200, 509, 510, 511, 1000, 3000]


@pytest.fixture(scope="module")
def tokens():
    import tensorflow as tf
    values = np.concatenate([np.arange(n) for n in LENGTHS]).astype(np.int32)
    return tf.RaggedTensor.from_row_lengths(values, LENGTHS)


def _by_review(tokens, budget, truncation, windows, stride, head=0):
    from mlbert.extract.features.segments import segment_tokens
    seg, review = segment_tokens(tokens, budget, truncation, windows, stride, head)
    seg, review = seg.to_list(), review.numpy().tolist()
    return [[s for s, r in zip(seg, review) if r == i] for i in range(len(LENGTHS))]


@pytest.mark.parametrize("budget,truncation,head", [(126, "head", 0), (126, "tail", 0), (510, "head+tail", 128),
                                                    (126, "head+tail", 32), (254, "head+tail", 64)])
def test_truncation_keeps_the_right_tokens(tokens, budget, truncation, head):
    for n, (kept,) in zip(LENGTHS, _by_review(tokens, budget, truncation, False, 1, head)):
        if truncation == "head":
            expected = list(range(min(n, budget)))
        elif truncation == "tail":
            expected = list(range(max(0, n - budget), n))
        else:
            expected = list(range(n)) if n <= budget else list(range(head)) + list(range(n - (budget - head), n))
        assert kept == expected, (n, budget, truncation)


@pytest.mark.parametrize("budget,stride", [(126, 63), (510, 255), (5, 5), (8, 3)])
def test_windows_cover_every_token(tokens, budget, stride):
    for n, windows in zip(LENGTHS, _by_review(tokens, budget, "head", True, stride)):
        assert set(x for w in windows for x in w) == set(range(n))
        assert all(len(w) == min(budget, n) for w in windows)
        assert windows[-1][-1:] == ([n - 1] if n else [])
        starts = [w[0] for w in windows if w]
        assert starts == sorted(starts)


def test_windows_pool_back_to_the_masked_mean_over_all_their_tokens():
    import tensorflow as tf

    from mlbert.extract.features.segments import combine_windows
    pooled = {"mean": tf.constant([[1.0], [3.0], [10.0]]), "max": tf.constant([[1.0], [5.0], [2.0]])}
    out = combine_windows(pooled, tf.constant([2.0, 6.0, 4.0]), tf.constant([0, 0, 1], tf.int64), 2)
    np.testing.assert_allclose(out["mean"].numpy(), [[(2 * 1 + 6 * 3) / 8], [10.0]])
    np.testing.assert_allclose(out["max"].numpy(), [[5.0], [2.0]])
