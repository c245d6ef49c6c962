"""Reliability: crash-safe resumable extraction, a lock on the cache, caches that check themselves."""
from __future__ import annotations

import fcntl
import json
import os
import resource
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from helpers import MLBERT, assert_clean_error, make_archive, run_cli


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory):
    return make_archive(tmp_path_factory.mktemp("big") / "aclImdb_v1.tar.gz", per_label=150, seed=3)


def extract_cmd(archive, out, models, *extra):
    return [MLBERT, "extract", "--data", str(archive), "--out", str(out),
            "--encoder", str(models["encoder"]), "--preprocessor", str(models["preprocessor"]),
            "--seq-len", "48", "--shard-size", "25", "--batch-size", "8", *map(str, extra)]


def start(cmd, **kwargs):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **kwargs)


def wait_for_shards(out, count, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(list(out.glob("*.h5"))) >= count:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    raise AssertionError("extract made no progress")


def arrays(out):
    result = {}
    for path in sorted(out.glob("*.h5")):
        with h5py.File(path) as f:
            result[path.name] = {k: f[k][...] for k in f}
    return result


@pytest.mark.slow
def test_sigkill_then_rerun_gives_the_same_cache(big_archive, tiny_models, runner, cli_main, tmp_path):
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    assert run_cli(runner, cli_main, *extract_cmd(big_archive, reference, tiny_models)[1:]).exit_code == 0
    proc = start(extract_cmd(big_archive, killed, tiny_models))
    wait_for_shards(killed, 3, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    manifest = json.loads((killed / "manifest.json").read_text())
    assert not all(s.get("complete") for s in manifest["splits"].values()) or len(manifest["splits"]) < 2, \
        "the kill must land mid-run"
    done_before = {p.name: p.stat().st_mtime_ns for p in killed.glob("*.h5")}
    rerun = run_cli(runner, cli_main, *extract_cmd(big_archive, killed, tiny_models, "--json")[1:])
    assert rerun.exit_code == 0, rerun.output
    # Finished shards were kept, not redone.
    after = {p.name: p.stat().st_mtime_ns for p in killed.glob("*.h5")}
    kept = [n for n, t in done_before.items() if after.get(n) == t]
    assert len(kept) >= 2
    ref, got = arrays(reference), arrays(killed)
    assert ref.keys() == got.keys() and len(ref) == 24
    for name in ref:
        for key in ref[name]:
            assert np.array_equal(ref[name][key], got[name][key]), (name, key)
    assert not list(killed.glob(".*tmp*"))
    check = run_cli(runner, cli_main, "check-cache", killed)
    assert check.exit_code == 0, check.output


@pytest.mark.slow
def test_sigint_stops_cleanly_and_says_how_to_resume(big_archive, tiny_models, tmp_path):
    out = tmp_path / "c"
    proc = start(extract_cmd(big_archive, out, tiny_models))
    wait_for_shards(out, 2, proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "run the same command again to resume" in stderr and "Traceback" not in stderr
    assert not list(out.glob(".*tmp*"))


def files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != ".lock"}


@pytest.mark.slow
def test_an_interrupted_overwrite_keeps_the_old_cache_and_the_same_command_finishes_the_swap(big_archive, tiny_models,
                                                                                            runner, cli_main, tmp_path):
    out, beside = tmp_path / "c", tmp_path / "c.replacement"
    assert run_cli(runner, cli_main, *extract_cmd(big_archive, out, tiny_models)[1:]).exit_code == 0
    (out / "notes.txt").write_text("mine")
    before = files(out)
    replace = extract_cmd(big_archive, out, tiny_models, "--pooling", "mean,max", "--overwrite")
    proc = start(replace)  # a real process, for a real Ctrl-C
    wait_for_shards(beside, 2, proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert f"{out} is untouched" in stderr and f"remove {beside} to give up" in stderr and "Traceback" not in stderr
    assert files(out) == before, "the old cache is untouched"
    check = run_cli(runner, cli_main, "check-cache", out)
    assert check.exit_code == 0 and f"being built in {beside}" in check.stderr, check.stderr
    check = run_cli(runner, cli_main, "check-cache", beside)
    assert f"unfinished replacement for {out}" in check.stderr, check.stderr
    kept = {p.name: p.stat().st_mtime_ns for p in beside.glob("*.h5")}
    rerun = run_cli(runner, cli_main, *replace[1:])
    assert rerun.exit_code == 0, rerun.output
    assert not beside.exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["features"]["poolings"] == ["mean", "max"] and "replaces" not in manifest
    assert [n for n, t in kept.items() if (out / n).stat().st_mtime_ns == t], "finished shards were kept"
    assert (out / "notes.txt").read_text() == "mine"
    assert run_cli(runner, cli_main, "check-cache", out).exit_code == 0


@pytest.mark.slow
def test_a_full_disk_during_an_overwrite_keeps_the_old_cache(tiny_models, tiny_archive, runner, cli_main, tmp_path):
    out = tmp_path / "c"
    old = extract_cmd(tiny_archive, out, tiny_models, "--splits", "test", "--limit", "20")
    assert run_cli(runner, cli_main, *old[1:]).exit_code == 0
    before = files(out)

    def small_files():  # writes beyond 64 KiB fail with EFBIG, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    proc = subprocess.run(extract_cmd(tiny_archive, out, tiny_models, "--splits", "test", "--shard-size", "1000",
                                      "--pooling", "mean,max,cls", "--overwrite"),
                          capture_output=True, text=True, preexec_fn=small_files)
    assert proc.returncode == 2, proc.stderr
    assert f"{out} is untouched" in proc.stderr and "Traceback" not in proc.stderr
    assert files(out) == before
    assert run_cli(runner, cli_main, "check-cache", out).exit_code == 0


def test_a_live_extract_holds_the_cache(extracted, tiny_models, tiny_archive, runner, cli_main, tmp_path):
    out = tmp_path / "c"
    out.mkdir()
    with open(out / ".lock", "w") as lock:
        lock.write("4242")
        lock.flush()
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = run_cli(runner, cli_main, *extract_cmd(tiny_archive, out, tiny_models)[1:])
        assert_clean_error(r, "another extract (pid 4242)")


def test_a_stale_lock_is_taken_over(tiny_models, tiny_archive, runner, cli_main, tmp_path):
    out = tmp_path / "c"
    out.mkdir()
    (out / ".lock").write_text("999999")  # left by a killed process: nobody holds it
    r = run_cli(runner, cli_main, *extract_cmd(tiny_archive, out, tiny_models, "--limit", 10)[1:])
    assert r.exit_code == 0, r.output


@pytest.mark.slow
def test_full_disk_is_a_clear_error_with_no_partial_shard(tiny_models, tiny_archive, tmp_path):
    out = tmp_path / "c"

    def small_files():  # writes beyond 64 KiB fail with EFBIG, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    proc = subprocess.run(extract_cmd(tiny_archive, out, tiny_models, "--shard-size", "1000", "--pooling",
                                      "mean,max,cls"),
                          capture_output=True, text=True, preexec_fn=small_files)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "cannot write" in lines[-1] and "Traceback" not in proc.stderr
    assert not list(out.glob("*.h5")) and not list(out.glob(".*tmp*"))


