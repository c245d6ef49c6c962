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

# probe's own options; its --l2, --val-fraction and --split-seed are the head's (train/config.py).
PROBE_OWN = (
    Option("max_rows", "int", 50_000, "Probe on at most this many training rows and as many validation rows (a "
           "seeded sample, stratified by label); 0: every row."),
    Option("plot", "str", None, "Write probe.png (accuracy by layer) and probe.json (the numbers and what made them) "
           "to this folder (new or empty).", default_text="no figure"),
    Option("overwrite", "bool", False, "Replace a probe report this tool wrote before in --plot."),
)
