"""Hostile inputs and faults, as a new user would try them: nothing the user had is lost, bad input
is one `error:` line with exit code 2, and no result is silently wrong. One test per case."""
from __future__ import annotations

import json
import re
import os
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from helpers import MLBERT, TINY_CONFIG, VOCAB, assert_clean_error, make_archive, run_cli


def strict_json(text: str):
    """Parse JSON as a strict reader would: NaN and Infinity are not JSON."""
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def _bert_folder(path, vocab, **config):
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({**TINY_CONFIG, "vocab_size": len(vocab), **config}))
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    return path


def _models(folder):
    return ["--encoder", folder / "encoder", "--preprocessor", folder / "preprocessor"]


@pytest.fixture(scope="module")
def small_vocab_encoder(tmp_path_factory):
    """An import whose encoder knows only the first 20 token ids of the tiny vocabulary."""
    import mlbert

    root = tmp_path_factory.mktemp("small_vocab")
    mlbert.import_encoder(_bert_folder(root / "hf", VOCAB[:20]), root / "bert", random=True)
    return root / "bert"


# import-encoder never deletes a folder it did not make
@pytest.mark.slow
def test_import_encoder_refuses_a_users_folder_and_needs_overwrite_for_its_own(runner, cli_main, tmp_path,
                                                                              tiny_bert_folder):
    user = tmp_path / "u"
    (user / "sub").mkdir(parents=True)
    (user / "sub" / "n.txt").write_text("notes")
    (tmp_path / "u.partial").mkdir()
    (tmp_path / "u.partial" / "keep.txt").write_text("mine too")
    r = run_cli(runner, cli_main, "import-encoder", tiny_bert_folder, "--random", "--out", user)
    assert_clean_error(r, "--out", "not empty", "not an encoder import")
    r = run_cli(runner, cli_main, "import-encoder", tiny_bert_folder, "--random", "--out", user, "--overwrite")
    assert_clean_error(r, "not an encoder import")
    assert (user / "sub" / "n.txt").read_text() == "notes"
    assert (tmp_path / "u.partial" / "keep.txt").read_text() == "mine too"

    ours = tmp_path / "ours"
    assert run_cli(runner, cli_main, "import-encoder", tiny_bert_folder, "--random", "--out", ours).exit_code == 0
    before = (ours / "provenance.json").read_text()
    r = run_cli(runner, cli_main, "import-encoder", tiny_bert_folder, "--random", "--seed", 3, "--out", ours)
    assert_clean_error(r, "already holds an encoder import", "--overwrite")
    assert (ours / "provenance.json").read_text() == before
    r = run_cli(runner, cli_main, "import-encoder", tiny_bert_folder, "--random", "--seed", 3, "--out", ours,
                "--overwrite")
    assert r.exit_code == 0, r.output
    assert "seed 3" in json.loads((ours / "provenance.json").read_text())["weights"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ours", "u", "u.partial"], "no temporary folder left"


# extract --overwrite gives up the old cache only once the new run is known to work
@pytest.mark.slow
def test_extract_overwrite_keeps_the_old_cache_when_the_new_run_cannot_work(runner, cli_main, tmp_path, tiny_models,
                                                                           tiny_archive, small_vocab_encoder):
    out = tmp_path / "c"
    common = ["extract", "--data", tiny_archive, "--out", out, "--splits", "test", "--limit", 20, "--seq-len", 32]
    assert run_cli(runner, cli_main, *common, *_models(tiny_models["encoder"].parent)).exit_code == 0
    manifest = (out / "manifest.json").read_text()
    shards = {p.name: p.read_bytes() for p in out.glob("*.h5")}
    r = run_cli(runner, cli_main, *common, "--overwrite", "--encoder", small_vocab_encoder / "encoder",
                "--preprocessor", tiny_models["preprocessor"])
    assert_clean_error(r, "--preprocessor", "vocabulary has", "embeddings for 20 token ids")
    assert (out / "manifest.json").read_text() == manifest
    assert {p.name: p.read_bytes() for p in out.glob("*.h5")} == shards
    assert not (tmp_path / "c.replacement").exists(), "the replacement's folder, made by the failed run, is gone"
    assert run_cli(runner, cli_main, "check-cache", out).exit_code == 0


# train --model-dir FILE --overwrite
def test_train_refuses_a_file_as_model_dir_and_leaves_it_alone(runner, cli_main, tmp_path, extracted):
    target = tmp_path / "notes.txt"
    target.write_text("precious")
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", target, "--overwrite", "--epochs", 1)
    assert_clean_error(r, "--model-dir", "is a file")
    assert target.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"], "nothing hidden beside it"


# a sweep folder reused with another cache
@pytest.mark.slow
def test_sweep_reused_with_another_cache_trains_again(runner, cli_main, tmp_path, extracted, tiny_models,
                                                      tiny_archive):
    other = tmp_path / "other"
    assert run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", other, "--seq-len", 64,
                   "--pooling", "mean,max", "--limit", 120, *_models(tiny_models["encoder"].parent)).exit_code == 0
    args = ["sweep", "--out", tmp_path / "s", "--lr", "1e-3,3e-3", "--epochs", 1, "--hidden", "8", "--dropout", "0.1",
            "--workers", 1, "--json"]
    r = run_cli(runner, cli_main, *args, "--cache", extracted)
    assert r.exit_code == 0 and json.loads(r.stdout)["ran"] == 2, r.output
    r = run_cli(runner, cli_main, *args, "--cache", other)
    assert r.exit_code == 0, r.output
    assert (json.loads(r.stdout)["ran"], json.loads(r.stdout)["kept"]) == (2, 0)
    best = json.loads((tmp_path / "s" / "best" / "config.json").read_text())
    assert best["cache"]["path"] == str(other) and best["result"]["train_size"] + best["result"]["val_size"] == 120
    results = json.loads((tmp_path / "s" / "results.json").read_text())
    assert results["cache"] == str(other) and len(results["trials"]) == 2


