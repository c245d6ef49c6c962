"""Your own data: CSV and JSON Lines files, their errors, and hostile texts (property-based)."""
from __future__ import annotations

import csv
import io
import json

import h5py
import numpy as np
import pytest

from helpers import assert_clean_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st



@pytest.fixture
def extract(runner, cli_main, tiny_models, tmp_path):
    counter = iter(range(10**6))

    def run(data, *extra):
        out = tmp_path / f"c{next(counter)}"
        r = runner.invoke(cli_main, ["extract", "--data", str(data), "--out", str(out), "--seq-len", "32",
                                     "--encoder", str(tiny_models["encoder"]),
                                     "--preprocessor", str(tiny_models["preprocessor"]), *map(str, extra)])
        return r, out
    return run


def write_csv(path, rows, header=("text", "label")):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def rows_of(out, split):
    total = []
    for shard in sorted(out.glob(f"{split}-*.h5")):
        with h5py.File(shard) as f:
            total += [i.decode() for i in f["ids"][...]]
    return total


def test_csv_with_split_field(extract, tmp_path):
    path = write_csv(tmp_path / "r.csv", [("great film", "pos", "train"), ("awful", "neg", "train"),
                                          ("superb", "1", "test"), ("boring", "0", "test"),
                                          ("loved it", "positive", "train")], header=("text", "label", "split"))
    r, out = extract(path)
    assert r.exit_code == 0, r.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["splits"]["train"]["counts"]["total"] == 3 and manifest["splits"]["test"]["counts"]["labels"]["pos"] == 1
    assert manifest["data"]["kind"] == "csv" and manifest["data"]["text_field"] == "text"
    assert sorted(rows_of(out, "train")) == ["line-2", "line-3", "line-6"]


def test_jsonl_renamed_fields_and_split_ratio(extract, tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps({"review": f"text {i}", "sentiment": i % 2}) for i in range(20)) + "\n")
    r, out = extract(path, "--text-field", "review", "--label-field", "sentiment", "--split-ratio", "0.25")
    assert r.exit_code == 0, r.output
    counts = json.loads((out / "manifest.json").read_text())["splits"]
    assert (counts["train"]["counts"]["total"], counts["test"]["counts"]["total"]) == (16, 4)
    assert counts["test"]["counts"]["labels"] == {"0": 2, "1": 2}
    assert set(rows_of(out, "train")).isdisjoint(rows_of(out, "test"))


@pytest.mark.parametrize("content,needles", [
    ('{"text": "fine", "label": 1}\n{"text": "no label"}\n', ["r.jsonl:2", "'label' is missing", "--label-field"]),
    ('{"text": "fine", "label": 1}\n{"text": "x", "label": ""}\n', ["r.jsonl:2", "'label' is empty"]),
    ('{"text": "fine", "label": 1}\n{"text": "x", "label": true}\n', ["r.jsonl:2", "a name or an integer"]),
    ('{"text": "fine", "label": 1}\n\n{"text": broken\n', ["r.jsonl:3", "bad JSON"]),
    ('["a list"]\n', ["r.jsonl:1", "JSON object"]),
    ('{"text": 5, "label": 1}\n', ["r.jsonl:1", "must be a string"]),
    ('{"text": "a", "label": 1, "split": "holdout"}\n', ["r.jsonl:1", "'holdout'", "train, validation"]),
])
def test_jsonl_errors_name_file_and_line(extract, tmp_path, content, needles):
    path = tmp_path / "r.jsonl"
    path.write_text(content)
    r, out = extract(path)
    assert_clean_error(r, *needles)
    assert not out.exists()


