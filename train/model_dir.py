"""The model dir: the format `train` writes and `evaluate`, `predict` and `export` read.

    MODEL/config.json          format, head options (channel), input columns, labels, result, the
                               cache's manifest, the fusion's weights, versions, machine, command
    MODEL/model.keras          the Keras head (one, or an ensemble averaged into one model), when
                               the model reads the BERT features
    MODEL/lexical.npz          the lexical model (vocabulary, weights, bias), when it reads n-grams
    MODEL/history.json         per-epoch (and per-step) curves
    MODEL/learning_curves.png
    MODEL/encoder-int8.xml, .bin  the quantised encoder, when the cache was extracted with --precision int8

What the model files hold and how they score is each channel's (train/channels/).
"""
from __future__ import annotations

import json
from pathlib import Path

from ..common.errors import BadInput
from ..common.folders import check_target, write_folder
from ..extract.cache import encoder_ir
from . import channels
from .channels.base import model_labels
from .channels.bert import MODEL_FILE, load_head

FORMAT = "multilayer-bert-sentiment/model-dir"
CONFIG_FILE = "config.json"
KIND = "a model dir"

__all__ = ["FORMAT", "MODEL_FILE", "CONFIG_FILE", "KIND", "model_labels", "check_model_dir", "write_model_dir",
           "read_config", "load_model_dir", "load_predictor"]


def check_model_dir(model_dir, overwrite: bool, option: str = "--model-dir") -> Path:
    """Refuse a --model-dir we may not write, before any training."""
    return check_target(model_dir, option, KIND, CONFIG_FILE, FORMAT, overwrite)


def write_model_dir(model_dir, channel, config: dict, overwrite: bool, cache, option: str = "--model-dir") -> Path:
    """Write the model dir under a temporary name, then swap it in whole. A model that reads BERT
    features of an int8 cache takes the cache's int8 encoder with it, so predict encodes as extract did."""
    from .plots import learning_curves

    manifest = config["cache"]["manifest"]
    history = channel.history()

    def build(tmp: Path) -> None:
        channel.save(tmp)
        if channel.reads_bert and encoder_ir.recorded(manifest):
            encoder_ir.fetch(cache, manifest, tmp)
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
    for name in channels.check(channels.channel_of(config)).files:
        if not (model_dir / name).exists():
            raise BadInput(f"--model-dir {model_dir}: not a whole model dir ({name} is missing); train it again")
    return config


def load_model_dir(model_dir):
    """(Keras head, or None for a lexical model, and config) of a model dir."""
    config = read_config(model_dir)
    return (load_head(model_dir) if channels.check(channels.channel_of(config)).reads_bert else None), config


def load_predictor(model_dir):
    """(the model dir's trained channel, config): channel.probabilities(features) for cached features."""
    config = read_config(model_dir)
    return channels.load(model_dir, config), config
