"""Which n-grams should the lexical channel cache: longer word n-grams than trigrams, or character
n-grams beside the words? A naive-Bayes weighted logistic regression on IMDB, validation only; a
probe for issue 31 before any of it is built into the cache.

    pip install scikit-learn   # this probe's own dependency, not the package's
    python benchmarks/accuracy/lexical_ngrams.py [--sets "word 1-3,word 1-5"]

The NBSVM-style model of train/lexical.py (binary features scaled by their log-count ratios,
logistic loss, L2), here fitted with scikit-learn's liblinear so that a vocabulary of a million
character n-grams costs no new code in the package: words tokenised as extract/features/lexical.py
does (lower case, HTML breaks removed, punctuation marks as tokens), 1- to 3-grams (what
`extract --ngrams 3` caches), 4-grams or 5-grams (`--ngrams 4|5`); characters 2- to 5-grams inside
word boundaries (`char_wb`), alone and beside the word trigrams; every set with min_df 2. The L2 weight (C) is chosen
per feature set on validation: a seeded 20 % of IMDB's training reviews (the rest train). The test
split is not read. Writes each set's run into benchmarks/results/lexical_ngrams.json.
"""
from __future__ import annotations

import argparse
import re
import sys
import tarfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for bench.py
from bench import SHARED, cpu_model, record_run  # noqa: E402  (benchmarks/ is on sys.path)

C_GRID = (0.1, 0.3, 1.0)
SEED = 0
SETS = {"word 1-3": [("word", 3)], "word 1-4": [("word", 4)], "word 1-5": [("word", 5)],
        "char 2-5": [("char", 5)], "word 1-3 + char 2-5": [("word", 3), ("char", 5)]}


def train_reviews() -> tuple[list[str], np.ndarray]:
    texts, labels = [], []
    with tarfile.open(SHARED / "data/imdb/aclImdb_v1.tar.gz") as tar:
        for member in tar:
            m = re.fullmatch(r"aclImdb/train/(pos|neg)/\d+_\d+\.txt", member.name)
            if m:
                text = tar.extractfile(member).read().decode("utf-8").lower()
                texts.append(re.sub(r"<br\s*/?>", " ", text))
                labels.append(int(m.group(1) == "pos"))
    return texts, np.asarray(labels)


def words(text: str) -> list[str]:
    return re.sub(r"([^\w\s'])", r" \1 ", text).split()


def main() -> None:
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated, of: " + ", ".join(SETS))
    names = parser.parse_args().sets.split(",")
    texts, y = train_reviews()
    order = np.random.default_rng(SEED).permutation(len(texts))
    val, train = order[:5000], order[5000:]
    for name in names:
        start = time.perf_counter()
        parts = []
        for kind, n in SETS[name]:
            vectorizer = (CountVectorizer(tokenizer=words, lowercase=False, token_pattern=None, ngram_range=(1, n),
                                          min_df=2, binary=True) if kind == "word" else
                          CountVectorizer(analyzer="char_wb", ngram_range=(2, n), min_df=2, binary=True))
            parts.append((vectorizer.fit_transform([texts[i] for i in train]),
                          vectorizer.transform([texts[i] for i in val])))
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
            "data": "IMDB train: 20,000 fit, 5,000 validation (seeded permutation, seed 0); test not read",
            "model": "NB-weighted binary features, logistic regression (liblinear), C on validation",
            "features": int(x.shape[1]), "grid": rows,
            "best": max(rows, key=lambda r: (r["val_accuracy"], -r["val_loss"])),
            "seconds": round(time.perf_counter() - start, 1), "machine": {"cpu": cpu_model()},
            "date": time.strftime("%Y-%m-%d"),
            "command": f"python benchmarks/accuracy/lexical_ngrams.py --sets '{name}'"},
            "benchmarks/accuracy/lexical_ngrams.py")


if __name__ == "__main__":
    main()
