"""Stage one on Apache Beam's DirectRunner, with two worker processes, equals the local path."""
from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import run_cli

pytest.importorskip("apache_beam", reason="apache-beam is an optional extra: pip install '.[beam]'")


def _load(cache):
    from mlbert.extract.cache.read import read_split
    return {split: read_split(cache, split, poolings=["mean", "max"]) for split in ("train", "test")}


@pytest.mark.slow
def test_beam_direct_runner_matches_local(extracted, tiny_models, tiny_archive, runner, cli_main, tmp_path):
    out = tmp_path / "beam"
    args = ["extract", "--data", tiny_archive, "--out", out, "--encoder", tiny_models["encoder"],
            "--preprocessor", tiny_models["preprocessor"], "--seq-len", 64, "--pooling", "mean,max",
            "--shard-size", 80, "--runner", "beam", "--beam-option", "direct_num_workers=2",
            "--beam-option", "direct_running_mode=multi_processing", "--json"]
    r = run_cli(runner, cli_main, *args)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["runner"] == "beam"
    assert sorted(p.name for p in out.glob("test-*.h5")) == [f"test-0000{i}-of-00003.h5" for i in range(3)]
    assert run_cli(runner, cli_main, "check-cache", out).exit_code == 0
    local, beam = _load(extracted), _load(out)
    for split in ("train", "test"):
        (lf, ll, lids, _), (bf, bl, bids, _) = local[split], beam[split]
        assert lids == bids and np.array_equal(ll, bl)
        for p in ("mean", "max"):
            np.testing.assert_allclose(bf[p], lf[p], atol=1e-6, rtol=0)

    # A rerun after a lost shard rewrites only that shard.
    lost = out / "test-00001-of-00003.h5"
    lost.unlink()
    kept = {p.name: p.stat().st_mtime_ns for p in out.glob("*.h5")}
    r = run_cli(runner, cli_main, *args)
    assert r.exit_code == 0, r.output
    assert lost.exists()
    assert all(out.joinpath(n).stat().st_mtime_ns == t for n, t in kept.items())
    assert run_cli(runner, cli_main, "check-cache", out).exit_code == 0


def test_beam_option_must_be_key_value(tiny_models, tiny_archive, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", tmp_path / "c", "--limit", 4,
                "--encoder", tiny_models["encoder"], "--preprocessor", tiny_models["preprocessor"],
                "--runner", "beam", "--beam-option", "oops")
    assert r.exit_code == 2 and "KEY=VALUE" in r.stderr
