"""mlbert: frozen multi-layer BERT features, cached once, and a fast Keras head.

\b
    mlbert extract  --data SRC --out CACHE       stage one: encode once, write HDF5 shards
    mlbert train    --cache CACHE --model-dir M  stage two: train the head in seconds
    mlbert evaluate --cache CACHE --model-dir M  test accuracy, loss, P/R/F1, AUC
    mlbert probe    --cache CACHE                what each encoder layer holds (linear probes)
    mlbert predict  --model-dir M [TEXT ...]     score new reviews (stdin: one per line)
    mlbert sweep    --cache CACHE --out DIR      many heads in parallel, resumable
    mlbert export   --model-dir M --out DIR      one SavedModel: raw text -> probability
    mlbert check-cache CACHE                     verify every shard of a cache
    mlbert import-encoder SRC --out DIR          Hugging Face BERT -> TF Hub SavedModels

From a clone, `python cli.py ...` runs the same commands.
"""
if __name__ == "__main__" and not __package__:
    # `python cli.py` from a clone: load this folder as the package mlbert, then run its CLI.
    import importlib.util
    import pathlib
    import sys

    _root = pathlib.Path(__file__).resolve().parent
    _spec = importlib.util.spec_from_file_location("mlbert", _root / "__init__.py",
                                                   submodule_search_locations=[str(_root)])
    sys.modules["mlbert"] = _package = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_package)
    from mlbert.cli import main

    sys.exit(main())

import functools  # noqa: E402  (every import follows the clone bootstrap above)
import itertools  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402

# TensorFlow's C++ start-up chatter would bury the one line a user needs; results go to stdout.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import click  # noqa: E402

from . import evaluate as api_evaluate  # noqa: E402
from . import export as api_export  # noqa: E402
from . import extract as api_extract  # noqa: E402
from . import import_encoder as api_import_encoder  # noqa: E402
from . import load as api_load  # noqa: E402
from . import probe as api_probe  # noqa: E402
from . import sweep as api_sweep  # noqa: E402
from . import train as api_train  # noqa: E402
from .common.errors import BadInput  # noqa: E402
from .common.quiet_tensorflow import import_tensorflow_quietly  # noqa: E402
from .data.sources import DEFAULT_SOURCE  # noqa: E402
from .evaluate.options import EVALUATE, EXPORT  # noqa: E402
from .evaluate.probe import PROBE  # noqa: E402
from .extract.encoders.options import IMPORT  # noqa: E402
from .extract.pipeline.options import EXTRACT  # noqa: E402
from .train.config import options as head_options  # noqa: E402
from .train.sweep import EVALUATE_BEST, SWEEP  # noqa: E402


def declared(options):
    """The click options of declared options (common/options.py: Option), in their order."""
    def decorate(command):
        for option in reversed(options):
            command = click_option(option)(command)
        return command
    return decorate


def click_option(o):
    name = "--" + o.name.replace("_", "-")
    help_text = o.help + (f" [default: {o.default_text}]" if o.default_text else "")
    if o.kind == "bool":
        if o.default:  # on unless turned off
            return click.option(f"{name}/--no-{name[2:]}", default=True, show_default=True, help=help_text)
        return click.option(name, is_flag=True, default=False, help=help_text)
    if o.repeat:
        return click.option(name, multiple=True, help=help_text)
    kind = click.Choice(list(o.choices)) if o.choices else {"int": int, "float": float}.get(o.kind, str)
    return click.option(name, default=None if o.default is None else shown(o.default), type=kind,
                        show_default=o.default_text is None and o.default is not None, help=help_text)


def shown(value) -> str:
    """A default as the CLI spells it: tuples as comma lists."""
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value


