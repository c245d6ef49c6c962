"""`extract`: read a dataset, encode it once, write the feature cache shard by shard.

A cache folder is resumable: finished shards whose checksum matches the manifest are kept, so
running the same command again after an interruption redoes only what is missing.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

from ...common import storage
from ...common.errors import BadInput
from ...common.options import as_list, at_least
from ...common.progress import Progress
from ...common.provenance import api_call, machine, now, versions
from ...data.sources import TableOptions, describe, location, read_source
from ..cache import encoder_ir
from ..cache import manifest as cache_manifest
from ..encoders import handles, int8_store, runtime
from ..features.settings import FeatureSettings
from .plan import SplitPlan, plan_split, shard_attrs

ORDER_SEED = 0
LOCK = ".lock"
SPLITS = ("train", "validation", "test")
RUNNERS = ("local", "beam")


@contextlib.contextmanager
def deferred_interrupt():
    """Ctrl-C only sets a flag, checked by the encoding loop between batches.

    A KeyboardInterrupt raised in the middle of TensorFlow's work can be swallowed by its runtime (it
    was, when a Python generator fed tf.data, and the run then ended as if complete); deferring it
    keeps the interrupt and the data intact.
    """
    hit = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield hit.is_set
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: hit.set())
    try:
        yield hit.is_set
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def cache_lock(out: str):
    """Hold an exclusive lock on a local cache folder for the whole extraction.

    flock is released by the kernel when its holder dies, so a lock left by a killed extract is
    stale by construction and simply taken over. Object stores have no such lock; there, as with
    any shared bucket, one extract per --out is the user's to ensure.
    """
    if storage.is_url(out):
        yield
        return
    path = os.path.join(out, LOCK)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise BadInput(f"--out {out}: another extract (pid {holder}) is writing this cache; wait for it "
                           "to finish or stop it, then run this command again")
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def _entries(out: str) -> list[str]:
    """Names in a cache folder, leaving out our lock and temporary files."""
    return [name for name in storage.listdir(out) if name != LOCK and ".tmp-" not in name]


def _prepare_out(out: str, fields: dict, overwrite: bool) -> tuple[dict | None, dict | None]:
    """Check --out before any expensive work.

    Returns (manifest to resume into, manifest of a cache to replace); either may be None.
    """
    entries = _entries(out)  # one listing: on an object store each is a request
    if not entries:
        return None, None
    if cache_manifest.MANIFEST not in entries:
        raise BadInput(f"--out {out}: folder is not empty and holds no feature cache; "
                       "choose a new or empty folder (nothing there was touched)")
    manifest = cache_manifest.read_manifest(out)
    old = manifest.get("fingerprint_fields", {})
    if old == fields:
        return manifest, None
    if not overwrite:
        raise BadInput(f"--out {out}: holds a cache made with other settings "
                       f"({', '.join(cache_manifest.differences(old, fields))} differ); pass --overwrite to "
                       "replace it, or choose another --out")
    return None, manifest


def _remove_cache_files(out: str, manifest: dict) -> None:
    """Delete the shards and manifest a cache lists, and nothing else in the folder."""
    for entry in manifest.get("splits", {}).values():
        for shard in entry.get("shards", []):
            storage.delete(storage.join(out, shard["file"]))
    for name in encoder_ir.recorded(manifest):
        storage.delete(storage.join(out, name))
    storage.delete(storage.join(out, cache_manifest.MANIFEST))


def extract(data, out, *, encoder: str = handles.DEFAULT_ENCODER, preprocessor: str = handles.DEFAULT_PREPROCESSOR,
            splits=None, labels=None, seq_len: int = FeatureSettings.seq_len,
            truncation: str = FeatureSettings.truncation, windows: bool = FeatureSettings.windows,
            stride: int | None = FeatureSettings.stride, pooling=FeatureSettings.poolings,
            ngrams: int = FeatureSettings.ngrams, precision: str = FeatureSettings.precision,
            batch_size: int = 32, limit: int | None = None,
            shard_size: int = 4000, text_field: str = TableOptions.text_field,
            label_field: str = TableOptions.label_field, split_ratio: float = TableOptions.split_ratio,
            runner: str = "local", beam_option=(), overwrite: bool = False, command: str | None = None) -> dict:
    """Run the frozen encoder once over `data` and write pooled per-layer features to the cache `out`.

    data: 'tfds', an aclImdb_v1.tar.gz archive or unpacked aclImdb/ folder, or a .csv / .jsonl
    file. splits: None for every split the data has. labels: a CSV/JSONL file's classes in this
    order (default: sorted). ngrams: also cache each review's hashed word n-grams of 1..ngrams
    tokens, the lexical channel that `train --channel lexical|fused` reads (0: none). precision:
    fp32 (TensorFlow), bf16 or int8 (OpenVINO; int8 quantised once per encoder and seq_len on the
    built-in corpus, kept in $MLBERT_CACHE_DIR).
    Returns the summary `mlbert extract --json` prints.
    """
    command = command or api_call("extract", {"data": data, "out": out})
    out = str(out)
    if splits is not None:
        splits = as_list(splits, str, "splits")
        if not splits:
            raise BadInput("--splits: name at least one split, e.g. train,test (or leave it out: every split)")
        for split in splits:
            if split not in SPLITS:
                raise BadInput(f"--splits {','.join(splits)}: unknown split '{split}'; use {', '.join(SPLITS)}")
    labels = as_list(labels, str, "labels") or None
    settings = FeatureSettings(seq_len=seq_len, truncation=truncation, windows=windows, stride=stride,
                               poolings=as_list(pooling, str, "pooling"), ngrams=ngrams, precision=precision)
    settings.validate()
    if limit is not None:
        at_least(limit, 1, "limit")
    at_least(batch_size, 1, "batch_size")
    at_least(shard_size, 1, "shard_size")
    if runner not in RUNNERS:
        raise BadInput(f"--runner {runner}: choose one of {', '.join(RUNNERS)}")
    if runner == "beam" and settings.precision != "fp32":
        raise BadInput(f"--precision {settings.precision}: runs with --runner local only; the Beam runner "
                       "encodes in fp32 (drop --precision, or --runner)")
    table = TableOptions(text_field, label_field, split_ratio, labels)
    source = describe(data, table)
    fields = {
        "encoder": handles.identity(encoder), "preprocessor": handles.identity(preprocessor),
        "settings": settings.to_dict(), "data": source, "limit": limit, "order_seed": ORDER_SEED,
        "shard_size": shard_size,
    }
    reviews = read_source(data, list(splits) if splits else None, seed=ORDER_SEED, limit=limit, table=table)
    splits = list(reviews)
    if not storage.is_url(out) and os.path.exists(out) and not os.path.isdir(out):
        raise BadInput(f"--out {out}: is a file, not a folder; choose a folder for the cache")
    created = not storage.is_url(out) and not os.path.exists(out)
    try:
        storage.makedirs(out)
    except OSError as e:
        raise BadInput(f"--out {out}: cannot create the folder ({e.strerror or e}); choose a folder you can write")
    run = dict(encoder=encoder, preprocessor=preprocessor, settings=settings, batch_size=batch_size,
               shard_size=shard_size, runner=runner, beam_options=tuple(beam_option), command=command,
               source_path=location(data))
    try:
        with cache_lock(out):
            return _extract_locked(out, fields, overwrite, reviews, splits, **run)
    except BadInput:
        if not storage.is_url(out) and not _entries(out):  # leave no trace of a run that wrote nothing
            if created:
                shutil.rmtree(out, ignore_errors=True)
            else:
                storage.delete(os.path.join(out, LOCK))
        raise
    except OSError as e:
        where = e.filename or out
        raise BadInput(f"{where}: cannot write ({e.strerror or e}); free disk space or choose another --out, "
                       "then run the same command again (finished shards are kept)")


def _extract_locked(out, fields, overwrite, reviews, splits, *, encoder, preprocessor, settings, batch_size,
                    shard_size, runner, beam_options, command, source_path) -> dict:
    import tensorflow as tf

    existing, replaced = _prepare_out(out, fields, overwrite)
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    plans = None
    if existing:
        plans = [plan_split(out, split, reviews[split], existing, shard_size) for split in splits]
        if not any(plan.todo for plan in plans):
            # Everything asked for is there and sound: no model to load, nothing to rewrite.
            return _summary(out, existing, plans, device, runner)
    with tempfile.TemporaryDirectory(prefix="mlbert-encoder-") as scratch:
        featurizer = _checked_featurizer(preprocessor, encoder, settings, batch_size, reviews, splits, out,
                                         existing, scratch, fields)
        # Only now, with the models loaded and a first batch encoded, is the old cache given up;
        # temporary files of a killed run go too.
        if replaced:
            _remove_cache_files(out, replaced)
        for name in storage.listdir(out):
            if name.startswith(".") and ".tmp-" in name:
                storage.delete(storage.join(out, name))
        encoder_files = encoder_ir.store(out, scratch) if settings.precision == "int8" and not existing else {}
    manifest = existing or {
        "format": cache_manifest.FORMAT, "format_version": cache_manifest.FORMAT_VERSION,
        "fingerprint": cache_manifest.fingerprint(fields), "fingerprint_fields": fields,
        "features": {
            "encoder": fields["encoder"]["handle"], "preprocessor": fields["preprocessor"]["handle"],
            **settings.to_dict(), "num_layers": featurizer.num_layers, "hidden_size": featurizer.hidden_size,
            "dim": featurizer.num_layers * featurizer.hidden_size,
            "layout": "layer-major: columns [l*hidden_size, (l+1)*hidden_size) are layer l",
            "datasets": {p: cache_manifest.dataset_name(p, settings.poolings[0]) for p in settings.poolings},
            "runtime": {**featurizer.runtime(),
                        **({"calibration": runtime.calibration_record()} if settings.precision == "int8" else {})},
            **({"encoder_ir": encoder_files} if encoder_files else {}),
        },
        "data": {**fields["data"], "path": source_path}, "labels": list(reviews[splits[0]].classes),
        "splits": {}, "created": now(),
    }
    manifest.update(versions=versions(), command=command, machine={**machine(), "device": device})
    plans = plans or [plan_split(out, split, reviews[split], manifest, shard_size) for split in splits]
    cache_manifest.write_manifest(out, manifest)
    if runner == "beam":
        from .beam import run_beam

        start = time.perf_counter()
        run_beam(out, [(plan, i) for plan in plans for i in plan.todo], reviews, fields, settings, batch_size,
                 manifest["fingerprint"], beam_options)
        for plan in plans:
            plan.seconds = time.perf_counter() - start  # one pipeline for all splits
            for i in plan.todo:
                name = cache_manifest.shard_name(plan.split, i, plan.count)
                lo, hi = plan.bounds(i)
                # Workers wrote the shard; its checksum is read back once, for the manifest.
                digest = cache_manifest.sha256_file(storage.join(out, name))
                plan.entry["shards"].append({"file": name, "count": hi - lo, "sha256": digest})
    else:
        with deferred_interrupt() as interrupted:
            for plan in plans:
                _encode_split_locally(out, plan, reviews[plan.split], featurizer, manifest, interrupted)
    for plan in plans:
        plan.entry["shards"].sort(key=lambda shard: shard["file"])
        if plan.todo:
            plan.entry["seconds"] = round(plan.seconds, 2)
        plan.entry["complete"] = True
    cache_manifest.write_manifest(out, manifest)
    return _summary(out, manifest, plans, device, runner)


def _checked_featurizer(preprocessor: str, encoder: str, settings: FeatureSettings, batch_size: int, reviews,
                        splits, out, existing, scratch, identities: dict):
    """Load the models, check they fit each other and the settings, and encode a first batch: any
    of these failing must leave an existing cache as it was.

    bf16 and int8 move the encoder call to OpenVINO. The int8 encoder is the resumed cache's own,
    else the one kept on this machine for this encoder (int8_store.py), else quantised now on the
    built-in corpus and kept; it ends up in `scratch` either way. A kept one spares loading the
    TensorFlow encoder at all.
    """
    from ..features.featurizer import Featurizer

    probe = next((reviews[s].texts[:8] for s in splits if len(reviews[s])), [])
    pre = handles.load(preprocessor, "--preprocessor", "preprocessor")
    if settings.precision == "int8":
        folder = _int8_encoder_dir(pre, preprocessor, encoder, settings, batch_size, out, existing, scratch,
                                   identities)
        with _first_batch_errors(encoder, preprocessor):
            featurizer = Featurizer(pre, runtime.int8_encoder(folder), settings, batch_size=batch_size)
            featurizer.features(list(probe))
        return featurizer
    featurizer, _ = _tensorflow_featurizer(pre, preprocessor, encoder, settings, batch_size)
    with _first_batch_errors(encoder, preprocessor):
        featurizer.features(list(probe))
        if settings.precision == "bf16":  # the SavedModel works as it is; now the converted one
            featurizer = Featurizer(pre, runtime.openvino_encoder(encoder, "bf16"), settings, batch_size=batch_size)
            featurizer.features(list(probe))
    return featurizer


@contextlib.contextmanager
def _first_batch_errors(encoder: str, preprocessor: str):
    import tensorflow as tf

    try:
        yield
    except (tf.errors.OpError, ValueError, TypeError, KeyError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise BadInput(f"--encoder {encoder}: encoding a first batch failed ({first}); pass a BERT encoder with "
                       f"the TF Hub interface, made for --preprocessor {preprocessor}")


def _tensorflow_featurizer(pre, preprocessor: str, encoder: str, settings: FeatureSettings, batch_size: int):
    """The TensorFlow encoder loaded, checked against the preprocessor and the settings. Returns the
    featurizer and the encoder's maximum sequence length (None when unknown)."""
    from ..features.featurizer import Featurizer

    enc = handles.load(encoder, "--encoder", "encoder")
    max_positions = handles.check_pair(pre, enc, preprocessor, encoder)
    settings.validate(max_positions)
    with _first_batch_errors(encoder, preprocessor):
        return Featurizer(pre, enc, settings, batch_size=batch_size), max_positions


