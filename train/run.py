"""`train`: fit the head on a cache's train split and write a self-describing model dir.

Validation rows are the cache's own validation split when it has one, else a seeded, stratified
share of train (--val-fraction, default 0.2, --split-seed) chosen by a hash of each review's id.
Training streams from the cache's shards (train/rows.py): memory holds a shard and a shuffle
buffer, whatever the number of reviews. `train_model` is the one training
routine: `train` calls it on a cache it has just read, and each sweep trial on the arrays its
worker holds, so both record the same config.json.
"""
from __future__ import annotations

import dataclasses
import sys
import time

import numpy as np

from ..common import storage
from ..common.errors import BadInput
from ..common.options import check_keywords
from ..common.provenance import api_call, record
from ..data.sources.labels import untrained_classes
from ..extract.cache.manifest import label_counts_of, labels_of, read_manifest
from ..extract.cache.read import SplitReader, open_split
from ..extract.features.settings import TOKEN
from . import channels, rows
from .channels.base import probabilities_of
from .config import AUTO_LINEAR_BELOW, VAL_FRACTION, HeadConfig
from .inputs import InputSpec, parse_layers
from .metrics import accuracy_and_loss
from .model_dir import check_model_dir, write_model_dir

VALIDATION = "validation"
REFITS = (False, True, "lexical")


def input_spec(cfg: HeadConfig, manifest: dict) -> InputSpec:
    """The columns the head reads: its poolings of each review or, with --segments, of each window,
    or each token's features when the cache holds tokens (extract --tokens)."""
    info = manifest["features"]
    segments = cfg.segments != "none"
    poolings = (TOKEN,) if segments and info.get("tokens") else tuple(cfg.pooling)
    return InputSpec(poolings, parse_layers(cfg.layers, info["num_layers"]), info["num_layers"], info["hidden_size"],
                     segments)


def cache_reads(cfg: HeadConfig, manifest: dict) -> tuple[list[str], bool, bool]:
    """What a config's model reads of the cache: (columns, n-grams, per segment). The columns are
    its head's per-segment ones ("token" on a cache of tokens) when its BERT side reads segments,
    else the poolings of each review."""
    channel = channels.check(cfg.channel)
    segments = cfg.segments != "none" and channel.reads_bert
    columns = list(input_spec(cfg, manifest).poolings) if segments else list(cfg.pooling)
    return columns, channel.reads_ngrams, segments


def has_validation_split(manifest: dict) -> bool:
    return bool(manifest.get("splits", {}).get(VALIDATION, {}).get("complete"))


@dataclasses.dataclass
class TrainingData:
    """A cache's splits that train_model reads, opened to be read shard by shard: the train split
    and, when the cache has one, its validation split. Nothing is read until a model trains."""
    train: SplitReader
    validation: SplitReader | None
    manifest: dict
    cache: str


def read_training_splits(cache, poolings: list[str], lexical: bool = False, segments: bool = False) -> TrainingData:
    """The train split and, when the cache has one, its validation split. lexical: with the n-grams;
    segments: with every window's or token's features."""
    manifest = read_manifest(cache)
    train = open_split(cache, "train", poolings, lexical, manifest, segments)
    validation = (open_split(cache, VALIDATION, poolings, lexical, manifest, segments)
                  if has_validation_split(manifest) else None)
    return TrainingData(train, validation, manifest, str(cache))


def check_validation_choice(cfg: HeadConfig, manifest: dict, cache) -> HeadConfig:
    """A cache's own validation split is used as it is: carving another from train is refused."""
    if has_validation_split(manifest):
        if cfg.val_fraction is not None:
            raise BadInput(f"--val-fraction {cfg.val_fraction}: the cache {cache} has its own validation split, "
                           "which train uses; drop --val-fraction (or extract without the validation split to "
                           "carve one from train)")
        return cfg
    return cfg if cfg.val_fraction is not None else dataclasses.replace(cfg, val_fraction=VAL_FRACTION)


def split_rows(data: TrainingData, cfg: HeadConfig) -> tuple[rows.Rows, rows.Rows, dict]:
    """(training rows, validation rows, where validation came from): the cache's validation split, or
    cfg.val_fraction of train carved by id hash (check_validation_choice has set which)."""
    if data.validation is not None:
        return rows.every(data.train), rows.every(data.validation), {"from": "split", "split": VALIDATION}
    train_rows, validation_rows = rows.carve(data.train, cfg.val_fraction, cfg.split_seed)
    return train_rows, validation_rows, {"from": "train", "fraction": cfg.val_fraction, "split_seed": cfg.split_seed,
                                         "rule": "per label, the fraction of rows with the smallest id hash "
                                                 "(train/rows.py)"}