# predict and export check the encoder the model was trained with
@pytest.mark.slow
def test_predict_and_export_refuse_a_changed_encoder(runner, cli_main, tmp_path, tiny_bert_folder, tiny_archive):
    enc = tmp_path / "enc"
    assert run_cli(runner, cli_main, "import-encoder", tiny_bert_folder, "--random", "--out", enc).exit_code == 0
    cache, model = tmp_path / "c", tmp_path / "m"
    assert run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", cache, "--limit", 40, "--seq-len", 32,
                   *_models(enc)).exit_code == 0
    assert run_cli(runner, cli_main, "train", "--cache", cache, "--model-dir", model, "--epochs", 1).exit_code == 0
    assert run_cli(runner, cli_main, "predict", "--model-dir", model, "fine").exit_code == 0
    # The same folder, re-imported with other weights, then with another width.
    for extra in (["--seed", 9], []):
        source = tiny_bert_folder if extra else _bert_folder(tmp_path / "wide", VOCAB, hidden_size=8,
                                                             intermediate_size=16)
        r = run_cli(runner, cli_main, "import-encoder", source, "--random", "--out", enc, "--overwrite", *extra)
        assert r.exit_code == 0, r.output
        assert_clean_error(run_cli(runner, cli_main, "predict", "--model-dir", model, "fine"),
                           "encoder recorded in the model dir", "changed since the model was trained")
        assert_clean_error(run_cli(runner, cli_main, "export", "--model-dir", model, "--out", tmp_path / "s"),
                           "changed since the model was trained")
        assert not (tmp_path / "s").exists()


# an encoder and a preprocessor of different vocabularies
def test_vocabulary_larger_than_the_embeddings_is_refused_at_import_and_before_extracting(
        runner, cli_main, tmp_path, tiny_models, tiny_archive, small_vocab_encoder):
    folder = _bert_folder(tmp_path / "hf", VOCAB, vocab_size=20)
    r = run_cli(runner, cli_main, "import-encoder", folder, "--random", "--out", tmp_path / "m")
    assert_clean_error(r, "vocab.txt has 55 tokens", "vocab_size is 20")
    assert not (tmp_path / "m").exists()
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", tmp_path / "c", "--limit", 4,
                "--encoder", small_vocab_encoder / "encoder", "--preprocessor", tiny_models["preprocessor"])
    assert_clean_error(r, "vocabulary has 55 tokens", "embeddings for 20 token ids")
    assert not (tmp_path / "c").exists()


