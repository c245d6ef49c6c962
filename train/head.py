"""The original recipe's classifier head: Dense blocks with BatchNorm, ReLU and Dropout, then a sigmoid unit,
optionally behind a mix of the encoder's layers and a standardisation of the features; N of them side
by side for an ensemble."""
from __future__ import annotations

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="multilayer_bert_sentiment")
class LayerMix(keras.layers.Layer):
    """Kept so that model dirs written before Heads load. Mixes per-layer features
    [batch, poolings * layers * hidden] into [batch, poolings * hidden].

    'mean' averages the layers; 'learned' is ELMo's scalar mix: softmax-normalised weights, one per
    layer, and a scale, trained with the head.
    """

    def __init__(self, poolings: int, layers: int, hidden: int, learned: bool, **kwargs):
        super().__init__(**kwargs)
        self.poolings, self.layers, self.hidden, self.learned = poolings, layers, hidden, learned

    def build(self, input_shape):
        self.logits = self.add_weight(shape=(self.layers,), initializer="zeros", name="layer_logits",
                                      trainable=self.learned)
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale", trainable=self.learned)

    def layer_weights(self):
        return ops.softmax(self.logits)

    def call(self, x):
        x = ops.reshape(x, (-1, self.poolings, self.layers, self.hidden))
        w = ops.reshape(self.layer_weights(), (1, 1, self.layers, 1))
        return ops.reshape(ops.sum(x * w, axis=2) * self.scale, (-1, self.poolings * self.hidden))

    def get_config(self):
        return {**super().get_config(), "poolings": self.poolings, "layers": self.layers,
                "hidden": self.hidden, "learned": self.learned}


