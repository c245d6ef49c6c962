"""The lexical channel: a naive-Bayes weighted logistic regression on the cached n-grams
(train/lexical.py), early-stopped on validation."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import HeadConfig
from ..fusion import to_probabilities
from ..inputs import InputSpec
from ..lexical import LexicalConfig, LexicalModel, fit_lexical, scores
from .base import model_labels

LEXICAL_FILE = "lexical.npz"


class LexicalChannel:
    name = "lexical"
    files = (LEXICAL_FILE,)
    reads_bert, reads_ngrams, reads_segments = False, True, False

    def __init__(self, spec: InputSpec, labels: list[str], model: LexicalModel | None = None,
                 cfg: HeadConfig | None = None):
        # spec: the cache's columns as the config records them; this channel reads none of them.
        self.spec, self.labels, self.model, self.cfg = spec, list(labels), model, cfg
        self._history, self._variables = {}, None

    @classmethod
    def new(cls, cfg: HeadConfig, spec: InputSpec, labels: list[str]) -> "LexicalChannel":
        return cls(spec, labels, cfg=cfg)

    def _config(self) -> LexicalConfig:
        return LexicalConfig(l2=self.cfg.lexical_l2, min_df=self.cfg.min_df)

    def fit(self, train, validation, verbose: int = 0) -> None:
        self.model, self._history["lexical"] = fit_lexical(train, validation, len(self.labels), self._config(),
                                                           verbose=verbose)

    def refit(self, everything, parts: str, verbose: int = 0) -> None:
        self.model, self._history["lexical_refit"] = fit_lexical(
            everything, None, len(self.labels), self._config(), steps=self._history["lexical"]["best_step"],
            verbose=verbose)

    def scores(self, features: dict) -> np.ndarray:
        return self.model.scores(features["ngrams"])

    def probabilities(self, features: dict) -> np.ndarray:
        return np.asarray(to_probabilities(self.scores(features)))

    def serving_scores(self, inputs):
        v = self.trackables()
        return scores(v["lexical_vocab"], v["lexical_weights"], v["lexical_bias"], inputs.ngram_ids())

    def serving_probabilities(self, inputs):
        return to_probabilities(self.serving_scores(inputs))

    def trackables(self) -> dict:
        """The model as variables, made once: the exported graph holds them."""
        import tensorflow as tf

        if self._variables is None:
            m = self.model
            self._variables = {"lexical_vocab": tf.Variable(m.vocab, trainable=False, name="lexical_vocab"),
                               "lexical_weights": tf.Variable(m.weights, trainable=False, name="lexical_weights"),
                               "lexical_bias": tf.Variable(m.bias, trainable=False, name="lexical_bias")}
        return self._variables

    def summary(self) -> dict:
        history = self._history["lexical"]
        lexical = {k: history[k] for k in ("best_step", "steps_run", "vocab", "seconds")}
        lexical["val_accuracy"] = history["val_accuracy"][history["best_evaluation"] - 1]
        return {"best_epoch": None, "epochs_run": None, "seconds_per_epoch": None, "layer_weights": None,
                "ensemble": None, "head_val_accuracy": None, "lexical": lexical, "fusion": None,
                "linear": None}

    def history(self) -> dict:
        return self._history

    def save(self, folder: Path) -> None:
        self.model.save(Path(folder) / LEXICAL_FILE)

    @classmethod
    def load(cls, folder: Path, config: dict) -> "LexicalChannel":
        return cls(InputSpec.from_dict(config["input"]), model_labels(config),
                   LexicalModel.load(Path(folder) / LEXICAL_FILE))
