"""Learning curves as a PNG, headless."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def learning_curves(history: dict, path: Path) -> None:
    """The head's curves (every head's of an ensemble, history["members"], on the same axes) per
    epoch, the lexical model's (history["lexical"]) per step, and the linear head's validation
    figures by L2 weight (history["linear"]), whichever the model has."""
    head = history.get("members") or ([history] if "accuracy" in history else [])
    lexical, linear = history.get("lexical"), history.get("linear")
    panels = (2 if head else 0) + (1 if lexical else 0) + (1 if linear else 0)
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4), squeeze=False)
    axes = list(axes[0])
    if head:
        for ax, metric, title in ((axes.pop(0), "accuracy", "Head: accuracy"),
                                  (axes.pop(0), "loss", "Head: loss (cross-entropy)")):
            _head_panel(ax, head, metric, title)
    if lexical:
        ax = axes.pop(0)
        steps = list(range(1, len(lexical["loss"]) + 1))
        ax.plot(steps, lexical["loss"], color="C0", label="train loss")
        if lexical["val_loss"]:
            # Evaluated once an epoch (model dirs from before mini-batches: every step).
            at = lexical.get("evaluated_at") or steps
            ax.plot(at, lexical["val_loss"], color="C1", label="validation loss")
            ax.plot(at, lexical["val_accuracy"], color="C2", label="validation accuracy")
            ax.axvline(lexical["best_step"], color="grey", linestyle="--", label=f"best step ({lexical['best_step']})")
        ax.set_title("Lexical model (mini-batch steps)")
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend()
    if linear:  # the linear head: one solve per L2 weight
        ax = axes.pop(0)
        l2 = [t["l2"] for t in linear]
        ax.semilogx(l2, [t["val_accuracy"] for t in linear], "o-", color="C2", label="validation accuracy")
        ax.semilogx(l2, [t["val_loss"] for t in linear], "s-", color="C1", label="validation loss")
        ax.set_title("Linear head: by L2 weight")
        ax.set_xlabel("L2 weight")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("Learning curves" + (f" of the {len(head)} heads of the ensemble" if len(head) > 1 else ""))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _head_panel(ax, members: list[dict], metric: str, title: str) -> None:
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


def sweep_plot(rows: list[dict], swept: list[str], path: Path) -> None:
    """Validation accuracy against each swept hyperparameter (one panel each), best trial marked."""
    swept = swept or ["lr"]
    fig, axes = plt.subplots(1, len(swept), figsize=(4.2 * len(swept), 3.8), squeeze=False)
    best = max(rows, key=lambda r: r["val_accuracy"])
    for ax, name in zip(axes[0], swept):
        labels = sorted({_label(r.get(name)) for r in rows}, key=_sort_key)
        position = {label: i for i, label in enumerate(labels)}
        xs = [position[_label(r.get(name))] for r in rows]
        ax.scatter(xs, [100 * r["val_accuracy"] for r in rows], alpha=0.7, label="trial")
        ax.scatter([position[_label(best.get(name))]], [100 * best["val_accuracy"]], marker="*", s=220,
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
