"""Starting TensorFlow quietly, in the main process and in worker processes alike.

Since TF 2.19 its C++ start-up lines (oneDNN, CUDA probing, absl's "before InitializeLog") are
written before logging is configured, so TF_CPP_MIN_LOG_LEVEL cannot silence them; they would bury
the one line a user needs. stderr is muted for the import only.
"""
from __future__ import annotations

import os
import sys


def import_tensorflow_quietly() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
        import tensorflow_text  # noqa: F401
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
