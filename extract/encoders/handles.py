"""Load an encoder and a preprocessor by TF Hub handle or local SavedModel folder, with clear errors."""
from __future__ import annotations

from pathlib import Path

from ...data.digest import sha256_folder
from ...data.errors import BadInput

DEFAULT_ENCODER = "https://tfhub.dev/tensorflow/small_bert/bert_en_uncased_L-4_H-128_A-2/2"
DEFAULT_PREPROCESSOR = "https://tfhub.dev/tensorflow/bert_en_uncased_preprocess/3"
REMOTE = ("http://", "https://", "gs://")


def resolve(handle: str) -> str:
    """A local path becomes absolute, so an artifact that records it works from any folder."""
    if handle.startswith(REMOTE):
        return handle
    path = Path(handle).expanduser()
    return str(path.resolve()) if path.exists() else handle


def identity(handle: str) -> dict:
    """What a cache records about a model: its handle and, for a local folder, a content digest."""
    handle = resolve(handle)
    path = Path(handle)
    if not path.is_dir():
        return {"handle": handle}
    return {"handle": handle, "sha256": sha256_folder(path)}


def load(handle: str, flag: str):
    """hub.load with one clear line on failure. flag names the option, e.g. '--encoder'."""
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401  registers the ops that BERT preprocessors use

    handle = resolve(handle)
    if not handle.startswith(REMOTE) and not Path(handle).is_dir():
        raise BadInput(f"{flag} {handle}: no such SavedModel folder; pass a TF Hub handle or a local "
                       "SavedModel folder (`python cli.py import-encoder` makes one)")
    try:
        return hub.load(handle)
    except Exception as e:  # hub and the SavedModel loader raise many types; all mean "cannot load"
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        hint = (" TF Hub handles need internet: offline, pass a local SavedModel folder "
                "(`python cli.py import-encoder` makes one from a Hugging Face BERT checkpoint)"
                if handle.startswith(REMOTE) else " Is it a SavedModel with the TF Hub BERT interface?")
        raise BadInput(f"{flag} {handle}: cannot load ({first}).{hint}")
