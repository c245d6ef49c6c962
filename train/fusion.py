"""Fusing the BERT head and the lexical model: their log-odds (two classes) or log-probabilities
(more) mixed with one weight, and scaled by one temperature, both chosen on the validation rows.

The mix is chosen for validation accuracy (ties: the lower loss) and the temperature for validation
loss; accuracy does not depend on the temperature. Stacking two scores with two numbers leaves
little to overfit in the thousands of validation rows it is fitted on.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from .metrics import accuracy_and_loss

WEIGHTS = np.round(np.linspace(0, 1, 21), 2)  # the BERT head's share, 0 to 1 by 0.05
TEMPERATURES = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
EPS = 1e-7


def bert_scores(probs):
    """The head's probabilities [n, C] as scores: log-odds [n, 1] for two classes, else log-probabilities.
    TensorFlow ops, float64: the same function scores cached features and runs in the exported graph."""
    p = tf.clip_by_value(tf.cast(probs, tf.float64), EPS, 1 - EPS)
    return tf.math.log(p[:, 1:] / p[:, :1]) if p.shape[1] == 2 else tf.math.log(p)


def to_probabilities(scores):
    """Scores (log-odds [n, 1], or class scores [n, C]) to probabilities [n, C], float64."""
    scores = tf.cast(scores, tf.float64)
    if scores.shape[1] == 1:
        positive = tf.sigmoid(scores)
        return tf.concat([1.0 - positive, positive], axis=1)
    return tf.nn.softmax(scores, axis=1)


def mix(bert, lexical, fusion: dict):
    """The fused scores of a head's scores and the lexical model's."""
    return fusion["temperature"] * (fusion["weight"] * bert + (1 - fusion["weight"]) * tf.cast(lexical, tf.float64))


def fused_probabilities(head_probs, lexical_scores, fusion: dict):
    """The fused model's probabilities, from the head's probabilities and the lexical scores."""
    return to_probabilities(mix(bert_scores(head_probs), lexical_scores, fusion))


def fit_fusion(head_probs: np.ndarray, lexical: np.ndarray, labels) -> dict:
    """The weight and temperature for validation rows' head probabilities and lexical scores.
    Returns {"weight", "temperature", ...}."""
    bert, best = bert_scores(head_probs), None

    def probabilities(fusion):
        return np.asarray(to_probabilities(mix(bert, lexical, fusion)))

    for weight in WEIGHTS:
        accuracy, loss = accuracy_and_loss(labels, probabilities({"weight": float(weight), "temperature": 1.0}))
        if best is None or (accuracy, -loss) > (best[1], -best[2]):
            best = (float(weight), accuracy, loss)
    weight = best[0]
    losses = {t: accuracy_and_loss(labels, probabilities({"weight": weight, "temperature": t}))[1]
              for t in TEMPERATURES}
    temperature = min(losses, key=losses.get)
    return {"weight": weight, "temperature": float(temperature), "val_accuracy": best[1],
            "val_loss": losses[temperature]}
