"""The lowest layer: where reviews come from (`sources/`), and the helpers every layer shares.

Shared helpers: the one error type (`errors`), option values (`options`), content digests
(`digest`), files local or at a URL written whole (`storage`), folders written whole (`folders`),
the one stratified split (`split`), progress lines (`progress`) and what artifacts record about
how they were made (`provenance`). Nothing here imports from the layers above.
"""