def friendly(command):
    """Bad input: one line on stderr, exit 2, no traceback. Ctrl-C: say how to go on."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        # Options left unset reach the API unset, so the API's defaults apply (one place for each).
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        try:
            return command(*args, command_line=command_line(click.get_current_context()), **kwargs)
        except BadInput as e:
            one_line = " ".join(part.strip() for part in str(e).splitlines() if part.strip())
            click.echo(f"error: {one_line}", err=True)
            sys.exit(2)
        except KeyboardInterrupt as e:
            # A command that knows more (what is kept where) says it in the interrupt's message.
            said = str(e) or "finished work is kept; run the same command again to resume"
            click.echo(f"\ninterrupted: {said}", err=True)
            sys.exit(130)
    return wrapper


def command_line(ctx: click.Context) -> str:
    """The command line rebuilt from the options the user gave, for the artifacts' provenance."""
    root = ctx.find_root().info_name
    words = (["mlbert"] if root == "mlbert" else ["python", "cli.py"]) + [ctx.info_name]
    for param in ctx.command.params:
        if ctx.get_parameter_source(param.name) != click.core.ParameterSource.COMMANDLINE:
            continue
        value = ctx.params[param.name]
        if isinstance(param, click.Argument):
            words += [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
        elif param.is_flag:
            words.append(param.opts[0] if value else (param.secondary_opts or param.opts)[0])
        elif param.multiple:
            for item in value:
                words += [param.opts[0], ",".join(map(str, item)) if isinstance(item, (list, tuple)) else str(item)]
        else:
            words += [param.opts[0], shown(value) if isinstance(value, (list, tuple)) else str(value)]
    return shlex.join(words)


def json_safe(value):
    """JSON has no NaN or infinity: an undefined figure is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def emit(result, as_json: bool, text: str) -> None:
    click.echo(json.dumps(json_safe(result), indent=2, allow_nan=False) if as_json else text)


def per_class(counts: dict) -> str:
    """Reviews per class, as the text output shows them: '12500 neg, 12500 pos'."""
    return ", ".join(f"{n} {name}" for name, n in counts.items())


def figure(value, spec: str) -> str:
    """A metric for the text tables; n/a when it is undefined (None)."""
    return "n/a" if value is None else format(value, spec)


@click.group(help=__doc__)
def cli():
    import_tensorflow_quietly()


def main() -> int:
    """The `mlbert` console script."""
    return cli(prog_name="mlbert")


@cli.command(help="Stage one: run the frozen encoder once over the data and write pooled features "
                  "to HDF5 shards with a manifest.")
@click.option("--data", "data", default=DEFAULT_SOURCE, show_default=True,
              help="'tfds' (tfds.load('imdb_reviews')), an aclImdb_v1.tar.gz archive, an unpacked aclImdb/, "
                   "or your own reviews.csv / .jsonl / .parquet with text and label fields (any labels, 2 classes "
                   "or more) and an optional split field (train, validation or dev, test); or a corpus of such "
                   "files, a folder or a glob ('data/*.jsonl'), which workers read in slices (docs/beam.md).")
@click.option("--out", required=True, type=click.Path(), help="Cache folder (or URL) to write.")
@declared(EXTRACT)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@friendly
def extract(as_json, command_line, **options):
    summary = api_extract(command=command_line, **options)
    lines = [f"cache {summary['cache']}: {summary['dim']}-d features on {summary['device']} "
             f"({summary['precision']}, {summary['runtime']})"]
    for split, s in summary["splits"].items():
        speed = "already complete, kept" if s["skipped"] else f"{s['seconds']:.1f} s, {s['reviews_per_s']} reviews/s"
        lines.append(f"  {split}: {s['total']} reviews ({per_class(s['labels'])}) in {s['shards']} shards; {speed}")
    emit(summary, as_json, "\n".join(lines))


def describe_fusion(fusion: dict) -> str:
    """One line on how a fused model mixes its channels (train/fusion.py)."""
    if fusion.get("kind") == "stack":
        return (f"fused: stacked by a logistic regression on {fusion['folds']}-fold out-of-fold scores of "
                f"{fusion['rows']} training rows (their accuracy {fusion['oof_accuracy']:.4f})")
    return (f"fused: the head's share {fusion['weight']:.2f}, temperature {fusion['temperature']:.2f} "
            "(chosen on validation)")


@cli.command(help="Stage two: train the head on a cache's train split (validated on the cache's validation split, "
                  "or on rows carved from train).")
@click.option("--cache", required=True, type=click.Path())
@click.option("--model-dir", required=True, type=click.Path())
@declared(head_options())
@click.option("--refit-lexical", is_flag=True,
              help="Refit the lexical model alone on every training row (validation included), for the step "
                   "count chosen on validation; the head and the fusion weights stay as chosen.")
@click.option("--refit", is_flag=True,
              help="After early stopping picks the epoch count on validation, train a fresh head on every "
                   "training row (validation included) for that many epochs, and keep it.")
@click.option("--overwrite", is_flag=True, help="Replace a model dir of this tool.")
@click.option("--json", "as_json", is_flag=True)
@friendly
def train(as_json, command_line, refit_lexical=False, **options):
    if refit_lexical:
        if options.get("refit"):
            raise BadInput("--refit and --refit-lexical: --refit already refits every part; give one of them")
        options["refit"] = "lexical"
    r = api_train(command=command_line, verbose=0 if as_json else 2, **options)
    lines = [f"model {r['model_dir']} ({r['channel']}): validation accuracy {r['val_accuracy']:.4f}, "
             f"loss {r['val_loss']:.4f} on {r['val_size']} rows"]
    if r["best_epoch"] is not None:
        lines.append(f"head: best epoch {epochs_text(r['best_epoch'])} of {epochs_text(r['epochs_run'])}, "
                     f"{r['seconds_per_epoch']:.2f} s/epoch")
    if r["ensemble"]:
        seeds = r["ensemble"]["seeds"]
        lines.append(f"ensemble of {len(seeds)} heads (seeds {seeds[0]} to {seeds[-1]}); each alone: validation "
                     "accuracy " + ", ".join(f"{a:.4f}" for a in r["ensemble"]["member_val_accuracy"]))
    if r["lexical"]:
        x = r["lexical"]
        lines.append(f"lexical model: {x['vocab']} n-grams, best step {x['best_step']} of {x['steps_run']}, "
                     f"validation accuracy {x['val_accuracy']:.4f}, {x['seconds']:.1f} s")
    if r["fusion"]:
        lines.append(f"{describe_fusion(r['fusion'])}; the head alone {r['head_val_accuracy']:.4f}")
    if r["head_choice"] and r["channel"] != "lexical":
        c = r["head_choice"]
        lines.append(f"head: {c['chosen']} (--head auto: {c['training_rows_per_class']:g} training rows per class; "
                     f"{c['rule']})")
    if r["linear"]:
        lines.append(f"linear head: L2 {r['linear']['l2']:g} chosen on validation from "
                     + ", ".join(f"{v:g}" for v in r["linear"]["grid"])
                     + f" (L-BFGS, {r['linear']['iterations']} iterations, {r['linear']['seconds']:.1f} s in all)")
    if r["calibration"]:
        c = r["calibration"]
        lines.append(f"calibrated: temperature {c['temperature']:.3f} (fitted on validation); validation ECE "
                     f"{c['val_ece_raw']:.4f} -> {c['val_ece']:.4f}, log loss {c['val_log_loss_raw']:.4f} -> "
                     f"{c['val_log_loss']:.4f}")
    if r["refit"]:
        lines.append(f"refit ({r['refit']['parts']}) on all {r['refit']['rows']} training rows (the validation "
                     "figures are the selection "
                     "run's)")
    if r["layer_weights"]:
        lines.append("layer weights: " + ", ".join(f"layer {k}: {v:.3f}" for k, v in r["layer_weights"].items()))
    emit(r, as_json, "\n".join(lines))


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


def swept_options():
    """The sweep's options, one per head option it sweeps: each takes the values to try, with the
    head option's own help (train/config.py declares each once)."""
    from .train.sweep import SWEPT

    declared = {o.name: o for o in head_options()}
    lists = {"hidden": int, "dropout": float, "pooling": str}  # each value a list: repeat, or ';'

    def decorate(command):
        for name in reversed(SWEPT + ("split_seed", "val_fraction")):
            o, flag = declared[name], "--" + name.replace("_", "-")
            if name in lists:
                option = click.option(flag, multiple=True, callback=lists_of(lists[name]),
                                      help=f"{o.help} Lists to try: repeat the option or use ';'.")
            elif name == "layers":
                option = click.option(flag, multiple=True, help=f"{o.help} Repeat the option to try several.")
            else:
                kind = on_off if o.kind == "bool" else {"int": int, "float": float}.get(o.kind, str)
                example = "on,off" if o.kind == "bool" else ",".join(o.choices) if o.choices else "comma-separated"
                option = click.option(flag, callback=many(kind), help=f"{o.help} Values to try: {example}.")
            command = option(command)
        return command
    return decorate


def many(kind):
    """A comma list whose items are the values to sweep: '--lr 1e-3,5e-4'."""
    def parse(ctx, param, value):
        if value is None:
            return None
        try:
            values = [kind(v) for v in value.split(",") if v.strip()]
        except ValueError:
            raise click.BadParameter(f"'{value}' is not a comma-separated list of {kind.__name__}s")
        return values or None
    return parse


@cli.command(help="Grid or random search over the head's hyperparameters on one cache; trials run in "
                  "parallel, results sorted by validation accuracy, best model saved as DIR/best.")
@click.option("--cache", required=True, type=click.Path())
@click.option("--out", required=True, type=click.Path(), help="Sweep folder (resumable).")
@swept_options()
@declared(SWEEP + (EVALUATE_BEST,))
@click.option("--json", "as_json", is_flag=True)
@friendly
def sweep(as_json, command_line, **options):
    options = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in options.items()
               if v is not None and v != ()}
    r = api_sweep(command=command_line, **options)
    b, out = r["best"], options["out"]
    text = (f"sweep {out}: {r['trials']} trials ({r['ran']} run, {r['kept']} kept) in {r['seconds']:.1f} s\n"
            f"best: val_accuracy {b['val_accuracy']:.4f}, lr={b['lr']} batch_size={b['batch_size']} "
            f"hidden={shown(b['hidden'])} dropout={shown(b['dropout'])} "
            f"layers={b['layers']} pooling={shown(b['pooling'])} layer_mix={b['layer_mix']} "
            f"standardize={'on' if b['standardize'] else 'off'} ensemble={b['ensemble']} "
            f"channel={b.get('channel', 'bert')} -> {r['best_model_dir']}\n"
            f"results: {out}/results.csv, {out}/results.json, {out}/sweep.png")
    if "test" in r:
        text += f"\nbest on test: accuracy {100 * r['test']['accuracy']:.2f}%, loss {r['test']['loss']:.4f}"
    emit(r, as_json, text)


