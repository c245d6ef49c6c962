"""The head's options and their defaults: one place for `train`, `sweep`, the CLI and the Python API."""
from __future__ import annotations

import dataclasses

from ..common.errors import BadInput
from ..common.options import KINDS, Option, as_list, at_least, between, finite

LAYER_MIXES = ("concat", "mean", "learned")
# The channels' names, as train/channels registers them (checked there against its registry).
CHANNEL_NAMES = ("bert", "lexical", "fused")
HEADS = ("auto", "mlp", "linear")
FUSIONS = ("weight", "stack")  # how --channel fused mixes its channels (train/fusion.py)
# How the MLP pools its last hidden layer over a review's windows or tokens (--segments; train/head.py); none:
# the head reads the review's pooled features, as cached.
SEGMENT_POOLS = ("none", "mean", "max", "attention")
# --head auto trains the linear head below this many training rows per class, the MLP from it: on
# SST-5 and IMDB the linear head is the better one on held-out data up to 1,024 examples per class
# (819 training rows after validation is carved), the MLP on all of them (docs/results.md, "Small
# data: which head").
AUTO_LINEAR_BELOW = 1000
# Options the linear head does not read (it is solved by L-BFGS, with no hidden layer): one given
# other than its default asks --head auto for the MLP.
MLP_ONLY = ("lr", "batch_size", "hidden", "dropout", "epochs", "patience", "ordinal", "segments")
LINEAR_L2 = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)  # per-row mean loss + l2 * |w|^2, on standardised features
VAL_FRACTION = 0.2  # validation rows carved from train when the cache has no validation split


def _option(default, help: str, choices: tuple[str, ...] | None = None, default_text: str | None = None):
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices,
                                                        "default_text": default_text})


