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
    lr: float = 0.02  # Adam's step on the full-batch gradient
    steps: int = 300  # at most; early stopping on validation picks the step kept
    patience: int = 20  # steps without a better validation loss before stopping


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


def columns(vocab: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each id's column in the sorted vocabulary, and whether it is there at all."""
    cols = np.minimum(np.searchsorted(vocab, ids), max(len(vocab) - 1, 0))
    return cols, (vocab[cols] == ids) if len(vocab) else np.zeros(len(ids), bool)


def _design(vocab, ngrams):
    """(columns, rows) of the known n-grams of each review: the sparse binary design matrix."""
    rows = np.repeat(np.arange(len(ngrams.counts), dtype=np.int32), ngrams.counts)
    cols, known = columns(vocab, ngrams.ids)
    return cols[known].astype(np.int32), rows[known]


def nb_ratios(cols, rows, y, n_classes: int, vocab_size: int) -> np.ndarray:
    """float32 [V, K]: log((a + count in class) / total) - log((a + count elsewhere) / total), per
    column and per scored class (the second class for two classes; each class, one-vs-rest, else)."""
    scored = [1] if n_classes == 2 else range(n_classes)
    ratios = []
    for c in scored:
        inside = y[rows] == c
        p = ALPHA + np.bincount(cols[inside], minlength=vocab_size)
        q = ALPHA + np.bincount(cols[~inside], minlength=vocab_size)
        ratios.append(np.log(p / p.sum()) - np.log(q / q.sum()))
    return np.stack(ratios, axis=1).astype(np.float32)


def fit_lexical(train, y, val, yv, n_classes: int, cfg: LexicalConfig = LexicalConfig(), steps: int | None = None,
                verbose: int = 0):
    """Train on the training rows' n-grams, early-stopped on the validation rows' loss; or, with no
    validation rows (a refit), for exactly `steps` steps.

    train, val: Ngrams; y, yv: class indices. Returns (model, history dict)."""
    import tensorflow as tf

    ids, df = np.unique(train.ids, return_counts=True)  # ids are distinct within a review: df counts reviews
    vocab = ids[df >= cfg.min_df].astype(np.int32)
    y = np.asarray(y, np.int64)
    cols, rows = _design(vocab, train)
    ratios = nb_ratios(cols, rows, y, n_classes, len(vocab))
    k = ratios.shape[1]
    val = val if val is not None else train.take([])
    yv = yv if yv is not None else np.zeros(0, np.int64)
    vcols, vrows = _design(vocab, val)
    prior = np.log(np.bincount(y, minlength=n_classes) + 1.0)
    bias0 = np.array([prior[1] - prior[0]] if k == 1 else prior - prior.mean(), np.float32)

    r = tf.constant(ratios)
    w = tf.Variable(tf.zeros_like(r))
    b = tf.Variable(bias0)
    adam = [tf.Variable(tf.zeros_like(v)) for v in (w, w, b, b)]

    def scores(c, rw, n):
        return tf.math.unsorted_segment_sum(tf.gather(w, c) * tf.gather(r, c), rw, n) + b

    def loss_of(s, labels):
        if k == 1:
            return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.cast(labels, tf.float32)[:, None], s))
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, s))

    train_args = (tf.constant(cols), tf.constant(rows), len(y), tf.constant(y))
    val_args = (tf.constant(vcols), tf.constant(vrows), len(yv), tf.constant(np.asarray(yv, np.int64)))

    @tf.function
    def step(t):
        c, rw, n, labels = train_args
        with tf.GradientTape() as tape:
            loss = loss_of(scores(c, rw, n), labels) + cfg.l2 * tf.reduce_sum(w * w)
        for var, grad, m, v in zip((w, b), tape.gradient(loss, [w, b]), adam[::2], adam[1::2]):
            m.assign(0.9 * m + 0.1 * grad)
            v.assign(0.999 * v + 0.001 * grad * grad)
            var.assign_sub(cfg.lr * (m / (1 - 0.9 ** t)) / (tf.sqrt(v / (1 - 0.999 ** t)) + 1e-8))
        return loss

    @tf.function
    def validate():
        c, rw, n, labels = val_args
        s = scores(c, rw, n)
        pred = tf.cast(s[:, 0] > 0, tf.int64) if k == 1 else tf.argmax(s, axis=1)
        return loss_of(s, labels), tf.reduce_mean(tf.cast(tf.equal(pred, labels), tf.float32))

    history = {"loss": [], "val_loss": [], "val_accuracy": []}
    best, best_step, kept, start = np.inf, 0, (w.numpy(), b.numpy()), time.perf_counter()
    progress = Progress("lexical model", steps or cfg.steps, unit="steps") if verbose else None
    for t in range(1, (steps or cfg.steps) + 1):
        history["loss"].append(float(step(tf.constant(t, tf.float32))))
        if progress is not None:
            progress.update(t)
        if steps:  # a refit: the step count was chosen before, on validation
            best_step, kept = t, None
            continue
        val_loss, val_accuracy = (float(x) for x in validate())
        history["val_loss"].append(val_loss)
        history["val_accuracy"].append(val_accuracy)
        if val_loss < best:
            best, best_step, kept = val_loss, t, (w.numpy(), b.numpy())
        elif t - best_step >= cfg.patience:
            break
    if steps:
        kept = (w.numpy(), b.numpy())
    if progress is not None:
        progress.finish()
    history.update(best_step=best_step, steps_run=len(history["loss"]), vocab=int(len(vocab)),
                   seconds=round(time.perf_counter() - start, 2))
    return LexicalModel(vocab, (kept[0] * ratios).astype(np.float32), kept[1].astype(np.float32)), history
