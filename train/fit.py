"""Training heads on rows streamed from the cache: the N heads of an ensemble (or one) side by side in
one pass over the data, each early-stopped on its own validation accuracy and kept at its best epoch,
and refits that keep each head at the epoch count chosen for it."""
from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

from .config import HeadConfig
from .head import build_heads, mix_weights
from .inputs import InputSpec, Windows, batches, head_inputs, select
from .metrics import accuracy_and_loss
from .rows import Rows

PREDICT_BATCH = 4096
STATS_ROWS = 1024


def rows_of(features: dict, spec: InputSpec, lo: int, hi: int) -> dict:
    """Rows lo:hi of the poolings a head reads (views, not copies)."""
    return {p: features[p][lo:hi] for p in spec.poolings}


def _statistics_pieces(rows: Rows, spec: InputSpec):
    """The head's inputs of the rows in float64 pieces (a shard in float64 would be four times its
    stored size): reviews, or with spec.segments their windows."""
    for features, y in rows.chunks():
        if spec.segments:
            values = head_inputs(features, spec).values
            for lo in range(0, len(values), STATS_ROWS):
                yield values[lo:lo + STATS_ROWS].astype(np.float64)
        else:
            for lo in range(0, len(y), STATS_ROWS):
                yield select(rows_of(features, spec, lo, lo + STATS_ROWS), spec).astype(np.float64)


