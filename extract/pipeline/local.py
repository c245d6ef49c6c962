"""Stage one in this process: each unit still to do encoded in batches and its shards written whole,
the manifest updated after each unit, Ctrl-C taken between batches."""
from __future__ import annotations

import contextlib
import signal
import threading
import time

from ...common.progress import Progress
from ..cache import writer
from .units import encode_unit, rows_of, shards_of


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


def encode_units(out: str, plans, todo: list[dict], featurizer, manifest: dict, interrupted) -> None:
    """Encode and write the units still to do, in order; each finished shard is recorded at once."""
    if not todo:
        return
    by_split = {plan.split: plan for plan in plans}
    total = sum(rows_of(unit) for unit in todo)
    progress = Progress("extract", total)
    done = 0

    def report(encoded: float) -> None:
        if interrupted():
            raise KeyboardInterrupt  # between batches: finished shards stay, this unit's are dropped
        progress.update(done + encoded)

    for unit in todo:
        start = time.perf_counter()
        written = encode_unit(unit, featurizer, out, manifest["fingerprint"], report)
        seconds = time.perf_counter() - start
        for shard, entry in zip(shards_of(unit), written):
            writer.record_shard(out, manifest, by_split[shard.split].entry, entry)
            by_split[shard.split].seconds += seconds * shard.rows / rows_of(unit)  # a unit's time, by its rows
        done += rows_of(unit)
        progress.update(done)
    progress.finish()
