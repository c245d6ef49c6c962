"""Which cached columns feed the head: the poolings and layers a model was trained on, of each review
or (spec.segments) of each of its windows."""
from __future__ import annotations

import dataclasses

import numpy as np

from ..common.errors import BadInput
from ..common.ragged import ragged_positions


@dataclasses.dataclass(frozen=True)
class InputSpec:
    poolings: tuple[str, ...]
    layers: tuple[int, ...]
    num_layers: int
    hidden_size: int
    segments: bool = False  # every window's features (train --segments), not the review's

    @property
    def dim(self) -> int:
        return len(self.poolings) * len(self.layers) * self.hidden_size

    def to_dict(self) -> dict:
        d = {"poolings": list(self.poolings), "layers": list(self.layers),
             "num_layers": self.num_layers, "hidden_size": self.hidden_size, "dim": self.dim}
        return {**d, "segments": True} if self.segments else d  # model dirs from before it lack the key

    @classmethod
    def from_dict(cls, d: dict) -> "InputSpec":
        return cls(tuple(d["poolings"]), tuple(d["layers"]), d["num_layers"], d["hidden_size"],
                   bool(d.get("segments", False)))


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


@dataclasses.dataclass
class Windows:
    """A head's inputs for every window (or token) of some reviews, review after review, and how many
    each review has: what a head with --segments reads in place of one row per review."""
    values: np.ndarray  # float32 [windows, dim]
    counts: np.ndarray  # int [reviews]

    def __len__(self) -> int:
        return len(self.counts)

    @property
    def nbytes(self) -> int:
        return self.values.nbytes + self.counts.nbytes

    def take(self, rows) -> "Windows":
        rows = np.asarray(rows, np.int64)
        return Windows(self.values[ragged_positions(self.counts, rows)], self.counts[rows])

    @staticmethod
    def concatenate(parts: list["Windows"]) -> "Windows":
        return Windows(np.concatenate([p.values for p in parts]), np.concatenate([p.counts for p in parts]))

    def starts(self) -> np.ndarray:
        """int64 [reviews + 1]: where each review's windows begin, and the end."""
        return np.concatenate([[0], np.cumsum(self.counts, dtype=np.int64)])


def head_inputs(features: dict, spec: InputSpec):
    """What the head reads of one chunk's features: float32 [n, dim], or a Windows (spec.segments)."""
    if spec.segments:
        segments = features["segments"]
        return Windows(select(segments.values, spec), np.asarray(segments.counts))
    return select(features, spec)


def batches(inputs, size: int):
    """(values, review of each value row or None) of about `size` value rows at a time: rows of an
    array, or the windows (tokens) of a Windows' whole reviews, at least one review a batch, with
    each row's review counted from the batch's first (int32). A review of tokens is tens of rows: a
    batch of `size` reviews would hold tens of times the memory."""
    if not isinstance(inputs, Windows):
        for lo in range(0, len(inputs), size):
            yield inputs[lo:lo + size], None
        return
    starts = inputs.starts()
    lo = 0
    while lo < len(inputs):
        hi = max(lo + 1, int(np.searchsorted(starts, starts[lo] + size, side="right")) - 1)
        hi = min(hi, len(inputs))
        review = np.repeat(np.arange(hi - lo, dtype=np.int32), inputs.counts[lo:hi])
        yield inputs.values[starts[lo]:starts[hi]], review
        lo = hi
