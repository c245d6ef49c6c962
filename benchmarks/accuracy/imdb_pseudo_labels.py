"""Would IMDB's 50,000 unlabelled reviews help, labelled by our best model? A proxy on labelled data,
validation only: half of train's training rows play the unlabelled reviews.

    python benchmarks/accuracy/imdb_pseudo_labels.py [--heads 10]

train's own carve of runs/imdb-segments/cache (128-token windows, mean+max+[CLS], n-grams 1-3,
int8; made by the command in docs/results.md, "Per-segment features"): 5,000 validation reviews,
and the other 20,000 dealt by label into two halves, A (labelled) and B (whose labels are hidden).
A teacher, the best recipe's fused model (BERT heads on mean+max+[CLS], lexical L2 5e-5), learns on
A; it labels B. Then the lexical model, the channel whose learning curve still rises with data
(docs/results.md), learns on A plus B with the teacher's labels (all of them, or those it gives at
least 0.9), and on A plus B with B's true labels (the most unlabelled data could give); each is
fused again with the teacher's BERT heads (one weight chosen on validation, as train does). The
lexical model is the project's own (train/channels), on the cache's n-grams.

Writes benchmarks/results/imdb_pseudo_labels.json.
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
CACHE = ROOT / "runs" / "imdb-segments" / "cache"
CONFIDENT = 0.9


def main() -> None:
    from mlbert.extract.cache.read import open_split
    from mlbert.train import rows
    from mlbert.train.channels.base import probabilities_of
    from mlbert.train.channels.fused import FusedChannel
    from mlbert.train.channels.lexical import LexicalChannel
    from mlbert.train.config import HeadConfig
    from mlbert.train.fusion import fit_fusion, fused_probabilities
    from mlbert.train.run import input_spec

    parser = argparse.ArgumentParser()
    parser.add_argument("--heads", type=int, default=10)
    args = parser.parse_args()
    reader = open_split(CACHE, "train", ["mean", "max", "cls"], lexical=True)
    train, validation = rows.carve(reader, 0.2, 0)
    half = rows.folds(train, 2, 0)
    a, b = rows.restrict(train, half == 0), rows.restrict(train, half == 1)
    cfg = HeadConfig(pooling=("mean", "max", "cls"), ensemble=args.heads, head="mlp", channel="fused",
                     lexical_l2=5e-5)
    spec, labels = input_spec(cfg, reader.manifest), ["neg", "pos"]

    def accuracy(channel, r) -> float:
        p, y = probabilities_of(channel, r)
        return float(np.mean(p.argmax(1) == y))

    def relabelled(r, new) -> rows.Rows:
        parts, at = [], 0
        for part in r.parts:
            found = []
            for y in part.labels:
                found.append(np.asarray(new[at:at + len(y)], np.int8))
                at += len(y)
            parts.append(rows.Part(part.reader, part.masks, tuple(found)))
        return rows.Rows(tuple(parts))

    t0 = time.perf_counter()
    teacher = FusedChannel.new(cfg, spec, labels)
    teacher.fit(a, validation)
    p_b, y_b = probabilities_of(teacher, b)
    guess = p_b.argmax(1)
    sure = p_b.max(1) >= CONFIDENT
    result = {"rows": {"a": len(a), "b": len(b), "validation": len(validation)}, "heads": args.heads,
              "teacher_val_accuracy": accuracy(teacher, validation),
              "teacher_bert_val_accuracy": accuracy(teacher.bert, validation),
              "lexical_on_a_val_accuracy": accuracy(teacher.lexical, validation),
              "teacher_accuracy_on_b": float(np.mean(guess == y_b)),
              "confident_share_of_b": float(sure.mean()),
              "teacher_accuracy_on_confident_b": float(np.mean(guess[sure] == y_b[sure])), "students": {}}
    students = {"a + b, the teacher's labels": a + relabelled(b, guess),
                f"a + b where the teacher gives >= {CONFIDENT}": a + rows.restrict(relabelled(b, guess), sure),
                "a + b, true labels (the bound)": a + b}
    for name, r in students.items():
        lexical = LexicalChannel.new(cfg, spec, labels)
        lexical.fit(r, validation)
        head, scores, y = FusedChannel._scores(teacher.bert, lexical, validation)
        fusion = fit_fusion(head, scores, y)
        fused = np.asarray(fused_probabilities(head, scores, fusion))
        result["students"][name] = {"rows": len(r), "lexical_val_accuracy": accuracy(lexical, validation),
                                    "fused_val_accuracy": float(np.mean(fused.argmax(1) == y)),
                                    "fusion_weight": fusion["weight"]}
        print(name, result["students"][name], file=sys.stderr, flush=True)
    result.update(seconds=round(time.perf_counter() - t0, 1), cache=str(CACHE.relative_to(ROOT)),
                  machine={"cpu": cpu_model()}, date=time.strftime("%Y-%m-%d"),
                  command=f"python benchmarks/accuracy/imdb_pseudo_labels.py --heads {args.heads}")
    record_run("imdb_pseudo_labels", f"heads {args.heads}", result, "benchmarks/accuracy/imdb_pseudo_labels.py")


if __name__ == "__main__":
    main()
