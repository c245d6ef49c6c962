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


def test_a_cache_of_other_settings_needs_overwrite_then_its_replacement_is_built_beside_it(tmp_path):
    cache = tmp_path / "c"
    _cache(cache)
    other = {**FIELDS, "settings": {"seq_len": 128}}
    with pytest.raises(BadInput, match=r"settings\.seq_len differ.*--overwrite"):
        writer.inspect(writer.create(str(cache)), other, overwrite=False)
    folder = writer.inspect(writer.create(str(cache)), other, overwrite=True)
    assert folder.out == str(tmp_path / "c.replacement") and folder.target == str(cache)
    assert folder.resume is None and folder.replaced is None
    assert json.loads((cache / "manifest.json").read_text())["fingerprint_fields"] == FIELDS, "old cache untouched"


def test_an_unfinished_replacement_is_resumed_and_named_in_the_refusal_without_overwrite(tmp_path):
    cache, other = tmp_path / "c", {**FIELDS, "settings": {"seq_len": 128}}
    _cache(cache)
    _cache(tmp_path / "c.replacement", other)
    folder = writer.inspect(writer.create(str(cache)), other, overwrite=True)
    assert folder.resume["fingerprint_fields"] == other and folder.target == str(cache)
    with pytest.raises(BadInput, match=r"replacement begun with these settings is in .*c\.replacement"):
        writer.inspect(writer.create(str(cache)), other, overwrite=False)


def test_a_replacement_of_yet_other_settings_is_ours_to_replace_but_a_users_folder_there_is_refused(tmp_path):
    cache, other = tmp_path / "c", {**FIELDS, "settings": {"seq_len": 128}}
    _cache(cache)
    _cache(tmp_path / "c.replacement", {**FIELDS, "settings": {"seq_len": 256}})
    folder = writer.inspect(writer.create(str(cache)), other, overwrite=True)
    assert folder.replaced["fingerprint_fields"]["settings"] == {"seq_len": 256}
    (tmp_path / "d").mkdir()
    _cache(tmp_path / "d")
    (tmp_path / "d.replacement").mkdir()
    (tmp_path / "d.replacement" / "notes.txt").write_text("mine")
    with pytest.raises(BadInput, match=r"d\.replacement: is not empty and holds no feature cache.*move it away"):
        writer.inspect(writer.create(str(tmp_path / "d")), other, overwrite=True)
    assert (tmp_path / "d.replacement" / "notes.txt").read_text() == "mine"


def test_the_swap_puts_the_replacement_in_place_and_keeps_the_users_other_files(tmp_path):
    cache, other = tmp_path / "c", {**FIELDS, "settings": {"seq_len": 128}}
    _cache(cache, shards=("train-00000-of-00001.h5", "test-00000-of-00001.h5"))
    (cache / "notes.txt").write_text("mine")
    folder = writer.inspect(writer.create(str(cache)), other, overwrite=True)
    manifest = _cache(tmp_path / "c.replacement", other, shards=("train-00000-of-00002.h5",))
    manifest["replaces"] = str(cache)
    writer.swap_in(folder, manifest)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]
    assert sorted(p.name for p in cache.iterdir()) == ["manifest.json", "notes.txt", "train-00000-of-00002.h5"]
    written = json.loads((cache / "manifest.json").read_text())
    assert written["fingerprint_fields"] == other and "replaces" not in written


def test_an_object_store_swap_that_stopped_half_way_is_finished_by_the_same_command():
    import tensorflow as tf

    root = "ram://swap-test"
    other = {**FIELDS, "settings": {"seq_len": 128}}
    for folder, fields, shard in ((root + "/c", FIELDS, "a.h5"), (root + "/c.replacement", other, "b.h5")):
        manifest = writer.new_manifest(fields, {"dim": 4}, {"kind": "csv"}, ["neg", "pos"])
        manifest["splits"]["train"] = {"shards": [{"file": shard, "count": 1, "sha256": "x"}], "complete": True}
        tf.io.gfile.makedirs(folder)
        with tf.io.gfile.GFile(f"{folder}/{shard}", "wb") as f:
            f.write(b"shard")
        writer.write(folder, manifest)
    tf.io.gfile.remove(root + "/c/manifest.json")  # the swap stopped just after giving up the old cache
    folder = writer.inspect(writer.create(root + "/c"), other, overwrite=True)
    assert folder.out == root + "/c.replacement" and folder.resume is not None
    writer.swap_in(folder, folder.resume)
    assert json.loads(tf.io.gfile.GFile(root + "/c/manifest.json").read())["fingerprint_fields"] == other
    assert tf.io.gfile.exists(root + "/c/b.h5") and not tf.io.gfile.exists(root + "/c.replacement/b.h5")


def test_check_cache_says_which_folder_is_the_replacement(tmp_path):
    cache, other = tmp_path / "c", {**FIELDS, "settings": {"seq_len": 128}}
    _cache(cache)
    assert writer.replacement_note(str(cache)) is None
    manifest = _cache(tmp_path / "c.replacement", other)
    manifest["replaces"] = str(cache)
    writer.write(str(tmp_path / "c.replacement"), manifest)
    assert "being built in" in writer.replacement_note(str(cache))
    assert "unfinished replacement for" in writer.replacement_note(str(tmp_path / "c.replacement"))


def test_clearing_for_a_new_run_removes_the_old_caches_files_only(tmp_path):
    cache = tmp_path / "c"
    _cache(cache)
    _cache(tmp_path / "c.replacement", {"other": 2})
    (tmp_path / "c.replacement" / "notes.txt").write_text("mine")
    (tmp_path / "c.replacement" / ".train-00000-of-00001.h5.tmp-123").write_bytes(b"half")
    folder = writer.inspect(writer.create(str(cache)), {"other": 1}, overwrite=True)
    writer.clear_for_new_run(folder)
    assert sorted(p.name for p in (tmp_path / "c.replacement").iterdir()) == ["notes.txt"]
    assert (cache / "manifest.json").exists()


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
    recorded = {"file": "train-00000-of-00001.h5", "count": 1, "sha256": "ab" * 32}
    writer.record_shard(str(tmp_path), manifest, entry, recorded)
    on_disk = json.loads((tmp_path / cache_manifest.MANIFEST).read_text())
    assert on_disk["splits"]["train"]["shards"] == [recorded]
