"""Stage one on Apache Beam (the DirectRunner with two worker processes, the DaskRunner on a real
dask.distributed LocalCluster) equals the local path; faults leave no half shard."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest

from helpers import MLBERT, run_cli, write_corpus

pytest.importorskip("apache_beam", reason="apache-beam is an optional extra: pip install '.[beam]'")


def test_beam_option_must_be_key_value(tiny_models, tiny_archive, runner, cli_main, tmp_path):
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", tmp_path / "c", "--limit", 4,
                "--encoder", tiny_models["encoder"], "--preprocessor", tiny_models["preprocessor"],
                "--runner", "beam", "--beam-option", "oops")
    assert r.exit_code == 2 and "KEY=VALUE" in r.stderr


DASK = "runner=apache_beam.runners.dask.dask_runner.DaskRunner"


def _corpus_args(corpus, out, tiny_models, *extra):
    return [MLBERT, "extract", "--data", str(corpus), "--out", str(out), "--encoder", str(tiny_models["encoder"]),
            "--preprocessor", str(tiny_models["preprocessor"]), "--seq-len", "32", "--pooling", "mean,max",
            "--ngrams", "2", "--shard-size", "20", "--json", *map(str, extra)]


def _run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)


def _assert_same_cache(a, b):
    """Same shards, ids, labels, n-grams and manifest counts; features within 1e-6."""
    from mlbert.extract.cache.read import read_split

    ma, mb = (json.loads((c / "manifest.json").read_text()) for c in (a, b))
    assert ma["fingerprint"] == mb["fingerprint"] and ma["labels"] == mb["labels"]
    for split in ma["splits"]:
        sa, sb = ma["splits"][split], mb["splits"][split]
        assert sa["counts"] == sb["counts"] and sa["complete"] and sb["complete"]
        assert [(s["file"], s["count"]) for s in sa["shards"]] == [(s["file"], s["count"]) for s in sb["shards"]]
        (fa, la, ia, _), (fb, lb, ib, _) = (read_split(c, split, poolings=["mean", "max"], lexical=True) for c in (a, b))
        assert ia == ib and np.array_equal(la, lb)
        assert np.array_equal(fa["ngrams"].ids, fb["ngrams"].ids) and np.array_equal(fa["ngrams"].counts,
                                                                                      fb["ngrams"].counts)
        for p in ("mean", "max"):
            np.testing.assert_allclose(fa[p], fb[p], atol=1e-6, rtol=0)


@pytest.fixture(scope="module")
def corpus_and_local(tiny_models, tmp_path_factory):
    """A corpus of JSON Lines (one gzipped), CSV and Parquet files, and its cache from the local runner."""
    folder = tmp_path_factory.mktemp("corpus")
    write_corpus(folder / "corpus", rows_per_file=40)
    r = _run(_corpus_args(folder / "corpus", folder / "local", tiny_models))
    assert r.returncode == 0, r.stderr
    return folder / "corpus", folder / "local"


@pytest.mark.slow
def test_a_corpus_gives_the_local_cache_on_the_dask_runner(corpus_and_local, tiny_models, tmp_path):
    corpus, local = corpus_and_local
    r = _run(_corpus_args(corpus, tmp_path / "dask", tiny_models, "--runner", "beam", "--beam-option", DASK))
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["runner"] == "beam" and summary["splits"]["train"]["shards"] == 10  # 5 files x 2 slices
    _assert_same_cache(local, tmp_path / "dask")


@pytest.mark.slow
def test_a_corpus_gives_the_local_cache_on_the_direct_runner_and_a_rerun_writes_only_a_lost_shard(
        corpus_and_local, tiny_models, tmp_path):
    corpus, local = corpus_and_local
    out = tmp_path / "direct"
    args = _corpus_args(corpus, out, tiny_models, "--runner", "beam", "--beam-option", "direct_num_workers=2",
                        "--beam-option", "direct_running_mode=multi_processing")
    r = _run(args)
    assert r.returncode == 0, r.stderr
    _assert_same_cache(local, out)
    lost = out / json.loads((out / "manifest.json").read_text())["splits"]["test"]["shards"][1]["file"]
    lost.unlink()
    kept = {p.name: p.stat().st_mtime_ns for p in out.glob("*.h5")}
    r = _run(args)
    assert r.returncode == 0, r.stderr
    assert lost.exists()
    # The lost shard's unit (a slice) also wrote its train shard again; no other file was touched.
    touched = [n for n, t in kept.items() if out.joinpath(n).stat().st_mtime_ns != t]
    assert len(touched) <= 1 and all(n.startswith("train-") for n in touched)
    _assert_same_cache(local, out)


@pytest.mark.slow
def test_a_dask_worker_killed_mid_run_leaves_no_half_shard_and_the_same_command_finishes(corpus_and_local,
                                                                                         tiny_models, tmp_path):
    """A real LocalCluster of two worker processes; one is killed (SIGKILL) once the first shards are
    written. Dask may run its units again elsewhere, or the pipeline fails: either way, after the same
    command (once more if it failed) the cache equals the local runner's and holds no partial file."""
    from distributed import Client, LocalCluster

    corpus, local = corpus_and_local
    out = tmp_path / "dask"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        args = _corpus_args(corpus, out, tiny_models, "--runner", "beam", "--beam-option", DASK,
                            "--beam-option", f"dask_client_address={cluster.scheduler_address}")
        victim = next(iter(client.run(os.getpid).values()))
        run = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        while not list(out.glob("*.h5")) and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.05)
        written_before = len(list(out.glob("*.h5")))
        total = len(list(local.glob("*.h5")))
        os.kill(victim, signal.SIGKILL)
        _, stderr = run.communicate(timeout=600)
        assert 0 < written_before < total, "the worker was not killed mid-run"
        if run.returncode != 0:
            assert "error:" in stderr and "Traceback" not in stderr, stderr
            again = _run(args)
            assert again.returncode == 0, again.stderr
    assert not [p.name for p in out.iterdir() if ".tmp-" in p.name]
    _assert_same_cache(local, out)


@pytest.mark.slow
def test_a_file_changed_while_extract_runs_is_refused_by_name_and_the_rerun_finishes(tiny_models, tmp_path):
    write_corpus(tmp_path / "corpus", rows_per_file=80)
    last = tmp_path / "corpus" / "d.parquet"
    kept = last.read_bytes()
    out = tmp_path / "cache"
    args = _corpus_args(tmp_path / "corpus", out, tiny_models)
    run = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not list(out.glob("*.h5")) and run.poll() is None:
        time.sleep(0.02)
    last.write_bytes(b"PAR1 not what it was PAR1")
    _, stderr = run.communicate(timeout=600)
    assert run.returncode == 2, stderr
    error, = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert "d.parquet" in error and "changed since extract planned its shards" in error
    assert not [p.name for p in out.iterdir() if ".tmp-" in p.name]
    last.write_bytes(kept)
    r = _run(args)
    assert r.returncode == 0, r.stderr
    assert _run([MLBERT, "check-cache", str(out)]).returncode == 0
