"""Timing featurizer variants against each other on one machine whose speed drifts: the variants
alternate, round after round, so that the drift falls on all alike. Shared by the benchmark
scripts that compare ways of running the same encoder."""
from __future__ import annotations

import sys
import time
from statistics import median


def alternate(featurizers: dict, texts: list[str], rounds: int = 2) -> tuple[dict, dict]:
    """Each featurizer on the same texts, alternating `rounds` times. Returns ({name: seconds per
    round}, {name: features})."""
    seconds, outputs = {name: [] for name in featurizers}, {}
    for _ in range(rounds):
        for name, featurizer in featurizers.items():
            t0 = time.perf_counter()
            outputs[name] = featurizer.features(texts)
            seconds[name].append(time.perf_counter() - t0)
            print(f"{name}: {seconds[name][-1]:.2f} s", file=sys.stderr, flush=True)
    return seconds, outputs


def timed_rows(seconds: dict, outputs: dict, poolings, base, name_key: str, base_label: str) -> list[dict]:
    """alternate()'s results per variant: best and median seconds, the median over rounds of
    `base`'s seconds over the variant's, and the largest absolute difference of its features from
    `base`'s."""
    import numpy as np

    return [{name_key: name, "seconds_best": round(min(s), 2), "seconds_median": round(median(s), 2),
             f"speedup_vs_{base_label}_median": round(median(b / x for b, x in zip(seconds[base], s)), 3),
             f"max_abs_diff_vs_{base_label}": max(float(np.abs(outputs[name][p] - outputs[base][p]).max())
                                                  for p in poolings),
             "seconds": [round(x, 2) for x in s]} for name, s in seconds.items()]


def compare(variants: dict, texts: list[str], rounds: int, poolings, base, name_key: str,
            base_label: str) -> list[dict]:
    """Each variant warmed up on the first 64 texts (a first call's one-time costs stay out of the
    timed runs), then alternate() and timed_rows()."""
    for variant in variants.values():
        variant.features(texts[:64])
    seconds, outputs = alternate(variants, texts, rounds)
    return timed_rows(seconds, outputs, poolings, base, name_key, base_label)
