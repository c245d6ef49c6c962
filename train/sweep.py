"""`sweep`: many heads on one cache, trials in parallel worker processes.

Every trial streams the cache from its shards (the operating system's page cache keeps them warm
for the next) and runs `train_model`, as `train` does, into a normal
model dir under DIR/trials/<key>, and is appended to DIR/trials.jsonl as it finishes. An
interrupted sweep (Ctrl-C, a kill) resumes: finished trials are kept and skipped. The best trial
(by validation accuracy) is copied to DIR/best.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import itertools
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from ..common import storage
from ..common import workers as worker_processes
from ..common.errors import BadInput
from ..common.folders import check_target, write_folder
from ..common.options import Option, at_least, check_keywords, flag, parse
from ..common.progress import duration
from ..common.provenance import api_call, record
from ..common.quiet_tensorflow import import_tensorflow_quietly
from ..extract.cache.manifest import read_manifest
from ..extract.features.settings import TOKEN
from .config import MLP_ONLY, HeadConfig
from .model_dir import CONFIG_FILE, FORMAT as MODEL_FORMAT, KIND as MODEL_KIND, MODEL_FILE
from .run import cache_reads, check_validation_choice, read_training_splits, train_model

SWEPT = ("lr", "batch_size", "hidden", "dropout", "epochs", "patience", "seed", "layers", "pooling", "layer_mix",
         "standardize", "ensemble", "channel", "lexical_l2", "min_df", "head", "calibrate",
         "ordinal", "fusion", "stack_folds", "segments")
# A sweep of more heads than this is a typo more often than a plan; larger grids are sampled (--trials).
MAX_TRIALS = 10_000
LISTED = 100_000  # grids up to this many combinations are listed whole, larger ones drawn by index
FORMAT = "multilayer-bert-sentiment/sweep"
# The sweep's own options (the swept ones are the head's, train/config.py); the CLI's are made from these.
SWEEP = (
    Option("trials", "int", None, "Sample N configurations instead of the full grid (seeded by the first --seed).",
           default_text="the full grid"),
    Option("workers", "int", None, "Parallel trials.", default_text="one per core"),
)
EVALUATE_BEST = Option("evaluate_best", "bool", False, "Evaluate only the best model on the test split.")
MARKER = "sweep.json"


def trial_key(cfg: HeadConfig, cache_fingerprint: str) -> str:
    """A trial's identity: its head options and the cache it trains on, so a sweep folder reused with
    another cache never passes off old trials as new ones."""
    fields = {**cfg.to_dict(), "cache": cache_fingerprint}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


def expand_grid(grid: dict[str, list], trials: int | None, seed: int) -> list[HeadConfig]:
    """Every combination (hidden and dropout paired only where their lengths agree), or a seeded
    sample of `trials`; a grid too large to list is sampled without being built."""
    names = list(grid)
    sizes = [len(grid[n]) for n in names]
    size = math.prod(sizes)
    if trials is not None and trials > MAX_TRIALS:
        raise BadInput(f"--trials {trials}: one sweep runs at most {MAX_TRIALS:,} trials; sample fewer")
    if trials is None and size > MAX_TRIALS:
        given = " x ".join(f"{k} {flag(n)}" for n, k in zip(names, sizes) if k > 1)
        raise BadInput(f"sweep: the grid has {size:,} combinations ({given}), more than the {MAX_TRIALS:,} trials "
                       "one sweep runs; pass --trials N to sample N of them, or give fewer values")
    if size <= LISTED:
        configs = list(dict.fromkeys(c for c in (_config(grid, values) for values in
                                                 itertools.product(*(grid[n] for n in names))) if c))
        if trials is not None and trials < len(configs):
            rng = np.random.default_rng(seed)
            configs = [configs[i] for i in sorted(rng.choice(len(configs), trials, replace=False))]
    else:  # draw combinations by index: the grid itself is never built
        rng, drawn, found = np.random.default_rng(seed), set(), {}
        while len(found) < trials and len(drawn) < min(size, 50 * trials + 1000):
            index = int(rng.integers(size))
            if index not in drawn:
                drawn.add(index)
                cfg = _config(grid, _combination(grid, names, sizes, index))
                if cfg:
                    found.setdefault(cfg, None)
        configs = list(found)
    if not configs:
        raise BadInput("sweep: no combination can be trained: --hidden/--dropout need one rate per layer (or a "
                       "single rate), and --head linear needs --ensemble 1 and --layer-mix concat")
    return configs


def _combination(grid: dict, names: list[str], sizes: list[int], index: int) -> tuple:
    """The index-th combination in itertools.product's order (the last option varies fastest)."""
    values = []
    for name, k in zip(reversed(names), reversed(sizes)):
        index, i = divmod(index, k)
        values.append(grid[name][i])
    return tuple(reversed(values))


