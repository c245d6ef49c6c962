"""`import-encoder`'s options, each declared once: the CLI's options and the API's checks are made
from them."""
from __future__ import annotations

from ...common.options import Option

IMPORT = (
    Option("random", "bool", False, "Random weights from config.json alone (a control)."),
    Option("seed", "int", 0, "Seed of --random weights."),
    Option("overwrite", "bool", False, "Replace an earlier import of this tool in --out."),
)
