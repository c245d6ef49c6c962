"""Temperature scaling (Guo et al., 2017): one number that divides a model's scores (log-odds for two
classes, log-probabilities for more) before the sigmoid or softmax, fitted on the validation rows
for their log loss. Dividing every score by the same positive number keeps their order, so the
labels, accuracy and ROC AUC stay as they were; only the confidences move.

One function computes the scaled probabilities, in TensorFlow ops: it scores cached features and
runs in the exported graph alike.
"""
from __future__ import annotations

import math

import numpy as np

from .fusion import bert_scores, to_probabilities
from .metrics import accuracy_and_loss, calibration_metrics

# The search's bounds, as log temperatures: from sharpening 20x to flattening 20x.
LOG_BOUNDS = (-math.log(20.0), math.log(20.0))
STEPS = 60  # golden-section steps: the bracket shrinks to 1e-12 of its width


def scaled(probs, temperature: float):
    """Probabilities [n, C] with their scores divided by the temperature; TensorFlow ops, float64."""
    return to_probabilities(bert_scores(probs) / temperature)


def _loss(scores: np.ndarray, labels, temperature: float) -> float:
    return accuracy_and_loss(labels, np.asarray(to_probabilities(scores / temperature)))[1]


def fit_temperature(probs: np.ndarray, labels) -> dict:
    """The temperature with the least log loss on these (validation) rows, and their figures before
    and after. The loss of scores over a temperature is unimodal in log T for the rows' fixed
    scores, so a golden-section search finds it."""
    scores = np.asarray(bert_scores(probs))
    lo, hi = LOG_BOUNDS
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = _loss(scores, labels, math.exp(a)), _loss(scores, labels, math.exp(b))
    for _ in range(STEPS):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = _loss(scores, labels, math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = _loss(scores, labels, math.exp(b))
    temperature = round(math.exp((lo + hi) / 2), 6)
    before = calibration_metrics(labels, np.asarray(probs, np.float64))
    after = calibration_metrics(labels, np.asarray(scaled(probs, temperature)))
    return {"temperature": temperature, "fitted_on": "validation", "rows": int(len(probs)),
            "val_ece_raw": before["ece"], "val_ece": after["ece"],
            "val_log_loss_raw": before["log_loss"], "val_log_loss": after["log_loss"]}
