"""IMDB through TensorFlow Datasets (`tfds.load("imdb_reviews")`), the seed's own source; needs internet
or an already prepared TFDS data directory."""
from __future__ import annotations

from ..errors import BadInput
from .reviews import Reviews, decode, seeded_order


def read_tfds(splits: list[str], seed: int = 0, limit: int | None = None,
              name: str = "imdb_reviews") -> dict[str, Reviews]:
    import tensorflow_datasets as tfds

    result = {}
    for split in splits:
        try:
            ds = tfds.load(name, split=split, as_supervised=True)
        except Exception as e:  # tfds raises many kinds; each one means the same thing to the user
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise BadInput(f"tfds: cannot load '{name}' split '{split}' ({first[:200]}); TFDS downloads need "
                           "internet, so offline pass --data path/to/aclImdb_v1.tar.gz")
        ids, texts, labels, replaced = [], [], [], 0
        for i, (text, label) in enumerate(tfds.as_numpy(ds)):
            decoded, was_replaced = decode(text)
            ids.append(f"{split}/{i:06d}")
            texts.append(decoded)
            labels.append(int(label))
            replaced += was_replaced
        result[split] = seeded_order(ids, texts, labels, seed=seed, limit=limit, replaced=replaced)
    return result