# head+tail has a real tail at short lengths
@pytest.mark.slow
def test_head_tail_at_128_tokens_keeps_the_end_of_long_reviews(runner, cli_main, tmp_path, tiny_models,
                                                               tiny_archive):
    from test_sweep_export import _serve, _texts, _two_stage_probs

    from mlbert.extract.cache.read import read_split

    caches = {}
    for truncation in ("head", "head+tail"):
        caches[truncation] = tmp_path / truncation.replace("+", "")
        r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", caches[truncation], "--limit", 80,
                    "--seq-len", 128, "--truncation", truncation, *_models(tiny_models["encoder"].parent))
        assert r.exit_code == 0, r.output
    head, _, ids, _ = read_split(caches["head"], "test")
    tail, _, _, manifest = read_split(caches["head+tail"], "test")
    assert manifest["features"]["head_tokens"] == 32
    differ = np.abs(head["mean"] - tail["mean"]).max(axis=1) > 1e-4
    assert differ.sum() >= 10, "reviews longer than 126 tokens must differ between head and head+tail"
    model = tmp_path / "m"
    r = run_cli(runner, cli_main, "train", "--cache", caches["head+tail"], "--model-dir", model, "--epochs", 2,
                "--hidden", "8", "--dropout", "0.1")
    assert r.exit_code == 0, r.output
    assert run_cli(runner, cli_main, "export", "--model-dir", model, "--out", tmp_path / "s").exit_code == 0
    ids, expected = _two_stage_probs(caches["head+tail"], model, "test", 80)
    long = [i for i, d in enumerate(differ) if d][:16]
    np.testing.assert_allclose(_serve(tmp_path / "s", _texts(tiny_archive, [ids[i] for i in long])),
                               expected[long], atol=1e-5)


# the validation split does not move with the head's seed
@pytest.mark.slow
def test_sweep_over_seeds_compares_heads_on_the_same_validation_rows(runner, cli_main, tmp_path, extracted):
    out = tmp_path / "s"
    r = run_cli(runner, cli_main, "sweep", "--cache", extracted, "--out", out, "--seed", "0,1", "--epochs", 1,
                "--hidden", "8", "--dropout", "0.1", "--workers", 1, "--json")
    assert r.exit_code == 0, r.output
    configs = [json.loads(p.read_text()) for p in (out / "trials").glob("*/config.json")]
    assert sorted(c["head"]["seed"] for c in configs) == [0, 1]
    assert {c["head"]["split_seed"] for c in configs} == {0}
    assert len({(c["result"]["train_size"], c["result"]["val_size"]) for c in configs}) == 1


# non-finite numbers in, NaN out
@pytest.mark.slow
def test_non_finite_options_are_refused_and_json_never_holds_nan(runner, cli_main, tmp_path, extracted, trained,
                                                                 tiny_models):
    for value in ("nan", "inf", "-inf"):
        assert_clean_error(run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "m",
                                   "--lr", value), "--lr", "finite")
    assert_clean_error(run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "m",
                               "--val-fraction", "nan"), "--val-fraction")
    assert not (tmp_path / "m").exists()
    # One class only in the evaluated split: ROC AUC is undefined, so null.
    one = tmp_path / "one.jsonl"
    one.write_text("".join(json.dumps({"text": f"great film {i}", "label": "pos", "split": "test"}) + "\n"
                           for i in range(6)))
    cache = tmp_path / "one"
    manifest = json.loads((extracted / "manifest.json").read_text())["features"]
    r = run_cli(runner, cli_main, "extract", "--data", one, "--out", cache, "--splits", "test", "--seq-len",
                manifest["seq_len"], "--pooling", "mean,max", *_models(tiny_models["encoder"].parent))
    assert r.exit_code == 0, r.output
    r = run_cli(runner, cli_main, "evaluate", "--cache", cache, "--model-dir", trained, "--json")
    assert r.exit_code == 0, r.output
    assert strict_json(r.stdout)["auc"] is None
    r = run_cli(runner, cli_main, "evaluate", "--cache", cache, "--model-dir", trained)
    assert r.exit_code == 0 and "| ROC AUC | n/a |" in r.stdout


# a sequence longer than the encoder's positions
def test_seq_len_beyond_the_encoders_positions_is_one_clear_error(runner, cli_main, tmp_path, tiny_models,
                                                                  tiny_archive):
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", tmp_path / "c", "--seq-len", 600,
                *_models(tiny_models["encoder"].parent))
    assert_clean_error(r, "--seq-len 600", "at most 512 positions")
    assert not (tmp_path / "c").exists()


# the preprocessor given as the encoder, and the other way round
@pytest.mark.slow
def test_models_swapped_are_named_and_leave_nothing_behind(runner, cli_main, tmp_path, tiny_models, tiny_archive):
    out = tmp_path / "c"
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", out, "--encoder",
                tiny_models["preprocessor"], "--preprocessor", tiny_models["preprocessor"])
    assert_clean_error(r, "--encoder", "is a preprocessor, not an encoder")
    assert not out.exists()
    out.mkdir()
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", out, "--encoder",
                tiny_models["encoder"], "--preprocessor", tiny_models["encoder"])
    assert_clean_error(r, "--preprocessor", "not a BERT preprocessor")
    assert list(out.iterdir()) == [], "no lock or temporary file left in the user's empty folder"