def _int8_encoder_dir(pre, preprocessor: str, encoder: str, settings: FeatureSettings, batch_size: int, out,
                      existing, scratch, identities: dict):
    """A folder holding the int8 encoder (IR_XML, IR_BIN) for this cache: see _checked_featurizer."""
    if existing:  # made, checked and calibrated when the cache was created
        return encoder_ir.fetch(out, existing, scratch)
    entry = int8_store.key(identities["encoder"], identities["preprocessor"], settings.seq_len)
    kept = int8_store.lookup(entry)
    if kept:
        settings.validate(kept["max_positions"])
        for name in (runtime.IR_XML, runtime.IR_BIN):
            shutil.copyfile(os.path.join(kept["folder"], name), os.path.join(scratch, name))
        print(f"extract: int8 encoder quantised earlier for this encoder, from {kept['folder']}",
              file=sys.stderr, flush=True)
        return scratch
    tensorflow, max_positions = _tensorflow_featurizer(pre, preprocessor, encoder, settings, batch_size)
    calibration = tensorflow.calibration_batches(runtime.calibration_texts(), runtime.CALIBRATION_SEQUENCES)
    sequences = sum(len(b["input_mask"]) for b in calibration)
    print(f"extract: quantising the encoder to int8 (once for this encoder and --seq-len), calibrated on "
          f"{sequences} sequences of the built-in corpus", file=sys.stderr, flush=True)
    runtime.quantize(encoder, calibration, scratch)
    int8_store.keep(entry, scratch, {
        "encoder": identities["encoder"], "preprocessor": identities["preprocessor"], "seq_len": settings.seq_len,
        "max_positions": max_positions,
        "recipe": runtime.RECIPE, "calibration_sequences": sequences, "created": now()})
    return scratch


