"""Figures for `evaluate --plot DIR`: learning curves, confusion matrix, ROC curve (PNG, headless)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..train.metrics import roc_curve  # noqa: E402


def confusion_matrix_plot(metrics: dict, title: str, path: Path) -> None:
    cm = metrics["confusion_matrix"]
    grid = np.array([[cm["tn"], cm["fp"]], [cm["fn"], cm["tp"]]])
    fig, ax = plt.subplots(figsize=(5, 4.4))
    image = ax.imshow(grid, cmap="Blues")
    for i in range(2):
        for j in range(2):
            share = grid[i, j] / max(1, grid[i].sum())
            ax.text(j, i, f"{grid[i, j]}\n({100 * share:.1f}% of row)", ha="center", va="center",
                    color="white" if grid[i, j] > grid.max() / 2 else "black")
    ax.set_xticks([0, 1], ["negative", "positive"])
    ax.set_yticks([0, 1], ["negative", "positive"])
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    ax.set_title(f"{title}\naccuracy {100 * metrics['accuracy']:.2f}%, n = {metrics['n']}")
    fig.colorbar(image, ax=ax, label="reviews")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def roc_plot(labels: np.ndarray, probs: np.ndarray, auc: float, title: str, path: Path) -> None:
    fpr, tpr = roc_curve(labels, probs)
    fig, ax = plt.subplots(figsize=(5, 4.6))
    ax.plot(fpr, tpr, label=f"head (AUC = {auc:.4f})")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="chance (AUC = 0.5)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
