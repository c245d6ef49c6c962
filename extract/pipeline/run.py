"""`extract`: read a dataset, encode it once, write the feature cache shard by shard.

The request's options are checked first, then --out (cache/writer.py), then the models, and only
then is anything written. A cache folder is resumable: finished shards whose checksum matches the
manifest are kept, so running the same command again after an interruption redoes only what is
missing.
"""
from __future__ import annotations

import contextlib
import dataclasses
import errno
import sys
import tempfile

from ...common.errors import BadInput
from ...common.options import as_list, at_least, described, parse, path
from ...common.provenance import api_call
from ...data.sources import Records, TableOptions, as_source, describe, is_corpus, location, read_source
from ...data.sources.corpus import plan_corpus
from ...data.sources.labels import untrained_classes
from ..cache import encoder_ir
from ..cache import manifest as cache_manifest
from ..cache import writer
from ..encoders import handles
from ..features.settings import TOKEN, FeatureSettings
from ..int8 import recipe
from .options import EXTRACT, SPLITS
from .plan import plan_units
from .units import read_unit, units_of_corpus, units_of_reviews

ORDER_SEED = 0


@dataclasses.dataclass(frozen=True)
class ExtractRequest:
    """One extract run, its options checked."""
    data: str | Records  # a path, a folder or glob of files, or 'tfds'; or rows from memory
    out: str
    encoder: str
    preprocessor: str
    settings: FeatureSettings
    table: TableOptions
    splits: tuple[str, ...] | None  # None: every split the data has
    limit: int | None
    batch_size: int
    shard_size: int
    runner: str
    beam_options: tuple[str, ...]
    overwrite: bool
    command: str

    def fields(self, data: dict) -> dict:
        """Everything that shapes the cache's contents: its fingerprint is a digest of these.
        data: what describes the data's content (data/sources)."""
        return {"encoder": handles.identity(self.encoder), "preprocessor": handles.identity(self.preprocessor),
                "settings": self.settings.to_dict(), "data": data, "limit": self.limit,
                "order_seed": ORDER_SEED, "shard_size": self.shard_size}


@dataclasses.dataclass
class Work:
    """What a run encodes: the data's description, classes and counts per split, and the units of
    work (units.py) that write the shards."""
    data: dict
    classes: tuple[str, ...]
    counts: dict[str, dict]
    units: list[dict]

    def probe(self) -> list[str]:
        """A few texts for the models' first batch: the first unit's."""
        for unit in self.units:
            texts = [t for _, part, _ in read_unit(unit).values() for t in part]
            if texts:
                return texts[:8]
        return []


def plan_work(request: ExtractRequest) -> Work:
    """Read (a file, an archive, tfds, rows from memory) or plan (a corpus of files) the data."""
    table, splits = request.table, list(request.splits) if request.splits else None
    if isinstance(request.data, str) and is_corpus(request.data):
        corpus = plan_corpus(request.data, splits, request.shard_size, request.limit, table.text_field,
                             table.label_field, table.split_ratio, table.labels, ORDER_SEED)
        units = units_of_corpus(corpus, table.text_field, table.label_field, table.split_ratio, ORDER_SEED)
        return Work(corpus.describe(table.fingerprint()), corpus.classes,
                    {split: corpus.counts(split) for split in corpus.splits()}, units)
    reviews = read_source(request.data, splits, seed=ORDER_SEED, limit=request.limit, table=table)
    return Work(describe(request.data, table), next(iter(reviews.values())).classes,
                {split: r.counts() for split, r in reviews.items()}, units_of_reviews(reviews, request.shard_size))


