"""The lexical channel: each review's word n-grams as hashed ids, cached beside the BERT features.

Tokens are lower-cased words and punctuation marks, with HTML line breaks removed, as the n-gram
models of the sentiment literature read reviews (NBSVM, Wang & Manning 2012). The n-grams of 1 to
N tokens are hashed (FarmHash, tf.strings.to_hash_bucket_fast) into [0, 2^31 - 1), and each review
keeps each id once: binary features. The same TensorFlow ops run in `extract` (in batches) and in
the exported serving graph, so a review gets the same ids in both.
"""
from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

BUCKETS = 2**31 - 1  # ids fit int32; with a few million distinct n-grams, collisions are a handful
BATCH = 512


def ngram_ids(texts, ngrams: int) -> tf.RaggedTensor:
    """[n] strings -> [n, (ids)]: each review's distinct hashed n-gram ids (int64), sorted."""
    text = tf.strings.lower(texts, encoding="utf-8")
    text = tf.strings.regex_replace(text, r"<br\s*/?>", " ")
    text = tf.strings.regex_replace(text, r"([^\w\s'])", r" \1 ")  # punctuation marks are tokens too
    tokens = tf.strings.split(text)
    grams = tf.strings.ngrams(tokens, ngram_width=list(range(1, ngrams + 1)), separator=" ")
    ids = tf.strings.to_hash_bucket_fast(grams.values, BUCKETS)
    # One id once per review: (review, id) pairs as one int64 key, made unique and sorted.
    keys = tf.sort(tf.unique(grams.value_rowids() * BUCKETS + ids).y)
    return tf.RaggedTensor.from_value_rowids(keys % BUCKETS, keys // BUCKETS, nrows=tf.shape(texts, tf.int64)[0])


@functools.lru_cache(maxsize=None)
def _batch_ids(ngrams: int):
    """One traced graph per n-gram width, for every batch."""
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def ids_of(texts):
        ids = ngram_ids(texts, ngrams)
        return tf.cast(ids.values, tf.int32), tf.cast(ids.row_lengths(), tf.int32)
    return ids_of


def lexical_features(texts: list[str], ngrams: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids int32, counts int32 [n]): every review's distinct n-gram ids, flat, and how many each has."""
    values, counts = [np.zeros(0, np.int32)], [np.zeros(0, np.int32)]
    for lo in range(0, len(texts), BATCH):
        v, c = _batch_ids(ngrams)(tf.constant(texts[lo:lo + BATCH], tf.string))
        values.append(v.numpy())
        counts.append(c.numpy())
    return np.concatenate(values), np.concatenate(counts)
