"""Texts -> pooled per-layer features, batched: the one featurising path of `extract`, `predict`
and `export`.

Reviews are tokenised once with the preprocessor's `tokenize`. Each review becomes one or more
segments of at most seq_len - 2 tokens (head, tail, head+tail, or sliding windows). Segments are
sorted by length and encoded in batches padded only to the batch's own length, rounded up to a
multiple of `bucket` so that few distinct shapes reach the encoder; `bert_pack_inputs` adds the
special tokens and the padding. Each layer's output is pooled over the real tokens, and windows
are pooled back into one vector per review. Order and values do not depend on the batching.

The encoder call itself is the runtime's (extract/runtimes/): the featurizer hands it the packing
and pooling code once and reads back pooled batches, whichever runtime it is.

`text_features` is the same path as one TensorFlow graph over one batch of texts: the exported
serving model is built from it, from the same functions.
"""
from __future__ import annotations

import dataclasses
import functools
import os

import numpy as np
import tensorflow as tf

from ...common.ragged import ragged_positions
from ..runtimes.base import batch_signature
from .segments import combine_windows, pool_layers, segment_tokens
from .settings import TOKEN, FeatureSettings

TOKENS_PER_SEQUENCE = 128  # --batch-size counts sequences of this length


def tokenize(preprocessor, texts) -> tf.RaggedTensor:
    """[n] strings -> [n, (token ids)]: a preprocessor's tokens with the word level merged."""
    tokens = preprocessor.tokenize(texts)
    if isinstance(tokens, tf.RaggedTensor) and tokens.ragged_rank == 2:
        tokens = tokens.merge_dims(1, 2)
    return tokens


def segments_of(tokens: tf.RaggedTensor, settings: FeatureSettings):
    """Which tokens the encoder sees: (segments, review index of each segment)."""
    s = settings
    return segment_tokens(tokens, s.budget, s.truncation, s.windows, s.window_stride(), s.head_share())


def pack_segments(preprocessor, values, row_lengths, seq_length) -> dict:
    """Segments (their tokens one after the other, and how many each has) as the encoder's inputs."""
    return preprocessor.bert_pack_inputs([tf.RaggedTensor.from_row_lengths(values, row_lengths)],
                                         seq_length=seq_length)


def encode_segments(preprocessor, encoder, segments: tf.RaggedTensor, seq_length, poolings,
                    tokens: bool = False) -> dict:
    """Pack segments to seq_length, run a TensorFlow encoder, pool every layer over the real tokens:
    {pooling: [segments, layers, hidden], "tokens": [segments]}; tokens: also "token_values"
    (pool_layers)."""
    packed = preprocessor.bert_pack_inputs([segments], seq_length=seq_length)
    return pool_layers(encoder(packed)["encoder_outputs"], packed["input_mask"], poolings, tokens)


def text_segment_features(preprocessor, encoder, settings: FeatureSettings, texts, poolings, tokens: bool = False):
    """({pooling: [segments, layers, hidden]}, tokens per segment, review of each segment, reviews)
    for one batch of texts, as a graph (the serving path); tokens: the dict also holds
    "token_values", every token's outputs."""
    tokens_of = tokenize(preprocessor, texts)
    segments, review = segments_of(tokens_of, settings)
    pooled = encode_segments(preprocessor, encoder, segments, settings.seq_len, poolings, tokens)
    counts = pooled.pop("tokens")
    return pooled, counts, review, tokens_of.nrows()


def text_per_segment(preprocessor, encoder, settings: FeatureSettings, texts, poolings):
    """({name: [rows, layers, hidden]}, review of each row): the per-segment features a cache with
    these settings stores, as a graph: every token's, [CLS] and [SEP] of each segment included
    (--tokens), or every window's poolings."""
    # A head over tokens reads no pooling: nothing is pooled for it.
    pooled, counts, review, _ = text_segment_features(preprocessor, encoder, settings, texts,
                                                      () if settings.tokens else poolings, settings.tokens)
    if settings.tokens:
        return {TOKEN: pooled["token_values"]}, tf.repeat(review, tf.cast(counts, tf.int64))
    return pooled, review


def text_features(preprocessor, encoder, settings: FeatureSettings, texts, poolings) -> dict:
    """{pooling: [n, layers, hidden]} for one batch of texts, as a graph (the serving path)."""
    pooled, counts, review, n = text_segment_features(preprocessor, encoder, settings, texts, poolings)
    return combine_windows(pooled, counts, review, n) if settings.windows else pooled