def _summary(out, manifest, plans, device, runner) -> dict:
    splits = {}
    for plan in plans:
        encoded = sum(plan.bounds(i)[1] - plan.bounds(i)[0] for i in plan.todo)
        counts = plan.entry["counts"]
        splits[plan.split] = {
            "total": counts["total"], "labels": cache_manifest.label_counts_of(counts),
            "replaced_utf8": counts.get("replaced_utf8", 0), "empty": counts.get("empty", 0),
            "shards": plan.count, "seconds": round(plan.seconds, 2),
            "reviews_per_s": round(encoded / plan.seconds, 2) if encoded and plan.seconds > 0 else None,
            "skipped": not plan.todo}
    features = manifest["features"]
    return {"cache": out, "device": device, "dim": features["dim"], "runner": runner,
            "precision": features.get("precision", "fp32"),
            "runtime": features.get("runtime", {}).get("name", "tensorflow"),
            "labels": cache_manifest.labels_of(manifest), "splits": splits}


def _encode_split_locally(out, plan: SplitPlan, reviews, featurizer, manifest, interrupted) -> None:
    from ..cache.shards import feature_arrays, write_shard
    from ..features.lexical import lexical_features

    if not plan.todo:
        return
    progress = Progress(f"extract {plan.split}", plan.n)
    start = time.perf_counter()
    todo = set(plan.todo)

    def report(done: float) -> None:
        if interrupted():
            raise KeyboardInterrupt  # between batches: finished shards stay, this one is dropped
        progress.update(done)

    for i in range(plan.count):
        lo, hi = plan.bounds(i)
        if i not in todo:
            progress.update(hi)
            continue
        pooled = featurizer.features(reviews.texts[lo:hi], progress=lambda frac: report(lo + frac * (hi - lo)))
        ngrams = featurizer.settings.ngrams
        lexical = lexical_features(reviews.texts[lo:hi], ngrams) if ngrams else None
        name = cache_manifest.shard_name(plan.split, i, plan.count)
        digest = write_shard(storage.join(out, name), feature_arrays(pooled, featurizer.settings.poolings),
                             reviews.labels[lo:hi], reviews.ids[lo:hi],
                             shard_attrs(plan.split, i, plan.count, manifest["fingerprint"]), lexical)
        plan.entry["shards"].append({"file": name, "count": hi - lo, "sha256": digest})
        cache_manifest.write_manifest(out, manifest)
        progress.update(hi)
    progress.finish()
    plan.seconds = time.perf_counter() - start