def test_csv_unterminated_quote_and_missing_field(extract, tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('text,label\n"fine",1\n"never closed,0\nmore,1\n')
    assert_clean_error(extract(path)[0], "q.csv:", "malformed CSV", "quotes")
    path.write_text("review,label\nfine,1\n")
    assert_clean_error(extract(path)[0], "q.csv:2", "'text' is missing", "--text-field")
    path.write_text("")
    assert_clean_error(extract(path)[0], "q.csv", "empty CSV")


def test_hostile_texts_are_handled(extract, tmp_path):
    path = tmp_path / "h.jsonl"
    big = "A great film! " * 75_000  # about 1 MB
    lines = [json.dumps({"text": t, "label": i % 2, "split": "test"}).encode()
             for i, t in enumerate(["", "nul \x00 byte", big, "   ", "ok"])]
    lines.append(b'{"text": "bad \xff\xfe utf8", "label": 1, "split": "test"}')
    path.write_bytes(b"\n".join(lines) + b"\n")
    r, out = extract(path, "--splits", "test", "--windows", "--stride", "30")
    assert r.exit_code == 0, r.output
    counts = json.loads((out / "manifest.json").read_text())["splits"]["test"]["counts"]
    assert counts["total"] == 6 and counts["replaced_utf8"] == 1 and counts["empty"] == 2
    with h5py.File(next(out.glob("test-*.h5"))) as f:
        assert f["features"].shape == (6, 32)
        assert not (f["features"][...] != f["features"][...]).any(), "no NaN"


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
labels = st.sampled_from(["0", "1", "pos", "neg", "POS", "2", "", "maybe"])
rows = st.lists(st.tuples(texts, labels), min_size=1, max_size=6)


def _check_outcome(result, out, valid_rows):
    """Either one feature row per input row, or exit 2 with one error line: never a traceback."""
    if result.exit_code == 0:
        got = rows_of(out, "train") + rows_of(out, "test")
        assert len(got) == len(set(got))
        assert valid_rows is None or len(got) == valid_rows
    else:
        assert result.exit_code == 2, (result.output, result.exception)
        assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows)
@pytest.mark.slow
def test_property_jsonl_rows(extract, tmp_path, rows):
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": lab, "split": "train" if i % 2 else "test"}) + "\n"
                            for i, (t, lab) in enumerate(rows)))
    result, out = extract(path)
    _check_outcome(result, out, len(rows))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows, raw=st.binary(max_size=40))
@pytest.mark.slow
def test_property_csv_rows_and_raw_bytes(extract, tmp_path, rows, raw):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text", "label", "split"])
    for i, (t, lab) in enumerate(rows):
        writer.writerow([t, lab, "train" if i % 2 else "test"])
    path = tmp_path / "p.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8") + raw)
    result, out = extract(path)
    # Trailing junk bytes may form extra rows, so with them only the row count is left open.
    _check_outcome(result, out, None if raw else len(rows))


def _features_by_id(out, split):
    found = {}
    for shard in sorted(out.glob(f"{split}-*.h5")):
        with h5py.File(shard) as f:
            found.update(zip((i.decode() for i in f["ids"][...]), f["features"][...]))
    return found


# Formats: one set of rows, however it is written, reads the same
ROWS = [{"text": f"review number {i} was {'good' if i % 2 else 'bad'}", "label": "pos" if i % 2 else "neg"}
        for i in range(40)]


def _same_reviews(a, b):
    """The same reviews in each split (their order follows the row ids, which name lines or items)."""
    assert a.keys() == b.keys()
    for split in a:
        assert sorted(zip(a[split].texts, a[split].labels)) == sorted(zip(b[split].texts, b[split].labels))


