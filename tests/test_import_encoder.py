"""import-encoder: Hugging Face BERT folders become TF Hub-style SavedModels, faithful to the original."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from helpers import MINILM, TINY_CONFIG, assert_clean_error, run_cli

REFERENCE = __import__("pathlib").Path(__file__).parent / "reference" / "minilm_reference.npz"


def _load(folder):
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401
    return hub.load(str(folder / "preprocessor")), hub.load(str(folder / "encoder"))


@pytest.mark.slow
def test_random_import_has_the_tf_hub_interfaces(runner, cli_main, tiny_bert_folder, tmp_path):
    import tensorflow as tf
    import tensorflow_hub as hub

    r = run_cli(runner, cli_main, "import-encoder", tiny_bert_folder, "--out", tmp_path / "m", "--random", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["layers"] == 2
    pre, enc = _load(tmp_path / "m")
    tokens = pre.tokenize(tf.constant(["the movie was great", "awful"]))
    assert isinstance(tokens, tf.RaggedTensor) and tokens.shape.rank == 3
    packed = pre.bert_pack_inputs([tokens], seq_length=12)
    assert packed["input_word_ids"].shape == (2, 12) and packed["input_mask"].numpy()[1].sum() == 3
    default = pre(tf.constant(["the movie"]))
    assert default["input_word_ids"].shape == (1, 128)
    out = enc(packed)
    assert len(out["encoder_outputs"]) == 2 and out["sequence_output"].shape == (2, 12, 16)
    assert out["pooled_output"].shape == (2, 16)
    np.testing.assert_allclose(out["encoder_outputs"][-1].numpy(), out["sequence_output"].numpy())
    # The Keras route that TF Hub users take works too.
    layer = hub.KerasLayer(str(tmp_path / "m" / "encoder"), trainable=False)
    np.testing.assert_allclose(layer(packed)["pooled_output"].numpy(), out["pooled_output"].numpy(), atol=1e-6)
    provenance = json.loads((tmp_path / "m" / "provenance.json").read_text())
    assert provenance["weights"] == "random (seed 0)" and provenance["config"]["hidden_size"] == 16


def _fake_checkpoint(tiny_bert_folder, tmp_path, drop=None, reshape=None):
    from safetensors.numpy import save_file

    from mlbert.extract.encoders.bert_model import BertConfig, random_weights

    folder = tmp_path / "ckpt"
    shutil.copytree(tiny_bert_folder, folder)
    weights = {"bert." + k: v for k, v in random_weights(BertConfig(**{
        k: v for k, v in TINY_CONFIG.items() if k not in ("architectures", "model_type")})).items()}
    if drop:
        del weights["bert." + drop]
    if reshape:
        weights["bert." + reshape] = np.zeros((3, 3), np.float32)
    save_file(weights, str(folder / "model.safetensors"))
    return folder


@pytest.mark.slow
def test_checkpoint_with_prefixed_names_imports(runner, cli_main, tiny_bert_folder, tmp_path):
    folder = _fake_checkpoint(tiny_bert_folder, tmp_path)
    r = run_cli(runner, cli_main, "import-encoder", folder, "--out", tmp_path / "m")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "m" / "encoder" / "saved_model.pb").exists()


def test_missing_tensor_is_named(runner, cli_main, tiny_bert_folder, tmp_path):
    folder = _fake_checkpoint(tiny_bert_folder, tmp_path, drop="encoder.layer.1.output.dense.weight")
    r = run_cli(runner, cli_main, "import-encoder", folder, "--out", tmp_path / "m")
    assert_clean_error(r, "encoder.layer.1.output.dense.weight", "missing")
    assert not (tmp_path / "m").exists()


def test_shape_disagreeing_with_config_is_named(runner, cli_main, tiny_bert_folder, tmp_path):
    folder = _fake_checkpoint(tiny_bert_folder, tmp_path, reshape="encoder.layer.0.attention.self.key.weight")
    r = run_cli(runner, cli_main, "import-encoder", folder, "--out", tmp_path / "m")
    assert_clean_error(r, "encoder.layer.0.attention.self.key.weight", "(3, 3)", "(16, 16)")


def test_folder_that_is_not_a_checkpoint(runner, cli_main, tmp_path, tiny_bert_folder):
    (tmp_path / "empty").mkdir()
    r = run_cli(runner, cli_main, "import-encoder", tmp_path / "empty", "--out", tmp_path / "m")
    assert_clean_error(r, "not a BERT checkpoint", "config.json")
    r = run_cli(runner, cli_main, "import-encoder", tiny_bert_folder, "--out", tmp_path / "m")
    assert_clean_error(r, "model.safetensors", "--random")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text(json.dumps({"model_type": "gpt2", "n_layer": 2}))
    (bad / "vocab.txt").write_text("[PAD]\n")
    r = run_cli(runner, cli_main, "import-encoder", bad, "--out", tmp_path / "m", "--random")
    assert_clean_error(r, "config.json", "vocab_size")


@pytest.mark.skipif(not MINILM.exists(), reason="../shared/models/all-MiniLM-L6-v2 is not present in this clone")
@pytest.mark.slow
def test_minilm_matches_pytorch_transformers(runner, cli_main, tmp_path):
    """Token ids equal the Hugging Face tokenizer's, every layer within 1e-4 of transformers.BertModel
    (reference written by tests/reference/make_minilm_reference.py)."""
    import tensorflow as tf

    r = run_cli(runner, cli_main, "import-encoder", MINILM, "--out", tmp_path / "minilm")
    assert r.exit_code == 0, r.output
    pre, enc = _load(tmp_path / "minilm")
    ref = np.load(REFERENCE)
    texts = json.loads(str(ref["texts"]))
    assert len(texts) >= 20
    packed = pre.bert_pack_inputs([pre.tokenize(tf.constant(texts))], seq_length=128)
    ids, mask = packed["input_word_ids"].numpy(), packed["input_mask"].numpy()
    layers = [o.numpy() for o in enc(packed)["encoder_outputs"]]
    assert len(layers) == ref["layer_outputs"].shape[0] == 6
    starts = np.concatenate([[0], np.cumsum(ref["lengths"])])
    for i, text in enumerate(texts):
        n = int(ref["lengths"][i])
        assert mask[i].sum() == n, text
        np.testing.assert_array_equal(ids[i, :n], ref["token_ids"][starts[i]:starts[i + 1]], err_msg=text)
        for layer in range(6):
            diff = np.abs(layers[layer][i, :n] - ref["layer_outputs"][layer, starts[i]:starts[i + 1]]).max()
            assert diff < 1e-4, (text, layer, diff)
