"""The model dir: the format `train` writes and `evaluate`, `predict` and `export` read.

    MODEL/model.keras          the Keras head (one, or an ensemble averaged into one model)
    MODEL/config.json          format, head options, input columns, result, the cache's manifest,
                               versions, machine, command
    MODEL/history.json         per-epoch curves
    MODEL/learning_curves.png
"""
from __future__ import annotations

import json
from pathlib import Path

from ..data.errors import BadInput
from ..data.folders import check_target, write_folder

FORMAT = "multilayer-bert-sentiment/model-dir"
MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
KIND = "a model dir"


def check_model_dir(model_dir, overwrite: bool, option: str = "--model-dir") -> Path:
    """Refuse a --model-dir we may not write, before any training."""
    return check_target(model_dir, option, KIND, CONFIG_FILE, FORMAT, overwrite)


def write_model_dir(model_dir, model, config: dict, history: dict, overwrite: bool,
                    option: str = "--model-dir") -> Path:
    """Write the model dir under a temporary name, then swap it in whole."""
    from .plots import learning_curves

    def build(tmp: Path) -> None:
        model.save(tmp / MODEL_FILE)
        (tmp / "history.json").write_text(json.dumps(history, indent=2) + "\n")
        learning_curves(history, tmp / "learning_curves.png")
        (tmp / CONFIG_FILE).write_text(json.dumps({"format": FORMAT, **config}, indent=2) + "\n")

    return write_folder(model_dir, build, option, KIND, CONFIG_FILE, FORMAT, overwrite)


def read_config(model_dir) -> dict:
    """A model dir's config.json, checked to be one `train` wrote."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise BadInput(f"--model-dir {model_dir}: no such folder; train one with `mlbert train`")
    for name in (CONFIG_FILE, MODEL_FILE):
        if not (model_dir / name).exists():
            raise BadInput(f"--model-dir {model_dir}: not a model dir ({name} is missing); "
                           "train one with `mlbert train`")
    try:
        config = json.loads((model_dir / CONFIG_FILE).read_text())
    except (OSError, ValueError) as e:
        raise BadInput(f"{model_dir / CONFIG_FILE}: unreadable ({e}); train the model again")
    # Model dirs written before the format field existed hold the same keys.
    if not isinstance(config, dict) or config.get("format", FORMAT) != FORMAT or "input" not in config:
        raise BadInput(f"--model-dir {model_dir}: {CONFIG_FILE} is not a model config of this tool; "
                       "train one with `mlbert train`")
    return config


def load_model_dir(model_dir):
    """(Keras model, config) of a model dir."""
    import keras

    from . import head  # noqa: F401  registers the custom LayerMix layer for loading

    config = read_config(model_dir)
    try:
        model = keras.models.load_model(Path(model_dir) / MODEL_FILE)
    except Exception as e:  # keras raises many types for a damaged file
        raise BadInput(f"{model_dir}: cannot load the model ({str(e).splitlines()[0][:200]}); train it again")
    return model, config
