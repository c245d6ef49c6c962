"""The head's options and their defaults: one place for `train`, `sweep`, the CLI and the Python API."""
from __future__ import annotations

import dataclasses

from ..common.errors import BadInput
from ..common.options import KINDS, Option, as_list, at_least, between, finite

LAYER_MIXES = ("concat", "mean", "learned")
VAL_FRACTION = 0.2  # validation rows carved from train when the cache has no validation split


@dataclasses.dataclass(frozen=True)
class HeadConfig:
    lr: float = 5e-4
    batch_size: int = 64
    epochs: int = 20
    patience: int = 2
    hidden: tuple[int, ...] = (256, 128, 64)
    dropout: tuple[float, ...] = (0.4, 0.3, 0.2)
    val_fraction: float | None = None  # share of train held out for validation; None: the cache's
    # validation split when it has one, else 0.2 (VAL_FRACTION)
    seed: int = 0  # the head's initialisation and shuffling; ensembles use seed, seed + 1, ...
    split_seed: int = 0  # which training rows are held out for validation: the same for every head seed
    layers: str = "all"
    pooling: tuple[str, ...] | None = None  # None: the cache's first pooling
    layer_mix: str = "concat"
    standardize: bool = True  # False: the original recipe's head exactly, raw features in
    ensemble: int = 1  # heads with seeds seed, seed + 1, ...; their probabilities averaged
    # What the model reads: the BERT features (the original recipe), the cached n-grams (a naive-Bayes
    # weighted logistic regression), or both, fused with a weight chosen on validation.
    channel: str = "bert"
    lexical_l2: float = 1e-4  # the lexical model's L2 weight
    min_df: int = 2  # n-grams in fewer training reviews are left out of the lexical model

    def __post_init__(self):
        # The Python API takes lists or the CLI's comma strings; keep tuples, so configs compare and hash.
        object.__setattr__(self, "hidden", as_list(self.hidden, int, "hidden"))
        object.__setattr__(self, "dropout", as_list(self.dropout, float, "dropout"))
        if self.pooling is not None:
            object.__setattr__(self, "pooling", as_list(self.pooling, str, "pooling"))
        object.__setattr__(self, "layers", ",".join(map(str, self.layers)) if isinstance(self.layers, (list, tuple))
                           else str(self.layers))

    def validate(self) -> None:
        for field in dataclasses.fields(self):  # each option's type, as its field declares it
            kind = field.type.replace(" | None", "")
            if kind in KINDS and not (field.type.endswith("| None") and getattr(self, field.name) is None):
                Option(field.name, kind, field.default, "").check(getattr(self, field.name))
        if not self.hidden:
            raise BadInput("--hidden: give at least one layer size, e.g. 256,128,64")
        if len(self.hidden) != len(self.dropout):
            raise BadInput(f"--hidden has {len(self.hidden)} layers but --dropout has {len(self.dropout)} "
                           "rates; give one rate per layer")
        if any(h < 1 for h in self.hidden):
            raise BadInput("--hidden: layer sizes must be at least 1")
        if any(not 0 <= d < 1 for d in self.dropout):
            raise BadInput("--dropout: rates must be in [0, 1)")
        if self.val_fraction is not None:
            between(self.val_fraction, 0, 1, "val_fraction")
        if self.layer_mix not in LAYER_MIXES:
            raise BadInput(f"--layer-mix {self.layer_mix}: choose one of {', '.join(LAYER_MIXES)}")
        finite(self.lr, "lr")
        if self.lr <= 0:
            raise BadInput(f"--lr {self.lr}: must be positive")
        at_least(self.batch_size, 1, "batch_size")
        at_least(self.epochs, 1, "epochs")
        at_least(self.patience, 1, "patience")
        at_least(self.ensemble, 1, "ensemble", " (1: a single head)")
        finite(self.lexical_l2, "lexical_l2")
        if self.lexical_l2 < 0:
            raise BadInput(f"--lexical-l2 {self.lexical_l2}: must be 0 or more")
        at_least(self.min_df, 1, "min_df")

    def with_pooling(self, stored: list[str]) -> "HeadConfig":
        """The config with its pooling made explicit: the cache's first when none was chosen."""
        pooling = self.pooling or tuple(stored[:1])
        for p in pooling:
            if p not in stored:
                raise BadInput(f"--pooling {p}: the cache holds {', '.join(stored)}; extract again with --pooling {p}")
        return dataclasses.replace(self, pooling=tuple(pooling))

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        if self.channel == "bert":  # lexical options mean nothing then; BERT-only configs keep their keys
            for name in ("channel", "lexical_l2", "min_df"):
                del d[name]
        d.update(hidden=list(self.hidden), dropout=list(self.dropout),
                 pooling=list(self.pooling) if self.pooling is not None else None)
        return d

    @classmethod
    def fields(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]
