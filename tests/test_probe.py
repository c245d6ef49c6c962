"""`mlbert probe` (evaluate/probe.py): a logistic regression on each layer alone, each pooling's
layers and everything together, L2 chosen on validation; its table, figure and JSON."""
from __future__ import annotations

import json

import pytest

from helpers import assert_clean_error, run_cli, synthetic_cache


def test_probe_writes_its_table_figure_and_json(extracted, runner, cli_main, tmp_path):
    report = tmp_path / "report"
    r = run_cli(runner, cli_main, "probe", "--cache", extracted, "--plot", report, "--l2", "1e-2,1")
    assert r.exit_code == 0, r.output
    manifest = json.loads((extracted / "manifest.json").read_text())["features"]
    layers, poolings = manifest["num_layers"], manifest["poolings"]
    table = r.stdout
    for i in range(layers):
        assert f"| layer {i}" in table
    assert "| all layers |" in table and "Validation accuracy" in table
    assert (report / "probe.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((report / "probe.json").read_text())
    assert saved["format"] == "multilayer-bert-sentiment/probe" and "tensorflow" in saved["versions"]
    expected = [(p, [i]) for p in poolings for i in range(layers)] + [(p, list(range(layers))) for p in poolings]
    if len(poolings) > 1:
        expected.append(("+".join(poolings), list(range(layers))))
    assert [(row["pooling"], row["layers"]) for row in saved["probes"]] == expected
    assert all(0 <= row["val_accuracy"] <= 1 and row["l2"] in (1e-2, 1.0) for row in saved["probes"])

    r = run_cli(runner, cli_main, "probe", "--cache", extracted, "--l2", "1e-2,1", "--json")
    assert r.exit_code == 0, r.output
    timeless = [[{k: v for k, v in row.items() if k != "seconds"} for row in found["probes"]]
                for found in (json.loads(r.stdout), saved)]
    assert timeless[0] == timeless[1]  # the same numbers from a second, seeded run


def test_probe_finds_the_layer_that_holds_the_signal(tmp_path):
    import mlbert

    cache = synthetic_cache(tmp_path / "c", 2000, poolings=("mean", "max"), layers=4, hidden=8, signal_layer=2)
    result = mlbert.probe(cache)
    by = {(row["pooling"], tuple(row["layers"])): row["val_accuracy"] for row in result["probes"]}
    # Each pooling's layer 2 holds half the planted signal (about 73 % reachable), both together all of
    # it (about 90 %); the other layers none (50 %, give or take 2.5 points on 400 rows).
    for pooling in ("mean", "max"):
        assert by[(pooling, (2,))] > 0.66
        assert all(by[(pooling, (i,))] < 0.6 for i in (0, 1, 3))
    assert by[("mean+max", (0, 1, 2, 3))] > max(by[("mean", (2,))], by[("max", (2,))]) + 0.05


def test_probe_validates_on_the_rows_train_validates_on(tmp_path):
    import mlbert

    cache = synthetic_cache(tmp_path / "c", 1000, poolings=("mean",), layers=2, hidden=8)
    trained = mlbert.train(cache, tmp_path / "m", head="linear", val_fraction=0.3, split_seed=4)
    probed = mlbert.probe(cache, val_fraction=0.3, split_seed=4)
    assert (probed["train_rows"], probed["val_rows"]) == (trained["train_size"], trained["val_size"])
    sampled = mlbert.probe(cache, max_rows=200)
    assert sampled["train_rows"] == 200 and sampled["val_rows"] == 200
    assert sampled["rows_available"] == {"train": 800, "validation": 200}


def test_probe_refuses_bad_options_and_a_folder_it_did_not_write(extracted, runner, cli_main, tmp_path):
    import mlbert

    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    r = run_cli(runner, cli_main, "probe", "--cache", extracted, "--plot", theirs)
    assert_clean_error(r, "--plot", str(theirs))
    assert (theirs / "notes.txt").read_text() == "mine"
    r = run_cli(runner, cli_main, "probe", "--cache", extracted, "--max-rows", "-1")
    assert_clean_error(r, "--max-rows")
    with pytest.raises(mlbert.BadInput, match="l2"):
        mlbert.probe(extracted, l3=[1.0])
