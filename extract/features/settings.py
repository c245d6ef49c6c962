"""What shapes the features: sequence length, which tokens of a long review, windows, poolings."""
from __future__ import annotations

import dataclasses

from ...common.errors import BadInput
from .. import runtimes

POOLINGS = ("mean", "max", "cls")
TRUNCATIONS = ("head", "tail", "head+tail")
MAX_NGRAMS = 5
# The encoder call's arithmetic, and what runs it (extract/runtimes/): features differ slightly
# between any two, so caches never mix them.
PRECISIONS = runtimes.PRECISIONS
# How the cache stores the pooled features; stage two computes in float32 either way.
FEATURE_DTYPES = ("float32", "float16")
# The per-segment features of --tokens are every token's, named so where a window's are named by
# their pooling: in the cache (segment_token) and as the input a head over tokens reads.
TOKEN = "token"
HEAD_TOKENS_MAX = 128  # head+tail: Sun et al. (2019) keep the first 128 of 510 tokens, the rest from the end


@dataclasses.dataclass(frozen=True)
class FeatureSettings:
    seq_len: int = 128
    truncation: str = "head"
    windows: bool = False
    stride: int | None = None  # tokens between window starts; default half a window
    poolings: tuple[str, ...] = ("mean",)
    # head+tail only: leading tokens kept. None means a quarter of seq_len, at most 128; caches made
    # before this field existed kept min(128, budget) and say so through `legacy_head`.
    head_tokens: int | None = None
    legacy_head: bool = False
    # The lexical channel: each review's hashed word n-grams of 1..ngrams tokens (0: none).
    ngrams: int = 0
    precision: str = "fp32"
    runtime: str | None = None  # None: the precision's own (runtimes.DEFAULTS)
    feature_dtype: str = "float32"
    # With windows: every window's pooled features too, beside the review's (per-segment features),
    # for stage two to combine as it learns to.
    segments: bool = False
    # Every token's features too (each layer's output at each token the encoder saw, [CLS] and [SEP]
    # included): the per-segment features of a cache made for heads over tokens.
    tokens: bool = False

    def validate(self, max_positions: int | None = None) -> None:
        if self.seq_len < 3:
            raise BadInput(f"--seq-len {self.seq_len}: must be at least 3 ([CLS], one token, [SEP])")
        if max_positions is not None and self.seq_len > max_positions:
            raise BadInput(f"--seq-len {self.seq_len}: the encoder takes at most {max_positions} positions; "
                           f"use --seq-len {max_positions} or less (--windows reads longer reviews whole)")
        if self.truncation not in TRUNCATIONS:
            raise BadInput(f"--truncation {self.truncation}: choose one of {', '.join(TRUNCATIONS)}")
        for p in self.poolings:
            if p not in POOLINGS:
                raise BadInput(f"--pooling {p}: choose among {', '.join(POOLINGS)}")
        if not self.poolings or len(set(self.poolings)) != len(self.poolings):
            raise BadInput("--pooling: give each pooling once")
        if self.stride is not None and not self.windows:
            raise BadInput(f"--stride {self.stride}: only applies with --windows; add --windows or drop --stride")
        if self.windows and self.window_stride() < 1:
            raise BadInput(f"--stride {self.stride}: must be at least 1")
        if not 0 <= self.ngrams <= MAX_NGRAMS:
            raise BadInput(f"--ngrams {self.ngrams}: use 0 (no lexical channel) to {MAX_NGRAMS}; 3 (uni-, bi- and "
                           "trigrams) is what n-gram sentiment models use")
        runtimes.resolve(self.runtime, self.precision)
        if self.feature_dtype not in FEATURE_DTYPES:
            raise BadInput(f"--feature-dtype {self.feature_dtype}: choose one of {', '.join(FEATURE_DTYPES)}")
        if self.segments and not self.windows:
            raise BadInput("--segments keeps each window's features; add --windows (without it a review is one "
                           "segment, which the review's own features already are)")
        if self.segments and self.tokens:
            raise BadInput("--segments and --tokens: a cache keeps one kind of per-segment features, its windows' "
                           "or its tokens'; choose one")
        if self.windows and self.truncation != "head":
            raise BadInput(f"--truncation {self.truncation}: --windows reads the whole review; drop one of them")

    @property
    def runtime_name(self) -> str:
        return runtimes.resolve(self.runtime, self.precision)

    @property
    def budget(self) -> int:
        """Tokens of the review per sequence: seq_len less [CLS] and [SEP]."""
        return self.seq_len - 2

    def window_stride(self) -> int:
        return self.stride if self.stride is not None else max(1, self.budget // 2)

    def head_share(self) -> int:
        """head+tail: how many leading tokens are kept; the rest of the budget comes from the end."""
        if self.legacy_head:
            return min(HEAD_TOKENS_MAX, self.budget)
        if self.head_tokens is not None:
            return self.head_tokens
        return max(1, min(HEAD_TOKENS_MAX, self.seq_len // 4))

    def to_dict(self) -> dict:
        d = {"seq_len": self.seq_len, "truncation": self.truncation, "windows": self.windows,
             "stride": self.window_stride() if self.windows else self.stride, "poolings": list(self.poolings)}
        if self.truncation == "head+tail" and not self.legacy_head:
            d["head_tokens"] = self.head_share()
        if self.ngrams:  # only when on: caches made before the lexical channel keep their fingerprint
            d["ngrams"] = self.ngrams
        if self.precision != "fp32":  # likewise: fp32 caches made before precisions keep theirs
            d["precision"] = self.precision
        if self.runtime_name != runtimes.DEFAULTS[self.precision]:  # and caches on the precision's runtime
            d["runtime"] = self.runtime_name
        if self.feature_dtype != "float32":  # and float32 caches made before the choice existed
            d["feature_dtype"] = self.feature_dtype
        if self.segments:  # and caches without per-segment features
            d["segments"] = True
        if self.tokens:  # and caches without per-token features
            d["tokens"] = True
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "FeatureSettings":
        """From to_dict's fields, or from a manifest's `features`, where `runtime` is the runtime's record."""
        legacy = d["truncation"] == "head+tail" and "head_tokens" not in d
        runtime = d.get("runtime")
        return cls(seq_len=d["seq_len"], truncation=d["truncation"], windows=d["windows"], stride=d.get("stride"),
                   poolings=tuple(d["poolings"]), head_tokens=d.get("head_tokens"), legacy_head=legacy,
                   ngrams=d.get("ngrams", 0), precision=d.get("precision", "fp32"),
                   runtime=runtime.get("name") if isinstance(runtime, dict) else runtime,
                   feature_dtype=d.get("feature_dtype", "float32"), segments=d.get("segments", False),
                   tokens=d.get("tokens", False))