@dataclasses.dataclass(frozen=True)
class HeadConfig:
    """The head's options, each declared once here: its name, type, default and help (the CLI's
    `train` options and the API's checks are made from these fields; see options())."""
    lr: float = _option(5e-4, "Adam's learning rate.")
    batch_size: int = _option(64, "Training batch size.")
    epochs: int = _option(20, "At most this many epochs; early stopping keeps the best.")
    patience: int = _option(2, "Epochs without a better validation accuracy.")
    hidden: tuple[int, ...] = _option((256, 128, 64), "Hidden layer sizes, e.g. 256,128,64.")
    dropout: tuple[float, ...] = _option((0.4, 0.3, 0.2), "Dropout rate after each hidden layer.")
    val_fraction: float | None = _option(None, "Share of train held out for validation when the cache has no "
                                         "validation split.", default_text=str(VAL_FRACTION))
    seed: int = _option(0, "The head's initialisation and shuffling (ensembles: seed, seed + 1, ...).")
    split_seed: int = _option(0, "Which training rows are held out for validation; the same for every --seed.")
    layers: str = _option("all", "all, last, or layer numbers like 0,3.")
    pooling: tuple[str, ...] | None = _option(None, "Stored poolings to use, e.g. mean or mean,max.",
                                              default_text="the cache's first")
    layer_mix: str = _option("concat", "Concatenate the layers, average them, or learn one softmax weight per "
                             "layer (ELMo's scalar mix).", choices=LAYER_MIXES)
    standardize: bool = _option(True, "Scale each feature to zero mean, unit variance (training rows' statistics, "
                                "kept in the model); --no-standardize feeds raw features, as the original recipe "
                                "did.")
    head: str = _option("auto", "The BERT features' classifier: the original recipe's MLP (--hidden, --dropout), a "
                        "logistic regression (linear) whose L2 weight is chosen on validation from --l2, or auto: "
                        f"linear below {AUTO_LINEAR_BELOW} training rows per class unless an ensemble, a layer mix or "
                        "an MLP option (--lr, --hidden, ...) is given, the MLP otherwise.", choices=HEADS)
    l2: tuple[float, ...] = _option(LINEAR_L2, "The linear head's L2 weights to try, e.g. 1e-4,1e-2; the best on "
                                    "validation is kept.")
    ordinal: bool = _option(False, "For ordered labels (more than two, in --labels order: very negative .. very "
                            "positive, star ratings): a cumulative-link head, one score and K - 1 learned "
                            "thresholds per head, in place of the softmax over unordered classes. The MLP only.")
    segments: str = _option("none", "Read every segment's features, a cache's windows (extract --windows "
                            "--segments) or tokens (extract --tokens: each token's features, --pooling aside), "
                            "and pool the MLP's last hidden layer over each review's segments: their mean, their "
                            "max, or attention (a learned softmax weight per segment, starting as the mean); none "
                            "reads each review's features as extract pooled them. The MLP only.",
                            choices=SEGMENT_POOLS)
    calibrate: bool = _option(True, "Fit a temperature on the validation rows so that the model's confidences match "
                              "its accuracy (labels unchanged); --no-calibrate keeps the raw probabilities.")
    ensemble: int = _option(1, "Train N heads (seeds --seed, --seed + 1, ...) and keep the mean of their "
                            "probabilities as one model.")
    channel: str = _option("bert", "What the model reads: the BERT features (the original recipe's head), the "
                           "cached n-grams (a naive-Bayes weighted logistic regression; extract --ngrams 3), or "
                           "both, fused with a weight chosen on validation.", choices=CHANNEL_NAMES)
    lexical_l2: float = _option(1e-4, "The lexical model's L2 weight.")
    min_df: int = _option(2, "The lexical model keeps n-grams found in at least this many training reviews.")
    fusion: str = _option("weight", "How --channel fused mixes its channels: one weight and a temperature chosen on "
                          "validation, or stack: a logistic regression on both channels' class scores, learned on "
                          "out-of-fold scores of the training rows (--stack-folds more trainings of each channel).",
                          choices=FUSIONS)
    stack_folds: int = _option(5, "--fusion stack: folds of the training rows; each is scored by channels trained on "
                               "the others.")

    def __post_init__(self):
        # The Python API takes lists or the CLI's comma strings; keep tuples, so configs compare and hash.
        object.__setattr__(self, "hidden", as_list(self.hidden, int, "hidden"))
        object.__setattr__(self, "dropout", as_list(self.dropout, float, "dropout"))
        object.__setattr__(self, "l2", as_list(self.l2, float, "l2"))
        if self.pooling is not None:
            object.__setattr__(self, "pooling", as_list(self.pooling, str, "pooling"))
        object.__setattr__(self, "layers", ",".join(map(str, self.layers)) if isinstance(self.layers, (list, tuple))
                           else str(self.layers))

    def validate(self) -> None:
        for option in options():  # each option's type, as its field declares it
            if option.kind != "list":
                option.check(getattr(self, option.name))
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
        if self.head not in HEADS:
            raise BadInput(f"--head {self.head}: choose one of {', '.join(HEADS)}")
        if self.head == "linear" and (not self.l2 or any(v < 0 for v in self.l2)):
            raise BadInput(f"--l2 {','.join(map(str, self.l2))}: give one or more weights, each 0 or more")
        if self.head == "linear" and self.ensemble != 1:
            raise BadInput(f"--head linear --ensemble {self.ensemble}: a logistic regression is solved to its one "
                           "optimum, so every seed gives the same model; use --ensemble 1")
        if self.head == "linear" and self.layer_mix != "concat":
            raise BadInput(f"--head linear --layer-mix {self.layer_mix}: the linear head reads the concatenated "
                           "layers; use --layer-mix concat")
        if self.head == "linear" and self.ordinal:
            raise BadInput("--head linear --ordinal: the ordinal head is the MLP's; use --head mlp (or auto)")
        if self.segments not in SEGMENT_POOLS:
            raise BadInput(f"--segments {self.segments}: choose one of {', '.join(SEGMENT_POOLS)}")
        if self.head == "linear" and self.segments != "none":
            raise BadInput(f"--head linear --segments {self.segments}: pooling over windows is the MLP's; use "
                           "--head mlp (or auto)")
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
        if self.fusion not in FUSIONS:
            raise BadInput(f"--fusion {self.fusion}: choose one of {', '.join(FUSIONS)}")
        if self.fusion == "stack" and self.channel != "fused":
            raise BadInput(f"--fusion stack --channel {self.channel}: only a fused model has channels to stack; "
                           "add --channel fused")
        at_least(self.stack_folds, 2, "stack_folds")

    def with_head(self, rows_per_class: float) -> "HeadConfig":
        """The config with its head made explicit: --head auto's choice for this many training rows per
        class. An ensemble, a layer mix or an MLP option other than its default asks for the MLP."""
        if self.head != "auto":
            return self
        defaults = HeadConfig()
        mlp_asked = any(getattr(self, name) != getattr(defaults, name) for name in MLP_ONLY)
        linear = (rows_per_class < AUTO_LINEAR_BELOW and self.ensemble == 1 and self.layer_mix == "concat"
                  and not mlp_asked)
        return dataclasses.replace(self, head="linear" if linear else "mlp")

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
        # Options at their defaults that configs (and sweep trial keys) from before them lacked.
        if not self.ordinal:
            del d["ordinal"]
        if self.segments == "none":
            del d["segments"]
        if self.fusion == "weight":
            del d["fusion"], d["stack_folds"]
        d.update(hidden=list(self.hidden), dropout=list(self.dropout), l2=list(self.l2),
                 pooling=list(self.pooling) if self.pooling is not None else None)
        return d

    @classmethod
    def fields(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]


def options() -> tuple[Option, ...]:
    """HeadConfig's fields as declared options (common/options.py)."""
    found = []
    for field in dataclasses.fields(HeadConfig):
        kind = field.type.replace(" | None", "")
        found.append(Option(field.name, kind if kind in KINDS else "list", field.default, field.metadata["help"],
                            choices=field.metadata["choices"], default_text=field.metadata["default_text"]))
    return tuple(found)
