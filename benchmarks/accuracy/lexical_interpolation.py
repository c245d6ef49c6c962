"""NBSVM's interpolation (Wang & Manning 2012) on our lexical model, validation only.

    python benchmarks/accuracy/lexical_interpolation.py imdb|sst5

Wang & Manning's NBSVM moves the learned weights w towards their mean magnitude w_bar,
w' = (1 - beta) * w_bar + beta * w, so that beta = 0 is multinomial naive Bayes (every n-gram
weighted by its log-count ratio alone) and beta = 1 the learned model; they found beta = 0.25 best
for their SVM. Our lexical model is the same scaled design trained as a logistic regression
(train/lexical.py), early-stopped on validation. This fits it once on the cache the data set's
best recipe uses (the recipe's L2) and scores the validation rows at each beta, the bias kept.
Writes the run into benchmarks/results/lexical_interpolation.json. The test split is not read.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import cpu_model, record_run  # noqa: E402  (benchmarks/ is on sys.path)

ROOT = Path(__file__).resolve().parents[2]
BETAS = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)
DATA = {"imdb": (ROOT / "runs" / "imdb-best" / "cache", 5e-5), "sst5": (ROOT / "runs" / "sst5-minilm" / "cache", 1e-4)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", choices=sorted(DATA))
    args = parser.parse_args()
    cache, l2 = DATA[args.data]

    from mlbert.extract.cache.manifest import labels_of
    from mlbert.train.config import HeadConfig
    from mlbert.train.fusion import to_probabilities
    from mlbert.train.lexical import LexicalConfig, LexicalModel, count_ngrams, fit_lexical, nb_ratios
    from mlbert.train.metrics import accuracy_and_loss
    from mlbert.train.run import check_validation_choice, read_training_splits, split_rows

    data = read_training_splits(cache, ["mean"], lexical=True)
    train, validation, where = split_rows(data, check_validation_choice(HeadConfig(), data.manifest, cache))
    n_classes = len(labels_of(data.manifest))
    cfg = LexicalConfig(l2=l2)
    t0 = time.perf_counter()
    model, history = fit_lexical(train, validation, n_classes, cfg)
    ids, counts = count_ngrams(train, n_classes)  # the ratios fit_lexical scaled by, again
    keep = counts.sum(axis=1) >= cfg.min_df
    ratios = nb_ratios(counts[keep])
    assert (ids[keep] == model.vocab).all()
    learned = np.where(ratios != 0, model.weights / np.where(ratios != 0, ratios, 1), 0.0)
    mean_magnitude = np.abs(learned).mean(axis=0)
    ngrams, labels = [], []
    for features, y in validation.chunks(features=False):
        ngrams.append(features["ngrams"])
        labels.append(y)
    labels = np.concatenate(labels)
    rows = []
    for beta in BETAS:
        weights = (((1 - beta) * mean_magnitude + beta * learned) * ratios).astype(np.float32)
        scores = np.concatenate([LexicalModel(model.vocab, weights, model.bias).scores(n) for n in ngrams])
        accuracy, loss = accuracy_and_loss(labels, np.asarray(to_probabilities(scores)))
        rows.append({"beta": beta, "val_accuracy": accuracy, "val_loss": loss})
        print(f"beta {beta}: validation {accuracy:.4f}, loss {loss:.4f}", file=sys.stderr, flush=True)
    record_run("lexical_interpolation", args.data, {
        "cache": str(cache.relative_to(ROOT)), "l2": l2, "validation": where, "val_size": int(len(labels)),
        "best_step": history["best_step"], "results": rows, "seconds": round(time.perf_counter() - t0, 1),
        "machine": {"cpu": cpu_model()}, "date": time.strftime("%Y-%m-%d"),
        "command": "python benchmarks/accuracy/lexical_interpolation.py " + args.data},
        "benchmarks/accuracy/lexical_interpolation.py")


if __name__ == "__main__":
    main()
