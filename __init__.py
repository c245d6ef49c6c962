"""mlbert: sentiment analysis on frozen multi-layer BERT features, in two stages.

The Python API (the `mlbert` command line is a thin layer over it; option names are the CLI's
with underscores, and each function's docstring lists its own):

    import mlbert
    mlbert.import_encoder("all-MiniLM-L6-v2/", "models/minilm")
    mlbert.extract("reviews.csv", "cache", encoder="models/minilm/encoder",
                   preprocessor="models/minilm/preprocessor")          # -> summary dict
    mlbert.train("cache", "model", ensemble=5)                          # -> result dict
    mlbert.evaluate("cache", "model")                                   # -> metrics dict
    mlbert.probe("cache")                     # validation accuracy of a linear probe on each layer
    clf = mlbert.load("model")                # the encoder loaded once
    clf.predict(["A wonderful film."])        # -> [{"label": ..., "confidence": ..., ...}]
    clf.features(["A wonderful film."])       # -> {pooling: float32 [n, layers * hidden]}
    mlbert.sweep("cache", "sweep", lr=[1e-3, 5e-4])
    mlbert.export("model", "serving")

Bad input raises mlbert.BadInput, whose message names the file, line or option and what to do.

Importing mlbert is light: TensorFlow is imported when a function first needs it. The stage
packages are imported here first, so that the functions defined below keep the names extract,
train and evaluate (Python sets a subpackage as an attribute of its parent once, when it is first
imported).
"""
from __future__ import annotations

from . import evaluate as _evaluate_package  # noqa: F401  (see the docstring: loaded before the functions)
from . import extract as _extract_package  # noqa: F401
from . import train as _train_package  # noqa: F401
from .common.errors import BadInput
from .common.options import Option, at_least, path
from .common.provenance import api_call

__all__ = ["BadInput", "extract", "train", "evaluate", "probe", "load", "sweep", "export", "import_encoder"]


def extract(data, out, **options) -> dict:
    """Stage one: run the frozen encoder once over `data` and write pooled per-layer features to the
    cache folder (or URL) `out`. Returns the summary `mlbert extract --json` prints.

    data: 'tfds', an aclImdb_v1.tar.gz archive or unpacked aclImdb/, a table file (.csv, .tsv,
    .jsonl, .json; also gzipped), or rows from memory: a list of dicts, a dict of columns or a
    pandas DataFrame, e.g. [{"text": "A fine film.", "label": "pos"}, ...].
    Options: those of `mlbert extract --help`, with underscores, each declared once in
    mlbert/extract/pipeline/options.py (help(mlbert.extract.pipeline.run.extract) lists them with
    their defaults); an unknown or mistyped one raises BadInput naming the nearest.
    """
    from .data.sources import as_source
    from .extract.pipeline.run import extract as run

    data = as_source(data)
    command = options.pop("command", None) or api_call("extract", {"data": str(data), "out": out, **options})
    return run(data, out, command=command, **options)


def train(cache, model_dir, **options) -> dict:
    """Stage two: train the head on the cache's train split and write model_dir. Returns the result
    `mlbert train --json` prints.

    Options: the head's, those of `mlbert train --help` with underscores, each declared once in
    mlbert/train/config.py (HeadConfig); and refit (True, or 'lexical'), overwrite.
    """
    from .train.run import train as run

    cache, model_dir = path(cache, "cache"), path(model_dir, "model_dir")
    command = options.pop("command", None) or api_call("train", {"cache": cache, "model_dir": model_dir, **options})
    return run(cache, model_dir, command=command, **options)


def evaluate(cache, model_dir, **options) -> dict:
    """Metrics of a model on a cached split (default test); the `mlbert evaluate --json` object.

    Options: split, plot (a folder for the figures).
    """
    from .evaluate.scoring import evaluate as run

    cache, model_dir = path(cache, "cache"), path(model_dir, "model_dir")
    command = options.pop("command", None) or api_call("evaluate", {"cache": cache, "model_dir": model_dir,
                                                                     **options})
    return run(cache, model_dir, command=command, **options)


def probe(cache, **options) -> dict:
    """How much of the task each encoder layer holds: validation accuracy (and macro F1) of a
    logistic regression on each layer alone, each pooling's layers together and every pooling and
    layer together, the L2 weight of each chosen on validation. The `mlbert probe --json` object.

    Options: l2, val_fraction, split_seed (as train takes them), max_rows (a seeded stratified
    sample of at most this many training and as many validation rows; 0: all), plot (a folder for
    probe.png and probe.json), overwrite.
    """
    from .evaluate.probe import probe as run

    cache = path(cache, "cache")
    command = options.pop("command", None) or api_call("probe", {"cache": cache, **options})
    return run(cache, command=command, **options)


def load(model_dir, batch_size: int = 64):
    """A trained model dir as a classifier with its encoder loaded once: .predict(texts) gives one
    result per text (label, confidence, probabilities), .probabilities(texts) an array, and
    .features(texts) the pooled per-layer features."""
    from .evaluate.classifier import load as run

    batch_size = at_least(Option("batch_size", "int", 64, "").check(batch_size), 1, "batch_size")
    return run(path(model_dir, "model_dir"), batch_size=batch_size)


def sweep(cache, out, **options) -> dict:
    """Train many heads on one cache in parallel, resumable; DIR/best is the best model dir.

    Each head option (lr, batch_size, hidden, dropout, epochs, patience, seed, layers, pooling,
    layer_mix, standardize, ensemble, val_fraction, split_seed) is a list of values to try. Also:
    trials (sample N combinations), workers, evaluate_best (score only the best on test).
    """
    from .evaluate.scoring import evaluate as run_evaluate
    from .train.sweep import EVALUATE_BEST
    from .train.sweep import sweep as run

    cache, out = path(cache, "cache"), path(out, "out")
    command = options.pop("command", None) or api_call("sweep", {"cache": cache, "out": out, **options})
    evaluate_best = EVALUATE_BEST.check(options.pop("evaluate_best", False))
    result = run(cache, out, command=command, **options)
    if evaluate_best:
        result["test"] = run_evaluate(cache, result["best_model_dir"], split="test", command=command)
    return result


def export(model_dir, out, **options) -> dict:
    """One SavedModel from raw text to probabilities, for TF Serving. Options: overwrite."""
    from .evaluate.serving import export as run

    model_dir, out = path(model_dir, "model_dir"), path(out, "out")
    command = options.pop("command", None) or api_call("export", {"model_dir": model_dir, "out": out, **options})
    return run(model_dir, out, command=command, **options)


def import_encoder(src, out, **options) -> dict:
    """A Hugging Face BERT folder as TF Hub-style SavedModels OUT/encoder and OUT/preprocessor.

    Options: random (weights from config.json alone), seed, overwrite.
    """
    from .extract.encoders.saved_model import import_encoder as run

    src, out = path(src, "src"), path(out, "out")
    command = options.pop("command", None) or api_call("import_encoder", {"src": src, "out": out, **options})
    return run(src, out, command=command, **options)
