"""The fused channel: the BERT head and the lexical model, their scores mixed with one weight and
one temperature chosen on the validation rows, or stacked by a logistic regression learned on their
out-of-fold scores of the training rows (--fusion stack; train/fusion.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .. import rows as rows_of
from ..config import HeadConfig
from ..fusion import fit_fusion, fit_stack, fused_probabilities
from ..inputs import InputSpec
from .bert import BertChannel
from .lexical import LexicalChannel


class FusedChannel:
    name = "fused"
    files = BertChannel.files + LexicalChannel.files
    reads_bert, reads_ngrams = True, True

    def __init__(self, bert: BertChannel, lexical: LexicalChannel, fusion: dict | None = None,
                 cfg: HeadConfig | None = None):
        self.bert, self.lexical, self.fusion, self.cfg = bert, lexical, fusion, cfg
        self.labels, self.spec = bert.labels, bert.spec

    @classmethod
    def new(cls, cfg: HeadConfig, spec: InputSpec, labels: list[str]) -> "FusedChannel":
        return cls(BertChannel.new(cfg, spec, labels), LexicalChannel.new(cfg, spec, labels), cfg=cfg)

    @property
    def head(self):
        return self.bert.head

    @property
    def reads_segments(self) -> bool:
        return self.bert.reads_segments

    def fit(self, train, validation, verbose: int = 0) -> None:
        stacked = self.cfg is not None and self.cfg.fusion == "stack"
        if stacked:
            oof = self._out_of_fold(train, validation, verbose)  # before the kept channels, which it leaves alone
        self.bert.fit(train, validation, verbose)
        self.lexical.fit(train, validation, verbose)
        if stacked:
            self.fusion = fit_stack(*oof, train.labels(), self.cfg.stack_folds)
        else:
            self.fusion = fit_fusion(*self._scores(self.bert, self.lexical, validation))

    @staticmethod
    def _scores(bert, lexical, rows):
        """(head probabilities, lexical scores, labels) of rows, in reading order."""
        head, scores, labels = [], [], []
        for features, y in rows.chunks():
            head.append(bert.probabilities(features))
            scores.append(lexical.scores(features))
            labels.append(y)
        return np.concatenate(head), np.concatenate(scores), np.concatenate(labels)

    def _out_of_fold(self, train, validation, verbose: int):
        """Each training row's head probabilities and lexical scores from channels trained, with the
        same options, on the other folds (early-stopped on the validation rows, as the kept ones)."""
        k = self.cfg.stack_folds
        fold = rows_of.folds(train, k, self.cfg.split_seed)
        head, scores = None, None
        for i in range(k):
            if verbose:
                print(f"stack: fold {i + 1} of {k}", file=sys.stderr, flush=True)
            fitted, held = rows_of.restrict(train, fold != i), rows_of.restrict(train, fold == i)
            bert = BertChannel.new(self.cfg, self.spec, self.labels)
            lexical = LexicalChannel.new(self.cfg, self.spec, self.labels)
            bert.fit(fitted, validation, verbose)
            lexical.fit(fitted, validation, verbose)
            h, s, _ = self._scores(bert, lexical, held)
            if head is None:
                head, scores = np.zeros((len(fold), h.shape[1])), np.zeros((len(fold), s.shape[1]))
            head[fold == i], scores[fold == i] = h, s
        return head, scores

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
