"""The model dir: the format `train` writes and `evaluate`, `predict` and `export` read.

    MODEL/config.json          format, head options (channel), input columns, labels, result, the
                               cache's manifest, the fusion's weights, versions, machine, command
    MODEL/model.keras          the Keras head (one, or an ensemble averaged into one model), when
                               the model reads the BERT features
    MODEL/lexical.npz          the lexical model (vocabulary, weights, bias), when it reads n-grams
    MODEL/history.json         per-epoch (and per-step) curves
    MODEL/learning_curves.png
    MODEL/encoder-int8.xml, .bin  the quantised encoder, when the cache was extracted with --precision int8

`Predictor` turns cached features into class probabilities the same way for every channel.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from ..common.errors import BadInput
from ..common.folders import check_target, write_folder
from ..extract.cache import encoder_ir
from ..extract.cache.manifest import labels_of
from .fusion import bert_scores, mix, to_probabilities
from .inputs import InputSpec, select
from .lexical import LexicalModel
from .metrics import class_probabilities

FORMAT = "multilayer-bert-sentiment/model-dir"
MODEL_FILE = "model.keras"
LEXICAL_FILE = "lexical.npz"
CONFIG_FILE = "config.json"
KIND = "a model dir"


def channel_of(config: dict) -> str:
    """What a model reads; model dirs written before the lexical channel read BERT features."""
    return config.get("head", {}).get("channel", "bert")


def model_labels(config: dict) -> list[str]:
    """A model dir's class names; model dirs written before labels were recorded hold neg and pos."""
    return list(config.get("labels") or labels_of(config["cache"]["manifest"]))


def check_model_dir(model_dir, overwrite: bool, option: str = "--model-dir") -> Path:
    """Refuse a --model-dir we may not write, before any training."""
    return check_target(model_dir, option, KIND, CONFIG_FILE, FORMAT, overwrite)


def write_model_dir(model_dir, head, lexical: LexicalModel | None, config: dict, history: dict, overwrite: bool,
                    cache, option: str = "--model-dir") -> Path:
    """Write the model dir under a temporary name, then swap it in whole. A head trained on int8
    features takes the cache's int8 encoder with it, so predict encodes as extract did."""
    from .plots import learning_curves

    manifest = config["cache"]["manifest"]

    def build(tmp: Path) -> None:
        if head is not None:
            head.save(tmp / MODEL_FILE)
            if encoder_ir.recorded(manifest):
                encoder_ir.fetch(cache, manifest, tmp)
        if lexical is not None:
            lexical.save(tmp / LEXICAL_FILE)
        (tmp / "history.json").write_text(json.dumps(history, indent=2) + "\n")
        learning_curves(history, tmp / "learning_curves.png")
        (tmp / CONFIG_FILE).write_text(json.dumps({"format": FORMAT, **config}, indent=2) + "\n")

    return write_folder(model_dir, build, option, KIND, CONFIG_FILE, FORMAT, overwrite)


def read_config(model_dir) -> dict:
    """A model dir's config.json, checked to be one `train` wrote, with the files it names."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise BadInput(f"--model-dir {model_dir}: no such folder; train one with `mlbert train`")
    if not (model_dir / CONFIG_FILE).exists():
        raise BadInput(f"--model-dir {model_dir}: not a model dir ({CONFIG_FILE} is missing); "
                       "train one with `mlbert train`")
    try:
        config = json.loads((model_dir / CONFIG_FILE).read_text())
    except (OSError, ValueError) as e:
        raise BadInput(f"{model_dir / CONFIG_FILE}: unreadable ({e}); train the model again")
    # Model dirs written before the format field existed hold the same keys.
    if not isinstance(config, dict) or config.get("format", FORMAT) != FORMAT or "input" not in config:
        raise BadInput(f"--model-dir {model_dir}: {CONFIG_FILE} is not a model config of this tool; "
                       "train one with `mlbert train`")
    channel = channel_of(config)
    needed = ([MODEL_FILE] if channel in ("bert", "fused") else []) + ([LEXICAL_FILE] if channel != "bert" else [])
    for name in needed:
        if not (model_dir / name).exists():
            raise BadInput(f"--model-dir {model_dir}: not a whole model dir ({name} is missing); train it again")
    return config


def load_head(model_dir):
    import keras

    from . import head  # noqa: F401  registers the custom LayerMix layer for loading

    try:
        return keras.models.load_model(Path(model_dir) / MODEL_FILE)
    except Exception as e:  # keras raises many types for a damaged file
        raise BadInput(f"{model_dir}: cannot load the model ({str(e).splitlines()[0][:200]}); train it again")


def load_model_dir(model_dir):
    """(Keras head, or None for a lexical model, and config) of a model dir."""
    config = read_config(model_dir)
    return (load_head(model_dir) if channel_of(config) != "lexical" else None), config


@dataclasses.dataclass
class Predictor:
    """Everything a model dir holds to turn features into class probabilities, for every channel."""
    labels: list[str]
    spec: InputSpec
    channel: str
    head: object = None  # the Keras head, when the channel reads BERT features
    lexical: LexicalModel | None = None
    fusion: dict | None = None  # weight and temperature, for the fused channel

    def probabilities(self, features: dict) -> np.ndarray:
        """float [n, classes]; features as read_split gives them (with "ngrams" for the lexical channel)."""
        n_classes = len(self.labels)
        if self.head is not None:
            bert = class_probabilities(self.head.predict(select(features, self.spec), batch_size=1024, verbose=0),
                                       n_classes)
        if self.lexical is None:
            return bert
        lexical = self.lexical.scores(features["ngrams"])
        if self.head is None:
            return to_probabilities(lexical)
        return to_probabilities(mix(bert_scores(bert), lexical, self.fusion))


def load_predictor(model_dir) -> tuple[Predictor, dict]:
    head, config = load_model_dir(model_dir)
    channel = channel_of(config)
    lexical = LexicalModel.load(Path(model_dir) / LEXICAL_FILE) if channel != "bert" else None
    return Predictor(model_labels(config), InputSpec.from_dict(config["input"]), channel, head, lexical,
                     config.get("fusion")), config
