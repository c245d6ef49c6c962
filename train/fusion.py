"""Fusing the BERT head and the lexical model, from their log-odds (two classes) or
log-probabilities (more), in one of two ways (--fusion):

- weight: mixed with one weight and scaled by one temperature, both chosen on the validation rows.
  The mix is chosen for validation accuracy (ties: the lower loss) and the temperature for
  validation loss. Two numbers leave little to overfit in the thousands of validation rows.
- stack: a logistic regression (softmax for more classes) on both channels' scores, every class's
  score of each channel an input, learned on out-of-fold scores of the training rows: each of
  --stack-folds folds is scored by channels trained on the other folds (cross-fitting), so the
  stacker sees the channels as they err on rows they did not learn from. It can weigh each class of
  each channel apart, and the validation rows stay unused by the fusion, free to judge it.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from .metrics import accuracy_and_loss

WEIGHTS = np.round(np.linspace(0, 1, 21), 2)  # the BERT head's share, 0 to 1 by 0.05
TEMPERATURES = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
EPS = 1e-7
STACK_L2 = 1e-4  # per-row mean loss + l2 * |w|^2: a few inputs on thousands of rows barely need it


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
    """The fused scores of a head's scores and the lexical model's (TensorFlow ops, float64)."""
    lexical = tf.cast(lexical, tf.float64)
    if fusion.get("kind") == "stack":
        inputs = tf.concat([tf.cast(bert, tf.float64), lexical], axis=1)
        return tf.matmul(inputs, tf.constant(fusion["coef"], tf.float64)) + tf.constant(fusion["bias"], tf.float64)
    return fusion["temperature"] * (fusion["weight"] * bert + (1 - fusion["weight"]) * lexical)


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


def fit_stack(head_probs: np.ndarray, lexical: np.ndarray, labels, folds: int) -> dict:
    """The stacker for out-of-fold head probabilities and lexical scores of the training rows:
    {"kind": "stack", "coef" [inputs][outputs], "bias" [outputs], ...}."""
    from .linear import Arrays, solve

    inputs = np.concatenate([np.asarray(bert_scores(head_probs)), np.asarray(lexical, np.float64)], axis=1)
    n_classes = head_probs.shape[1]
    k = 1 if n_classes == 2 else n_classes
    theta, iterations = solve(Arrays(inputs.astype(np.float32), labels), inputs.shape[1], k, STACK_L2)
    coef, bias = theta[:inputs.shape[1] * k].reshape(inputs.shape[1], k), theta[inputs.shape[1] * k:]
    fusion = {"kind": "stack", "coef": coef.tolist(), "bias": bias.tolist(), "folds": folds, "l2": STACK_L2,
              "iterations": iterations, "rows": int(len(labels))}
    oof = np.asarray(to_probabilities(mix(bert_scores(head_probs), lexical, fusion)))
    fusion["oof_accuracy"], fusion["oof_loss"] = accuracy_and_loss(labels, oof)
    return fusion

