"""The original recipe's classifier head: Dense blocks with BatchNorm, ReLU and Dropout, then a sigmoid unit,
optionally behind a mix of the encoder's layers and a standardisation of the features."""
from __future__ import annotations

import keras
from keras import ops



@keras.saving.register_keras_serializable(package="multilayer_bert_sentiment")
class LayerMix(keras.layers.Layer):
    """Mixes per-layer features [batch, poolings * layers * hidden] into [batch, poolings * hidden].

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


def build_head(input_dim: int, cfg, shape: tuple[int, int, int] | None = None, standardize=None,
               name: str = "head", n_classes: int = 2) -> keras.Model:
    """The head of a HeadConfig (hidden, dropout, lr, layer_mix). shape = (poolings, layers, hidden
    size) of the input; needed unless layer_mix is 'concat'.

    Two classes: the original recipe's head exactly, one sigmoid unit (the second class's probability) and
    binary cross-entropy. More: the same hidden stack, a softmax over the classes and categorical
    cross-entropy.

    standardize = (mean, variance) per feature, from the training rows: the model then scales its
    input to zero mean and unit variance itself, so evaluate, predict and the exported model apply
    the same statistics. BERT layers differ in scale by an order of magnitude, and the original
    recipe's head sees them raw; standardised, every layer starts on an equal footing.
    """
    hidden, dropout, lr, layer_mix = list(cfg.hidden), list(cfg.dropout), cfg.lr, cfg.layer_mix
    if len(hidden) != len(dropout):
        raise ValueError("hidden and dropout need one entry per layer")
    layers = [keras.Input(shape=(input_dim,), name="features")]
    if standardize is not None:
        mean, variance = standardize
        layers.append(keras.layers.Normalization(mean=mean, variance=variance, name="standardize"))
    if layer_mix != "concat":
        layers.append(LayerMix(*shape, learned=layer_mix == "learned", name="layer_mix"))
    for units, rate in zip(hidden, dropout):
        layers += [keras.layers.Dense(units), keras.layers.BatchNormalization(),
                   keras.layers.Activation("relu"), keras.layers.Dropout(rate)]
    binary = n_classes == 2
    layers.append(keras.layers.Dense(1, activation="sigmoid", name="positive") if binary else
                  keras.layers.Dense(n_classes, activation="softmax", name="probabilities"))
    model = keras.Sequential(layers, name=name)
    # Many small steps per call into TensorFlow: the head is tiny, so per-step Python overhead
    # would otherwise dominate an epoch. Results are the same step for step.
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr),
                  loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
                  metrics=["accuracy"], steps_per_execution=64)
    return model


def average_heads(heads: list[keras.Model], input_dim: int) -> keras.Model:
    """One model whose output is the mean of the heads' probabilities: an ensemble that evaluate,
    predict and export load and call like a single head."""
    features = keras.Input(shape=(input_dim,), name="features")
    # Left uncompiled: it is never trained as a whole, and a compiled one would save an optimizer
    # that loading then warns about.
    name = "positive" if heads[0].outputs[0].shape[-1] == 1 else "probabilities"
    return keras.Model(features, keras.layers.Average(name=name)([h(features) for h in heads]), name="ensemble")


def mix_weights(model: keras.Model) -> list[float] | None:
    """The layer weights a head mixes with (softmax of the learned logits), or None for concat; for
    an ensemble, the mean over its heads."""
    found = [keras.ops.convert_to_numpy(layer.layer_weights()) for layer in _layers(model)
             if isinstance(layer, LayerMix)]
    return [float(w) for w in sum(found) / len(found)] if found else None


def _layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
