"""Stage one on Apache Beam: the same units, shards and manifest as the local path, from many workers.

The pipeline is Create(units) | Reshuffle | ParDo(encode): one element per unit (units.py). A
worker encodes its unit and writes the unit's shards whole (temporary name, then rename) to a local
folder or any URL common/storage.py reaches; nothing but the shards' names and checksums comes
back. A corpus unit names a slice of a file, which the worker reads itself; other sources' units
carry their rows, read by the driver. A worker process loads the encoder once, for all its units.

After the pipeline the driver records the shards it finds in the folder, each checked against the
plan: so when a pipeline fails half-way, the shards its workers finished are kept, and the same
command writes only the rest. On the DaskRunner without --beam-option dask_client_address=..., a
dask.distributed LocalCluster (one single-threaded worker process per core) runs for the pipeline
and is closed after it. apache-beam is an optional extra: `pip install '.[beam]'`.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path

from ...common import storage
from ...common.errors import BadInput
from ...common.progress import Progress
from .. import runtimes
from ..encoders import handles
from ..features.featurizer import Featurizer
from ..features.settings import FeatureSettings
from .plan import finished_shard
from .units import encode_unit, rows_of, shards_of

WATCH_SECONDS = 5.0  # how often the driver looks for finished shards, for its progress line
_FEATURIZERS: dict[tuple, Featurizer] = {}  # per worker process: loaded once, for every unit it runs


def _beam():
    try:
        import apache_beam as beam
    except ImportError:
        raise BadInput("--runner beam: Apache Beam is not installed; install it with "
                       "`pip install '.[beam]'` (or `pip install apache-beam`)")
    return beam


def _key(encoder: str, preprocessor: str, settings: dict, batch_size: int) -> tuple:
    return encoder, preprocessor, json.dumps(settings, sort_keys=True), batch_size


def worker_featurizer(encoder: str, preprocessor: str, settings: dict, batch_size: int) -> Featurizer:
    """This worker process's featurizer, loaded on its first unit."""
    key = _key(encoder, preprocessor, settings, batch_size)
    if key not in _FEATURIZERS:
        _one_thread_per_task()
        _FEATURIZERS[key] = Featurizer(handles.load(preprocessor, "--preprocessor", "preprocessor"),
                                       runtimes.load("tensorflow", "fp32", encoder),
                                       FeatureSettings.from_dict(settings), batch_size=batch_size)
    return _FEATURIZERS[key]


def _one_thread_per_task() -> None:
    """In a Dask worker, TensorFlow runs on one thread: Dask runs a task per worker thread, and
    those threads are what share the cores (give Dask one thread per core)."""
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return
    import tensorflow as tf

    with contextlib.suppress(RuntimeError):  # TensorFlow already running in this process: as it is
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)


@contextlib.contextmanager
def _importable_by_workers():
    """Worker processes on this machine (DirectRunner's, a Dask LocalCluster's) unpickle our code, so
    they must import `mlbert` as this process does, also when it runs from a clone (`python cli.py`)
    rather than an install: a folder holding a link named mlbert to the package goes first on their
    PYTHONPATH while the pipeline runs. Remote workers need the package installed (docs/beam.md)."""
    package = Path(__file__).resolve().parents[2]
    saved = os.environ.get("PYTHONPATH")
    with tempfile.TemporaryDirectory(prefix="mlbert-beam-path-") as folder:
        os.symlink(package, os.path.join(folder, "mlbert"))
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (folder, saved) if p)
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = saved


def _flags(request) -> tuple[list[str], bool]:
    """Beam's command-line flags from --beam-option KEY=VALUE; whether the runner is Dask's."""
    flags = ["--default_sdk_harness_log_level=WARNING"]  # workers' INFO lines would bury progress
    for option in request.beam_options:
        if "=" not in option:
            raise BadInput(f"--beam-option {option}: use KEY=VALUE, e.g. direct_num_workers=2")
        key, value = option.split("=", 1)
        flags.append(f"--{key.lstrip('-')}={value}")
    return flags, any(f.startswith("--runner=") and f.endswith("DaskRunner") for f in flags)


def _given(flags: list[str], *keys: str) -> str | None:
    """The value of the last of these flags given, if any."""
    found = [f.split("=", 1)[1] for f in flags if f.split("=", 1)[0].lstrip("-") in keys]
    return found[-1] if found else None