def glorot(rng: np.random.Generator, fan_in: int, fan_out: int, shape) -> np.ndarray:
    """Keras's default Dense initialiser (Glorot uniform), drawn from a head's own generator."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(np.float32)


@keras.saving.register_keras_serializable(package="multilayer_bert_sentiment")
class Heads(keras.layers.Layer):
    """N heads of the original recipe side by side: per head, Dense blocks with BatchNorm, ReLU and
    Dropout, then the output unit(s); optionally behind a mix of the encoder's layers.

    The heads share the input, so the first layer of all N is one matmul [batch, input] x
    [input, N * units], and each later layer one batched matmul: reading and feeding the data is
    paid once for the ensemble, and the matmuls are large. No variable is shared between heads,
    and the training loss is the sum of the heads' losses, so each head learns as if alone (on the
    same batches); each is initialised from its own seed.

    logits(x, training) gives [batch, N] (two classes: each head's log-odds of the second class) or
    [batch, N, classes]; calling the layer gives the heads' mean probabilities, [batch, 1] or
    [batch, classes], which is what a model dir's model outputs.

    mix: None (concatenated layers), or (poolings, layers, hidden size, learned): 'mean' averages
    the encoder's layers, 'learned' is ELMo's scalar mix, softmax weights and a scale, per head.
    With no hidden layers each head is a logistic regression (the linear head).

    ordinal (more than two classes, in their order): a cumulative-link head (McCullagh 1980) that
    gives one score s per head and learns K - 1 increasing thresholds t, P(y <= k) = sigmoid(t_k - s).
    Its logits are the log-probabilities of the K classes, so the softmax loss, the temperature and
    every reader of logits take it unchanged: softmax(log p) = p. A neutral class then sits between
    its neighbours by construction instead of competing with them as an unordered fifth.

    segments ('mean', 'max' or 'attention'): the rows are a review's windows (or tokens), and the
    layer is called on [their features, each row's review (0 .. reviews - 1)]. The hidden layers run
    on every row, and their last output is pooled over each review's rows before the output layer:
    their mean, their max, or attention, a softmax over a review's rows of a learned score per row
    (one vector per head, initialised to zeros, so that it starts as the mean). A review's words
    then count where they are said, not diluted by the average of its other windows (or words).
    """

    def __init__(self, heads: int, hidden, dropout, n_classes: int, input_dim: int, seeds, mix=None,
                 ordinal: bool = False, segments: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.heads, self.hidden, self.dropout = heads, [int(h) for h in hidden], [float(d) for d in dropout]
        self.n_classes, self.input_dim, self.seeds = n_classes, input_dim, [int(s) for s in seeds]
        self.mix = list(mix) if mix else None
        self.ordinal = bool(ordinal) and n_classes > 2
        self.segments = None if segments in (None, "none") else str(segments)
        self.outputs_per_head = 1 if n_classes == 2 or self.ordinal else n_classes
        self.dropout_seed = keras.random.SeedGenerator(self.seeds[0])
        self.head_axis: dict[str, int] = {}

    def _weight(self, name, value, axis, trainable=True):
        v = self.add_weight(shape=value.shape, initializer="zeros", name=name, trainable=trainable)
        v.assign(value)  # drawn here, per head: an initializer object would be saved with the model
        self.head_axis[v.path] = axis
        return v

    def build(self, input_shape):
        n, rngs = self.heads, [np.random.default_rng(s) for s in self.seeds]
        width = self.input_dim
        self.learned = bool(self.mix and self.mix[3])
        if self.mix:
            poolings, layers, size, _ = self.mix
            width = poolings * size
            self.layer_logits = self._weight("layer_logits", np.zeros((n, layers), np.float32), 0, self.learned)
            self.scale = self._weight("scale", np.ones(n, np.float32), 0, self.learned)
        self.blocks = []
        for i, units in enumerate(self.hidden):
            if i == 0 and not self.learned:  # one matmul for every head: [input, N, units]
                kernel = np.stack([glorot(r, width, units, (width, units)) for r in rngs], axis=1)
                axis = 1
            else:
                kernel = np.stack([glorot(r, width, units, (width, units)) for r in rngs])
                axis = 0
            zeros, ones = np.zeros((n, units), np.float32), np.ones((n, units), np.float32)
            self.blocks.append({
                "kernel": self._weight(f"kernel_{i}", kernel, axis), "bias": self._weight(f"bias_{i}", zeros, 0),
                "gamma": self._weight(f"gamma_{i}", ones, 0), "beta": self._weight(f"beta_{i}", zeros, 0),
                "moving_mean": self._weight(f"moving_mean_{i}", zeros, 0, trainable=False),
                "moving_variance": self._weight(f"moving_variance_{i}", ones, 0, trainable=False)})
            width = units
        if self.segments == "attention":
            self.attention = self._weight("attention", np.zeros((n, width), np.float32), 0)
        k = self.outputs_per_head
        self.out_kernel = self._weight("out_kernel", np.stack([glorot(r, width, k, (width, k)) for r in rngs]), 0)
        self.out_bias = self._weight("out_bias", np.zeros((n, k), np.float32), 0)
        if self.ordinal:  # thresholds 1 apart around 0: the first, then softplus gaps (kept increasing)
            cuts = self.n_classes - 1
            first = np.full((n, 1), -(cuts - 1) / 2 / THRESHOLD_UNITS, np.float32)
            self.cut_first = self._weight("cut_first", first, 0)
            gap = np.log(np.expm1(1.0 / THRESHOLD_UNITS))  # THRESHOLD_UNITS * softplus(gap) = 1
            self.cut_gaps = self._weight("cut_gaps", np.full((n, cuts - 1), gap, np.float32), 0)

    def layer_weights(self):
        """[N, layers]: each head's softmax weights of the encoder's layers."""
        return ops.softmax(self.layer_logits, axis=-1)

    def _mixed(self, x):
        poolings, layers, size, _ = self.mix
        x = ops.reshape(x, (-1, poolings, layers, size))
        w = self.layer_weights()
        if not self.learned:  # the same mean for every head: the first matmul stays shared
            mixed = ops.einsum("bpls,l->bps", x, w[0]) * self.scale[0]
            return ops.reshape(mixed, (-1, poolings * size))
        mixed = ops.einsum("bpls,nl->bnps", x, w) * ops.reshape(self.scale, (1, -1, 1, 1))
        return ops.reshape(mixed, (-1, self.heads, poolings * size))

    def logits(self, x, training=False, review=None):
        """review: with segments, each row's review (int32 [windows]); the logits are then per review."""
        x = self._mixed(x) if self.mix else x
        for i, (block, rate) in enumerate(zip(self.blocks, self.dropout)):
            kernel = block["kernel"]
            if i == 0 and not self.learned:  # [batch, input] x [input, N * units]
                width = ops.shape(kernel)[0]
                h = ops.reshape(ops.matmul(x, ops.reshape(kernel, (width, -1))), (-1, self.heads, kernel.shape[2]))
            else:  # [batch, N, in] x [N, in, units]
                h = ops.einsum("bni,niu->bnu", x, kernel)
            h = h + block["bias"]
            if training:  # batch statistics per head and unit, and the moving averages Keras keeps
                mean, variance = ops.mean(h, axis=0), ops.var(h, axis=0)
                block["moving_mean"].assign(block["moving_mean"] * MOMENTUM + mean * (1 - MOMENTUM))
                block["moving_variance"].assign(block["moving_variance"] * MOMENTUM + variance * (1 - MOMENTUM))
            else:
                mean, variance = block["moving_mean"], block["moving_variance"]
            h = (h - mean) * ops.rsqrt(variance + EPSILON) * block["gamma"] + block["beta"]
            h = ops.relu(h)
            if training and rate > 0:
                h = keras.random.dropout(h, rate, seed=self.dropout_seed)
            x = h
        if self.segments:
            x = self._pooled(x, review)
        # No hidden layer (the linear head): x is still the shared input [batch, input].
        shared = len(x.shape) == 2
        z = ops.einsum("bi,nik->bnk" if shared else "bni,nik->bnk", x, self.out_kernel) + self.out_bias
        if self.ordinal:
            return self._ordinal_log_probabilities(z)
        return z[:, :, 0] if self.n_classes == 2 else z

    def _pooled(self, h, review):
        """[reviews, N, units] from the rows' last hidden layer h [windows or tokens, N, units]."""
        n = ops.maximum(ops.max(review) + 1, 0)  # every review has a window; none: an empty batch
        if self.segments == "max":
            return ops.segment_max(h, review, n)
        if self.segments == "mean":
            weights = ops.ones_like(h[:, :, :1])
        else:  # a softmax over each review's windows, per head, shifted by its max for stability
            score = ops.einsum("wnu,nu->wn", h, self.attention)
            score = score - ops.take(ops.segment_max(score, review, n), review, axis=0)
            weights = ops.exp(score)[:, :, None]
        total = ops.take(ops.segment_sum(weights, review, n), review, axis=0)
        return ops.segment_sum(h * (weights / total), review, n)

    def thresholds(self):
        """[N, K - 1]: each ordinal head's increasing thresholds."""
        steps = ops.concatenate([self.cut_first, ops.softplus(self.cut_gaps)], axis=1)
        return THRESHOLD_UNITS * ops.cumsum(steps, axis=1)

    def _ordinal_log_probabilities(self, z):
        """[batch, N, K] log-probabilities from scores z [batch, N, 1]: differences of the cumulative
        probabilities sigmoid(t_k - s), floored where float32 cannot tell two thresholds apart."""
        below = ops.sigmoid(self.thresholds()[None, :, :] - z)  # P(y <= k), k < K - 1
        zeros, ones = ops.zeros_like(below[:, :, :1]), ops.ones_like(below[:, :, :1])
        cumulative = ops.concatenate([zeros, below, ones], axis=2)
        return ops.log(ops.maximum(cumulative[:, :, 1:] - cumulative[:, :, :-1], 1e-7))

    def call(self, inputs):
        x, review = inputs if self.segments else (inputs, None)
        z = self.logits(x, training=False, review=review)
        if self.n_classes == 2:
            return ops.mean(ops.sigmoid(z), axis=1, keepdims=True)
        return ops.mean(ops.softmax(z, axis=-1), axis=1)

    def get_config(self):
        return {**super().get_config(), "heads": self.heads, "hidden": self.hidden, "dropout": self.dropout,
                "n_classes": self.n_classes, "input_dim": self.input_dim, "seeds": self.seeds, "mix": self.mix,
                "ordinal": self.ordinal, "segments": self.segments}


# The ordinal thresholds are learned in units of this many: Adam moves every weight by about its
# learning rate a step, and the thresholds, a few numbers, must keep pace with the score, whose
# scale the output layer's many weights move together; learned at the head's own rate they lag,
# and the middle classes are squeezed out. Chosen on SST-5's validation split among 1, 10, 30 and
# 100 (docs/results.md, "Past the frozen-encoder results").
THRESHOLD_UNITS = 100.0
MOMENTUM, EPSILON = 0.99, 1e-3  # Keras BatchNormalization's defaults, as the original recipe had them


def build_heads(input_dim: int, cfg, shape: tuple[int, int, int] | None = None, standardize=None,
                n_classes: int = 2, seeds=None) -> tuple[keras.Model, "Heads"]:
    """The model of a HeadConfig (hidden, dropout, layer_mix, ensemble) and its Heads layer: features
    [batch, input] -> mean probability [batch, 1] (two classes) or probabilities [batch, classes].
    shape = (poolings, layers, hidden size) of the input, needed unless layer_mix is 'concat'; seeds,
    one per head (default cfg.seed, cfg.seed + 1, ...).

    standardize = (mean, variance) per feature, from the training rows: the model then scales its
    input to zero mean and unit variance itself, so evaluate, predict and the exported model apply
    the same statistics. BERT layers differ in scale by an order of magnitude, and the original
    recipe's head sees them raw; standardised, every layer starts on an equal footing.
    """
    if len(cfg.hidden) != len(cfg.dropout):
        raise ValueError("hidden and dropout need one entry per layer")
    seeds = seeds if seeds is not None else [cfg.seed + i for i in range(cfg.ensemble)]
    mix = None if cfg.layer_mix == "concat" else (*shape, cfg.layer_mix == "learned")
    features = keras.Input(shape=(input_dim,), name="features")
    x = features
    if standardize is not None:
        mean, variance = standardize
        x = keras.layers.Normalization(mean=mean, variance=variance, name="standardize")(x)
    heads = Heads(len(seeds), cfg.hidden, cfg.dropout, n_classes, input_dim, seeds, mix, cfg.ordinal, cfg.segments,
                  name="positive" if n_classes == 2 else "probabilities")
    name = "ensemble" if len(seeds) > 1 else "head"
    if heads.segments:  # rows are windows; the second input says whose
        review = keras.Input(shape=(), dtype="int32", name="review")
        return keras.Model([features, review], heads([x, review]), name=name), heads
    return keras.Model(features, heads(x), name=name), heads


def mix_weights(model: keras.Model) -> list[float] | None:
    """The layer weights a head mixes with (softmax of the learned logits), or None for concat; for
    an ensemble, the mean over its heads."""
    found = [keras.ops.convert_to_numpy(layer.layer_weights()) for layer in _layers(model)
             if isinstance(layer, LayerMix)]
    found += [w for layer in _layers(model) if isinstance(layer, Heads) and layer.mix
              for w in keras.ops.convert_to_numpy(layer.layer_weights())]
    return [float(w) for w in sum(found) / len(found)] if found else None


def _layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
