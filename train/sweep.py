"""The `sweep` command: many heads on one cache, trials in parallel worker processes.

The cache is read once per worker; trials are appended to DIR/trials.jsonl as they finish, so an
interrupted sweep resumes with the finished trials kept and skipped. Each trial's model is a normal
model dir under DIR/trials/<key>; the best (by validation accuracy) is copied to DIR/best.
"""
from __future__ import annotations

import csv
import hashlib
import itertools
import json
import multiprocessing
import os
import shutil
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import numpy as np

from data.errors import BadInput
from extract import storage
from extract.cache import read_manifest
from extract.progress import duration
from extract.provenance import command_line, now, versions
from train.fit import HeadConfig

SWEPT = ("lr", "batch_size", "hidden", "dropout", "epochs", "patience", "seed", "layers", "pooling", "layer_mix",
         "standardize", "ensemble")
_worker_state: dict = {}


def trial_key(cfg: HeadConfig) -> str:
    fields = cfg.to_dict()
    if fields["ensemble"] == 1:
        del fields["ensemble"]  # single heads keep the keys they had before ensembles, so sweeps resume
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


def expand_grid(grid: dict[str, list], trials: int | None, seed: int) -> list[HeadConfig]:
    """Every combination (hidden and dropout paired only where their lengths agree), or a seeded sample."""
    names = list(grid)
    configs = []
    for values in itertools.product(*(grid[n] for n in names)):
        fields = dict(zip(names, values))
        if len(fields["hidden"]) != len(fields["dropout"]):
            if len(fields["dropout"]) != 1:
                continue
            fields["dropout"] = fields["dropout"] * len(fields["hidden"])  # one rate for every layer
        configs.append(HeadConfig(**fields))
    unique = list({trial_key(c): c for c in configs}.values())
    if not unique:
        raise BadInput("--hidden/--dropout: no pair has matching lengths; give one rate per layer, or a single rate")
    if trials is not None and trials < len(unique):
        rng = np.random.default_rng(seed)
        unique = [unique[i] for i in sorted(rng.choice(len(unique), trials, replace=False))]
    return unique


def _init_worker(cache: str, poolings: list[str], threads: int) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from extract.cache import read_split

    features, labels, _, manifest = read_split(cache, "train", poolings=poolings)
    _worker_state.update(features=features, labels=labels.astype(np.float32), manifest=manifest, cache=cache)


def _run_trial(cfg: HeadConfig, out_dir: str) -> dict:
    from train.fit import fit_model, stratified_split, write_model_dir
    from train.inputs import InputSpec, parse_layers, select

    s = _worker_state
    info = s["manifest"]["features"]
    spec = InputSpec(tuple(cfg.pooling), parse_layers(cfg.layers, info["num_layers"]),
                     info["num_layers"], info["hidden_size"])
    x = select(s["features"], spec)
    y = s["labels"]
    train_idx, val_idx = stratified_split(y, cfg.val_fraction, cfg.seed)
    t0 = time.perf_counter()
    model, history, summary = fit_model(x[train_idx], y[train_idx], x[val_idx], y[val_idx], cfg, spec)
    seconds = time.perf_counter() - t0
    result = {"key": trial_key(cfg), **cfg.to_dict(), "best_epoch": summary["best_epoch"],
              "epochs_run": summary["epochs_run"], "val_accuracy": summary["val_accuracy"],
              "val_loss": summary["val_loss"], "seconds": round(seconds, 2)}
    config = {"head": cfg.to_dict(), "input": spec.to_dict(), "result": result,
              "cache": {"path": storage.absolute(s["cache"]), "manifest": s["manifest"]},
              "versions": versions(), "command": command_line(), "created": now()}
    write_model_dir(Path(out_dir) / "trials" / result["key"], model, config, history)
    return result


def _read_done(path: Path) -> dict[str, dict]:
    done = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
                row.setdefault("ensemble", 1)  # written before ensembles existed
                done[row["key"]] = row
            except (ValueError, KeyError):
                continue  # a line cut short by a kill: that trial runs again
    return done


