"""`probe`: how much of the task each encoder layer holds, measured as SentEval does: a logistic
regression (train/linear.py) on the standardised features of each layer alone, of each pooling's
layers together and of everything the cache holds, its L2 weight chosen on validation. Only
validation figures are reported: the probe is a diagnostic that chooses things (layers, pooling),
so it never looks at the test split.

The validation rows are those train would use (the cache's validation split, or the same seeded
share of train). The rows probed are read once into memory; --max-rows caps them (a seeded
sample, stratified by label) so that a corpus of millions probes in minutes.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..common.errors import BadInput
from ..common.folders import check_target, write_folder
from ..common.options import at_least, check_keywords, parse
from ..common.progress import Progress
from ..common.provenance import api_call, record
from ..extract.cache.manifest import labels_of, read_manifest
from ..train import rows
from ..train.config import HeadConfig
from ..train.config import options as head_options
from ..train.inputs import InputSpec, select
from ..train.linear import Arrays, choose_l2
from ..train.metrics import classification_metrics
from ..train.run import check_validation_choice, read_training_splits, split_rows
from .options import PROBE_OWN

FORMAT = "multilayer-bert-sentiment/probe"
MARKER = "probe.json"
FIGURE = "probe.png"
FROM_HEAD = ("l2", "val_fraction", "split_seed")  # declared once, in HeadConfig
PROBE = tuple(o for o in head_options() if o.name in FROM_HEAD) + PROBE_OWN


def probe(cache, command: str | None = None, **options) -> dict:
    """Validation accuracy (and macro F1) of a linear probe on each layer alone, each pooling's layers
    together, and every pooling and layer together. Returns the `probe --json` object; with plot,
    writes probe.png and probe.json (the numbers and what made them) to that folder."""
    check_keywords(options, [option.name for option in PROBE], "probe")
    o = parse(PROBE_OWN, {k: v for k, v in options.items() if k not in FROM_HEAD}, "probe")
    plot, overwrite = o["plot"], o["overwrite"]
    at_least(o["max_rows"], 0, "max_rows", " (0: every row)")
    cfg = HeadConfig(head="linear", **{k: v for k, v in options.items() if k in FROM_HEAD})
    cfg.validate()  # the head's options are checked as train checks them
    if plot is not None:
        check_target(plot, "--plot", "a probe report", MARKER, FORMAT, overwrite)
    command = command or api_call("probe", {"cache": str(cache), **options})
    start = time.perf_counter()
    manifest = read_manifest(cache)
    info = manifest["features"]
    poolings, num_layers, hidden = list(info["poolings"]), info["num_layers"], info["hidden_size"]
    cfg = check_validation_choice(cfg, manifest, cache)
    data = read_training_splits(cache, poolings)
    train_rows, validation_rows, validation = split_rows(data, cfg)
    total = {"train": len(train_rows), "validation": len(validation_rows)}
    if o["max_rows"]:
        train_rows = rows.sample(train_rows, cfg.split_seed, total=o["max_rows"])
        validation_rows = rows.sample(validation_rows, cfg.split_seed, total=o["max_rows"])
    classes = labels_of(manifest)
    if len(np.unique(train_rows.labels())) < 2 or not len(validation_rows):
        raise BadInput(f"--cache {cache}: probing needs training rows of two labels or more and validation rows; "
                       "extract more labelled rows")
    x_train, y_train = _held(train_rows, poolings)
    x_val, y_val = _held(validation_rows, poolings)
    k = 1 if len(classes) == 2 else len(classes)
    inputs = [(p, (layer,)) for p in poolings for layer in range(num_layers)]
    inputs += [(p, tuple(range(num_layers))) for p in poolings]
    if len(poolings) > 1:
        inputs.append(("+".join(poolings), tuple(range(num_layers))))
    progress = Progress("probe", len(inputs), unit="probes")
    probes = []
    for done, (pooling, layers) in enumerate(inputs):
        t0 = time.perf_counter()
        named = pooling.split("+")
        spec = InputSpec(tuple(named), layers, num_layers, hidden)
        xt, xv = standardise(select(x_train, spec), select(x_val, spec))
        chosen, _, tried, val_probs = choose_l2(Arrays(xt, y_train), Arrays(xv, y_val), xt.shape[1], k, cfg.l2)
        metrics = classification_metrics(y_val, val_probs, classes)
        probes.append({"pooling": pooling, "layers": list(layers), "dim": int(xt.shape[1]),
                       "val_accuracy": metrics["accuracy"], "val_macro_f1": metrics["macro_f1"],
                       "val_log_loss": metrics["log_loss"], "l2": chosen["l2"], "iterations": chosen["iterations"],
                       "val_accuracy_by_l2": {str(t["l2"]): t["val_accuracy"] for t in tried},
                       "seconds": round(time.perf_counter() - t0, 2)})
        progress.update(done + 1)
    progress.finish()
    best = max(probes, key=lambda r: (r["val_accuracy"], -r["val_log_loss"]))
    result = {"cache": str(cache), "labels": classes, "poolings": poolings, "num_layers": num_layers,
              "hidden_size": hidden, "train_rows": int(len(y_train)), "val_rows": int(len(y_val)),
              "rows_available": total, "max_rows": o["max_rows"], "validation": validation,
              "probe": "logistic regression on standardised features, L-BFGS; L2 chosen on validation accuracy",
              "l2_grid": list(cfg.l2), "probes": probes,
              "best": {key: best[key] for key in ("pooling", "layers", "val_accuracy", "val_macro_f1")},
              "seconds": round(time.perf_counter() - start, 2)}
    if plot is not None:
        result["plots"] = _report(Path(plot), result, overwrite, command)
    return result


def _held(r: rows.Rows, poolings: list[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every row's features as stored, one array per pooling (filled in place: no second copy)."""
    n, held, labels, at = len(r), {}, np.zeros(len(r), np.int64), 0
    for features, y in r.chunks():
        for p in poolings:
            if p not in held:
                held[p] = np.empty((n, features[p].shape[1]), features[p].dtype)
            held[p][at:at + len(y)] = features[p]
        labels[at:at + len(y)] = y
        at += len(y)
    return held, labels


