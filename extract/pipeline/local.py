"""Stage one in this process: each planned shard encoded in batches and written whole, the manifest
updated after each, Ctrl-C taken between batches."""
from __future__ import annotations

import contextlib
import signal
import threading
import time

from ...common import storage
from ...common.progress import Progress
from ..cache import writer
from ..cache.manifest import shard_name
from ..cache.shards import feature_arrays, write_shard
from ..features.lexical import lexical_features
from .plan import SplitPlan, shard_attrs


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


def encode_split(out, plan: SplitPlan, reviews, featurizer, manifest, interrupted) -> None:
    """Encode and write the plan's missing shards of one split, in order."""
    if not plan.todo:
        return
    progress = Progress(f"extract {plan.split}", plan.n)
    start = time.perf_counter()
    todo = set(plan.todo)
    ngrams = featurizer.settings.ngrams

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
        lexical = lexical_features(reviews.texts[lo:hi], ngrams) if ngrams else None
        name = shard_name(plan.split, i, plan.count)
        digest = write_shard(storage.join(out, name), feature_arrays(pooled, featurizer.settings),
                             reviews.labels[lo:hi], reviews.ids[lo:hi],
                             shard_attrs(plan.split, i, plan.count, manifest["fingerprint"]), lexical)
        writer.record_shard(out, manifest, plan.entry, name, hi - lo, digest)
        progress.update(hi)
    progress.finish()
    plan.seconds = time.perf_counter() - start
