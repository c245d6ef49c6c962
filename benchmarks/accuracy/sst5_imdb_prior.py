"""Does a lexical model trained on IMDB's 25,000 labelled reviews add to SST-5's best models? Validation
only: its log-odds of each SST-5 sentence as evidence beside an SST-5 model's class probabilities.

    python benchmarks/accuracy/sst5_imdb_prior.py

The IMDB model: `mlbert train --channel lexical --lexical-l2 5e-5 --refit-lexical` on
runs/imdb-segments/cache (n-grams 1-3, as SST-5's caches hash them), trained here when missing. The
SST-5 models: frozen_ablation.py's fused models on runs/sst5-tokens/cache, over each sentence's
features and over its tokens (run that script first). Per SST-5 model, on its 1,101 validation
sentences, a multinomial logistic model keeps the model's log-probabilities as they are and learns,
per class, a weight on the IMDB log-odds and a bias (L2 chosen among three); its accuracy is
10-fold cross-validated on the validation sentences (five deals of the folds, averaged), against
the model's own accuracy. SST-5's test split is not read.

Writes benchmarks/results/sst5_imdb_prior.json.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import cli, cpu_model, record_run  # noqa: E402  (benchmarks/ is on sys.path)

ROOT = Path(__file__).resolve().parents[2]
IMDB_CACHE, IMDB_MODEL = ROOT / "runs" / "imdb-segments" / "cache", ROOT / "runs" / "imdb-lexical"
SST5_CACHE = ROOT / "runs" / "sst5-tokens" / "cache"
MODELS = {"fused, sentence features": "fused-weight-token-cache-review-features",
          "fused, tokens attention": "fused-weight-tokens-attention"}
L2 = (1e-3, 1e-2, 1e-1)


def _fit(log_p, prior, y, l2):
    """Per-class weights a and biases b of z = log p + a * prior + b, by L-BFGS on the mean log loss."""
    from scipy.optimize import minimize

    k = log_p.shape[1]

    def loss(w):
        z = log_p + np.outer(prior, w[:k]) + w[k:]
        z = z - z.max(axis=1, keepdims=True)
        log_q = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -log_q[np.arange(len(y)), y].mean() + l2 * (w @ w)

    return minimize(loss, np.zeros(2 * k), method="L-BFGS-B").x


def _cross_validated(log_p, prior, y, l2, deals=5, folds=10) -> float:
    k, accuracies = log_p.shape[1], []
    for deal in range(deals):
        rng = np.random.default_rng(deal)
        fold = np.zeros(len(y), int)
        for label in np.unique(y):  # stratified: each label's rows dealt out in turn
            rows = np.flatnonzero(y == label)
            fold[rows[rng.permutation(len(rows))]] = np.arange(len(rows)) % folds
        predicted = np.zeros(len(y), int)
        for f in range(folds):
            w = _fit(log_p[fold != f], prior[fold != f], y[fold != f], l2)
            predicted[fold == f] = (log_p[fold == f] + np.outer(prior[fold == f], w[:k]) + w[k:]).argmax(axis=1)
        accuracies.append(float(np.mean(predicted == y)))
    return float(np.mean(accuracies))


def main() -> None:
    from mlbert.extract.cache.read import read_split
    from mlbert.train.model_dir import load_predictor

    t0 = time.perf_counter()
    if not (IMDB_MODEL / "config.json").exists():
        cli("train", "--cache", str(IMDB_CACHE), "--model-dir", str(IMDB_MODEL), "--channel", "lexical",
            "--lexical-l2", "5e-5", "--refit-lexical")
    imdb, imdb_config = load_predictor(IMDB_MODEL)
    features, y, _, _ = read_split(SST5_CACHE, "validation", ["mean", "token"], lexical=True, segments=True)
    y = y.astype(np.int64)
    prior = np.asarray(imdb.probabilities(features))[:, 1]
    prior = np.log(prior) - np.log1p(-prior)  # the IMDB model's log-odds of "pos"
    result = {"imdb_model": {"dir": str(IMDB_MODEL.relative_to(ROOT)), "command": imdb_config.get("command"),
                             "val_accuracy": imdb_config["result"]["val_accuracy"]},
              "sst5_val_sentences": len(y), "models": {}}
    for name, folder in MODELS.items():
        model_dir = ROOT / "runs" / "frozen_ablation" / "sst5" / folder
        if not (model_dir / "config.json").exists():
            print(f"{name}: skipped, {model_dir} is missing (frozen_ablation.py sst5 trains it)", file=sys.stderr)
            continue
        predictor, _ = load_predictor(model_dir)
        log_p = np.log(np.maximum(np.asarray(predictor.probabilities(features)), 1e-12))
        with_prior = {str(l2): _cross_validated(log_p, prior, y, l2) for l2 in L2}
        weights = _fit(log_p, prior, y, L2[1])
        result["models"][name] = {"model_dir": str(model_dir.relative_to(ROOT)),
                                  "val_accuracy": float(np.mean(log_p.argmax(axis=1) == y)),
                                  "with_imdb_prior_cv_accuracy_by_l2": with_prior,
                                  "imdb_prior_weights_all_rows": [round(float(w), 3) for w in weights]}
        print(name, result["models"][name], file=sys.stderr, flush=True)
    result.update(seconds=round(time.perf_counter() - t0, 1), machine={"cpu": cpu_model()},
                  date=time.strftime("%Y-%m-%d"), command="python benchmarks/accuracy/sst5_imdb_prior.py")
    record_run("sst5_imdb_prior", "validation", result, "benchmarks/accuracy/sst5_imdb_prior.py")


if __name__ == "__main__":
    main()
