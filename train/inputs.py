"""Which cached columns feed the head: the poolings and layers a model was trained on."""
from __future__ import annotations

import dataclasses

import numpy as np

from ..common.errors import BadInput


@dataclasses.dataclass(frozen=True)
class InputSpec:
    poolings: tuple[str, ...]
    layers: tuple[int, ...]
    num_layers: int
    hidden_size: int

    @property
    def dim(self) -> int:
        return len(self.poolings) * len(self.layers) * self.hidden_size

    def to_dict(self) -> dict:
        return {"poolings": list(self.poolings), "layers": list(self.layers),
                "num_layers": self.num_layers, "hidden_size": self.hidden_size, "dim": self.dim}

    @classmethod
    def from_dict(cls, d: dict) -> "InputSpec":
        return cls(tuple(d["poolings"]), tuple(d["layers"]), d["num_layers"], d["hidden_size"])


def parse_layers(text: str, num_layers: int) -> tuple[int, ...]:
    """'all', 'last', or comma-separated indices (negative counts from the top)."""
    if text == "all":
        return tuple(range(num_layers))
    if text == "last":
        return (num_layers - 1,)
    try:
        picked = [int(x) for x in text.split(",")]
    except ValueError:
        raise BadInput(f"--layers {text}: use all, last, or layer numbers like 0,3")
    for x in picked:
        if not -num_layers <= x < num_layers:
            raise BadInput(f"--layers {text}: layer {x} does not exist; the cache has layers 0..{num_layers - 1}")
    return tuple(sorted({x % num_layers for x in picked}))


def select(features: dict[str, np.ndarray], spec: InputSpec) -> np.ndarray:
    """Columns for the spec's poolings and layers, pooling-major then layer order: float32 [n, dim]."""
    parts = []
    for p in spec.poolings:
        per_layer = features[p].reshape(len(features[p]), spec.num_layers, spec.hidden_size)
        parts.append(per_layer[:, list(spec.layers)].reshape(len(per_layer), -1))
    return np.concatenate(parts, axis=1).astype(np.float32)