def train_model(data: TrainingData, cfg: HeadConfig, model_dir, *, refit: bool = False, overwrite: bool = False,
                command: str = "", verbose: int = 0) -> dict:
    """Split (unless the data has a validation split), fit (and refit), write the model dir.
    Returns the result that `train --json` prints."""
    manifest, cache = data.manifest, data.cache
    classes = labels_of(manifest)
    spec = input_spec(cfg, manifest)
    train_rows, validation_rows, validation = split_rows(data, cfg)
    everything = train_rows + validation_rows  # what --refit trains on
    if data.validation is None:
        y_all = everything.labels()
        for part, labels, needed in (("training", train_rows.labels(), 2), ("validation", validation_rows.labels(), 1)):
            if len(np.unique(labels)) < min(needed, len(np.unique(y_all))):
                raise BadInput(f"--val-fraction {cfg.val_fraction}: leaves {len(labels)} {part} rows of "
                               f"{len(y_all)}, too few to train and validate on; choose a fraction that keeps "
                               "rows of each label on both sides, or extract more training rows")
    elif not len(validation_rows):
        raise BadInput(f"{cache}: the validation split is empty; extract it again with rows in it")
    y = train_rows.labels()
    if len(np.unique(y)) < 2:
        raise BadInput(f"{cache}: the train split has only one label ({classes[int(y[0])] if len(y) else 'none'}); "
                       "training needs at least two")
    if refit not in REFITS:
        raise BadInput(f"refit={refit!r}: use False, True (every part) or 'lexical' (the lexical model only)")
    start = time.perf_counter()
    asked, rows_per_class = cfg.head, len(train_rows) / len(classes)
    cfg = cfg.with_head(rows_per_class)
    head_choice = {"asked": "auto", "chosen": cfg.head, "training_rows_per_class": round(rows_per_class, 1),
                   "rule": f"linear below {AUTO_LINEAR_BELOW} training rows per class, unless an ensemble, a "
                           "layer mix or an MLP option was given; else mlp"} if asked == "auto" else None
    channel = channels.new(cfg, spec, classes)
    if refit == "lexical" and not channel.reads_ngrams:
        raise BadInput("--refit-lexical: the model has no lexical part; train it with --channel lexical or fused")
    channel.fit(train_rows, validation_rows, verbose)
    val_probs, yv = probabilities_of(channel, validation_rows)
    # The temperature is fitted on the selection run's validation rows; a refit model keeps it (its
    # validation rows are training rows then, and would call for a colder one than is right).
    from .temperature import fit_temperature, scaled  # TensorFlow ops: imported once a model trains

    calibration = fit_temperature(val_probs, yv) if cfg.calibrate else None
    channel = channels.calibrated(channel, calibration)
    if calibration:
        val_probs = np.asarray(scaled(val_probs, calibration["temperature"]))
    val_accuracy, val_loss = accuracy_and_loss(yv, val_probs)  # the kept model's own
    fitted = channel.summary()
    refit_result = None
    if refit:
        t0 = time.perf_counter()
        parts = "lexical" if refit == "lexical" else "all"
        channel.refit(everything, parts, verbose)
        refit_result = {"rows": int(len(everything)), "parts": parts,
                        "epochs": fitted["best_epoch"] if refit is True else None,
                        "lexical_steps": fitted["lexical"]["best_step"] if fitted["lexical"] else None,
                        "seconds": round(time.perf_counter() - t0, 2)}
    summary = channel.summary()  # of the model kept: the refit one when there is one
    result = {
        "channel": cfg.channel, "best_epoch": summary["best_epoch"], "epochs_run": summary["epochs_run"],
        "val_accuracy": val_accuracy, "val_loss": val_loss,
        "train_size": int(len(train_rows)), "val_size": int(len(validation_rows)), "validation": validation,
        "labels": classes,
        "seconds": round(time.perf_counter() - start, 2), "seconds_per_epoch": summary["seconds_per_epoch"],
        "layer_weights": summary["layer_weights"], "refit": refit_result, "ensemble": summary["ensemble"],
        "head_val_accuracy": summary["head_val_accuracy"], "lexical": summary["lexical"], "fusion": summary["fusion"],
        "head": cfg.head, "head_choice": head_choice, "linear": summary["linear"], "calibration": calibration,
    }
    config = {"head": cfg.to_dict(), "input": spec.to_dict(), "labels": classes, "fusion": summary["fusion"],
              "calibration": calibration, "training": {"streamed": True, "shuffle_bytes": rows.SHUFFLE_BYTES},
              "result": result, "cache": {"path": storage.absolute(cache), "manifest": manifest}, **record(command)}
    write_model_dir(model_dir, channel, config, overwrite, cache)
    return {"model_dir": str(model_dir), **result}


def train(cache, model_dir, *, overwrite: bool = False, refit: bool = False, command: str | None = None,
          verbose: int = 0, **head) -> dict:
    """Train a head on the cache's train split and write model_dir.

    head: any HeadConfig option (train/config.py declares each, with its type, default and help).
    refit: after early stopping picks the epoch count on validation, train a fresh head on
    every training row (validation ones included) for that many epochs and keep it; its validation
    figures are those of the selection run. refit='lexical' refits the lexical model alone (its
    learning curve on IMDB still rises at 20,000 rows where the head's is flat).
    """
    check_keywords(head, HeadConfig.fields(), "train")
    command = command or api_call("train", {"cache": str(cache), "model_dir": str(model_dir), **head})
    cfg = HeadConfig(**head)
    cfg.validate()
    check_model_dir(model_dir, overwrite)
    manifest = read_manifest(cache)
    cfg = check_validation_choice(cfg.with_pooling(manifest["features"]["poolings"]), manifest, cache)
    unseen = untrained_classes({split: label_counts_of(entry["counts"]) for split, entry in manifest["splits"].items()})
    if unseen:
        print(f"train: warning: {unseen}", file=sys.stderr, flush=True)
    data = read_training_splits(cache, *cache_reads(cfg, manifest))
    return train_model(data, cfg, model_dir, refit=refit,
                       overwrite=overwrite, command=command, verbose=verbose)