def _without_autotune(ds):
    """The dataset without tf.data's autotuning thread.

    That thread sleeps in doubling periods (10 ms, 20 ms, ... 41 s), and deleting the iterator
    waited for the current period to end: a 2,000-review encode of 48 s then returned after 82 s,
    the CPUs idle the 34 s between, in about half the runs. Our pipelines have fixed parallelism and
    buffers, so there is nothing for it to tune.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)


def _encoder_feed(plan, tokens, seg_lens) -> tf.data.Dataset:
    """(tokens, segment lengths, padded length) of each planned batch, prepared ahead of the encoder.

    Every batch's tokens are one row of a ragged tensor: tf.data then slices and prefetches them in
    C++, with no Python generator thread competing with the encoding loop for the GIL.
    """
    seg_starts = np.cumsum(seg_lens) - seg_lens
    batch_tokens = [tokens[_ranges(seg_starts[rows], seg_lens[rows])] for rows, _ in plan]
    ds = tf.data.Dataset.from_tensor_slices((
        tf.RaggedTensor.from_row_lengths(np.concatenate(batch_tokens) if plan else np.zeros(0, np.int32),
                                         [len(b) for b in batch_tokens]),
        tf.RaggedTensor.from_row_lengths(np.concatenate([seg_lens[rows] for rows, _ in plan])
                                         if plan else np.zeros(0, np.int64), [len(rows) for rows, _ in plan]),
        tf.constant([length for _, length in plan], tf.int32),
    )).prefetch(2)
    return _without_autotune(ds)


def _ranges(starts, lens):
    """Concatenated aranges [starts[i], starts[i] + lens[i]), without a Python loop."""
    offsets = np.repeat(starts - (np.cumsum(lens) - lens), lens)
    return np.arange(int(np.sum(lens))) + offsets


class Featurizer:
    """Holds a loaded preprocessor and an encoder on its runtime; turns lists of texts into pooled
    features."""

    def __init__(self, preprocessor, runtime, settings: FeatureSettings, batch_size: int = 32,
                 bucket: int = 32):
        self.preprocessor = preprocessor
        self.runtime = runtime
        self.settings = settings
        self.batch_size = batch_size
        self.bucket = bucket
        pack = functools.partial(pack_segments, preprocessor)
        self._encoded = runtime.pipeline(pack, functools.partial(pool_layers, poolings=settings.poolings,
                                                                 tokens=settings.tokens))
        self._pack = tf.function(pack, input_signature=batch_signature())  # for calibration batches
        probe, = self._encoded([(tf.constant([0], tf.int32), tf.constant([1], tf.int64), tf.constant(8))])
        self.num_layers, self.hidden_size = (int(d) for d in probe[settings.poolings[0]].shape[1:])

    def _tokenize(self, texts):
        tokens = tokenize(self.preprocessor, texts)
        return tf.cast(tokens.values, tf.int32), tokens.row_lengths()

    def _token_batches(self, texts: list[str]) -> tf.data.Dataset:
        ds = (tf.data.Dataset.from_tensor_slices(tf.constant(texts, tf.string) if texts else
                                                 tf.zeros([0], tf.string))
              .batch(256).map(self._tokenize, num_parallel_calls=os.cpu_count() or 1, deterministic=True)
              .prefetch(2))
        return _without_autotune(ds)

    def tokenize(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """All texts' token ids, flat, and the count per text.

        Batches are tokenised in parallel tf.data stages (one per core), in order: tokenising is a
        single-threaded op, so one stage at a time would leave the other cores idle.
        """
        values, lengths = [], []
        for v, n in self._token_batches(texts):
            values.append(v.numpy())
            lengths.append(n.numpy())
        if not values:
            return np.zeros(0, np.int32), np.zeros(0, np.int64)
        return np.concatenate(values), np.concatenate(lengths)  # int32 ids, int64 counts

    def describe_runtime(self) -> dict:
        """What runs the encoder call, for the manifest."""
        return self.runtime.describe()

    def packed_batches(self, texts: list[str], max_sequences: int | None = None,
                       settings: FeatureSettings | None = None) -> list[dict]:
        """The batches the encoder would get for these texts (their first max_sequences segments,
        cut as `settings` say, by default the featurizer's own), as numpy inputs: the calibration
        data of a quantised encoder."""
        values, lengths = self.tokenize(texts)
        segments, _ = segments_of(tf.RaggedTensor.from_row_lengths(values, lengths), settings or self.settings)
        if max_sequences is not None:
            segments = segments[:max_sequences]
        tokens, seg_lens = segments.values.numpy(), segments.row_lengths().numpy()
        plan = self._batch_plan(seg_lens)
        return [{k: v.numpy() for k, v in self._pack(t, l, length).items()}
                for (t, l, length) in _encoder_feed(plan, tokens, seg_lens)]

    def calibration_batches(self, texts: list[str], max_sequences: int) -> list[dict]:
        """Calibration batches for a quantised encoder: full windows of seq_len over each text,
        whatever the featurizer's own truncation, so every position up to seq_len is calibrated."""
        s = self.settings
        return self.packed_batches(texts, max_sequences,
                                   dataclasses.replace(s, truncation="head", windows=True, stride=s.seq_len - 2))

    def _batch_plan(self, lens):
        """Length-sorted batches of segments, each padded to its own bucketed length.

        A batch holds about batch_size * 128 tokens: batch_size sequences of 128 tokens, more when
        they are shorter, fewer when longer. A fixed token budget keeps every encoder call's work and
        memory alike; on CPU, long batches of many sequences run far slower (docs/benchmarks.md).
        """
        order = np.argsort(-lens, kind="stable")
        budget = self.batch_size * TOKENS_PER_SEQUENCE
        plan, b = [], 0
        while b < len(order):
            longest = int(lens[order[b]]) + 2
            length = min(self.settings.seq_len, -(-longest // self.bucket) * self.bucket)
            rows = order[b:b + max(1, budget // length)]
            plan.append((rows, length))
            b += len(rows)
        return plan

    def features(self, texts: list[str], progress=None) -> dict[str, np.ndarray]:
        """{pooling: float32 [n, layers, hidden]} for the settings' poolings."""
        values, lengths = self.tokenize(texts)
        return self.features_from_tokens(values, lengths, progress)

    def features_from_tokens(self, values, lengths, progress=None) -> dict[str, np.ndarray]:
        return self.features_and_segments(values, lengths, progress)[0]

    def features_and_segments(self, values, lengths, progress=None):
        """({pooling: float32 [n, layers, hidden]}, per segment or None). The second is what a cache
        stores per segment: with --tokens, every token's features {TOKEN: [tokens, layers, hidden]}
        and the tokens per review; with --windows --segments, every window's features {pooling:
        [windows, layers, hidden]} and the windows per review (int32 [n]); review after review. With
        windows, the reviews' features are their windows combined."""
        s = self.settings
        n = len(lengths)
        segments, review = segments_of(tf.RaggedTensor.from_row_lengths(values, lengths), s)
        tokens, seg_lens, review = segments.values.numpy(), segments.row_lengths().numpy(), review.numpy()
        pooled = {p: np.zeros((len(review), self.num_layers, self.hidden_size), np.float32) for p in s.poolings}
        counts = np.zeros(len(review), np.float32)
        # Each segment's tokens as the encoder sees them: its own and [CLS] and [SEP] (checked below).
        seen = seg_lens + 2
        per_token = (np.zeros((int(seen.sum()), self.num_layers, self.hidden_size), np.float32)
                     if s.tokens else None)
        plan = self._batch_plan(seg_lens)
        done_segments = 0
        for (rows, _), out in zip(plan, self._encoded(_encoder_feed(plan, tokens, seg_lens))):
            for p in s.poolings:
                pooled[p][rows] = out[p].numpy()
            counts[rows] = out["tokens"].numpy()
            if per_token is not None:
                if not np.array_equal(counts[rows], seen[rows]):
                    raise RuntimeError("the preprocessor packed other than [CLS] segment [SEP]; --tokens cannot "
                                       "place each token's features")
                per_token[ragged_positions(seen, rows)] = out["token_values"].numpy()
            done_segments += len(rows)
            if progress is not None:
                progress(done_segments / max(1, len(review)))
        if done_segments != len(review):
            # A dataset cut short (as a Python-generator feed once was by Ctrl-C) must never let
            # unencoded rows through as zeros.
            raise RuntimeError(f"the encoder pipeline stopped after {done_segments} of {len(review)} segments")
        reviews = ({p: v.numpy() for p, v in combine_windows(pooled, counts, review, n).items()} if s.windows
                   else pooled)
        # segment_tokens gives each review its segments in order, review after review.
        if per_token is not None:
            return reviews, ({TOKEN: per_token}, np.bincount(review, weights=seen, minlength=n).astype(np.int32))
        if s.segments:
            return reviews, (pooled, np.bincount(review, minlength=n).astype(np.int32))
        return reviews, None
