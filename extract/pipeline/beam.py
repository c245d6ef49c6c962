"""Stage one on Apache Beam: the same shards and manifest as the local path, from many workers.

Each review is an element keyed by its shard; reviews are batched with BatchElements and encoded
by a DoFn that loads the encoder and preprocessor once per worker (in `setup`) and pools exactly as
the local path does (the same Featurizer); a shard's reviews are grouped, put back in order and
written as one HDF5 file (temporary name, then rename) to a local folder or any URL that
common/storage.py reaches (gs:// through TensorFlow; s3://, hdfs://, azfs:// through Beam's
FileSystems). Which review goes to which shard is fixed by the seeded order, so a rerun after a
failure writes only the shards that are missing. apache-beam is an optional extra: `pip install .[beam]`.
"""
from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import uuid
from pathlib import Path

import numpy as np

from ...common import storage
from ...common.errors import BadInput
from .. import runtimes
from ..cache import writer
from ..cache.manifest import shard_name
from ..cache.shards import feature_arrays, shard_bytes
from ..encoders import handles
from ..features.featurizer import Featurizer
from ..features.lexical import lexical_features
from ..features.settings import FeatureSettings
from .plan import shard_attrs

BATCH_MIN, BATCH_MAX = 64, 512


def _beam():
    try:
        import apache_beam as beam
    except ImportError:
        raise BadInput("--runner beam: Apache Beam is not installed; install it with "
                       "`pip install '.[beam]'` (or `pip install apache-beam`)")
    return beam


class EncodeBatch:
    """DoFn body: (shard key, position, id, text, label) batches -> (shard key, (position, id, label, pooled))."""

    def __init__(self, encoder: str, preprocessor: str, settings: dict, batch_size: int):
        self.encoder, self.preprocessor = encoder, preprocessor
        self.settings, self.batch_size = settings, batch_size
        self.featurizer = None

    def setup(self):
        self.featurizer = Featurizer(handles.load(self.preprocessor, "--preprocessor", "preprocessor"),
                                     runtimes.load("tensorflow", "fp32", self.encoder),
                                     FeatureSettings.from_dict(self.settings), batch_size=self.batch_size)

    def process(self, batch):
        texts = [row[3] for row in batch]
        pooled = self.featurizer.features(texts)
        ngrams = self.featurizer.settings.ngrams
        if ngrams:
            ids, counts = lexical_features(texts, ngrams)
            per_review = np.split(ids, np.cumsum(counts)[:-1])
        for j, (key, position, review_id, _, label) in enumerate(batch):
            yield key, (position, review_id, label, {p: v[j] for p, v in pooled.items()},
                        per_review[j] if ngrams else None)


def write_shard_group(element, out: str, settings: dict, fingerprint: str):
    """Order a shard's reviews by position and write the shard file whole."""
    (split, index, count), rows = element
    rows = sorted(rows, key=lambda row: row[0])
    settings = FeatureSettings.from_dict(settings)
    poolings = settings.poolings
    pooled = {p: np.stack([row[3][p] for row in rows]) for p in poolings}
    lexical = None
    if rows and rows[0][4] is not None:
        lexical = (np.concatenate([row[4] for row in rows]), np.array([len(row[4]) for row in rows], np.int32))
    data = shard_bytes(feature_arrays(pooled, settings), np.array([row[2] for row in rows], np.int8),
                       [row[1] for row in rows], shard_attrs(split, index, count, fingerprint), lexical)
    name = shard_name(split, index, count)
    # A retried or speculative bundle may write the same shard at once elsewhere: unique temporary names.
    storage.write_atomic(storage.join(out, name), data, tag=uuid.uuid4().hex)
    yield name


@contextlib.contextmanager
def _importable_by_workers():
    """DirectRunner's worker processes unpickle our DoFn, so they must import `mlbert` as this process
    does, also when it runs from a clone (`python cli.py`) rather than an install: a folder holding
    a link named mlbert to the package goes first on their PYTHONPATH while the pipeline runs.
    Remote workers get the package as a wheel (--beam-option extra_package=...)."""
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


def run_beam(request, todo, reviews, manifest) -> None:
    """Encode and write every (plan, shard index) in todo with one Beam pipeline, then record them."""
    if not todo:
        return
    beam = _beam()
    from apache_beam.options.pipeline_options import PipelineOptions

    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    flags = ["--default_sdk_harness_log_level=WARNING"]  # workers' INFO lines would bury progress
    for option in request.beam_options:
        if "=" not in option:
            raise BadInput(f"--beam-option {option}: use KEY=VALUE, e.g. direct_num_workers=2")
        key, value = option.split("=", 1)
        flags.append(f"--{key.lstrip('-')}={value}")
    elements = []
    for plan, i in todo:
        lo, hi = plan.bounds(i)
        r = reviews[plan.split]
        key = (plan.split, i, plan.count)
        elements += [(key, pos, r.ids[pos], r.texts[pos], int(r.labels[pos])) for pos in range(lo, hi)]
    encoder, preprocessor = handles.resolve(request.encoder), handles.resolve(request.preprocessor)
    settings = request.settings

    class Encode(beam.DoFn):
        def __init__(self):
            self.body = EncodeBatch(encoder, preprocessor, settings.to_dict(), request.batch_size)

        def setup(self):
            self.body.setup()

        def process(self, batch):
            yield from self.body.process(batch)

    with _importable_by_workers(), beam.Pipeline(options=PipelineOptions(flags)) as pipeline:
        _ = (pipeline
             | "Reviews" >> beam.Create(elements, reshuffle=True)
             | "Batch" >> beam.BatchElements(min_batch_size=BATCH_MIN, max_batch_size=BATCH_MAX)
             | "Encode" >> beam.ParDo(Encode())
             | "ByShard" >> beam.GroupByKey()
             | "Write" >> beam.FlatMap(write_shard_group, storage.absolute(request.out), settings.to_dict(),
                                       manifest["fingerprint"]))
    for plan, i in todo:
        lo, hi = plan.bounds(i)
        # Workers wrote the shard; its checksum is read back once, for the manifest.
        writer.record_shard(request.out, manifest, plan.entry, shard_name(plan.split, i, plan.count), hi - lo)
