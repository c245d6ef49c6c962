"""The built-in calibration corpus of the int8 encoder (calibration.txt): English reviews of films,
books, products and places, and some plain prose, written for this project. Calibrating on it in
place of the user's reviews loses nothing measurable (docs/precision.md), and makes the quantised
encoder depend on the models, the sequence length and the recipe alone."""
from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).with_name("calibration.txt")
# At most this many sequences of the corpus, in full windows of --seq-len (docs/precision.md).
SEQUENCES = 192


def texts() -> list[str]:
    """The corpus's passages, and all of them joined into one text so that windows over it fill
    every position up to the sequence length."""
    passages = [p.strip() for p in CORPUS.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    return passages + [" ".join(passages)]