def test_tsv_json_arrays_gzip_and_any_case_suffix_read_the_same_rows(tmp_path):
    import gzip

    from mlbert.data.sources import read_source

    reference = read_source(str(write_csv(tmp_path / "r.csv", [(r["text"], r["label"]) for r in ROWS])), None)
    tsv = "text\tlabel\n" + "".join(f"{r['text']}\t{r['label']}\n" for r in ROWS)
    (tmp_path / "r.TSV").write_text(tsv)
    (tmp_path / "r.JSON").write_text(json.dumps(ROWS))
    (tmp_path / "r.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in ROWS).encode()))
    (tmp_path / "semicolons.csv").write_text("text;label\n" + "".join(f"{r['text']};{r['label']}\n" for r in ROWS))
    (tmp_path / "tabs.csv").write_text(tsv)  # a spreadsheet's tab-separated export named .csv
    for name in ("r.TSV", "r.JSON", "r.jsonl.gz", "semicolons.csv", "tabs.csv"):
        _same_reviews(reference, read_source(str(tmp_path / name), None))


@pytest.mark.parametrize("name, content, needles", [
    ("notes.xlsx", b"PK", ["notes.xlsx: not a format this tool reads", ".tsv", ".json (an array of objects)", "gzip"]),
    ("r.csv", b"review,stars\nfine,5\n", ["field 'text' is missing (the fields are 'review', 'stars')",
                                          "--text-field"]),
    ("r.jsonl", b'{"text": null, "label": "pos"}\n', ["r.jsonl:1: field 'text' has no value (null"]),
    ("r.json", b'[{"text": "a", "label": "pos"}, 3]', ["item 2 of the array", "got int"]),
    ("r.csv.gz", b"not gzip", ["r.csv.gz: cannot decompress"]),
])
def test_unreadable_tables_are_one_line_naming_what_is_read(tmp_path, name, content, needles):
    from mlbert import BadInput
    from mlbert.data.sources import read_source

    (tmp_path / name).write_bytes(content)
    with pytest.raises(BadInput) as e:
        read_source(str(tmp_path / name), None)
    for needle in needles:
        assert needle in str(e.value), str(e.value)


def test_labels_follow_one_rule_spaces_dropped_and_case_folded(tmp_path):
    from mlbert.data.sources import read_source

    labels = ["negative", "Neutral", "positive", "neutral ", " Positive", "NEGATIVE"] * 5
    path = write_csv(tmp_path / "r.csv", [(f"text {i}", label) for i, label in enumerate(labels)])
    reviews = read_source(str(path), None)
    assert reviews["train"].classes == ("Neutral", "negative", "positive")  # each named as first written
    total = sum(len(r) for r in reviews.values())
    counts = {name: sum(r.counts()["labels"][name] for r in reviews.values()) for name in reviews["train"].classes}
    assert total == 30 and counts == {"Neutral": 10, "negative": 10, "positive": 10}


def test_a_class_with_no_training_rows_is_warned_about_by_name(extract, tmp_path):
    rows = [(f"good film {i}", "pos", "train") for i in range(10)] + [(f"bad film {i}", "neg", "train")
                                                                      for i in range(10)]
    rows += [(f"so so {i}", "meh", "test") for i in range(4)] + [(f"good {i}", "pos", "test") for i in range(4)]
    r, out = extract(write_csv(tmp_path / "r.csv", rows, header=("text", "label", "split")))
    assert r.exit_code == 0, r.output
    assert "warning: class 'meh' (4 in test) has no training rows" in r.stderr


def test_rows_from_memory_make_the_same_cache_as_the_file(tiny_models, tmp_path):
    import mlbert

    models = {"encoder": tiny_models["encoder"], "preprocessor": tiny_models["preprocessor"], "seq_len": 32}
    mlbert.extract(write_csv(tmp_path / "r.csv", [(r["text"], r["label"]) for r in ROWS]), tmp_path / "file", **models)
    summary = mlbert.extract(ROWS, tmp_path / "memory", **models)
    assert summary["splits"]["train"]["total"] == 32
    columns = {"text": [r["text"] for r in ROWS], "label": [r["label"] for r in ROWS]}
    again = mlbert.extract(columns, tmp_path / "memory", **models)  # the same rows, as columns: kept
    assert all(s["skipped"] for s in again["splits"].values())
    for split in ("train", "test"):  # row i of memory is line i + 2 of the file (after its header)
        from_file = _features_by_id(tmp_path / "file", split)
        from_memory = {f"line-{int(i.split('-')[1]) + 2}": v for i, v in _features_by_id(tmp_path / "memory",
                                                                                          split).items()}
        assert from_file.keys() == from_memory.keys()
        assert all(np.array_equal(from_file[i], from_memory[i]) for i in from_file)
    manifest = json.loads((tmp_path / "memory" / "manifest.json").read_text())
    assert manifest["data"]["kind"] == "memory" and manifest["data"]["rows"] == 40
    with pytest.raises(mlbert.BadInput, match=r"data\[0\]: str, not a dict"):
        mlbert.extract(["good film"], tmp_path / "x", **models)
    with pytest.raises(mlbert.BadInput, match="int is not a data source; pass a path"):
        mlbert.extract(5, tmp_path / "x", **models)
    assert not (tmp_path / "x").exists()


def test_a_pandas_dataframe_is_read_as_its_rows():
    pandas = pytest.importorskip("pandas", reason="pandas is not installed (it is optional)")
    from mlbert.data.sources import as_source, read_source

    frame = pandas.DataFrame(ROWS)
    _same_reviews(read_source(as_source(ROWS), None), read_source(as_source(frame), None))
    assert as_source(frame).digest() == as_source(ROWS).digest()


def test_a_texts_labels_pair_and_a_hugging_face_dataset_make_the_same_cache_as_the_file(tiny_models, tmp_path):
    import mlbert

    datasets = pytest.importorskip("datasets", reason="Hugging Face datasets is not installed (it is optional)")
    models = {"encoder": tiny_models["encoder"], "preprocessor": tiny_models["preprocessor"], "seq_len": 32}
    mlbert.extract(write_csv(tmp_path / "r.csv", [(r["text"], r["label"]) for r in ROWS]), tmp_path / "file", **models)
    texts, labels = [r["text"] for r in ROWS], [r["label"] for r in ROWS]
    forms = {"pair": (texts, labels), "dataset": datasets.Dataset.from_list(ROWS)}
    for name, data in forms.items():
        mlbert.extract(data, tmp_path / name, **models)
        for split in ("train", "test"):  # row i of memory is line i + 2 of the file (after its header)
            from_file = _features_by_id(tmp_path / "file", split)
            from_memory = {f"line-{int(i.split('-')[1]) + 2}": v
                           for i, v in _features_by_id(tmp_path / name, split).items()}
            assert from_file.keys() == from_memory.keys(), name
            assert all(np.array_equal(from_file[i], from_memory[i]) for i in from_file), name
    # The same rows in another form are the same data: the cache is kept, not rebuilt.
    again = mlbert.extract(datasets.Dataset.from_dict({"text": texts, "label": labels}), tmp_path / "pair", **models)
    assert all(s["skipped"] for s in again["splits"].values())
    with pytest.raises(mlbert.BadInput, match=r"\(texts, labels\) pair takes two sequences of the same length"):
        mlbert.extract((texts, labels[:-1]), tmp_path / "x", **models)
    assert not (tmp_path / "x").exists()


def test_a_dataset_dict_gives_its_splits_by_name(tiny_models, tmp_path):
    import mlbert

    datasets = pytest.importorskip("datasets", reason="Hugging Face datasets is not installed (it is optional)")
    parts = {"train": ROWS[:24], "validation": ROWS[24:32], "test": ROWS[32:]}
    data = datasets.DatasetDict({k: datasets.Dataset.from_list(v) for k, v in parts.items()})
    summary = mlbert.extract(data, tmp_path / "c", encoder=tiny_models["encoder"],
                             preprocessor=tiny_models["preprocessor"], seq_len=32)
    assert {k: s["total"] for k, s in summary["splits"].items()} == {"train": 24, "validation": 8, "test": 8}
    # The same rows with their split in a column: the same data, so the same fingerprint.
    from mlbert.data.sources import as_source
    flat = [{**row, "split": name} for name, rows in parts.items() for row in rows]
    assert as_source(data).digest() == as_source(flat).digest()
    with pytest.raises(mlbert.BadInput, match="has a 'split' column"):
        as_source(datasets.DatasetDict({"train": datasets.Dataset.from_list(flat)}))


def test_predict_takes_a_pandas_series(trained):
    import mlbert

    pandas = pytest.importorskip("pandas", reason="pandas is not installed (it is optional)")
    clf = mlbert.load(trained)
    texts = ["a wonderful film", "dull and long"]
    assert clf.predict(pandas.Series(texts)) == clf.predict(texts)