# too few rows on one side of the validation split
@pytest.mark.parametrize("fraction", ["0.004", "0.996"])
def test_validation_split_with_an_empty_side_is_one_clear_error(runner, cli_main, tmp_path, extracted, fraction):
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / "m", "--val-fraction",
                fraction)
    assert_clean_error(r, f"--val-fraction {fraction}", "too few")
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_a_three_review_cache_is_one_clear_error(runner, cli_main, tmp_path, tiny_models):
    data = tmp_path / "three.jsonl"
    data.write_text("".join(json.dumps({"text": t, "label": y, "split": "train"}) + "\n"
                            for t, y in (("great", 1), ("awful", 0), ("superb", 1))))
    cache = tmp_path / "c"
    assert run_cli(runner, cli_main, "extract", "--data", data, "--out", cache, "--splits", "train",
                   *_models(tiny_models["encoder"].parent)).exit_code == 0
    assert_clean_error(run_cli(runner, cli_main, "train", "--cache", cache, "--model-dir", tmp_path / "m"),
                       "--val-fraction", "too few")


# predict on stdin: bytes that are not UTF-8, and blank lines
@pytest.mark.slow
def test_predict_reads_any_bytes_on_stdin_and_skips_blank_lines(runner, cli_main, trained):
    r = runner.invoke(cli_main, ["predict", "--model-dir", str(trained), "--json"],
                      input=b"caf\xe9 was great\n\n   \nawful, hated it\n")
    assert r.exit_code == 0, r.output
    rows = strict_json(r.stdout)
    assert [row["text"] for row in rows] == ["caf\ufffd was great", "awful, hated it"]
    assert "skipped 2 blank lines" in r.stderr


# an existing file where a folder goes
def test_a_file_where_a_folder_goes_is_one_clear_error(runner, cli_main, tmp_path, extracted, trained,
                                                       tiny_bert_folder):
    target = tmp_path / "figures"
    target.write_text("mine")
    r = run_cli(runner, cli_main, "evaluate", "--cache", extracted, "--model-dir", trained, "--plot", target)
    assert_clean_error(r, "--plot", "is a file")
    r = run_cli(runner, cli_main, "import-encoder", tiny_bert_folder, "--random", "--out", target)
    assert_clean_error(r, "--out", "is a file")
    assert target.read_text() == "mine"


# a byte-order mark at the start of CSV and JSONL
@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
@pytest.mark.slow
def test_utf8_byte_order_mark_is_accepted(runner, cli_main, tmp_path, tiny_models, suffix):
    rows = [("great film", "pos", "train"), ("awful", "neg", "train"), ("superb", "pos", "test"), ("dull", "neg", "test")]
    if suffix == "csv":
        body = "text,label,split\n" + "".join(f"{t},{y},{s}\n" for t, y, s in rows)
    else:
        body = "".join(json.dumps({"text": t, "label": y, "split": s}) + "\n" for t, y, s in rows)
    path = tmp_path / f"excel.{suffix}"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    r = run_cli(runner, cli_main, "extract", "--data", path, "--out", tmp_path / "c", "--json",
                *_models(tiny_models["encoder"].parent))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["splits"]["train"]["total"] == 2


# a bad quote is reported on the line where its row starts
@pytest.mark.parametrize("content,line", [('text,label\n"never closed,0\nmore,1\n', 2),
                                          ('text,label\n"fine",1\n"never closed,0\nmore,1\n', 3),
                                          ('text,label\nok,1\nfine,0\n"a"b,1\n', 4)])
def test_csv_quote_errors_name_the_line_of_the_row(runner, cli_main, tmp_path, tiny_models, content, line):
    path = tmp_path / "q.csv"
    path.write_text(content)
    r = run_cli(runner, cli_main, "extract", "--data", path, "--out", tmp_path / "c",
                *_models(tiny_models["encoder"].parent))
    assert_clean_error(r, f"q.csv:{line}:", "malformed CSV")


# options that cannot mean anything
@pytest.mark.parametrize("args,needle", [(["--splits", ""], "--splits"), (["--stride", "-5"], "--stride -5"),
                                         (["--stride", "10"], "only applies with --windows"),
                                         (["--shard-size", "0"], "--shard-size 0")])
