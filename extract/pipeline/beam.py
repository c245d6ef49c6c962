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


def worker_featurizer(encoder: str, preprocessor: str, settings: dict, batch_size: int) -> Featurizer:
    """This worker process's featurizer, loaded on its first unit."""
    key = (encoder, preprocessor, json.dumps(settings, sort_keys=True), batch_size)
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


def _flags(request, units: int) -> tuple[list[str], bool]:
    """Beam's command-line flags from --beam-option KEY=VALUE; whether the runner is Dask's."""
    flags, keys = ["--default_sdk_harness_log_level=WARNING"], set()  # workers' INFO lines would bury progress
    for option in request.beam_options:
        if "=" not in option:
            raise BadInput(f"--beam-option {option}: use KEY=VALUE, e.g. direct_num_workers=2")
        key, value = option.split("=", 1)
        keys.add(key.lstrip("-"))
        flags.append(f"--{key.lstrip('-')}={value}")
    dask = any(f.startswith("--runner=") and f.endswith("DaskRunner") for f in flags)
    if dask and not keys & {"dask_npartitions", "dask_partition_size"}:
        flags.append(f"--dask_npartitions={units}")  # a partition per unit: Beam's default puts 128 in one
    return flags, dask


@contextlib.contextmanager
def _local_dask_cluster(flags: list[str], dask: bool):
    """A LocalCluster for the pipeline when the DaskRunner has no scheduler to go to, closed after it."""
    if not dask:
        yield flags
        return
    try:
        import distributed
    except ImportError:
        raise BadInput("--beam-option runner=...DaskRunner: dask.distributed is not installed; install it with "
                       "`pip install 'apache-beam[dask]'`")
    logging.getLogger("distributed").setLevel(logging.ERROR)  # its INFO lines would bury progress
    try:
        if any(f.startswith(("--dask_client_address=", "--dask_scheduler_file=")) for f in flags):
            yield flags
            return
        with distributed.LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster:
            try:
                yield flags + [f"--dask_client_address={cluster.scheduler_address}"]
            finally:
                _close_beams_client(distributed)
    finally:
        _close_beams_client(distributed)


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


def run_beam(request, plans, todo: list[dict], manifest: dict) -> None:
    """Encode and write every unit in todo with one Beam pipeline, then record their shards."""
    if not todo:
        return
    beam = _beam()
    from apache_beam.options.pipeline_options import PipelineOptions

    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    flags, dask = _flags(request, len(todo))
    out, fingerprint = storage.absolute(request.out), manifest["fingerprint"]
    args = (handles.resolve(request.encoder), handles.resolve(request.preprocessor), request.settings.to_dict(),
            request.batch_size)

    class Encode(beam.DoFn):
        def process(self, unit):
            yield from encode_unit(unit, worker_featurizer(*args), out, fingerprint)

    start = time.perf_counter()
    with _importable_by_workers(), _local_dask_cluster(flags, dask) as flags, _watched(out, todo) as progress:
        try:
            with beam.Pipeline(options=PipelineOptions(flags)) as pipeline:
                _ = pipeline | "Units" >> beam.Create(todo) | "Encode" >> beam.ParDo(Encode())
        except (BadInput, KeyboardInterrupt):
            raise
        except Exception as e:
            raise BadInput(f"{_failure(e)}; the shards finished are kept: run the same command again to write "
                           "the rest")
        progress.update(progress.total)
        progress.finish()
    seconds = time.perf_counter() - start
    by_split = {plan.split: plan for plan in plans}
    for unit in todo:
        for shard in shards_of(unit):
            found = finished_shard(out, shard, None, fingerprint)
            if found is None:
                raise BadInput(f"{storage.join(out, shard.name)}: the pipeline ended without writing this shard; run "
                               "the same command again to write it")
            by_split[shard.split].entry["shards"].append(found)
    for plan in plans:
        plan.seconds = seconds
