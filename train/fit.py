"""The `train` command: fit the head on cached features and write a self-describing model dir."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from pathlib import Path

import keras
import numpy as np

from data.errors import BadInput
from evaluate.metrics import binary_metrics
from evaluate.model_dir import CONFIG_FILE, MODEL_FILE
from extract import storage
from extract.cache import read_split
from extract.provenance import command_line, machine, now, versions
from train.head import LAYER_MIXES, average_heads, build_head, mix_weights
from train.inputs import InputSpec, parse_layers, select


@dataclasses.dataclass(frozen=True)
class HeadConfig:
    lr: float = 5e-4
    batch_size: int = 64
    epochs: int = 20
    patience: int = 2
    hidden: tuple[int, ...] = (256, 128, 64)
    dropout: tuple[float, ...] = (0.4, 0.3, 0.2)
    val_fraction: float = 0.2
    seed: int = 0
    layers: str = "all"
    pooling: tuple[str, ...] = ("mean",)
    layer_mix: str = "concat"
    standardize: bool = True  # False: the seed's head exactly, raw features in
    ensemble: int = 1  # heads with seeds seed, seed + 1, ...; their probabilities averaged

    def validate(self) -> None:
        if len(self.hidden) != len(self.dropout):
            raise BadInput(f"--hidden has {len(self.hidden)} layers but --dropout has {len(self.dropout)} "
                           "rates; give one rate per layer")
        if any(h < 1 for h in self.hidden):
            raise BadInput("--hidden: layer sizes must be at least 1")
        if any(not 0 <= d < 1 for d in self.dropout):
            raise BadInput("--dropout: rates must be in [0, 1)")
        if not 0 < self.val_fraction < 1:
            raise BadInput(f"--val-fraction {self.val_fraction}: must be between 0 and 1")
        if self.layer_mix not in LAYER_MIXES:
            raise BadInput(f"--layer-mix {self.layer_mix}: choose one of {', '.join(LAYER_MIXES)}")
        if self.lr <= 0 or self.batch_size < 1 or self.epochs < 1 or self.patience < 1:
            raise BadInput("--lr, --batch-size, --epochs and --patience must be positive")
        if self.ensemble < 1:
            raise BadInput(f"--ensemble {self.ensemble}: must be at least 1 (1: a single head)")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.update(hidden=list(self.hidden), dropout=list(self.dropout), pooling=list(self.pooling))
        return d


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, val) index arrays with each label's share kept in both."""
    rng = np.random.default_rng(seed)
    train_idx, val_idx = [], []
    for label in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == label))
        n_val = int(round(len(idx) * fraction))
        val_idx.append(idx[:n_val])
        train_idx.append(idx[n_val:])
    return np.sort(np.concatenate(train_idx)), np.sort(np.concatenate(val_idx))


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


def _new_head(x, cfg: HeadConfig, spec: InputSpec, name: str = "head"):
    keras.utils.set_random_seed(cfg.seed)
    # Statistics of the rows it trains on only: validation rows stay unseen until they are scored.
    stats = (x.mean(axis=0, dtype=np.float64), x.var(axis=0, dtype=np.float64)) if cfg.standardize else None
    return build_head(x.shape[1], list(cfg.hidden), list(cfg.dropout), cfg.lr, cfg.layer_mix,
                      (len(spec.poolings), len(spec.layers), spec.hidden_size), standardize=stats, name=name)


def fit_head(x, y, xv, yv, cfg: HeadConfig, spec: InputSpec, verbose: int = 0, name: str = "head"):
    """Train one head from arrays in memory. Returns (model, history dict)."""
    model = _new_head(x, cfg, spec, name)
    keep = KeepBest(cfg.patience)
    hist = model.fit(x, y, batch_size=cfg.batch_size, epochs=cfg.epochs, validation_data=(xv, yv),
                     callbacks=[keep], verbose=verbose, shuffle=True)
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    history.update(best_epoch=keep.best_epoch + 1, epochs_run=len(keep.epoch_seconds),
                   epoch_seconds=[round(s, 3) for s in keep.epoch_seconds], layer_weights=mix_weights(model))
    return model, history


def refit_head(x, y, cfg: HeadConfig, spec: InputSpec, epochs: int, verbose: int = 0, name: str = "head"):
    """A fresh head trained on every given row for a fixed number of epochs, chosen on validation
    before. Returns (model, history dict of its training loss and accuracy)."""
    model = _new_head(x, cfg, spec, name)
    hist = model.fit(x, y, batch_size=cfg.batch_size, epochs=epochs, verbose=verbose, shuffle=True)
    return model, {k: [float(v) for v in vals] for k, vals in hist.history.items()}


def _member(cfg: HeadConfig, i: int) -> tuple[HeadConfig, str]:
    """Head i of an ensemble: its own seed, and a name unique within the ensemble model."""
    return dataclasses.replace(cfg, seed=cfg.seed + i, ensemble=1), f"head_{i}"


