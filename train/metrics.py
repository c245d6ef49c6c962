"""Binary classification metrics in numpy: what `evaluate` reports."""
from __future__ import annotations

import numpy as np

EPSILON = 1e-7  # Keras clips probabilities the same way, so our loss equals model.evaluate's


def binary_metrics(labels: np.ndarray, probs: np.ndarray) -> dict:
    y = np.asarray(labels).astype(np.int64).ravel()
    p = np.asarray(probs, np.float64).ravel()
    pred = (p > 0.5).astype(np.int64)
    tp = int(((pred == 1) & (y == 1)).sum())
    tn = int(((pred == 0) & (y == 0)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    clipped = np.clip(p, EPSILON, 1 - EPSILON)
    loss = float(-np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))) if len(y) else None
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": int(len(y)), "accuracy": (tp + tn) / len(y) if len(y) else None, "loss": loss,
        "precision": precision, "recall": recall, "f1": f1, "auc": roc_auc(y, p),
        "confusion_matrix": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
    }


def roc_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """Area under the ROC curve as the Mann-Whitney statistic, ties counted half; None (undefined)
    when the labels hold one class only."""
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if not n_pos or not n_neg:
        return None
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p), np.float64)
    sorted_p = p[order]
    # Average ranks over ties.
    _, first, counts = np.unique(sorted_p, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_curve(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every distinct threshold, from (0, 0) to (1, 1)."""
    y = np.asarray(y).astype(np.int64).ravel()
    p = np.asarray(p, np.float64).ravel()
    order = np.argsort(-p, kind="mergesort")
    y, p = y[order], p[order]
    distinct = np.r_[np.flatnonzero(np.diff(p)), len(p) - 1]
    tps = np.cumsum(y)[distinct]
    fps = (distinct + 1) - tps
    tpr = np.r_[0.0, tps / max(1, y.sum())]
    fpr = np.r_[0.0, fps / max(1, (1 - y).sum())]
    return fpr, tpr
