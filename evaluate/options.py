"""The options of `evaluate` and `export`, each declared once: the CLI's options and the API's
checks are made from them."""
from __future__ import annotations

from ..common.options import Option

EVALUATE = (
    Option("split", "str", "test", "The cached split to score."),
    Option("plot", "str", None, "Write learning_curves.png, confusion_matrix.png, reliability.png and "
           "roc_curve.png to this folder (new or empty).", default_text="no figures"),
    Option("overwrite", "bool", False, "Replace figures this tool wrote before in --plot."),
)

EXPORT = (Option("overwrite", "bool", False, "Replace an export of this tool in --out."),)
