"""A corpus of many files (data/sources/corpus.py): planned in slices by the driver, each slice read
alone by a worker, with the same rows as a whole-file read; files that change or vanish are refused."""
from __future__ import annotations

import pytest

from helpers import write_corpus
from mlbert.common.errors import BadInput
from mlbert.data.sources.corpus import is_corpus, list_files, plan_corpus, read_slice

FIELDS = ("text", "label")


def _plan(folder, shard_size=10, **options):
    options = {"splits": None, "limit": None, "text_field": "text", "label_field": "label", "split_ratio": 0.25,
               "labels": None, "seed": 0, **options}
    return plan_corpus(str(folder), shard_size=shard_size, **options)


def _read_all(corpus):
    """Every slice read as a worker reads it: {split: [(id, text, label)]} in slice order."""
    got = {}
    for piece, take in zip(corpus.slices, corpus.take):
        for split, (ids, texts, labels) in read_slice(piece.to_dict(), FIELDS, 0.25, 0, take).items():
            got.setdefault(split, []).extend(zip(ids, texts, labels))
    return got


def test_slices_read_alone_give_every_row_of_every_file_once(tmp_path):
    written = write_corpus(tmp_path / "corpus")
    corpus = _plan(tmp_path / "corpus", shard_size=10)
    # Slices never cross files and hold at most shard_size rows: 23 rows a file -> 10, 10, 3.
    assert [p.name for p in corpus.slices] == [name for name in sorted(written) for _ in range(3)]
    got = _read_all(corpus)
    rows = sorted(row for split in got.values() for row in split)
    expected = sorted((f"{name}:{'row' if name.endswith('parquet') else 'line'}-{n}", text, label)
                      for name, file_rows in written.items() for n, (text, label) in zip(
                          _numbers(name, len(file_rows)), file_rows))
    assert rows == expected
    assert sum(corpus.counts(s)["total"] for s in corpus.splits()) == 5 * 23


def _numbers(name, n):
    """The line (row) number of each row: after a header in CSV, two lines a record there, blank lines between in b."""
    if name == "c.csv":
        return [2 + 2 * i for i in range(n)]
    if name == "b.jsonl.gz":
        return [1 + 2 * i for i in range(n)]
    return [1 + i for i in range(n)]


def test_rows_without_a_split_field_go_to_test_by_their_id_hash(tmp_path):
    write_corpus(tmp_path / "corpus", rows_per_file=200)
    corpus = _plan(tmp_path / "corpus", shard_size=64)
    counts = {s: corpus.counts(s)["total"] for s in corpus.splits()}
    assert set(counts) == {"train", "test"}
    assert 0.20 < counts["test"] / 1000 < 0.30  # --split-ratio 0.25, in expectation
    # The same rows again, whatever the slices: each row's split is its id's alone.
    again = _read_all(_plan(tmp_path / "corpus", shard_size=7))
    assert sorted(again["test"]) == sorted(_read_all(corpus)["test"])


def test_limit_takes_the_first_rows_of_each_split_in_file_order(tmp_path):
    write_corpus(tmp_path / "corpus")
    full, limited = _read_all(_plan(tmp_path / "corpus")), _read_all(_plan(tmp_path / "corpus", limit=17))
    for split in ("train", "test"):
        assert limited[split] == full[split][:17]


def test_a_glob_picks_its_files_and_names_them_from_its_folder(tmp_path):
    write_corpus(tmp_path / "corpus")
    assert is_corpus(str(tmp_path / "corpus")) and is_corpus(str(tmp_path / "corpus" / "*.jsonl"))
    assert not is_corpus(str(tmp_path / "corpus" / "a-0.jsonl"))
    assert [f.name for f in list_files(str(tmp_path / "corpus" / "a-*.jsonl"))] == ["a-0.jsonl", "a-1.jsonl"]
    with pytest.raises(BadInput, match="no .jsonl"):
        list_files(str(tmp_path / "corpus" / "nothing-*.jsonl"))


def test_a_bad_row_is_refused_at_planning_by_file_and_line(tmp_path):
    write_corpus(tmp_path / "corpus")
    with open(tmp_path / "corpus" / "a-1.jsonl", "a") as f:
        f.write('{"text": "no label here"}\n')
    with pytest.raises(BadInput, match=r"a-1\.jsonl:24: field 'label' is missing"):
        _plan(tmp_path / "corpus")


@pytest.mark.parametrize("name", ["a-1.jsonl", "c.csv", "d.parquet"])
def test_a_file_changed_after_planning_is_refused_by_name(tmp_path, name):
    import pyarrow as pa
    import pyarrow.parquet as pq

    write_corpus(tmp_path / "corpus")
    corpus = _plan(tmp_path / "corpus")
    path = tmp_path / "corpus" / name
    if name.endswith(".parquet"):
        pq.write_table(pa.Table.from_pylist([{"text": "other", "label": "pos"}] * 23), path, row_group_size=5)
    else:
        data = bytearray(path.read_bytes())
        at = corpus.slices[[p.name for p in corpus.slices].index(name)].start + 12  # in its first slice's rows
        data[at] = ord("X") if data[at] != ord("X") else ord("Y")  # same size, other bytes
        path.write_bytes(bytes(data))
    piece, take = next((p, t) for p, t in zip(corpus.slices, corpus.take) if p.name == name)
    with pytest.raises(BadInput, match=rf"{name}: changed since extract planned its shards"):
        read_slice(piece.to_dict(), FIELDS, 0.25, 0, take)


def test_a_file_gone_after_planning_is_refused_by_name(tmp_path):
    write_corpus(tmp_path / "corpus")
    corpus = _plan(tmp_path / "corpus")
    (tmp_path / "corpus" / "a-0.jsonl").unlink()
    with pytest.raises(BadInput, match=r"a-0\.jsonl: gone since extract planned its shards"):
        read_slice(corpus.slices[0].to_dict(), FIELDS, 0.25, 0, corpus.take[0])
