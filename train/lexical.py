"""The lexical channel's model: logistic regression on a review's binary n-gram features, each
scaled by its naive-Bayes log-count ratio (NBSVM, Wang & Manning 2012; here with logistic loss,
as in Mesnil et al. 2014), trained in TensorFlow on the cached n-gram ids.

Two classes: one score, the log-odds of the second class. More: one-vs-rest ratios per class and a
softmax over the class scores. The vocabulary is the training rows' n-grams seen in at least
`min_df` reviews; other n-grams are ignored at prediction. The model is three arrays (vocabulary,
weights, bias), so the exported graph applies it with a lookup and a sum.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from ..common.progress import Progress

ALPHA = 1.0  # add-one smoothing of the naive-Bayes counts


@dataclasses.dataclass(frozen=True)
class LexicalConfig:
    l2: float = 1e-4  # weight of the squared weights in the loss, per training row
    min_df: int = 2  # an n-gram enters the vocabulary when at least this many training reviews hold it
    lr: float = 0.02  # Adam's step
    epochs: int = 100  # at most; early stopping on validation picks the step kept
    patience: int = 5  # epochs without a better validation loss before stopping
    batch: int = 1024  # reviews per step


@dataclasses.dataclass
class LexicalModel:
    vocab: np.ndarray  # int32 [V], sorted n-gram ids
    weights: np.ndarray  # float32 [V, K]: ratio times learned weight, so a score is a sum of weights
    bias: np.ndarray  # float32 [K]

    def scores(self, ngrams) -> np.ndarray:
        """float32 [n, K] for reviews' n-gram ids (an Ngrams): the log-odds (K = 1) or class scores."""
        import tensorflow as tf

        ids = tf.RaggedTensor.from_row_lengths(np.asarray(ngrams.ids, np.int64), np.asarray(ngrams.counts, np.int64))
        return scores(self.vocab, self.weights, self.bias, ids).numpy()

    def save(self, path: Path) -> None:
        np.savez(path, vocab=self.vocab, weights=self.weights, bias=self.bias)

    @classmethod
    def load(cls, path: Path) -> "LexicalModel":
        with np.load(path) as f:
            return cls(f["vocab"], f["weights"], f["bias"])


def scores(vocab, weights, bias, ids):
    """TensorFlow ops: float32 [n, K] scores of reviews' n-gram ids (ragged [n, (ids)]), a sum of the
    weights of the ids in the vocabulary, summed in float64. The same function scores cached n-grams
    and runs in the exported graph."""
    import tensorflow as tf

    n = tf.cast(ids.nrows(), tf.int32)
    values = tf.cast(ids.values, tf.int32)
    if vocab.shape[0] == 0:
        return tf.zeros([n, weights.shape[1]], tf.float32) + bias
    cols = tf.minimum(tf.searchsorted(vocab, values), tf.shape(vocab)[0] - 1)
    known = tf.equal(tf.gather(vocab, cols), values)
    found = tf.where(known[:, None], tf.cast(tf.gather(weights, cols), tf.float64),
                     tf.zeros([1, weights.shape[1]], tf.float64))
    summed = tf.math.unsorted_segment_sum(found, tf.cast(ids.value_rowids(), tf.int32), n)
    return tf.cast(summed + tf.cast(bias, tf.float64), tf.float32)