def run_sweep(cache, out: Path, grid: dict[str, list], trials: int | None = None, seed: int = 0,
              workers: int | None = None, stream=None) -> dict:
    stream = stream or sys.stderr
    cache, out = str(cache), Path(out)
    manifest = read_manifest(cache)
    stored = manifest["features"]["poolings"]
    grid = dict(grid)
    grid["pooling"] = grid.get("pooling") or [tuple(stored[:1])]
    configs = expand_grid(grid, trials, seed)
    for cfg in configs:
        cfg.validate()
        for p in cfg.pooling:
            if p not in stored:
                raise BadInput(f"--pooling {p}: the cache at {cache} holds {', '.join(stored)}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "trials").mkdir(exist_ok=True)
    log = out / "trials.jsonl"
    done = _read_done(log)
    todo = [c for c in configs if trial_key(c) not in done or
            not (out / "trials" / trial_key(c) / "model.keras").exists()]
    kept = len(configs) - len(todo)
    if kept:
        print(f"sweep: {kept} finished trials kept, {len(todo)} to run", file=stream, flush=True)
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    poolings = sorted({p for c in configs for p in c.pooling}, key=stored.index)
    start = time.perf_counter()
    results = {k: v for k, v in done.items() if k in {trial_key(c) for c in configs}}
    if todo:
        ctx = multiprocessing.get_context("spawn")  # TensorFlow is not fork-safe
        threads = max(1, (os.cpu_count() or 1) // workers)
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(str(cache), poolings, threads)) as pool:
            pending = {pool.submit(_run_trial, c, str(out)) for c in todo}
            finished = 0
            while pending:
                complete, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in complete:
                    row = future.result()
                    results[row["key"]] = row
                    with open(log, "a") as f:
                        f.write(json.dumps(row) + "\n")
                    finished += 1
                    elapsed = time.perf_counter() - start
                    left = elapsed / finished * (len(todo) - finished)
                    print(f"trial {kept + finished}/{len(configs)}: val_accuracy {row['val_accuracy']:.4f} "
                          f"(epoch {_fmt(row['best_epoch'])} of {_fmt(row['epochs_run'])}, {row['seconds']:.1f} s) "
                          f"{_describe(row)}; {len(todo) - finished} left, {duration(left)} left",
                          file=stream, flush=True)
    rows = sorted(results.values(), key=lambda r: (-r["val_accuracy"], r["val_loss"]))
    best = rows[0]
    if (out / "best").exists():
        shutil.rmtree(out / "best")
    shutil.copytree(out / "trials" / best["key"], out / "best")
    _write_results(out, rows, grid, cache)
    from train.plots import sweep_plot
    sweep_plot(rows, [n for n in SWEPT if len({json.dumps(r[n]) for r in rows}) > 1], out / "sweep.png")
    return {"trials": len(rows), "ran": len(todo), "kept": kept, "best": best,
            "best_model_dir": str(out / "best"), "seconds": round(time.perf_counter() - start, 1)}


def _describe(row: dict) -> str:
    return " ".join(f"{n}={_fmt(row[n])}" for n in SWEPT)


def _fmt(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _write_results(out: Path, rows: list[dict], grid: dict, cache) -> None:
    columns = ["key", *SWEPT, "val_fraction", "best_epoch", "epochs_run", "val_accuracy", "val_loss", "seconds"]
    tmp = out / ".results.csv.tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for r in rows:
            writer.writerow([_fmt(r[c]) for c in columns])
    os.replace(tmp, out / "results.csv")
    payload = {"cache": storage.absolute(cache), "grid": {k: [_fmt(v) for v in vals] for k, vals in grid.items()},
               "trials": rows, "versions": versions(), "command": command_line(), "created": now()}
    tmp = out / ".results.json.tmp"
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    os.replace(tmp, out / "results.json")


def grid_from_options(**options) -> dict[str, list]:
    """CLI option values (tuples of choices) to a grid; unset options take HeadConfig's defaults."""
    defaults = HeadConfig()
    grid = {}
    for name in SWEPT:
        values = options.get(name)
        grid[name] = list(values) if values else [getattr(defaults, name)]
    return grid

