"""Stage one: run a frozen BERT encoder once and cache pooled per-layer features."""