def extract(data, out, command: str | None = None, **options) -> dict:
    """Run the frozen encoder once over `data` and write pooled per-layer features to the cache `out`.
    Returns the summary `mlbert extract --json` prints.

    data: 'tfds', an aclImdb_v1.tar.gz archive or unpacked aclImdb/ folder, a table file (.csv,
    .tsv, .jsonl, .json, also gzipped; .parquet), a corpus of table files (a folder or a glob, read
    in slices by the workers: docs/beam.md), or rows from memory (a list of dicts, a dict of columns, a
    pandas DataFrame). Options (name (default): meaning):
"""
    data = as_source(data)
    command = command or api_call("extract", {"data": str(data), "out": out})
    o = parse(EXTRACT, options, "extract")
    splits = o["splits"]
    if splits is not None:
        splits = as_list(splits, str, "splits")
        if not splits:
            raise BadInput("--splits: name at least one split, e.g. train,test (or leave it out: every split)")
        for split in splits:
            if split not in SPLITS:
                raise BadInput(f"--splits {','.join(splits)}: unknown split '{split}'; use {', '.join(SPLITS)}")
    settings = FeatureSettings(seq_len=o["seq_len"], truncation=o["truncation"], windows=o["windows"],
                               stride=o["stride"], poolings=as_list(o["pooling"], str, "pooling"), ngrams=o["ngrams"],
                               precision=o["precision"], runtime=o["runtime"], feature_dtype=o["feature_dtype"],
                               segments=o["segments"], tokens=o["tokens"])
    settings.validate()
    if o["limit"] is not None:
        at_least(o["limit"], 1, "limit")
    at_least(o["batch_size"], 1, "batch_size")
    at_least(o["shard_size"], 1, "shard_size")
    if o["runner"] == "beam" and settings.runtime_name != "tensorflow":
        raise BadInput(f"--precision {settings.precision}: runs with --runner local only; the Beam runner "
                       "encodes in fp32 on TensorFlow (drop --precision and --runtime, or --runner)")
    labels = as_list(o["labels"], str, "labels") or None
    table = TableOptions(o["text_field"], o["label_field"], o["split_ratio"], labels)
    beam_options = (o["beam_option"],) if isinstance(o["beam_option"], str) else tuple(o["beam_option"])
    request = ExtractRequest(data, path(out, "out"), str(o["encoder"]), str(o["preprocessor"]), settings, table, splits,
                             o["limit"], o["batch_size"], o["shard_size"], o["runner"], beam_options, o["overwrite"],
                             command)
    return run(request)


extract.__doc__ += described(EXTRACT) + "\n"


def run(request: ExtractRequest) -> dict:
    work = plan_work(request)
    fields = request.fields(work.data)
    unseen = untrained_classes({split: counts["labels"] for split, counts in work.counts.items()})
    if unseen:
        print(f"extract: warning: {unseen}", file=sys.stderr, flush=True)
    folder = writer.create(request.out)
    try:
        with writer.lock(request.out):
            folder = writer.inspect(folder, fields, request.overwrite, list(work.classes))
            with writer.lock(folder.out) if folder.target else contextlib.nullcontext():
                return _run_locked(request, folder, fields, work)
    except BadInput:
        writer.leave_no_trace(folder)
        raise
    except KeyboardInterrupt:
        if folder.target:
            raise KeyboardInterrupt(f"{_kept(folder)}: run the same command again to resume it, or remove "
                                    f"{folder.out} to give up")
        raise
    except OSError as e:
        where = e.filename or folder.out
        kept = f"; {_kept(folder)}" if folder.target else " (finished shards are kept)"
        raise BadInput(f"{where}: cannot write ({e.strerror or e}); {_advice(e)}, then run the same command "
                       f"again{kept}")


