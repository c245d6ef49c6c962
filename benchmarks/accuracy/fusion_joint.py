"""Joint against stacked fusion of the BERT head and the lexical model, on validation only.

    python benchmarks/accuracy/fusion_joint.py CACHE [--epochs 12]

`train --channel fused` stacks: it trains the BERT head and the lexical model apart, then mixes
their log-odds with a weight and a temperature chosen on the validation rows. The alternative is one
model trained jointly: the seed's head on the standardised BERT features plus the naive-Bayes
scaled linear model on the n-grams, their logits summed, one loss, mini-batch Adam for both (each
with its own step size), early-stopped on validation accuracy. This script trains both on the same
training rows of a two-class cache made with --ngrams (validation: 20 % of train, split seed 0) and
writes their validation accuracy and loss, and their training time, to
benchmarks/results/fusion_joint.json. The test split is not read.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import cpu_model  # noqa: E402  (benchmarks/ is on sys.path)

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cache")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--lexical-lr", type=float, default=2e-3)
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from mlbert.data.split import stratified_split
    from mlbert.extract.cache.read import read_split
    from mlbert.train.config import HeadConfig
    from mlbert.train.fit import fit_model
    from mlbert.train.fusion import fit_fusion, fused_probabilities, to_probabilities
    from mlbert.train.head import build_head
    from mlbert.train.inputs import InputSpec, select
    from mlbert.train.lexical import LexicalConfig, _design, fit_lexical, nb_ratios
    from mlbert.train.metrics import accuracy_and_loss, class_probabilities

    poolings = ["mean", "max", "cls"]
    features, labels, _, manifest = read_split(args.cache, "train", poolings=poolings, lexical=True)
    info = manifest["features"]
    spec = InputSpec(tuple(poolings), tuple(range(info["num_layers"])), info["num_layers"], info["hidden_size"])
    x_all, y_all = select(features, spec), labels.astype(np.float32)
    tr, va = stratified_split(y_all, 0.2, 0)
    x, y, xv, yv = x_all[tr], y_all[tr], x_all[va], y_all[va]
    ng, ngv = features["ngrams"].take(tr), features["ngrams"].take(va)
    result = {"cache": args.cache, "train_rows": int(len(y)), "val_rows": int(len(yv))}

    # Stacked, as train --channel fused does it (one head).
    cfg = HeadConfig(pooling=tuple(poolings))
    t0 = time.perf_counter()
    head, _, summary = fit_model(x, y, xv, yv, cfg, spec, 2)
    lexical, history = fit_lexical(ng, y, ngv, yv, 2, LexicalConfig())
    head_probs = class_probabilities(head.predict(xv, batch_size=1024, verbose=0), 2)
    fusion = fit_fusion(head_probs, lexical.scores(ngv), yv)
    accuracy, loss = accuracy_and_loss(yv, np.asarray(fused_probabilities(head_probs, lexical.scores(ngv), fusion)))
    result["stacked"] = {"val_accuracy": accuracy, "val_loss": loss, "fusion": fusion,
                         "head_val_accuracy": summary["val_accuracy"],
                         "lexical_val_accuracy": history["val_accuracy"][history["best_step"] - 1],
                         "seconds": round(time.perf_counter() - t0, 1)}
    print(json.dumps(result["stacked"]), file=sys.stderr, flush=True)

    # Joint: one loss, both parts trained together.
    t0 = time.perf_counter()
    vocab = lexical.vocab
    cols, rows = _design(vocab, ng)
    ratios = tf.constant(nb_ratios(cols, rows, y.astype(np.int64), 2, len(vocab)))
    keras.utils.set_random_seed(0)
    head = build_head(x.shape[1], HeadConfig(),
                      standardize=(x.mean(0, dtype=np.float64), x.var(0, dtype=np.float64)))
    w = tf.Variable(tf.zeros([len(vocab), 1]))
    b = tf.Variable([0.0])
    head_opt, lex_opt = keras.optimizers.Adam(5e-4), keras.optimizers.Adam(args.lexical_lr)

    def design_of(idx, bag):
        sub = bag.take(idx)
        c, r = _design(vocab, sub)
        return tf.constant(c), tf.constant(r)

    @tf.function(reduce_retracing=True)
    def step(xb, yb, c, r):
        with tf.GradientTape() as tape:
            lex = tf.math.unsorted_segment_sum(tf.gather(w, c) * tf.gather(ratios, c), r, tf.shape(xb)[0]) + b
            z = tf.clip_by_value(head(xb, training=True), 1e-7, 1 - 1e-7)  # the head's sigmoid, as log-odds
            logit = tf.math.log(z) - tf.math.log(1 - z) + lex
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(yb[:, None], logit))
        head_vars = head.trainable_variables
        grads = tape.gradient(loss, head_vars + [w, b])
        head_opt.apply_gradients(zip(grads[:len(head_vars)], head_vars))
        lex_opt.apply_gradients(zip(grads[len(head_vars):], [w, b]))
        return loss

    def joint_scores(xs, bag):
        c, r = design_of(np.arange(len(bag)), bag)
        z = np.clip(head.predict(xs, batch_size=1024, verbose=0)[:, 0], 1e-7, 1 - 1e-7)
        lex = tf.math.unsorted_segment_sum(tf.gather(w, c) * tf.gather(ratios, c), r, len(bag)) + b
        return np.log(z / (1 - z))[:, None] + lex.numpy()

    rng = np.random.default_rng(0)
    best, best_epoch, wait, curve = -1.0, 0, 0, []
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(y))
        for lo in range(0, len(order), 64):
            idx = order[lo:lo + 64]
            c, r = design_of(idx, ng)
            step(tf.constant(x[idx]), tf.constant(y[idx]), c, r)
        accuracy, loss = accuracy_and_loss(yv, np.asarray(to_probabilities(joint_scores(xv, ngv))))
        curve.append({"epoch": epoch, "val_accuracy": accuracy, "val_loss": loss})
        print(json.dumps(curve[-1]), file=sys.stderr, flush=True)
        if accuracy > best:
            best, best_epoch, wait, kept = accuracy, epoch, 0, curve[-1]
        else:
            wait += 1
            if wait >= 2:
                break
    result["joint"] = {"val_accuracy": kept["val_accuracy"], "val_loss": kept["val_loss"], "best_epoch": best_epoch,
                       "curve": curve, "lexical_lr": args.lexical_lr, "seconds": round(time.perf_counter() - t0, 1)}
    result.update(machine={"cpu": cpu_model(), "cores": os.cpu_count()}, date=time.strftime("%Y-%m-%d"),
                  command="python benchmarks/accuracy/fusion_joint.py " + " ".join(sys.argv[1:]))
    out = ROOT / "benchmarks" / "results" / "fusion_joint.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
