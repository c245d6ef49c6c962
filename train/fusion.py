"""Fusing the BERT head and the lexical model: their log-odds (two classes) or log-probabilities
(more) mixed with one weight, and scaled by one temperature, both chosen on the validation rows.

The mix is chosen for validation accuracy (ties: the lower loss) and the temperature for validation
loss; accuracy does not depend on the temperature. Stacking two scores with two numbers leaves
little to overfit in the thousands of validation rows it is fitted on.
"""
from __future__ import annotations

import numpy as np

from .metrics import accuracy_and_loss

WEIGHTS = np.round(np.linspace(0, 1, 21), 2)  # the BERT head's share, 0 to 1 by 0.05
TEMPERATURES = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
EPS = 1e-7


def bert_scores(probs: np.ndarray) -> np.ndarray:
    """The head's probabilities [n, C] as scores: log-odds [n, 1] for two classes, else log-probabilities."""
    p = np.clip(np.asarray(probs, np.float64), EPS, 1 - EPS)
    return np.log(p[:, 1:] / p[:, :1]) if p.shape[1] == 2 else np.log(p)


def to_probabilities(scores: np.ndarray) -> np.ndarray:
    """Scores (log-odds [n, 1], or class scores [n, C]) to probabilities [n, C]."""
    if scores.shape[1] == 1:
        p = 1 / (1 + np.exp(-scores[:, 0]))
        return np.stack([1 - p, p], axis=1)
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def mix(bert: np.ndarray, lexical: np.ndarray, fusion: dict) -> np.ndarray:
    """The fused scores of a head's scores and the lexical model's."""
    return fusion["temperature"] * (fusion["weight"] * bert + (1 - fusion["weight"]) * lexical)


def fit_fusion(bert: np.ndarray, lexical: np.ndarray, labels) -> dict:
    """The weight and temperature for validation rows' scores. Returns {"weight", "temperature", ...}."""
    best = None
    for weight in WEIGHTS:
        accuracy, loss = accuracy_and_loss(labels, to_probabilities(mix(bert, lexical, {"weight": weight,
                                                                                            "temperature": 1.0})))
        if best is None or (accuracy, -loss) > (best[1], -best[2]):
            best = (float(weight), accuracy, loss)
    weight = best[0]
    losses = {t: accuracy_and_loss(labels, to_probabilities(mix(bert, lexical, {"weight": weight,
                                                                                 "temperature": t})))[1]
              for t in TEMPERATURES}
    temperature = min(losses, key=losses.get)
    return {"weight": weight, "temperature": float(temperature), "val_accuracy": best[1],
            "val_loss": losses[temperature]}