def fit_model(x, y, xv, yv, cfg: HeadConfig, spec: InputSpec, verbose: int = 0):
    """cfg.ensemble heads (seeds cfg.seed, cfg.seed + 1, ...), each early-stopped on the validation
    rows; more than one are averaged into one model. On IMDB a head's validation accuracy moves by up
    to 1.4 points with its seed alone, and the mean of ten scored above every one of them.
    Returns (model, history, summary): the summary's figures are the kept model's."""
    if cfg.ensemble == 1:
        model, history = fit_head(x, y, xv, yv, cfg, spec, verbose)
        best = history["best_epoch"] - 1
        return model, history, {"best_epoch": history["best_epoch"], "epochs_run": history["epochs_run"],
                                "val_accuracy": history["val_accuracy"][best], "val_loss": history["val_loss"][best],
                                "epoch_seconds": history["epoch_seconds"]}
    heads, members = [], []
    for i in range(cfg.ensemble):
        member, name = _member(cfg, i)
        head, history = fit_head(x, y, xv, yv, member, spec, verbose, name)
        heads.append(head)
        members.append(history)
    model = average_heads(heads, x.shape[1])
    val = binary_metrics(yv, model.predict(xv, batch_size=1024, verbose=0))
    history = {"members": members, "layer_weights": mix_weights(model)}
    return model, history, {
        "best_epoch": [h["best_epoch"] for h in members], "epochs_run": [h["epochs_run"] for h in members],
        "val_accuracy": val["accuracy"], "val_loss": val["loss"],
        "member_val_accuracy": [h["val_accuracy"][h["best_epoch"] - 1] for h in members],
        "epoch_seconds": [s for h in members for s in h["epoch_seconds"]]}


def refit_model(x, y, cfg: HeadConfig, spec: InputSpec, best_epochs, verbose: int = 0):
    """refit_head for each head of fit_model's, with that head's own epoch count; best_epochs is an
    int for one head, a list for an ensemble. Returns (model, history)."""
    if cfg.ensemble == 1:
        return refit_head(x, y, cfg, spec, best_epochs, verbose)
    heads, histories = [], []
    for i, epochs in enumerate(best_epochs):
        member, name = _member(cfg, i)
        head, history = refit_head(x, y, member, spec, epochs, verbose, name)
        heads.append(head)
        histories.append(history)
    return average_heads(heads, x.shape[1]), {"members": histories}


def load_training_data(cache, cfg: HeadConfig):
    features, labels, ids, manifest = read_split(cache, "train", poolings=list(cfg.pooling))
    info = manifest["features"]
    spec = InputSpec(tuple(cfg.pooling), parse_layers(cfg.layers, info["num_layers"]),
                     info["num_layers"], info["hidden_size"])
    if len(np.unique(labels)) < 2:
        raise BadInput(f"{cache}: the train split has only one label; training needs both")
    return select(features, spec), labels.astype(np.float32), spec, manifest


def _prepare_model_dir(model_dir: Path, overwrite: bool) -> None:
    if model_dir.exists() and (not model_dir.is_dir() or any(model_dir.iterdir())):
        if not overwrite:
            raise BadInput(f"--model-dir {model_dir}: already exists and is not empty; "
                           "pass --overwrite to replace it, or choose another folder")
        if model_dir.is_dir() and not (model_dir / CONFIG_FILE).exists():
            raise BadInput(f"--model-dir {model_dir}: is not a model dir of this tool; "
                           "refusing to replace it, choose another folder")


def write_model_dir(model_dir: Path, model, config: dict, history: dict) -> None:
    """Write the model dir under a temporary name, then swap it in whole."""
    from train.plots import learning_curves

    model_dir = Path(model_dir)
    tmp = model_dir.with_name(f".{model_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        model.save(tmp / MODEL_FILE)
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
        (tmp / "history.json").write_text(json.dumps(history, indent=2) + "\n")
        learning_curves(history, tmp / "learning_curves.png")
        if model_dir.exists():
            old = model_dir.with_name(f".{model_dir.name}.old-{os.getpid()}")
            model_dir.rename(old)
            tmp.rename(model_dir)
            shutil.rmtree(old)
        else:
            tmp.rename(model_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_train(cache, model_dir: Path, cfg: HeadConfig, overwrite: bool = False, verbose: int = 0,
              refit: bool = False) -> dict:
    """refit: after early stopping has chosen the epoch count on the validation split, train a fresh
    head on all training rows (validation ones included) for that many epochs, and keep that one.
    Its validation figures are those of the selection run: the refit head has seen those rows."""
    cfg.validate()
    model_dir = Path(model_dir)
    _prepare_model_dir(model_dir, overwrite)
    x_all, y_all, spec, manifest = load_training_data(cache, cfg)
    train_idx, val_idx = stratified_split(y_all, cfg.val_fraction, cfg.seed)
    start = time.perf_counter()
    model, history, summary = fit_model(x_all[train_idx], y_all[train_idx], x_all[val_idx], y_all[val_idx],
                                        cfg, spec, verbose)
    refit_result = None
    if refit:
        t0 = time.perf_counter()
        model, history["refit"] = refit_model(x_all, y_all, cfg, spec, summary["best_epoch"], verbose)
        refit_result = {"rows": int(len(y_all)), "epochs": summary["best_epoch"],
                        "seconds": round(time.perf_counter() - t0, 2)}
    seconds = time.perf_counter() - start
    weights = mix_weights(model)  # of the model kept: the refit one when there is one
    result = {
        "best_epoch": summary["best_epoch"], "epochs_run": summary["epochs_run"],
        "val_accuracy": summary["val_accuracy"], "val_loss": summary["val_loss"],
        "train_size": int(len(train_idx)), "val_size": int(len(val_idx)),
        "seconds": round(seconds, 2),
        "seconds_per_epoch": round(float(np.mean(summary["epoch_seconds"])), 3),
        "layer_weights": {str(layer): w for layer, w in zip(spec.layers, weights)} if weights else None,
        "refit": refit_result,
        "ensemble": {"heads": cfg.ensemble, "seeds": [cfg.seed + i for i in range(cfg.ensemble)],
                     "member_val_accuracy": summary["member_val_accuracy"]} if cfg.ensemble > 1 else None,
    }
    config = {
        "head": cfg.to_dict(), "input": spec.to_dict(), "result": result,
        "cache": {"path": storage.absolute(cache), "manifest": manifest},
        "versions": versions(), "machine": machine(), "command": command_line(), "created": now(),
    }
    write_model_dir(model_dir, model, config, history)
    return {"model_dir": str(model_dir), **result}