def statistics(rows: Rows, spec: InputSpec) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and variance of the head's input rows (reviews, or windows with
    spec.segments), float64, in one streaming pass (chunks merged by Chan et al.'s pairwise
    update: as exact as computing them on every row at once)."""
    n, mean, m2 = 0, np.zeros(spec.dim), np.zeros(spec.dim)
    for x in _statistics_pieces(rows, spec):
        k = len(x)
        chunk_mean = x.mean(axis=0)
        chunk_m2 = ((x - chunk_mean) ** 2).sum(axis=0)
        delta = chunk_mean - mean
        total = n + k
        mean = mean + delta * (k / total)
        m2 = m2 + chunk_m2 + delta ** 2 * (n * k / total)
        n = total
    return mean, m2 / max(n, 1)


class FusedAdam:
    """Keras's Adam (same defaults, same update), each variable's step one fused kernel: reading and
    writing the weights and both moments once. Keras 3's Adam runs each update as a chain of
    elementwise ops, and at batch 64 those passes over an ensemble's 18 M weights, not the matmuls,
    would bound a step."""

    def __init__(self, variables, lr: float, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7):
        self.variables, self.lr, self.beta_1, self.beta_2, self.epsilon = variables, lr, beta_1, beta_2, epsilon
        self.moments = [(tf.Variable(tf.zeros(v.shape)), tf.Variable(tf.zeros(v.shape))) for v in variables]
        self.steps = tf.Variable(0.0)

    def apply(self, grads) -> None:
        self.steps.assign_add(1.0)
        b1, b2 = tf.pow(self.beta_1, self.steps), tf.pow(self.beta_2, self.steps)
        for var, grad, (m, v) in zip(self.variables, grads, self.moments):
            tf.raw_ops.ResourceApplyAdam(var=var.value.handle, m=m.handle, v=v.handle, beta1_power=b1,
                                         beta2_power=b2, lr=self.lr, beta1=self.beta_1, beta2=self.beta_2,
                                         epsilon=self.epsilon, grad=grad)


class Trainer:
    """One model of N heads, its optimizer, and the compiled loops that train and score it."""

    def __init__(self, cfg: HeadConfig, spec: InputSpec, n_classes: int, stats, seeds):
        keras.utils.set_random_seed(seeds[0])
        self.cfg, self.spec, self.n_classes, self.n = cfg, spec, n_classes, len(seeds)
        self.model, self.heads = build_heads(spec.dim, cfg, (len(spec.poolings), len(spec.layers), spec.hidden_size),
                                             standardize=stats, n_classes=n_classes, seeds=seeds)
        self.normalize = self.model.get_layer("standardize") if stats is not None else None
        batch, heads, binary = cfg.batch_size, self.heads, n_classes == 2
        adam = FusedAdam(heads.trainable_variables, cfg.lr)

        def inputs(x):
            return self.normalize(x) if self.normalize is not None else x

        def losses(z, y):
            if binary:
                per_row = tf.nn.sigmoid_cross_entropy_with_logits(tf.broadcast_to(y[:, None], tf.shape(z)), z)
            else:
                labels = tf.broadcast_to(tf.cast(y, tf.int32)[:, None], tf.shape(z)[:2])
                per_row = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, z)
            return tf.reduce_mean(per_row, axis=0)  # [N]

        @tf.function(reduce_retracing=True)
        def train_buffer(x, y, starts=None):
            # The buffer's batches in one call into TensorFlow: per-step Python overhead would
            # otherwise dominate an epoch of a small head. starts (with --segments): where each
            # review's windows begin in x, and the end; a batch is then its reviews' windows.
            steps = (tf.shape(y)[0] + batch - 1) // batch
            total, correct = tf.zeros([self.n]), tf.zeros([self.n])
            for i in tf.range(steps):
                lo, hi = i * batch, tf.minimum((i + 1) * batch, tf.shape(y)[0])
                yb, review = y[lo:hi], None
                if starts is None:
                    xb = x[lo:hi]
                else:
                    xb = x[starts[lo]:starts[hi]]
                    review = tf.repeat(tf.range(hi - lo), tf.cast(starts[lo + 1:hi + 1] - starts[lo:hi], tf.int32))
                with tf.GradientTape() as tape:
                    z = heads.logits(inputs(xb), training=True, review=review)
                    loss = losses(z, yb)
                    summed = tf.reduce_sum(loss)  # each head's gradient is its own loss's
                adam.apply(tape.gradient(summed, heads.trainable_variables))
                rows = tf.cast(hi - lo, tf.float32)
                total += loss * rows
                pred = tf.cast(z > 0, tf.float32) if binary else tf.cast(tf.argmax(z, axis=-1), tf.float32)
                correct += tf.reduce_sum(tf.cast(tf.equal(pred, tf.cast(yb, tf.float32)[:, None]), tf.float32),
                                         axis=0)
            return total, correct

        @tf.function(reduce_retracing=True)
        def logits(x, review=None):
            return heads.logits(inputs(x), training=False, review=review)

        self._train_buffer, self._logits = train_buffer, logits

    def epoch(self, rows: Rows, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
        """One pass over the rows, shuffled; each head's mean training loss and accuracy, and seconds."""
        start, n = time.perf_counter(), 0
        total, correct = np.zeros(self.n), np.zeros(self.n)
        dtype = np.float32 if self.n_classes == 2 else np.int32
        # A review's windows or tokens vary by corpus (IMDB: about 3 windows; SST-5: about 27 tokens):
        # their bytes are measured on the first chunk read.
        row_bytes = None if self.spec.segments else 4 * self.spec.dim
        for x, y in rows.shuffled(lambda f: head_inputs(f, self.spec), row_bytes, self.cfg.batch_size, seed):
            labels = tf.constant(y.astype(dtype))
            if isinstance(x, Windows):
                t, c = self._train_buffer(tf.constant(x.values), labels, tf.constant(x.starts()))
            else:
                t, c = self._train_buffer(tf.constant(x), labels)
            total, correct, n = total + t.numpy(), correct + c.numpy(), n + len(y)
        return total / max(n, 1), correct / max(n, 1), time.perf_counter() - start

    def head_probabilities(self, rows: Rows) -> np.ndarray:
        """float64 [n, N, classes]: every head's probabilities of the rows, in reading order."""
        found = []
        for features, y in rows.chunks():
            for x, review in batches(head_inputs(features, self.spec), PREDICT_BATCH):
                z = (self._logits(tf.constant(x)) if review is None
                     else self._logits(tf.constant(x), tf.constant(review)))
                found.append(z.numpy().astype(np.float64))
        if not found:
            return np.zeros((0, self.n, self.n_classes))
        z = np.concatenate(found)
        if self.n_classes == 2:
            p = 1 / (1 + np.exp(-z))
            return np.stack([1 - p, p], axis=-1)
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    def snapshot(self) -> list[np.ndarray]:
        return [v.numpy() for v in self.heads.weights]

    def keep(self, kept: list[np.ndarray], current: list[np.ndarray], head: int) -> None:
        """Copy one head's part of every variable from current into kept."""
        for v, k, c in zip(self.heads.weights, kept, current):
            index = [slice(None)] * c.ndim
            index[self.heads.head_axis[v.path]] = head
            k[tuple(index)] = c[tuple(index)]

    def restore(self, kept: list[np.ndarray]) -> None:
        for v, k in zip(self.heads.weights, kept):
            v.assign(k)


def _shuffle_seed(cfg: HeadConfig, epoch: int) -> int:
    return cfg.seed * 1_000_003 + epoch


