"""Load an encoder and a preprocessor by TF Hub handle or local SavedModel folder, with clear errors."""
from __future__ import annotations

from pathlib import Path

from ...common.digest import sha256_folder
from ...common.errors import BadInput

DEFAULT_ENCODER = "https://tfhub.dev/tensorflow/small_bert/bert_en_uncased_L-4_H-128_A-2/2"
DEFAULT_PREPROCESSOR = "https://tfhub.dev/tensorflow/bert_en_uncased_preprocess/3"
REMOTE = ("http://", "https://", "gs://")


def resolve(handle: str) -> str:
    """A local path becomes absolute, so an artifact that records it works from any folder."""
    if handle.startswith(REMOTE):
        return handle
    path = Path(handle).expanduser()
    return str(path.resolve()) if path.exists() else handle


def local_folder(handle: str) -> str:
    """The SavedModel folder a handle names: itself, or TF Hub's downloaded copy of a remote one."""
    handle = resolve(handle)
    return _hub().resolve(handle) if handle.startswith(REMOTE) else handle


def identity(handle: str) -> dict:
    """What a cache records about a model: its handle and, for a local folder, a content digest."""
    handle = resolve(handle)
    path = Path(handle)
    if not path.is_dir():
        return {"handle": handle}
    return {"handle": handle, "sha256": sha256_folder(path)}


def _hub():
    """tensorflow_hub, imported without its pkg_resources deprecation warning (it would reach the user
    on every command; tensorflow-hub 0.16 is the newest release and still imports pkg_resources)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        import tensorflow_hub
    return tensorflow_hub


def load(handle: str, flag: str, role: str):
    """hub.load with one clear line on failure. flag names the option, e.g. '--encoder'; role is
    'encoder' or 'preprocessor', the interface the loaded model must have."""
    import tensorflow_text  # noqa: F401  registers the ops that BERT preprocessors use

    hub = _hub()
    handle = resolve(handle)
    if not handle.startswith(REMOTE) and not Path(handle).is_dir():
        raise BadInput(f"{flag} {handle}: no such SavedModel folder; pass a TF Hub handle or a local "
                       "SavedModel folder (`mlbert import-encoder` makes one)")
    try:
        model = hub.load(handle)
    except Exception as e:  # hub and the SavedModel loader raise many types; all mean "cannot load"
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        hint = (" TF Hub handles need internet: offline, pass a local SavedModel folder "
                "(`mlbert import-encoder` makes one from a Hugging Face BERT checkpoint)"
                if handle.startswith(REMOTE) else " Is it a SavedModel with the TF Hub BERT interface?")
        raise BadInput(f"{flag} {handle}: cannot load ({first}).{hint}")
    is_preprocessor = hasattr(model, "tokenize") and hasattr(model, "bert_pack_inputs")
    if role == "preprocessor" and not is_preprocessor:
        raise BadInput(f"{flag} {handle}: not a BERT preprocessor (it has no tokenize and bert_pack_inputs); "
                       "pass the preprocessor SavedModel (`mlbert import-encoder` writes DIR/preprocessor)")
    if role == "encoder" and is_preprocessor:
        raise BadInput(f"{flag} {handle}: is a preprocessor, not an encoder; pass the encoder SavedModel "
                       "(`mlbert import-encoder` writes DIR/encoder)")
    return model


def embedding_rows(encoder, name: str) -> int | None:
    """Rows of the encoder's embedding table whose variable name contains `name`, if it has one:
    'word_embeddings' (the token ids it knows) or 'position_embedding' (its longest sequence).
    Both our encoders and TF Hub's BERT encoders name their tables so."""
    import tensorflow as tf

    for variable in tf.train.TrackableView(encoder).descendants():
        if isinstance(variable, tf.Variable) and name in variable.name and len(variable.shape) == 2:
            return int(variable.shape[0])
    return None


def vocabulary_size(preprocessor, handle: str) -> int | None:
    """Tokens in a preprocessor's WordPiece vocabulary: the asset of ours, or assets/vocab.txt of a
    TF Hub preprocessor's folder; None when neither is there."""
    hub = _hub()
    asset = getattr(preprocessor, "vocab_file", None)
    if asset is not None and hasattr(asset, "asset_path"):
        path = Path(asset.asset_path.numpy().decode())
    else:
        try:
            path = Path(hub.resolve(resolve(handle))) / "assets" / "vocab.txt"
        except Exception:  # a handle hub cannot resolve again: nothing to compare
            return None
    try:
        return len(path.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return None


def check_pair(preprocessor, encoder, preprocessor_handle: str, encoder_handle: str) -> int | None:
    """Refuse an encoder that lacks embeddings for ids the preprocessor gives. Returns the encoder's
    maximum sequence length when it can be read, for the settings to be checked against."""
    vocab, rows = vocabulary_size(preprocessor, preprocessor_handle), embedding_rows(encoder, "word_embeddings")
    if vocab is not None and rows is not None and vocab > rows:
        raise BadInput(f"--preprocessor {preprocessor_handle}: its vocabulary has {vocab} tokens but --encoder "
                       f"{encoder_handle} has embeddings for {rows} token ids; use the preprocessor made for "
                       "this encoder (`mlbert import-encoder` writes both from one checkpoint)")
    return embedding_rows(encoder, "position_embedding")
