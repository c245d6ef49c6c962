"""The BERT channel: the Keras head (the original recipe's MLP, one or an ensemble of them
averaged, early-stopped on validation; or a logistic regression, train/linear.py) on the cached
per-layer features."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...common.errors import BadInput
from ..config import HeadConfig
from ..inputs import InputSpec, batches, head_inputs
from ..metrics import class_probabilities
from .base import model_labels

MODEL_FILE = "model.keras"
PREDICT_BATCH = 4096


class BertChannel:
    name = "bert"
    files = (MODEL_FILE,)
    reads_bert, reads_ngrams = True, False

    def __init__(self, spec: InputSpec, labels: list[str], head=None, cfg: HeadConfig | None = None):
        self.spec, self.labels, self.head, self.cfg = spec, list(labels), head, cfg
        self._call = None
        self._history, self._fitted = {}, {}

    @property
    def reads_segments(self) -> bool:
        return self.spec.segments

    @classmethod
    def new(cls, cfg: HeadConfig, spec: InputSpec, labels: list[str]) -> "BertChannel":
        return cls(spec, labels, cfg=cfg)

    def fit(self, train, validation, verbose: int = 0) -> None:
        from ..fit import fit_model  # Keras, imported when a head is trained
        from ..linear import fit_linear

        self._call = None
        fit = fit_linear if self.cfg.head == "linear" else fit_model
        self.head, self._history, self._fitted = fit(train, validation, self.cfg, self.spec, len(self.labels),
                                                     verbose)
        if not np.isfinite(self._fitted["val_loss"]):
            raise BadInput(f"--lr {self.cfg.lr}: training diverged (the validation loss is not a number); lower "
                           "the learning rate (nothing was written)")

    def refit(self, everything, parts: str, verbose: int = 0) -> None:
        if parts != "all":
            return
        from ..fit import refit_model
        from ..linear import refit_linear

        self._call = None
        # The linear head is solved again for its chosen L2; the MLP trains for its chosen epochs.
        refit, chosen = ((refit_linear, self._fitted["linear"]["l2"]) if self.cfg.head == "linear" else
                         (refit_model, self._fitted["best_epoch"]))
        self.head, self._history["refit"] = refit(everything, self.cfg, self.spec, len(self.labels), chosen, verbose)

    def probabilities(self, features: dict) -> np.ndarray:
        import tensorflow as tf

        x = tf.TensorSpec([None, self.spec.dim], tf.float32)
        if self._call is None:  # traced once for every chunk (model.predict retraces)
            self._call = (tf.function(lambda x, review: self.head([x, review], training=False),
                                      input_signature=[x, tf.TensorSpec([None], tf.int32)]) if self.spec.segments
                          else tf.function(lambda x: self.head(x, training=False), input_signature=[x]))
        inputs = head_inputs(features, self.spec)
        if not len(inputs):
            return np.zeros((0, len(self.labels)))
        output = np.concatenate([self._call(*[tf.constant(a) for a in (x, review) if a is not None]).numpy()
                                 for x, review in batches(inputs, PREDICT_BATCH)])
        return class_probabilities(output, len(self.labels))

    def serving_probabilities(self, inputs):
        import tensorflow as tf

        spec = self.spec
        if spec.segments:
            pooled, review = inputs.segments(spec.poolings)
        else:
            pooled, review = inputs.pooled(spec.poolings), None
        rows = tf.shape(pooled[spec.poolings[0]])[0]
        x = tf.concat([tf.reshape(tf.gather(pooled[p], list(spec.layers), axis=1), [rows, -1])
                       for p in spec.poolings], axis=1)
        out = tf.cast(self.head(x if review is None else [x, review], training=False), tf.float64)
        return tf.concat([1.0 - out, out], axis=1) if len(self.labels) == 2 else out

    def trackables(self) -> dict:
        return {"head": self.head}

    def summary(self) -> dict:
        from ..head import mix_weights

        cfg, fitted = self.cfg, self._fitted
        weights = mix_weights(self.head)  # of the head kept: the refit one when there is one
        return {
            "best_epoch": fitted["best_epoch"], "epochs_run": fitted["epochs_run"],
            # An epoch trains every head of an ensemble at once.
            "seconds_per_epoch": round(float(np.mean(fitted["epoch_seconds"])), 3) if fitted["epoch_seconds"] else None,
            "layer_weights": {str(layer): w for layer, w in zip(self.spec.layers, weights)} if weights else None,
            "ensemble": {"heads": cfg.ensemble, "seeds": [cfg.seed + i for i in range(cfg.ensemble)],
                         "member_val_accuracy": fitted["member_val_accuracy"]} if cfg.ensemble > 1 else None,
            "head_val_accuracy": None, "lexical": None, "fusion": None, "linear": fitted.get("linear")}

    def val_accuracy(self) -> float:
        """The head's own validation accuracy at the kept epoch (or the ensemble's)."""
        return self._fitted["val_accuracy"]

    def history(self) -> dict:
        return self._history

    def save(self, folder: Path) -> None:
        self.head.save(Path(folder) / MODEL_FILE)

    @classmethod
    def load(cls, folder: Path, config: dict) -> "BertChannel":
        return cls(InputSpec.from_dict(config["input"]), model_labels(config), load_head(folder))


def load_head(folder):
    import keras

    from .. import head  # noqa: F401  registers the custom LayerMix layer for loading

    try:
        return keras.models.load_model(Path(folder) / MODEL_FILE)
    except Exception as e:  # keras raises many types for a damaged file
        raise BadInput(f"{folder}: cannot load the model ({str(e).splitlines()[0][:200]}); train it again")