def fit_model(train: Rows, validation: Rows, cfg: HeadConfig, spec: InputSpec, n_classes: int,
              verbose: int = 0):
    """cfg.ensemble heads (seeds cfg.seed, cfg.seed + 1, ...) trained together, each early-stopped on
    the validation rows' accuracy (patience cfg.patience) and kept at its best epoch; more than
    one are averaged into one model (docs/results.md measures what that gains).
    Returns (model, history, summary): the summary's figures are the kept model's."""
    seeds = [cfg.seed + i for i in range(cfg.ensemble)]
    stats = statistics(train, spec) if cfg.standardize else None
    trainer = Trainer(cfg, spec, n_classes, stats, seeds)
    yv = validation.labels().astype(np.int64)
    n = len(seeds)
    curves = [{"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []} for _ in seeds]
    best, best_epoch, wait = np.full(n, -np.inf), np.zeros(n, int), np.zeros(n, int)
    kept, kept_probs, seconds = trainer.snapshot(), np.zeros((len(yv), n, n_classes)), []
    for epoch in range(cfg.epochs):
        loss, accuracy, took = trainer.epoch(train, _shuffle_seed(cfg, epoch))
        seconds.append(round(took, 3))
        probs = trainer.head_probabilities(validation)
        current = None
        for h in range(n):
            val_accuracy, val_loss = accuracy_and_loss(yv, probs[:, h])
            for key, value in zip(("loss", "accuracy", "val_loss", "val_accuracy"),
                                  (loss[h], accuracy[h], val_loss, val_accuracy)):
                curves[h][key].append(float(value))
            if wait[h] >= cfg.patience:
                continue  # stopped: it trains on with the others, but its kept epoch is final
            if val_accuracy > best[h]:
                best[h], best_epoch[h], wait[h] = val_accuracy, epoch, 0
                current = trainer.snapshot() if current is None else current
                trainer.keep(kept, current, h)
                kept_probs[:, h] = probs[:, h]
            else:
                wait[h] += 1
        if verbose:
            print(f"epoch {epoch + 1}: val_accuracy " + " ".join(f"{a:.4f}" for a in curves[0]["val_accuracy"][-1:]),
                  flush=True)
        if (wait >= cfg.patience).all():
            break
    trainer.restore(kept)
    epochs_run = [int(min(len(curves[h]["loss"]), best_epoch[h] + 1 + cfg.patience)) for h in range(n)]
    members = [{**curves[h], "best_epoch": int(best_epoch[h]) + 1, "epochs_run": epochs_run[h]} for h in range(n)]
    for h in range(n):  # each head's curve ends where it stopped, as when heads trained one by one
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            members[h][key] = members[h][key][:epochs_run[h]]
    mean_probs = kept_probs.mean(axis=1)
    val_accuracy, val_loss = accuracy_and_loss(yv, mean_probs)
    summary = {"val_accuracy": val_accuracy, "val_loss": val_loss if val_loss is not None else float("nan"),
               "epoch_seconds": seconds}
    if n == 1:
        history = {**{k: members[0][k] for k in ("loss", "accuracy", "val_loss", "val_accuracy")},
                   "best_epoch": members[0]["best_epoch"], "epochs_run": epochs_run[0], "epoch_seconds": seconds,
                   "layer_weights": mix_weights(trainer.model)}
        summary.update(best_epoch=members[0]["best_epoch"], epochs_run=epochs_run[0])
    else:
        history = {"members": members, "layer_weights": mix_weights(trainer.model), "epoch_seconds": seconds}
        summary.update(best_epoch=[m["best_epoch"] for m in members], epochs_run=epochs_run,
                       member_val_accuracy=[m["val_accuracy"][m["best_epoch"] - 1] for m in members])
    if not np.isfinite(np.asarray(curves[0]["loss"])).all():
        summary["val_loss"] = float("nan")
    return trainer.model, history, summary


def refit_model(rows: Rows, cfg: HeadConfig, spec: InputSpec, n_classes: int, best_epochs, verbose: int = 0):
    """Fresh heads trained on every given row, head h kept after best_epochs[h] epochs (an int for one
    head), chosen on validation before. Returns (model, history of the training loss and accuracy)."""
    counts = [best_epochs] if isinstance(best_epochs, int) else list(best_epochs)
    seeds = [cfg.seed + i for i in range(len(counts))]
    trainer = Trainer(cfg, spec, n_classes, statistics(rows, spec) if cfg.standardize else None, seeds)
    kept = trainer.snapshot()
    curves = [{"loss": [], "accuracy": []} for _ in seeds]
    for epoch in range(max(counts)):
        loss, accuracy, _ = trainer.epoch(rows, _shuffle_seed(cfg, epoch))
        current = None
        for h, count in enumerate(counts):
            if epoch < count:
                curves[h]["loss"].append(float(loss[h]))
                curves[h]["accuracy"].append(float(accuracy[h]))
            if epoch + 1 == count:
                current = trainer.snapshot() if current is None else current
                trainer.keep(kept, current, h)
    trainer.restore(kept)
    return trainer.model, (curves[0] if isinstance(best_epochs, int) else {"members": curves})

