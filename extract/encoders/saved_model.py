"""`import-encoder`: write an encoder and its preprocessor as two SavedModels with the TF Hub BERT
interfaces, into a folder of ours (DIR/encoder, DIR/preprocessor, DIR/provenance.json)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from ...common.errors import BadInput
from ...common.folders import check_target, write_folder
from ...common.options import parse
from ...common.provenance import api_call, record
from .bert_model import BertConfig, BertEncoder
from .bert_preprocessor import BertPreprocessor, read_vocab
from .hf_import import read_checkpoint
from .options import IMPORT

FORMAT = "multilayer-bert-sentiment/encoder-import"
MARKER = "provenance.json"


def _flat_signature(encoder: BertEncoder):
    """Signatures take only flat tensors: the per-layer list becomes encoder_output_0, _1, ..."""
    @tf.function(input_signature=[{
        name: tf.TensorSpec([None, None], tf.int32, name=name)
        for name in ("input_word_ids", "input_mask", "input_type_ids")}])
    def serve(inputs):
        out = encoder(inputs)
        flat = {f"encoder_output_{i}": t for i, t in enumerate(out["encoder_outputs"])}
        return {**flat, "sequence_output": out["sequence_output"], "pooled_output": out["pooled_output"]}
    return serve.get_concrete_function()


def check_vocabulary(config: BertConfig, vocab_path: Path, where) -> None:
    """Every id the WordPiece vocabulary can give must have a row in the embedding table.

    A vocabulary with fewer tokens than vocab_size is common (tables padded to a round size) and
    harmless; one with more would fail in the middle of an extraction.
    """
    tokens = len(read_vocab(vocab_path))
    if tokens > config.vocab_size:
        raise BadInput(f"{where}: vocab.txt has {tokens} tokens but config.json's vocab_size is "
                       f"{config.vocab_size}; the encoder has no embedding for ids {config.vocab_size} and above. "
                       "Pass the vocab.txt and config.json of the same checkpoint")


def write_encoder_pair(config: BertConfig, weights: dict[str, np.ndarray], vocab_path: Path, lower_case: bool,
                       folder: Path, provenance: dict) -> None:
    """Write FOLDER/encoder, FOLDER/preprocessor and FOLDER/provenance.json into an existing folder."""
    folder = Path(folder)
    encoder = BertEncoder(config, weights)
    tf.saved_model.save(encoder, str(folder / "encoder"), signatures={"serving_default": _flat_signature(encoder)})
    preprocessor = BertPreprocessor(vocab_path, lower_case=lower_case)
    preprocessor.trace_for_saving()
    tf.saved_model.save(preprocessor, str(folder / "preprocessor"),
                        signatures={"serving_default": preprocessor.__call__.get_concrete_function()})
    (folder / MARKER).write_text(json.dumps(
        {"format": FORMAT, **provenance, "config": config.to_dict(), "lower_case": lower_case}, indent=2) + "\n")


def import_encoder(src, out, command: str | None = None, **options) -> dict:
    """Import a Hugging Face BERT folder (config.json, vocab.txt, model.safetensors) as TF Hub-style
    SavedModels in OUT. Options: IMPORT (random: BERT's initialisation from config.json alone, a
    control)."""
    o = parse(IMPORT, options, "import_encoder")
    random, seed, overwrite = o["random"], o["seed"], o["overwrite"]
    command = command or api_call("import_encoder", {"src": str(src), "out": str(out), "random": random,
                                                     "seed": seed, "overwrite": overwrite})
    out = Path(out)
    write_check = dict(option="--out", kind="an encoder import", marker=MARKER, fmt=FORMAT, overwrite=overwrite)
    check_target(out, **write_check)
    config, weights, vocab, lower_case = read_checkpoint(src, random=random, seed=seed)
    check_vocabulary(config, vocab, src)
    provenance = {"source": os.path.abspath(src), "weights": f"random (seed {seed})" if random else "pretrained",
                  **record(command)}
    write_folder(out, lambda tmp: write_encoder_pair(config, weights, vocab, lower_case, tmp, provenance),
                 **write_check)
    return {"encoder": str(out / "encoder"), "preprocessor": str(out / "preprocessor"),
            "layers": config.num_hidden_layers, "hidden_size": config.hidden_size,
            "weights": provenance["weights"], "lower_case": lower_case}