def test_extract_options_without_meaning_are_refused(runner, cli_main, tmp_path, tiny_models, tiny_archive, args,
                                                      needle):
    r = run_cli(runner, cli_main, "extract", "--data", tiny_archive, "--out", tmp_path / "c", *args,
                *_models(tiny_models["encoder"].parent))
    assert_clean_error(r, needle)
    assert not (tmp_path / "c").exists()


def test_sweep_with_negative_workers_is_refused(runner, cli_main, tmp_path, extracted):
    r = run_cli(runner, cli_main, "sweep", "--cache", extracted, "--out", tmp_path / "s", "--workers", -3)
    assert_clean_error(r, "--workers -3")
    assert not (tmp_path / "s").exists()


# Ctrl-C stops a sweep and its workers; finished trials are kept
@pytest.mark.slow
def test_ctrl_c_stops_the_sweep_and_its_workers(tmp_path, extracted):
    out = tmp_path / "s"
    cmd = [MLBERT, "sweep", "--cache", str(extracted), "--out", str(out), "--lr", "1e-3,2e-3,3e-3",
           "--seed", "0,1", "--epochs", "5", "--patience", "5", "--batch-size", "8", "--workers", "2"]
    # A terminal's job: its own process group, Ctrl-C not ignored (a test run started in the background
    # by a non-interactive shell ignores SIGINT, and its children would inherit that).
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    log = out / "trials.jsonl"
    deadline = time.time() + 180
    while time.time() < deadline and not (log.exists() and log.read_text().strip()):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: to the whole process group
    t0 = time.time()
    _, stderr = proc.communicate(timeout=60)
    assert time.time() - t0 < 20, "the sweep must stop, not finish its queue"
    assert proc.returncode == 130, stderr
    assert "run the same command again to resume" in stderr and "Traceback" not in stderr
    finished = len(log.read_text().splitlines())
    assert 1 <= finished < 6
    def running():  # processes of the sweep's group that still run (exited ones wait, defunct, to be reaped)
        ps = subprocess.run(["ps", "-o", "pid=,stat=", "-g", str(proc.pid)], capture_output=True, text=True).stdout
        return [line for line in ps.splitlines() if not line.split()[1].startswith("Z")]
    deadline = time.time() + 10
    while running() and time.time() < deadline:
        time.sleep(0.2)
    assert not running(), f"worker processes still running: {running()}"
    again = subprocess.run(cmd + ["--json"], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert (summary["kept"], summary["ran"], summary["trials"]) == (finished, 6 - finished, 6)


# the original recipe's data path, tfds.load("imdb_reviews"), through TFDS's own code
def test_tfds_path_prepares_imdb_reviews_through_tfds(tmp_path, monkeypatch, tiny_models):
    import tensorflow_datasets as tfds

    import mlbert

    archive = make_archive(tmp_path / "aclImdb_v1.tar.gz", per_label=6, extra={
        f"aclImdb/train/unsup/{i}_0.txt": b"an unlabelled review" for i in range(3)})
    # Only the network fetch is replaced: tfds.load builds the data set with TFDS's own builder,
    # download manager and archive reader, into a data dir of the test's own.
    monkeypatch.setattr(tfds.core.constants, "DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.setattr(tfds.download.DownloadManager, "download", lambda self, url: str(archive))
    summary = mlbert.extract("tfds", tmp_path / "c", encoder=str(tiny_models["encoder"]),
                             preprocessor=str(tiny_models["preprocessor"]), seq_len=32)
    assert {s: (v["total"], v["labels"]["pos"]) for s, v in summary["splits"].items()} == {
        "train": (12, 6), "test": (12, 6)}
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["data"]["kind"] == "tfds"


def test_tfds_missing_module_is_named(monkeypatch):
    import builtins

    from mlbert.data.sources.tfds import read_tfds

    real_import = builtins.__import__

    def no_tfds(name, *args, **kwargs):
        if name == "tensorflow_datasets":
            raise ModuleNotFoundError("No module named 'tensorflow_datasets'", name="tensorflow_datasets")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tfds)
    with pytest.raises(Exception) as e:
        read_tfds(["train"])
    assert "needs the Python module 'tensorflow_datasets'" in str(e.value) and "internet" not in str(e.value)


def test_tf_hub_handle_downloads_once_into_the_hub_cache(tmp_path, monkeypatch, tiny_models, tiny_archive):
    import http.server
    import tarfile
    import threading

    import mlbert

    for name in ("encoder", "preprocessor"):
        with tarfile.open(tmp_path / f"{name}.tar.gz", "w:gz") as tar:
            tar.add(tiny_models[name], arcname=".")
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *a: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "hub"))
        url = f"http://127.0.0.1:{server.server_address[1]}"
        summary = mlbert.extract(tiny_archive, tmp_path / "c", encoder=f"{url}/encoder.tar.gz",
                                 preprocessor=f"{url}/preprocessor.tar.gz", splits="test", limit=10, seq_len=32)
    finally:
        server.shutdown()
    assert summary["splits"]["test"]["total"] == 10
    assert len([p for p in (tmp_path / "hub").iterdir() if p.is_dir()]) == 2



