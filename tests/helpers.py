"""What the tests share: the tiny encoder's vocabulary and config, a tiny IMDB archive, the real CLI run
in-process, and the check of a clean error. Fixtures live in conftest.py."""
from __future__ import annotations

import io
import os
import random
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MLBERT = str(Path(sys.executable).parent / "mlbert")  # the installed console script

SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
IMDB_ARCHIVE = SHARED / "data/imdb/aclImdb_v1.tar.gz"
MINILM = SHARED / "models/all-MiniLM-L6-v2"

POSITIVE = ["great", "wonderful", "excellent", "superb", "loved", "brilliant", "moving", "beautiful"]
NEGATIVE = ["terrible", "awful", "boring", "waste", "hated", "dull", "stupid", "worst"]
NEUTRAL = ["the", "movie", "film", "was", "a", "plot", "actor", "story", "and", "it", "this", "of",
           "scene", "director", "i", "watched", "with", "my", "friend", "ending", "music", "cast", "br"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCT = [".", ",", "!", "?", "'", "<", ">", "/", "##s", "##ed", "##ing"]
VOCAB = SPECIALS + PUNCT + POSITIVE + NEGATIVE + NEUTRAL

TINY_CONFIG = {"architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
               "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
               "intermediate_size": 32, "max_position_embeddings": 512, "type_vocab_size": 2,
               "layer_norm_eps": 1e-12, "vocab_size": len(VOCAB)}


def review(rng: random.Random, label: int, length: int) -> str:
    cue = POSITIVE if label else NEGATIVE
    words = [rng.choice(cue) if rng.random() < 0.3 else rng.choice(NEUTRAL) for _ in range(length)]
    return " ".join(words).capitalize() + ". <br /><br />" + rng.choice(cue).capitalize() + "!"


def make_archive(path: Path, per_label: int = 40, seed: int = 0, extra: dict[str, bytes] | None = None) -> Path:
    """aclImdb_v1.tar.gz with per_label reviews per label per split; lengths vary from 3 to 300 words."""
    rng = random.Random(seed)
    files = {}
    for split in ("train", "test"):
        for label, name in ((1, "pos"), (0, "neg")):
            for i in range(per_label):
                rating = rng.choice([7, 8, 9, 10] if label else [1, 2, 3, 4])
                files[f"aclImdb/{split}/{name}/{i}_{rating}.txt"] = review(
                    rng, label, rng.choice([3, 10, 40, 120, 300])).encode()
    files.update(extra or {})
    files["aclImdb/README"] = b"tiny test copy"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def run_cli(runner, cli_main, *args, input=None):
    """Run the real CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    return runner.invoke(cli_main, [str(a) for a in args], input=input, catch_exceptions=False)


def assert_clean_error(result, *needles):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
