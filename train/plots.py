"""Learning curves as a PNG, headless."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def learning_curves(history: dict, path: Path) -> None:
    epochs = list(range(1, len(history["accuracy"]) + 1))
    best = history.get("best_epoch")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric, title in ((axes[0], "accuracy", "Accuracy"), (axes[1], "loss", "Loss (binary cross-entropy)")):
        ax.plot(epochs, history[metric], "o-", label="train")
        ax.plot(epochs, history[f"val_{metric}"], "s-", label="validation")
        if best:
            ax.axvline(best, color="grey", linestyle="--", label=f"best epoch ({best})")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("Learning curves of the head")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