@cli.command(help="Test accuracy and loss (and precision, recall, F1, ROC AUC, confusion matrix).")
@click.option("--cache", required=True, type=click.Path())
@click.option("--model-dir", required=True, type=click.Path())
@declared(EVALUATE)
@click.option("--json", "as_json", is_flag=True)
@friendly
def evaluate(as_json, command_line, **options):
    r = api_evaluate(command=command_line, **options)
    emit(r, as_json, evaluation_text(r, options.get("plot")))


def evaluation_text(r: dict, plot) -> str:
    name = r["split"].capitalize()
    lines = ["| Metric | Value |", "|--------|-------|",
             f"| {name} Accuracy | {100 * r['accuracy']:.2f}% |", f"| {name} Loss | {r['loss']:.4f} |"]
    if len(r["labels"]) == 2:
        positive = r["labels"][1]
        lines += [f"| Precision ({positive}) | {r['precision']:.4f} |", f"| Recall ({positive}) | {r['recall']:.4f} |",
                  f"| F1 ({positive}) | {r['f1']:.4f} |"]
    auc = "ROC AUC" if len(r["labels"]) == 2 else "ROC AUC (one-vs-rest, macro)"
    lines += [f"| Macro F1 | {figure(r['macro_f1'], '.4f')} |", f"| Weighted F1 | {figure(r['weighted_f1'], '.4f')} |",
              f"| {auc} | {figure(r['auc'], '.4f')} |",
              f"| ECE ({r['ece_bins']} bins) | {figure(r['ece'], '.4f')} |",
              f"| Brier score | {figure(r['brier'], '.4f')} |",
              f"| Temperature | {figure(r['temperature'], '.3f') if r['temperature'] else 'none (raw)'} |",
              f"| Reviews | {r['n']} |", "",
              "| Class | Precision | Recall | F1 | Support |", "|-------|-----------|--------|----|---------|"]
    lines += [f"| {c} | {v['precision']:.4f} | {v['recall']:.4f} | {v['f1']:.4f} | {v['support']} |"
              for c, v in r["per_class"].items()]
    names, matrix = r["confusion"]["labels"], r["confusion"]["matrix"]
    width = max(8, *(len(n) for n in names))
    lines += ["", "Confusion matrix (rows: true, columns: predicted)",
              " " * (width + 2) + "  ".join(f"{n:>{width}}" for n in names)]
    lines += [f"  {n:<{width}}" + "  ".join(f"{v:>{width}d}" for v in row) for n, row in zip(names, matrix)]
    if plot:
        lines.append(f"figures: {', '.join(r['plots'])}")
    return "\n".join(lines)


