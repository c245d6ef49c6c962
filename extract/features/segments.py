"""Which tokens of each review the encoder sees, and how windows are pooled back into one vector.

Written in TensorFlow ops so the same code runs eagerly inside `extract` and inside the exported
serving graph, which must not depend on this project's Python.
"""
from __future__ import annotations

import tensorflow as tf



def segment_tokens(tokens: tf.RaggedTensor, budget: int, truncation: str = "head", windows: bool = False,
                   stride: int = 1, head: int = 0):
    """tokens: [reviews, (tokens)] -> (segments [segments, (<= budget tokens)], review index per segment).

    Without windows each review is one segment cut to `budget` tokens: its head, its tail, or its
    first `head` tokens plus the rest of the budget from the end. With windows, segments of `budget`
    tokens start every `stride` tokens until one reaches the end; an empty review still gets one
    (empty) segment.
    """
    n_reviews = tokens.nrows()
    if not windows:
        if truncation == "head":
            cut = tokens[:, :budget]
        elif truncation == "tail":
            cut = tokens[:, -budget:]
        else:
            head = min(head, budget)
            tail = budget - head
            cut = tokens[:, :head] if tail == 0 else tf.concat([tokens[:, :head], tokens[:, head:][:, -tail:]], 1)
        return cut, tf.range(n_reviews, dtype=tf.int64)
    lengths = tokens.row_lengths()
    over = tf.maximum(lengths - budget, 0)
    counts = tf.maximum(tf.constant(1, tf.int64), -(-over // stride) + 1)
    review = tf.repeat(tf.range(n_reviews, dtype=tf.int64), counts)
    k = tf.range(tf.reduce_sum(counts)) - tf.repeat(tf.cumsum(counts, exclusive=True), counts)
    start = k * stride
    end = tf.minimum(start + budget, tf.gather(lengths, review))
    # The last window ends at the review's end, at full length, rather than running short.
    last = tf.equal(k, tf.gather(counts, review) - 1)
    start = tf.where(last, tf.maximum(tf.constant(0, tf.int64), end - budget), start)
    offsets = tf.gather(tokens.row_starts(), review)
    index = tf.ragged.range(offsets + start, offsets + end)
    return tf.gather(tokens.values, index), review


def combine_windows(pooled: dict, token_counts, review, n_reviews):
    """One vector per review from its segments: token-weighted mean for mean and cls, max for max."""
    weights = tf.cast(token_counts, tf.float32)
    total = tf.math.unsorted_segment_sum(weights, review, n_reviews)
    result = {}
    for name, values in pooled.items():
        values = tf.convert_to_tensor(values)
        if name == "max":
            result[name] = tf.math.unsorted_segment_max(values, review, n_reviews)
        else:
            w = tf.reshape(weights, [-1] + [1] * (values.shape.rank - 1))
            t = tf.reshape(total, [-1] + [1] * (values.shape.rank - 1))
            result[name] = tf.math.unsorted_segment_sum(values * w, review, n_reviews) / t
    return result


def pool_layers(encoder_outputs, input_mask, poolings=("mean", "max", "cls"), tokens: bool = False):
    """Each layer's output pooled over the real tokens: {pooling: [batch, layers, hidden], tokens: [batch]}.
    tokens: also "token_values", every real token's outputs [real tokens, layers, hidden], sequence
    after sequence, in order.

    Layers are pooled one at a time, never stacked at full length, to keep memory at one layer's size.
    """
    extra = {"token_values": token_layers(encoder_outputs, input_mask)} if tokens else {}
    mask = tf.cast(input_mask, tf.float32)[:, :, tf.newaxis]
    count = tf.reduce_sum(mask, axis=1)  # [batch, 1]
    pooled = {p: [] for p in poolings}
    for layer in encoder_outputs:
        if "mean" in pooled:
            pooled["mean"].append(tf.reduce_sum(layer * mask, axis=1) / count)
        if "max" in pooled:
            pooled["max"].append(tf.reduce_max(tf.where(mask > 0, layer, tf.float32.min), axis=1))
        if "cls" in pooled:
            pooled["cls"].append(layer[:, 0])
    return {**{p: tf.stack(v, axis=1) for p, v in pooled.items()}, "tokens": count[:, 0], **extra}


def token_layers(encoder_outputs, input_mask):
    """Every real token's outputs of every layer, [real tokens, layers, hidden]: the padding dropped
    a layer at a time, so nothing is stacked at full length."""
    real = tf.cast(input_mask, tf.bool)
    return tf.stack([tf.boolean_mask(layer, real) for layer in encoder_outputs], axis=1)
