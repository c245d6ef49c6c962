"""`train`: fit the head on a cache's train split and write a self-describing model dir.

`train_model` is the one training routine: `train` calls it on a cache it has just read, and each
sweep trial on the arrays its worker holds, so both record the same config.json.
"""
from __future__ import annotations

import time

import numpy as np

from ..data import storage
from ..data.errors import BadInput
from ..data.options import known
from ..data.provenance import api_call, record
from ..data.split import stratified_split
from ..extract.cache.read import read_split
from ..extract.cache.manifest import read_manifest
from .config import HeadConfig
from .fit import fit_model, refit_model
from .head import mix_weights
from .inputs import InputSpec, parse_layers, select
from .model_dir import check_model_dir, write_model_dir


def input_spec(cfg: HeadConfig, manifest: dict) -> InputSpec:
    info = manifest["features"]
    return InputSpec(tuple(cfg.pooling), parse_layers(cfg.layers, info["num_layers"]),
                     info["num_layers"], info["hidden_size"])


def train_model(features: dict, labels: np.ndarray, manifest: dict, cache, cfg: HeadConfig, model_dir, *,
                refit: bool = False, overwrite: bool = False, command: str = "", verbose: int = 0) -> dict:
    """Split, fit (and refit), write the model dir. features: {pooling: [n, layers*hidden]} of the
    train split. Returns the result that `train --json` prints."""
    spec = input_spec(cfg, manifest)
    x_all, y_all = select(features, spec), labels.astype(np.float32)
    if len(np.unique(y_all)) < 2:
        raise BadInput(f"{cache}: the train split has only one label; training needs both")
    train_idx, val_idx = stratified_split(y_all, cfg.val_fraction, cfg.split_seed)
    for part, idx in (("training", train_idx), ("validation", val_idx)):
        if len(np.unique(y_all[idx])) < 2:
            raise BadInput(f"--val-fraction {cfg.val_fraction}: leaves {len(idx)} {part} rows of "
                           f"{len(y_all)}, too few to hold every label; choose a fraction that keeps each "
                           "label on both sides, or extract more training rows")
    start = time.perf_counter()
    model, history, summary = fit_model(x_all[train_idx], y_all[train_idx], x_all[val_idx], y_all[val_idx],
                                        cfg, spec, verbose)
    if not np.isfinite(summary["val_loss"]):
        raise BadInput(f"--lr {cfg.lr}: training diverged (the validation loss is not a number); lower the "
                       "learning rate (nothing was written)")
    refit_result = None
    if refit:
        t0 = time.perf_counter()
        model, history["refit"] = refit_model(x_all, y_all, cfg, spec, summary["best_epoch"], verbose)
        refit_result = {"rows": int(len(y_all)), "epochs": summary["best_epoch"],
                        "seconds": round(time.perf_counter() - t0, 2)}
    weights = mix_weights(model)  # of the model kept: the refit one when there is one
    result = {
        "best_epoch": summary["best_epoch"], "epochs_run": summary["epochs_run"],
        "val_accuracy": summary["val_accuracy"], "val_loss": summary["val_loss"],
        "train_size": int(len(train_idx)), "val_size": int(len(val_idx)),
        "seconds": round(time.perf_counter() - start, 2),
        "seconds_per_epoch": round(float(np.mean(summary["epoch_seconds"])), 3),
        "layer_weights": {str(layer): w for layer, w in zip(spec.layers, weights)} if weights else None,
        "refit": refit_result,
        "ensemble": {"heads": cfg.ensemble, "seeds": [cfg.seed + i for i in range(cfg.ensemble)],
                     "member_val_accuracy": summary["member_val_accuracy"]} if cfg.ensemble > 1 else None,
    }
    config = {"head": cfg.to_dict(), "input": spec.to_dict(), "result": result,
              "cache": {"path": storage.absolute(cache), "manifest": manifest}, **record(command)}
    write_model_dir(model_dir, model, config, history, overwrite)
    return {"model_dir": str(model_dir), **result}


def train(cache, model_dir, *, overwrite: bool = False, refit: bool = False, command: str | None = None,
          verbose: int = 0, **head) -> dict:
    """Train a head on the cache's train split (validation carved from it) and write model_dir.

    head: any HeadConfig option (lr, batch_size, epochs, patience, hidden, dropout, val_fraction,
    seed, split_seed, layers, pooling, layer_mix, standardize, ensemble). refit: after early
    stopping picks the epoch count on validation, train a fresh head on every training row for
    that many epochs and keep it; its validation figures are those of the selection run.
    """
    known(head, HeadConfig.fields(), "train")
    command = command or api_call("train", {"cache": str(cache), "model_dir": str(model_dir), **head})
    cfg = HeadConfig(**head)
    cfg.validate()
    check_model_dir(model_dir, overwrite)
    manifest = read_manifest(cache)
    cfg = cfg.with_pooling(manifest["features"]["poolings"])
    features, labels, _, manifest = read_split(cache, "train", poolings=list(cfg.pooling))
    return train_model(features, labels, manifest, cache, cfg, model_dir, refit=refit, overwrite=overwrite,
                       command=command, verbose=verbose)