@pytest.mark.slow
def test_same_seeds_same_data_same_flags_give_the_same_model(runner, cli_main, tmp_path, extracted):
    from mlbert.train.model_dir import load_model_dir

    results = []
    for name in ("a", "b"):
        r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", tmp_path / name, "--epochs", 2,
                    "--ensemble", 2, "--seed", 4, "--json")
        assert r.exit_code == 0, r.output
        results.append(json.loads(r.stdout))
    a, b = (load_model_dir(tmp_path / name)[0] for name in ("a", "b"))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    for key in ("val_accuracy", "val_loss", "best_epoch"):
        assert results[0][key] == results[1][key]
    with h5py.File(next(extracted.glob("test-*.h5"))) as f:
        x = f["features"][...]
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))


# predict: a table that holds whatever a review holds; no input is said; a long input shows progress
def test_predict_table_escapes_bars_and_line_breaks(runner, cli_main, trained):
    r = runner.invoke(cli_main, ["predict", "--model-dir", str(trained), "a | b", "line one\nline two\tend"])
    assert r.exit_code == 0, r.output
    rows = r.stdout.strip().splitlines()
    assert len(rows) == 4 and all(len(re.split(r"(?<!\\)\|", row)) == 5 for row in rows)  # 3 cells a row
    assert '"a \\| b"' in rows[2] and '"line one\\nline two\\tend"' in rows[3]


def test_predict_with_nothing_on_stdin_says_so(runner, cli_main, trained):
    r = run_cli(runner, cli_main, "predict", "--model-dir", trained, input=b"")
    assert_clean_error(r, "no reviews to score")


@pytest.mark.slow
def test_predict_shows_progress_on_a_long_input(runner, cli_main, trained):
    lines = "".join(f"review {i} was {'great' if i % 2 else 'awful'}\n" for i in range(1100)).encode()
    r = runner.invoke(cli_main, ["predict", "--model-dir", str(trained), "--json"], input=lines)
    assert r.exit_code == 0, r.output
    assert len(strict_json(r.stdout)) == 1100
    assert "predict: 1100/1100 reviews in" in r.stderr


# train checks where it writes before training; evaluate's split names
def test_train_into_an_unwritable_place_fails_before_training(runner, cli_main, extracted):
    r = run_cli(runner, cli_main, "train", "--cache", extracted, "--model-dir", "/proc/mlbert-model", "--epochs", 1)
    assert_clean_error(r, "--model-dir /proc/mlbert-model: cannot write in /proc")
    assert "epoch" not in r.stderr.lower().split("error:")[0]


def test_evaluate_on_a_split_name_that_does_not_exist_names_the_splits(runner, cli_main, extracted, trained):
    r = run_cli(runner, cli_main, "evaluate", "--cache", extracted, "--model-dir", trained, "--split", "train2")
    assert_clean_error(r, "no 'train2' split", "splits are named train, validation, test")
    assert "--splits train2" not in r.stderr


# a cache made when labels were read otherwise is not resumed as if its classes were the same
def test_a_cache_whose_classes_differ_from_the_data_now_is_not_resumed(runner, cli_main, tmp_path, tiny_models):
    data = tmp_path / "r.csv"
    data.write_text("text,label\n" + "".join(f"film {i},{['good', 'bad'][i % 2]}\n" for i in range(20)))
    out = tmp_path / "c"
    args = ["extract", "--data", data, "--out", out, "--seq-len", 32, *_models(tiny_models["encoder"].parent)]
    assert run_cli(runner, cli_main, *args).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["labels"] = ["Bad", "bad", "good"]  # as a version that did not fold case could have written
    (out / "manifest.json").write_text(json.dumps(manifest))
    r = run_cli(runner, cli_main, *args)
    assert_clean_error(r, "its classes Bad, bad, good differ from the data's now, bad, good", "--overwrite")
