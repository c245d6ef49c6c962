"""Figures for `evaluate --plot DIR`: the confusion matrix with class names, ROC curves and the
reliability diagram (PNG, headless); the learning curves come from train/plots.py."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..train.metrics import roc_auc, roc_curve  # noqa: E402


def confusion_matrix_plot(metrics: dict, title: str, path: Path) -> None:
    names = metrics["confusion"]["labels"]
    grid = np.array(metrics["confusion"]["matrix"])
    size = max(4.4, 0.9 * len(names) + 2.6)
    fig, ax = plt.subplots(figsize=(size + 0.6, size))
    image = ax.imshow(grid, cmap="Blues")
    for i in range(len(names)):
        for j in range(len(names)):
            share = grid[i, j] / max(1, grid[i].sum())
            ax.text(j, i, f"{grid[i, j]}\n({100 * share:.1f}%)", ha="center", va="center", fontsize=8,
                    color="white" if grid[i, j] > grid.max() / 2 else "black")
    ax.set_xticks(range(len(names)), names, rotation=30 if len(names) > 3 else 0)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    ax.set_title(f"{title}\naccuracy {100 * metrics['accuracy']:.2f}%, n = {metrics['n']} (row shares)")
    fig.colorbar(image, ax=ax, label="reviews")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def roc_plot(labels: np.ndarray, probs: np.ndarray, classes, title: str, path: Path) -> None:
    """Two classes: the ROC curve of the second. More: one curve per class against the rest."""
    labels = np.asarray(labels)
    shown = [1] if len(classes) == 2 else range(len(classes))
    fig, ax = plt.subplots(figsize=(5, 4.6))
    for c in shown:
        y = (labels == c).astype(np.int64)
        auc = roc_auc(y, probs[:, c])
        if auc is None:
            continue
        fpr, tpr = roc_curve(y, probs[:, c])
        name = "head" if len(classes) == 2 else f"{classes[c]} vs rest"
        ax.plot(fpr, tpr, label=f"{name} (AUC = {auc:.4f})")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="chance (AUC = 0.5)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def reliability_plot(diagram: dict, temperature, title: str, path: Path) -> None:
    """The reliability diagram: accuracy against confidence per bin (bars), the diagonal a calibrated
    model follows, and each bin's share of the rows."""
    bins = diagram["bins"]
    edges = np.linspace(0, 1, bins + 1)
    centres, width = (edges[:-1] + edges[1:]) / 2, 1 / bins
    accuracy = np.array([a if a is not None else np.nan for a in diagram["accuracy"]])
    confidence = np.array([c if c is not None else np.nan for c in diagram["confidence"]])
    counts = np.array(diagram["counts"])
    fig, (ax, bottom) = plt.subplots(2, 1, figsize=(5, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.bar(centres, np.nan_to_num(accuracy), width=width, edgecolor="black", alpha=0.8, label="accuracy")
    ax.bar(centres, np.nan_to_num(confidence - accuracy), bottom=np.nan_to_num(accuracy), width=width,
           color="tab:red", alpha=0.3, label="gap to mean confidence")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="calibrated")
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    scaled = f"temperature {temperature:.3f}" if temperature else "raw probabilities"
    ax.set_title(f"{title}\nECE {diagram['ece']:.4f} ({bins} bins), {scaled}")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    bottom.bar(centres, counts / max(1, counts.sum()), width=width, color="grey", edgecolor="black")
    bottom.set_xlim(0, 1)
    bottom.set_xlabel("confidence (the top probability)")
    bottom.set_ylabel("share of rows")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def probe_plot(result: dict, path: Path) -> None:
    """Validation accuracy (and macro F1 for several classes) of the probe on each layer, one line per
    pooling; dashed: the pooling's layers together; dotted: every pooling and layer together."""
    n, poolings = result["num_layers"], result["poolings"]
    by = {(r["pooling"], tuple(r["layers"])): r for r in result["probes"]}
    everything = tuple(range(n))
    metrics = [("val_accuracy", "validation accuracy")]
    if len(result["labels"]) > 2:
        metrics.append(("val_macro_f1", "validation macro F1"))
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.2 * len(metrics), 4), squeeze=False)
    for ax, (key, label) in zip(axes[0], metrics):
        for i, p in enumerate(poolings):
            colour = f"C{i}"
            ax.plot(range(n), [by[(p, (layer,))][key] for layer in range(n)], "o-", color=colour,
                    label=f"{p}, one layer")
            ax.axhline(by[(p, everything)][key], color=colour, linestyle="--", label=f"{p}, all layers")
        if len(poolings) > 1:
            ax.axhline(by[("+".join(poolings), everything)][key], color="black", linestyle=":",
                       label="all poolings and layers")
        ax.set_xticks(range(n))
        ax.set_xlabel("encoder layer (0: lowest)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"Linear probe by layer ({result['train_rows']} training, {result['val_rows']} validation rows)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