def test_unwritable_out_is_a_clear_error(tiny_models, tiny_archive, runner, cli_main, tmp_path):
    (tmp_path / "file").write_text("x")
    r = run_cli(runner, cli_main, *extract_cmd(tiny_archive, tmp_path / "file" / "cache", tiny_models)[1:])
    assert_clean_error(r, "cannot create the folder")


@pytest.fixture
def cache_copy(extracted, tmp_path):
    import shutil
    copy = tmp_path / "cache"
    shutil.copytree(extracted, copy)
    return copy


def test_check_cache_passes_a_sound_cache(cache_copy, runner, cli_main):
    r = run_cli(runner, cli_main, "check-cache", cache_copy)
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2 and all(line.endswith(": ok") for line in lines)
    assert "train: 1 shards, 202 reviews (101 neg, 101 pos)" in r.stdout


def _train(runner, cli_main, cache, tmp_path):
    return run_cli(runner, cli_main, "train", "--cache", cache, "--model-dir", tmp_path / "m", "--epochs", 1)


def test_truncated_shard_is_refused_by_name(cache_copy, runner, cli_main, tmp_path):
    shard = cache_copy / "train-00000-of-00001.h5"
    shard.write_bytes(shard.read_bytes()[:-100])
    r = run_cli(runner, cli_main, "check-cache", cache_copy)
    assert r.exit_code == 2 and "train-00000-of-00001.h5" in r.stdout and "test: 1 shards" in r.stdout
    assert_clean_error(_train(runner, cli_main, cache_copy, tmp_path), "train-00000-of-00001.h5", "checksum")


def test_missing_shard_is_refused_by_name(cache_copy, trained, runner, cli_main):
    (cache_copy / "test-00000-of-00001.h5").unlink()
    r = run_cli(runner, cli_main, "check-cache", cache_copy)
    assert r.exit_code == 2 and "test-00000-of-00001.h5: shard is missing" in r.stdout
    r = run_cli(runner, cli_main, "evaluate", "--cache", cache_copy, "--model-dir", trained)
    assert_clean_error(r, "test-00000-of-00001.h5", "shard is missing")


def _rehash(cache, name):
    from mlbert.extract.cache.manifest import sha256_file
    manifest = json.loads((cache / "manifest.json").read_text())
    for entry in manifest["splits"].values():
        for shard in entry["shards"]:
            if shard["file"] == name:
                shard["sha256"] = sha256_file(cache / name)
    (cache / "manifest.json").write_text(json.dumps(manifest))


def test_shard_from_other_settings_is_refused(cache_copy, runner, cli_main, tmp_path):
    name = "train-00000-of-00001.h5"
    with h5py.File(cache_copy / name, "a") as f:
        f.attrs["fingerprint"] = "0123456789abcdef"  # as if written by an extract with other settings
    _rehash(cache_copy, name)
    assert_clean_error(_train(runner, cli_main, cache_copy, tmp_path), name, "other settings")
    assert run_cli(runner, cli_main, "check-cache", cache_copy).exit_code == 2


def test_duplicate_ids_are_found(cache_copy, runner, cli_main):
    name = "test-00000-of-00001.h5"
    with h5py.File(cache_copy / name, "a") as f:
        ids = f["ids"][...]
        ids[1] = ids[0]
        f["ids"][...] = ids
    _rehash(cache_copy, name)
    r = run_cli(runner, cli_main, "check-cache", cache_copy)
    assert r.exit_code == 2 and "duplicate review id" in r.stdout


def test_check_cache_on_a_non_cache(runner, cli_main, tmp_path):
    assert_clean_error(run_cli(runner, cli_main, "check-cache", tmp_path), "not a feature cache")
