"""What a model reads, one component per channel: the BERT head (`bert`), the n-gram model
(`lexical`), and both fused (`fused`). Each implements base.Channel; `train`, `evaluate`, `load()`
and `export` go through this registry and never branch on the channel. A new head type is one
module and one line in CHANNELS.
"""
from __future__ import annotations

from pathlib import Path

from ..config import HeadConfig
from ..inputs import InputSpec
from .base import Channel, ServingInputs
from .bert import BertChannel
from .fused import FusedChannel
from .lexical import LexicalChannel

CHANNELS = {"bert": BertChannel, "lexical": LexicalChannel, "fused": FusedChannel}
NAMES = tuple(CHANNELS)

__all__ = ["CHANNELS", "Channel", "ServingInputs", "new", "load", "channel_of"]


def channel_of(config: dict) -> str:
    """What a model dir reads; model dirs written before the lexical channel read BERT features."""
    return config.get("head", {}).get("channel", "bert")


def new(cfg: HeadConfig, spec: InputSpec, labels: list[str]) -> Channel:
    """An untrained channel for a config, to be fitted."""
    return CHANNELS[cfg.channel].new(cfg, spec, labels)


def load(folder: Path, config: dict) -> Channel:
    """A model dir's trained channel."""
    return CHANNELS[channel_of(config)].load(Path(folder), config)