@cli.command(help="How much of the task each encoder layer holds: validation accuracy (and macro F1) of a "
                  "logistic regression on each layer alone, each pooling, and everything together.")
@click.option("--cache", required=True, type=click.Path())
@declared(PROBE)
@click.option("--json", "as_json", is_flag=True)
@friendly
def probe(as_json, command_line, **options):
    from .evaluate.probe import table

    r = api_probe(command=command_line, **options)
    emit(r, as_json, table(r))


@cli.command(help="Label new reviews: TEXT arguments, or one review per line on stdin.")
@click.option("--model-dir", required=True, type=click.Path())
@click.argument("texts", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
@friendly
def predict(model_dir, texts, command_line, as_json=False):
    chunks = iter([list(texts)]) if texts else stdin_reviews()
    first = next(chunks, [])
    if not first:
        raise BadInput("predict: no reviews to score; give them as arguments, or one per line on stdin")
    classifier = api_load(model_dir)
    # Rows are written as each chunk is scored: memory holds one chunk, whatever the input's length.
    click.echo("[" if as_json else "| Review | Prediction | Confidence |\n|--------|------------|------------|")
    progress, done, started = None, 0, time.perf_counter()
    for chunk in itertools.chain([first], chunks):
        rows = classifier.predict(chunk)
        if as_json:
            click.echo(("," if done else "") + ",\n".join(
                textwrap.indent(json.dumps(json_safe(r), indent=2, allow_nan=False), "  ") for r in rows))
        else:
            for r in rows:
                text = cell(r["text"])
                text = text if len(text) <= 80 else text[:77] + "..."
                click.echo(f"| \"{text}\" | {cell(r['label'])} | {100 * r['confidence']:.2f}% |")
        done += len(rows)
        if progress is None and len(chunk) == PREDICT_CHUNK:  # a long input: progress on stderr
            from .common.progress import Progress

            progress = Progress("predict", 0)
            progress.start = started
        if progress is not None:
            progress.total = done + (PREDICT_CHUNK if len(chunk) == PREDICT_CHUNK else 0)
            progress.update(done)
    if progress is not None:
        progress.total = done
        progress.finish()
    if as_json:
        click.echo("]")


PREDICT_CHUNK = 1024  # reviews per call when the input is long: progress between calls
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def cell(text: str) -> str:
    """Text for one cell of the Markdown table: a bar or a line break would end the cell or the row."""
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return CONTROL.sub(lambda m: named.get(m.group(), f"\\x{ord(m.group()):02x}"), text)


def stdin_reviews():
    """Lists of at most PREDICT_CHUNK reviews, one per stdin line, read as they are needed and decoded
    as extract decodes files (invalid UTF-8 replaced, not fatal); blank lines are not reviews: they
    are skipped, and counted on stderr at the end."""
    from .data.sources.reviews import decode

    if sys.stdin.isatty():
        click.echo("predict: reading reviews from the terminal, one per line; end with Ctrl-D", err=True)
    chunk, blank = [], 0
    for raw in sys.stdin.buffer:
        line = decode(raw[:-1] if raw.endswith(b"\n") else raw)[0].rstrip("\r")
        if not line.strip():
            blank += 1
            continue
        chunk.append(line)
        if len(chunk) == PREDICT_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
    if blank:
        click.echo(f"predict: skipped {blank} blank line{'s' if blank > 1 else ''}", err=True)


@cli.command("check-cache", help="Verify every shard of a cache (present, readable, checksum, shapes, counts, "
                                 "no duplicate ids); exit 0 when sound, 2 otherwise.")
@click.argument("cache", type=click.Path())
@click.option("--json", "as_json", is_flag=True)
@friendly
def check_cache(cache, command_line, as_json=False):
    from .extract.cache.read import check_cache as run
    from .extract.cache.writer import replacement_note

    report = run(cache)
    note = replacement_note(cache)
    if note:
        click.echo(f"note: {note}", err=True)
    lines = []
    for row in report:
        state = "ok" if row["problem"] is None else f"BAD: {row['problem']}"
        lines.append(f"{row['split']}: {row['shards']} shards, {row['reviews']} reviews "
                     f"({per_class(row['labels'])}): {state}")
    emit(report, as_json, "\n".join(lines) or f"{cache}: no splits")
    if any(row["problem"] for row in report):
        sys.exit(2)


@cli.command(help="Export one SavedModel from raw review text to class probabilities and labels (TF Serving ready).")
@click.option("--model-dir", required=True, type=click.Path())
@click.option("--out", required=True, type=click.Path(), help="Folder for the SavedModel (new or empty).")
@declared(EXPORT)
@click.option("--json", "as_json", is_flag=True)
@friendly
def export(as_json, command_line, **options):
    r = api_export(command=command_line, **options)
    emit(r, as_json, f"wrote {r['serving_model']}: signature serving_default, input 'text' (string [batch]), "
                     f"outputs {', '.join(repr(o) for o in r['outputs'])}; classes {', '.join(r['labels'])}"
                     + (f"\nnote: {r['note']}" if r.get("note") else ""))


@cli.command("import-encoder", help="Import a Hugging Face BERT checkpoint folder as TF Hub-style "
                                    "SavedModels: DIR/encoder and DIR/preprocessor.")
@click.argument("src", type=click.Path())
@click.option("--out", required=True, type=click.Path(), help="Folder to write (new or empty).")
@declared(IMPORT)
@click.option("--json", "as_json", is_flag=True)
@friendly
def import_encoder(as_json, command_line, **options):
    r = api_import_encoder(command=command_line, **options)
    emit(r, as_json, f"wrote {r['encoder']} and {r['preprocessor']}: {r['layers']} layers x {r['hidden_size']}, "
                     f"{r['weights']} weights\nuse: mlbert extract --encoder {r['encoder']} "
                     f"--preprocessor {r['preprocessor']} ...")
