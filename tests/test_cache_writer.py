"""The cache writer's states, without an encoder: what --out holds decides resume, replace or refuse;
the lock; what a run that wrote nothing leaves; and that only the cache's own files are removed."""
from __future__ import annotations

import json

import pytest

from mlbert import BadInput
from mlbert.extract.cache import manifest as cache_manifest
from mlbert.extract.cache import writer

FIELDS = {"encoder": {"handle": "e"}, "settings": {"seq_len": 64}}


def _cache(folder, fields=FIELDS, shards=("train-00000-of-00001.h5",)):
    """A folder holding a manifest of `fields` that lists `shards`, each a file."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = writer.new_manifest(fields, {"dim": 4}, {"kind": "csv"}, ["neg", "pos"])
    manifest["splits"]["train"] = {"shards": [{"file": s, "count": 1, "sha256": "x"} for s in shards],
                                   "complete": True}
    for name in shards:
        (folder / name).write_bytes(b"shard")
    writer.write(str(folder), manifest)
    return manifest


def test_a_missing_folder_is_created_and_a_file_is_refused(tmp_path):
    made = writer.create(str(tmp_path / "new"))
    assert made.created and (tmp_path / "new").is_dir()
    assert not writer.create(str(tmp_path / "new")).created
    (tmp_path / "file").write_text("mine")
    with pytest.raises(BadInput, match="is a file, not a folder"):
        writer.create(str(tmp_path / "file"))
    assert (tmp_path / "file").read_text() == "mine"


def test_an_empty_folder_is_a_new_cache(tmp_path):
    folder = writer.inspect(writer.create(str(tmp_path)), FIELDS, overwrite=False)
    assert folder.resume is None and folder.replaced is None


def test_a_folder_of_other_files_is_refused_even_with_overwrite(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    for overwrite in (False, True):
        with pytest.raises(BadInput, match="holds no feature cache"):
            writer.inspect(writer.create(str(tmp_path)), FIELDS, overwrite)


def test_a_cache_of_the_same_settings_is_resumed(tmp_path):
    _cache(tmp_path)
    folder = writer.inspect(writer.create(str(tmp_path)), FIELDS, overwrite=False)
    assert folder.resume["fingerprint"] == cache_manifest.fingerprint(FIELDS) and folder.replaced is None


def test_a_cache_of_other_settings_needs_overwrite_then_is_replaced(tmp_path):
    _cache(tmp_path)
    other = {**FIELDS, "settings": {"seq_len": 128}}
    with pytest.raises(BadInput, match=r"settings\.seq_len differ.*--overwrite"):
        writer.inspect(writer.create(str(tmp_path)), other, overwrite=False)
    folder = writer.inspect(writer.create(str(tmp_path)), other, overwrite=True)
    assert folder.resume is None and folder.replaced["fingerprint_fields"] == FIELDS


def test_clearing_for_a_new_run_removes_the_old_caches_files_only(tmp_path):
    _cache(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / ".train-00000-of-00001.h5.tmp-123").write_bytes(b"half")
    folder = writer.inspect(writer.create(str(tmp_path)), {"other": 1}, overwrite=True)
    writer.clear_for_new_run(folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    with writer.lock(str(tmp_path)):
        with pytest.raises(BadInput, match="another extract"):
            with writer.lock(str(tmp_path)):
                pass
    with writer.lock(str(tmp_path)):  # released: taken again
        pass


def test_a_run_that_wrote_nothing_leaves_no_trace(tmp_path):
    made = writer.create(str(tmp_path / "new"))
    with writer.lock(made.out):
        pass
    writer.leave_no_trace(made)
    assert not (tmp_path / "new").exists()
    kept = writer.create(str(tmp_path))
    with writer.lock(kept.out):
        pass
    writer.leave_no_trace(kept)
    assert tmp_path.is_dir() and not (tmp_path / writer.LOCK).exists()


def test_a_recorded_shard_is_in_the_manifest_on_disk(tmp_path):
    manifest = _cache(tmp_path, shards=())
    entry = manifest["splits"]["train"]
    (tmp_path / "train-00000-of-00001.h5").write_bytes(b"new shard")
    writer.record_shard(str(tmp_path), manifest, entry, "train-00000-of-00001.h5", 1)
    on_disk = json.loads((tmp_path / cache_manifest.MANIFEST).read_text())
    shard, = on_disk["splits"]["train"]["shards"]
    assert shard["sha256"] == cache_manifest.sha256_file(tmp_path / "train-00000-of-00001.h5")
