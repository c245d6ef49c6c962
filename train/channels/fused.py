"""The fused channel: the BERT head and the lexical model, their scores mixed with one weight and
scaled by one temperature, both chosen on the validation rows (train/fusion.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import HeadConfig
from ..fusion import fit_fusion, fused_probabilities
from ..inputs import InputSpec
from .bert import BertChannel
from .lexical import LexicalChannel


class FusedChannel:
    name = "fused"
    files = BertChannel.files + LexicalChannel.files
    reads_bert, reads_ngrams = True, True

    def __init__(self, bert: BertChannel, lexical: LexicalChannel, fusion: dict | None = None):
        self.bert, self.lexical, self.fusion = bert, lexical, fusion
        self.labels, self.spec = bert.labels, bert.spec

    @classmethod
    def new(cls, cfg: HeadConfig, spec: InputSpec, labels: list[str]) -> "FusedChannel":
        return cls(BertChannel.new(cfg, spec, labels), LexicalChannel.new(cfg, spec, labels))

    @property
    def head(self):
        return self.bert.head

    def fit(self, train, validation, verbose: int = 0) -> None:
        self.bert.fit(train, validation, verbose)
        self.lexical.fit(train, validation, verbose)
        head, lexical, yv = [], [], []
        for features, y in validation.chunks():
            head.append(self.bert.probabilities(features))
            lexical.append(self.lexical.scores(features))
            yv.append(y)
        self.fusion = fit_fusion(np.concatenate(head), np.concatenate(lexical), np.concatenate(yv))

    def refit(self, everything, parts: str, verbose: int = 0) -> None:
        self.bert.refit(everything, parts, verbose)
        self.lexical.refit(everything, parts, verbose)

    def probabilities(self, features: dict) -> np.ndarray:
        return np.asarray(fused_probabilities(self.bert.probabilities(features), self.lexical.scores(features),
                                              self.fusion))

    def serving_probabilities(self, inputs):
        return fused_probabilities(self.bert.serving_probabilities(inputs), self.lexical.serving_scores(inputs),
                                   self.fusion)

    def trackables(self) -> dict:
        return {**self.bert.trackables(), **self.lexical.trackables()}

    def summary(self) -> dict:
        return {**self.bert.summary(), "head_val_accuracy": self.bert.val_accuracy(),
                "lexical": self.lexical.summary()["lexical"], "fusion": self.fusion}

    def history(self) -> dict:
        return {**self.bert.history(), **self.lexical.history(), "fusion": self.fusion}

    def save(self, folder: Path) -> None:
        self.bert.save(folder)
        self.lexical.save(folder)

    @classmethod
    def load(cls, folder: Path, config: dict) -> "FusedChannel":
        return cls(BertChannel.load(folder, config), LexicalChannel.load(folder, config), config.get("fusion"))
