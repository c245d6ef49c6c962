"""What a model reads, one component per channel: the BERT head (`bert`), the n-gram model
(`lexical`), and both fused (`fused`). Each implements base.Channel; `train`, `evaluate`, `load()`
and `export` go through this registry and never branch on the channel. A new head type is one
module and one line in CHANNELS.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from ...common.errors import BadInput
from ..config import HeadConfig
from ..inputs import InputSpec
from .base import Channel, ServingInputs

# name: (module below this package, class). Imported when used: naming the channels costs nothing.
CHANNELS = {"bert": ("bert", "BertChannel"), "lexical": ("lexical", "LexicalChannel"),
            "fused": ("fused", "FusedChannel")}
NAMES = tuple(CHANNELS)

__all__ = ["CHANNELS", "NAMES", "Channel", "ServingInputs", "check", "new", "load", "calibrated", "channel_of"]


def channel_of(config: dict) -> str:
    """What a model dir reads; model dirs written before the lexical channel read BERT features."""
    return config.get("head", {}).get("channel", "bert")


def check(name: str):
    """The channel class of a --channel value; an unknown one is refused."""
    if name not in CHANNELS:
        raise BadInput(f"--channel {name}: choose one of {', '.join(CHANNELS)}")
    module, cls = CHANNELS[name]
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)


def new(cfg: HeadConfig, spec: InputSpec, labels: list[str]) -> Channel:
    """An untrained channel for a config, to be fitted."""
    return check(cfg.channel).new(cfg, spec, labels)


def load(folder: Path, config: dict) -> Channel:
    """A model dir's trained channel, with its temperature when it was calibrated."""
    channel = check(channel_of(config)).load(Path(folder), config)
    return calibrated(channel, config.get("calibration"))


def calibrated(channel: Channel, calibration: dict | None) -> Channel:
    """The channel scaled by a fitted temperature (None: as it is)."""
    from .calibration import Calibrated

    return Calibrated(channel, calibration) if calibration else channel