def _config(grid: dict, values: tuple) -> HeadConfig | None:
    """One combination as a config; None when its hidden and dropout lengths cannot pair, when it
    asks the linear head for an ensemble or a layer mix, or a channel other than fused to stack.
    A linear trial keeps the MLP's own options at their defaults, so that combinations differing in
    those alone are one trial."""
    cfg = HeadConfig(**dict(zip(grid, values)))  # parses each value: a bad one is refused by name
    if cfg.fusion != "weight" and cfg.channel != "fused":
        return None  # only a fused model stacks: the same trial as --fusion weight, listed once
    if cfg.head == "linear":
        if cfg.ensemble != 1 or cfg.layer_mix != "concat":
            return None
        defaults = HeadConfig()
        return dataclasses.replace(cfg, **{name: getattr(defaults, name) for name in MLP_ONLY})
    if len(cfg.hidden) != len(cfg.dropout):
        if len(cfg.dropout) != 1:
            return None
        cfg = dataclasses.replace(cfg, dropout=cfg.dropout * len(cfg.hidden))  # one rate for every layer
    return cfg


def worker_setup(init: dict):
    """In a worker process: TensorFlow's threads, then the cache's splits opened for all its trials."""
    import_tensorflow_quietly()
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(init["threads"])
    tf.config.threading.set_inter_op_parallelism_threads(1)
    return read_training_splits(init["cache"], init["poolings"], init["lexical"], init["segments"])


def worker_trial(data, job: dict) -> dict:
    """In a worker process: one trial, trained into its own model dir; its row of trials.jsonl."""
    cfg = HeadConfig(**job["config"])
    key = trial_key(cfg, data.manifest["fingerprint"])
    result = train_model(data, cfg, Path(job["out"]) / "trials" / key, overwrite=True, command=job["command"])
    return {"key": key, **cfg.to_dict(), **{k: result[k] for k in ("best_epoch", "epochs_run", "val_accuracy",
                                                                    "val_loss", "seconds", "fusion")}}


def _read_done(path: Path) -> dict[str, dict]:
    done = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
                done[row["key"]] = row
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a kill: that trial runs again
    return done


def _open_out(out: Path, cache) -> None:
    """The sweep folder: new, empty, or a sweep of ours (resumed); never someone else's folder."""
    check_target(out, "--out", "a sweep", MARKER, FORMAT, overwrite=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "trials").mkdir(exist_ok=True)
    if not (out / MARKER).exists():
        storage.write_atomic(out / MARKER, (json.dumps({"format": FORMAT, "cache": storage.absolute(cache)},
                                                       indent=2) + "\n").encode())


def sweep(cache, out, *, trials: int | None = None, workers: int | None = None, command: str | None = None,
          stream=None, **grid) -> dict:
    """Train every combination of the given head options, or `trials` of them sampled with the first
    seed. Each option is a list of values to try (lr=[1e-3, 5e-4], hidden=[(256, 128), (512,)]) or
    one value; options not given keep HeadConfig's default. Returns the summary `sweep --json`
    prints; DIR/best is a normal model dir."""
    check_keywords(grid, SWEPT + ("val_fraction", "split_seed"), "sweep")
    command = command or api_call("sweep", {"cache": str(cache), "out": str(out), **grid})
    stream = stream or sys.stderr
    cache, out = str(cache), Path(out)
    own = parse(SWEEP, {"trials": trials, "workers": workers}, "sweep")
    trials, workers = own["trials"], own["workers"]
    if trials is not None:
        at_least(trials, 1, "trials")
    if workers is not None:
        at_least(workers, 1, "workers")
    manifest = read_manifest(cache)
    stored = manifest["features"]["poolings"]
    # A list holds the values to try; anything else is the one value (hidden=(256, 128) is one config).
    grid = {name: values if isinstance(values, list) else [values] for name, values in grid.items()
            if values is not None}
    full = grid_with_defaults(grid)
    full["pooling"] = [p for p in full["pooling"] if p is not None] or [tuple(stored[:1])]
    configs = expand_grid(full, trials, full["seed"][0])
    for i, cfg in enumerate(configs):
        cfg.validate()
        configs[i] = check_validation_choice(cfg.with_pooling(stored), manifest, cache)
    _open_out(out, cache)
    log = out / "trials.jsonl"
    done = _read_done(log)
    fingerprint = manifest["fingerprint"]
    keys = {trial_key(c, fingerprint): c for c in configs}
    todo = [c for k, c in keys.items() if k not in done or not (out / "trials" / k / MODEL_FILE).exists()]
    kept = len(configs) - len(todo)
    if kept:
        print(f"sweep: {kept} finished trials kept, {len(todo)} to run", file=stream, flush=True)
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    # What any trial reads, read once by the workers (a token head's "token" after the stored poolings).
    reads = [cache_reads(c, manifest) for c in configs]
    poolings = sorted({p for columns, _, _ in reads for p in columns}, key=[*stored, TOKEN].index)
    lexical, segments = any(r[1] for r in reads), any(r[2] for r in reads)
    start = time.perf_counter()
    results = {k: v for k, v in done.items() if k in keys}
    if todo:
        _run_all(_Run(out, log, cache, poolings, lexical, segments, command, stream), todo, results, workers,
                 (kept, len(configs)))
    rows = sorted(results.values(), key=lambda r: (-r["val_accuracy"], r["val_loss"]))
    best = rows[0]
    write_folder(out / "best", lambda tmp: shutil.copytree(out / "trials" / best["key"], tmp, dirs_exist_ok=True),
                 "--out", MODEL_KIND, CONFIG_FILE, MODEL_FORMAT, overwrite=True)
    _write_results(out, rows, full, cache, command)
    from .plots import sweep_plot
    sweep_plot(rows, [n for n in SWEPT if len({json.dumps(r.get(n)) for r in rows}) > 1], out / "sweep.png")
    return {"trials": len(rows), "ran": len(todo), "kept": kept, "best": best,
            "best_model_dir": str(out / "best"), "seconds": round(time.perf_counter() - start, 1)}


