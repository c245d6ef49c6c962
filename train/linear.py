"""The linear head: a logistic regression (softmax for more than two classes) on the standardised
features, as SentEval and MTEB probe frozen features, its L2 weight chosen on validation.

The objective is convex, so it is solved to convergence by full-batch L-BFGS rather than by
mini-batch Adam: with a few dozen examples an epoch is one step, and early stopping would halt it
long before the optimum. Each L2 weight on the grid is solved in turn from the largest, each
warm-started from the last. The rows are held in memory, standardised, when they fit in
HOLD_BYTES, and otherwise read from the cache once per pass.

The model is then the MLP head's Keras model with no hidden layer (train/head.py), so that saving,
loading, predicting, exporting and calibrating it are the same code.
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from .config import HeadConfig
from .inputs import InputSpec, select
from .metrics import accuracy_and_loss
from .rows import Rows

HOLD_BYTES = 4 << 30  # standardised float32 rows kept in memory up to this size
MAX_ITERATIONS = 500
MEMORY = 10  # L-BFGS's pairs of steps and gradient changes
TOLERANCE = 1e-6  # stop when the largest gradient entry falls below this (the loss is a mean)
# ... or when a step lowers the loss by less than this share: the float32 matmul's noise in the loss
# is about 3e-9 of it, so a finer goal is never met and the line search halves its step to nothing.
RELATIVE_DECREASE = 1e-8
GRID_PATIENCE = 2  # L2 weights in a row, each weaker, that do no better on validation: the grid stops


def architecture(cfg: HeadConfig) -> HeadConfig:
    """The config as build_heads reads it: no hidden layer."""
    return dataclasses.replace(cfg, hidden=(), dropout=())


class Blocks:
    """The rows as standardised float32 blocks with their labels: held, or read again per pass."""

    def __init__(self, rows: Rows, spec: InputSpec, stats):
        self.rows, self.spec = rows, spec
        self.shift, self.scale = (None, None) if stats is None else (
            stats[0].astype(np.float32), np.maximum(np.sqrt(stats[1]), 1e-7).astype(np.float32))
        self.held = self._read() if len(rows) * spec.dim * 4 <= HOLD_BYTES else None
        self.labels = rows.labels().astype(np.int64)

    def _read(self):
        return [(self._standardised(features), y.astype(np.int64)) for features, y in self.rows.chunks()]

    def _standardised(self, features: dict) -> np.ndarray:
        x = select(features, self.spec).astype(np.float32)
        return x if self.shift is None else (x - self.shift) / self.scale

    def __iter__(self):
        if self.held is not None:
            return iter(self.held)
        return ((self._standardised(f), y.astype(np.int64)) for f, y in self.rows.chunks())


class Arrays:
    """Standardised float32 rows already in memory, in blocks, with their labels: what Blocks gives
    for rows read from a cache, for a caller that holds the arrays (the layer probe)."""

    BLOCK = 8192

    def __init__(self, x: np.ndarray, labels: np.ndarray):
        self.x, self.labels = x, np.asarray(labels).astype(np.int64)

    def __iter__(self):
        return ((self.x[i:i + self.BLOCK], self.labels[i:i + self.BLOCK]) for i in range(0, len(self.x), self.BLOCK))


def _logits(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """float64 [n, k] from float32 rows: the matmul in float32, as the Keras model computes it."""
    return (x @ w.astype(np.float32)).astype(np.float64) + b


def probabilities(blocks: Blocks, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """float64 [n, classes]."""
    found = [_probs(_logits(x, w, b)) for x, _ in blocks]
    return np.concatenate(found) if found else np.zeros((0, max(2, w.shape[1])))


def _probs(z: np.ndarray) -> np.ndarray:
    if z.shape[1] == 1:
        p = 1 / (1 + np.exp(-z[:, 0]))
        return np.stack([1 - p, p], axis=1)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _loss_and_gradient(blocks: Blocks, theta: np.ndarray, dim: int, k: int, l2: float, n: int):
    """Mean cross-entropy plus l2 * |w|^2 (the bias unpenalised), and its gradient."""
    w, b = theta[:dim * k].reshape(dim, k), theta[dim * k:]
    loss, gw, gb = 0.0, np.zeros((dim, k)), np.zeros(k)
    for x, y in blocks:
        z = _logits(x, w, b)
        if k == 1:
            t = y.astype(np.float64)[:, None]
            loss += float(np.sum(np.logaddexp(0, z) - t * z))  # the stable form of binary cross-entropy
            residual = 1 / (1 + np.exp(-z)) - t
        else:
            z_max = z.max(axis=1, keepdims=True)
            log_norm = z_max[:, 0] + np.log(np.exp(z - z_max).sum(axis=1))
            loss += float(np.sum(log_norm - z[np.arange(len(y)), y]))
            residual = _probs(z)
            residual[np.arange(len(y)), y] -= 1
        gw += (x.T @ residual.astype(np.float32)).astype(np.float64)
        gb += residual.sum(axis=0)
    loss = loss / n + l2 * float(np.sum(w * w))
    return loss, np.concatenate([(gw / n + 2 * l2 * w).ravel(), gb / n])


def lbfgs(f, theta: np.ndarray) -> tuple[np.ndarray, int]:
    """Minimise f (theta -> (loss, gradient)) from theta: L-BFGS with a backtracking line search
    (Armijo). Returns (theta, iterations)."""
    loss, grad = f(theta)
    steps, changes = [], []
    for iteration in range(1, MAX_ITERATIONS + 1):
        if np.max(np.abs(grad)) < TOLERANCE:
            return theta, iteration - 1
        q = grad.copy()  # the two-loop recursion: q becomes the approximate inverse Hessian times grad
        alphas = []
        for s, y in zip(reversed(steps), reversed(changes)):
            a = (s @ q) / (y @ s)
            alphas.append(a)
            q -= a * y
        if steps:
            q *= (steps[-1] @ changes[-1]) / (changes[-1] @ changes[-1])
        else:
            q /= max(1.0, np.linalg.norm(q))
        for (s, y), a in zip(zip(steps, changes), reversed(alphas)):
            q += s * (a - (y @ q) / (y @ s))
        direction, t = -q, 1.0
        slope = grad @ direction
        if slope >= 0:  # not a descent direction (curvature lost): start again from the gradient
            steps, changes, direction, slope = [], [], -grad, -(grad @ grad)
        while True:
            new_theta = theta + t * direction
            new_loss, new_grad = f(new_theta)
            if new_loss <= loss + 1e-4 * t * slope:
                break
            t /= 2
            if t < 1e-6:  # no step lowers the loss: the optimum, to the float32 matmul's precision
                return theta, iteration
        s, y = new_theta - theta, new_grad - grad
        if y @ s > 1e-12:
            steps.append(s)
            changes.append(y)
            if len(steps) > MEMORY:
                steps.pop(0)
                changes.pop(0)
        converged = loss - new_loss <= RELATIVE_DECREASE * max(1.0, abs(loss))
        theta, loss, grad = new_theta, new_loss, new_grad
        if converged:
            return theta, iteration
    return theta, MAX_ITERATIONS


def solve(blocks: Blocks, dim: int, k: int, l2: float, start: np.ndarray | None = None):
    """(theta, iterations) for one L2 weight: theta holds w [dim, k] row-major, then b [k]."""
    theta = np.zeros(dim * k + k) if start is None else start
    theta, iterations = lbfgs(lambda t: _loss_and_gradient(blocks, t, dim, k, l2, len(blocks.labels)), theta)
    return theta, iterations


def _model(cfg: HeadConfig, spec: InputSpec, n_classes: int, stats, theta: np.ndarray):
    from .head import build_heads

    k = 1 if n_classes == 2 else n_classes
    model, heads = build_heads(spec.dim, architecture(cfg), (len(spec.poolings), len(spec.layers), spec.hidden_size),
                               standardize=stats, n_classes=n_classes, seeds=[cfg.seed])
    heads.out_kernel.assign(theta[:spec.dim * k].reshape(1, spec.dim, k).astype(np.float32))
    heads.out_bias.assign(theta[spec.dim * k:].reshape(1, k).astype(np.float32))
    return model


def _statistics(rows: Rows, cfg: HeadConfig, spec: InputSpec):
    from .fit import statistics

    return statistics(rows, spec) if cfg.standardize else None


def choose_l2(blocks, held_out, dim: int, k: int, grid) -> tuple[dict, np.ndarray, list[dict], np.ndarray]:
    """Solve for the L2 weights of the grid, the strongest first (each solve starts from the last),
    and keep the best on validation accuracy (ties: the lower validation loss); stop once
    GRID_PATIENCE weaker weights in a row do no better. blocks and held_out
    give standardised (x, y) blocks and have .labels (Blocks or Arrays). Returns (the chosen entry,
    its theta, every entry tried, its validation probabilities)."""
    yv = held_out.labels
    tried, theta, best, worse = [], None, None, 0
    for l2 in sorted(grid, reverse=True):
        theta, iterations = solve(blocks, dim, k, l2, theta)
        probs = probabilities(held_out, theta[:dim * k].reshape(dim, k), theta[dim * k:])
        accuracy, loss = accuracy_and_loss(yv, probs)
        tried.append({"l2": l2, "val_accuracy": accuracy, "val_loss": loss, "iterations": iterations})
        if best is None or (accuracy, -loss) > (best[0]["val_accuracy"], -best[0]["val_loss"]):
            best, worse = (tried[-1], theta.copy(), probs), 0
        else:
            worse += 1
            if worse == GRID_PATIENCE:  # past the best: the weaker weights left cost the most to solve
                break
    return best[0], best[1], tried, best[2]


def fit_linear(train: Rows, validation: Rows, cfg: HeadConfig, spec: InputSpec, n_classes: int, verbose: int = 0):
    """The linear head at the L2 weight of cfg.l2 best on validation (choose_l2). Returns (model,
    history, summary) as fit_model does."""
    stats = _statistics(train, cfg, spec)
    start_time, k = time.perf_counter(), 1 if n_classes == 2 else n_classes
    chosen, theta, tried, _ = choose_l2(Blocks(train, spec, stats), Blocks(validation, spec, stats), spec.dim, k,
                                        cfg.l2)
    seconds = round(time.perf_counter() - start_time, 3)
    linear = {"l2": chosen["l2"], "grid": [t["l2"] for t in tried],
              "val_accuracy_by_l2": [t["val_accuracy"] for t in tried],
              "iterations": chosen["iterations"], "solver": "L-BFGS, full batch", "seconds": seconds}
    history = {"linear": tried}
    summary = {"val_accuracy": chosen["val_accuracy"], "val_loss": chosen["val_loss"], "epoch_seconds": [],
               "best_epoch": None, "epochs_run": None, "linear": linear}
    return _model(cfg, spec, n_classes, stats, theta), history, summary


def refit_linear(rows: Rows, cfg: HeadConfig, spec: InputSpec, n_classes: int, l2: float, verbose: int = 0):
    """The linear head solved on every given row for the L2 weight chosen on validation.
    Returns (model, history) as refit_model does."""
    stats, k = _statistics(rows, cfg, spec), 1 if n_classes == 2 else n_classes
    theta, iterations = solve(Blocks(rows, spec, stats), spec.dim, k, l2)
    return _model(cfg, spec, n_classes, stats, theta), {"l2": l2, "iterations": iterations}
