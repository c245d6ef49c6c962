"""multilayer-bert-sentiment: frozen multi-layer BERT features, cached once, and a fast Keras head.

\b
    python cli.py extract  --data SRC --out CACHE      stage one: encode once, write HDF5 shards
    python cli.py train    --cache CACHE --model-dir M stage two: train the head in seconds
    python cli.py evaluate --cache CACHE --model-dir M test accuracy, loss, P/R/F1, AUC
    python cli.py predict  --model-dir M [TEXT ...]    score new reviews (stdin: one per line)
    python cli.py sweep    --cache CACHE --out DIR     many heads in parallel, resumable
    python cli.py export   --model-dir M --out DIR     one SavedModel: raw text -> probability
    python cli.py check-cache CACHE                    verify every shard of a cache
    python cli.py import-encoder SRC --out DIR         Hugging Face BERT -> TF Hub SavedModels
"""
from __future__ import annotations

import functools
import json
import os
import shlex
import sys

# TensorFlow's C++ start-up chatter would bury the one line a user needs; results go to stdout.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import click  # noqa: E402

from data.errors import BadInput  # noqa: E402


def friendly(command):
    """Bad input: one line on stderr, exit 2, no traceback. Ctrl-C: say how to go on."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        record_command(click.get_current_context())
        try:
            return command(*args, **kwargs)
        except BadInput as e:
            one_line = " ".join(part.strip() for part in str(e).splitlines() if part.strip())
            click.echo(f"error: {one_line}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("\ninterrupted: finished work is kept; run the same command again to resume", err=True)
            sys.exit(130)
    return wrapper


def record_command(ctx: click.Context) -> None:
    """Rebuild the command line from the options the user gave, for the artifacts' provenance."""
    from extract.provenance import set_command

    words = ["python", "cli.py", ctx.info_name]
    for param in ctx.command.params:
        if ctx.get_parameter_source(param.name) != click.core.ParameterSource.COMMANDLINE:
            continue
        value = ctx.params[param.name]
        if isinstance(param, click.Argument):
            words += [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
        elif param.is_flag:
            words.append(param.opts[0])
        else:
            shown = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
            words += [param.opts[0], shown]
    set_command(shlex.join(words))


def comma_list(kind):
    def parse(ctx, param, value):
        if value is None:
            return None
        try:
            return tuple(kind(v) for v in value.split(",") if v.strip())
        except ValueError:
            raise click.BadParameter(f"'{value}' is not a comma-separated list of {kind.__name__}s")
    return parse


def emit(result, as_json: bool, text: str) -> None:
    click.echo(json.dumps(result, indent=2) if as_json else text)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with stderr muted: since TF 2.19 its C++ start-up lines (oneDNN, CUDA probing)
    come before logging is configured, so TF_CPP_MIN_LOG_LEVEL cannot silence them."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
        import tensorflow_text  # noqa: F401
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@click.group(help=__doc__)
def cli():
    import_tensorflow_quietly()


@cli.command(help="Stage one: run the frozen encoder once over the data and write pooled features "
                  "to HDF5 shards with a manifest.")
@click.option("--data", "data", default="tfds", show_default=True,
              help="'tfds' (tfds.load('imdb_reviews')), an aclImdb_v1.tar.gz archive, an unpacked aclImdb/, "
                   "or your own reviews.csv / reviews.jsonl with text and label (0/1 or neg/pos) fields.")
@click.option("--text-field", default="text", show_default=True, help="CSV/JSONL: the field holding the review.")
@click.option("--label-field", default="label", show_default=True, help="CSV/JSONL: the field holding the label.")
@click.option("--split-ratio", default=0.2, show_default=True, type=float,
              help="CSV/JSONL without a 'split' field: the share of rows (stratified, seeded) that is test.")
@click.option("--out", required=True, type=click.Path(), help="Cache folder to write.")
@click.option("--encoder", default=None, help="TF Hub handle or local SavedModel folder. [default: the seed's "
                                                "small_bert L-4/H-128/A-2]")
@click.option("--preprocessor", default=None, help="TF Hub handle or local SavedModel folder. "
                                                     "[default: bert_en_uncased_preprocess/3]")
@click.option("--splits", default="train,test", show_default=True, callback=comma_list(str))
@click.option("--seq-len", default=128, show_default=True, type=int, help="Tokens per sequence, [CLS]/[SEP] included.")
@click.option("--truncation", default="head", show_default=True,
              type=click.Choice(["head", "tail", "head+tail"]),
              help="Which tokens of a long review to keep (head+tail: first 128, rest from the end).")
@click.option("--windows", is_flag=True, help="Encode the whole review in windows of --seq-len and pool them.")
@click.option("--stride", default=None, type=int, help="Tokens between window starts. [default: half a window]")
@click.option("--pooling", default="mean", show_default=True, callback=comma_list(str),
              help="Poolings to store side by side: any of mean,max,cls.")
@click.option("--batch-size", default=32, show_default=True, type=int,
              help="Encoder batch: about N x 128 tokens per call (N sequences of 128 tokens; more "
                   "sequences when shorter, fewer when longer).")
@click.option("--limit", default=None, type=int, help="First N reviews per split (seeded order, balanced).")
@click.option("--shard-size", default=4000, show_default=True, type=int, help="Reviews per HDF5 shard.")
@click.option("--runner", default="local", show_default=True, type=click.Choice(["local", "beam"]),
              help="beam: run stage one as an Apache Beam pipeline (pip install '.[beam]').")
@click.option("--beam-option", "beam_options", multiple=True,
              help="Beam pipeline option KEY=VALUE, repeatable, e.g. runner=DataflowRunner.")
@click.option("--overwrite", is_flag=True, help="Replace a cache in --out made with other settings.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@friendly
def extract(data, text_field, label_field, split_ratio, out, encoder, preprocessor, splits, seq_len, truncation,
            windows, stride, pooling, batch_size, limit, shard_size, runner, beam_options, overwrite, as_json):
    from data.sources import TableOptions
    from extract.encoders import DEFAULT_ENCODER, DEFAULT_PREPROCESSOR
    from extract.features import FeatureSettings
    from extract.run import run_extract

    for split in splits:
        if split not in ("train", "test"):
            raise BadInput(f"--splits {','.join(splits)}: unknown split '{split}'; use train and/or test")
    settings = FeatureSettings(seq_len=seq_len, truncation=truncation, windows=windows, stride=stride,
                               poolings=tuple(pooling))
    summary = run_extract(data, out, encoder or DEFAULT_ENCODER, preprocessor or DEFAULT_PREPROCESSOR,
                          list(splits), settings, batch_size=batch_size, limit=limit, overwrite=overwrite,
                          shard_size=shard_size, table=TableOptions(text_field, label_field, split_ratio),
                          runner=runner, beam_options=tuple(beam_options))
    lines = [f"cache {summary['cache']}: {summary['dim']}-d features on {summary['device']}"]
    for split, s in summary["splits"].items():
        speed = "already complete, kept" if s["skipped"] else f"{s['seconds']:.1f} s, {s['reviews_per_s']} reviews/s"
        lines.append(f"  {split}: {s['total']} reviews ({s['pos']} pos, {s['neg']} neg) in {s['shards']} "
                     f"shards; {speed}")
    emit(summary, as_json, "\n".join(lines))


@cli.command(help="Stage two: train the head on a cache's train split (validation carved from it).")
@click.option("--cache", required=True, type=click.Path())
@click.option("--model-dir", required=True, type=click.Path())
@click.option("--lr", default=5e-4, show_default=True, type=float)
@click.option("--batch-size", default=64, show_default=True, type=int)
@click.option("--epochs", default=20, show_default=True, type=int)
@click.option("--patience", default=2, show_default=True, type=int, help="Epochs without a better validation accuracy.")
@click.option("--hidden", default="256,128,64", show_default=True, callback=comma_list(int))
@click.option("--dropout", default="0.4,0.3,0.2", show_default=True, callback=comma_list(float))
@click.option("--val-fraction", default=0.2, show_default=True, type=float)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--layers", default="all", show_default=True, help="all, last, or layer numbers like 0,3.")
@click.option("--pooling", default=None, callback=comma_list(str),
              help="Stored poolings to use, e.g. mean or mean,max. [default: the cache's first]")
@click.option("--layer-mix", default="concat", show_default=True, type=click.Choice(["concat", "mean", "learned"]),
              help="Concatenate the layers, average them, or learn one softmax weight per layer (ELMo's scalar mix).")
@click.option("--standardize/--no-standardize", default=True, show_default=True,
              help="Scale each feature to zero mean, unit variance (training rows' statistics, kept in the "
                   "model); --no-standardize feeds raw features, as the seed did.")
@click.option("--ensemble", default=1, show_default=True, type=int,
              help="Train N heads (seeds --seed, --seed + 1, ...) and keep the mean of their probabilities "
                   "as one model.")
@click.option("--refit", is_flag=True,
              help="After early stopping picks the epoch count on validation, train a fresh head on every "
                   "training row (validation included) for that many epochs, and keep it.")
@click.option("--overwrite", is_flag=True, help="Replace an existing model dir.")
@click.option("--json", "as_json", is_flag=True)
@friendly
def train(cache, model_dir, lr, batch_size, epochs, patience, hidden, dropout, val_fraction, seed, layers,
          pooling, layer_mix, standardize, ensemble, refit, overwrite, as_json):
    from extract.cache import read_manifest
    from train.fit import HeadConfig, run_train

    pooling = pooling or tuple(read_manifest(cache)["features"]["poolings"][:1])
    cfg = HeadConfig(lr=lr, batch_size=batch_size, epochs=epochs, patience=patience, hidden=hidden,
                     dropout=dropout, val_fraction=val_fraction, seed=seed, layers=layers, pooling=pooling,
                     layer_mix=layer_mix, standardize=standardize, ensemble=ensemble)
    r = run_train(cache, model_dir, cfg, overwrite=overwrite, verbose=0 if as_json else 2, refit=refit)
    text = (f"model {r['model_dir']}: best epoch {epochs_text(r['best_epoch'])} of {epochs_text(r['epochs_run'])}, "
            f"validation accuracy {r['val_accuracy']:.4f}, loss {r['val_loss']:.4f}, "
            f"{r['seconds_per_epoch']:.2f} s/epoch")
    if r["ensemble"]:
        text += (f"\nensemble of {ensemble} heads (seeds {seed} to {seed + ensemble - 1}); each alone: "
                 "validation accuracy " + ", ".join(f"{a:.4f}" for a in r["ensemble"]["member_val_accuracy"]))
    if r["refit"]:
        text += (f"\nrefit on all {r['refit']['rows']} training rows for {epochs_text(r['refit']['epochs'])} epochs "
                 "(the validation figures are the selection run's)")
    if r["layer_weights"]:
        text += "\nlayer weights: " + ", ".join(f"layer {k}: {v:.3f}" for k, v in r["layer_weights"].items())
    emit(r, as_json, text)


def epochs_text(value) -> str:
    """An epoch count, or one per head of an ensemble."""
    return "/".join(map(str, value)) if isinstance(value, list) else str(value)


def lists_of(kind):
    """A repeatable option whose values are comma lists; ';' also separates lists: '256,128;512'."""
    def parse(ctx, param, values):
        out = []
        for value in values or ():
            for part in value.split(";"):
                if part.strip():
                    try:
                        out.append(tuple(kind(v) for v in part.split(",") if v.strip()))
                    except ValueError:
                        raise click.BadParameter(f"'{part}' is not a comma-separated list of {kind.__name__}s")
        return out or None
    return parse


def on_off(value: str) -> bool:
    if value.strip().lower() not in ("on", "off"):
        raise ValueError(value)
    return value.strip().lower() == "on"


on_off.__name__ = "on/off value"


def many(kind):
    """A comma list whose items are the values to sweep: '--lr 1e-3,5e-4'."""
    parse_list = comma_list(kind)

    def parse(ctx, param, value):
        values = parse_list(ctx, param, value)
        return list(values) if values else None
    return parse


@cli.command(help="Grid or random search over the head's hyperparameters on one cache; trials run in "
                  "parallel, results sorted by validation accuracy, best model saved as DIR/best.")
@click.option("--cache", required=True, type=click.Path())
@click.option("--out", required=True, type=click.Path(), help="Sweep folder (resumable).")
@click.option("--lr", callback=many(float), help="e.g. 1e-3,5e-4,1e-4")
@click.option("--batch-size", callback=many(int), help="e.g. 32,64,128")
@click.option("--hidden", multiple=True, callback=lists_of(int), help="Layer sizes; repeat or use ';': 256,128,64;512,256")
@click.option("--dropout", multiple=True, callback=lists_of(float),
              help="Rates per layer, or one rate for all; repeat or use ';'.")
@click.option("--epochs", callback=many(int))
@click.option("--patience", callback=many(int))
@click.option("--seed", callback=many(int), help="Head seeds to sweep; the first also seeds --trials sampling.")
@click.option("--layers", multiple=True, help="Layer choices to sweep: all, last, 0,3 (repeat the option).")
@click.option("--pooling", multiple=True, callback=lists_of(str), help="Pooling choices (repeat): mean, mean,max.")
@click.option("--layer-mix", callback=many(str), help="Layer mixes to sweep: concat,mean,learned.")
@click.option("--standardize", callback=many(on_off), help="Feature standardisation to sweep: on,off.")
@click.option("--ensemble", callback=many(int), help="Heads averaged per trial, e.g. 1,5.")
@click.option("--trials", type=int, default=None, help="Sample N configurations instead of the full grid.")
@click.option("--workers", type=int, default=None, help="Parallel trials. [default: one per core]")
@click.option("--evaluate-best", is_flag=True, help="Evaluate only the best model on the test split.")
@click.option("--json", "as_json", is_flag=True)
@friendly
def sweep(cache, out, lr, batch_size, hidden, dropout, epochs, patience, seed, layers, pooling, layer_mix,
          standardize, ensemble, trials, workers, evaluate_best, as_json):
    from train.sweep import grid_from_options, run_sweep

    if trials is not None and trials < 1:
        raise BadInput(f"--trials {trials}: must be at least 1")
    grid = grid_from_options(lr=lr, batch_size=batch_size, hidden=hidden, dropout=dropout, epochs=epochs,
                             patience=patience, seed=seed, layers=list(layers) or None, pooling=pooling,
                             layer_mix=layer_mix, standardize=standardize, ensemble=ensemble)
    r = run_sweep(cache, out, grid, trials=trials, seed=(seed or [0])[0], workers=workers)
    b = r["best"]
    text = (f"sweep {out}: {r['trials']} trials ({r['ran']} run, {r['kept']} kept) in {r['seconds']:.1f} s\n"
            f"best: val_accuracy {b['val_accuracy']:.4f}, lr={b['lr']} batch_size={b['batch_size']} "
            f"hidden={','.join(map(str, b['hidden']))} dropout={','.join(map(str, b['dropout']))} "
            f"layers={b['layers']} pooling={','.join(b['pooling'])} layer_mix={b['layer_mix']} "
            f"standardize={'on' if b['standardize'] else 'off'} ensemble={b['ensemble']} "
            f"-> {r['best_model_dir']}\n"
            f"results: {out}/results.csv, {out}/results.json, {out}/sweep.png")
    if evaluate_best:
        from evaluate.scoring import run_evaluate

        r["test"] = run_evaluate(cache, r["best_model_dir"], "test")
        text += f"\nbest on test: accuracy {100 * r['test']['accuracy']:.2f}%, loss {r['test']['loss']:.4f}"
    emit(r, as_json, text)


@cli.command(help="Test accuracy and loss (and precision, recall, F1, ROC AUC, confusion matrix).")
@click.option("--cache", required=True, type=click.Path())
@click.option("--model-dir", required=True, type=click.Path())
@click.option("--split", default="test", show_default=True)
@click.option("--plot", "plot_dir", type=click.Path(), default=None,
              help="Write learning_curves.png, confusion_matrix.png and roc_curve.png to this folder.")
@click.option("--json", "as_json", is_flag=True)
@friendly
def evaluate(cache, model_dir, split, plot_dir, as_json):
    from evaluate.scoring import run_evaluate

    r = run_evaluate(cache, model_dir, split, plot_dir)
    cm = r["confusion_matrix"]
    name = split.capitalize()
    text = "\n".join([
        "| Metric | Value |", "|--------|-------|",
        f"| {name} Accuracy | {100 * r['accuracy']:.2f}% |", f"| {name} Loss | {r['loss']:.4f} |",
        f"| Precision | {r['precision']:.4f} |", f"| Recall | {r['recall']:.4f} |", f"| F1 | {r['f1']:.4f} |",
        f"| ROC AUC | {r['auc']:.4f} |", f"| Reviews | {r['n']} |", "",
        "Confusion matrix (rows: true, columns: predicted)",
        "            negative  positive", f"  negative  {cm['tn']:8d}  {cm['fp']:8d}",
        f"  positive  {cm['fn']:8d}  {cm['tp']:8d}",
    ] + ([f"figures: {', '.join(r['plots'])}"] if plot_dir else []))
    emit(r, as_json, text)


@cli.command(help="Label new reviews: TEXT arguments, or one review per line on stdin.")
@click.option("--model-dir", required=True, type=click.Path())
@click.argument("texts", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
@friendly
def predict(model_dir, texts, as_json):
    from evaluate.scoring import run_predict

    if not texts:
        texts = [line.rstrip("\n") for line in sys.stdin]
    rows = run_predict(model_dir, list(texts))
    table = ["| Review | Prediction | Confidence |", "|--------|------------|------------|"]
    for r in rows:
        shown = r["text"] if len(r["text"]) <= 80 else r["text"][:77] + "..."
        table.append(f"| \"{shown}\" | {r['label']} | {100 * r['confidence']:.2f}% |")
    emit(rows, as_json, "\n".join(table))


@cli.command("check-cache", help="Verify every shard of a cache (present, readable, checksum, shapes, counts, "
                                 "no duplicate ids); exit 0 when sound, 2 otherwise.")
@click.argument("cache", type=click.Path())
@click.option("--json", "as_json", is_flag=True)
@friendly
def check_cache_command(cache, as_json):
    from extract.cache import check_cache

    report = check_cache(cache)
    lines = []
    for row in report:
        state = "ok" if row["problem"] is None else f"BAD: {row['problem']}"
        lines.append(f"{row['split']}: {row['shards']} shards, {row['reviews']} reviews "
                     f"({row['pos']} pos, {row['neg']} neg): {state}")
    emit(report, as_json, "\n".join(lines) or f"{cache}: no splits")
    if any(row["problem"] for row in report):
        sys.exit(2)


@cli.command(help="Export one SavedModel from raw review text to the positive probability (TF Serving ready).")
@click.option("--model-dir", required=True, type=click.Path())
@click.option("--out", required=True, type=click.Path(), help="New folder for the SavedModel.")
@click.option("--json", "as_json", is_flag=True)
@friendly
def export(model_dir, out, as_json):
    from evaluate.serving import run_export

    r = run_export(model_dir, out)
    emit(r, as_json, f"wrote {r['serving_model']}: signature serving_default, input 'text' (string [batch]), "
                     f"output 'positive_probability' (float32 [batch])")


@cli.command("import-encoder", help="Import a Hugging Face BERT checkpoint folder as TF Hub-style "
                                    "SavedModels: DIR/encoder and DIR/preprocessor.")
@click.argument("src", type=click.Path())
@click.option("--out", required=True, type=click.Path())
@click.option("--random", "random_", is_flag=True, help="Random weights from config.json alone (a control).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of --random weights.")
@click.option("--json", "as_json", is_flag=True)
@friendly
def import_encoder(src, out, random_, seed, as_json):
    from extract.encoder_export import save_encoder_pair
    from extract.hf_import import read_checkpoint
    from extract.provenance import now, versions

    config, weights, vocab, lower_case = read_checkpoint(src, random=random_, seed=seed)
    provenance = {"source": os.path.abspath(src), "weights": f"random (seed {seed})" if random_ else "pretrained",
                  "created": now(), "versions": versions()}
    save_encoder_pair(config, weights, vocab, lower_case, out, provenance)
    r = {"encoder": os.path.join(out, "encoder"), "preprocessor": os.path.join(out, "preprocessor"),
         "layers": config.num_hidden_layers, "hidden_size": config.hidden_size,
         "weights": provenance["weights"], "lower_case": lower_case}
    emit(r, as_json, f"wrote {r['encoder']} and {r['preprocessor']}: {r['layers']} layers x {r['hidden_size']}, "
                     f"{r['weights']} weights\nuse: python cli.py extract --encoder {r['encoder']} "
                     f"--preprocessor {r['preprocessor']} ...")


if __name__ == "__main__":
    cli()
