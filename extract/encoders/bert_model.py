"""A BERT encoder in plain TensorFlow, exposing the TF Hub BERT encoder interface.

It exists so that any BERT-architecture checkpoint (Hugging Face safetensors, or random weights
from a config alone) becomes a SavedModel that `extract` loads exactly as it loads a TF Hub encoder:
inputs `input_word_ids`, `input_mask`, `input_type_ids`; outputs `encoder_outputs` (one tensor per
layer), `sequence_output` and `pooled_output`.
"""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import tensorflow as tf

from ...common.errors import BadInput

ACTIVATIONS = {
    "gelu": lambda x: tf.nn.gelu(x, approximate=False),
    "gelu_new": lambda x: tf.nn.gelu(x, approximate=True),
    "gelu_pytorch_tanh": lambda x: tf.nn.gelu(x, approximate=True),
    "relu": tf.nn.relu,
}


@dataclasses.dataclass(frozen=True)
class BertConfig:
    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_act: str = "gelu"

    @classmethod
    def from_json(cls, path: Path) -> "BertConfig":
        try:
            raw = json.loads(Path(path).read_text())
        except (OSError, ValueError) as e:
            raise BadInput(f"{path}: cannot read a BERT config.json ({e}); pass a Hugging Face BERT folder")
        fields = {f.name for f in dataclasses.fields(cls)}
        missing = [f for f in ("vocab_size", "hidden_size", "num_hidden_layers",
                               "num_attention_heads", "intermediate_size") if f not in raw]
        if missing:
            raise BadInput(f"{path}: not a BERT config, field '{missing[0]}' is missing")
        config = cls(**{k: v for k, v in raw.items() if k in fields})
        if config.hidden_act not in ACTIVATIONS:
            raise BadInput(f"{path}: field 'hidden_act' is '{config.hidden_act}', "
                           f"supported: {', '.join(ACTIVATIONS)}")
        if config.hidden_size % config.num_attention_heads:
            raise BadInput(f"{path}: hidden_size {config.hidden_size} is not a multiple of "
                           f"num_attention_heads {config.num_attention_heads}")
        return config

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def weight_shapes(config: BertConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor the encoder needs, by its Hugging Face name, with its PyTorch shape."""
    h, i = config.hidden_size, config.intermediate_size
    shapes = {
        "embeddings.word_embeddings.weight": (config.vocab_size, h),
        "embeddings.position_embeddings.weight": (config.max_position_embeddings, h),
        "embeddings.token_type_embeddings.weight": (config.type_vocab_size, h),
        "embeddings.LayerNorm.weight": (h,),
        "embeddings.LayerNorm.bias": (h,),
    }
    for n in range(config.num_hidden_layers):
        p = f"encoder.layer.{n}."
        for name in ("query", "key", "value"):
            shapes[p + f"attention.self.{name}.weight"] = (h, h)
            shapes[p + f"attention.self.{name}.bias"] = (h,)
        shapes[p + "attention.output.dense.weight"] = (h, h)
        shapes[p + "attention.output.dense.bias"] = (h,)
        shapes[p + "attention.output.LayerNorm.weight"] = (h,)
        shapes[p + "attention.output.LayerNorm.bias"] = (h,)
        shapes[p + "intermediate.dense.weight"] = (i, h)
        shapes[p + "intermediate.dense.bias"] = (i,)
        shapes[p + "output.dense.weight"] = (h, i)
        shapes[p + "output.dense.bias"] = (h,)
        shapes[p + "output.LayerNorm.weight"] = (h,)
        shapes[p + "output.LayerNorm.bias"] = (h,)
    shapes["pooler.dense.weight"] = (h, h)
    shapes["pooler.dense.bias"] = (h,)
    return shapes


def random_weights(config: BertConfig, seed: int = 0) -> dict[str, np.ndarray]:
    """BERT's own initialisation: N(0, 0.02) matrices, zero biases, unit LayerNorm scales."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in weight_shapes(config).items():
        if name.endswith("LayerNorm.weight"):
            weights[name] = np.ones(shape, np.float32)
        elif name.endswith(".bias") or name.endswith("LayerNorm.bias"):
            weights[name] = np.zeros(shape, np.float32)
        else:
            weights[name] = rng.normal(0.0, 0.02, shape).astype(np.float32)
    return weights


class BertEncoder(tf.Module):
    """The encoder. Weights come as numpy arrays named and shaped as in Hugging Face's BertModel."""

    def __init__(self, config: BertConfig, weights: dict[str, np.ndarray]):
        super().__init__(name="bert_encoder")
        self.config = config
        h = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.head_size = h // self.num_heads
        self.eps = config.layer_norm_eps

        def var(value, name):
            return tf.Variable(np.asarray(value, np.float32), trainable=False, name=name)

        w = weights
        self.word_embeddings = var(w["embeddings.word_embeddings.weight"], "word_embeddings")
        self.position_embeddings = var(w["embeddings.position_embeddings.weight"], "position_embeddings")
        self.type_embeddings = var(w["embeddings.token_type_embeddings.weight"], "type_embeddings")
        self.emb_ln = (var(w["embeddings.LayerNorm.weight"], "emb_ln_gamma"),
                       var(w["embeddings.LayerNorm.bias"], "emb_ln_beta"))
        self.layers = []
        for n in range(config.num_hidden_layers):
            p = f"encoder.layer.{n}."
            # One fused [h, 3h] projection: a single large matmul is faster than three small ones.
            qkv = np.concatenate([w[p + f"attention.self.{k}.weight"].T for k in ("query", "key", "value")], 1)
            qkv_b = np.concatenate([w[p + f"attention.self.{k}.bias"] for k in ("query", "key", "value")])
            self.layers.append(dict(
                qkv=var(qkv, f"l{n}_qkv"), qkv_b=var(qkv_b, f"l{n}_qkv_b"),
                attn_out=var(w[p + "attention.output.dense.weight"].T, f"l{n}_attn_out"),
                attn_out_b=var(w[p + "attention.output.dense.bias"], f"l{n}_attn_out_b"),
                attn_ln=(var(w[p + "attention.output.LayerNorm.weight"], f"l{n}_attn_ln_g"),
                         var(w[p + "attention.output.LayerNorm.bias"], f"l{n}_attn_ln_b")),
                inter=var(w[p + "intermediate.dense.weight"].T, f"l{n}_inter"),
                inter_b=var(w[p + "intermediate.dense.bias"], f"l{n}_inter_b"),
                out=var(w[p + "output.dense.weight"].T, f"l{n}_out"),
                out_b=var(w[p + "output.dense.bias"], f"l{n}_out_b"),
                out_ln=(var(w[p + "output.LayerNorm.weight"], f"l{n}_out_ln_g"),
                        var(w[p + "output.LayerNorm.bias"], f"l{n}_out_ln_b")),
            ))
        self.pooler = (var(w["pooler.dense.weight"].T, "pooler"), var(w["pooler.dense.bias"], "pooler_b"))
        self.activation = ACTIVATIONS[config.hidden_act]

    def _layer_norm(self, x, params):
        gamma, beta = params
        mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) * tf.math.rsqrt(variance + self.eps) * gamma + beta

    def _dense(self, x, kernel, bias):
        return tf.matmul(x, kernel) + bias

    @tf.function(input_signature=[{
        "input_word_ids": tf.TensorSpec([None, None], tf.int32, name="input_word_ids"),
        "input_mask": tf.TensorSpec([None, None], tf.int32, name="input_mask"),
        "input_type_ids": tf.TensorSpec([None, None], tf.int32, name="input_type_ids"),
    }])
    def __call__(self, inputs):
        ids = inputs["input_word_ids"]
        mask = inputs["input_mask"]
        types = inputs["input_type_ids"]
        batch, length = tf.shape(ids)[0], tf.shape(ids)[1]
        h = self.config.hidden_size

        x = (tf.gather(self.word_embeddings, ids)
             + self.position_embeddings[tf.newaxis, :length]
             + tf.gather(self.type_embeddings, types))
        x = self._layer_norm(x, self.emb_ln)

        # Additive mask over keys: padded keys get a large negative score, so exactly zero weight.
        key_bias = (1.0 - tf.cast(mask, tf.float32))[:, tf.newaxis, tf.newaxis, :] * -1e9
        scale = 1.0 / math.sqrt(self.head_size)

        def heads(t):  # [b, l, h] -> [b, heads, l, head_size]
            return tf.transpose(tf.reshape(t, [batch, length, self.num_heads, self.head_size]), [0, 2, 1, 3])

        outputs = []
        for layer in self.layers:
            qkv = self._dense(x, layer["qkv"], layer["qkv_b"])
            q, k, v = tf.split(qkv, 3, axis=-1)
            scores = tf.matmul(heads(q), heads(k), transpose_b=True) * scale + key_bias
            context = tf.matmul(tf.nn.softmax(scores, axis=-1), heads(v))
            context = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch, length, h])
            x = self._layer_norm(x + self._dense(context, layer["attn_out"], layer["attn_out_b"]),
                                 layer["attn_ln"])
            inner = self.activation(self._dense(x, layer["inter"], layer["inter_b"]))
            x = self._layer_norm(x + self._dense(inner, layer["out"], layer["out_b"]), layer["out_ln"])
            outputs.append(x)

        pooled = tf.tanh(self._dense(x[:, 0], *self.pooler))
        return {"encoder_outputs": outputs, "sequence_output": x, "pooled_output": pooled,
                "default": pooled}