def standardise(train: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays scaled by the training rows' mean and standard deviation, in place."""
    mean = train.mean(axis=0, dtype=np.float64).astype(np.float32)
    scale = np.maximum(train.std(axis=0, dtype=np.float64), 1e-7).astype(np.float32)
    for x in (train, other):
        x -= mean
        x /= scale
    return train, other


def table(result: dict) -> str:
    """The probe's figures by layer (rows) and pooling (columns): validation accuracy, and macro F1
    for more than two classes."""
    poolings, n = result["poolings"], result["num_layers"]
    by = {(r["pooling"], tuple(r["layers"])): r for r in result["probes"]}
    metrics = [("val_accuracy", "Validation accuracy", lambda v: f"{100 * v:.2f}%")]
    if len(result["labels"]) > 2:
        metrics.append(("val_macro_f1", "Validation macro F1", lambda v: f"{v:.4f}"))
    lines = [f"probe {result['cache']}: a logistic regression on each layer's features, L2 chosen on validation "
             f"({result['train_rows']} training rows, {result['val_rows']} validation rows)"]
    everything = tuple(range(n))
    for key, title, shown in metrics:
        lines += ["", f"| {title} | " + " | ".join(poolings) + " |", "|---" * (len(poolings) + 1) + "|"]
        for name, layers in [(f"layer {i}" + (" (top)" if i == n - 1 else ""), (i,)) for i in range(n)] + [
                ("all layers", everything)]:
            lines.append(f"| {name} | " + " | ".join(shown(by[(p, layers)][key]) for p in poolings) + " |")
        if len(poolings) > 1:
            joint = by[("+".join(poolings), everything)]
            lines.append(f"| all layers, {' + '.join(poolings)} | {shown(joint[key])} |" + " |" * (len(poolings) - 1))
    best = result["best"]
    lines += ["", f"best: {best['pooling']}, layers {','.join(map(str, best['layers']))} "
              f"({100 * best['val_accuracy']:.2f}% validation accuracy)"]
    if result.get("plots"):
        lines.append(f"figure: {result['plots'][0]}; numbers: {result['plots'][1]}")
    return "\n".join(lines)


def _report(folder: Path, result: dict, overwrite: bool, command: str) -> list[str]:
    from .plots import probe_plot

    def build(tmp: Path) -> None:
        probe_plot(result, tmp / FIGURE)
        (tmp / MARKER).write_text(json.dumps({"format": FORMAT, **result, **record(command)}, indent=2,
                                             allow_nan=False) + "\n")

    write_folder(folder, build, "--plot", "a probe report", MARKER, FORMAT, overwrite)
    return [str(folder / FIGURE), str(folder / MARKER)]