@dataclasses.dataclass(frozen=True)
class _Run:
    """What every trial of one sweep shares."""
    out: Path
    log: Path  # trials.jsonl
    cache: str
    poolings: list[str]  # every pooling a trial reads: the workers read these once
    lexical: bool  # whether a trial reads the n-grams
    segments: bool  # whether a trial reads every window's or token's features
    command: str
    stream: object  # where progress goes


def _run_all(run: _Run, todo, results: dict, workers: int, counts: tuple[int, int]) -> None:
    """Run the trials in worker processes (common/workers.py); each finished one is logged at once.
    On Ctrl-C, or a worker that dies, the workers are stopped and the finished trials stay logged.
    counts: (trials kept from before, trials in all), for the progress lines."""
    out, log, stream, command = run.out, run.log, run.stream, run.command
    (kept, total), cache, poolings, lexical = counts, run.cache, run.poolings, run.lexical
    threads = max(1, (os.cpu_count() or 1) // workers)
    init = {"cache": cache, "poolings": poolings, "lexical": lexical, "segments": run.segments, "threads": threads}
    jobs = [{"config": c.to_dict(), "out": str(out), "command": command} for c in todo]
    here = f"{__name__}:"
    finishing = worker_processes.run(here + "worker_setup", here + "worker_trial", init, jobs, workers)
    start, finished = time.perf_counter(), 0
    try:
        for _, row in finishing:
            results[row["key"]] = row
            with open(log, "a") as f:
                f.write(json.dumps(row) + "\n")
            finished += 1
            left = (time.perf_counter() - start) / finished * (len(todo) - finished)
            print(f"trial {kept + finished}/{total}: val_accuracy {row['val_accuracy']:.4f} "
                  f"(epoch {_fmt(row['best_epoch'])} of {_fmt(row['epochs_run'])}, {row['seconds']:.1f} s) "
                  f"{_describe(row)}; {len(todo) - finished} left, {duration(left)} left", file=stream, flush=True)
    except BaseException:
        print(f"sweep: stopped; {kept + finished} of {total} trials finished and kept in {log}", file=stream,
              flush=True)
        raise
    finally:
        finishing.close()  # the workers stopped, queued trials never started


def _describe(row: dict) -> str:
    return " ".join(f"{n}={_fmt(row[n])}" for n in SWEPT if n in row)


def _fmt(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _write_results(out: Path, rows: list[dict], grid: dict, cache, command: str) -> None:
    columns = ["key", *SWEPT, "val_fraction", "split_seed", "best_epoch", "epochs_run", "val_accuracy", "val_loss",
               "seconds"]
    lines = [columns] + [[_fmt(r.get(c)) for c in columns] for r in rows]
    with open(out / ".results.csv.tmp", "w", newline="") as f:
        csv.writer(f).writerows(lines)
    os.replace(out / ".results.csv.tmp", out / "results.csv")
    payload = {"format": FORMAT, "cache": storage.absolute(cache),
               "grid": {k: [_fmt(v) for v in vals] for k, vals in grid.items()}, "trials": rows, **record(command)}
    storage.write_atomic(out / "results.json", (json.dumps(payload, indent=2) + "\n").encode())


def grid_with_defaults(grid: dict) -> dict[str, list]:
    """Values to try per option; options not given keep HeadConfig's default."""
    defaults = HeadConfig()
    return {name: list(grid.get(name) or [getattr(defaults, name)])
            for name in SWEPT + ("val_fraction", "split_seed")}
