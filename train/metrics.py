"""Classification metrics in numpy, for two classes or more: what training selects ensembles by and
`evaluate` reports. A binary head outputs one column, the second class's probability; class_probabilities
makes every head's output [n, classes]."""
from __future__ import annotations

import numpy as np

EPSILON = 1e-7  # Keras clips probabilities the same way, so our loss equals model.evaluate's
ECE_BINS = 15  # Guo et al.'s (2017) expected calibration error, as most calibration papers report it


def class_probabilities(output, n_classes: int) -> np.ndarray:
    """float64 [n, classes] from a head's output ([n, 1] or [n] for a binary head)."""
    out = np.asarray(output, np.float64)
    if n_classes == 2 and (out.ndim == 1 or out.shape[-1] == 1):
        p = out.reshape(-1)
        return np.stack([1 - p, p], axis=1)
    return out.reshape(len(out), n_classes)


def predicted(probs: np.ndarray) -> np.ndarray:
    """The class of each row: the most probable (for two classes: the second above 0.5)."""
    return np.argmax(probs, axis=1)


def accuracy_and_loss(labels, probs: np.ndarray) -> tuple[float | None, float | None]:
    """Accuracy and cross-entropy (binary cross-entropy for two classes: the same number); None when empty."""
    y = np.asarray(labels).astype(np.int64).ravel()
    if not len(y):
        return None, None
    picked = np.clip(probs[np.arange(len(y)), y], EPSILON, 1 - EPSILON)
    return float(np.mean(predicted(probs) == y)), float(-np.mean(np.log(picked)))


def reliability(labels, probs: np.ndarray, bins: int = ECE_BINS) -> dict:
    """Confidence (the top probability) against accuracy in equal-width bins: per bin its rows, mean
    confidence and accuracy (None when empty), and the expected calibration error, the rows'
    weighted mean of |accuracy - confidence| over the bins."""
    y = np.asarray(labels).astype(np.int64).ravel()
    confidence = probs.max(axis=1) if len(y) else np.zeros(0)
    correct = predicted(probs) == y if len(y) else np.zeros(0, bool)
    which = np.minimum((confidence * bins).astype(np.int64), bins - 1)  # a confidence of 1.0 in the last
    counts = np.bincount(which, minlength=bins)
    sums = np.bincount(which, weights=confidence, minlength=bins)
    hits = np.bincount(which, weights=correct.astype(np.float64), minlength=bins)
    shown = counts > 0
    ece = float(np.abs(hits[shown] - sums[shown]).sum() / len(y)) if len(y) else None
    return {"bins": bins, "ece": ece, "counts": counts.tolist(),
            "confidence": [float(s / c) if c else None for s, c in zip(sums, counts)],
            "accuracy": [float(h / c) if c else None for h, c in zip(hits, counts)]}


def brier(labels, probs: np.ndarray) -> float | None:
    """The Brier score as scikit-learn's brier_score_loss gives it: for two classes the mean squared
    error of the second class's probability; for more, the mean squared distance to the one-hot label
    summed over the classes (Brier's own definition)."""
    y = np.asarray(labels).astype(np.int64).ravel()
    if not len(y):
        return None
    onehot = np.eye(probs.shape[1])[y]
    if probs.shape[1] == 2:
        return float(np.mean((probs[:, 1] - onehot[:, 1]) ** 2))
    return float(np.mean(((probs - onehot) ** 2).sum(axis=1)))


def calibration_metrics(labels, probs: np.ndarray) -> dict:
    """Whether the probabilities mean what they say: ECE (15 bins), Brier score and log loss."""
    return {"ece": reliability(labels, probs)["ece"], "brier": brier(labels, probs),
            "log_loss": accuracy_and_loss(labels, probs)[1]}


def classification_metrics(labels, probs: np.ndarray, classes) -> dict:
    """Accuracy, loss, per-class precision/recall/F1/support, macro and weighted F1, the confusion
    matrix with class names, ROC AUC (one-vs-rest macro for more than two classes), and the
    calibration figures: ece, brier and log_loss (the same number as loss).

    Two classes also keep the keys binary runs have always had: precision, recall and F1 of the
    second (positive) class, and confusion_matrix as tn/fp/fn/tp. Undefined figures are None.
    """
    classes = list(classes)
    y = np.asarray(labels).astype(np.int64).ravel()
    pred = predicted(probs)
    accuracy, loss = accuracy_and_loss(y, probs)
    matrix = np.zeros((len(classes), len(classes)), np.int64)
    np.add.at(matrix, (y, pred), 1)
    per_class = {}
    for c, name in enumerate(classes):
        tp, support, chosen = int(matrix[c, c]), int(matrix[c].sum()), int(matrix[:, c].sum())
        precision = tp / chosen if chosen else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    present = [v for v in per_class.values() if v["support"]]
    aucs = [roc_auc((y == c).astype(np.int64), probs[:, c]) for c in range(len(classes))]
    result = {
        "n": int(len(y)), "accuracy": accuracy, "loss": loss, "labels": classes,
        "macro_f1": float(np.mean([v["f1"] for v in present])) if present else None,
        "weighted_f1": float(sum(v["f1"] * v["support"] for v in present) / len(y)) if len(y) else None,
        "per_class": per_class,
        "confusion": {"labels": classes, "matrix": matrix.tolist()},
        "auc": None,
        **calibration_metrics(y, probs),
    }
    if len(classes) == 2:
        positive = per_class[classes[1]]
        result.update(precision=positive["precision"], recall=positive["recall"], f1=positive["f1"], auc=aucs[1],
                      confusion_matrix={"tn": int(matrix[0, 0]), "fp": int(matrix[0, 1]), "fn": int(matrix[1, 0]),
                                        "tp": int(matrix[1, 1])})
    else:
        defined = [a for a in aucs if a is not None]
        result["auc"] = float(np.mean(defined)) if defined else None
    return result


def roc_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """Area under the ROC curve as the Mann-Whitney statistic, ties counted half; None (undefined)
    when the labels hold one class only."""
    y = np.asarray(y).astype(np.int64).ravel()
    p = np.asarray(p, np.float64).ravel()
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
