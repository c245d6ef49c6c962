"""The seed's classifier head: Dense blocks with BatchNorm, ReLU and Dropout, then a sigmoid unit."""
from __future__ import annotations

import keras


def build_head(input_dim: int, hidden: list[int], dropout: list[float], lr: float) -> keras.Model:
    if len(hidden) != len(dropout):
        raise ValueError("hidden and dropout need one entry per layer")
    layers = [keras.Input(shape=(input_dim,), name="features")]
    for units, rate in zip(hidden, dropout):
        layers += [keras.layers.Dense(units), keras.layers.BatchNormalization(),
                   keras.layers.Activation("relu"), keras.layers.Dropout(rate)]
    layers.append(keras.layers.Dense(1, activation="sigmoid", name="positive"))
    model = keras.Sequential(layers, name="head")
    # Many small steps per call into TensorFlow: the head is tiny, so per-step Python overhead
    # would otherwise dominate an epoch. Results are the same step for step.
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="binary_crossentropy",
                  metrics=["accuracy"], steps_per_execution=64)
    return model