def _advice(e: OSError) -> str:
    """What to do about a write that failed, by its cause."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "free disk space or choose another --out"
    if e.errno == errno.ENOENT:
        return "its folder is gone (was --out moved or removed while extract ran?); check --out"
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "check that you may write to --out, or choose another"
    return "check --out and the disk"


def _kept(folder: writer.OutFolder) -> str:
    return (f"{folder.target} is untouched and is still the cache train reads; the replacement's finished "
            f"shards are kept in {folder.out}")


def _run_locked(request: ExtractRequest, folder: writer.OutFolder, fields: dict, work: Work) -> dict:
    import tensorflow as tf

    # A replacement is written beside the cache it replaces (folder.out) and swapped in at the end.
    out, resume = folder.out, folder.resume
    request = dataclasses.replace(request, out=out)
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    if resume:
        plans, todo = plan_units(out, work.units, work.counts, resume)
        if not todo:
            # Everything asked for is there and sound: no model to load, nothing to rewrite.
            return _finish(folder, resume, plans, device, request.runner)
    if request.runner == "beam":
        from .beam import beam_session

        with beam_session(request) as run_beam:  # a Dask cluster gets ready while the driver checks the models
            return _encode(request, folder, fields, work, device, run_beam)
    return _encode(request, folder, fields, work, device, None)


def _encode(request: ExtractRequest, folder: writer.OutFolder, fields: dict, work: Work, device: str,
            run_beam) -> dict:
    """The models checked, the manifest written, the units still to do encoded (run_beam: beam_session's
    run; None: here), the splits completed."""
    out, resume = folder.out, folder.resume
    from .models import checked_featurizer

    with tempfile.TemporaryDirectory(prefix="mlbert-encoder-") as scratch:
        featurizer = checked_featurizer(request, fields, work.probe(), resume, scratch)
        # Only now, with the models loaded and a first batch encoded, is an earlier replacement given up.
        writer.clear_for_new_run(folder)
        encoder_files = encoder_ir.store(out, scratch) if request.settings.precision == "int8" and not resume else {}
    manifest = resume or writer.new_manifest(fields, _features(request, fields, featurizer, encoder_files),
                                             {**fields["data"], "path": location(request.data)}, list(work.classes))
    if folder.target:
        manifest["replaces"] = folder.target  # check-cache says which folder is which
    writer.stamp(manifest, request.command, device)
    plans, todo = plan_units(out, work.units, work.counts, manifest)
    writer.write(out, manifest)
    if run_beam:
        run_beam(out, plans, todo, manifest)
    else:
        from .local import deferred_interrupt, encode_units

        with deferred_interrupt() as interrupted:
            encode_units(out, plans, todo, featurizer, manifest, interrupted)
    for plan in plans:
        writer.complete(plan.entry, plan.seconds if plan.todo_rows else None)
    writer.write(out, manifest)
    return _finish(folder, manifest, plans, device, request.runner)


def _finish(folder: writer.OutFolder, manifest: dict, plans, device: str, runner: str) -> dict:
    """A complete replacement swapped in; the summary."""
    if folder.target:
        writer.swap_in(folder, manifest)
    return _summary(folder.target or folder.out, manifest, plans, device, runner)


def _features(request: ExtractRequest, fields: dict, featurizer, encoder_files: dict) -> dict:
    """What the manifest says the features are: the settings, the shape, the runtime that made them."""
    settings = request.settings
    runtime = featurizer.describe_runtime()
    if settings.precision == "int8":
        runtime["calibration"] = recipe.record()
    return {
        "encoder": fields["encoder"]["handle"], "preprocessor": fields["preprocessor"]["handle"],
        **settings.to_dict(), "num_layers": featurizer.num_layers, "hidden_size": featurizer.hidden_size,
        "dim": featurizer.num_layers * featurizer.hidden_size,
        "layout": "layer-major: columns [l*hidden_size, (l+1)*hidden_size) are layer l",
        "datasets": {p: cache_manifest.dataset_name(p, settings.poolings[0]) for p in settings.poolings},
        **({"segment_datasets": {p: cache_manifest.segment_dataset_name(p) for p in settings.poolings},
            "segment_layout": "segment_counts [n]: each review's windows; segment_<pooling> [sum of counts, dim]: "
                              "their features, review after review, windows in reading order"}
           if settings.segments else {}),
        **({"segment_datasets": {TOKEN: cache_manifest.segment_dataset_name(TOKEN)},
            "segment_layout": "segment_counts [n]: each review's tokens ([CLS] and [SEP] of every sequence "
                              "included); segment_token [sum of counts, dim]: their features, review after review, "
                              "tokens in reading order"}
           if settings.tokens else {}),
        "runtime": runtime, **({"encoder_ir": encoder_files} if encoder_files else {}),
    }


def _summary(out, manifest, plans, device, runner) -> dict:
    splits = {}
    for plan in plans:
        encoded = plan.todo_rows
        counts = plan.entry["counts"]
        splits[plan.split] = {
            "total": counts["total"], "labels": cache_manifest.label_counts_of(counts),
            "replaced_utf8": counts.get("replaced_utf8", 0), "empty": counts.get("empty", 0),
            "shards": plan.count, "seconds": round(plan.seconds, 2),
            "reviews_per_s": round(encoded / plan.seconds, 2) if encoded and plan.seconds > 0 else None,
            "skipped": not plan.todo_rows}
    features = manifest["features"]
    return {"cache": out, "device": device, "dim": features["dim"], "runner": runner,
            "precision": features.get("precision", "fp32"),
            "runtime": features.get("runtime", {}).get("name", "tensorflow"),
            "labels": cache_manifest.labels_of(manifest), "splits": splits}

