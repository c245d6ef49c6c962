"""Read a Hugging Face BERT checkpoint folder into the weights BertEncoder takes."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from ...common.errors import BadInput
from .bert_model import BertConfig, random_weights, weight_shapes

# Checkpoints saved from BertForPreTraining / BertForSequenceClassification prefix the encoder.
PREFIXES = ("bert.", "model.")


def read_lower_case(folder: Path) -> bool:
    """Lower-casing from tokenizer_config.json; uncased, the common BERT case, when it is absent."""
    path = folder / "tokenizer_config.json"
    if not path.exists():
        return True
    try:
        return bool(json.loads(path.read_text()).get("do_lower_case", True))
    except ValueError as e:
        raise BadInput(f"{path}: not valid JSON ({e})")


def read_checkpoint(folder: Path, random: bool = False, seed: int = 0):
    """Return (config, weights, vocab_path, lower_case) for a BERT folder.

    With random=True only config.json and vocab.txt are needed: the weights are BERT's initialisation.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(f"{folder}: no such folder; pass a Hugging Face BERT folder "
                       "(config.json, vocab.txt, model.safetensors)")
    for name in ("config.json", "vocab.txt") + (() if random else ("model.safetensors",)):
        if not (folder / name).exists():
            raise BadInput(f"{folder}: not a BERT checkpoint, {name} is missing"
                           + ("" if random or name != "model.safetensors"
                              else " (use --random to build random weights from the config alone)"))
    config = BertConfig.from_json(folder / "config.json")
    lower_case = read_lower_case(folder)
    if random:
        return config, random_weights(config, seed), folder / "vocab.txt", lower_case
    return config, read_safetensors(folder / "model.safetensors", config), folder / "vocab.txt", lower_case


def read_safetensors(path: Path, config: BertConfig) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        raw = load_file(str(path))
    except (SafetensorError, OSError, ValueError, TypeError) as e:
        raise BadInput(f"{path}: cannot read safetensors ({e})")
    tensors = {}
    for name, value in raw.items():
        for prefix in PREFIXES:
            if name.startswith(prefix):
                name = name[len(prefix):]
                break
        tensors[name] = value
    weights = {}
    for name, shape in weight_shapes(config).items():
        if name not in tensors:
            if name.startswith("pooler."):
                continue  # Masked-LM checkpoints have no pooler; filled in below.
            raise BadInput(f"{path}: tensor '{name}' is missing; is this a BERT checkpoint?")
        value = tensors[name]
        if tuple(value.shape) != shape:
            raise BadInput(f"{path}: tensor '{name}' has shape {tuple(value.shape)}, "
                           f"but config.json implies {shape}")
        weights[name] = value.astype(np.float32)
    if "pooler.dense.weight" not in weights:
        print(f"warning: {path} has no pooler; pooled_output uses random weights "
              "(extract does not use it)", file=sys.stderr)
        fill = random_weights(config)
        weights["pooler.dense.weight"] = fill["pooler.dense.weight"]
        weights["pooler.dense.bias"] = fill["pooler.dense.bias"]
    return weights