class VocabIndex:
    """Each n-gram id's column in a sorted vocabulary, found through a table of where each of 2^20
    equal ranges of the vocabulary's ids starts: hashed ids spread evenly, so a vocabulary of a
    million has about one id per range and a lookup is a gather or two (a binary search over the
    vocabulary cost most of a mini-batch step). Ids that crowd a few ranges get the binary search."""
    BITS = 20
    WIDEST = 16

    def __init__(self, vocab: np.ndarray):
        self.vocab = vocab
        self.base = int(vocab[0]) if len(vocab) else 0
        span = int(vocab[-1]) - self.base + 1 if len(vocab) else 1
        self.shift = max(0, span.bit_length() - self.BITS)
        edges = self.base + (np.arange(2**self.BITS + 2, dtype=np.int64) << self.shift)
        self.starts = np.searchsorted(vocab, edges).astype(np.int64)
        self.widest = int(np.diff(self.starts).max()) if len(vocab) else 0

    def columns(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(column, known) per id: known is False for ids outside the vocabulary."""
        if self.widest > self.WIDEST:
            cols = np.minimum(np.searchsorted(self.vocab, ids), len(self.vocab) - 1)
            return cols.astype(np.int64), self.vocab[cols] == ids
        bucket = np.clip((np.asarray(ids, np.int64) - self.base) >> self.shift, 0, 2**self.BITS)
        lo, hi = self.starts[bucket], self.starts[bucket + 1]
        cols, known = np.zeros(len(ids), np.int64), np.zeros(len(ids), bool)
        active = np.flatnonzero(lo < hi)  # ids whose range holds vocabulary ids still to compare
        for k in range(self.widest):
            candidate = lo[active] + k
            hit = self.vocab[candidate] == ids[active]
            cols[active[hit]], known[active[hit]] = candidate[hit], True
            active = active[~hit & (candidate + 1 < hi[active])]
            if not len(active):
                break
        return cols, known


def _design(index: VocabIndex, ngrams):
    """(columns, rows) of the known n-grams of each review: the sparse binary design matrix."""
    rows = np.repeat(np.arange(len(ngrams.counts), dtype=np.int32), ngrams.counts)
    cols, known = index.columns(ngrams.ids)
    return cols[known].astype(np.int32), rows[known]


def count_ngrams(rows, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids int32 [D], counts int64 [D, classes]): every distinct n-gram of the rows and how many
    reviews of each class hold it, in one streaming pass. Memory grows with the distinct n-grams,
    never with the reviews: per-shard counts are merged whenever they outgrow what is merged."""
    merged = (np.zeros(0, np.int32), np.zeros((0, n_classes), np.int64))
    pending, size = [], 0

    def merge(parts):
        ids = np.concatenate([p[0] for p in parts])
        unique, inverse = np.unique(ids, return_inverse=True)
        counts = np.zeros((len(unique), n_classes), np.int64)
        np.add.at(counts, inverse, np.concatenate([p[1] for p in parts]))
        return unique.astype(np.int32), counts

    for features, y in rows.chunks(features=False):
        ngrams = features["ngrams"]
        labels = np.repeat(np.asarray(y, np.int64), ngrams.counts)
        unique, inverse = np.unique(ngrams.ids, return_inverse=True)  # ids are distinct within a review
        counts = np.bincount(inverse * n_classes + labels, minlength=len(unique) * n_classes)
        pending.append((unique, counts.reshape(len(unique), n_classes)))
        size += len(unique)
        if size > max(len(merged[0]), 2**22):
            merged, pending, size = merge([merged, *pending]), [], 0
    return merge([merged, *pending]) if pending else merged


def nb_ratios(counts: np.ndarray) -> np.ndarray:
    """float32 [V, K] from per-class review counts [V, classes]: log((a + count in class) / total) -
    log((a + count elsewhere) / total), per column and per scored class (the second class for two
    classes; each class, one-vs-rest, else)."""
    n_classes = counts.shape[1]
    scored = [1] if n_classes == 2 else range(n_classes)
    ratios = []
    for c in scored:
        p = ALPHA + counts[:, c]
        q = ALPHA + counts.sum(axis=1) - counts[:, c]
        ratios.append(np.log(p / p.sum()) - np.log(q / q.sum()))
    return np.stack(ratios, axis=1).astype(np.float32)


def fit_lexical(train, validation, n_classes: int, cfg: LexicalConfig = LexicalConfig(), steps: int | None = None,
                verbose: int = 0):
    """Mini-batch training on the training rows' n-grams (train.rows.Rows, streamed from the cache),
    early-stopped on the validation rows' loss, evaluated after every epoch; or, with no validation
    rows (a refit), for exactly `steps` steps. A split no larger than one batch trains full-batch.
    Returns (model, history dict)."""
    import tensorflow as tf

    start = time.perf_counter()
    ids, counts = count_ngrams(train, n_classes)
    keep = counts.sum(axis=1) >= cfg.min_df
    vocab, counts = ids[keep], counts[keep]
    ratios = nb_ratios(counts)
    k = ratios.shape[1]
    y_all = train.labels().astype(np.int64)
    prior = np.log(np.bincount(y_all, minlength=n_classes) + 1.0)
    bias0 = np.array([prior[1] - prior[0]] if k == 1 else prior - prior.mean(), np.float32)

    r = tf.constant(ratios)
    w = tf.Variable(tf.zeros_like(r))
    b = tf.Variable(bias0)
    adam = [tf.Variable(tf.zeros_like(v)) for v in (w, w, b, b)]
    spec = [tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32),
            tf.TensorSpec([None], tf.int64)]

    def scores(c, rw, n):
        return tf.math.unsorted_segment_sum(tf.gather(w, c) * tf.gather(r, c), rw, n) + b

    def loss_of(s, labels):
        if k == 1:
            return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.cast(labels, tf.float32)[:, None], s))
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, s))

    @tf.function(input_signature=[*spec, tf.TensorSpec([], tf.float32)])
    def step(c, rw, n, labels, t):
        with tf.GradientTape() as tape:
            loss = loss_of(scores(c, rw, n), labels) + cfg.l2 * tf.reduce_sum(w * w)
        for var, grad, m, v in zip((w, b), tape.gradient(loss, [w, b]), adam[::2], adam[1::2]):
            m.assign(0.9 * m + 0.1 * grad)
            v.assign(0.999 * v + 0.001 * grad * grad)
            var.assign_sub(cfg.lr * (m / (1 - 0.9 ** t)) / (tf.sqrt(v / (1 - 0.999 ** t)) + 1e-8))
        return loss

    @tf.function(input_signature=spec)
    def loss_and_correct(c, rw, n, labels):
        s = scores(c, rw, n)
        pred = tf.cast(s[:, 0] > 0, tf.int64) if k == 1 else tf.argmax(s, axis=1)
        return loss_of(s, labels) * tf.cast(n, tf.float32), tf.reduce_sum(tf.cast(tf.equal(pred, labels), tf.float32))

    index = VocabIndex(vocab)

    def design(ngrams, y):
        cols, rows = _design(index, ngrams)
        return tf.constant(cols), tf.constant(rows), tf.constant(len(y), tf.int32), tf.constant(np.asarray(y, np.int64))

    def validate():
        total, correct, n = 0.0, 0.0, 0
        for features, y in validation.chunks(features=False):
            for lo in range(0, len(y), cfg.batch):
                part = features["ngrams"].take(np.arange(lo, min(lo + cfg.batch, len(y))))
                loss, right = loss_and_correct(*design(part, y[lo:lo + cfg.batch]))
                total, correct, n = total + float(loss), correct + float(right), n + len(part)
        return total / max(n, 1), correct / max(n, 1)

    history = {"loss": [], "val_loss": [], "val_accuracy": [], "evaluated_at": []}
    best, best_step, best_eval, kept, t = np.inf, 0, 0, (w.numpy(), b.numpy()), 0
    per_epoch = -(-len(y_all) // cfg.batch)
    limit = steps or cfg.epochs * per_epoch
    progress = Progress("lexical model", limit, unit="steps") if verbose else None
    row_bytes = 4000  # the shuffle buffer's estimate: about 1,000 n-gram ids a review (IMDB's trigrams: ~700)
    for epoch in range(-(-limit // per_epoch)):
        for ngrams, y in train.shuffled(lambda f: f["ngrams"], row_bytes, cfg.batch, seed=epoch, features=False):
            for lo in range(0, len(y), cfg.batch):
                if t < limit:
                    t += 1
                    part = ngrams.take(np.arange(lo, min(lo + cfg.batch, len(y))))
                    loss = step(*design(part, y[lo:lo + cfg.batch]), tf.constant(t, tf.float32))
                    history["loss"].append(float(loss))
            if progress is not None:
                progress.update(t)
        if steps:  # a refit: the step count was chosen before, on validation
            continue
        val_loss, val_accuracy = validate()
        history["val_loss"].append(val_loss)
        history["val_accuracy"].append(val_accuracy)
        history["evaluated_at"].append(t)
        if val_loss < best:
            best, best_step, best_eval, kept = val_loss, t, len(history["val_loss"]), (w.numpy(), b.numpy())
        elif len(history["val_loss"]) - best_eval >= cfg.patience:
            break
    if steps:
        best_step, kept = t, (w.numpy(), b.numpy())
    if progress is not None:
        progress.finish()
    history.update(best_step=best_step, best_evaluation=best_eval, steps_run=t, vocab=int(len(vocab)), epochs=epoch,
                   seconds=round(time.perf_counter() - start, 2))
    return LexicalModel(vocab, (kept[0] * ratios).astype(np.float32), kept[1].astype(np.float32)), history
