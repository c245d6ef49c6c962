"""IMDB through TensorFlow Datasets (`tfds.load("imdb_reviews")`), the original recipe's own source; needs internet
or an already prepared TFDS data directory."""
from __future__ import annotations

from ...common.errors import BadInput
from .imdb import check_imdb_splits
from .reviews import Reviews, decode, seeded_order


def _why(e: Exception, name: str, split: str) -> BadInput:
    """One line that names the real cause: a missing module, no network, or anything else."""
    first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
    where = f"tfds: cannot load '{name}' split '{split}'"
    if isinstance(e, ImportError):
        module = e.name or first
        return BadInput(f"{where}: TensorFlow Datasets needs the Python module '{module}', which is not installed; "
                        f"`pip install {module}` (or reinstall multilayer-bert-sentiment, which declares it)")
    if isinstance(e, OSError):  # requests' connection errors are OSErrors too
        return BadInput(f"{where} ({first}); TFDS downloads need internet, so offline pass "
                        "--data path/to/aclImdb_v1.tar.gz")
    return BadInput(f"{where} ({first})")


def read_tfds(splits: list[str] | None, seed: int = 0, limit: int | None = None,
              name: str = "imdb_reviews") -> dict[str, Reviews]:
    splits = check_imdb_splits(splits, "tfds")
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise _why(e, name, splits[0])

    result = {}
    for split in splits:
        try:
            ds = tfds.load(name, split=split, as_supervised=True)
        except Exception as e:  # tfds raises many kinds; _why tells the user which one it was
            raise _why(e, name, split)
        ids, texts, labels, replaced = [], [], [], 0
        for i, (text, label) in enumerate(tfds.as_numpy(ds)):
            decoded, was_replaced = decode(text)
            ids.append(f"{split}/{i:06d}")
            texts.append(decoded)
            labels.append(int(label))
            replaced += was_replaced
        result[split] = seeded_order(ids, texts, labels, seed=seed, limit=limit, replaced=replaced)
    return result