@contextlib.contextmanager
def _dask_cluster(flags: list[str]):
    """Flags for the cluster given, or for a LocalCluster started for the run and closed after it.

    Workers are not made to load the encoder ahead of their first unit: on this machine's two cores
    that only competed with the driver's own model check (docs/beam.md), and importing Beam in a
    task while Dask unpickles the pipeline's DoFn races Beam's circular imports."""
    try:
        import distributed
    except ImportError:
        raise BadInput("--beam-option runner=...DaskRunner: dask.distributed is not installed; install it with "
                       "`pip install 'apache-beam[dask]'`")
    logging.getLogger("distributed").setLevel(logging.ERROR)  # its INFO lines would bury progress
    with contextlib.ExitStack() as stack:
        address, scheduler_file = _given(flags, "dask_client_address"), _given(flags, "dask_scheduler_file")
        if not (address or scheduler_file):
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True, dashboard_address=":0",
                silence_logs=logging.ERROR))
            address = cluster.scheduler_address
            flags = flags + [f"--dask_client_address={address}"]
        try:  # reached now, so that a wrong address is one clear error before any work
            stack.enter_context(distributed.Client(address=address, scheduler_file=scheduler_file,
                                                   set_as_default=False))
        except OSError as e:
            raise BadInput(f"--beam-option dask_client_address={address or scheduler_file}: cannot reach the Dask "
                           f"scheduler ({e}); start it, or leave the option out for a LocalCluster")
        stack.callback(_close_beams_client, distributed)
        yield flags


def _close_beams_client(distributed) -> None:
    """The DaskRunner makes a Client and never closes it: left open, it outlives the cluster and
    tries to reconnect to it for half a minute."""
    with contextlib.suppress(ValueError):
        distributed.default_client().close()


@contextlib.contextmanager
def _watched(out: str, todo: list[dict]):
    """Progress on stderr while workers write: the reviews in the shards that have appeared."""
    rows = {s.name: s.rows for unit in todo for s in shards_of(unit)}
    progress = Progress("extract (beam)", sum(rows_of(unit) for unit in todo))
    stop = threading.Event()

    def watch():
        while not stop.wait(WATCH_SECONDS):
            with contextlib.suppress(Exception):  # a listing that fails now is tried again
                progress.update(sum(rows[name] for name in storage.listdir(out) if name in rows))

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield progress
    finally:
        stop.set()
        thread.join()


def _failure(e: Exception) -> str:
    """One line for a pipeline that failed: a worker's own BadInput as it said it, else what Beam said."""
    text = str(e)
    if "BadInput: " in text:
        text = text.split("BadInput: ", 1)[1]
        return text.strip().splitlines()[0].strip(" '\"")
    first = (text.strip().splitlines() or [type(e).__name__])[0][:300]
    return f"--runner beam: the pipeline failed ({type(e).__name__}: {first})"


@contextlib.contextmanager
def beam_session(request):
    """Yields run(out, plans, todo, manifest), which encodes and writes every unit in todo with one Beam
    pipeline, then records their shards. Opened before the driver checks the models, so that a Dask
    cluster starts meanwhile."""
    beam = _beam()
    from apache_beam.options.pipeline_options import PipelineOptions

    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    flags, dask = _flags(request)
    args = (handles.resolve(request.encoder), handles.resolve(request.preprocessor), request.settings.to_dict(),
            request.batch_size)
    with _importable_by_workers(), (_dask_cluster(flags) if dask else contextlib.nullcontext(flags)) as flags:

        def run(out: str, plans, todo: list[dict], manifest: dict) -> None:
            if not todo:
                return
            out, fingerprint = storage.absolute(out), manifest["fingerprint"]

            class Encode(beam.DoFn):
                def process(self, unit):
                    yield from encode_unit(unit, worker_featurizer(*args), out, fingerprint)

            options = list(flags)
            if dask and not _given(flags, "dask_npartitions", "dask_partition_size"):
                options.append(f"--dask_npartitions={len(todo)}")  # a partition per unit: Beam's default is 128 in one
            start = time.perf_counter()
            with _watched(out, todo) as progress:
                try:
                    with beam.Pipeline(options=PipelineOptions(options)) as pipeline:
                        _ = pipeline | "Units" >> beam.Create(todo) | "Encode" >> beam.ParDo(Encode())
                except (BadInput, KeyboardInterrupt):
                    raise
                except Exception as e:
                    raise BadInput(f"{_failure(e)}; the shards finished are kept: run the same command again to "
                                   "write the rest")
                progress.update(progress.total)
                progress.finish()
            _record(out, plans, todo, fingerprint, time.perf_counter() - start)

        yield run


def _record(out: str, plans, todo: list[dict], fingerprint: str, seconds: float) -> None:
    """The shards the workers wrote, each checked against the plan, into the splits' entries."""
    by_split = {plan.split: plan for plan in plans}
    for unit in todo:
        for shard in shards_of(unit):
            found = finished_shard(out, shard, None, fingerprint)
            if found is None:
                raise BadInput(f"{storage.join(out, shard.name)}: the pipeline ended without writing this shard; run "
                               "the same command again to write it")
            by_split[shard.split].entry["shards"].append(found)
    total = sum(plan.todo_rows for plan in plans)
    for plan in plans:
        plan.seconds = seconds * plan.todo_rows / total if total else 0.0  # one pipeline: its time by rows
