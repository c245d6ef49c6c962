"""Reading a model dir that `train` wrote: the Keras head and the config that says how to feed it."""
from __future__ import annotations

import json
from pathlib import Path

from data.errors import BadInput

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"


def load_model_dir(model_dir: Path):
    import keras

    import train.head  # noqa: F401  registers the custom LayerMix layer for loading

    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise BadInput(f"--model-dir {model_dir}: no such folder; train one with `python cli.py train`")
    for name in (CONFIG_FILE, MODEL_FILE):
        if not (model_dir / name).exists():
            raise BadInput(f"--model-dir {model_dir}: not a model dir ({name} is missing); "
                           "train one with `python cli.py train`")
    try:
        config = json.loads((model_dir / CONFIG_FILE).read_text())
        model = keras.models.load_model(model_dir / MODEL_FILE)
    except Exception as e:  # keras raises many types for a damaged file
        raise BadInput(f"{model_dir}: cannot load the model ({str(e).splitlines()[0][:200]}); train it again")
    return model, config
