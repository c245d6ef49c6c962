"""Training heads: early stopping that keeps the best epoch, ensembles of seeded heads, refits."""
from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np

from .config import HeadConfig
from .head import average_heads, build_head, mix_weights
from .inputs import InputSpec
from .metrics import accuracy_and_loss, class_probabilities


class KeepBest(keras.callbacks.Callback):
    """Early stopping on validation accuracy that restores the best epoch's weights however training ends.

    Keras's EarlyStopping restores them only when it stops training itself, not when the epoch
    limit comes first.
    """

    def __init__(self, patience: int):
        super().__init__()
        self.patience = patience
        self.best, self.best_epoch, self.best_weights, self.wait = -np.inf, -1, None, 0
        self.epoch_seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.perf_counter() - self._t0)
        value = logs["val_accuracy"]
        if value > self.best:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def _new_head(x, cfg: HeadConfig, spec: InputSpec, n_classes: int, name: str = "head"):
    keras.utils.set_random_seed(cfg.seed)
    # Statistics of the rows it trains on only: validation rows stay unseen until they are scored.
    stats = (x.mean(axis=0, dtype=np.float64), x.var(axis=0, dtype=np.float64)) if cfg.standardize else None
    return build_head(x.shape[1], cfg, (len(spec.poolings), len(spec.layers), spec.hidden_size),
                      standardize=stats, name=name, n_classes=n_classes)


def fit_head(train, validation, cfg: HeadConfig, spec: InputSpec, n_classes: int, verbose: int = 0,
             name: str = "head"):
    """Train one head from arrays in memory, train = (x, y) and validation = (xv, yv). Returns
    (model, history dict)."""
    (x, y), (xv, yv) = train, validation
    model = _new_head(x, cfg, spec, n_classes, name)
    keep = KeepBest(cfg.patience)
    hist = model.fit(x, y, batch_size=cfg.batch_size, epochs=cfg.epochs, validation_data=(xv, yv),
                     callbacks=[keep], verbose=verbose, shuffle=True)
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    history.update(best_epoch=keep.best_epoch + 1, epochs_run=len(keep.epoch_seconds),
                   epoch_seconds=[round(s, 3) for s in keep.epoch_seconds], layer_weights=mix_weights(model))
    return model, history


def refit_head(x, y, cfg: HeadConfig, spec: InputSpec, n_classes: int, epochs: int, verbose: int = 0,
               name: str = "head"):
    """A fresh head trained on every given row for a fixed number of epochs, chosen on validation
    before. Returns (model, history dict of its training loss and accuracy)."""
    model = _new_head(x, cfg, spec, n_classes, name)
    hist = model.fit(x, y, batch_size=cfg.batch_size, epochs=epochs, verbose=verbose, shuffle=True)
    return model, {k: [float(v) for v in vals] for k, vals in hist.history.items()}


def _member(cfg: HeadConfig, i: int) -> tuple[HeadConfig, str]:
    """Head i of an ensemble: its own seed, and a name unique within the ensemble model."""
    return dataclasses.replace(cfg, seed=cfg.seed + i, ensemble=1), f"head_{i}"


def fit_model(x, y, xv, yv, cfg: HeadConfig, spec: InputSpec, n_classes: int, verbose: int = 0):
    """cfg.ensemble heads (seeds cfg.seed, cfg.seed + 1, ...), each early-stopped on the validation
    rows; more than one are averaged into one model (docs/results.md measures what that gains).
    Returns (model, history, summary): the summary's figures are the kept model's."""
    if cfg.ensemble == 1:
        model, history = fit_head((x, y), (xv, yv), cfg, spec, n_classes, verbose)
        best = history["best_epoch"] - 1
        return model, history, {"best_epoch": history["best_epoch"], "epochs_run": history["epochs_run"],
                                "val_accuracy": history["val_accuracy"][best], "val_loss": history["val_loss"][best],
                                "epoch_seconds": history["epoch_seconds"]}
    heads, members = [], []
    for i in range(cfg.ensemble):
        member, name = _member(cfg, i)
        head, history = fit_head((x, y), (xv, yv), member, spec, n_classes, verbose, name)
        heads.append(head)
        members.append(history)
    model = average_heads(heads, x.shape[1])
    accuracy, loss = accuracy_and_loss(yv, class_probabilities(model.predict(xv, batch_size=1024, verbose=0),
                                                               n_classes))
    history = {"members": members, "layer_weights": mix_weights(model)}
    return model, history, {
        "best_epoch": [h["best_epoch"] for h in members], "epochs_run": [h["epochs_run"] for h in members],
        "val_accuracy": accuracy, "val_loss": loss,
        "member_val_accuracy": [h["val_accuracy"][h["best_epoch"] - 1] for h in members],
        "epoch_seconds": [s for h in members for s in h["epoch_seconds"]]}


def refit_model(x, y, cfg: HeadConfig, spec: InputSpec, n_classes: int, best_epochs, verbose: int = 0):
    """refit_head for each head of fit_model's, with that head's own epoch count; best_epochs is an
    int for one head, a list for an ensemble. Returns (model, history)."""
    if cfg.ensemble == 1:
        return refit_head(x, y, cfg, spec, n_classes, best_epochs, verbose)
    heads, histories = [], []
    for i, epochs in enumerate(best_epochs):
        member, name = _member(cfg, i)
        head, history = refit_head(x, y, member, spec, n_classes, epochs, verbose, name)
        heads.append(head)
        histories.append(history)
    return average_heads(heads, x.shape[1]), {"members": histories}
