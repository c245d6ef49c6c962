"""Which n-grams should the lexical channel cache: longer word n-grams than trigrams, or character
n-grams beside the words? A naive-Bayes weighted logistic regression on IMDB, validation only; a
probe for issue 31 before any of it is built into the cache.

    pip install scikit-learn   # this probe's own dependency, not the package's
    python benchmarks/accuracy/lexical_ngrams.py [--sets "word 1-3,word 1-5"]

The word n-grams are the ones `extract --ngrams N` caches (extract/features/lexical.py: hashed,
each once per review), for N = 3, 4 and 5; the character n-grams are scikit-learn's 2- to 5-grams
inside word boundaries (`char_wb`; lower case, HTML breaks removed, as for the words), alone and beside the word trigrams; every set keeps what at
least two training reviews hold. The model is train/lexical.py's design (binary features scaled
by their log-count ratios, logistic loss, L2), fitted with scikit-learn's liblinear so that a
probe needs no new code in the package; its C is chosen per set on validation: the 5,000 reviews
`train` carves from IMDB's training split (train/rows.py, seed 0), the other 20,000 fit. The
test split is not read. Writes each set's run into benchmarks/results/lexical_ngrams.json.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import SHARED, cpu_model, record_run  # noqa: E402  (benchmarks/ is on sys.path)

C_GRID = (0.1, 0.3, 1.0)
SETS = {"word 1-3": [("word", 3)], "word 1-4": [("word", 4)], "word 1-5": [("word", 5)],
        "char 2-5": [("char", 5)], "word 1-3 + char 2-5": [("word", 3), ("char", 5)]}


def word_design(texts: list[str], n: int, fit: np.ndarray, val: np.ndarray):
    """(fit rows, validation rows) as sparse binary matrices of the cached n-gram ids seen in at
    least two fitting reviews."""
    from scipy import sparse

    from mlbert.extract.features.lexical import lexical_features

    ids, counts = lexical_features(texts, n)
    rows = np.repeat(np.arange(len(texts)), counts)
    vocab, column = np.unique(ids, return_inverse=True)
    matrix = sparse.csr_matrix((np.ones(len(ids), np.float32), (rows, column)), shape=(len(texts), len(vocab)))
    kept = np.asarray((matrix[fit] > 0).sum(axis=0)).ravel() >= 2
    return matrix[fit][:, kept], matrix[val][:, kept]


def main() -> None:
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    from mlbert.common.digest import id_hashes
    from mlbert.data.sources.imdb import read_imdb
    from mlbert.train.rows import held_out

    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated, of: " + ", ".join(SETS))
    names = parser.parse_args().sets.split(",")
    reviews = read_imdb(SHARED / "data/imdb/aclImdb_v1.tar.gz", ["train"])["train"]
    y = np.asarray(reviews.labels, np.int64)
    held = held_out(y, id_hashes(reviews.ids, 0), 0.2)
    val, train = np.flatnonzero(held), np.flatnonzero(~held)
    for name in names:
        start = time.perf_counter()
        parts = []
        for kind, n in SETS[name]:
            if kind == "word":
                parts.append(word_design(reviews.texts, n, train, val))
                continue
            vectorizer = CountVectorizer(analyzer="char_wb", ngram_range=(2, n), min_df=2, binary=True,
                                         preprocessor=lambda t: re.sub(r"<br\s*/?>", " ", t.lower()))
            parts.append((vectorizer.fit_transform([reviews.texts[i] for i in train]),
                          vectorizer.transform([reviews.texts[i] for i in val])))
        x, v = (sparse.hstack([p[j] for p in parts]).tocsr() for j in (0, 1))
        pos, neg = 1 + x[y[train] == 1].sum(axis=0), 1 + x[y[train] == 0].sum(axis=0)
        ratio = np.asarray(np.log(pos / pos.sum()) - np.log(neg / neg.sum())).ravel()
        xs, vs = x.multiply(ratio).tocsr(), v.multiply(ratio).tocsr()
        rows = []
        for c in C_GRID:
            p = LogisticRegression(C=c, solver="liblinear", max_iter=2000).fit(xs, y[train]).predict_proba(vs)[:, 1]
            p = np.clip(p, 1e-12, 1 - 1e-12)
            t = y[val]
            rows.append({"C": c, "val_accuracy": float(np.mean((p > 0.5) == t)),
                         "val_loss": float(-np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)))})
            print(name, rows[-1], file=sys.stderr, flush=True)
        record_run("lexical_ngrams", f"imdb: {name}", {
            "data": "IMDB train: 20,000 fit, 5,000 validation (train's carve, seed 0); test not read",
            "model": "NB-weighted binary features, logistic regression (liblinear), C on validation",
            "features": int(x.shape[1]), "grid": rows,
            "best": max(rows, key=lambda r: (r["val_accuracy"], -r["val_loss"])),
            "seconds": round(time.perf_counter() - start, 1), "machine": {"cpu": cpu_model()},
            "date": time.strftime("%Y-%m-%d"),
            "command": f"python benchmarks/accuracy/lexical_ngrams.py --sets '{name}'"},
            "benchmarks/accuracy/lexical_ngrams.py")


if __name__ == "__main__":
    main()
