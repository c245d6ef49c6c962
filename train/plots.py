"""Learning curves as a PNG, headless."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def learning_curves(history: dict, path: Path) -> None:
    """One head's curves, or every head's of an ensemble (history["members"]) on the same axes."""
    members = history.get("members") or [history]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric, title in ((axes[0], "accuracy", "Accuracy"), (axes[1], "loss", "Loss (binary cross-entropy)")):
        for i, h in enumerate(members):
            epochs = list(range(1, len(h[metric]) + 1))
            first = i == 0
            ax.plot(epochs, h[metric], "o-", color="C0", alpha=1 if first else 0.4, label="train" if first else None)
            ax.plot(epochs, h[f"val_{metric}"], "s-", color="C1", alpha=1 if first else 0.4,
                    label="validation" if first else None)
            if h.get("best_epoch"):
                ax.axvline(h["best_epoch"], color="grey", linestyle="--", alpha=1 if first else 0.4,
                           label=f"best epoch ({h['best_epoch']})" if len(members) == 1 else
                           ("best epoch of each head" if first else None))
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("Learning curves of the head" if len(members) == 1 else
                 f"Learning curves of the {len(members)} heads of the ensemble")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def sweep_plot(rows: list[dict], swept: list[str], path: Path) -> None:
    """Validation accuracy against each swept hyperparameter (one panel each), best trial marked."""
    swept = swept or ["lr"]
    fig, axes = plt.subplots(1, len(swept), figsize=(4.2 * len(swept), 3.8), squeeze=False)
    best = max(rows, key=lambda r: r["val_accuracy"])
    for ax, name in zip(axes[0], swept):
        labels = sorted({_label(r[name]) for r in rows}, key=_sort_key)
        position = {label: i for i, label in enumerate(labels)}
        xs = [position[_label(r[name])] for r in rows]
        ax.scatter(xs, [100 * r["val_accuracy"] for r in rows], alpha=0.7, label="trial")
        ax.scatter([position[_label(best[name])]], [100 * best["val_accuracy"]], marker="*", s=220,
                   color="crimson", label="best")
        ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 3 else 0)
        ax.set_xlabel(name)
        ax.set_ylabel("validation accuracy (%)")
        ax.set_title(f"accuracy vs {name}")
        ax.grid(alpha=0.3)
    axes[0][0].legend()
    fig.suptitle(f"Sweep: {len(rows)} trials, best {100 * best['val_accuracy']:.2f}%")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _label(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _sort_key(label: str):
    try:
        return (0, float(label.split(",")[0]), label)
    except ValueError:
        return (1, 0.0, label)
